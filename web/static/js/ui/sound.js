// Gentle notice sounds made with WebAudio (no file): a raised hand for
// moderators.
/** @type {AudioContext|null} */
let ctx = null;

/** A soft two-note chime. */
export function chime() {
  try {
    if (!ctx) ctx = new AudioContext();
    if (ctx.state === 'suspended') ctx.resume().catch(() => {});
    const now = ctx.currentTime;
    const gain = ctx.createGain();
    gain.connect(ctx.destination);
    gain.gain.setValueAtTime(0, now);
    gain.gain.linearRampToValueAtTime(0.08, now + 0.03);
    gain.gain.exponentialRampToValueAtTime(0.001, now + 0.6);
    for (const [f, at] of [[880, 0], [1174.66, 0.12]]) {
      const o = ctx.createOscillator();
      o.type = 'sine';
      o.frequency.value = f;
      o.connect(gain);
      o.start(now + at);
      o.stop(now + 0.6);
    }
  } catch {
    // no audio output: the visual notice remains
  }
}

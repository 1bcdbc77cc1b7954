// The device check before entering (and, moved into a dialog, during the
// meeting): camera preview, a live microphone level, a test sound on the
// chosen speaker, device choices (kept for this browser session only), an
// echo test through the server, and "join" or "join listen-only".
// Camera and microphone stay off unless switched on here.
import { $, h } from './dom.js';
import { setIcon } from './icons.js';
import { t } from '../i18n.js';
import { devicePrefs, constraints, mediaErrorText } from '../localmedia.js';

/**
 * @typedef {import('../store.js').Store} Store
 * @typedef {{join: (mic: boolean, camera: boolean) => void, media: import('../media.js').Media,
 *   micPublished: () => boolean, deviceChanged: (kind: 'mic'|'camera'|'speaker', id: string) => void}} CheckDeps
 */

/** How long the echo test plays one's voice back. */
export const ECHO_MS = 5000;

/**
 * A level from 0 to 1 from audio samples (RMS, scaled so speech fills
 * the meter).
 * @param {Float32Array} samples
 */
export function levelOf(samples) {
  let sum = 0;
  for (const s of samples) sum += s * s;
  const rms = Math.sqrt(sum / Math.max(1, samples.length));
  return Math.min(1, rms * 4);
}

export class DeviceCheck {
  /** @param {Store} store @param {CheckDeps} deps */
  constructor(store, deps) {
    this.store = store;
    this.deps = deps;
    /** @type {MediaStreamTrack|null} */
    this.cam = null;
    /** @type {MediaStreamTrack|null} */
    this.mic = null;
    /** @type {AudioContext|null} */
    this.ctx = null;
    this.meterTimer = 0;
    this.echoing = false;
    /** @type {string} what the echo test says now */
    this.echoNote = '';
    this.wantMic = false;
    this.wantCam = false;
    $('check-cam').addEventListener('click', () => this.toggleCam());
    $('check-mic').addEventListener('click', () => this.toggleMic());
    $('check-tone').addEventListener('click', () => this.tone());
    $('check-echo').addEventListener('click', () => this.echo());
    $('check-join').addEventListener('click', () => this.join(true));
    $('check-listen').addEventListener('click', () => this.join(false));
    for (const [sel, what] of /** @type {[string, 'mic'|'camera'|'speaker'][]} */ ([['mic-select', 'mic'], ['cam-select', 'camera'], ['speaker-select', 'speaker']])) {
      $(sel).addEventListener('change', () => this.choose(what, $(sel).value));
    }
    if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
      navigator.mediaDevices.addEventListener('devicechange', () => this.devices());
    }
    store.on('media', () => this.render());
    this.devices();
    this.render();
  }

  /** Moves the check into a container (the check view or the devices dialog). @param {string} homeId */
  moveTo(homeId) {
    const home = $(homeId);
    if (home && $('device-check').parentElement !== home) home.append($('device-check'));
  }

  render() {
    const st = this.store.state;
    const inRoom = !st.lobby && st.mediaReady;
    setIcon($('check-cam').querySelector('.icon-slot'), this.cam ? 'camera' : 'cameraOff');
    setIcon($('check-mic').querySelector('.icon-slot'), this.mic ? 'mic' : 'micOff');
    $('check-cam').setAttribute('aria-pressed', String(!!this.cam));
    $('check-mic').setAttribute('aria-pressed', String(!!this.mic));
    $('check-video').hidden = !this.cam;
    $('check-video-off').hidden = !!this.cam;
    const echo = $('check-echo');
    echo.disabled = !inRoom || this.echoing;
    $('check-echo-hint').textContent = this.echoing || (inRoom && this.echoNote) ? this.echoNote
      : !inRoom ? (st.lobby ? t('check.echoLobby') : t('check.echoWait')) : '';
    const speakers = typeof (/** @type {any} */ (HTMLMediaElement.prototype)).setSinkId === 'function';
    $('speaker-select').hidden = !speakers;
  }

  /** Fills the device lists (labels appear once a device was allowed). */
  async devices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    const list = await navigator.mediaDevices.enumerateDevices().catch(() => []);
    /** @type {[string, MediaDeviceKind, 'mic'|'camera'|'speaker', string, (n: number) => string][]} */
    const rows = [
      ['mic-select', 'audioinput', 'mic', t('check.defaultMic'), (n) => t('check.micN', { n })],
      ['cam-select', 'videoinput', 'camera', t('check.defaultCamera'), (n) => t('check.cameraN', { n })],
      ['speaker-select', 'audiooutput', 'speaker', t('check.defaultSpeaker'), (n) => t('check.speakerN', { n })],
    ];
    for (const [sel, kind, what, dflt, numbered] of rows) {
      const el = $(sel);
      const keep = devicePrefs.get(what);
      const opts = [h('option', { value: '', text: dflt })];
      let n = 0;
      for (const d of list) {
        if (d.kind !== kind || !d.deviceId || d.deviceId === 'default') continue;
        n++;
        opts.push(h('option', { value: d.deviceId, text: d.label || numbered(n) }));
      }
      el.replaceChildren(...opts);
      el.value = opts.some((o) => o.getAttribute('value') === keep) ? keep : '';
    }
  }

  /** @private @param {'mic'|'camera'|'speaker'} what @param {string} id */
  async choose(what, id) {
    devicePrefs.set(what, id);
    if (what === 'camera' && this.cam) {
      this.stopCam();
      await this.toggleCam();
    }
    if (what === 'mic' && this.mic) {
      this.stopMic();
      await this.toggleMic();
    }
    if (what === 'speaker') {
      const a = /** @type {any} */ ($('echo-audio'));
      if (typeof a.setSinkId === 'function') a.setSinkId(id).catch(() => {});
    }
    this.deps.deviceChanged(what, id);
  }

  /** @private @param {string} text */
  error(text) {
    const el = $('check-error');
    el.textContent = text;
    el.hidden = !text;
  }

  async toggleCam() {
    if (this.cam) {
      this.stopCam();
      this.wantCam = false;
      this.render();
      return;
    }
    try {
      const s = await navigator.mediaDevices.getUserMedia(constraints('camera'));
      this.cam = s.getVideoTracks()[0];
      this.wantCam = true;
      const v = /** @type {HTMLVideoElement} */ ($('check-video'));
      v.srcObject = new MediaStream([this.cam]);
      v.play().catch(() => {});
      this.error('');
      this.devices();
    } catch (e) {
      this.error(mediaErrorText(e, 'camera'));
    }
    this.render();
  }

  async toggleMic() {
    if (this.mic) {
      this.stopMic();
      this.wantMic = false;
      this.render();
      return;
    }
    try {
      const s = await navigator.mediaDevices.getUserMedia(constraints('mic'));
      this.mic = s.getAudioTracks()[0];
      this.wantMic = true;
      this.meter(this.mic);
      this.error('');
      this.devices();
    } catch (e) {
      this.error(mediaErrorText(e, 'mic'));
    }
    this.render();
  }

  /** @private @returns {AudioContext} */
  audio() {
    if (!this.ctx) this.ctx = new AudioContext();
    if (this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
    return this.ctx;
  }

  /** @private The live level of the microphone. @param {MediaStreamTrack} track */
  meter(track) {
    const ctx = this.audio();
    const src = ctx.createMediaStreamSource(new MediaStream([track]));
    const an = ctx.createAnalyser();
    an.fftSize = 1024;
    src.connect(an);
    const buf = new Float32Array(an.fftSize);
    const el = /** @type {HTMLMeterElement} */ ($('mic-level'));
    clearInterval(this.meterTimer);
    this.meterTimer = setInterval(() => {
      if (this.mic !== track) {
        clearInterval(this.meterTimer);
        src.disconnect();
        el.value = 0;
        return;
      }
      an.getFloatTimeDomainData(buf);
      el.value = Math.round(levelOf(buf) * 100) / 100;
    }, 100);
  }

  /** A short two-note test sound on the chosen speaker (made here, no file). */
  tone() {
    const ctx = this.audio();
    const dest = ctx.createMediaStreamDestination();
    const gain = ctx.createGain();
    gain.connect(dest);
    const now = ctx.currentTime;
    gain.gain.setValueAtTime(0, now);
    gain.gain.linearRampToValueAtTime(0.3, now + 0.05);
    gain.gain.setValueAtTime(0.3, now + 0.9);
    gain.gain.linearRampToValueAtTime(0, now + 1.0);
    for (const [f, at] of [[523.25, 0], [659.25, 0.5]]) {
      const o = ctx.createOscillator();
      o.frequency.value = f;
      o.connect(gain);
      o.start(now + at);
      o.stop(now + at + 0.5);
    }
    const a = /** @type {any} */ (h('audio', { hidden: true }));
    a.srcObject = dest.stream;
    const sink = devicePrefs.get('speaker');
    if (sink && typeof a.setSinkId === 'function') a.setSinkId(sink).catch(() => {});
    document.body.append(a);
    a.play().catch(() => {});
    setTimeout(() => a.remove(), 1500);
  }

  /** The echo test through the server (in the running meeting only). */
  async echo() {
    const media = this.deps.media;
    if (this.echoing || !this.store.state.mediaReady) return;
    this.echoing = true;
    this.echoNote = t('check.echoRunning');
    this.render();
    let track = this.mic;
    let temp = false;
    const published = this.deps.micPublished();
    try {
      if (!published) {
        if (!track) {
          const s = await navigator.mediaDevices.getUserMedia(constraints('mic'));
          track = s.getAudioTracks()[0];
          temp = true;
        }
        // Published but not switched on (media.state): nobody else hears it.
        await media.publish('mic', track);
      }
      await media.echo(true);
      await new Promise((r) => setTimeout(r, ECHO_MS));
      await media.echo(false).catch(() => {});
      this.echoNote = t('check.echoDone');
    } catch (e) {
      this.echoNote = mediaErrorText(e, 'mic');
    } finally {
      if (!published && !this.deps.micPublished()) await media.unpublish('mic').catch(() => {});
      if (temp && track) track.stop();
      this.echoing = false;
      this.stopEcho();
      this.render();
      const btn = $('check-echo');
      if (document.activeElement === document.body && !btn.disabled) btn.focus();
    }
  }

  /** One's own voice came back from the server. @param {MediaStreamTrack} track */
  playEcho(track) {
    const a = /** @type {any} */ ($('echo-audio'));
    a.srcObject = new MediaStream([track]);
    const sink = devicePrefs.get('speaker');
    if (sink && typeof a.setSinkId === 'function') a.setSinkId(sink).catch(() => {});
    a.play().catch(() => {});
  }

  stopEcho() {
    const a = /** @type {HTMLAudioElement} */ ($('echo-audio'));
    a.srcObject = null;
  }

  /** @private */
  stopCam() {
    if (this.cam) this.cam.stop();
    this.cam = null;
    /** @type {HTMLVideoElement} */ ($('check-video')).srcObject = null;
  }

  /** @private */
  stopMic() {
    if (this.mic) this.mic.stop();
    this.mic = null;
    /** @type {HTMLMeterElement} */ ($('mic-level')).value = 0;
  }

  /** Stops the test devices (entering, closing the dialog). */
  stop() {
    this.stopCam();
    this.stopMic();
    this.render();
  }

  /** @private @param {boolean} withDevices false: listen only */
  join(withDevices) {
    const mic = withDevices && this.wantMic;
    const camera = withDevices && this.wantCam;
    this.stop();
    this.wantMic = false;
    this.wantCam = false;
    this.deps.join(mic, camera);
  }

  /** In the lobby the wait ends by itself: enter with what was switched on here. */
  admitted() {
    this.join(true);
  }
}

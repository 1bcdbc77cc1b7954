// The video grid: one tile per camera and per screen share (one's own
// preview included), a larger view for screen shares, the active-speaker
// highlight, and hidden audio elements for everyone's microphones. Each
// remote video's displayed size is reported so the server can send a
// simulcast layer that fills it, not more.
import { h, initials } from './dom.js';

/**
 * @typedef {import('../media.js').TrackInfo} TrackInfo
 */

export class VideoGrid {
  /**
   * @param {HTMLElement} grid where tiles go
   * @param {HTMLElement} audio a hidden container for audio elements
   * @param {{nameOf: (id: string) => string, onLayer: (trackId: string, w: number, h: number) => void}} opts
   */
  constructor(grid, audio, opts) {
    this.grid = grid;
    this.audio = audio;
    this.nameOf = opts.nameOf;
    this.onLayer = opts.onLayer;
    /** @type {Map<string, {el: HTMLElement, video: HTMLVideoElement, info?: TrackInfo}>} by tile key */
    this.tiles = new Map();
    /** @type {Map<string, HTMLAudioElement>} by mid */
    this.audios = new Map();
    /** @type {Set<string>} participant ids speaking now */
    this.speakingIDs = new Set();
    /** @type {Map<Element, string>} */
    this.observed = new Map();
    /** @type {Map<string, number>} last reported size per track, to report changes only */
    this.reported = new Map();
    /** @type {Map<string, number[]>} sizes waiting to be reported */
    this.pending = new Map();
    this.timer = 0;
    this.resize = typeof ResizeObserver === 'function'
      ? new ResizeObserver((entries) => this.resized(entries)) : null;
  }

  /** @private @param {string} participantId @param {string} kind */
  key(participantId, kind) {
    return participantId + ':' + kind;
  }

  /**
   * Shows one's own camera or screen (muted, mirrored camera).
   * @param {string} selfId @param {'camera'|'screen'} kind @param {MediaStreamTrack|null} track
   */
  setLocal(selfId, kind, track) {
    const key = this.key(selfId, kind);
    if (!track) {
      this.drop(key);
      return;
    }
    const t = this.tile(key, selfId, kind, true);
    t.video.srcObject = new MediaStream([track]);
    t.video.play().catch(() => {});
  }

  /** A remote track arrived. @param {TrackInfo} info @param {MediaStreamTrack} track */
  add(info, track) {
    if (info.kind === 'mic') {
      this.removeAudio(info.mid);
      const el = /** @type {HTMLAudioElement} */ (h('audio', { autoplay: true, 'data-participant': info.participantId }));
      el.srcObject = new MediaStream([track]);
      this.audio.append(el);
      this.audios.set(info.mid, el);
      el.play().catch(() => {});
      return;
    }
    const key = this.key(info.participantId, info.kind);
    const t = this.tile(key, info.participantId, info.kind, false);
    t.info = info;
    t.video.srcObject = new MediaStream([track]);
    t.video.play().catch(() => {});
    if (this.resize) {
      this.resize.observe(t.video);
      this.observed.set(t.video, info.trackId);
    }
  }

  /** A remote track ended. @param {TrackInfo} info */
  remove(info) {
    if (info.kind === 'mic') {
      this.removeAudio(info.mid);
      return;
    }
    const key = this.key(info.participantId, info.kind);
    const t = this.tiles.get(key);
    if (t && t.info && t.info.trackId === info.trackId) this.drop(key);
  }

  /** Removes everything of a participant who left. @param {string} id */
  removeParticipant(id) {
    for (const key of [...this.tiles.keys()]) if (key.startsWith(id + ':')) this.drop(key);
    for (const [mid, el] of this.audios) if (el.getAttribute('data-participant') === id) this.removeAudio(mid);
    this.speakingIDs.delete(id);
  }

  /** Removes all remote media (a new media configuration). @param {string} selfId */
  clearRemote(selfId) {
    for (const key of [...this.tiles.keys()]) if (!key.startsWith(selfId + ':')) this.drop(key);
    for (const mid of [...this.audios.keys()]) this.removeAudio(mid);
  }

  /** @param {string} id @param {boolean} on */
  setSpeaking(id, on) {
    if (on) this.speakingIDs.add(id);
    else this.speakingIDs.delete(id);
    for (const t of this.tiles.values()) {
      if (t.el.getAttribute('data-participant') !== id) continue;
      this.markSpeaking(t.el, on);
    }
  }

  /** Names may change (roster updates). */
  relabel() {
    for (const t of this.tiles.values()) {
      const id = t.el.getAttribute('data-participant') || '';
      const kind = t.el.getAttribute('data-kind');
      const name = this.nameOf(id);
      t.el.querySelector('.tile-name').textContent = kind === 'screen' ? `${name}'s screen` : name;
      t.el.setAttribute('aria-label', kind === 'screen' ? `Screen shared by ${name}` : `Video of ${name}`);
    }
  }

  /** @private */
  markSpeaking(el, on) {
    el.classList.toggle('speaking', on);
    const s = el.querySelector('.tile-speaking');
    if (s) s.hidden = !on;
  }

  /** @private */
  tile(key, id, kind, self) {
    let t = this.tiles.get(key);
    if (t) return t;
    const name = this.nameOf(id);
    const video = /** @type {HTMLVideoElement} */ (h('video', { autoplay: true, playsinline: true, class: self && kind === 'camera' ? 'mirror' : '' }));
    video.muted = true; // sound comes from the audio elements
    const el = h('figure', {
      class: 'tile ' + kind + (self ? ' self' : ''), 'data-participant': id, 'data-kind': kind,
      role: 'group', 'aria-label': kind === 'screen' ? `Screen shared by ${name}` : `Video of ${name}`,
    },
    video,
    h('figcaption', {},
      h('span', { class: 'tile-name', text: kind === 'screen' ? `${name}'s screen` : name }),
      self && h('span', { class: 'tile-you', text: ' (you)' }),
      h('span', { class: 'tile-speaking badge', text: 'speaking', hidden: true })),
    h('span', { class: 'tile-initials', 'aria-hidden': 'true', text: initials(name) }));
    t = { el, video };
    this.tiles.set(key, t);
    // Screen shares first: they get the large view.
    if (kind === 'screen') this.grid.prepend(el);
    else this.grid.append(el);
    this.markSpeaking(el, this.speakingIDs.has(id));
    this.grid.classList.toggle('has-screen', [...this.tiles.values()].some((x) => x.el.classList.contains('screen')));
    this.grid.hidden = false;
    return t;
  }

  /** @private @param {string} key */
  drop(key) {
    const t = this.tiles.get(key);
    if (!t) return;
    if (this.resize) this.resize.unobserve(t.video);
    this.observed.delete(t.video);
    t.video.srcObject = null;
    t.el.remove();
    this.tiles.delete(key);
    this.grid.classList.toggle('has-screen', [...this.tiles.values()].some((x) => x.el.classList.contains('screen')));
    this.grid.hidden = this.tiles.size === 0;
  }

  /** @private @param {string} mid */
  removeAudio(mid) {
    const el = this.audios.get(mid);
    if (!el) return;
    el.srcObject = null;
    el.remove();
    this.audios.delete(mid);
  }

  /** @private Coalesces resize bursts into one report per track. */
  resized(entries) {
    for (const e of entries) {
      const trackId = this.observed.get(e.target);
      if (!trackId) continue;
      const dpr = globalThis.devicePixelRatio || 1;
      const w = Math.round(e.contentRect.width * dpr);
      const hh = Math.round(e.contentRect.height * dpr);
      if (w === 0 || hh === 0) continue; // hidden: 0 would ask for the best layer
      const code = w * 100000 + hh;
      if (this.reported.get(trackId) === code) continue;
      this.reported.set(trackId, code);
      this.pending.set(trackId, [w, hh]);
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      for (const [id, [pw, ph]] of this.pending) this.onLayer(id, pw, ph);
      this.pending.clear();
    }, 300);
  }
}

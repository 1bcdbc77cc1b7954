// The stage: a screen share, else the presentation with its whiteboard
// (ui/presentation.js), else the cameras (stageMode decides; anyone can
// switch between the presentation and the rest with the stage's
// presentation button). Camera tiles fill the space in a grid that
// caps (25 tiles, fewer when they would get too small; speakers first
// when not all fit) or, in speaker mode or with a pinned tile, one large
// tile and a strip. Names and badges sit in a caption under the picture,
// never over it. Hidden audio elements play everyone's microphone. Each
// remote video's displayed size is reported so the server can send a
// simulcast layer that fills it, not more.
import { $, h, initials } from './dom.js';
import { icon } from './icons.js';
import { t } from '../i18n.js';
import { reactionName } from './actionbar.js';
import { devicePrefs } from '../localmedia.js';

/**
 * @typedef {import('../media.js').TrackInfo} TrackInfo
 * @typedef {import('../store.js').Store} Store
 * @typedef {{el: HTMLElement, video: HTMLVideoElement, pid: string, kind: string, self: boolean, info?: TrackInfo, order: number}} Tile
 */

/** At most this many camera tiles show at once. */
export const MAX_TILES = 25;
/** Height of a tile's caption (CSS px), the gap between tiles. */
const CAPTION = 28;
const GAP = 6;

/**
 * The grid that makes n tiles (16:9 picture plus a caption line) as large
 * as possible inside W×H.
 * @param {number} W @param {number} H @param {number} n
 * @returns {{cols: number, rows: number, w: number}}
 */
export function fitGrid(W, H, n) {
  let best = { cols: 1, rows: 1, w: 0 };
  for (let cols = 1; cols <= Math.max(1, n); cols++) {
    const rows = Math.ceil(n / cols);
    const byW = (W - (cols - 1) * GAP) / cols;
    const byH = ((H - (rows - 1) * GAP) / rows - CAPTION) * 16 / 9;
    const w = Math.floor(Math.min(byW, byH));
    if (w > best.w) best = { cols, rows, w };
  }
  return best;
}

/**
 * What the stage shows, in order of precedence. A shared external video
 * (ui/video.js) comes first. A screen share comes before the presentation (as in BigBlueButton, where a screen share
 * takes the presentation's place while it runs), unless this person
 * chose the presentation with the stage's button; with neither, the
 * cameras fill the stage. With a screen share or the presentation on
 * the stage, the cameras make a strip.
 * @param {{video?: boolean, presentation: boolean, screen: boolean, choice: ''|'presentation'|'other'}} s
 *   video: an external video is shared; presentation: the presentation
 *   has something to show; screen: a screen is shared; choice: this
 *   person's choice with the stage's presentation button ('' when they
 *   made none)
 * @returns {'video'|'presentation'|'screen'|'cameras'}
 */
export function stageMode(s) {
  if (s.video) return 'video';
  if (s.choice === 'presentation') return 'presentation';
  if (s.screen) return 'screen';
  if (s.presentation && s.choice !== 'other') return 'presentation';
  return 'cameras';
}

export class Stage {
  /**
   * @param {Store} store
   * @param {{onLayer: (trackId: string, w: number, h: number) => void}} opts
   */
  constructor(store, opts) {
    this.store = store;
    this.onLayer = opts.onLayer;
    this.root = $('view-room');
    this.main = $('stage-main');
    this.grid = $('tiles');
    this.audio = $('audio-sinks');
    /** @type {Map<string, Tile>} by participant:kind */
    this.tiles = new Map();
    /** @type {Map<string, HTMLAudioElement>} by mid */
    this.audios = new Map();
    /** @type {string} pinned participant id */
    this.pinned = '';
    this.speakerMode = false;
    this.order = 0;
    /** @type {Map<Element, string>} */
    this.observed = new Map();
    /** @type {Map<string, number>} */
    this.reported = new Map();
    /** @type {Map<string, number[]>} */
    this.pending = new Map();
    this.timer = 0;
    this.frame = 0;
    this.more = h('div', { class: 'tile tile-more', role: 'note' });
    this.presentation = $('stage-presentation');
    /** @type {''|'presentation'|'other'} this person's choice with the presentation button */
    this.presChoice = '';
    this.presCurrent = '';
    this.hadScreen = false;
    this.videoSize = typeof ResizeObserver === 'function' ? new ResizeObserver((e) => this.resized(e)) : null;
    if (typeof ResizeObserver === 'function') new ResizeObserver(() => this.schedule()).observe(this.root);
    $('layout-toggle').addEventListener('click', () => {
      this.speakerMode = !this.speakerMode;
      $('layout-toggle').setAttribute('aria-pressed', String(this.speakerMode));
      this.layout();
    });
    $('fullscreen').addEventListener('click', () => {
      if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
      else this.root.requestFullscreen().catch(() => {});
    });
    document.addEventListener('fullscreenchange', () => {
      $('fullscreen').setAttribute('aria-pressed', String(!!document.fullscreenElement));
    });
    if (!document.fullscreenEnabled) $('fullscreen').hidden = true;
    $('pres-toggle').addEventListener('click', () => {
      this.presChoice = this.root.classList.contains('has-presentation') ? 'other' : 'presentation';
      this.layout();
      if (this.presChoice === 'presentation') $('pres-viewport').focus();
    });
    store.on('presentation', () => {
      // A document newly shown by the presenter shows again for everyone.
      const cur = store.state.presentation ? store.state.presentation.current : '';
      if (cur !== this.presCurrent) this.presChoice = '';
      this.presCurrent = cur;
      this.layout();
    });
    store.on('roster', () => this.relabel());
    store.on('speaking', () => this.relabel());
    store.on('reaction', () => this.relabel());
  }

  /** @private */
  key(pid, kind) {
    return pid + ':' + kind;
  }

  /** One's own camera or screen (muted, the camera mirrored). @param {string} selfId @param {'camera'|'screen'} kind @param {MediaStreamTrack|null} track */
  setLocal(selfId, kind, track) {
    const key = this.key(selfId, kind);
    if (!track) {
      this.drop(key);
      return;
    }
    const tl = this.tile(key, selfId, kind, true);
    tl.video.srcObject = new MediaStream([track]);
    tl.video.play().catch(() => {});
  }

  /** A remote track arrived. @param {TrackInfo} info @param {MediaStreamTrack} track */
  add(info, track) {
    if (info.kind === 'mic') {
      this.removeAudio(info.mid);
      const el = /** @type {HTMLAudioElement} */ (h('audio', { autoplay: true, 'data-participant': info.participantId }));
      el.srcObject = new MediaStream([track]);
      const sink = devicePrefs.get('speaker');
      const anyEl = /** @type {any} */ (el);
      if (sink && typeof anyEl.setSinkId === 'function') anyEl.setSinkId(sink).catch(() => {});
      this.audio.append(el);
      this.audios.set(info.mid, el);
      el.play().catch(() => {});
      return;
    }
    const key = this.key(info.participantId, info.kind);
    const tl = this.tile(key, info.participantId, info.kind, false);
    tl.info = info;
    tl.video.srcObject = new MediaStream([track]);
    tl.video.play().catch(() => {});
    if (this.videoSize) {
      this.videoSize.observe(tl.video);
      this.observed.set(tl.video, info.trackId);
    }
  }

  /** Plays remote audio on another output. @param {string} sinkId */
  setSink(sinkId) {
    for (const el of this.audios.values()) {
      const anyEl = /** @type {any} */ (el);
      if (typeof anyEl.setSinkId === 'function') anyEl.setSinkId(sinkId).catch(() => {});
    }
  }

  /** A remote track ended. @param {TrackInfo} info */
  remove(info) {
    if (info.kind === 'mic') {
      this.removeAudio(info.mid);
      return;
    }
    const key = this.key(info.participantId, info.kind);
    const tl = this.tiles.get(key);
    if (tl && tl.info && tl.info.trackId === info.trackId) this.drop(key);
  }

  /** Everything of a participant who left. @param {string} id */
  removeParticipant(id) {
    for (const key of [...this.tiles.keys()]) if (key.startsWith(id + ':')) this.drop(key);
    for (const [mid, el] of this.audios) if (el.getAttribute('data-participant') === id) this.removeAudio(mid);
    if (this.pinned === id) this.pinned = '';
  }

  /** All remote media goes (a new media configuration). @param {string} selfId */
  clearRemote(selfId) {
    for (const key of [...this.tiles.keys()]) if (!key.startsWith(selfId + ':')) this.drop(key);
    for (const mid of [...this.audios.keys()]) this.removeAudio(mid);
  }

  /** Names, badges, speaking and reactions follow the roster. */
  relabel() {
    const st = this.store.state;
    for (const tl of this.tiles.values()) {
      const p = st.roster.get(tl.pid);
      const name = this.store.nameOf(tl.pid) || t('people.someone');
      const screen = tl.kind === 'screen';
      tl.el.querySelector('.tile-name').textContent = screen ? t('stage.screenOf', { name }) : (tl.self ? t('stage.you', { name }) : name);
      tl.el.setAttribute('aria-label', screen ? t('stage.screenOf', { name }) : t('stage.videoOf', { name }));
      tl.el.classList.toggle('speaking', st.speaking.has(tl.pid));
      const badges = tl.el.querySelector('.tile-badges');
      const reaction = st.reactions.get(tl.pid);
      badges.replaceChildren(...[
        reaction && h('span', { class: 'badge reaction', title: reactionName(reaction.emoji) },
          h('span', { 'aria-hidden': 'true', text: reaction.emoji }), h('span', { class: 'visually-hidden', text: reactionName(reaction.emoji) })),
        p && p.raisedHand && !screen && h('span', { class: 'badge hand', title: t('people.handRaised') }, icon('hand'), h('span', { class: 'visually-hidden', text: t('people.handRaised') })),
        p && !screen && (p.muted || !p.audio) && h('span', { class: 'badge muted', title: t('people.micOff') }, icon('micOff'), h('span', { class: 'visually-hidden', text: t('people.micOff') })),
      ].filter((x) => !!x).map((x) => /** @type {HTMLElement} */ (x)));
      const pin = tl.el.querySelector('.tile-pin');
      if (pin) {
        pin.setAttribute('aria-pressed', String(this.pinned === tl.pid));
        pin.setAttribute('aria-label', t('stage.pin', { name }));
        pin.setAttribute('title', t('stage.pin', { name }));
      }
    }
    const now = Date.now();
    for (const id of st.speaking) st.lastSpoke.set(id, now);
    this.schedule();
  }

  /** @private */
  tile(key, pid, kind, self) {
    let tl = this.tiles.get(key);
    if (tl) return tl;
    const name = this.store.nameOf(pid);
    const video = /** @type {HTMLVideoElement} */ (h('video', { autoplay: true, playsinline: true, class: self && kind === 'camera' ? 'mirror' : '' }));
    video.muted = true; // sound comes from the audio elements
    const pin = kind === 'camera' ? h('button', {
      type: 'button', class: 'btn icon-btn tile-pin', 'aria-pressed': 'false',
      onclick: () => {
        this.pinned = this.pinned === pid ? '' : pid;
        this.relabel();
        this.layout();
        const again = this.tiles.get(key);
        const btn = again && again.el.querySelector('.tile-pin');
        if (btn) /** @type {HTMLElement} */ (btn).focus();
      },
    }, icon('pin')) : null;
    const el = h('figure', { class: 'tile ' + kind + (self ? ' self' : ''), 'data-participant': pid, 'data-kind': kind },
      h('div', { class: 'tile-video' },
        h('span', { class: 'tile-initials', 'aria-hidden': 'true', text: initials(name || '?') }),
        video),
      h('figcaption', { class: 'tile-caption' },
        h('span', { class: 'tile-name' }),
        h('span', { class: 'tile-badges' }),
        pin));
    tl = { el, video, pid, kind, self, order: this.order++ };
    this.tiles.set(key, tl);
    this.relabel();
    this.layout();
    return tl;
  }

  /** @private @param {string} key */
  drop(key) {
    const tl = this.tiles.get(key);
    if (!tl) return;
    if (this.videoSize) this.videoSize.unobserve(tl.video);
    this.observed.delete(tl.video);
    tl.video.srcObject = null;
    tl.el.remove();
    this.tiles.delete(key);
    this.layout();
  }

  /** @private @param {string} mid */
  removeAudio(mid) {
    const el = this.audios.get(mid);
    if (!el) return;
    el.srcObject = null;
    el.remove();
    this.audios.delete(mid);
  }

  /** @private */
  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.layout();
    });
  }

  /** Places the tiles: main area (screen, pinned or speaker) or the presentation, and the grid or strip. */
  layout() {
    const st = this.store.state;
    const all = [...this.tiles.values()];
    const screens = all.filter((x) => x.kind === 'screen');
    let cams = all.filter((x) => x.kind === 'camera');
    const spoke = (/** @type {Tile} */ x) => st.lastSpoke.get(x.pid) || 0;
    // A screen share that starts shows, whatever was chosen before.
    if (screens.length > 0 && !this.hadScreen) this.presChoice = '';
    this.hadScreen = screens.length > 0;
    // A shared external video (ui/video.js shows its slot) comes first:
    // the presentation waits behind it; screens and cameras make the strip.
    const mode = stageMode({ video: !$('stage-video').hidden, presentation: st.presentationActive, screen: screens.length > 0, choice: this.presChoice });
    const video = mode === 'video';
    const pres = mode === 'presentation';
    const toggle = $('pres-toggle');
    toggle.hidden = !st.presentation;
    toggle.setAttribute('aria-pressed', String(pres));
    this.presentation.hidden = !pres;
    this.root.classList.toggle('has-presentation', pres);
    /** @type {Tile[]} */
    let main = pres || video ? [] : screens;
    if (pres || video) cams = [...screens, ...cams]; // a screen share joins the strip
    if (!pres && !video && main.length === 0 && cams.length > 1 && (this.pinned || this.speakerMode)) {
      const focus = cams.find((x) => x.pid === this.pinned)
        || [...cams].filter((x) => !x.self).sort((a, b) => spoke(b) - spoke(a))[0] || cams[0];
      main = [focus];
      cams = cams.filter((x) => x !== focus);
    }
    const strip = main.length > 0 || ((pres || video) && cams.length > 0);
    this.root.classList.toggle('has-main', main.length > 0 || pres || video);
    this.main.hidden = main.length === 0;
    for (const x of main) if (x.el.parentElement !== this.main) this.main.append(x.el);
    for (const x of this.main.children) if (!main.some((m) => m.el === x)) x.remove();
    const wide = this.root.clientWidth > this.root.clientHeight * 1.2;
    this.root.classList.toggle('strip-side', strip && wide);
    this.root.classList.toggle('strip-bottom', strip && !wide);
    $('stage-empty').hidden = all.length > 0 || pres || video;
    $('stage-empty-text').textContent = t('stage.empty');
    // Order: pinned first, then (when not all fit) who spoke last.
    cams.sort((a, b) => {
      if ((a.pid === this.pinned) !== (b.pid === this.pinned)) return a.pid === this.pinned ? -1 : 1;
      return a.order - b.order;
    });
    const box = this.grid.getBoundingClientRect();
    const W = Math.max(0, box.width);
    const H = Math.max(0, box.height);
    const minW = W < 500 ? 140 : 150;
    let n = Math.min(cams.length, MAX_TILES);
    let fit = fitGrid(W, H, n);
    while (n > 1 && fit.w < minW) {
      n--;
      fit = fitGrid(W, H, n);
    }
    const overflow = cams.length > n;
    let shown = cams;
    if (overflow) {
      const keep = n - 1; // the last place says how many more
      const byTalk = [...cams].sort((a, b) => {
        if ((a.pid === this.pinned) !== (b.pid === this.pinned)) return a.pid === this.pinned ? -1 : 1;
        if (a.self !== b.self) return a.self ? -1 : 1;
        return spoke(b) - spoke(a) || a.order - b.order;
      });
      const visible = new Set(byTalk.slice(0, keep));
      shown = cams.filter((x) => visible.has(x));
    }
    this.grid.style.setProperty('--cols', String(fit.cols));
    this.grid.style.setProperty('--tile-w', Math.max(60, fit.w) + 'px');
    const want = shown.map((x) => x.el);
    if (overflow) {
      this.more.textContent = t('stage.more', { count: cams.length - shown.length });
      want.push(this.more);
    }
    const now = [...this.grid.children];
    if (now.length !== want.length || now.some((el, i) => el !== want[i])) this.grid.replaceChildren(...want);
    for (const x of cams) if (!shown.includes(x)) x.el.remove();
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

// The shared external video on the stage. Nothing of the third party
// loads before the presenter shares one: only then is the player frame
// created (`video` relative to the page, served by Aula under a policy
// that opens exactly the video's origin), and it is removed when the
// sharing stops. The frame follows the server's playback state; the
// presenter plays, pauses, seeks and changes the rate for everyone; each
// person can mute their own copy. A notice says who serves the video.
import { $, h } from './dom.js';
import { icon, setIcon } from './icons.js';
import { t, formatDuration } from '../i18n.js';
import { ClientType, ServerType, ErrorCode } from '../protocol.js';

/**
 * @typedef {import('../store.js').Store} Store
 * @typedef {import('../protocol.js').Connection} Connection
 * @typedef {import('../protocol.js').VideoState} VideoState
 * @typedef {{explain: (e: any) => string, closeMenu: () => void, changed: () => void}} VideoActions
 */

/** Playback rates offered to the presenter. */
const RATES = [0.5, 0.75, 1, 1.25, 1.5, 2];

/**
 * Where a shared video is now (seconds): the state's position, advanced
 * while playing by the server time passed since, at its rate.
 * @param {VideoState} v
 * @param {number} serverNow
 */
export function videoPosition(v, serverNow) {
  const at = Date.parse(v.at);
  if (!v.playing || Number.isNaN(at)) return v.position;
  return Math.max(0, v.position + ((serverNow - at) / 1000) * v.rate);
}

/** Who serves a video, for the notice. @param {VideoState} v */
export function servedBy(v) {
  switch (v.provider) {
    case 'youtube': return t('video.servedByYouTube');
    case 'vimeo': return t('video.servedByVimeo');
    default: {
      let host = '';
      try {
        host = new URL(v.origin || v.url).host;
      } catch {
        host = v.origin;
      }
      return t('video.servedBy', { host });
    }
  }
}

export class Video {
  /** @param {Store} store @param {Connection} conn @param {VideoActions} act */
  constructor(store, conn, act) {
    this.store = store;
    this.conn = conn;
    this.act = act;
    /** @type {VideoState|null} */
    this.v = null;
    /** @type {HTMLIFrameElement|null} */
    this.frame = null;
    this.frameKey = '';
    this.ready = false;
    this.muted = false;
    /** @type {{position: number, duration: number, playing: boolean, blocked: boolean, at: number}} */
    this.status = { position: 0, duration: 0, playing: false, blocked: false, at: 0 };
    this.seeking = false;
    /** server time (ms) of the newest state taken */
    this.lastAt = 0;
    /** @type {string[]|null} providers the operator allows (video.state's allowed) */
    this.allowed = null;
    /** @type {string[]} */
    this.peertubeHosts = [];
    this.slot = $('stage-video');
    this.build();

    conn.on(ServerType.WELCOME, (w) => queueMicrotask(() => {
      if (w.lobby) return;
      this.lastAt = 0;
      this.set((w.features && w.features.video) || null);
    }));
    conn.on(ServerType.VIDEO_STATE, (/** @type {VideoState} */ v) => {
      // Two states can arrive swapped: the older one is dropped.
      const at = Date.parse(v.at) || 0;
      if (at < this.lastAt) return;
      this.lastAt = at;
      this.set(v);
    });
    store.on('self', () => this.renderControls());
    window.addEventListener('message', (ev) => this.message(ev));

    $('video-open').addEventListener('click', () => {
      act.closeMenu();
      this.error('');
      this.renderAllowed();
      $('video-dialog').showModal();
      $('video-url').focus();
    });
    $('video-cancel').addEventListener('click', () => $('video-dialog').close());
    $('video-dialog').addEventListener('close', () => {
      const more = $('more-toggle');
      if (more && !more.closest('[hidden]')) more.focus();
    });
    $('video-form').addEventListener('submit', (/** @type {Event} */ ev) => {
      ev.preventDefault();
      this.share();
    });
    setInterval(() => this.renderTime(), 500);
  }

  /** @private The slot's parts: the frame's place, the notice, the controls. */
  build() {
    this.holder = h('div', { class: 'video-holder' });
    this.notice = h('p', { class: 'video-notice', id: 'video-notice' });
    this.muteBtn = h('button', {
      type: 'button', class: 'btn icon-btn small', id: 'video-mute', 'aria-pressed': 'false',
      onclick: () => this.setMuted(!this.muted),
    }, h('span', { class: 'icon-slot', 'aria-hidden': 'true' }));
    this.playBtn = h('button', {
      type: 'button', class: 'btn icon-btn small', id: 'video-play',
      onclick: () => this.control(!(this.v && this.v.playing), this.position()),
    }, h('span', { class: 'icon-slot', 'aria-hidden': 'true' }));
    this.seek = /** @type {HTMLInputElement} */ (h('input', { type: 'range', id: 'video-seek', class: 'video-seek', min: '0', max: '0', step: '0.1', value: '0' }));
    this.seek.addEventListener('input', () => {
      this.seeking = true;
      this.renderTime();
    });
    this.seek.addEventListener('change', () => {
      this.seeking = false;
      if (this.v) this.control(this.v.playing, Number(this.seek.value));
    });
    this.time = h('span', { class: 'video-time', id: 'video-time' });
    this.rate = /** @type {HTMLSelectElement} */ (h('select', { class: 'select video-rate', id: 'video-rate' },
      ...RATES.map((r) => h('option', { value: String(r), text: t('video.rateValue', { rate: r }) }))));
    this.rate.addEventListener('change', () => {
      if (this.v) this.control(this.v.playing, this.position(), Number(this.rate.value));
    });
    this.stopBtn = h('button', {
      type: 'button', class: 'btn small danger', id: 'video-stop',
      onclick: () => this.conn.request(ClientType.VIDEO_STOP).catch((e) => this.problem(this.act.explain(e))),
    });
    this.controls = h('div', { class: 'video-controls', role: 'group', id: 'video-controls' },
      this.playBtn, this.seek, this.rate, this.stopBtn);
    this.problemEl = h('p', { class: 'video-problem', role: 'alert', hidden: true });
    this.bar = h('div', { class: 'video-bar' }, this.muteBtn, this.time, this.controls, this.notice);
    this.slot.replaceChildren(this.holder, this.bar, this.problemEl);
  }

  /** @private @param {VideoState|null} v */
  set(v) {
    if (v && Array.isArray(v.allowed)) {
      this.allowed = v.allowed;
      this.peertubeHosts = Array.isArray(v.peertubeHosts) ? v.peertubeHosts : [];
    }
    const prev = this.v;
    this.v = v && v.url ? v : null;
    if (!this.v) {
      this.removeFrame();
      this.slot.hidden = true;
      this.act.changed();
      return;
    }
    const key = this.v.url + '\n' + this.v.embed;
    if (!this.frame || key !== this.frameKey) {
      this.removeFrame();
      this.frameKey = key;
      this.status = { position: 0, duration: 0, playing: false, blocked: false, at: 0 };
      this.frame = /** @type {HTMLIFrameElement} */ (h('iframe', {
        src: 'video', class: 'video-frame', id: 'video-frame', title: t('video.frameTitle'),
        allow: 'autoplay; fullscreen; encrypted-media; picture-in-picture', referrerpolicy: 'no-referrer',
      }));
      this.holder.replaceChildren(this.frame);
      this.problem('');
    }
    if (!prev || prev.url !== this.v.url) this.notice.textContent = servedBy(this.v);
    const wasHidden = this.slot.hidden;
    this.slot.hidden = false;
    if (wasHidden) this.act.changed();
    this.post();
    this.renderControls();
  }

  /** @private */
  removeFrame() {
    if (this.frame) this.frame.remove();
    this.frame = null;
    this.frameKey = '';
    this.ready = false;
  }

  /** @private Tells the frame what to play and where. */
  post() {
    const f = this.frame;
    const v = this.v;
    if (!f || !v || !this.ready || !f.contentWindow) return;
    const serverNow = Date.now() + this.store.state.serverOffset;
    const at = Date.parse(v.at);
    f.contentWindow.postMessage({
      aula: 'video', type: 'state', playing: v.playing, position: v.position, rate: v.rate,
      age: Number.isNaN(at) ? 0 : Math.max(0, serverNow - at),
    }, location.origin);
  }

  /** @private @param {MessageEvent} ev */
  message(ev) {
    const f = this.frame;
    if (!f || ev.source !== f.contentWindow || ev.origin !== location.origin) return;
    const d = ev.data;
    if (!d || d.aula !== 'video') return;
    if (d.type === 'ready' && this.v && f.contentWindow) {
      this.ready = true;
      f.contentWindow.postMessage({
        aula: 'video', type: 'load', provider: this.v.provider, embed: this.v.embed, origin: this.v.origin,
        title: t('video.frameTitle'), lang: document.documentElement.lang, muted: this.muted,
      }, location.origin);
      this.post();
    } else if (d.type === 'status') {
      this.status = {
        position: Number(d.position) || 0, duration: Number(d.duration) || 0, playing: !!d.playing,
        blocked: !!d.blocked, at: Date.now(),
      };
      if (d.blocked && !this.muted) {
        this.muted = true;
        this.renderControls();
      }
      if (d.error) this.problem(t('video.loadError'));
      this.renderTime();
    }
  }

  /** Where the shared video is now (s). */
  position() {
    return this.v ? videoPosition(this.v, Date.now() + this.store.state.serverOffset) : 0;
  }

  /** @private @param {boolean} playing @param {number} position @param {number} [rate] */
  control(playing, position, rate) {
    if (!this.v) return;
    const dur = this.status.duration;
    let pos = Math.max(0, position);
    if (dur > 0) pos = Math.min(pos, dur);
    this.conn.request(ClientType.VIDEO_CONTROL, { playing, position: Math.round(pos * 1000) / 1000, rate: rate || this.v.rate || 1 })
      .catch((e) => this.problem(this.act.explain(e)));
  }

  /** @private @param {boolean} on */
  setMuted(on) {
    this.muted = on;
    const f = this.frame;
    if (f && f.contentWindow && this.ready) f.contentWindow.postMessage({ aula: 'video', type: 'mute', muted: on }, location.origin);
    this.renderControls();
  }

  /** @private */
  renderControls() {
    const self = this.store.state.self;
    const presenter = !!self && self.presenter;
    $('video-open').hidden = !presenter;
    if (!this.v) return;
    this.controls.hidden = !presenter;
    this.muteBtn.setAttribute('aria-pressed', String(this.muted));
    this.muteBtn.setAttribute('aria-label', t('video.mute'));
    this.muteBtn.title = this.muted ? t('video.unmuteHint') : t('video.mute');
    setIcon(this.muteBtn.querySelector('.icon-slot'), this.muted ? 'volumeOff' : 'speaker');
    const playing = this.v.playing;
    this.playBtn.setAttribute('aria-label', playing ? t('video.pause') : t('video.play'));
    this.playBtn.title = playing ? t('video.pause') : t('video.play');
    setIcon(this.playBtn.querySelector('.icon-slot'), playing ? 'pause' : 'play');
    this.seek.setAttribute('aria-label', t('video.position'));
    this.rate.setAttribute('aria-label', t('video.rate'));
    this.rate.value = String(this.v.rate);
    if (this.rate.value !== String(this.v.rate)) this.rate.value = '1';
    this.stopBtn.textContent = '';
    this.stopBtn.append(icon('stop'), t('video.stop'));
    this.stopBtn.setAttribute('aria-label', t('video.stop'));
    this.renderTime();
  }

  /** @private The position and length. */
  renderTime() {
    if (!this.v) return;
    const dur = this.status.duration;
    let pos = this.position();
    if (dur > 0) pos = Math.min(pos, dur);
    if (!this.seeking) {
      this.seek.max = String(dur > 0 ? dur : Math.max(pos, 1));
      this.seek.value = String(pos);
    }
    const shown = this.seeking ? Number(this.seek.value) : pos;
    const text = dur > 0 ? t('video.time', { pos: formatDuration(shown * 1000), dur: formatDuration(dur * 1000) }) : formatDuration(shown * 1000);
    if (this.time.textContent !== text) this.time.textContent = text;
    this.seek.setAttribute('aria-valuetext', text);
  }

  /** @private The providers this server allows, when the meeting says. */
  renderAllowed() {
    const list = this.allowed;
    if (!list) {
      $('video-allowed').textContent = t('video.allowedAny');
      return;
    }
    const names = list.map((p) => {
      switch (p) {
        case 'file': return t('video.providerFile');
        case 'youtube': return t('video.providerYouTube');
        case 'vimeo': return t('video.providerVimeo');
        case 'peertube': return this.peertubeHosts && this.peertubeHosts.length ? `${t('video.providerPeerTube')} (${this.peertubeHosts.join(', ')})` : t('video.providerPeerTube');
        default: return p;
      }
    });
    $('video-allowed').textContent = names.length ? t('video.allowed', { list: names.join(', ') }) : t('video.allowedNone');
  }

  /** @private */
  share() {
    const url = /** @type {HTMLInputElement} */ ($('video-url')).value.trim();
    if (!/^https?:\/\//i.test(url)) {
      this.error(t('video.badURL'));
      $('video-url').focus();
      return;
    }
    this.conn.request(ClientType.VIDEO_SHARE, { url }).then(() => {
      /** @type {HTMLInputElement} */ ($('video-url')).value = '';
      $('video-dialog').close();
    }, (e) => this.error(e && e.code === ErrorCode.BAD_REQUEST ? t('video.refused') : this.act.explain(e)));
  }

  /** @private @param {string} text */
  error(text) {
    const el = $('video-error');
    el.textContent = text;
    el.hidden = !text;
  }

  /** @private @param {string} text */
  problem(text) {
    this.problemEl.textContent = text;
    this.problemEl.hidden = !text;
  }
}

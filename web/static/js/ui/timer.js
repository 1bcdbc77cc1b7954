// The timer and stopwatch (as BigBlueButton 2.7's): everyone sees it in
// the top bar, computed from the server's state and the offset to the
// server's clock; a gentle chime at zero. Moderators (and the presenter)
// start, pause, resume and clear it in a dialog from the "More" menu.
import { $ } from './dom.js';
import { t, formatDuration } from '../i18n.js';
import { ClientType, ServerType } from '../protocol.js';
import { chime } from './sound.js';

/**
 * @typedef {import('../store.js').Store} Store
 * @typedef {import('../protocol.js').Connection} Connection
 * @typedef {import('../protocol.js').TimerState} TimerState
 * @typedef {{explain: (e: any) => string, toast: (text: string) => void, closeMenu: () => void}} TimerActions
 */

/**
 * What the timer shows at a server time: the milliseconds left (countdown)
 * or run (stopwatch).
 * @param {TimerState} s
 * @param {number} serverNow
 */
export function timerValue(s, serverNow) {
  const at = Date.parse(s.at);
  let run = s.elapsedMs;
  if (s.running && !Number.isNaN(at)) run += Math.max(0, serverNow - at);
  if (s.mode === 'countdown') return Math.max(0, s.seconds * 1000 - run);
  return run;
}

export class Timer {
  /** @param {Store} store @param {Connection} conn @param {TimerActions} act */
  constructor(store, conn, act) {
    this.store = store;
    this.conn = conn;
    this.act = act;
    /** @type {TimerState|null} */
    this.state = null;
    this.tick = 0;
    /** server time (ms) of the newest state taken */
    this.lastAt = 0;
    conn.on(ServerType.WELCOME, (w) => queueMicrotask(() => {
      if (w.lobby) return;
      this.lastAt = 0;
      this.set((w.features && w.features.timer) || null);
    }));
    conn.on(ServerType.TIMER_STATE, (/** @type {TimerState} */ s) => {
      // Two states can arrive swapped: the older one is dropped.
      const at = Date.parse(s.at) || 0;
      if (at < this.lastAt) return;
      this.lastAt = at;
      this.set(s);
    });
    conn.on(ServerType.TIMER_DONE, () => {
      chime();
      act.toast(t('timer.doneToast'));
      const el = $('lesson-timer');
      el.classList.remove('ring');
      void el.offsetWidth; // restart the animation
      el.classList.add('ring');
    });
    store.on('self', () => this.renderAccess());

    $('timer-open').addEventListener('click', () => {
      act.closeMenu();
      this.error('');
      this.renderDialog();
      $('timer-dialog').showModal();
    });
    $('timer-close').addEventListener('click', () => $('timer-dialog').close());
    $('timer-dialog').addEventListener('close', () => {
      const more = $('more-toggle');
      if (more && !more.closest('[hidden]')) more.focus();
    });
    $('timer-form').addEventListener('submit', (/** @type {Event} */ ev) => {
      ev.preventDefault();
      this.start();
    });
    for (const r of document.querySelectorAll('input[name="timer-mode"]')) r.addEventListener('change', () => this.renderMode());
    $('timer-pause').addEventListener('click', () => this.send(ClientType.TIMER_PAUSE));
    $('timer-resume').addEventListener('click', () => this.send(ClientType.TIMER_RESUME));
    $('timer-clear').addEventListener('click', () => this.send(ClientType.TIMER_CLEAR));
  }

  /** @private @param {TimerState|null} s */
  set(s) {
    this.state = s && s.mode ? s : null;
    clearInterval(this.tick);
    this.tick = 0;
    if (this.state && this.state.running) this.tick = setInterval(() => this.render(), 250);
    this.render();
    this.renderDialog();
  }

  /** @private */
  render() {
    const s = this.state;
    const el = $('lesson-timer');
    el.hidden = !s;
    if (!s) return;
    const ms = timerValue(s, Date.now() + this.store.state.serverOffset);
    // A countdown shows the seconds begun (5:00 at the start, 0:00 at the end).
    const shown = formatDuration(s.mode === 'countdown' ? Math.ceil(ms / 1000) * 1000 : ms);
    const value = $('lesson-timer-value');
    if (value.textContent !== shown) value.textContent = shown;
    const label = s.mode === 'countdown'
      ? (s.running ? t('timer.countdownLabel') : ms === 0 ? t('timer.countdownDone') : t('timer.countdownPaused'))
      : (s.running ? t('timer.stopwatchLabel') : t('timer.stopwatchPaused'));
    const lab = $('lesson-timer-label');
    if (lab.textContent !== label) lab.textContent = label;
    el.title = label;
    el.classList.toggle('paused', !s.running);
    el.classList.toggle('done', s.mode === 'countdown' && ms === 0);
  }

  /** @private */
  renderAccess() {
    const self = this.store.state.self;
    $('timer-open').hidden = !(self && (self.role === 'MODERATOR' || self.presenter));
  }

  /** @private The dialog shows the timer now and what can be done with it. */
  renderDialog() {
    const s = this.state;
    $('timer-current').hidden = !s;
    if (s) {
      const ms = timerValue(s, Date.now() + this.store.state.serverOffset);
      const what = s.mode === 'countdown' ? t('timer.countdown') : t('timer.stopwatch');
      const state = s.running ? t('timer.running') : (s.mode === 'countdown' && ms === 0 ? t('timer.finished') : t('timer.paused'));
      $('timer-status').textContent = t('timer.status', { what, time: formatDuration(s.mode === 'countdown' ? Math.ceil(ms / 1000) * 1000 : ms), state });
      $('timer-pause').hidden = !s.running;
      $('timer-resume').hidden = s.running || (s.mode === 'countdown' && ms === 0);
    }
    $('timer-start').textContent = s ? t('timer.restart') : t('timer.start');
    $('timer-start').setAttribute('aria-label', s ? t('timer.restart') : t('timer.start'));
    this.renderMode();
  }

  /** @private */
  renderMode() {
    const mode = /** @type {HTMLInputElement|null} */ (document.querySelector('input[name="timer-mode"]:checked'));
    $('timer-length').hidden = !!mode && mode.value === 'stopwatch';
  }

  /** @private */
  start() {
    const mode = /** @type {HTMLInputElement|null} */ (document.querySelector('input[name="timer-mode"]:checked'));
    if (mode && mode.value === 'stopwatch') {
      this.send(ClientType.TIMER_START, { mode: 'stopwatch' }, true);
      return;
    }
    const min = Number(/** @type {HTMLInputElement} */ ($('timer-minutes')).value || 0);
    const sec = Number(/** @type {HTMLInputElement} */ ($('timer-seconds')).value || 0);
    const seconds = Math.round(min * 60 + sec);
    if (!Number.isFinite(seconds) || seconds < 1 || seconds > 24 * 3600 || min < 0 || sec < 0) {
      this.error(t('timer.badLength'));
      $('timer-minutes').focus();
      return;
    }
    this.send(ClientType.TIMER_START, { mode: 'countdown', seconds }, true);
  }

  /** @private @param {string} type @param {any} [data] @param {boolean} [close] */
  send(type, data, close = false) {
    this.conn.request(type, data).then(() => {
      this.error('');
      if (close) $('timer-dialog').close();
    }, (e) => this.error(this.act.explain(e)));
  }

  /** @private @param {string} text */
  error(text) {
    const el = $('timer-error');
    el.textContent = text;
    el.hidden = !text;
  }
}

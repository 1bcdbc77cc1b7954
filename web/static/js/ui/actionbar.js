// The action bar at the bottom: microphone, camera, screen share, raise
// hand, reactions, more (away, devices, shortcuts, language), the panel
// drawer on phones, and leave. Toggles keep their name and say their
// state with aria-pressed; focus stays on the button pressed.
import { $, h } from './dom.js';
import { setIcon, fillIcons } from './icons.js';
import { t } from '../i18n.js';
import { REACTIONS } from '../protocol.js';

/**
 * @typedef {import('../store.js').Store} Store
 * @typedef {{toggle: (kind: 'mic'|'camera'|'screen') => void, hand: (up: boolean) => void,
 *   react: (emoji: string) => void, away: (on: boolean) => void, leave: () => void,
 *   devices: () => void, chat: () => void}} BarActions
 */

/** The accessible name of each reaction. @param {string} emoji */
export function reactionName(emoji) {
  switch (emoji) {
    case '👍': return t('reaction.thumbsUp');
    case '👎': return t('reaction.thumbsDown');
    case '👏': return t('reaction.clap');
    case '😂': return t('reaction.laugh');
    case '😮': return t('reaction.surprised');
    case '❤️': return t('reaction.heart');
    case '🎉': return t('reaction.party');
    case '🤔': return t('reaction.thinking');
    default: return emoji;
  }
}

export class ActionBar {
  /** @param {Store} store @param {BarActions} act */
  constructor(store, act) {
    this.store = store;
    this.act = act;
    fillIcons(document.body);
    $('mic-toggle').addEventListener('click', () => act.toggle('mic'));
    $('cam-toggle').addEventListener('click', () => act.toggle('camera'));
    $('screen-toggle').addEventListener('click', () => act.toggle('screen'));
    $('hand-toggle').addEventListener('click', () => act.hand(!(store.state.self && store.state.self.raisedHand)));
    $('leave').addEventListener('click', () => act.leave());
    $('away-toggle').addEventListener('click', () => {
      act.away(!(store.state.self && store.state.self.away));
      this.closePopovers();
      $('more-toggle').focus();
    });
    $('devices-open').addEventListener('click', () => {
      this.closePopovers();
      act.devices();
    });
    this.popover('reactions-toggle', 'reactions');
    this.popover('more-toggle', 'more');
    $('reactions').replaceChildren(...REACTIONS.map((emoji) => h('button', {
      type: 'button', class: 'btn reaction-btn', 'aria-label': reactionName(emoji), title: reactionName(emoji),
      onclick: () => {
        act.react(emoji);
        this.closePopovers();
        $('reactions-toggle').focus();
      },
    }, h('span', { 'aria-hidden': 'true', text: emoji }))));
    document.addEventListener('keydown', (ev) => this.shortcut(ev));
    document.addEventListener('click', (ev) => {
      const target = /** @type {Element} */ (ev.target);
      if (!target.closest('.popover-wrap')) this.closePopovers();
    });
    if (!navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia) $('screen-toggle').hidden = true;
    store.on('self', () => this.render());
    store.on('local', () => this.render());
    store.on('meeting', () => this.render());
  }

  /** The keyboard shortcuts, for the help dialog. */
  shortcuts() {
    return [
      { key: 'Alt+Shift+M', label: t('shortcut.mic') },
      { key: 'Alt+Shift+V', label: t('shortcut.camera') },
      { key: 'Alt+Shift+H', label: t('shortcut.hand') },
      { key: 'Alt+Shift+C', label: t('shortcut.chat') },
      { key: 'Alt+Shift+L', label: t('shortcut.leave') },
      { key: 'Esc', label: t('shortcut.close') },
    ];
  }

  /** @private @param {KeyboardEvent} ev */
  shortcut(ev) {
    if (ev.key === 'Escape') {
      if (this.closePopovers()) ev.preventDefault();
      return;
    }
    if (!ev.altKey || !ev.shiftKey || ev.ctrlKey || ev.metaKey) return;
    if (this.store.state.view !== 'room') return;
    /** @type {Record<string, () => void>} */
    const keys = {
      KeyM: () => { this.act.toggle('mic'); $('mic-toggle').focus(); },
      KeyV: () => { this.act.toggle('camera'); $('cam-toggle').focus(); },
      KeyH: () => { $('hand-toggle').click(); $('hand-toggle').focus(); },
      KeyC: () => this.act.chat(),
      KeyL: () => this.act.leave(),
    };
    const f = keys[ev.code];
    if (!f) return;
    ev.preventDefault();
    f();
  }

  /** @private @param {string} btnId @param {string} boxId */
  popover(btnId, boxId) {
    const btn = $(btnId);
    const box = $(boxId);
    btn.addEventListener('click', () => {
      const open = box.hidden;
      this.closePopovers();
      box.hidden = !open;
      btn.setAttribute('aria-expanded', String(open));
      if (open) {
        const first = box.querySelector('button, select');
        if (first) first.focus();
      }
    });
  }

  /** Closes open popovers; true when one was open. */
  closePopovers() {
    let was = false;
    for (const [btnId, boxId] of [['reactions-toggle', 'reactions'], ['more-toggle', 'more']]) {
      const box = $(boxId);
      if (!box.hidden) {
        was = true;
        const inside = box.contains(document.activeElement);
        box.hidden = true;
        $(btnId).setAttribute('aria-expanded', 'false');
        if (inside) $(btnId).focus();
      }
    }
    return was;
  }

  render() {
    const st = this.store.state;
    const self = st.self;
    const lock = this.store.lock;
    const viewer = !!self && self.role !== 'MODERATOR';
    /** @type {[string, 'mic'|'camera'|'screen', string, string][]} */
    const rows = [['mic-toggle', 'mic', 'mic', 'micOff'], ['cam-toggle', 'camera', 'camera', 'cameraOff'], ['screen-toggle', 'screen', 'screen', 'screen']];
    for (const [id, kind, onIcon, offIcon] of rows) {
      const el = $(id);
      const on = st.local[kind];
      const locked = !on && viewer && ((kind === 'mic' && !!lock.disableMic) || (kind === 'camera' && !!lock.disableCam));
      el.setAttribute('aria-pressed', String(on));
      el.disabled = locked;
      el.classList.toggle('is-off', !on && kind !== 'screen');
      el.title = locked ? (kind === 'mic' ? t('bar.micLocked') : t('bar.cameraLocked')) : '';
      setIcon(el.querySelector('.icon-slot'), on ? onIcon : offIcon);
    }
    const hand = $('hand-toggle');
    hand.setAttribute('aria-pressed', String(!!(self && self.raisedHand)));
    $('away-toggle').setAttribute('aria-pressed', String(!!(self && self.away)));
  }
}

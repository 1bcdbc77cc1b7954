// The participants panel: compact rows (avatar, name, icons for
// microphone, camera, phone, hand, moderator, presenter, away), one
// actions menu per row, raised hands first in the order raised, the
// moderator's tools (mute all except the presenter, lower all hands, lock
// settings) and the list of guests waiting to be let in.
import { $, h, initials, keepFocus } from './dom.js';
import { icon } from './icons.js';
import { t, formatRelative } from '../i18n.js';
import { reactionName } from './actionbar.js';

/**
 * @typedef {import('../protocol.js').Participant} Participant
 * @typedef {import('../protocol.js').LockSettings} LockSettings
 * @typedef {import('../store.js').Store} Store
 * @typedef {{message: (p: Participant) => void, mute: (p: Participant) => Promise<any>,
 *   lowerHand: (p: Participant) => Promise<any>, setRole: (p: Participant, role: 'MODERATOR'|'VIEWER') => Promise<any>,
 *   presenter: (p: Participant) => Promise<any>, remove: (p: Participant) => Promise<any>,
 *   muteAll: () => Promise<any>, lowerAll: () => Promise<any>, setLock: (l: LockSettings) => Promise<any>,
 *   admit: (p: Participant, allow: boolean) => Promise<any>, admitAll: () => Promise<any>,
 *   explain: (e: any) => string}} PeopleActions
 */

/** The lock settings the dialog offers (whiteboard locks come with the whiteboard). */
export const LOCK_FIELDS = /** @type {const} */ (['disableCam', 'disableMic', 'disablePublicChat', 'disablePrivChat', 'disableNotes', 'hideUserList', 'webcamsOnlyForModerator']);

/**
 * Raised hands first in the order raised, then moderators, then everyone
 * else, each by name.
 * @param {Participant[]} list
 */
export function sortPeople(list) {
  const at = (/** @type {Participant} */ p) => (p.handRaisedAt ? Date.parse(p.handRaisedAt) : Number.MAX_SAFE_INTEGER);
  return [...list].sort((a, b) => {
    if (a.raisedHand !== b.raisedHand) return a.raisedHand ? -1 : 1;
    if (a.raisedHand && at(a) !== at(b)) return at(a) - at(b);
    if (a.role !== b.role) return a.role === 'MODERATOR' ? -1 : 1;
    return a.name.localeCompare(b.name);
  });
}

/** A small status icon with its words for screen readers. @param {string} cls @param {string} name @param {string} text */
function badge(cls, name, text) {
  return h('span', { class: 'badge ' + cls, title: text }, icon(name), h('span', { class: 'visually-hidden', text }));
}

export class People {
  /** @param {Store} store @param {PeopleActions} act */
  constructor(store, act) {
    this.store = store;
    this.act = act;
    /** @type {string} the row whose menu is open */
    this.menuFor = '';
    /** @type {Participant|null} */
    this.removing = null;
    store.on('roster', () => this.render());
    store.on('self', () => this.render());
    store.on('meeting', () => this.render());
    store.on('speaking', () => this.markSpeakers());
    store.on('reaction', () => this.render());
    store.on('waiting', () => this.renderWaiting());
    $('mute-all').addEventListener('click', () => act.muteAll().then(() => this.say(t('mod.mutedAll')), (e) => this.say(act.explain(e))));
    $('lower-all').addEventListener('click', () => act.lowerAll().then(() => {
      this.say(t('mod.loweredAll'));
      $('mute-all').focus();
    }, (e) => this.say(act.explain(e))));
    $('lock-open').addEventListener('click', () => this.openLocks());
    $('lock-cancel').addEventListener('click', () => $('lock-dialog').close());
    $('lock-apply').addEventListener('click', () => this.applyLocks());
    $('lock-dialog').addEventListener('close', () => $('lock-open').focus());
    $('admit-all').addEventListener('click', () => act.admitAll().catch((e) => this.say(act.explain(e))));
    $('remove-cancel').addEventListener('click', () => $('remove-dialog').close());
    $('remove-confirm').addEventListener('click', () => {
      $('remove-dialog').close();
      const p = this.removing;
      this.removing = null;
      if (p) act.remove(p).catch((e) => this.say(act.explain(e)));
    });
    document.addEventListener('click', (ev) => {
      const target = /** @type {Element} */ (ev.target);
      if (this.menuFor && !target.closest('.row-actions')) {
        this.menuFor = '';
        this.render();
      }
    });
    $('roster').addEventListener('keydown', (/** @type {KeyboardEvent} */ ev) => {
      if (ev.key === 'Escape' && this.menuFor) {
        const id = this.menuFor;
        this.menuFor = '';
        this.render();
        const btn = $('roster').querySelector(`[data-focus-key="${CSS.escape(id + ':menu')}"]`);
        if (btn) btn.focus();
        ev.stopPropagation();
      }
    });
  }

  /** @param {string} text */
  say(text) {
    $('people-status').textContent = text;
  }

  render() {
    const st = this.store.state;
    const self = st.self;
    if (!self || st.lobby) return;
    const isMod = this.store.isModerator;
    const list = sortPeople([...st.roster.values()]);
    const hands = list.filter((p) => p.raisedHand).length;
    $('people-count').textContent = `(${list.length})`;
    $('tab-people').setAttribute('aria-label', hands > 0
      ? t('tab.peopleCountHands', { n: list.length, hands: t('people.hands', { count: hands }) })
      : t('tab.peopleCount', { n: list.length }));
    const pill = $('hand-count');
    pill.hidden = hands === 0;
    pill.textContent = String(hands);
    pill.title = t('people.hands', { count: hands });
    pill.setAttribute('aria-label', t('people.hands', { count: hands }));
    pill.setAttribute('role', 'img');
    $('mod-tools').hidden = !isMod;
    $('lower-all').hidden = !isMod || hands === 0;
    $('roster').setAttribute('data-hands', String(hands));
    const ul = $('roster');
    keepFocus(ul, () => {
      ul.replaceChildren(...list.map((p, i) => this.row(p, self, isMod, p.raisedHand ? i + 1 : 0)));
    }, (key) => [key.split(':')[0] + ':menu', key.split(':')[0] + ':hand']);
    this.markSpeakers();
  }

  /** @private @param {Participant} p @param {Participant} self @param {boolean} isMod @param {number} handNo */
  row(p, self, isMod, handNo) {
    const isSelf = p.id === self.id;
    const mod = p.role === 'MODERATOR';
    const reaction = this.store.state.reactions.get(p.id);
    const avatar = p.avatar
      ? h('img', { class: 'avatar', src: 'avatar/' + encodeURIComponent(p.id), alt: '', width: 28, height: 28, loading: 'lazy' })
      : h('span', { class: 'avatar initials', 'aria-hidden': 'true', text: initials(p.name) });
    const badges = h('span', { class: 'badges' },
      p.raisedHand && h('span', {
        class: 'badge hand',
        title: p.handRaisedAt ? t('people.handSince', { n: handNo, when: formatRelative(Date.parse(p.handRaisedAt) - Date.now() - this.store.state.serverOffset) }) : t('people.handNo', { n: handNo }),
      }, icon('hand'),
        h('span', { class: 'hand-no', 'aria-hidden': 'true', text: String(handNo) }),
        h('span', { class: 'visually-hidden', text: t('people.handNo', { n: handNo }) })),
      reaction && h('span', { class: 'badge reaction', title: reactionName(reaction.emoji) },
        h('span', { 'aria-hidden': 'true', text: reaction.emoji }), h('span', { class: 'visually-hidden', text: reactionName(reaction.emoji) })),
      p.presenter && badge('presenter', 'presenter', t('people.presenter')),
      mod && badge('role', 'moderator', t('people.moderator')),
      p.kind === 'phone' && badge('phone', 'phone', t('people.phone')),
      p.away && badge('away', 'away', t('people.away')),
      !p.connected && badge('reconnecting', 'signal', t('people.reconnecting')),
      p.video && badge('camera', 'camera', t('people.cameraOn')),
      p.muted ? badge('muted', 'micOff', t('people.muted'))
        : p.audio ? badge('mic', 'mic', t('people.micOn')) : null,
    );
    const actions = h('span', { class: 'row-actions' });
    if (isMod && p.raisedHand && !isSelf) {
      actions.append(h('button', {
        type: 'button', class: 'btn icon-btn small', 'data-focus-key': p.id + ':hand',
        'aria-label': t('people.lowerHandOf', { name: p.name }), title: t('people.lowerHandOf', { name: p.name }),
        onclick: () => this.act.lowerHand(p).catch((e) => this.say(this.act.explain(e))),
      }, icon('hand')));
    }
    const items = this.menuItems(p, self, isMod);
    if (items.length > 0) {
      const open = this.menuFor === p.id;
      const menuId = 'menu-' + p.id;
      actions.append(h('button', {
        type: 'button', class: 'btn icon-btn small', 'data-focus-key': p.id + ':menu',
        'aria-label': t('people.actionsFor', { name: p.name }), title: t('people.actionsFor', { name: p.name }),
        'aria-expanded': String(open), 'aria-controls': menuId,
        onclick: () => {
          this.menuFor = open ? '' : p.id;
          this.render();
          if (!open) {
            const first = $(menuId) && $(menuId).querySelector('button');
            if (first) first.focus();
          }
        },
      }, icon('dots')));
      actions.append(h('div', { class: 'row-menu', id: menuId, role: 'group', 'aria-label': t('people.actionsFor', { name: p.name }), hidden: !open }, ...items));
    }
    return h('li', { class: 'person' + (p.connected ? '' : ' offline') + (p.away ? ' is-away' : ''), 'data-id': p.id },
      avatar,
      h('span', { class: 'who' },
        h('span', { class: 'name', text: p.name }),
        isSelf && h('span', { class: 'you', text: t('people.you') })),
      badges,
      actions,
    );
  }

  /** @private @param {Participant} p @param {Participant} self @param {boolean} isMod */
  menuItems(p, self, isMod) {
    const isSelf = p.id === self.id;
    /** @type {HTMLElement[]} */
    const items = [];
    /** @param {string} key @param {string} label @param {() => any} f @param {boolean} [danger] */
    const item = (key, label, f, danger) => items.push(h('button', {
      type: 'button', class: 'btn menu-item' + (danger ? ' danger' : ''), 'data-focus-key': p.id + ':' + key,
      'aria-label': label,
      onclick: () => {
        this.menuFor = '';
        const r = f();
        this.render();
        const btn = $('roster').querySelector(`[data-focus-key="${CSS.escape(p.id + ':menu')}"]`);
        if (btn && key !== 'msg' && key !== 'remove') btn.focus();
        if (r && r.catch) r.catch((/** @type {any} */ e) => this.say(this.act.explain(e)));
      },
    }, label));
    const lock = this.store.lock;
    const canPrivate = isMod || !lock.disablePrivChat || p.role === 'MODERATOR';
    if (!isSelf && p.kind !== 'phone' && canPrivate) item('msg', t('people.message', { name: p.name }), () => this.act.message(p));
    if (!isMod) return items;
    if (!isSelf && p.audio && !p.muted) item('mute', t('people.mute', { name: p.name }), () => this.act.mute(p));
    if (p.kind !== 'phone' && !p.presenter) item('presenter', t('people.makePresenter', { name: p.name }), () => this.act.presenter(p));
    if (!isSelf && p.kind !== 'phone') {
      if (p.role === 'MODERATOR') item('role', t('people.demote', { name: p.name }), () => this.act.setRole(p, 'VIEWER'));
      else item('role', t('people.promote', { name: p.name }), () => this.act.setRole(p, 'MODERATOR'));
    }
    if (!isSelf) {
      item('remove', t('people.remove', { name: p.name }), () => {
        this.removing = p;
        $('remove-dialog-text').textContent = t('remove.text', { name: p.name });
        $('remove-dialog').showModal();
      }, true);
    }
    return items;
  }

  markSpeakers() {
    const speaking = this.store.state.speaking;
    for (const li of $('roster').querySelectorAll('li[data-id]')) {
      const on = speaking.has(li.getAttribute('data-id') || '');
      li.classList.toggle('speaking', on);
      let b = li.querySelector('.badge.talking');
      if (on && !b) {
        const badges = li.querySelector('.badges');
        if (badges) badges.prepend(badge('talking', 'speaker', t('people.speaking')));
      } else if (!on && b) b.remove();
    }
  }

  renderWaiting() {
    const st = this.store.state;
    const list = st.self && !st.lobby && this.store.isModerator ? st.waiting : [];
    $('waiting').hidden = list.length === 0;
    $('waiting-count').textContent = `(${list.length})`;
    const ul = $('waiting-list');
    keepFocus(ul, () => ul.replaceChildren(...list.map((p) => h('li', { class: 'person' + (p.connected ? '' : ' offline'), 'data-id': p.id },
      h('span', { class: 'avatar initials', 'aria-hidden': 'true', text: initials(p.name) }),
      h('span', { class: 'who' },
        h('span', { class: 'name', text: p.name }),
        !p.connected && h('span', { class: 'badge away', text: t('waiting.offline') })),
      h('span', { class: 'row-actions' },
        h('button', {
          type: 'button', class: 'btn small primary', 'data-focus-key': p.id + ':admit',
          'aria-label': t('waiting.admit', { name: p.name }), text: t('waiting.admitShort'),
          onclick: () => this.act.admit(p, true).catch((e) => this.say(this.act.explain(e))),
        }),
        h('button', {
          type: 'button', class: 'btn small danger', 'data-focus-key': p.id + ':deny',
          'aria-label': t('waiting.deny', { name: p.name }), text: t('waiting.denyShort'),
          onclick: () => this.act.admit(p, false).catch((e) => this.say(this.act.explain(e))),
        }))))));
  }

  openLocks() {
    const lock = this.store.lock;
    const form = /** @type {HTMLFormElement} */ ($('lock-form'));
    for (const f of LOCK_FIELDS) {
      const box = /** @type {HTMLInputElement} */ (form.elements.namedItem(f));
      box.checked = !!lock[f];
    }
    $('lock-error').hidden = true;
    $('lock-dialog').showModal();
  }

  /** The lock settings dialog shows the current settings when they change while open. */
  refreshLocks() {
    if ($('lock-dialog').open) this.openLocksQuiet();
  }

  /** @private */
  openLocksQuiet() {
    const lock = this.store.lock;
    const form = /** @type {HTMLFormElement} */ ($('lock-form'));
    for (const f of LOCK_FIELDS) /** @type {HTMLInputElement} */ (form.elements.namedItem(f)).checked = !!lock[f];
  }

  applyLocks() {
    const form = /** @type {HTMLFormElement} */ ($('lock-form'));
    /** @type {LockSettings} */
    const lock = { ...this.store.lock };
    for (const f of LOCK_FIELDS) lock[f] = /** @type {HTMLInputElement} */ (form.elements.namedItem(f)).checked;
    this.act.setLock(lock).then(() => {
      $('lock-dialog').close();
      this.say(t('lock.applied'));
    }, (e) => {
      const el = $('lock-error');
      el.textContent = this.act.explain(e);
      el.hidden = false;
    });
  }
}

// The participant list: names, avatars or initials, role, raised hand,
// phone or browser, and the moderator's actions per participant.
import { h, initials } from './dom.js';

/**
 * @typedef {import('../protocol.js').Participant} Participant
 * @typedef {{lowerHand: (p: Participant) => void, setRole: (p: Participant, role: string) => void,
 *   remove: (p: Participant) => void, mute: (p: Participant) => void,
 *   message: (p: Participant) => void}} RosterActions
 */

/** Moderators first, then by name. @param {Participant[]} list */
export function sortRoster(list) {
  return [...list].sort((a, b) => {
    if (a.role !== b.role) return a.role === 'MODERATOR' ? -1 : 1;
    return a.name.localeCompare(b.name);
  });
}

/**
 * @param {HTMLElement} ul
 * @param {Participant[]} list
 * @param {Participant} self
 * @param {RosterActions} act
 */
export function renderRoster(ul, list, self, act) {
  const focused = document.activeElement && ul.contains(document.activeElement)
    ? document.activeElement.getAttribute('data-focus-key') : null;
  ul.replaceChildren(...sortRoster(list).map((p) => item(p, self, act)));
  if (focused) {
    const el = ul.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`);
    if (el) el.focus();
  }
}

/** @param {Participant} p @param {Participant} self @param {RosterActions} act */
function item(p, self, act) {
  const isSelf = p.id === self.id;
  const mod = p.role === 'MODERATOR';
  const avatar = p.avatar
    ? h('img', { class: 'avatar', src: 'avatar/' + encodeURIComponent(p.id), alt: '', width: 32, height: 32, loading: 'lazy' })
    : h('span', { class: 'avatar initials', 'aria-hidden': 'true', text: initials(p.name) });
  const badges = h('span', { class: 'badges' },
    mod && h('span', { class: 'badge role', text: 'Moderator' }),
    p.kind === 'phone'
      ? h('span', { class: 'badge kind', title: 'Joined by phone', text: 'Phone' })
      : h('span', { class: 'visually-hidden', text: 'in the browser' }),
    // Words, not an emoji: not every machine has an emoji font, and Aula
    // loads no web font.
    p.raisedHand && h('span', { class: 'badge hand', text: 'Hand raised' }),
    p.muted && h('span', { class: 'badge muted', text: 'muted' }),
    !p.connected && h('span', { class: 'badge away', text: 'reconnecting' }),
  );
  const actions = [];
  if (!isSelf) {
    actions.push(h('button', {
      type: 'button', class: 'btn small', 'data-focus-key': p.id + ':msg',
      'aria-label': `Send ${p.name} a private message`, text: 'Message', onclick: () => act.message(p),
    }));
  }
  if (self.role === 'MODERATOR' && !isSelf) {
    if (p.raisedHand) {
      actions.push(h('button', {
        type: 'button', class: 'btn small', 'data-focus-key': p.id + ':hand',
        'aria-label': `Lower ${p.name}'s hand`, text: 'Lower hand', onclick: () => act.lowerHand(p),
      }));
    }
    if (p.audio && !p.muted) {
      actions.push(h('button', {
        type: 'button', class: 'btn small', 'data-focus-key': p.id + ':mute',
        'aria-label': `Mute ${p.name}`, text: 'Mute', onclick: () => act.mute(p),
      }));
    }
    if (p.kind !== 'phone') {
      actions.push(h('button', {
        type: 'button', class: 'btn small', 'data-focus-key': p.id + ':role',
        'aria-label': mod ? `Make ${p.name} a viewer` : `Make ${p.name} a moderator`,
        text: mod ? 'Demote' : 'Promote',
        onclick: () => act.setRole(p, mod ? 'VIEWER' : 'MODERATOR'),
      }));
    }
    actions.push(h('button', {
      type: 'button', class: 'btn small danger', 'data-focus-key': p.id + ':remove',
      'aria-label': `Remove ${p.name} from the meeting`, text: 'Remove', onclick: () => act.remove(p),
    }));
  }
  return h('li', { class: 'person' + (p.connected ? '' : ' away'), 'data-id': p.id },
    avatar,
    h('span', { class: 'who' },
      h('span', { class: 'name', text: p.name }),
      isSelf && h('span', { class: 'you', text: ' (you)' }),
      badges),
    actions.length > 0 && h('span', { class: 'person-actions' }, ...actions),
  );
}

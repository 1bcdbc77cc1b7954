// The moderator's "Waiting" list: guests asking to join (guest policy
// ASK_MODERATOR), each with Admit and Deny. Only names are shown; the
// opaque participant id only addresses the request.
import { h, initials } from './dom.js';

/**
 * @typedef {import('../protocol.js').Participant} Participant
 * @typedef {{admit: (p: Participant) => void, deny: (p: Participant) => void}} WaitingActions
 */

/**
 * @param {HTMLElement} ul
 * @param {Participant[]} list oldest first, as the server sends it
 * @param {WaitingActions} act
 */
export function renderWaiting(ul, list, act) {
  const focused = document.activeElement && ul.contains(document.activeElement)
    ? document.activeElement.getAttribute('data-focus-key') : null;
  ul.replaceChildren(...list.map((p) => h('li', { class: 'person' + (p.connected ? '' : ' away'), 'data-id': p.id },
    h('span', { class: 'avatar initials', 'aria-hidden': 'true', text: initials(p.name) }),
    h('span', { class: 'who' },
      h('span', { class: 'name', text: p.name }),
      !p.connected && h('span', { class: 'badges' }, h('span', { class: 'badge away', text: 'offline' }))),
    h('span', { class: 'person-actions' },
      h('button', {
        type: 'button', class: 'btn small primary', 'data-focus-key': p.id + ':admit',
        'aria-label': `Admit ${p.name}`, text: 'Admit', onclick: () => act.admit(p),
      }),
      h('button', {
        type: 'button', class: 'btn small danger', 'data-focus-key': p.id + ':deny',
        'aria-label': `Deny ${p.name}`, text: 'Deny', onclick: () => act.deny(p),
      })),
  )));
  if (focused) {
    const el = ul.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`);
    if (el) el.focus();
  }
}

// The chat panel: public and private lines with sender and time, and the
// recipient picker.
import { h, clock } from './dom.js';

/**
 * @typedef {import('../protocol.js').ChatMessage} ChatMessage
 * @typedef {import('../protocol.js').Participant} Participant
 */

/**
 * One chat line.
 * @param {ChatMessage} m
 * @param {Participant} self
 * @param {(id: string) => string} nameOf
 */
export function chatLine(m, self, nameOf) {
  const mine = m.from === self.id;
  let scope = null;
  if (m.to) {
    scope = h('span', { class: 'private', text: mine ? `private to ${nameOf(m.to)}` : 'private to you' });
  }
  return h('li', { class: 'line' + (m.to ? ' is-private' : '') + (mine ? ' mine' : ''), 'data-id': m.id },
    h('span', { class: 'meta' },
      h('span', { class: 'from', text: m.fromName }),
      scope,
      h('time', { datetime: m.time, text: clock(m.time) })),
    h('span', { class: 'text', text: m.text }),
  );
}

/**
 * Refreshes the recipient picker, keeping the choice while that person
 * is still here.
 * @param {HTMLSelectElement} select
 * @param {Participant[]} others
 * @param {boolean} allowPrivate
 */
export function renderRecipients(select, others, allowPrivate) {
  const chosen = select.value;
  const opts = [h('option', { value: '', text: 'Everyone' })];
  if (allowPrivate) {
    for (const p of [...others].sort((a, b) => a.name.localeCompare(b.name))) {
      opts.push(h('option', { value: p.id, text: p.name + ' (private)' }));
    }
  }
  select.replaceChildren(...opts);
  select.value = opts.some((o) => o.getAttribute('value') === chosen) ? chosen : '';
}

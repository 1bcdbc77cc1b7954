// The polls panel: the presenter or a moderator asks (yes/no, yes/no/
// abstain, true/false, letters, custom options, free text; one or several
// choices; anonymous), watches the result live (with names unless
// anonymous), stops and publishes; everyone else answers and sees only
// their own answer until the result is published. A new poll draws
// attention to the tab.
import { $, h, keepFocus } from './dom.js';
import { t } from '../i18n.js';
import { ClientType, ServerType } from '../protocol.js';

/**
 * @typedef {import('../store.js').Store} Store
 * @typedef {import('../protocol.js').Connection} Connection
 * @typedef {import('../protocol.js').PollState} PollState
 * @typedef {import('../protocol.js').PollStart} PollStart
 * @typedef {{explain: (e: any) => string, visible: () => boolean, attention: (text: string) => void}} PollActions
 */

/**
 * An option's label: built-in kinds carry keys to translate.
 * @param {string} kind
 * @param {string} key
 */
export function optionLabel(kind, key) {
  if (kind !== 'yesno' && kind !== 'yesnoabstain' && kind !== 'truefalse') return key;
  switch (key) {
    case 'yes': return t('polls.yes');
    case 'no': return t('polls.no');
    case 'abstain': return t('polls.abstain');
    case 'true': return t('polls.true');
    case 'false': return t('polls.false');
    default: return key;
  }
}

const STATUS_RANK = { open: 0, stopped: 1, published: 2 };

/**
 * Whether a poll state is older than the one shown (two states can arrive
 * swapped): a replaced poll, a status going back, or fewer answers
 * counted.
 * @param {PollState|null} prev @param {PollState} p @param {Set<string>} ended
 */
export function stale(prev, p, ended) {
  if (ended.has(p.id)) return true;
  if (!prev || prev.id !== p.id) return false;
  const a = STATUS_RANK[prev.status] ?? 0;
  const b = STATUS_RANK[p.status] ?? 0;
  if (b !== a) return b < a;
  return (p.total || 0) < (prev.total || 0);
}

/** Whether a participant may run polls. @param {import('../protocol.js').Participant|null} p */
function mayAsk(p) {
  return !!p && (p.role === 'MODERATOR' || p.presenter);
}

export class Polls {
  /** @param {Store} store @param {Connection} conn @param {PollActions} act */
  constructor(store, conn, act) {
    this.store = store;
    this.conn = conn;
    this.act = act;
    /** @type {PollState|null} */
    this.poll = null;
    /** @type {Map<string, {choices?: number[], text?: string}>} one's own answers (anonymous polls keep none on the server) */
    this.mine = new Map();
    this.unseen = false;
    this.sending = false;
    this.lastError = '';
    /** @type {Set<string>} polls a newer one replaced */
    this.ended = new Set();

    conn.on(ServerType.WELCOME, (w) => queueMicrotask(() => {
      if (w.lobby) return;
      this.poll = (w.features && w.features.poll) || null;
      this.render();
    }));
    conn.on(ServerType.POLL_STATE, (/** @type {PollState} */ p) => {
      const prev = this.poll;
      if (stale(prev, p, this.ended)) return;
      if (prev && prev.id !== p.id) this.ended.add(prev.id);
      this.poll = p;
      if (p.status === 'open' && (!prev || prev.id !== p.id) && !mayAsk(store.state.self)) {
        if (!act.visible()) this.setUnseen(true);
        act.attention(t('polls.opened', { question: p.question }));
      }
      if (p.status === 'published' && prev && prev.id === p.id && prev.status !== 'published' && !act.visible()) this.setUnseen(true);
      this.render();
    });
    store.on('self', () => this.render());
    store.on('roster', () => {
      if (this.poll && (this.poll.voters || this.poll.textVoters)) this.render();
    });

    const kind = /** @type {HTMLSelectElement} */ ($('poll-kind'));
    kind.addEventListener('change', () => this.renderForm());
    $('poll-form').addEventListener('submit', (/** @type {Event} */ ev) => {
      ev.preventDefault();
      this.start();
    });
    this.renderForm();
  }

  /** The polls tab became visible: what it shows is seen. */
  seen() {
    if (this.act.visible()) this.setUnseen(false);
  }

  /** @private @param {boolean} on */
  setUnseen(on) {
    this.unseen = on;
    $('polls-badge').hidden = !on;
    $('polls-badge').textContent = on ? '1' : '';
    $('tab-polls').setAttribute('aria-label', on ? t('tab.pollsNew') : t('tab.polls'));
  }

  /** @private */
  renderForm() {
    const kind = /** @type {HTMLSelectElement} */ ($('poll-kind')).value;
    $('poll-letters-row').hidden = kind !== 'letters';
    $('poll-options-row').hidden = kind !== 'custom';
    const multi = /** @type {HTMLInputElement} */ ($('poll-multiple'));
    multi.disabled = kind === 'text';
    if (kind === 'text') multi.checked = false;
  }

  /** @private Asks the poll of the form. */
  start() {
    const q = /** @type {HTMLInputElement} */ ($('poll-question')).value.trim();
    const kind = /** @type {PollStart['kind']} */ (/** @type {HTMLSelectElement} */ ($('poll-kind')).value);
    if (!q) {
      this.formError(t('polls.needQuestion'));
      $('poll-question').focus();
      return;
    }
    /** @type {PollStart} */
    const data = { question: q, kind };
    if (kind === 'letters') data.letters = Number(/** @type {HTMLSelectElement} */ ($('poll-letters')).value);
    if (kind === 'custom') {
      const opts = /** @type {HTMLTextAreaElement} */ ($('poll-options')).value.split('\n').map((s) => s.trim()).filter(Boolean);
      if (opts.length < 2 || opts.length > 10) {
        this.formError(t('polls.needOptions'));
        $('poll-options').focus();
        return;
      }
      data.options = opts;
    }
    // The result in chat and on the page reads in the asker's language.
    const keys = { yesno: ['yes', 'no'], yesnoabstain: ['yes', 'no', 'abstain'], truefalse: ['true', 'false'] }[kind];
    if (keys) data.labels = keys.map((k) => optionLabel(kind, k));
    if (/** @type {HTMLInputElement} */ ($('poll-multiple')).checked && kind !== 'text') data.multiple = true;
    if (/** @type {HTMLInputElement} */ ($('poll-anonymous')).checked) data.anonymous = true;
    this.conn.request(ClientType.POLL_START, data).then(() => {
      this.formError('');
      /** @type {HTMLInputElement} */ ($('poll-question')).value = '';
    }, (e) => this.formError(this.act.explain(e)));
  }

  /** @private @param {string} text */
  formError(text) {
    const el = $('poll-error');
    el.textContent = text;
    el.hidden = !text;
  }

  /** @private @param {{choices?: number[], text?: string}} answer */
  vote(answer) {
    const p = this.poll;
    if (!p || this.sending) return;
    this.sending = true;
    this.conn.request(ClientType.POLL_VOTE, { poll: p.id, ...answer }).then(() => {
      this.mine.set(p.id, answer);
      this.voteError('');
    }, (e) => this.voteError(this.act.explain(e))).finally(() => {
      this.sending = false;
      const inside = document.activeElement && $('poll-current').contains(document.activeElement);
      this.render();
      const mineEl = $('poll-mine');
      if (inside && mineEl && !$('poll-current').contains(document.activeElement)) mineEl.focus();
    });
  }

  /** @private @param {string} text */
  voteError(text) {
    this.lastError = text;
    const el = document.getElementById('poll-vote-error');
    if (el) {
      el.textContent = text;
      el.hidden = !text;
    }
  }

  /** @private @param {'poll.stop'|'poll.publish'} type */
  control(type) {
    this.conn.request(type).catch((e) => this.voteError(this.act.explain(e)));
  }

  render() {
    const self = this.store.state.self;
    if (!self) return;
    const asker = mayAsk(self);
    $('poll-form').hidden = !asker;
    const box = $('poll-current');
    keepFocus(box, () => box.replaceChildren(...this.current(asker)));
    if (this.act.visible()) this.setUnseen(false);
  }

  /** @private @param {boolean} asker @returns {HTMLElement[]} */
  current(asker) {
    const p = this.poll;
    if (!p) return asker ? [] : [h('p', { class: 'muted', text: t('polls.none') })];
    const status = p.status === 'open' ? t('polls.statusOpen') : p.status === 'stopped' ? t('polls.statusStopped') : t('polls.statusPublished');
    /** @type {HTMLElement[]} */
    const out = [
      h('h3', { class: 'poll-question', id: 'poll-question-title', text: p.question }),
      h('p', { class: 'poll-meta' },
        h('span', { class: 'poll-status poll-' + p.status, text: status }),
        p.anonymous && h('span', { class: 'poll-anon', text: t('polls.anonymousBadge') }),
        p.multiple && h('span', { text: t('polls.severalAllowed') })),
    ];
    const mine = this.mine.get(p.id);
    if (!asker && p.status === 'open' && !p.voted) out.push(this.answerForm(p));
    // Those who ask do not answer (and get the voter's own view of a vote
    // besides their own: it is not theirs to show).
    if (!asker && (p.voted || mine)) out.push(this.ownAnswer(p, mine));
    if (!asker && p.status !== 'open' && !p.voted) out.push(h('p', { class: 'muted', text: t('polls.closed') }));
    if (p.counts || (p.kind === 'text' && p.texts)) out.push(this.results(p, asker));
    else if (!asker && p.status !== 'published') out.push(h('p', { class: 'muted small', text: t('polls.resultLater') }));
    out.push(h('p', { id: 'poll-vote-error', class: 'error', role: 'alert', hidden: !this.lastError, text: this.lastError || '' }));
    if (asker) {
      out.push(h('div', { class: 'poll-actions' },
        p.status === 'open' && h('button', {
          type: 'button', class: 'btn', 'data-focus-key': 'stop', text: t('polls.stop'), 'aria-label': t('polls.stop'),
          onclick: () => this.control(ClientType.POLL_STOP),
        }),
        p.status !== 'published' && h('button', {
          type: 'button', class: 'btn primary', 'data-focus-key': 'publish', id: 'poll-publish', text: t('polls.publish'), 'aria-label': t('polls.publish'),
          onclick: () => this.control(ClientType.POLL_PUBLISH),
        })));
    }
    return out;
  }

  /** @private @param {PollState} p */
  answerForm(p) {
    if (p.kind === 'text') {
      const input = /** @type {HTMLInputElement} */ (h('input', { id: 'poll-answer-text', type: 'text', maxlength: '300', autocomplete: 'off', 'data-focus-key': 'text' }));
      return h('form', {
        class: 'poll-answer', 'aria-labelledby': 'poll-question-title',
        onsubmit: (/** @type {Event} */ ev) => {
          ev.preventDefault();
          const text = input.value.trim();
          if (text) this.vote({ text });
        },
      },
      h('label', { for: 'poll-answer-text', class: 'visually-hidden', text: t('polls.yourAnswer') }),
      input,
      h('button', { type: 'submit', class: 'btn primary', text: t('polls.send'), 'aria-label': t('polls.send'), 'data-focus-key': 'send' }));
    }
    if (!p.multiple) {
      return h('div', { class: 'poll-answer poll-choices', role: 'group', 'aria-labelledby': 'poll-question-title' },
        ...p.options.map((o, i) => h('button', {
          type: 'button', class: 'btn poll-option', 'data-focus-key': 'opt' + i, 'data-option': String(i),
          text: optionLabel(p.kind, o), 'aria-label': optionLabel(p.kind, o),
          onclick: () => this.vote({ choices: [i] }),
        })));
    }
    const boxes = p.options.map((o, i) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', value: String(i), 'data-focus-key': 'opt' + i }), ' ', optionLabel(p.kind, o)));
    return h('form', {
      class: 'poll-answer poll-choices', 'aria-labelledby': 'poll-question-title',
      onsubmit: (/** @type {Event} */ ev) => {
        ev.preventDefault();
        const form = /** @type {HTMLFormElement} */ (ev.currentTarget);
        const choices = [...form.querySelectorAll('input:checked')].map((x) => Number(/** @type {HTMLInputElement} */ (x).value));
        if (choices.length) this.vote({ choices });
      },
    }, ...boxes, h('button', { type: 'submit', class: 'btn primary', text: t('polls.send'), 'aria-label': t('polls.send'), 'data-focus-key': 'send' }));
  }

  /** @private @param {PollState} p @param {{choices?: number[], text?: string}|undefined} mine */
  ownAnswer(p, mine) {
    const choices = (p.mine && p.mine.length ? p.mine : mine && mine.choices) || [];
    const text = p.mineText || (mine && mine.text) || '';
    const what = p.kind === 'text' ? text : choices.map((i) => optionLabel(p.kind, p.options[i] || '')).join(', ');
    return h('p', { class: 'poll-mine', id: 'poll-mine', tabindex: '-1' }, what ? t('polls.yourAnswerWas', { answer: what }) : t('polls.answered'));
  }

  /** @private @param {PollState} p @param {boolean} asker */
  results(p, asker) {
    const total = p.total || 0;
    const nameOf = (/** @type {string} */ id) => this.store.nameOf(id) || t('polls.someone');
    /** @type {HTMLElement[]} */
    const items = [];
    if (p.kind === 'text') {
      (p.texts || []).forEach((text, i) => {
        const who = p.textVoters && p.textVoters[i];
        items.push(h('li', { class: 'poll-text' }, text, who && h('span', { class: 'poll-voters', text: ' – ' + nameOf(who) })));
      });
    } else {
      p.options.forEach((o, i) => {
        const n = (p.counts && p.counts[i]) || 0;
        const pct = total > 0 ? Math.round((n * 100) / total) : 0;
        const voters = p.voters && p.voters[i];
        const bar = h('span', { class: 'poll-bar', 'aria-hidden': 'true' }, h('span', { class: 'poll-fill' }));
        /** @type {HTMLElement} */ (bar.firstElementChild).style.width = pct + '%';
        items.push(h('li', { class: 'poll-result', 'data-option': String(i) },
          h('span', { class: 'poll-label' },
            h('span', { class: 'poll-option-name', text: optionLabel(p.kind, o) }),
            h('span', { class: 'poll-count', text: t('polls.count', { count: n, percent: pct }) })),
          bar,
          voters && voters.length > 0 && h('span', { class: 'poll-voters', text: voters.map(nameOf).join(', ') })));
      });
    }
    return h('section', { class: 'poll-results', 'aria-label': t('polls.results') },
      h('h4', { class: 'poll-results-title', text: asker && p.status !== 'published' ? t('polls.liveResults') : t('polls.results') }),
      h('ul', { class: 'poll-result-list' }, ...items),
      h('p', { class: 'poll-total', text: t('polls.total', { count: total }) }));
  }
}

// The chat panel: the public chat and one thread per private
// conversation (as in BigBlueButton), unread counts, a moderator's
// "clear the public chat", and saving the public chat as a text file made
// in the browser. The recipient is the thread one chose: it never changes
// by itself.
import { $, h } from './dom.js';
import { t, formatClock, language } from '../i18n.js';

/**
 * @typedef {import('../protocol.js').ChatMessage} ChatMessage
 * @typedef {import('../store.js').Store} Store
 * @typedef {{send: (text: string, to?: string) => Promise<any>, clear: () => Promise<any>,
 *   explain: (e: any) => string, visible: () => boolean, unread: (n: number) => void}} ChatActions
 */

/** The thread a line belongs to: '' for public, else the other person's id. @param {ChatMessage} m @param {string} selfId */
export function threadOf(m, selfId) {
  if (!m.to) return '';
  return m.from === selfId ? m.to : m.from;
}

/**
 * The public chat as plain text, one line per message.
 * @param {ChatMessage[]} lines
 * @param {string} title
 */
export function chatText(lines, title) {
  const out = [title, ''];
  for (const m of lines) {
    if (m.to) continue;
    out.push(`[${formatClock(m.time)}] ${m.system ? t('chat.system') : m.fromName || t('chat.anonymous')}: ${m.text}`);
  }
  return out.join('\n') + '\n';
}

export class Chat {
  /** @param {Store} store @param {ChatActions} act */
  constructor(store, act) {
    this.store = store;
    this.act = act;
    /** @type {string} the thread shown: '' public, else a participant id */
    this.thread = '';
    /** @type {Map<string, number>} unread lines by thread */
    this.unread = new Map();
    /** @type {Map<string, string>} names of private partners (kept after they leave) */
    this.names = new Map();
    /** @type {string[]} private threads in the order they started */
    this.threads = [];
    $('chat-form').addEventListener('submit', (/** @type {Event} */ ev) => {
      ev.preventDefault();
      this.send();
    });
    $('chat-save').addEventListener('click', () => this.save());
    $('chat-clear').addEventListener('click', () => act.clear().catch((e) => this.error(act.explain(e))));
    store.on('chat', () => this.render());
    store.on('roster', () => this.renderHead());
    store.on('self', () => this.renderHead());
    store.on('meeting', () => this.renderHead());
  }

  /** Opens a private thread with someone (from the participants panel). @param {string} id @param {string} name */
  openPrivate(id, name) {
    this.names.set(id, name);
    if (!this.threads.includes(id)) this.threads.push(id);
    this.show(id);
  }

  /** @param {string} thread */
  show(thread) {
    this.thread = thread;
    this.unread.delete(thread);
    this.render();
    this.reportUnread();
  }

  /** The chat became visible (tab, drawer): what it shows is read. */
  seen() {
    if (!this.act.visible()) return;
    this.unread.delete(this.thread);
    this.renderHead();
    this.reportUnread();
  }

  /** A new line arrived (not from the welcome). @param {ChatMessage} m */
  arrived(m) {
    const self = this.store.state.self;
    if (!self) return;
    const th = threadOf(m, self.id);
    if (th) {
      this.names.set(th, m.from === self.id ? this.store.nameOf(th) || this.names.get(th) || '' : m.fromName);
      if (!this.threads.includes(th)) this.threads.push(th);
    }
    const mine = m.from === self.id;
    if (!mine && !(th === this.thread && this.act.visible())) {
      this.unread.set(th, (this.unread.get(th) || 0) + 1);
    }
    this.reportUnread();
  }

  /** Everything starts afresh (welcome). */
  reset() {
    const self = this.store.state.self;
    this.unread.clear();
    this.threads = [];
    if (self) {
      for (const m of this.store.state.chat) {
        const th = threadOf(m, self.id);
        if (th && !this.threads.includes(th)) {
          this.threads.push(th);
          this.names.set(th, m.from === self.id ? this.store.nameOf(th) : m.fromName);
        }
      }
    }
    if (this.thread && !this.threads.includes(this.thread)) this.thread = '';
    this.reportUnread();
  }

  /** @private */
  reportUnread() {
    let n = 0;
    for (const v of this.unread.values()) n += v;
    const pill = $('chat-unread');
    pill.hidden = n === 0;
    pill.textContent = String(n);
    pill.setAttribute('aria-label', t('chat.unread', { count: n }));
    pill.setAttribute('role', 'img');
    $('tab-chat').setAttribute('aria-label', n > 0 ? t('tab.chatUnread', { unread: t('chat.unread', { count: n }) }) : t('tab.chat'));
    this.act.unread(n);
  }

  /** @private */
  canWrite() {
    const lock = this.store.lock;
    if (this.store.isModerator) return true;
    if (!this.thread) return !lock.disablePublicChat;
    if (!lock.disablePrivChat) return true;
    const p = this.store.state.roster.get(this.thread);
    return !!p && p.role === 'MODERATOR';
  }

  renderHead() {
    const st = this.store.state;
    if (!st.self) return;
    const isMod = this.store.isModerator;
    $('chat-clear').hidden = !isMod;
    const threads = $('threads');
    const focusedThread = document.activeElement && threads.contains(document.activeElement)
      ? document.activeElement.getAttribute('data-thread') : null;
    const btn = (/** @type {string} */ id, /** @type {string} */ label) => {
      const n = this.unread.get(id) || 0;
      const name = n > 0 ? label + ' · ' + t('chat.unread', { count: n }) : label;
      return h('button', {
        type: 'button', class: 'chip', 'data-thread': id, 'aria-pressed': String(this.thread === id), 'aria-label': name,
        onclick: () => this.show(id),
      }, label, n > 0 && h('span', { class: 'pill', 'aria-hidden': 'true', text: String(n) }));
    };
    threads.replaceChildren(btn('', t('chat.public')), ...this.threads.map((id) => btn(id, this.names.get(id) || this.store.nameOf(id) || t('chat.someone'))));
    if (focusedThread !== null) {
      const el = threads.querySelector(`[data-thread="${CSS.escape(focusedThread)}"]`);
      if (el) el.focus();
    }
    const partner = this.thread ? (this.names.get(this.thread) || this.store.nameOf(this.thread) || t('chat.someone')) : '';
    $('chat-thread-title').textContent = this.thread ? t('chat.privateWith', { name: partner }) : '';
    $('chat-thread-title').hidden = !this.thread;
    const input = $('chat-input');
    const ok = this.canWrite() && (!this.thread || st.roster.has(this.thread));
    input.disabled = !ok;
    $('chat-send').disabled = !ok;
    const ph = !ok ? (this.thread && !st.roster.has(this.thread) ? t('chat.partnerLeft') : t('chat.locked'))
      : this.thread ? t('chat.placeholderPrivate', { name: partner }) : t('chat.placeholder');
    input.placeholder = ph;
    $('chat-input-label').textContent = ph;
  }

  render() {
    const st = this.store.state;
    const self = st.self;
    if (!self) return;
    this.renderHead();
    const log = $('chat-log');
    const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    /** @type {HTMLElement[]} */
    const items = [];
    if (!this.thread && st.meeting && st.meeting.welcome) {
      items.push(h('li', { class: 'line system' }, h('span', { class: 'text', text: st.meeting.welcome })));
    }
    for (const m of st.chat) {
      if (threadOf(m, self.id) !== this.thread) continue;
      items.push(this.line(m, self.id));
    }
    $('chat-lines').replaceChildren(...items);
    if (atEnd || items.length < 3) log.scrollTop = log.scrollHeight;
  }

  /** @private @param {ChatMessage} m @param {string} selfId */
  line(m, selfId) {
    if (m.system) {
      // A line of the meeting itself (a poll's result).
      return h('li', { class: 'line system from-meeting', 'data-id': m.id },
        h('span', { class: 'meta' },
          h('span', { class: 'from', text: t('chat.system') }),
          h('time', { datetime: m.time, text: formatClock(m.time) })),
        h('span', { class: 'text', text: m.text }));
    }
    const mine = m.from === selfId;
    return h('li', { class: 'line' + (m.to ? ' is-private' : '') + (mine ? ' mine' : ''), 'data-id': m.id },
      h('span', { class: 'meta' },
        h('span', { class: 'from' + (m.fromName ? '' : ' anonymous'), text: m.fromName || t('chat.anonymous') }),
        m.to && h('span', { class: 'private', text: mine ? t('chat.privateTo', { name: this.names.get(m.to) || this.store.nameOf(m.to) }) : t('chat.privateToYou') }),
        h('time', { datetime: m.time, text: formatClock(m.time) })),
      h('span', { class: 'text', text: m.text }),
    );
  }

  /** @private */
  send() {
    const input = $('chat-input');
    const text = input.value.trim();
    if (!text) return;
    const to = this.thread || undefined;
    this.act.send(text, to).then(() => {
      input.value = '';
      this.error('');
    }, (e) => this.error(this.act.explain(e)));
  }

  /** @param {string} text */
  error(text) {
    const el = $('chat-error');
    el.textContent = text;
    el.hidden = !text;
  }

  /** Saves the public chat as a text file (made here; nothing is stored). */
  save() {
    const st = this.store.state;
    const name = (st.meeting && st.meeting.name) || t('meeting.unnamed');
    const when = new Intl.DateTimeFormat(language(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date());
    const blob = new Blob([chatText(st.chat, t('chat.fileTitle', { name, when }))], { type: 'text/plain;charset=utf-8' });
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: t('chat.fileName') + '-' + new Date().toISOString().slice(0, 10) + '.txt', hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }
}

// The shared notes panel: a textarea kept in step with everyone's edits by
// js/notes-ot.js, Markdown formatting buttons that make operations, undo
// and redo of one's own edits, who is editing with their cursors (drawn
// in a mirror behind the transparent textarea), the size cap, the lock
// for viewers, and the moderators' export and "copy to the whiteboard".
import { $, h } from './dom.js';
import { t } from '../i18n.js';
import { ClientType, ServerType, ErrorCode } from '../protocol.js';
import { NotesClient, diff, lengths, transformIndex, fromEdits, MAX_NOTES } from '../notes-ot.js';

/**
 * @typedef {import('../store.js').Store} Store
 * @typedef {import('../protocol.js').Connection} Connection
 * @typedef {import('../notes-ot.js').TextOp} TextOp
 * @typedef {{pos: number, end: number, at: number}} Cursor
 * @typedef {{explain: (e: any) => string}} NotesActions
 */

/** Someone counts as editing for this long after their last edit or cursor move. */
const EDITING_MS = 30000;
/** Cursor reports are sent at most this often. */
const CURSOR_MS = 250;

/** A stable colour class (0–7) for a participant. @param {string} id */
export function colorOf(id) {
  let x = 0;
  for (let i = 0; i < id.length; i++) x = (x * 31 + id.charCodeAt(i)) >>> 0;
  return x % 8;
}

/**
 * Where the caret goes after an operation: the end of its last change.
 * @param {TextOp} op
 */
function caretAfter(op) {
  let i = 0;
  let last = 0;
  for (const c of op) {
    if (typeof c === 'string') {
      i += c.length;
      last = i;
    } else if (c > 0) i += c;
    else last = i;
  }
  return last;
}

export class Notes {
  /** @param {Store} store @param {Connection} conn @param {NotesActions} act */
  constructor(store, conn, act) {
    this.store = store;
    this.conn = conn;
    this.act = act;
    this.ta = /** @type {HTMLTextAreaElement} */ ($('notes-text'));
    this.mirror = $('notes-mirror');
    this.client = new NotesClient({ send: (rev, op) => this.send(rev, op) });
    this.started = false;
    /** @type {Map<string, Cursor>} others' cursors in this.client.text */
    this.cursors = new Map();
    /** @type {Map<string, number>} when each other person last edited */
    this.edited = new Map();
    this.cursorTimer = 0;
    this.lastCursor = '';
    this.frame = 0;

    conn.on(ServerType.WELCOME, (w) => queueMicrotask(() => this.welcome(w)));
    conn.on(ServerType.NOTES_OP, (d) => this.receive({ rev: d.rev, op: d.op, author: d.author }));
    conn.on(ServerType.NOTES_ACK, (d) => this.receive({ rev: d.rev }));
    conn.on(ServerType.NOTES_STATE, (d) => {
      this.client.reset(d.rev, d.text);
      this.show(this.ta.selectionStart, this.ta.selectionEnd);
    });
    conn.on(ServerType.NOTES_CURSOR, (d) => this.cursor(d));
    store.on('meeting', () => this.renderAccess());
    store.on('self', () => this.renderAccess());
    store.on('roster', () => {
      for (const id of [...this.cursors.keys()]) if (!store.state.roster.has(id)) this.cursors.delete(id);
      this.renderPresence();
      this.paint();
    });

    const ta = this.ta;
    ta.addEventListener('input', () => this.input());
    ta.addEventListener('beforeinput', (/** @type {InputEvent} */ ev) => {
      if (ev.inputType === 'historyUndo' || ev.inputType === 'historyRedo') {
        ev.preventDefault();
        this.undo(ev.inputType === 'historyRedo');
      }
    });
    ta.addEventListener('keydown', (/** @type {KeyboardEvent} */ ev) => this.key(ev));
    ta.addEventListener('scroll', () => {
      this.mirror.scrollTop = ta.scrollTop;
    });
    ta.addEventListener('focus', () => this.scheduleCursor());
    document.addEventListener('selectionchange', () => {
      if (document.activeElement === ta) this.scheduleCursor();
    });
    if (typeof ResizeObserver === 'function') new ResizeObserver(() => this.paint()).observe(ta);
    $('notes-heading').addEventListener('click', () => this.format('heading'));
    $('notes-bold').addEventListener('click', () => this.format('bold'));
    $('notes-italic').addEventListener('click', () => this.format('italic'));
    $('notes-list').addEventListener('click', () => this.format('list'));
    $('notes-undo').addEventListener('click', () => this.undo(false));
    $('notes-redo').addEventListener('click', () => this.undo(true));
    $('notes-board').addEventListener('click', () => this.toBoard());
    setInterval(() => this.renderPresence(), 5000);
    // A revision missing for long (never delivered): start again from the server's text.
    setInterval(() => {
      if (this.client.stalled(3000)) this.resync();
    }, 1000);
  }

  /** @private @param {import('../protocol.js').Welcome} w */
  welcome(w) {
    if (w.lobby) return;
    const n = (w.features && w.features.notes) || { rev: 0, text: '' };
    const start = this.ta.selectionStart;
    const end = this.ta.selectionEnd;
    if (!this.started) {
      this.started = true;
      this.client.reset(n.rev, n.text);
    } else if (this.client.resume(n.rev, n.text) === 'lost') {
      this.error(t('notes.lost'));
    }
    this.cursors.clear();
    this.show(start, end);
    this.renderAccess();
  }

  /** @private @param {number} rev @param {TextOp} op */
  send(rev, op) {
    this.conn.request(ClientType.NOTES_EDIT, { rev, op }).catch((e) => {
      if (e && e.code === ErrorCode.DISCONNECTED) return; // the next welcome resumes
      if (e && e.code === ErrorCode.CONFLICT) this.error(t('notes.conflict'));
      else if (e && e.code === ErrorCode.FORBIDDEN) this.error(t('notes.lockedError'));
      else if (e && e.code === ErrorCode.BAD_REQUEST && lengths(op).target >= MAX_NOTES - 1000) this.error(t('notes.full', { max: MAX_NOTES }));
      else this.error(this.act.explain(e));
      this.resync();
    });
  }

  /** @private The server's text again (after a refusal or a step out of line). */
  resync() {
    this.client.startSync();
    this.conn.request(ClientType.NOTES_SYNC).catch(() => {});
  }

  /** @private A notes.op or notes.ack. @param {{rev: number, op?: TextOp, author?: string}} m */
  receive(m) {
    const { ok, applied } = this.client.receive(m);
    const ta = this.ta;
    let start = ta.selectionStart;
    let end = ta.selectionEnd;
    for (const a of applied) {
      start = transformIndex(start, a.op);
      end = transformIndex(end, a.op);
      for (const [id, c] of this.cursors) {
        const own = id === a.author;
        c.pos = transformIndex(c.pos, a.op, own);
        c.end = transformIndex(c.end, a.op, own);
      }
      if (a.author) this.edited.set(a.author, Date.now());
    }
    if (applied.length) {
      this.show(start, end);
      this.renderPresence();
    }
    if (!ok) this.resync();
    else this.afterChange();
  }

  /** @private @param {{id: string, rev: number, pos: number, end: number}} d */
  cursor(d) {
    if (!d.id || (this.store.state.self && d.id === this.store.state.self.id)) return;
    const pos = this.client.fromServer(d.rev, d.pos);
    const end = this.client.fromServer(d.rev, d.end);
    if (pos < 0 || end < 0) return;
    this.cursors.set(d.id, { pos, end, at: Date.now() });
    this.edited.set(d.id, Date.now());
    this.renderPresence();
    this.paint();
  }

  /** @private The textarea changed by typing, pasting, cutting, dropping. */
  input() {
    const ta = this.ta;
    const before = this.client.text;
    const now = ta.value;
    const op = diff(before, now, ta.selectionEnd);
    if (!op) return;
    if (this.locked() || this.client.syncing || lengths(op).target > MAX_NOTES) {
      const back = Math.max(0, ta.selectionEnd - (now.length - before.length));
      ta.value = before;
      ta.setSelectionRange(back, back);
      if (lengths(op).target > MAX_NOTES) this.error(t('notes.full', { max: MAX_NOTES }));
      return;
    }
    this.localMoved(op);
    this.client.local(op, { undo: 'group' });
    this.error('');
    this.afterChange();
  }

  /** @private Others' cursors follow one's own edit. @param {TextOp} op */
  localMoved(op) {
    for (const c of this.cursors.values()) {
      c.pos = transformIndex(c.pos, op);
      c.end = transformIndex(c.end, op);
    }
  }

  /** @private @param {KeyboardEvent} ev */
  key(ev) {
    if (!(ev.ctrlKey || ev.metaKey) || ev.altKey) return;
    const k = ev.key.toLowerCase();
    if (k === 'z' || k === 'y') {
      ev.preventDefault();
      this.undo(k === 'y' || ev.shiftKey);
    } else if (k === 'b' || k === 'i') {
      ev.preventDefault();
      this.format(k === 'b' ? 'bold' : 'italic');
    }
  }

  /** @private @param {boolean} redo */
  undo(redo) {
    if (this.locked() || this.client.syncing) return;
    const op = this.client.undo(redo);
    if (!op) return;
    this.localMoved(op);
    const at = caretAfter(op);
    this.show(at, at);
    this.ta.focus();
    this.afterChange();
  }

  /**
   * Markdown formatting of the selection as one edit.
   * @param {'heading'|'bold'|'italic'|'list'} kind
   */
  format(kind) {
    if (this.locked() || this.client.syncing) return;
    const ta = this.ta;
    const text = this.client.text;
    const s = ta.selectionStart;
    const e = ta.selectionEnd;
    /** @type {{at: number, del?: number, ins?: string}[]} */
    let edits = [];
    let sel = [s, e];
    if (kind === 'bold' || kind === 'italic') {
      const m = kind === 'bold' ? '**' : '_';
      if (s >= m.length && text.slice(s - m.length, s) === m && text.slice(e, e + m.length) === m) {
        edits = [{ at: s - m.length, del: m.length }, { at: e, del: m.length }];
        sel = [s - m.length, e - m.length];
      } else {
        edits = [{ at: s, ins: m }, { at: e, ins: m }];
        sel = [s + m.length, e + m.length];
      }
    } else {
      const starts = [text.lastIndexOf('\n', s - 1) + 1];
      const last = e > s && text[e - 1] === '\n' ? e - 1 : e;
      for (let i = text.indexOf('\n', starts[0]); i >= 0 && i < last; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
      if (kind === 'heading') starts.length = 1;
      const re = kind === 'heading' ? /^#{1,6} / : /^[-*] /;
      const has = starts.map((at) => re.exec(text.slice(at, at + 8)));
      if (has.every((m) => m)) edits = starts.map((at, i) => ({ at, del: has[i][0].length }));
      else edits = starts.filter((_, i) => !has[i]).map((at) => ({ at, ins: kind === 'heading' ? '# ' : '- ' }));
    }
    const op = fromEdits(text.length, edits);
    if (lengths(op).target > MAX_NOTES) {
      this.error(t('notes.full', { max: MAX_NOTES }));
      return;
    }
    if (kind === 'heading' || kind === 'list') sel = [transformIndex(s, op, true), transformIndex(e, op, true)];
    this.localMoved(op);
    this.client.local(op, { undo: 'single' });
    this.show(sel[0], sel[1]);
    ta.focus();
    this.afterChange();
  }

  /** @private Puts the client's text into the textarea, keeping the selection and scroll. @param {number} start @param {number} end */
  show(start, end) {
    const ta = this.ta;
    if (ta.value !== this.client.text) {
      const top = ta.scrollTop;
      ta.value = this.client.text;
      ta.scrollTop = top;
    }
    const len = ta.value.length;
    ta.setSelectionRange(Math.min(start, len), Math.min(end, len));
    this.renderButtons();
    this.paint();
  }

  /** @private */
  afterChange() {
    this.renderButtons();
    this.paint();
    this.scheduleCursor();
  }

  /** @private One's cursor for the others, when one's edits have arrived. */
  scheduleCursor() {
    if (this.cursorTimer) return;
    this.cursorTimer = setTimeout(() => {
      this.cursorTimer = 0;
      this.sendCursor();
    }, CURSOR_MS);
  }

  /** @private */
  sendCursor() {
    const ta = this.ta;
    if (document.activeElement !== ta || !this.conn.connected || this.locked()) return;
    if (!this.client.synced || this.client.syncing) {
      this.scheduleCursor();
      return;
    }
    const data = { rev: this.client.rev, pos: ta.selectionStart, end: ta.selectionEnd };
    const key = `${data.rev}:${data.pos}:${data.end}`;
    if (key === this.lastCursor) return;
    this.lastCursor = key;
    this.conn.request(ClientType.NOTES_CURSOR, data).catch(() => {});
  }

  /** @private Whether one may not edit (a viewer under the notes lock). */
  locked() {
    return !this.store.isModerator && !!this.store.lock.disableNotes;
  }

  /** @private */
  renderAccess() {
    const st = this.store.state;
    if (!st.self) return;
    const locked = this.locked();
    this.ta.readOnly = locked;
    this.ta.classList.toggle('locked', locked);
    $('notes-locked').hidden = !locked;
    const mod = this.store.isModerator;
    const board = mod || st.self.presenter;
    $('notes-mod').hidden = !board;
    for (const id of ['notes-export-label', 'notes-export-txt', 'notes-export-md', 'notes-export-html', 'notes-export-pdf']) $(id).hidden = !mod;
    this.renderButtons();
  }

  /** @private */
  renderButtons() {
    const locked = this.locked();
    for (const id of ['notes-heading', 'notes-bold', 'notes-italic', 'notes-list']) $(id).disabled = locked;
    $('notes-undo').disabled = locked || !this.client.canUndo;
    $('notes-redo').disabled = locked || !this.client.canRedo;
  }

  /** @private Who else is editing now. */
  renderPresence() {
    const st = this.store.state;
    const now = Date.now();
    const names = [];
    for (const [id, at] of this.edited) {
      if (now - at > EDITING_MS || (st.self && id === st.self.id)) continue;
      const name = this.store.nameOf(id);
      if (name) names.push({ id, name });
    }
    const el = $('notes-presence');
    el.hidden = names.length === 0;
    el.replaceChildren(...(names.length === 0 ? [] : [
      h('span', { class: 'notes-presence-label', text: t('notes.editing') }),
      ...names.map((n) => h('span', { class: 'notes-who nc' + colorOf(n.id) }, h('span', { class: 'notes-dot', 'aria-hidden': 'true' }), n.name)),
    ]));
    let stale = false;
    for (const [id, c] of this.cursors) {
      if (now - c.at > EDITING_MS * 2) {
        this.cursors.delete(id);
        stale = true;
      }
    }
    if (stale) this.paint();
  }

  /** @private Draws the others' cursors in the mirror (on the next frame). */
  paint() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.drawMirror();
    });
  }

  /** @private */
  drawMirror() {
    const ta = this.ta;
    const mirror = this.mirror;
    const text = this.client.text;
    const marks = [];
    for (const [id, c] of this.cursors) {
      const name = this.store.nameOf(id);
      if (!name) continue;
      marks.push({ id, name, pos: Math.min(c.pos, c.end, text.length), end: Math.min(Math.max(c.pos, c.end), text.length) });
    }
    if (marks.length === 0 || ta.clientWidth === 0) {
      mirror.replaceChildren();
      return;
    }
    // The mirror wraps lines as the textarea does: same width without its scroll bar.
    const cs = getComputedStyle(ta);
    mirror.style.width = (ta.clientWidth + parseFloat(cs.borderLeftWidth) + parseFloat(cs.borderRightWidth)) + 'px';
    marks.sort((a, b) => a.end - b.end);
    /** @type {(Node|string)[]} */
    const out = [];
    let i = 0;
    for (const m of marks) {
      // A selection is drawn when it does not cross what is drawn already.
      if (m.pos < m.end && m.pos >= i) {
        out.push(text.slice(i, m.pos));
        out.push(h('span', { class: 'notes-sel nc' + colorOf(m.id) }, text.slice(m.pos, m.end)));
        i = m.end;
      } else if (m.end > i) {
        out.push(text.slice(i, m.end));
        i = m.end;
      }
      out.push(h('span', { class: 'notes-caret nc' + colorOf(m.id), 'data-name': m.name }));
    }
    out.push(text.slice(i, Math.min(text.length, i + 200)));
    mirror.replaceChildren(...out);
    mirror.scrollTop = ta.scrollTop;
  }

  /** @private */
  toBoard() {
    if (!this.client.text.trim()) {
      this.error(t('notes.emptyBoard'));
      return;
    }
    this.conn.request(ClientType.NOTES_TO_BOARD).then(() => this.error(''), (e) => this.error(this.act.explain(e)));
  }

  /** @param {string} text */
  error(text) {
    const el = $('notes-error');
    el.textContent = text;
    el.hidden = !text;
  }
}

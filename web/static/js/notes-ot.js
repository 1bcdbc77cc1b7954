// The shared notes' operational transformation on the client (no DOM):
// operations, their transform and composition (the same rules as the
// server's room/ot.go), and the client's state machine in the model of
// ot.js: one operation in flight against a revision, later edits composed
// into a buffer, incoming operations transformed over both, an undo stack
// of one's own edits transformed forward. Positions count UTF-16 code
// units, as JavaScript strings do. docs/protocol.md, "Shared notes".

/**
 * An operation over the whole text: a positive number keeps that many
 * units, a negative one deletes that many, a string inserts itself.
 * @typedef {(number|string)[]} TextOp
 */

/** The notes hold at most this many UTF-16 units (room.MaxNotesUnits). */
export const MAX_NOTES = 100000;

/** @param {number|string} c */
const isInsert = (c) => typeof c === 'string';
/** @param {number|string} c */
const isRetain = (c) => typeof c === 'number' && c > 0;
/** @param {number|string} c */
const isDelete = (c) => typeof c === 'number' && c < 0;

/** @param {number} u a UTF-16 unit */
const isHigh = (u) => u >= 0xd800 && u < 0xdc00;
/** @param {number} u */
const isLow = (u) => u >= 0xdc00 && u < 0xe000;

/**
 * Merges neighbouring components of a kind and drops empty ones.
 * @param {TextOp} op
 * @returns {TextOp}
 */
export function normalize(op) {
  /** @type {TextOp} */
  const out = [];
  for (const c of op) {
    if (c === '' || c === 0) continue;
    const n = out.length;
    if (n > 0) {
      const last = out[n - 1];
      if (isInsert(c) && isInsert(last)) {
        out[n - 1] = /** @type {string} */ (last) + c;
        continue;
      }
      if (!isInsert(c) && !isInsert(last) && (/** @type {number} */ (c) > 0) === (/** @type {number} */ (last) > 0)) {
        out[n - 1] = /** @type {number} */ (last) + /** @type {number} */ (c);
        continue;
      }
    }
    out.push(c);
  }
  return out;
}

/**
 * The length of text an operation applies to, and of what it makes.
 * @param {TextOp} op
 * @returns {{base: number, target: number}}
 */
export function lengths(op) {
  let base = 0;
  let target = 0;
  for (const c of op) {
    if (isInsert(c)) target += /** @type {string} */ (c).length;
    else if (isRetain(c)) {
      base += /** @type {number} */ (c);
      target += /** @type {number} */ (c);
    } else base -= /** @type {number} */ (c);
  }
  return { base, target };
}

/** Whether an operation changes nothing. @param {TextOp|null} op */
export function isNoop(op) {
  return !op || op.every(isRetain);
}

/**
 * Applies an operation to a text.
 * @param {string} text
 * @param {TextOp} op
 * @returns {string}
 */
export function apply(text, op) {
  const { base } = lengths(op);
  if (base !== text.length) throw new Error(`notes: an operation on ${base} units applied to ${text.length}`);
  const parts = [];
  let i = 0;
  for (const c of op) {
    if (isInsert(c)) parts.push(c);
    else if (isRetain(c)) {
      parts.push(text.slice(i, i + /** @type {number} */ (c)));
      i += /** @type {number} */ (c);
    } else i -= /** @type {number} */ (c);
  }
  return parts.join('');
}

/** Walks an operation's components, splitting them as asked. */
class Iter {
  /** @param {TextOp} op */
  constructor(op) {
    this.op = op;
    this.i = 0;
    this.off = 0;
  }

  done() {
    return this.i >= this.op.length;
  }

  /** The current component's remainder and its size. @returns {[number|string, number]} */
  peek() {
    const c = this.op[this.i];
    if (isInsert(c)) {
      const s = /** @type {string} */ (c).slice(this.off);
      return [s, s.length];
    }
    const n = /** @type {number} */ (c);
    if (n > 0) return [n - this.off, n - this.off];
    return [n + this.off, -n - this.off];
  }

  /** Consumes n units of the current component. @param {number} n @returns {number|string} */
  take(n) {
    const c = this.op[this.i];
    /** @type {number|string} */
    let out;
    let size;
    if (isInsert(c)) {
      out = /** @type {string} */ (c).slice(this.off, this.off + n);
      size = /** @type {string} */ (c).length;
    } else if (/** @type {number} */ (c) > 0) {
      out = n;
      size = /** @type {number} */ (c);
    } else {
      out = -n;
      size = -/** @type {number} */ (c);
    }
    this.off += n;
    if (this.off >= size) {
      this.i++;
      this.off = 0;
    }
    return out;
  }
}

/**
 * Transforms two operations made concurrently on the same text: returns
 * [a', b'] such that a then b' equals b then a' (a is the operation the
 * server applied first). At the same place b's insert comes first, as in
 * room.Transform.
 * @param {TextOp} a
 * @param {TextOp} b
 * @returns {[TextOp, TextOp]}
 */
export function transform(a, b) {
  if (lengths(a).base !== lengths(b).base) throw new Error('notes: concurrent operations on texts of different lengths');
  /** @type {TextOp} */
  const a2 = [];
  /** @type {TextOp} */
  const b2 = [];
  const ia = new Iter(a);
  const ib = new Iter(b);
  while (!ia.done() || !ib.done()) {
    // At equal places b's insert (the later one) goes first, as on the
    // server (room/ot.go): each typist's words stay whole.
    if (!ib.done()) {
      const [c, n] = ib.peek();
      if (isInsert(c)) {
        b2.push(ib.take(n));
        a2.push(n);
        continue;
      }
    }
    if (!ia.done()) {
      const [c, n] = ia.peek();
      if (isInsert(c)) {
        a2.push(ia.take(n));
        b2.push(n);
        continue;
      }
    }
    if (ia.done() || ib.done()) throw new Error('notes: operations of different lengths');
    const [ca, na] = ia.peek();
    const [cb, nb] = ib.peek();
    const n = Math.min(na, nb);
    ia.take(n);
    ib.take(n);
    if (isRetain(ca) && isRetain(cb)) {
      a2.push(n);
      b2.push(n);
    } else if (isDelete(ca) && isDelete(cb)) {
      // deleted by both
    } else if (isDelete(ca)) {
      a2.push(-n);
    } else {
      b2.push(-n);
    }
  }
  return [normalize(a2), normalize(b2)];
}

/**
 * The operation doing a then b.
 * @param {TextOp} a
 * @param {TextOp} b
 * @returns {TextOp}
 */
export function compose(a, b) {
  if (lengths(a).target !== lengths(b).base) throw new Error('notes: composing operations that do not follow each other');
  /** @type {TextOp} */
  const out = [];
  const ia = new Iter(a);
  const ib = new Iter(b);
  while (!ia.done() || !ib.done()) {
    if (!ia.done()) {
      const [c, n] = ia.peek();
      if (isDelete(c)) {
        out.push(ia.take(n));
        continue;
      }
    }
    if (!ib.done()) {
      const [c, n] = ib.peek();
      if (isInsert(c)) {
        out.push(ib.take(n));
        continue;
      }
    }
    if (ia.done() || ib.done()) throw new Error('notes: operations of different lengths');
    const [ca, na] = ia.peek();
    const [cb, nb] = ib.peek();
    const n = Math.min(na, nb);
    const pa = ia.take(n);
    ib.take(n);
    if (isDelete(cb)) {
      if (isRetain(ca)) out.push(-n);
    } else if (isInsert(ca)) {
      out.push(pa);
    } else {
      out.push(n);
    }
  }
  return normalize(out);
}

/**
 * The operation undoing op, which applies to text.
 * @param {TextOp} op
 * @param {string} text
 * @returns {TextOp}
 */
export function invert(op, text) {
  /** @type {TextOp} */
  const out = [];
  let i = 0;
  for (const c of op) {
    if (isInsert(c)) out.push(-/** @type {string} */ (c).length);
    else if (isRetain(c)) {
      out.push(c);
      i += /** @type {number} */ (c);
    } else {
      out.push(text.slice(i, i - /** @type {number} */ (c)));
      i -= /** @type {number} */ (c);
    }
  }
  return normalize(out);
}

/**
 * Where a position of the text lands after op. An insert exactly at the
 * position leaves it before the insert unless stickRight (one's caret
 * stays where one types while another types at the same place).
 * @param {number} pos
 * @param {TextOp} op
 * @param {boolean} [stickRight]
 * @returns {number}
 */
export function transformIndex(pos, op, stickRight = false) {
  let i = 0;
  let shift = 0;
  for (const c of op) {
    if (isInsert(c)) {
      if (i < pos || (i === pos && stickRight)) shift += /** @type {string} */ (c).length;
      else break;
    } else if (isRetain(c)) {
      i += /** @type {number} */ (c);
      if (i > pos) break;
    } else {
      if (i >= pos) break;
      const d = -/** @type {number} */ (c);
      shift -= Math.min(d, pos - i);
      i += d;
    }
  }
  return pos + shift;
}

/**
 * An operation made of edits at places of a text of length len.
 * @param {number} len
 * @param {{at: number, del?: number, ins?: string}[]} edits in order, not overlapping
 * @returns {TextOp}
 */
export function fromEdits(len, edits) {
  /** @type {TextOp} */
  const op = [];
  let i = 0;
  for (const e of edits) {
    op.push(e.at - i);
    if (e.del) op.push(-e.del);
    if (e.ins) op.push(e.ins);
    i = e.at + (e.del || 0);
  }
  op.push(len - i);
  return normalize(op);
}

/**
 * The operation that turns oldText into newText: one replaced range,
 * placed so that it ends at the cursor when the texts leave a choice
 * (typing "a" into "aa"), and never splitting a surrogate pair.
 * @param {string} oldText
 * @param {string} newText
 * @param {number} [cursor] where the caret is in newText after the edit
 * @returns {TextOp|null} null when nothing changed
 */
export function diff(oldText, newText, cursor) {
  if (oldText === newText) return null;
  const ol = oldText.length;
  const nl = newText.length;
  let maxSuffix = Math.min(ol, nl);
  if (typeof cursor === 'number' && cursor >= 0 && cursor <= nl) maxSuffix = Math.min(maxSuffix, nl - cursor);
  let s = 0;
  while (s < maxSuffix && oldText.charCodeAt(ol - 1 - s) === newText.charCodeAt(nl - 1 - s)) s++;
  const maxPrefix = Math.min(ol, nl) - s;
  let p = 0;
  while (p < maxPrefix && oldText.charCodeAt(p) === newText.charCodeAt(p)) p++;
  if (p > 0 && isHigh(oldText.charCodeAt(p - 1))) p--;
  if (s > 0 && (isLow(oldText.charCodeAt(ol - s)) || isLow(newText.charCodeAt(nl - s)))) s--;
  return normalize([p, -(ol - p - s), newText.slice(p, nl - s), s]);
}

/**
 * Transforms a stack of operations that apply one after another backwards
 * (an undo stack: the last applies to the text now) over op, which was
 * applied to the text now.
 * @param {TextOp[]} stack
 * @param {TextOp} op
 * @returns {TextOp[]}
 */
function transformStack(stack, op) {
  /** @type {TextOp[]} */
  const out = [];
  let o = op;
  for (let i = stack.length - 1; i >= 0; i--) {
    const [s2, o2] = transform(stack[i], o);
    if (!isNoop(s2)) out.push(s2);
    o = o2;
  }
  return out.reverse();
}

/**
 * @typedef {{
 *   send: (rev: number, op: TextOp) => void,
 *   minInterval?: number,
 *   now?: () => number,
 *   setTimer?: (fn: () => void, ms: number) => any,
 *   clearTimer?: (id: any) => void,
 *   undoGroupMs?: number,
 *   undoDepth?: number,
 * }} ClientOptions
 */

/**
 * One participant's replica of the notes: the text as shown, the
 * revision of the server's it builds on, one operation in flight and a
 * buffer of later edits, and one's undo and redo stacks.
 */
export class NotesClient {
  /** @param {ClientOptions} opts */
  constructor(opts) {
    this.sendOp = opts.send;
    // The server allows a burst, then about one operation per 100 ms.
    this.minInterval = opts.minInterval ?? 100;
    this.now = opts.now || (() => Date.now());
    this.setTimer = opts.setTimer || ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer || ((id) => clearTimeout(id));
    this.undoGroupMs = opts.undoGroupMs ?? 1000;
    this.undoDepth = opts.undoDepth ?? 200;
    this.reset(0, '');
  }

  /**
   * Starts afresh from the server's text (welcome, notes.state).
   * @param {number} rev
   * @param {string} text
   */
  reset(rev, text) {
    this.rev = rev;
    this.text = text;
    // The server's text at rev: what the operation in flight applies to.
    this.serverText = text;
    /** @type {TextOp|null} */
    this.pending = null;
    /** @type {TextOp|null} */
    this.buffer = null;
    /** @type {TextOp[]} */
    this.undoStack = [];
    /** @type {TextOp[]} */
    this.redoStack = [];
    this.lastUndoAt = 0;
    this.lastSend = -Infinity;
    this.syncing = false;
    if (this.timer) this.clearTimer(this.timer);
    this.timer = null;
    /** @type {Map<number, {rev: number, op?: TextOp, author?: string}>} messages ahead of rev */
    this.early = new Map();
    this.earlySince = 0;
  }

  /**
   * A message of the server about a revision: someone's operation
   * (notes.op, with op) or the acknowledgement of one's own (notes.ack,
   * without). Each revision comes once, but two of them may arrive in the
   * other order (the server delivers a meeting's events outside its
   * lock): one ahead of the next revision waits for it.
   * @param {{rev: number, op?: TextOp, author?: string}} m
   * @returns {{ok: boolean, applied: {op: TextOp, author: string}[]}} applied:
   *   others' operations as applied to this.text, in order; ok false: out
   *   of step (resynchronise)
   */
  receive(m) {
    /** @type {{op: TextOp, author: string}[]} */
    const applied = [];
    if (this.syncing) return { ok: true, applied };
    if (m.rev <= this.rev || this.early.has(m.rev)) return { ok: false, applied };
    this.early.set(m.rev, m);
    if (this.early.size === 1) this.earlySince = this.now();
    for (let next = this.early.get(this.rev + 1); next; next = this.early.get(this.rev + 1)) {
      this.early.delete(next.rev);
      if (next.op) {
        const s = this.remote(next.rev, next.op);
        if (!s) return { ok: false, applied };
        applied.push({ op: s, author: next.author || '' });
      } else if (!this.ack(next.rev)) return { ok: false, applied };
    }
    if (this.early.size === 0) this.earlySince = 0;
    return { ok: this.early.size < 100, applied };
  }

  /** Whether a revision has been missing for longer than ms (resynchronise). @param {number} ms */
  stalled(ms) {
    return this.early.size > 0 && this.now() - this.earlySince > ms;
  }

  /** Nothing of one's own is on its way: local positions are the server's at rev. */
  get synced() {
    return !this.pending && !this.buffer;
  }

  /**
   * One's own edit, already shown: it is sent (or buffered).
   * @param {TextOp} op applies to this.text
   * @param {{undo?: 'group'|'single'|'none'}} [how] how it enters the undo stack
   * @returns {string} the text after it
   */
  local(op, how = {}) {
    const before = this.text;
    this.text = apply(before, op);
    const kind = how.undo || 'single';
    if (kind !== 'none') {
      const inv = invert(op, before);
      const now = this.now();
      const top = this.undoStack.length - 1;
      if (kind === 'group' && top >= 0 && now - this.lastUndoAt < this.undoGroupMs) {
        this.undoStack[top] = compose(inv, this.undoStack[top]);
      } else {
        this.undoStack.push(inv);
        if (this.undoStack.length > this.undoDepth) this.undoStack.shift();
      }
      this.lastUndoAt = kind === 'group' ? now : 0;
      this.redoStack = [];
    }
    this.buffer = this.buffer ? compose(this.buffer, op) : op;
    this.flush();
    return this.text;
  }

  /** Sends the buffer when nothing is in flight and the pace allows. */
  flush() {
    if (this.pending || !this.buffer || this.syncing) return;
    const wait = this.lastSend + this.minInterval - this.now();
    if (wait > 0) {
      if (!this.timer) {
        this.timer = this.setTimer(() => {
          this.timer = null;
          this.flush();
        }, wait);
      }
      return;
    }
    this.pending = this.buffer;
    this.buffer = null;
    this.lastSend = this.now();
    this.sendOp(this.rev, this.pending);
  }

  /**
   * The server applied the operation in flight as revision rev.
   * @param {number} rev
   * @returns {boolean} false when the client is out of step (resynchronise)
   */
  ack(rev) {
    if (this.syncing) return true;
    if (!this.pending || rev !== this.rev + 1) return false;
    this.serverText = apply(this.serverText, this.pending);
    this.rev = rev;
    this.pending = null;
    this.flush();
    return true;
  }

  /**
   * Someone's operation made revision rev: it is transformed over what is
   * in flight and buffered, and applied.
   * @param {number} rev
   * @param {TextOp} op applies to the server's text at rev-1
   * @returns {TextOp|null} the operation as applied to this.text, or null
   *   when the client is out of step (resynchronise)
   */
  remote(rev, op) {
    if (this.syncing) return [this.text.length];
    if (rev !== this.rev + 1) return null;
    let s = op;
    try {
      this.serverText = apply(this.serverText, s);
      if (this.pending) [s, this.pending] = transform(s, this.pending);
      if (this.buffer) [s, this.buffer] = transform(s, this.buffer);
      this.text = apply(this.text, s);
      this.undoStack = transformStack(this.undoStack, s);
      this.redoStack = transformStack(this.redoStack, s);
    } catch {
      return null;
    }
    this.rev = rev;
    return s;
  }

  /**
   * The connection came back with the server's notes (a new welcome): one's
   * edits in flight are kept when it is clear whether the server has them.
   * @param {number} rev
   * @param {string} text
   * @returns {'same'|'kept'|'reset'|'lost'} lost: one's unsent edits could not be kept
   */
  resume(rev, text) {
    this.syncing = false;
    if (this.synced) {
      if (rev === this.rev && text === this.text) return 'same';
      const undo = this.undoStack;
      this.reset(rev, text);
      // Unchanged text on a new revision numbering keeps the undo stack.
      if (text === this.text && undo.length) this.undoStack = undo;
      return 'reset';
    }
    if (rev === this.rev && text === this.serverText) {
      // The operation in flight never arrived: send it again.
      if (this.pending) {
        this.buffer = this.buffer ? compose(this.pending, this.buffer) : this.pending;
        this.pending = null;
      }
      this.lastSend = -Infinity;
      this.flush();
      return 'kept';
    }
    if (this.pending && rev === this.rev + 1 && text === apply(this.serverText, this.pending)) {
      this.ack(rev);
      return 'kept';
    }
    this.reset(rev, text);
    return 'lost';
  }

  /** A refused edit or a conflict: wait for the server's text (notes.sync). */
  startSync() {
    this.syncing = true;
    if (this.timer) this.clearTimer(this.timer);
    this.timer = null;
  }

  /**
   * Undoes one's last edit (or redoes with redo = true) as a new edit.
   * @param {boolean} [redo]
   * @returns {TextOp|null} the operation applied to this.text
   */
  undo(redo = false) {
    const from = redo ? this.redoStack : this.undoStack;
    const to = redo ? this.undoStack : this.redoStack;
    const op = from.pop();
    if (!op) return null;
    const before = this.text;
    this.text = apply(before, op);
    to.push(invert(op, before));
    this.lastUndoAt = 0;
    this.buffer = this.buffer ? compose(this.buffer, op) : op;
    this.flush();
    return op;
  }

  get canUndo() {
    return this.undoStack.length > 0;
  }

  get canRedo() {
    return this.redoStack.length > 0;
  }

  /**
   * A position of the server's text at rev as a position of this.text
   * (another's cursor); -1 when rev is not this client's.
   * @param {number} rev
   * @param {number} pos
   */
  fromServer(rev, pos) {
    if (rev !== this.rev || pos < 0 || pos > this.serverText.length) return -1;
    let p = pos;
    if (this.pending) p = transformIndex(p, this.pending);
    if (this.buffer) p = transformIndex(p, this.buffer);
    return p;
  }
}

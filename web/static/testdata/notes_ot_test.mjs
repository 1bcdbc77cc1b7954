// Tests of js/notes-ot.js under node (no DOM): operations, transform,
// compose, invert, the diff of a textarea's edit, and the client's state
// machine converging with a server under random interleavings. Run by
// notes_test.go, which copies notes-ot.js here next to a package.json
// that makes it an ES module, and writes cases computed by the server's
// own transform (room.Transform, room.Compose) into go_cases.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import {
  normalize, apply, lengths, transform, compose, invert, transformIndex, diff, fromEdits, isNoop, NotesClient,
} from './notes-ot.js';

// A small seeded random source, so a failure can be replayed.
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}

const ALPHABET = ['a', 'b', 'c', ' ', '\n', 'ä', '😀', '#', '*'];

function randomText(r, max) {
  let s = '';
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}

// A random operation on text that never splits a surrogate pair.
function randomOp(r, text) {
  const op = [];
  let i = 0;
  const boundary = (j) => j <= 0 || j >= text.length || !(text.charCodeAt(j) >= 0xdc00 && text.charCodeAt(j) < 0xe000);
  while (i < text.length) {
    let n = 1 + Math.floor(r() * Math.min(5, text.length - i));
    while (!boundary(i + n)) n++;
    const k = r();
    if (k < 0.2) op.push(randomText(r, 4) || 'x');
    if (k < 0.5) op.push(n);
    else if (k < 0.75) op.push(-n);
    else op.push(n);
    i += n;
  }
  if (r() < 0.4) op.push(randomText(r, 4) || 'y');
  return normalize(op);
}

function wholeUTF16(s) {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d < 0xe000)) return false;
      i++;
    } else if (c >= 0xdc00 && c < 0xe000) return false;
  }
  return true;
}

test('apply, lengths, normalize', () => {
  assert.deepEqual(normalize([2, 3, 'a', 'b', -1, -2, 0, '']), [5, 'ab', -3]);
  assert.deepEqual(lengths([3, 'xy', -2]), { base: 5, target: 5 });
  assert.equal(apply('Hello world', [6, 'dear ', 5]), 'Hello dear world');
  assert.equal(apply('Hallo', [1, -1, 'e', 3]), 'Hello');
  assert.throws(() => apply('abc', [2]));
  assert.ok(isNoop([5]));
  assert.ok(!isNoop([2, 'x', 3]));
});

test('transform: both orders give the same text; the later insert comes first at a tie', () => {
  assert.deepEqual(transform([1, 'M', 1], [1, 'V', 1]), [[2, 'M', 1], [1, 'V', 2]]);
  const r = rng(7);
  for (let k = 0; k < 3000; k++) {
    const text = randomText(r, 12);
    const a = randomOp(r, text);
    const b = randomOp(r, text);
    const [a2, b2] = transform(a, b);
    const ab = apply(apply(text, a), b2);
    const ba = apply(apply(text, b), a2);
    assert.equal(ab, ba, `text ${JSON.stringify(text)} a ${JSON.stringify(a)} b ${JSON.stringify(b)}`);
    assert.ok(wholeUTF16(ab));
  }
});

test('compose and invert', () => {
  const r = rng(11);
  for (let k = 0; k < 3000; k++) {
    const text = randomText(r, 12);
    const a = randomOp(r, text);
    const mid = apply(text, a);
    const b = randomOp(r, mid);
    assert.equal(apply(text, compose(a, b)), apply(mid, b));
    assert.equal(apply(mid, invert(a, text)), text);
  }
});

test('transformIndex: inserts before move it, at it only when sticking right; deletes pull it', () => {
  assert.equal(transformIndex(5, [2, 'abc', 5]), 8);
  assert.equal(transformIndex(5, [5, 'abc', 2]), 5);
  assert.equal(transformIndex(5, [5, 'abc', 2], true), 8);
  assert.equal(transformIndex(5, [6, 'abc', 1]), 5);
  assert.equal(transformIndex(5, [3, -4, 1]), 3);
  assert.equal(transformIndex(5, [-2, 6]), 3);
  assert.equal(transformIndex(5, [5, -2]), 5);
  assert.equal(transformIndex(0, ['ab', 3]), 0);
  assert.equal(transformIndex(3, [3, 'x']), 3);
  assert.equal(transformIndex(3, [3, 'x'], true), 4);
});

test('diff: one replaced range ending at the cursor, never splitting a character', () => {
  assert.equal(diff('abc', 'abc'), null);
  assert.deepEqual(diff('aa', 'aaa', 2), [1, 'a', 1]);
  assert.deepEqual(diff('aa', 'aaa', 3), [2, 'a']);
  assert.deepEqual(diff('aa', 'a', 1), [1, -1]);
  assert.deepEqual(diff('aa', 'a', 0), [-1, 1]);
  assert.deepEqual(diff('x😀y', 'x😁y', 3), [1, -2, '😁', 1]);
  const r = rng(13);
  for (let k = 0; k < 3000; k++) {
    const a = randomText(r, 10);
    const b = randomText(r, 10);
    const op = diff(a, b, Math.floor(r() * (b.length + 1)));
    if (a === b) {
      assert.equal(op, null);
      continue;
    }
    assert.equal(apply(a, op), b);
    for (const c of op) if (typeof c === 'string') assert.ok(wholeUTF16(c), JSON.stringify([a, b, op]));
  }
});

test('fromEdits', () => {
  assert.deepEqual(fromEdits(10, [{ at: 2, ins: '**' }, { at: 5, ins: '**' }]), [2, '**', 3, '**', 5]);
  assert.deepEqual(fromEdits(4, [{ at: 0, del: 2 }]), [-2, 2]);
});

test('the server\'s transform and compose (room/ot.go) give the same results', { skip: !existsSync('./go_cases.json') }, () => {
  const cases = JSON.parse(readFileSync('./go_cases.json', 'utf8'));
  assert.ok(cases.length > 100);
  for (const c of cases) {
    const [a2, b2] = transform(c.a, c.b);
    assert.deepEqual([a2, b2], [c.a2, c.b2], `transform ${JSON.stringify(c)}`);
    if (c.c) assert.deepEqual(compose(c.a, c.c), c.ac, `compose ${JSON.stringify(c)}`);
  }
});

// A server in the model of room/notes.go: it transforms a late operation
// over the history since its revision, applies it, acks the author and
// sends it to the others.
class Server {
  constructor() {
    this.text = '';
    this.rev = 0;
    this.history = [];
  }

  edit(rev, op) {
    if (rev > this.rev) throw new Error('future revision');
    let o = op;
    for (const past of this.history.slice(rev)) [, o] = transform(past, o);
    this.text = apply(this.text, o);
    this.rev++;
    this.history.push(o);
    return o;
  }
}

// Clients with FIFO links to the server in both directions, delivered in
// a random order across links.
function simulate(seed, editors, steps) {
  const r = rng(seed);
  const server = new Server();
  let clock = 0;
  const up = editors.map(() => []);
  const down = editors.map(() => []);
  const clients = editors.map((_, i) => new NotesClient({
    send: (rev, op) => up[i].push({ rev, op }),
    minInterval: 0,
    now: () => clock,
    setTimer: () => 0,
    clearTimer: () => {},
  }));
  // The invariant of the state machine: the text shown is the server's
  // with what is in flight and buffered on top.
  const check = (c) => {
    let want = c.serverText;
    if (c.pending) want = apply(want, c.pending);
    if (c.buffer) want = apply(want, c.buffer);
    assert.equal(c.text, want);
  };
  for (let k = 0; k < steps; k++) {
    clock += 10;
    const who = Math.floor(r() * clients.length);
    const c = clients[who];
    const dice = r();
    if (dice < 0.45) {
      // An edit, often at the same place as another's.
      const len = c.text.length;
      let at = r() < 0.3 ? Math.min(len, 3) : Math.floor(r() * (len + 1));
      if (at > 0 && at < len && c.text.charCodeAt(at) >= 0xdc00 && c.text.charCodeAt(at) < 0xe000) at--;
      let del = 0;
      if (r() < 0.3) {
        del = Math.min(len - at, 1 + Math.floor(r() * 3));
        if (at + del < len && c.text.charCodeAt(at + del) >= 0xdc00 && c.text.charCodeAt(at + del) < 0xe000) del++;
      }
      const ins = r() < 0.8 ? ALPHABET[Math.floor(r() * ALPHABET.length)] + String.fromCharCode(97 + who) : '';
      if (!del && !ins) continue;
      c.local(fromEdits(len, [{ at, del, ins }]), { undo: r() < 0.5 ? 'group' : 'single' });
    } else if (dice < 0.5) {
      c.undo(r() < 0.3);
    } else if (dice < 0.75) {
      // The server takes the next message of a client.
      const m = up[who].shift();
      if (m) {
        const o = server.edit(m.rev, m.op);
        for (let j = 0; j < clients.length; j++) {
          down[j].push(j === who ? { ack: server.rev } : { rev: server.rev, op: o });
        }
      }
    } else {
      // A client reads the next message from the server.
      const m = down[who].shift();
      if (m && m.ack) assert.ok(c.ack(m.ack));
      else if (m) assert.notEqual(c.remote(m.rev, m.op), null);
    }
    check(c);
  }
  // Drain: everything sent arrives, until all are in step.
  for (let round = 0; round < 10000; round++) {
    let moved = false;
    for (let i = 0; i < clients.length; i++) {
      const m = up[i].shift();
      if (m) {
        moved = true;
        const o = server.edit(m.rev, m.op);
        for (let j = 0; j < clients.length; j++) down[j].push(j === i ? { ack: server.rev } : { rev: server.rev, op: o });
      }
      const d = down[i].shift();
      if (d) {
        moved = true;
        if (d.ack) assert.ok(clients[i].ack(d.ack));
        else assert.notEqual(clients[i].remote(d.rev, d.op), null);
      }
    }
    if (!moved) break;
  }
  for (const c of clients) {
    assert.ok(c.synced);
    assert.equal(c.rev, server.rev);
    assert.equal(c.text, server.text);
  }
  return server;
}

test('random interleavings of 2 to 5 editors converge to the server\'s text', () => {
  let revs = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const n = 2 + (seed % 4);
    const s = simulate(seed, Array(n).fill(0), 300);
    revs += s.rev;
    assert.ok(wholeUTF16(s.text));
  }
  assert.ok(revs > 10000, `only ${revs} revisions: the simulation edits too little`);
});

test('two typing at the same place keep their words whole', () => {
  const server = new Server();
  const sent = [[], []];
  const clients = [0, 1].map((i) => new NotesClient({ send: (rev, op) => sent[i].push({ rev, op }), minInterval: 0 }));
  const caret = [0, 0];
  const words = ['alpha', 'beta'];
  const inbox = [[], []];
  for (let k = 0; k < 5; k++) {
    for (const i of [0, 1]) {
      const ch = words[i][k];
      if (!ch) continue;
      const c = clients[i];
      c.local(fromEdits(c.text.length, [{ at: caret[i], ins: ch }]));
      caret[i]++;
    }
    for (const i of [1, 0]) {
      const m = sent[i].shift();
      if (!m) continue;
      const o = server.edit(m.rev, m.op);
      inbox[i].push({ ack: server.rev });
      inbox[1 - i].push({ rev: server.rev, op: o });
    }
    for (const i of [0, 1]) {
      for (const m of inbox[i].splice(0)) {
        if (m.ack) clients[i].ack(m.ack);
        else {
          const applied = clients[i].remote(m.rev, m.op);
          caret[i] = transformIndex(caret[i], applied);
        }
      }
    }
  }
  for (let round = 0; round < 20; round++) {
    for (const i of [0, 1]) {
      const m = sent[i].shift();
      if (m) {
        const o = server.edit(m.rev, m.op);
        inbox[i].push({ ack: server.rev });
        inbox[1 - i].push({ rev: server.rev, op: o });
      }
      for (const d of inbox[i].splice(0)) {
        if (d.ack) clients[i].ack(d.ack);
        else clients[i].remote(d.rev, d.op);
      }
    }
  }
  assert.equal(clients[0].text, server.text);
  assert.equal(clients[1].text, server.text);
  assert.ok(server.text.includes('alpha') && server.text.includes('beta'), server.text);
});

// Two type a word each, character by character at their caret, starting
// at the same place; messages arrive in a random order. Every keystroke
// is kept, in each one's order. (Their words may interleave where an
// operation in flight meets another's at the same place: the server puts
// the one it applied first first.)
function typeTogether(seed, words, start) {
  const r = rng(seed);
  const server = new Server();
  server.text = start;
  let clock = 0;
  const n = words.length;
  const up = words.map(() => []);
  const down = words.map(() => []);
  const clients = words.map((_, i) => new NotesClient({
    send: (rev, op) => up[i].push({ rev, op }), minInterval: 100, now: () => clock,
    setTimer: () => 0, clearTimer: () => {},
  }));
  for (const c of clients) c.reset(0, start);
  const caret = words.map(() => start.length);
  const typed = words.map(() => 0);
  const deliver = (i) => {
    const m = down[i].shift();
    if (!m) return false;
    if (m.ack) assert.ok(clients[i].ack(m.ack));
    else {
      const applied = clients[i].remote(m.rev, m.op);
      assert.notEqual(applied, null);
      caret[i] = transformIndex(caret[i], applied);
    }
    return true;
  };
  const serve = (i) => {
    const m = up[i].shift();
    if (!m) return false;
    const o = server.edit(m.rev, m.op);
    for (let j = 0; j < n; j++) down[j].push(j === i ? { ack: server.rev } : { rev: server.rev, op: o });
    return true;
  };
  for (let k = 0; k < 2000 && typed.some((x, i) => x < words[i].length); k++) {
    clock += Math.floor(r() * 60);
    const i = Math.floor(r() * n);
    const d = r();
    if (d < 0.4 && typed[i] < words[i].length) {
      const c = clients[i];
      c.local(fromEdits(c.text.length, [{ at: caret[i], ins: words[i][typed[i]] }]), { undo: 'group' });
      caret[i]++;
      typed[i]++;
    } else if (d < 0.7) serve(i);
    else if (d < 0.95) deliver(i);
    else clients[i].flush();
  }
  for (let round = 0; round < 1000; round++) {
    clock += 200;
    let moved = false;
    for (let i = 0; i < n; i++) {
      clients[i].flush();
      moved = serve(i) || moved;
      moved = deliver(i) || moved;
    }
    if (!moved) break;
  }
  for (const c of clients) assert.equal(c.text, server.text);
  return server.text;
}

const isSubsequence = (w, text) => {
  let i = 0;
  for (const ch of text) if (i < w.length && ch === w[i]) i++;
  return i === w.length;
};

test('two or three typing at the same place: every keystroke kept, in order', () => {
  for (let seed = 1; seed <= 500; seed++) {
    const words = seed % 3 === 0 ? ['alpha ', 'bravo ', 'charlie '] : ['alpha bravo charlie ', 'delta echo foxtrot '];
    const text = typeTogether(seed, words, seed % 2 ? '' : 'Start: ');
    assert.equal(text.length, words.join('').length + (seed % 2 ? 0 : 7), text);
    for (const w of words) assert.ok(isSubsequence(w, text), `seed ${seed}: ${JSON.stringify(text)} lacks ${JSON.stringify(w)}`);
  }
});

test('revisions arriving out of order wait for the missing one', () => {
  const c = new NotesClient({ send: () => {}, minInterval: 0 });
  c.reset(0, 'ab');
  c.local([2, 'c']);
  // The server applied ours as 1 and another's as 2, but 2 arrives first.
  let r = c.receive({ rev: 2, op: ['>', 3], author: 'x' });
  assert.deepEqual(r, { ok: true, applied: [] });
  assert.equal(c.text, 'abc');
  r = c.receive({ rev: 1 });
  assert.ok(r.ok);
  assert.deepEqual(r.applied, [{ op: ['>', 3], author: 'x' }]);
  assert.equal(c.text, '>abc');
  assert.equal(c.rev, 2);
  assert.ok(!c.receive({ rev: 2, op: [4] }).ok, 'a revision twice is out of step');
});

test('random interleavings with reordered deliveries converge', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const r = rng(seed * 31);
    const server = new Server();
    const n = 2 + (seed % 3);
    const up = Array.from({ length: n }, () => []);
    const down = Array.from({ length: n }, () => []);
    const clients = Array.from({ length: n }, (_, i) => new NotesClient({ send: (rev, op) => up[i].push({ rev, op }), minInterval: 0 }));
    const serve = (i) => {
      const m = up[i].shift();
      if (!m) return false;
      const o = server.edit(m.rev, m.op);
      for (let j = 0; j < n; j++) down[j].push(j === i ? { rev: server.rev } : { rev: server.rev, op: o });
      return true;
    };
    // Delivery takes any of the first three waiting messages.
    const deliver = (i) => {
      if (!down[i].length) return false;
      const k = Math.floor(r() * Math.min(3, down[i].length));
      const [m] = down[i].splice(k, 1);
      assert.ok(clients[i].receive(m).ok);
      return true;
    };
    for (let k = 0; k < 300; k++) {
      const i = Math.floor(r() * n);
      const c = clients[i];
      const d = r();
      if (d < 0.4) {
        const at = Math.floor(r() * (c.text.length + 1));
        c.local(fromEdits(c.text.length, [{ at, ins: String.fromCharCode(97 + i) }]));
      } else if (d < 0.7) serve(i);
      else deliver(i);
    }
    for (let round = 0; round < 10000; round++) {
      let moved = false;
      for (let i = 0; i < n; i++) moved = serve(i) || deliver(i) || moved;
      if (!moved) break;
    }
    for (const c of clients) {
      assert.equal(c.early.size, 0);
      assert.equal(c.text, server.text);
    }
  }
});

test('undo and redo of one\'s own edit, over another\'s edit', () => {
  const c = new NotesClient({ send: () => {}, minInterval: 0 });
  c.reset(0, 'Hello');
  c.local([5, ' world']);
  c.ack(1);
  assert.notEqual(c.remote(2, ['>> ', 11]), null);
  assert.equal(c.text, '>> Hello world');
  c.undo();
  assert.equal(c.text, '>> Hello');
  c.ack(3);
  c.undo(true);
  assert.equal(c.text, '>> Hello world');
});

test('typing groups into one undo step; a pause starts another', () => {
  let now = 0;
  const c = new NotesClient({ send: () => {}, minInterval: 0, now: () => now });
  for (const ch of 'abc') {
    c.local([c.text.length, ch].filter((x) => x !== 0), { undo: 'group' });
    now += 100;
  }
  now += 5000;
  c.local([3, 'd'], { undo: 'group' });
  c.undo();
  assert.equal(c.text, 'abc');
  c.undo();
  assert.equal(c.text, '');
});

test('pacing: at most one operation per interval, later edits composed', () => {
  let now = 0;
  const timers = [];
  const sent = [];
  const c = new NotesClient({
    send: (rev, op) => sent.push({ rev, op }), minInterval: 100, now: () => now,
    setTimer: (fn, ms) => timers.push({ fn, at: now + ms }), clearTimer: () => {},
  });
  c.local(['a']);
  assert.equal(sent.length, 1);
  c.ack(1);
  now += 10;
  c.local([1, 'b']);
  c.local([2, 'c']);
  assert.equal(sent.length, 1);
  now = timers[0].at;
  timers[0].fn();
  assert.deepEqual(sent[1], { rev: 1, op: [1, 'bc'] });
});

test('resume after a reconnect: resend, count as applied, or start afresh', () => {
  const sent = [];
  const mk = () => new NotesClient({ send: (rev, op) => sent.push({ rev, op }), minInterval: 0 });
  let c = mk();
  c.reset(4, 'abc');
  c.local([3, 'd']);
  assert.equal(c.resume(4, 'abc'), 'kept');
  assert.deepEqual(sent.at(-1), { rev: 4, op: [3, 'd'] });
  assert.equal(c.text, 'abcd');
  c = mk();
  c.reset(4, 'abc');
  c.local([3, 'd']);
  assert.equal(c.resume(5, 'abcd'), 'kept');
  assert.ok(c.synced);
  assert.equal(c.rev, 5);
  c = mk();
  c.reset(4, 'abc');
  c.local([3, 'd']);
  assert.equal(c.resume(6, 'xyz'), 'lost');
  assert.equal(c.text, 'xyz');
  c = mk();
  c.reset(4, 'abc');
  assert.equal(c.resume(4, 'abc'), 'same');
  assert.equal(c.resume(9, 'abcdef'), 'reset');
  assert.equal(c.text, 'abcdef');
});

test('another\'s cursor maps through one\'s unacknowledged edits', () => {
  const c = new NotesClient({ send: () => {}, minInterval: 0 });
  c.reset(3, 'hello');
  c.local(['>>', 5]);
  assert.equal(c.fromServer(3, 5), 7);
  assert.equal(c.fromServer(2, 5), -1);
});

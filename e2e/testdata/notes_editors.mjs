// Editors of the shared notes for e2e/notes_ot_test.go: several replicas
// of js/notes-ot.js's NotesClient, each behind one real WebSocket to the
// server, which the Go test relays (lines of JSON on stdin and stdout).
// Each editor inserts and deletes at random places, often the same place
// as the others, for a while; then all wait until they are in step and
// report their texts.
//
// in:  {"c": i, "type": "welcome"|"notes.op"|"notes.ack"|"notes.state"|"error", "data": {...}}
// out: {"c": i, "type": "notes.edit", "data": {"rev": n, "op": [...]}}
//      {"done": true, "texts": ["…", …], "edits": n}
import { createInterface } from 'node:readline';
import { NotesClient, fromEdits } from './notes-ot.js';

const editors = Number(process.argv[2] || 3);
const ms = Number(process.argv[3] || 2000);
let seed = Number(process.argv[4] || 1) >>> 0 || 1;
const rand = () => {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 0x100000000;
};
const out = (m) => process.stdout.write(JSON.stringify(m) + '\n');
const fail = (why) => {
  out({ failed: why });
  process.exit(1);
};

let edits = 0;
// How often a revision arrived before the one it follows.
let reordered = 0;
const clients = [];
const ready = [];
for (let i = 0; i < editors; i++) {
  clients.push(new NotesClient({
    send: (rev, op) => out({ c: i, type: 'notes.edit', data: { rev, op } }),
    // The server allows 60 operations a second after a burst of 120.
    minInterval: 25,
  }));
  ready.push(false);
}

const words = ['alpha ', 'ÄÖÜ ', '😀', '\n', 'x', 'yz ', '# '];
function edit(i) {
  const c = clients[i];
  const len = c.text.length;
  let at = rand() < 0.3 ? Math.min(len, 5) : Math.floor(rand() * (len + 1));
  const low = (k) => k > 0 && k < len && c.text.charCodeAt(k) >= 0xdc00 && c.text.charCodeAt(k) < 0xe000;
  if (low(at)) at--;
  let del = 0;
  if (len > 0 && rand() < 0.35) {
    del = Math.min(len - at, 1 + Math.floor(rand() * 4));
    if (low(at + del)) del++;
  }
  const ins = rand() < 0.75 ? words[Math.floor(rand() * words.length)] : '';
  if (!del && !ins) return;
  const r = rand();
  if (r < 0.05) c.undo();
  else if (r < 0.07) c.undo(true);
  else c.local(fromEdits(len, [{ at, del, ins }]), { undo: 'group' });
  edits++;
}

let stopped = false;
function start() {
  for (let i = 0; i < editors; i++) {
    const tick = () => {
      if (stopped) return;
      edit(i);
      setTimeout(tick, 5 + Math.floor(rand() * 40));
    };
    setTimeout(tick, Math.floor(rand() * 20));
  }
  setTimeout(() => {
    stopped = true;
    waitInStep(Date.now());
  }, ms);
}

// All replicas in step: nothing in flight or buffered, the same revision.
function waitInStep(since) {
  const inStep = clients.every((c) => c.synced && c.early.size === 0 && c.rev === clients[0].rev);
  if (inStep && Date.now() - since > 300) {
    const stuck = clients.some((c) => c.early.size > 0);
    if (stuck) fail('a revision never arrived');
    out({ done: true, texts: clients.map((c) => c.text), revs: clients.map((c) => c.rev), edits, reordered });
    setTimeout(() => process.exit(0), 50);
    return;
  }
  if (!inStep) since = Date.now();
  setTimeout(() => waitInStep(since), 20);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const m = JSON.parse(line);
  const c = clients[m.c];
  switch (m.type) {
    case 'welcome': {
      const n = (m.data.features && m.data.features.notes) || { rev: 0, text: '' };
      c.reset(n.rev, n.text);
      ready[m.c] = true;
      if (ready.every(Boolean)) start();
      break;
    }
    case 'notes.op':
    case 'notes.ack':
      if (!c.receive(m.data).ok) fail(`editor ${m.c}: ${m.type} ${m.data.rev} out of step at ${c.rev}`);
      if (c.early.size > 0) reordered++;
      break;
    case 'notes.state':
      c.reset(m.data.rev, m.data.text);
      break;
    case 'error':
      fail(`editor ${m.c}: the server refused: ${JSON.stringify(m.data)}`);
      break;
    default:
  }
});

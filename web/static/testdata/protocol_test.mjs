// Tests of js/protocol.js under node (no browser, no DOM): the connection's
// requests, reconnect with backoff, and final closes. Run by
// protocol_js_test.go, which copies protocol.js here as protocol.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection, ServerType, ErrorCode, CloseCode, ProtocolError, socketURL, isFinalClose } from './protocol.mjs';

/** A fake WebSocket: records what is sent, lets the test drive events. */
class FakeWS {
  static all = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeWS.all.push(this);
  }
  send(s) { this.sent.push(JSON.parse(s)); }
  close(code = 1000) { this.serverClose(code); }
  open() { this.readyState = 1; this.onopen && this.onopen(); }
  receive(env) { this.onmessage({ data: JSON.stringify(env) }); }
  serverClose(code, reason = '') {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose({ code, reason });
  }
}

function until(cond, what) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 5000;
    const check = () => {
      if (cond()) return resolve();
      if (Date.now() > deadline) return reject(new Error('timeout waiting for ' + what));
      setTimeout(check, 2);
    };
    check();
  });
}

function connect(opts = {}) {
  FakeWS.all = [];
  const c = new Connection('ws://x/r/s/ws', { WebSocket: FakeWS, minDelay: 1, maxDelay: 4, pingInterval: 1e6, ...opts });
  c.start();
  const ws = FakeWS.all[0];
  ws.open();
  ws.receive({ type: ServerType.WELCOME, data: { self: { id: 'me' } } });
  return { c, ws };
}

test('a request resolves on its ack and rejects on its error', async () => {
  const { c, ws } = connect();
  const ok = c.chat('hello', 'p2');
  assert.deepEqual(ws.sent[0].data, { to: 'p2', text: 'hello' });
  assert.equal(ws.sent[0].type, 'chat.send');
  ws.receive({ type: ServerType.ACK, ref: ws.sent[0].ref });
  await ok;

  const bad = c.endMeeting();
  const ref = ws.sent[1].ref;
  assert.notEqual(ref, ws.sent[0].ref);
  ws.receive({ type: ServerType.ERROR, ref, data: { ref, code: ErrorCode.FORBIDDEN, message: 'no' } });
  await assert.rejects(bad, (e) => e instanceof ProtocolError && e.code === 'forbidden');
  c.close();
});

test('typed helpers send the documented payloads', () => {
  const { c, ws } = connect();
  const calls = [
    [() => c.chat('hi'), 'chat.send', { text: 'hi' }],
    [() => c.raiseHand(true), 'hand.raise', { up: true }],
    [() => c.lowerHand('p'), 'hand.lower', { id: 'p' }],
    [() => c.setRole('p', 'MODERATOR'), 'role.set', { id: 'p', role: 'MODERATOR' }],
    [() => c.mute('p'), 'participant.mute', { id: 'p' }],
    [() => c.remove('p'), 'participant.remove', { id: 'p' }],
    [() => c.endMeeting(), 'meeting.end', undefined],
    [() => c.leave(), 'leave', undefined],
    [() => c.ping(), 'ping', undefined],
  ];
  calls.forEach(([call, type, data], i) => {
    call().catch(() => {});
    assert.equal(ws.sent[i].type, type);
    assert.deepEqual(ws.sent[i].data, data);
  });
  c.close();
});

test('server messages are emitted by type', () => {
  const { c, ws } = connect();
  const got = [];
  c.on(ServerType.CHAT_MESSAGE, (d) => got.push(d.text));
  ws.receive({ type: 'chat.message', data: { text: 'a' } });
  ws.receive({ type: 'some.future.type', data: {} }); // ignored, no throw
  ws.onmessage({ data: 'not json' });
  assert.deepEqual(got, ['a']);
  c.close();
});

test('a lost connection reconnects; pending requests fail', async () => {
  const { c, ws } = connect();
  const states = [];
  c.on('state', (s) => states.push(s));
  const p = c.ping();
  ws.serverClose(1006);
  await assert.rejects(p, (e) => e.code === ErrorCode.DISCONNECTED);
  await until(() => FakeWS.all.length === 2, 'a second socket');
  assert.ok(states.includes('reconnecting'));
  FakeWS.all[1].open();
  FakeWS.all[1].receive({ type: ServerType.WELCOME, data: {} });
  assert.equal(states.at(-1), 'open');
  assert.equal(c.attempt, 0);
  c.close();
});

for (const code of Object.values(CloseCode).filter(isFinalClose)) {
  test(`close code ${code} is final`, async () => {
    const { c, ws } = connect();
    let final = null;
    c.on('final', (f) => { final = f; });
    ws.serverClose(code, 'x');
    assert.deepEqual(final, { code, reason: 'x' });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(FakeWS.all.length, 1, 'no reconnect after a final close');
  });
}

for (const code of Object.values(CloseCode).filter((c) => !isFinalClose(c))) {
  test(`close code ${code} reconnects`, async () => {
    const { c, ws } = connect();
    let final = null;
    c.on('final', (f) => { final = f; });
    ws.serverClose(code, 'x');
    await until(() => FakeWS.all.length === 2, 'a reconnect');
    assert.equal(final, null);
    c.close();
  });
}

test('gives up after maxAttempts without a welcome', async () => {
  FakeWS.all = [];
  const c = new Connection('ws://x/ws', { WebSocket: FakeWS, minDelay: 1, maxDelay: 2, maxAttempts: 3 });
  let final = null;
  c.on('final', (f) => { final = f; });
  c.start();
  for (let i = 0; i < 4; i++) {
    await until(() => FakeWS.all.length === i + 1, 'socket ' + (i + 1));
    FakeWS.all[i].serverClose(1006);
  }
  assert.deepEqual(final, { code: 0, reason: 'unreachable' });
  assert.equal(FakeWS.all.length, 4);
});

test('socketURL is relative to the page and follows TLS', () => {
  assert.equal(socketURL({ href: 'http://h:8080/r/abc/' }), 'ws://h:8080/r/abc/ws');
  assert.equal(socketURL({ href: 'https://h/prefix/r/abc/?x=1#y' }), 'wss://h/prefix/r/abc/ws');
  assert.ok(isFinalClose(4001) && !isFinalClose(1006) && !isFinalClose(1001));
});

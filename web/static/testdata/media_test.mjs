// Tests of js/media.js under node (no browser): publish and subscribe
// negotiation against a fake RTCPeerConnection and a fake connection.
// Run by client_test.go, which copies media.js and protocol.js here next
// to a package.json that makes them ES modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Emitter, ProtocolError } from './protocol.js';
import { Media, SIMULCAST, qualityOf } from './media.js';

/** A fake RTCPeerConnection: mids assigned on the local offer, remote
 * offers written as "mids:0,1". */
class FakePC {
  static all = [];
  constructor(cfg) {
    this.cfg = cfg;
    this.transceivers = [];
    this.signalingState = 'stable';
    this.connectionState = 'new';
    this.iceConnectionState = 'new';
    this.removed = 0;
    FakePC.all.push(this);
  }
  addTransceiver(track, init) {
    const t = { mid: null, direction: init.direction, init, receiver: { track: null } };
    t.sender = { track, replaceTrack: async (x) => { t.sender.track = x; } };
    this.transceivers.push(t);
    return t;
  }
  removeTrack(sender) {
    const t = this.transceivers.find((x) => x.sender === sender);
    t.sender.track = null;
    t.direction = 'inactive';
    this.removed++;
  }
  getTransceivers() { return this.transceivers; }
  async createOffer(opts) {
    this.offerOpts = opts;
    return { type: 'offer', sdp: 'offer with ' + this.transceivers.length };
  }
  async setLocalDescription(d) {
    if (d.type === 'rollback') {
      this.signalingState = 'stable';
      return;
    }
    this.localDescription = d;
    if (d.type === 'offer') {
      this.transceivers.forEach((t, i) => { if (t.mid === null) t.mid = String(i); });
      this.signalingState = 'have-local-offer';
    } else this.signalingState = 'stable';
  }
  async setRemoteDescription(d) {
    this.remoteDescription = d;
    if (d.type === 'offer') {
      for (const m of d.sdp.slice('mids:'.length).split(',').filter(Boolean)) {
        if (!this.transceivers.some((t) => t.mid === m)) this.transceivers.push({ mid: m, receiver: { track: { id: 'remote-' + m } } });
      }
      this.signalingState = 'have-remote-offer';
    } else this.signalingState = 'stable';
  }
  async createAnswer() { return { type: 'answer', sdp: 'the answer' }; }
  close() { this.connectionState = 'closed'; this.closed = true; }
}

/** A fake Connection: records requests; a publish is answered as the
 * server does (media.answer just before the ack), or refused. */
class FakeConn extends Emitter {
  constructor() {
    super();
    this.sent = [];
    this.refuse = '';
  }
  request(type, data) {
    this.sent.push({ type, data });
    if (type === this.refuse) return Promise.reject(new ProtocolError('forbidden', 'no'));
    if (type === 'media.publish') this.emit('media.answer', { target: 'publish', sdp: 'answer ' + this.sent.length });
    return Promise.resolve();
  }
  of(type) { return this.sent.filter((m) => m.type === type); }
}

const settle = async () => { for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0)); };

function setup() {
  FakePC.all = [];
  const conn = new FakeConn();
  const media = new Media(/** @type {any} */ (conn), { RTCPeerConnection: FakePC });
  const events = [];
  for (const ev of ['ready', 'track', 'trackended', 'speaking', 'error']) media.on(ev, (d) => events.push([ev, d]));
  conn.emit('media.config', { iceServers: [{ urls: ['turn:example:3478'], username: 'u', credential: 'c' }] });
  return { conn, media, events };
}

test('quality from round-trip time and loss', () => {
  for (const [rtt, loss, want] of [[undefined, undefined, 'unknown'], [0.02, 0, 'good'], [0.2, 0, 'fair'],
    [0.05, 0.05, 'fair'], [0.5, 0, 'poor'], [0.01, 0.1, 'poor']]) {
    assert.equal(qualityOf(rtt, loss), want, `rtt ${rtt} loss ${loss}`);
  }
});

test('camera is published with three simulcast encodings and its kind by mid', async () => {
  const { conn, media } = setup();
  await media.publish('camera', { kind: 'video' });
  const [pub] = conn.of('media.publish');
  assert.deepEqual(pub.data.kinds, { 0: 'camera' });
  const pc = FakePC.all[0];
  assert.deepEqual(pc.cfg.iceServers, [{ urls: ['turn:example:3478'], username: 'u', credential: 'c' }]);
  assert.deepEqual(pc.transceivers[0].init.sendEncodings.map((e) => e.rid), SIMULCAST.map((e) => e.rid));
  assert.deepEqual(pc.transceivers[0].init.sendEncodings.map((e) => e.rid), ['q', 'h', 'f']);
  assert.equal(pc.remoteDescription.sdp, 'answer 1');
});

test('switching off removes the track; switching on again reuses the transceiver', async () => {
  const { conn, media } = setup();
  await media.publish('mic', { kind: 'audio' });
  await media.publish('camera', { kind: 'video' });
  await media.unpublish('mic');
  const pc = FakePC.all[0];
  assert.equal(pc.removed, 1);
  assert.equal(pc.transceivers[0].direction, 'inactive');
  assert.equal(conn.of('media.publish').length, 3);
  const again = { kind: 'audio', id: 'new' };
  await media.publish('mic', again);
  assert.equal(pc.transceivers.length, 2);
  assert.equal(pc.transceivers[0].direction, 'sendonly');
  assert.equal(pc.transceivers[0].sender.track, again);
  assert.deepEqual(conn.of('media.publish')[3].data.kinds, { 0: 'mic', 1: 'camera' });
});

test('a refused publish rolls back and rejects', async () => {
  const { conn, media } = setup();
  conn.refuse = 'media.publish';
  await assert.rejects(media.publish('mic', { kind: 'audio' }), (e) => e.code === 'forbidden');
  assert.equal(FakePC.all[0].signalingState, 'stable');
  conn.refuse = '';
  await media.publish('screen', { kind: 'video' });
  assert.equal(FakePC.all[0].remoteDescription.type, 'answer');
});

test('subscribe offers are answered; tracks are matched by mid and ended when gone', async () => {
  const { conn, events } = setup();
  const a = { mid: '0', participantId: 'p1', kind: 'mic', trackId: 'mic-1', streamId: 's' };
  const b = { mid: '1', participantId: 'p1', kind: 'camera', trackId: 'camera-2', streamId: 's' };
  conn.emit('media.offer', { target: 'subscribe', sdp: 'mids:0,1', tracks: [a, b] });
  await settle();
  const [ans] = conn.of('media.answer');
  assert.deepEqual(ans.data, { target: 'subscribe', sdp: 'the answer' });
  const tracks = events.filter(([e]) => e === 'track').map(([, d]) => [d.info.trackId, d.track.id]);
  assert.deepEqual(tracks, [['mic-1', 'remote-0'], ['camera-2', 'remote-1']]);
  // The camera's m-line is gone from the next offer; the mic's stays.
  conn.emit('media.offer', { target: 'subscribe', sdp: 'mids:0,1', tracks: [a] });
  await settle();
  assert.deepEqual(events.filter(([e]) => e === 'trackended').map(([, d]) => d.info.trackId), ['camera-2']);
  assert.equal(events.filter(([e]) => e === 'track').length, 2, 'an unchanged m-line is not announced again');
});

test('ICE candidates are trickled with their target', async () => {
  const { conn, media } = setup();
  await media.publish('mic', { kind: 'audio' });
  const pc = FakePC.all[0];
  pc.onicecandidate({ candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host',
    toJSON: () => ({ candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'uf' }) } });
  pc.onicecandidate({ candidate: null });
  assert.deepEqual(conn.of('media.candidate').map((m) => m.data), [
    { target: 'publish', candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'uf' }]);
});

test('a failed connection restarts ICE', async () => {
  const { conn, media } = setup();
  await media.publish('mic', { kind: 'audio' });
  conn.emit('media.offer', { target: 'subscribe', sdp: 'mids:', tracks: [] });
  await settle();
  const [pub, sub] = FakePC.all;
  pub.iceConnectionState = 'failed';
  pub.oniceconnectionstatechange();
  sub.iceConnectionState = 'failed';
  sub.oniceconnectionstatechange();
  await settle();
  assert.deepEqual(pub.offerOpts, { iceRestart: true });
  assert.equal(conn.of('media.restart').length, 1);
});

test('a new configuration starts afresh and publishes again what is on', async () => {
  const { conn, media, events } = setup();
  const cam = { kind: 'video', stop() { this.stopped = true; } };
  await media.publish('camera', cam);
  conn.emit('media.offer', { target: 'subscribe', sdp: 'mids:0', tracks: [{ mid: '0', participantId: 'p', kind: 'mic', trackId: 'mic-9', streamId: 's' }] });
  await settle();
  conn.emit('media.config', { iceServers: [] });
  await settle();
  assert.ok(FakePC.all[0].closed && FakePC.all[1].closed, 'old PeerConnections closed');
  const fresh = FakePC.all[2];
  assert.equal(fresh.transceivers[0].sender.track, cam);
  assert.equal(conn.of('media.publish').length, 2);
  assert.deepEqual(events.filter(([e]) => e === 'trackended').map(([, d]) => d.info.trackId), ['mic-9']);
  media.close();
  assert.ok(fresh.closed);
  assert.ok(cam.stopped, 'closing stops the devices');
});

// Media: the browser side of Aula's SFU protocol (docs/protocol.md,
// "Media"). Two RTCPeerConnections, each with one direction, so offers
// never collide: "publish" (we offer, the server answers) carries our
// microphone, camera and screen; "subscribe" (the server offers, we
// answer) carries everyone else's. No DOM here: the UI listens to events.
import { ClientType, ServerType, Emitter } from './protocol.js';

/**
 * @typedef {'mic'|'camera'|'screen'} Kind
 * @typedef {{trackId: string, mid: string, streamId: string,
 *   participantId: string, kind: Kind}} TrackInfo
 * @typedef {{urls: string[], username?: string, credential?: string}} IceServer
 */

/** Camera simulcast: three encodings, lowest quality first (rid q/h/f). */
export const SIMULCAST = Object.freeze([
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', maxBitrate: 1_500_000 },
]);

/**
 * Connection quality from round-trip time (seconds) and packet loss
 * (fraction): what the hint in the page says.
 * @param {number|undefined} rtt @param {number|undefined} loss
 * @returns {'good'|'fair'|'poor'|'unknown'}
 */
export function qualityOf(rtt, loss) {
  if (rtt === undefined && loss === undefined) return 'unknown';
  const r = rtt ?? 0;
  const l = loss ?? 0;
  if (r > 0.4 || l > 0.08) return 'poor';
  if (r > 0.15 || l > 0.02) return 'fair';
  return 'good';
}

/**
 * Events: 'ready' (a new media configuration: PeerConnections start
 * afresh), 'track' ({info, track}) when a remote track arrives or its
 * m-line now carries another, 'trackended' ({info}), 'speaking'
 * ({id, speaking}), 'state' ({target, state}) and 'error' (Error).
 */
export class Media extends Emitter {
  /**
   * @param {import('./protocol.js').Connection} conn
   * @param {{RTCPeerConnection?: any}} [opts]
   */
  constructor(conn, opts = {}) {
    super();
    this.conn = conn;
    this.PC = opts.RTCPeerConnection || globalThis.RTCPeerConnection;
    /** @type {IceServer[]} */
    this.iceServers = [];
    this.configured = false;
    /** @type {any} */
    this.pub = null;
    /** @type {any} */
    this.sub = null;
    /** @type {Map<Kind, {track: any, tr: any}>} what we publish */
    this.local = new Map();
    /** @type {Map<Kind, any>} transceivers by kind, reused when switched on again */
    this.transceivers = new Map();
    /** @type {Map<string, TrackInfo>} remote m-lines by mid */
    this.remote = new Map();
    /** Publish negotiations run one at a time, as do subscribe answers. */
    this.pubChain = Promise.resolve();
    this.subChain = Promise.resolve();
    this.restartTimer = 0;
    conn.on(ServerType.MEDIA_CONFIG, (d) => this.configure(d));
    conn.on(ServerType.MEDIA_OFFER, (d) => {
      this.subChain = this.subChain.then(() => this.onOffer(d)).catch((e) => this.emit('error', e));
    });
    conn.on(ServerType.MEDIA_SPEAKING, (d) => this.emit('speaking', d));
  }

  /**
   * A new configuration comes with every new server-side peer (first
   * entry, reconnect): start both PeerConnections afresh and publish again
   * what is switched on.
   * @param {{iceServers: IceServer[]}} d
   */
  configure(d) {
    this.iceServers = d.iceServers || [];
    this.closePCs();
    this.configured = true;
    this.emit('ready');
    const again = [...this.local];
    this.local.clear();
    for (const [kind, { track }] of again) {
      this.publish(kind, track).catch((e) => this.emit('error', e));
    }
  }

  /** @private */
  closePCs() {
    for (const pc of [this.pub, this.sub]) if (pc) pc.close();
    this.pub = null;
    this.sub = null;
    this.transceivers.clear();
    for (const info of this.remote.values()) this.emit('trackended', { info });
    this.remote.clear();
    this.pubChain = Promise.resolve();
    this.subChain = Promise.resolve();
  }

  /** @private @param {'publish'|'subscribe'} target */
  newPC(target) {
    const pc = new this.PC({ iceServers: this.iceServers, bundlePolicy: 'max-bundle' });
    pc.onicecandidate = (/** @type {any} */ e) => {
      if (!e.candidate || !e.candidate.candidate) return;
      const c = e.candidate.toJSON();
      /** @type {any} */
      const data = { target, candidate: c.candidate };
      if (c.sdpMid != null) data.sdpMid = c.sdpMid;
      if (c.sdpMLineIndex != null) data.sdpMLineIndex = c.sdpMLineIndex;
      if (c.usernameFragment != null) data.usernameFragment = c.usernameFragment;
      this.conn.request(ClientType.MEDIA_CANDIDATE, data).catch(() => {});
    };
    pc.oniceconnectionstatechange = () => this.iceChanged(target, pc);
    pc.onconnectionstatechange = () => this.emit('state', { target, state: pc.connectionState });
    return pc;
  }

  /** @private Restarts ICE on failure, and after 3 s of "disconnected". */
  iceChanged(target, pc) {
    if (pc !== this.pub && pc !== this.sub) return;
    const st = pc.iceConnectionState;
    if (st === 'failed') this.restartICE(target);
    else if (st === 'disconnected') {
      setTimeout(() => {
        if (pc.iceConnectionState === 'disconnected') this.restartICE(target);
      }, 3000);
    }
  }

  /**
   * ICE restart (network change, failed ICE): publish renegotiates with
   * iceRestart; subscribe asks the server for a new offer.
   * @param {'publish'|'subscribe'} [only]
   */
  restartICE(only) {
    if (!this.configured) return;
    if ((!only || only === 'publish') && this.pub && this.local.size > 0) {
      this.negotiate({ iceRestart: true }).catch((e) => this.emit('error', e));
    }
    if ((!only || only === 'subscribe') && this.sub) {
      this.conn.request(ClientType.MEDIA_RESTART).catch((e) => this.emit('error', e));
    }
  }

  /** @private @param {{target: string, sdp: string, tracks: TrackInfo[]}} d */
  async onOffer(d) {
    if (d.target !== 'subscribe') return;
    if (!this.sub) this.sub = this.newPC('subscribe');
    const pc = this.sub;
    const before = this.remote;
    this.remote = new Map((d.tracks || []).map((t) => [t.mid, t]));
    await pc.setRemoteDescription({ type: 'offer', sdp: d.sdp });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    if (pc !== this.sub) return;
    await this.conn.request(ClientType.MEDIA_ANSWER, { target: 'subscribe', sdp: pc.localDescription.sdp });
    for (const [mid, info] of before) {
      const now = this.remote.get(mid);
      if (!now || now.trackId !== info.trackId) this.emit('trackended', { info });
    }
    // Matched by mid, not by remote track IDs (they differ between
    // browsers); an m-line that now carries another track is announced again.
    for (const t of pc.getTransceivers()) {
      const info = t.mid && this.remote.get(t.mid);
      if (!info) continue;
      const old = before.get(t.mid);
      if (old && old.trackId === info.trackId) continue;
      this.emit('track', { info, track: t.receiver.track });
    }
  }

  /**
   * Publishes a track of a kind (replacing the one published before).
   * @param {Kind} kind @param {any} track
   */
  publish(kind, track) {
    return this.enqueue(async () => {
      if (!this.pub) this.pub = this.newPC('publish');
      let tr = this.transceivers.get(kind);
      if (tr) {
        await tr.sender.replaceTrack(track);
        tr.direction = 'sendonly';
      } else {
        /** @type {any} */
        const init = { direction: 'sendonly' };
        if (kind === 'camera') init.sendEncodings = SIMULCAST.map((e) => ({ ...e }));
        tr = this.pub.addTransceiver(track, init);
        this.transceivers.set(kind, tr);
      }
      this.local.set(kind, { track, tr });
      await this.offer();
    });
  }

  /**
   * Stops publishing a kind. The caller stops the track (its device light
   * goes out) and tells the server with media.state.
   * @param {Kind} kind
   */
  unpublish(kind) {
    return this.enqueue(async () => {
      const cur = this.local.get(kind);
      this.local.delete(kind);
      if (!cur || !this.pub) return;
      this.pub.removeTrack(cur.tr.sender);
      await this.offer();
    });
  }

  /**
   * Swaps the device of a published kind without renegotiating.
   * @param {Kind} kind @param {any} track
   */
  async replace(kind, track) {
    const cur = this.local.get(kind);
    if (!cur) return;
    await cur.tr.sender.replaceTrack(track);
    cur.track = track;
  }

  /** @private @param {{iceRestart?: boolean}} [opts] */
  negotiate(opts) {
    return this.enqueue(() => this.offer(opts));
  }

  /** @private @param {() => Promise<void>} f */
  enqueue(f) {
    const p = this.pubChain.then(f);
    this.pubChain = p.catch(() => {});
    return p;
  }

  /** @private The publish offer/answer; runs inside the chain. */
  async offer(opts) {
    const pc = this.pub;
    const offer = await pc.createOffer(opts);
    await pc.setLocalDescription(offer);
    /** @type {Object<string, Kind>} */
    const kinds = {};
    for (const [kind, tr] of this.transceivers) if (tr.mid) kinds[tr.mid] = kind;
    // The answer comes just before the ack of the request.
    let off = () => {};
    const answered = new Promise((resolve) => {
      off = this.conn.on(ServerType.MEDIA_ANSWER, (d) => {
        if (d.target === 'publish') {
          off();
          resolve(d);
        }
      });
    });
    try {
      await this.conn.request(ClientType.MEDIA_PUBLISH, { sdp: pc.localDescription.sdp, kinds });
    } catch (e) {
      off();
      if (pc.signalingState === 'have-local-offer') await pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
      throw e;
    }
    const answer = await answered;
    if (pc !== this.pub) return;
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  }

  /**
   * Reports the size a remote video is shown at (CSS pixels times the
   * device pixel ratio), so the server sends a layer that fills it.
   * @param {string} trackId @param {number} width @param {number} height
   */
  layer(trackId, width, height) {
    return this.conn.request(ClientType.MEDIA_LAYER, { trackId, width: Math.round(width), height: Math.round(height) });
  }

  /**
   * The echo test through the server: while on, the SFU sends one's own
   * published microphone back (as a subscribe track of oneself, kind
   * mic), for at most 15 s.
   * @param {boolean} on
   */
  echo(on) {
    return this.conn.request(ClientType.MEDIA_ECHO, { on });
  }

  /** @param {{audio: boolean, video: boolean, screen: boolean}} s */
  setState(s) {
    return this.conn.request(ClientType.MEDIA_STATE, s);
  }

  /**
   * Round-trip time and packet loss of the media connections.
   * @returns {Promise<{rtt?: number, loss?: number, quality: string}>}
   */
  async quality() {
    let rtt;
    let lost = 0;
    let received = 0;
    let seen = false;
    for (const pc of [this.pub, this.sub]) {
      if (!pc || pc.connectionState !== 'connected') continue;
      const stats = await pc.getStats();
      stats.forEach((/** @type {any} */ s) => {
        if (s.type === 'candidate-pair' && s.nominated && s.currentRoundTripTime !== undefined) {
          rtt = Math.max(rtt ?? 0, s.currentRoundTripTime);
          seen = true;
        }
        if (s.type === 'inbound-rtp') {
          lost += Math.max(0, s.packetsLost || 0);
          received += s.packetsReceived || 0;
          seen = true;
        }
        if (s.type === 'remote-inbound-rtp' && s.fractionLost !== undefined) {
          lost += s.fractionLost * 100;
          received += 100;
        }
      });
    }
    if (!seen) return { quality: 'unknown' };
    const prev = this.lastLoss || { lost: 0, received: 0 };
    this.lastLoss = { lost, received };
    const dl = lost - prev.lost;
    const dr = received - prev.received;
    const loss = dl + dr > 0 ? Math.max(0, dl) / (dl + dr) : 0;
    return { rtt, loss, quality: qualityOf(rtt, loss) };
  }

  /** Ends all media (leaving, meeting ended). */
  close() {
    for (const { track } of this.local.values()) track.stop();
    this.local.clear();
    this.closePCs();
    this.configured = false;
  }
}

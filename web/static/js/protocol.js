// Aula's WebSocket protocol for the browser: the message types, a
// connection with automatic reconnect, typed send helpers and an event
// emitter. No DOM access here: the UI lives in app.js and ui/.
// Mirrors signaling/protocol.go; documented in docs/protocol.md.

/**
 * @typedef {{type: string, ref?: string, data?: any}} Envelope
 * @typedef {'MODERATOR'|'VIEWER'} Role
 * @typedef {{id: string, name: string, avatar: boolean, role: Role,
 *   kind: 'browser'|'phone', inRoom: boolean, connected: boolean,
 *   raisedHand: boolean, handRaisedAt?: string, presenter: boolean, away: boolean,
 *   audio: boolean, muted: boolean, video: boolean,
 *   screen: boolean}} Participant
 * @typedef {{exceptPresenter: boolean}} MuteAll
 * @typedef {{away: boolean}} StatusSet
 * @typedef {{emoji: string}} ReactionSend
 * @typedef {{id: string, emoji: string}} Reaction
 * @typedef {{id: string, from: string, fromName: string, fromRole?: Role,
 *   to?: string, text: string, time: string, system?: boolean}} ChatMessage
 * @typedef {{disableCam?: boolean, disableMic?: boolean, disablePrivChat?: boolean,
 *   disablePublicChat?: boolean, disableNotes?: boolean, hideUserList?: boolean,
 *   webcamsOnlyForModerator?: boolean, lockOnJoin?: boolean}} LockSettings
 * @typedef {{lock: LockSettings}} LockSet
 * @typedef {{lock: LockSettings}} MeetingUpdated
 * @typedef {{name: string, welcome?: string, pin?: string,
 *   dialNumber?: string, logoutURL?: string, startTime?: string,
 *   running: boolean, muteOnStart: boolean, lock: Object<string, boolean>}} MeetingInfo
 * @typedef {{self: Participant, meeting: MeetingInfo, roster: Participant[],
 *   chat: ChatMessage[], lobby: boolean, serverTime: string,
 *   lobbyReason?: 'start'|'guest', waiting?: Participant[],
 *   features?: Object<string, any>}} Welcome
 * @typedef {{id?: string, all?: boolean, allow: boolean}} GuestAdmit
 * @typedef {{waiting: Participant[]}} GuestWaiting
 * @typedef {{ref?: string, code: string, message: string}} ErrorData
 * @typedef {{reason: string, logoutURL?: string}} Ended
 * @typedef {{iceServers: {urls: string[], username?: string, credential?: string}[]}} MediaConfig
 * @typedef {{sdp: string, kinds?: Object<string, 'mic'|'camera'|'screen'>}} MediaPublish
 * @typedef {{target: 'publish'|'subscribe', sdp: string}} MediaAnswer
 * @typedef {{trackId: string, mid: string, streamId: string, participantId: string,
 *   kind: 'mic'|'camera'|'screen'}} TrackInfo
 * @typedef {{target: 'subscribe', sdp: string, tracks: TrackInfo[]}} MediaOffer
 * @typedef {{target: 'publish'|'subscribe', candidate: string, sdpMid?: string,
 *   sdpMLineIndex?: number, usernameFragment?: string}} MediaCandidate
 * @typedef {{audio: boolean, video: boolean, screen: boolean}} MediaState
 * @typedef {{trackId: string, width: number, height: number}} MediaLayer
 * @typedef {{id: string, speaking: boolean}} MediaSpeaking
 * @typedef {{on: boolean}} MediaEcho
 */

/**
 * Presentation and whiteboard (docs/protocol.md, "Presentation", "Whiteboard").
 * @typedef {{w: number, h: number}} PageSize
 * @typedef {{id: string, name: string, status: 'converting'|'ready'|'failed',
 *   pages?: PageSize[], done?: number, total?: number, error?: string,
 *   downloadable: boolean, ext?: string, uploader?: string, page?: number}} PresentationDoc
 * @typedef {{docs: PresentationDoc[], current: string, page: number,
 *   zoom: number, x: number, y: number}} PresentationState
 * @typedef {{doc: string}} DocRef
 * @typedef {{page: number}} PageTurn
 * @typedef {{zoom: number, x: number, y: number}} ViewSet
 * @typedef {{doc: string, allow: boolean}} DownloadSet
 * @typedef {{doc: string, page: number}} PageRef
 * @typedef {{id: string, kind: 'pen'|'highlighter'|'line'|'arrow'|'rect'|'ellipse'|'text',
 *   points: number[][], color: string, width: number, text?: string, size?: number,
 *   author?: string}} Shape
 * @typedef {{page: PageRef, shape: Shape}} WBShape
 * @typedef {{page: PageRef, ids: string[]}} WBShapes
 * @typedef {{page: PageRef, shapes: Shape[]}} WBShapesAdded
 * @typedef {{page: PageRef, ids: string[], dx: number, dy: number}} WBMove
 * @typedef {{page: PageRef, all?: boolean}} WBClear
 * @typedef {{all: boolean, ids: string[]}} WBAccess
 * @typedef {{id?: string, page: PageRef, x: number, y: number}} WBCursor
 * @typedef {{pages: Object<string, Shape[]>, all: boolean, ids: string[]}} WhiteboardState
 */

/**
 * Polls, notes, timer, external video (docs/protocol.md).
 * @typedef {{question: string, kind: 'yesno'|'yesnoabstain'|'truefalse'|'letters'|'custom'|'text',
 *   options?: string[], labels?: string[], letters?: number, multiple?: boolean, anonymous?: boolean}} PollStart
 * @typedef {{poll: string, choices?: number[], text?: string}} PollVote
 * @typedef {{id: string, question: string, kind: string, options: string[], multiple: boolean,
 *   anonymous: boolean, status: 'open'|'stopped'|'published', voted: boolean, mine?: number[],
 *   mineText?: string, counts?: number[], texts?: string[], total: number,
 *   voters?: string[][], textVoters?: string[]}} PollState
 * @typedef {(number|string)[]} TextOp
 * @typedef {{rev: number, op: TextOp}} NotesEdit
 * @typedef {{rev: number, op: TextOp, author: string}} NotesOp
 * @typedef {{rev: number}} NotesAck
 * @typedef {{id?: string, rev: number, pos: number, end: number}} NotesCursor
 * @typedef {{rev: number, text: string}} NotesState
 * @typedef {{mode: 'countdown'|'stopwatch', seconds?: number}} TimerStart
 * @typedef {{mode: ''|'countdown'|'stopwatch', running: boolean, seconds: number,
 *   elapsedMs: number, at: string}} TimerState
 * @typedef {{url: string}} VideoShare
 * @typedef {{playing: boolean, position: number, rate: number}} VideoControl
 * @typedef {{url: string, provider: ''|'file'|'youtube'|'vimeo'|'peertube', embed: string,
 *   origin: string, playing: boolean, position: number, rate: number, at: string,
 *   allowed?: string[], peertubeHosts?: string[]}} VideoState
 * A chat line of the meeting itself (a poll's result) has system: true.
 */

/** Client → server message types. */
export const ClientType = Object.freeze({
  CHAT_SEND: 'chat.send',
  HAND_RAISE: 'hand.raise',
  HAND_LOWER: 'hand.lower',
  ROLE_SET: 'role.set',
  PARTICIPANT_MUTE: 'participant.mute',
  PARTICIPANT_REMOVE: 'participant.remove',
  MEETING_END: 'meeting.end',
  GUEST_ADMIT: 'guest.admit',
  LOCK_SET: 'lock.set',
  CHAT_CLEAR: 'chat.clear',
  HAND_LOWER_ALL: 'hand.lowerAll',
  PARTICIPANT_MUTE_ALL: 'participant.muteAll',
  PRESENTER_SET: 'presenter.set',
  STATUS_SET: 'status.set',
  REACTION_SEND: 'reaction.send',
  PRESENTATION_SHOW: 'presentation.show',
  PRESENTATION_PAGE: 'presentation.page',
  PRESENTATION_VIEW: 'presentation.view',
  PRESENTATION_REMOVE: 'presentation.remove',
  PRESENTATION_DOWNLOAD: 'presentation.download',
  PRESENTATION_ADD_PAGE: 'presentation.addPage',
  WB_DRAW: 'wb.draw',
  WB_DRAWING: 'wb.drawing',
  WB_ERASE: 'wb.erase',
  WB_MOVE: 'wb.move',
  WB_UNDO: 'wb.undo',
  WB_REDO: 'wb.redo',
  WB_CLEAR: 'wb.clear',
  WB_ACCESS: 'wb.access',
  WB_CURSOR: 'wb.cursor',
  POLL_START: 'poll.start',
  POLL_VOTE: 'poll.vote',
  POLL_STOP: 'poll.stop',
  POLL_PUBLISH: 'poll.publish',
  NOTES_EDIT: 'notes.edit',
  NOTES_CURSOR: 'notes.cursor',
  NOTES_SYNC: 'notes.sync',
  NOTES_TO_BOARD: 'notes.toBoard',
  TIMER_START: 'timer.start',
  TIMER_PAUSE: 'timer.pause',
  TIMER_RESUME: 'timer.resume',
  TIMER_CLEAR: 'timer.clear',
  VIDEO_SHARE: 'video.share',
  VIDEO_CONTROL: 'video.control',
  VIDEO_STOP: 'video.stop',
  LEAVE: 'leave',
  PING: 'ping',
  // Media (js/media.js): negotiation with the SFU and device state.
  MEDIA_PUBLISH: 'media.publish',
  MEDIA_ANSWER: 'media.answer',
  MEDIA_CANDIDATE: 'media.candidate',
  MEDIA_STATE: 'media.state',
  MEDIA_LAYER: 'media.layer',
  MEDIA_RESTART: 'media.restart',
  MEDIA_ECHO: 'media.echo',
});

/** Server → client message types. */
export const ServerType = Object.freeze({
  WELCOME: 'welcome',
  LOBBY_ADMITTED: 'lobby.admitted',
  PARTICIPANT_JOINED: 'participant.joined',
  PARTICIPANT_UPDATED: 'participant.updated',
  PARTICIPANT_LEFT: 'participant.left',
  CHAT_MESSAGE: 'chat.message',
  MEETING_ENDED: 'meeting.ended',
  REMOVED: 'removed',
  REPLACED: 'replaced',
  ACK: 'ack',
  ERROR: 'error',
  PONG: 'pong',
  GUEST_WAITING: 'guest.waiting',
  GUEST_DENIED: 'guest.denied',
  MEETING_UPDATED: 'meeting.updated',
  CHAT_CLEARED: 'chat.cleared',
  REACTION: 'reaction',
  PRESENTATION_STATE: 'presentation.state',
  WB_ADDED: 'wb.added',
  WB_REMOVED: 'wb.removed',
  WB_MOVED: 'wb.moved',
  WB_DRAWING: 'wb.drawing',
  WB_ACCESS: 'wb.access',
  WB_CURSOR: 'wb.cursor',
  POLL_STATE: 'poll.state',
  NOTES_OP: 'notes.op',
  NOTES_ACK: 'notes.ack',
  NOTES_CURSOR: 'notes.cursor',
  NOTES_STATE: 'notes.state',
  TIMER_STATE: 'timer.state',
  TIMER_DONE: 'timer.done',
  VIDEO_STATE: 'video.state',
  MEDIA_CONFIG: 'media.config',
  MEDIA_OFFER: 'media.offer',
  MEDIA_ANSWER: 'media.answer',
  MEDIA_SPEAKING: 'media.speaking',
});

/** The reactions a participant may send (reaction.send). */
export const REACTIONS = Object.freeze(['👍', '👎', '👏', '😂', '😮', '❤️', '🎉', '🤔']);

/** Error codes of `error` messages. */
export const ErrorCode = Object.freeze({
  BAD_REQUEST: 'bad_request',
  UNKNOWN_TYPE: 'unknown_type',
  TOO_LARGE: 'too_large',
  RATE_LIMITED: 'rate_limited',
  FORBIDDEN: 'forbidden',
  NOT_FOUND: 'not_found',
  NOT_IN_ROOM: 'not_in_room',
  ENDED: 'ended',
  FULL: 'full',
  DENIED: 'denied',
  REPLACED: 'replaced',
  UNAVAILABLE: 'unavailable',
  MEDIA_FAILED: 'media_failed',
  CONFLICT: 'conflict',
  INTERNAL: 'internal',
  // Client-side only: the connection dropped before the answer came.
  DISCONNECTED: 'disconnected',
});

/**
 * WebSocket close codes of the server. 4000–4999 are final (do not
 * reconnect); FLOOD (1008, the client kept sending past its message
 * budget) is followed by a reconnect with backoff like any other drop.
 */
export const CloseCode = Object.freeze({
  FLOOD: 1008,
  ENDED: 4001,
  REMOVED: 4003,
  REPLACED: 4004,
  LEFT: 4005,
  DENIED: 4006,
  FULL: 4009,
  MOVED: 1012,
});

/** @param {number} code */
export function isFinalClose(code) {
  return code >= 4000 && code <= 4999;
}

/** A request refused by the server (or lost with the connection). */
export class ProtocolError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
  }
}

/** A minimal event emitter. */
export class Emitter {
  constructor() {
    /** @type {Map<string, Set<Function>>} */
    this.handlers = new Map();
  }

  /**
   * @param {string} type
   * @param {(data: any, env?: Envelope) => void} fn
   * @returns {() => void} unsubscribe
   */
  on(type, fn) {
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  /** @param {string} type @param {any} [data] @param {Envelope} [env] */
  emit(type, data, env) {
    for (const fn of this.handlers.get(type) || []) {
      try {
        fn(data, env);
      } catch (e) {
        console.error('handler of', type, e);
      }
    }
  }
}

/**
 * The WebSocket URL of the page's room: relative to the page, so a path
 * prefix of the server works.
 * @param {{href: string}} loc
 */
export function socketURL(loc) {
  const u = new URL('ws', loc.href);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.search = '';
  u.hash = '';
  return u.toString();
}

/**
 * Connection to the room with automatic reconnect (exponential backoff
 * with jitter) until the server closes with a final code.
 *
 * Events: 'state' ('connecting'|'open'|'reconnecting'|'closed'), 'message'
 * (every envelope), one event per server type (its data), and 'final'
 * ({code, reason}) when the connection ends for good.
 */
export class Connection extends Emitter {
  /**
   * @param {string} url
   * @param {{WebSocket?: any, minDelay?: number, maxDelay?: number,
   *   maxAttempts?: number, pingInterval?: number, pongTimeout?: number}} [opts]
   */
  constructor(url, opts = {}) {
    super();
    this.url = url;
    this.WS = opts.WebSocket || globalThis.WebSocket;
    this.minDelay = opts.minDelay ?? 500;
    this.maxDelay = opts.maxDelay ?? 15000;
    // Without one welcome for this many tries (about 3 minutes), give up:
    // the session is gone (meeting ended while offline, or server away).
    this.maxAttempts = opts.maxAttempts ?? 16;
    this.pingInterval = opts.pingInterval ?? 25000;
    this.pongTimeout = opts.pongTimeout ?? 10000;
    /** @type {any} */
    this.ws = null;
    this.attempt = 0;
    this.nextRef = 1;
    this.stopped = false;
    /** @type {Map<string, {resolve: Function, reject: Function}>} */
    this.pending = new Map();
    this.timer = 0;
    this.pingTimer = 0;
    this.pongTimer = 0;
  }

  start() {
    this.stopped = false;
    this.open();
  }

  /** @private */
  open() {
    this.emit('state', this.attempt === 0 ? 'connecting' : 'reconnecting');
    const ws = new this.WS(this.url);
    this.ws = ws;
    ws.onopen = () => this.startPings();
    ws.onmessage = (/** @type {{data: string}} */ ev) => this.receive(ev.data);
    ws.onclose = (/** @type {{code: number, reason: string}} */ ev) => this.closed(ws, ev.code, ev.reason);
    ws.onerror = () => {}; // a close event follows
  }

  /** @private @param {string} raw */
  receive(raw) {
    /** @type {Envelope} */
    let env;
    try {
      env = JSON.parse(raw);
    } catch {
      return;
    }
    if (!env || typeof env.type !== 'string') return;
    if (env.type === ServerType.WELCOME) {
      this.attempt = 0;
      this.emit('state', 'open');
    }
    if (env.ref && this.pending.has(env.ref)) {
      const p = this.pending.get(env.ref);
      if (env.type === ServerType.ACK || env.type === ServerType.PONG) {
        this.pending.delete(env.ref);
        p.resolve(env.data);
      } else if (env.type === ServerType.ERROR) {
        this.pending.delete(env.ref);
        p.reject(new ProtocolError(env.data.code, env.data.message));
      }
    }
    this.emit('message', env.data, env);
    this.emit(env.type, env.data, env);
  }

  /** @private */
  closed(ws, code, reason) {
    if (ws !== this.ws) return;
    this.stopPings();
    this.ws = null;
    for (const p of this.pending.values()) {
      p.reject(new ProtocolError(ErrorCode.DISCONNECTED, 'connection lost'));
    }
    this.pending.clear();
    if (this.stopped || isFinalClose(code)) {
      this.stopped = true;
      this.emit('state', 'closed');
      this.emit('final', { code, reason });
      return;
    }
    this.attempt++;
    if (this.attempt > this.maxAttempts) {
      this.stopped = true;
      this.emit('state', 'closed');
      this.emit('final', { code: 0, reason: 'unreachable' });
      return;
    }
    const base = Math.min(this.maxDelay, this.minDelay * 2 ** (this.attempt - 1));
    const delay = base / 2 + Math.random() * base / 2;
    this.emit('state', 'reconnecting');
    this.timer = setTimeout(() => this.open(), delay);
  }

  /** @private The browser hides WebSocket pings: detect dead links with our own. */
  startPings() {
    this.stopPings();
    this.pingTimer = setInterval(() => {
      this.pongTimer = setTimeout(() => this.ws && this.ws.close(), this.pongTimeout);
      this.request(ClientType.PING).then(() => clearTimeout(this.pongTimer), () => {});
    }, this.pingInterval);
  }

  /** @private */
  stopPings() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }

  /** Stops for good (no reconnect). */
  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
  }

  /** @returns {boolean} */
  get connected() {
    return !!this.ws && this.ws.readyState === 1;
  }

  /**
   * Sends a request; resolves on its ack (or pong), rejects with a
   * ProtocolError on its error.
   * @param {string} type
   * @param {any} [data]
   * @returns {Promise<any>}
   */
  request(type, data) {
    if (!this.connected) {
      return Promise.reject(new ProtocolError(ErrorCode.DISCONNECTED, 'not connected'));
    }
    const ref = 'r' + this.nextRef++;
    /** @type {Envelope} */
    const env = { type, ref };
    if (data !== undefined) env.data = data;
    return new Promise((resolve, reject) => {
      this.pending.set(ref, { resolve, reject });
      this.ws.send(JSON.stringify(env));
    });
  }

  /** @param {string} text @param {string} [to] participant id for a private message */
  chat(text, to) {
    return this.request(ClientType.CHAT_SEND, to ? { to, text } : { text });
  }

  /** @param {boolean} up */
  raiseHand(up) {
    return this.request(ClientType.HAND_RAISE, { up });
  }

  /** @param {string} id */
  lowerHand(id) {
    return this.request(ClientType.HAND_LOWER, { id });
  }

  /** @param {string} id @param {Role} role */
  setRole(id, role) {
    return this.request(ClientType.ROLE_SET, { id, role });
  }

  /** @param {string} id */
  mute(id) {
    return this.request(ClientType.PARTICIPANT_MUTE, { id });
  }

  /** @param {string} id */
  remove(id) {
    return this.request(ClientType.PARTICIPANT_REMOVE, { id });
  }

  /** Let a waiting guest in (allow) or turn them away. @param {string} id @param {boolean} allow */
  admitGuest(id, allow) {
    return this.request(ClientType.GUEST_ADMIT, { id, allow });
  }

  /** Let every waiting guest in. */
  admitAllGuests() {
    return this.request(ClientType.GUEST_ADMIT, { all: true, allow: true });
  }

  /** Moderator: lower every raised hand. */
  lowerAllHands() {
    return this.request(ClientType.HAND_LOWER_ALL);
  }

  /** Moderator: mute everyone but oneself. @param {boolean} exceptPresenter */
  muteAll(exceptPresenter) {
    return this.request(ClientType.PARTICIPANT_MUTE_ALL, { exceptPresenter });
  }

  /** Moderator: make a participant the presenter. @param {string} id */
  setPresenter(id) {
    return this.request(ClientType.PRESENTER_SET, { id });
  }

  /** One's own "away" status. @param {boolean} away */
  setAway(away) {
    return this.request(ClientType.STATUS_SET, { away });
  }

  /** A short reaction (one of the documented emoji). @param {string} emoji */
  react(emoji) {
    return this.request(ClientType.REACTION_SEND, { emoji });
  }

  /** Moderator: replace the lock settings. @param {LockSettings} lock */
  setLock(lock) {
    return this.request(ClientType.LOCK_SET, { lock });
  }

  /** Moderator: clear the public chat for everyone. */
  clearChat() {
    return this.request(ClientType.CHAT_CLEAR);
  }

  endMeeting() {
    return this.request(ClientType.MEETING_END);
  }

  leave() {
    return this.request(ClientType.LEAVE);
  }

  ping() {
    return this.request(ClientType.PING);
  }
}

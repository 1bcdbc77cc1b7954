// The client's state: one object, changed only by app.js from server
// messages and local actions, and topics that the UI modules listen to.
// No DOM here.
import { Emitter } from './protocol.js';

/**
 * @typedef {import('./protocol.js').Participant} Participant
 * @typedef {import('./protocol.js').ChatMessage} ChatMessage
 * @typedef {import('./protocol.js').MeetingInfo} MeetingInfo
 * @typedef {'mic'|'camera'|'screen'} Kind
 * @typedef {'connecting'|'check'|'room'|'ended'} View
 * @typedef {{
 *   view: View,
 *   self: Participant|null,
 *   meeting: MeetingInfo|null,
 *   roster: Map<string, Participant>,
 *   lobby: boolean,
 *   lobbyReason: string,
 *   waiting: Participant[],
 *   ended: boolean,
 *   serverOffset: number,
 *   chat: ChatMessage[],
 *   chatIDs: Set<string>,
 *   speaking: Set<string>,
 *   lastSpoke: Map<string, number>,
 *   reactions: Map<string, {emoji: string, until: number}>,
 *   local: Record<Kind, boolean>,
 *   quality: string,
 *   mediaReady: boolean,
 *   entered: boolean,
 *   presentation: import('./protocol.js').PresentationState|null,
 *   presentationActive: boolean,
 * }} State
 */

/** Topics: 'view', 'self', 'roster', 'meeting', 'chat', 'waiting',
 * 'speaking', 'reaction', 'local', 'quality', 'media', 'presentation'. */
export class Store extends Emitter {
  constructor() {
    super();
    /** @type {State} */
    this.state = {
      view: 'connecting',
      self: null,
      meeting: null,
      roster: new Map(),
      lobby: true,
      lobbyReason: '',
      waiting: [],
      ended: false,
      serverOffset: 0,
      chat: [],
      chatIDs: new Set(),
      speaking: new Set(),
      lastSpoke: new Map(),
      reactions: new Map(),
      local: { mic: false, camera: false, screen: false },
      quality: 'unknown',
      mediaReady: false,
      entered: false,
      // The presentation as the server last told it, and whether the
      // stage should show it (ui/presentation.js sets both; topic
      // 'presentation').
      presentation: null,
      presentationActive: false,
    };
  }

  /** Tells the listeners of topics that the state changed. @param {...string} topics */
  changed(...topics) {
    for (const tp of topics) this.emit(tp, this.state);
  }

  /** @returns {boolean} */
  get isModerator() {
    return !!this.state.self && this.state.self.role === 'MODERATOR';
  }

  /** @returns {import('./protocol.js').LockSettings} */
  get lock() {
    return (this.state.meeting && this.state.meeting.lock) || {};
  }

  /** The display name of a participant, or '' when unknown. @param {string} id */
  nameOf(id) {
    const p = this.state.roster.get(id);
    return p ? p.name : '';
  }
}

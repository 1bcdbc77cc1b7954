// The Aula client: wires the protocol connection to the page. State comes
// only from the server (welcome, then updates); the page renders it.
import { Connection, ServerType, ErrorCode, socketURL } from './protocol.js';
import { $, showView, safeLink } from './ui/dom.js';
import { renderRoster } from './ui/roster.js';
import { chatLine, renderRecipients } from './ui/chat.js';

/**
 * @typedef {import('./protocol.js').Participant} Participant
 * @typedef {import('./protocol.js').Welcome} Welcome
 */

const state = {
  /** @type {Participant|null} */
  self: null,
  /** @type {import('./protocol.js').MeetingInfo|null} */
  meeting: null,
  /** @type {Map<string, Participant>} */
  roster: new Map(),
  /** @type {Set<string>} chat ids shown (welcome and live messages may overlap) */
  chatIDs: new Set(),
  lobby: true,
  ended: false,
  /** @type {Participant|null} who the remove dialog is about */
  removing: null,
};

const reasons = {
  moderator: 'A moderator ended the meeting.',
  api: 'The meeting was ended by the course platform.',
  duration: 'The meeting reached its time limit.',
  noUserJoined: 'Nobody joined the meeting in time.',
  empty: 'Everyone had left the meeting.',
  noModerator: 'No moderator was left in the meeting.',
  shutdown: 'The server was shut down for maintenance.',
  ended: 'This meeting has ended.',
  removed: 'A moderator removed you from the meeting.',
  replaced: 'You opened this meeting in another window or tab.',
  left: 'You left the meeting.',
  full: 'The meeting is full.',
  forbidden: 'You cannot take part in this meeting.',
  unreachable: 'The connection to the meeting was lost. Please join again from your course.',
};

const conn = new Connection(socketURL(location));

/** @param {string} text */
function status(text) {
  $('conn-status').textContent = text;
}

/** @param {string} reason @param {string} [logoutURL] */
function showEnded(reason, logoutURL) {
  if (state.ended) return;
  state.ended = true;
  conn.close();
  for (const d of document.querySelectorAll('dialog[open]')) d.close();
  $('ended-title').textContent = ['removed', 'replaced', 'left', 'full', 'forbidden', 'unreachable'].includes(reason)
    ? 'You are no longer in the meeting' : 'The meeting has ended';
  $('ended-reason').textContent = reasons[reason] || reasons.ended;
  const link = $('ended-link');
  const href = safeLink(logoutURL || (state.meeting && state.meeting.logoutURL));
  if (href) {
    link.href = href;
    link.hidden = false;
  } else {
    link.removeAttribute('href');
    link.hidden = true;
  }
  status('');
  showView('ended');
  $('ended-title').setAttribute('tabindex', '-1');
  $('ended-title').focus();
}

/** @param {Welcome} w */
function onWelcome(w) {
  state.self = w.self;
  state.meeting = w.meeting;
  state.lobby = w.lobby;
  document.title = (w.meeting.name || 'Meeting') + ' · Aula';
  if (w.lobby) {
    $('lobby-title').textContent = w.meeting.name || 'Meeting';
    $('lobby-self').textContent = w.self.name;
    showView('lobby');
    return;
  }
  state.roster = new Map(w.roster.map((p) => [p.id, p]));
  state.roster.set(w.self.id, w.self);
  $('room-name').textContent = w.meeting.name || 'Meeting';
  const welcome = $('welcome-text');
  welcome.textContent = w.meeting.welcome || '';
  welcome.hidden = !w.meeting.welcome;
  $('dialin').hidden = !w.meeting.pin;
  $('dialin-pin').textContent = w.meeting.pin || '';
  $('dialin-number').textContent = w.meeting.dialNumber || '';
  $('dialin-number-row').hidden = !w.meeting.dialNumber;
  const log = $('chat-log');
  log.replaceChildren();
  state.chatIDs.clear();
  for (const m of w.chat) addChat(m, false);
  showView('room');
  renderAll();
}

function renderAll() {
  const self = state.self;
  if (!self || state.lobby) return;
  const isMod = self.role === 'MODERATOR';
  const list = [...state.roster.values()];
  renderRoster($('roster'), list, self, actions);
  $('people-count').textContent = `(${list.length})`;
  const lock = (state.meeting && state.meeting.lock) || {};
  const others = list.filter((p) => p.id !== self.id && p.kind !== 'phone');
  const privTargets = isMod || !lock.disablePrivChat ? others : others.filter((p) => p.role === 'MODERATOR');
  renderRecipients($('chat-to'), privTargets, privTargets.length > 0);
  const hand = $('hand-toggle');
  hand.setAttribute('aria-pressed', String(!!self.raisedHand));
  hand.setAttribute('aria-label', self.raisedHand ? 'Lower hand' : 'Raise hand');
  hand.querySelector('.label').textContent = self.raisedHand ? 'Lower hand' : 'Raise hand';
  $('end-meeting').hidden = !isMod;
}

/** @param {string} id */
function nameOf(id) {
  const p = state.roster.get(id);
  return p ? p.name : 'someone who left';
}

/** @param {import('./protocol.js').ChatMessage} m @param {boolean} scroll */
function addChat(m, scroll = true) {
  if (state.chatIDs.has(m.id) || !state.self) return;
  state.chatIDs.add(m.id);
  const log = $('chat-log');
  log.append(chatLine(m, state.self, nameOf));
  if (scroll) log.scrollTop = log.scrollHeight;
}

/** @param {string} text */
function chatError(text) {
  const el = $('chat-error');
  el.textContent = text;
  el.hidden = !text;
}

/** @param {any} err */
function explain(err) {
  switch (err && err.code) {
    case ErrorCode.FORBIDDEN: return 'That is not allowed.';
    case ErrorCode.RATE_LIMITED: return 'You are sending too fast. Please wait a moment.';
    case ErrorCode.NOT_FOUND: return 'That participant is no longer here.';
    case ErrorCode.DISCONNECTED: return 'Not connected. Trying again…';
    case ErrorCode.TOO_LARGE: return 'That message is too long.';
    default: return (err && err.message) || 'Something went wrong.';
  }
}

/** @type {import('./ui/roster.js').RosterActions} */
const actions = {
  lowerHand: (p) => conn.lowerHand(p.id).catch((e) => status(explain(e))),
  setRole: (p, role) => conn.setRole(p.id, role).catch((e) => status(explain(e))),
  mute: (p) => conn.mute(p.id).catch((e) => status(explain(e))),
  remove: (p) => {
    state.removing = p;
    $('remove-dialog-text').textContent = `${p.name} will leave the meeting and cannot come back with this link.`;
    $('remove-dialog').showModal();
  },
  message: (p) => {
    $('chat-to').value = p.id;
    $('chat-input').focus();
  },
};

/** @param {Participant} p */
function upsert(p) {
  if (state.self && p.id === state.self.id) state.self = p;
  state.roster.set(p.id, p);
  renderAll();
}

conn.on(ServerType.WELCOME, onWelcome);
conn.on(ServerType.LOBBY_ADMITTED, () => status('A moderator has started the meeting.'));
conn.on(ServerType.PARTICIPANT_JOINED, (d) => upsert(d.participant));
conn.on(ServerType.PARTICIPANT_UPDATED, (d) => upsert(d.participant));
conn.on(ServerType.PARTICIPANT_LEFT, (d) => {
  state.roster.delete(d.id);
  renderAll();
});
conn.on(ServerType.CHAT_MESSAGE, (m) => addChat(m));
conn.on(ServerType.MEETING_ENDED, (d) => showEnded(d.reason, d.logoutURL));
conn.on(ServerType.REMOVED, () => showEnded('removed'));
conn.on(ServerType.REPLACED, () => showEnded('replaced'));
conn.on(ServerType.ERROR, (d, env) => {
  // Errors answering a request are handled where it was sent.
  if (env && env.ref) return;
  if (!state.self && ['forbidden', 'full', 'denied'].includes(d.code)) {
    showEnded(d.code === 'denied' ? 'forbidden' : d.code);
    return;
  }
  status(explain(d));
});
conn.on('state', (s) => {
  if (state.ended) return;
  if (s === 'reconnecting') status('Connection lost. Reconnecting…');
  else if (s === 'open') status('');
});
conn.on('final', ({ code, reason }) => {
  if (state.ended) return;
  const byCode = { 4001: 'ended', 4003: 'removed', 4004: 'replaced', 4005: 'left', 4009: 'full' };
  showEnded(byCode[code] || (reason === 'unreachable' ? 'unreachable' : 'ended'));
});

$('chat-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $('chat-input');
  const text = input.value.trim();
  if (!text) return;
  conn.chat(text, $('chat-to').value || undefined).then(() => {
    input.value = '';
    chatError('');
  }, (e) => chatError(explain(e)));
});

$('hand-toggle').addEventListener('click', () => {
  const up = !(state.self && state.self.raisedHand);
  conn.raiseHand(up).catch((e) => status(explain(e)));
});

function leave() {
  conn.leave().catch(() => {}).finally(() => showEnded('left'));
}
$('leave').addEventListener('click', leave);
$('lobby-leave').addEventListener('click', leave);

$('end-meeting').addEventListener('click', () => $('end-dialog').showModal());
$('end-cancel').addEventListener('click', () => $('end-dialog').close());
$('end-confirm').addEventListener('click', () => {
  $('end-dialog').close();
  conn.endMeeting().catch((e) => status(explain(e)));
});
$('remove-cancel').addEventListener('click', () => $('remove-dialog').close());
$('remove-confirm').addEventListener('click', () => {
  $('remove-dialog').close();
  const p = state.removing;
  state.removing = null;
  if (p) conn.remove(p.id).catch((e) => status(explain(e)));
});

conn.start();

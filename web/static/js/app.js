// The Aula client: wires the protocol connection to the page. State comes
// only from the server (welcome, then updates); the page renders it.
import { Connection, ServerType, ErrorCode, socketURL } from './protocol.js';
import { $, showView, safeLink } from './ui/dom.js';
import { renderRoster } from './ui/roster.js';
import { renderWaiting } from './ui/waiting.js';
import { chatLine, renderRecipients } from './ui/chat.js';
import { Media } from './media.js';
import { VideoGrid } from './ui/video.js';

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
  /** @type {string} what the lobby waits for: 'start' or 'guest' */
  lobbyReason: '',
  /** @type {Participant[]} guests waiting for a moderator (moderators only) */
  waiting: [],
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
  denied: 'A moderator did not let you into the meeting.',
  unreachable: 'The connection to the meeting was lost. Please join again from your course.',
};

const conn = new Connection(socketURL(location));
const media = new Media(conn);

/** @param {string} text */
function status(text) {
  $('conn-status').textContent = text;
}

/** @param {string} reason @param {string} [logoutURL] */
function showEnded(reason, logoutURL) {
  if (state.ended) return;
  state.ended = true;
  conn.close();
  stopAllMedia();
  for (const d of document.querySelectorAll('dialog[open]')) d.close();
  $('ended-title').textContent = reason === 'denied' ? 'You were not let in'
    : ['removed', 'replaced', 'left', 'full', 'forbidden', 'unreachable'].includes(reason)
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
  enforceLocks(w);
  state.self = w.self;
  state.meeting = w.meeting;
  state.lobby = w.lobby;
  state.lobbyReason = w.lobbyReason || '';
  state.waiting = w.waiting || [];
  document.title = (w.meeting.name || 'Meeting') + ' · Aula';
  if (w.lobby) {
    $('lobby-title').textContent = w.meeting.name || 'Meeting';
    $('lobby-self').textContent = w.self.name;
    $('lobby-wait').textContent = w.lobbyReason === 'guest'
      ? 'Waiting for a moderator to let you in. You will enter as soon as they do.'
      : 'Waiting for a moderator to start the meeting. You will enter automatically.';
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
  showWaiting();
  markSpeakers();
  grid.relabel();
  renderMedia();
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

/** The moderator's list of waiting guests, with Admit and Deny. */
function showWaiting() {
  const self = state.self;
  const list = self && !state.lobby && self.role === 'MODERATOR' ? state.waiting : [];
  const box = $('waiting');
  box.hidden = list.length === 0;
  $('waiting-count').textContent = `(${list.length})`;
  renderWaiting($('waiting-list'), list, {
    admit: (p) => conn.admitGuest(p.id, true).catch((e) => status(explain(e))),
    deny: (p) => conn.admitGuest(p.id, false).catch((e) => status(explain(e))),
  });
}

/** @param {Participant[]} list */
function onWaiting(list) {
  const known = new Set(state.waiting.map((p) => p.id));
  const arrived = list.filter((p) => !known.has(p.id));
  state.waiting = list;
  showWaiting();
  if (arrived.length > 0 && state.self && state.self.role === 'MODERATOR') {
    $('waiting-status').textContent = arrived.length === 1
      ? `${arrived[0].name} is waiting to be let in.` : `${arrived.length} guests are waiting to be let in.`;
  }
}

/** @param {Participant} p */
function upsert(p) {
  if (state.self && p.id === state.self.id) {
    if (p.muted && !state.self.muted && local.mic) forceOff('mic', 'A moderator muted your microphone. You can switch it on again when you want to speak.');
    state.self = p;
  }
  state.roster.set(p.id, p);
  renderAll();
}

conn.on(ServerType.WELCOME, onWelcome);
conn.on(ServerType.LOBBY_ADMITTED, () => status(state.lobbyReason === 'guest'
  ? 'A moderator let you in.' : 'A moderator has started the meeting.'));
conn.on(ServerType.GUEST_WAITING, (d) => onWaiting(d.waiting || []));
conn.on(ServerType.GUEST_DENIED, () => showEnded('denied'));
conn.on(ServerType.PARTICIPANT_JOINED, (d) => upsert(d.participant));
conn.on(ServerType.PARTICIPANT_UPDATED, (d) => upsert(d.participant));
conn.on(ServerType.PARTICIPANT_LEFT, (d) => {
  state.roster.delete(d.id);
  grid.removeParticipant(d.id);
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
  const byCode = { 4001: 'ended', 4003: 'removed', 4004: 'replaced', 4005: 'left', 4006: 'denied', 4009: 'full' };
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
$('admit-all').addEventListener('click', () => conn.admitAllGuests().catch((e) => status(explain(e))));
$('remove-cancel').addEventListener('click', () => $('remove-dialog').close());
$('remove-confirm').addEventListener('click', () => {
  $('remove-dialog').close();
  const p = state.removing;
  state.removing = null;
  if (p) conn.remove(p.id).catch((e) => status(explain(e)));
});

// ---- Media: camera, microphone, screen share, the video grid ----

/** @typedef {'mic'|'camera'|'screen'} Kind */

/** What this page captures now, by kind (null: off). */
const local = /** @type {Record<Kind, MediaStreamTrack|null>} */ ({ mic: null, camera: null, screen: null });
/** Kinds being switched right now (a second click waits). */
const switching = new Set();

const grid = new VideoGrid($('video-grid'), $('audio-sinks'), {
  nameOf,
  onLayer: (trackId, w, h) => media.layer(trackId, w, h).catch(() => {}),
});

const toggles = {
  mic: { el: 'mic-toggle', on: 'Microphone on', off: 'Microphone off', ariaOn: 'Switch microphone off', ariaOff: 'Switch microphone on', locked: 'Microphone locked by the moderator' },
  camera: { el: 'cam-toggle', on: 'Camera on', off: 'Camera off', ariaOn: 'Switch camera off', ariaOff: 'Switch camera on', locked: 'Camera locked by the moderator' },
  screen: { el: 'screen-toggle', on: 'Stop sharing', off: 'Share screen', ariaOn: 'Stop sharing your screen', ariaOff: 'Share your screen', locked: '' },
};

/** @param {Kind} kind */
function lockedFor(kind) {
  const self = state.self;
  const lock = (state.meeting && state.meeting.lock) || {};
  if (!self || self.role === 'MODERATOR') return false;
  return (kind === 'mic' && !!lock.disableMic) || (kind === 'camera' && !!lock.disableCam);
}

function renderMedia() {
  for (const kind of /** @type {Kind[]} */ (['mic', 'camera', 'screen'])) {
    const t = toggles[kind];
    const el = $(t.el);
    const on = !!local[kind];
    const locked = !on && lockedFor(kind);
    el.setAttribute('aria-pressed', String(on));
    el.setAttribute('aria-label', locked ? t.locked : on ? t.ariaOn : t.ariaOff);
    el.querySelector('.label').textContent = locked ? t.locked : on ? t.on : t.off;
    el.disabled = locked;
  }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia) $('screen-toggle').hidden = true;
}

/** @param {string} text */
function notice(text) {
  const el = $('media-notice');
  el.textContent = text;
  el.hidden = !text;
}

/** @param {any} e @param {Kind} kind */
function explainMedia(e, kind) {
  const what = { mic: 'microphone', camera: 'camera', screen: 'screen' }[kind];
  if (e && (e.name === 'NotAllowedError' || e.name === 'SecurityError')) return `The browser did not allow the ${what}.`;
  if (e && (e.name === 'NotFoundError' || e.name === 'OverconstrainedError')) return `No ${what} was found.`;
  if (e && e.name === 'NotReadableError') return `The ${what} is in use by another program.`;
  if (e && e.code === ErrorCode.FORBIDDEN) return `The moderator has locked the ${what} for viewers.`;
  return explain(e);
}

function stateNow() {
  return { audio: !!local.mic, video: !!local.camera, screen: !!local.screen };
}

/** @param {Kind} kind @returns {Promise<MediaStreamTrack>} */
async function capture(kind) {
  if (kind === 'screen') {
    const s = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    return s.getVideoTracks()[0];
  }
  const id = $(kind === 'mic' ? 'mic-select' : 'cam-select').value;
  const c = kind === 'mic'
    ? { audio: id ? { deviceId: { exact: id } } : true }
    : { video: { ...(id ? { deviceId: { exact: id } } : {}), width: { ideal: 1280 }, height: { ideal: 720 } } };
  const s = await navigator.mediaDevices.getUserMedia(c);
  refreshDevices();
  return kind === 'mic' ? s.getAudioTracks()[0] : s.getVideoTracks()[0];
}

/** @param {Kind} kind */
async function switchOn(kind) {
  const track = await capture(kind);
  local[kind] = track;
  try {
    // The server first: it refuses what a lock forbids, and forwards only
    // what it agreed to.
    await media.setState(stateNow());
  } catch (e) {
    track.stop();
    local[kind] = null;
    throw e;
  }
  // Sharing stopped through the browser's own "Stop sharing" button.
  track.addEventListener('ended', () => {
    if (local[kind] === track) toggle(kind);
  });
  if (kind !== 'mic' && state.self) grid.setLocal(state.self.id, kind, track);
  await media.publish(kind, track);
}

/** @param {Kind} kind @param {boolean} [tell] whether the server must hear of it */
async function switchOff(kind, tell = true) {
  const track = local[kind];
  if (!track) return;
  local[kind] = null;
  track.stop(); // the device light goes out
  if (kind !== 'mic' && state.self) grid.setLocal(state.self.id, kind, null);
  renderMedia();
  if (tell) await media.setState(stateNow()).catch(() => {});
  await media.unpublish(kind);
}

/** @param {Kind} kind */
async function toggle(kind) {
  if (switching.has(kind) || state.lobby || state.ended) return;
  switching.add(kind);
  try {
    if (local[kind]) await switchOff(kind);
    else {
      notice('');
      await switchOn(kind);
    }
  } catch (e) {
    notice(explainMedia(e, kind));
  } finally {
    switching.delete(kind);
    renderMedia();
  }
}

/** The server switched something off (mute, lock): follow it. @param {Kind} kind @param {string} why */
function forceOff(kind, why) {
  notice(why);
  switchOff(kind, false).catch(() => {}).finally(renderMedia);
}

/** A new welcome (role change): a viewer under a lock loses what it forbids. @param {Welcome} w */
function enforceLocks(w) {
  if (w.lobby || w.self.role === 'MODERATOR') return;
  const lock = w.meeting.lock || {};
  if (lock.disableMic && local.mic) forceOff('mic', 'Microphones are locked for viewers.');
  if (lock.disableCam && local.camera) forceOff('camera', 'Cameras are locked for viewers.');
}

function stopAllMedia() {
  for (const kind of /** @type {Kind[]} */ (['mic', 'camera', 'screen'])) {
    if (local[kind]) local[kind].stop();
    local[kind] = null;
  }
  media.close();
  clearInterval(qualityTimer);
}

/** Speaking participants, from media.speaking. */
const speaking = new Set();

function markSpeakers() {
  for (const li of document.querySelectorAll('#roster li[data-id]')) {
    const on = speaking.has(li.getAttribute('data-id'));
    li.classList.toggle('speaking', on);
    let b = li.querySelector('.badge.talking');
    if (on && !b) {
      b = document.createElement('span');
      b.className = 'badge talking';
      b.textContent = 'speaking';
      const badges = li.querySelector('.badges');
      if (badges) badges.append(b);
    } else if (!on && b) b.remove();
  }
}

media.on('ready', () => {
  if (state.self) grid.clearRemote(state.self.id);
  // After a reconnect the server may remember devices this page no longer
  // has (or the reverse): tell it the truth.
  const s = stateNow();
  const self = state.self;
  if (self && (self.audio !== s.audio || self.video !== s.video || self.screen !== s.screen)) {
    media.setState(s).catch(() => {});
  }
});
media.on('track', ({ info, track }) => grid.add(info, track));
media.on('trackended', ({ info }) => grid.remove(info));
media.on('speaking', ({ id, speaking: on }) => {
  if (on) speaking.add(id);
  else speaking.delete(id);
  grid.setSpeaking(id, on);
  markSpeakers();
});
media.on('error', (e) => console.warn('media', e));

$('mic-toggle').addEventListener('click', () => toggle('mic'));
$('cam-toggle').addEventListener('click', () => toggle('camera'));
$('screen-toggle').addEventListener('click', () => toggle('screen'));

async function refreshDevices() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [sel, kind, dflt] of [['mic-select', 'audioinput', 'Default microphone'], ['cam-select', 'videoinput', 'Default camera']]) {
    const el = $(sel);
    const keep = el.value;
    const opts = [new Option(dflt, '')];
    let n = 0;
    for (const d of devices) {
      if (d.kind !== kind || !d.deviceId || d.deviceId === 'default') continue;
      n++;
      opts.push(new Option(d.label || `${dflt.replace('Default ', '')} ${n}`, d.deviceId));
    }
    el.replaceChildren(...opts);
    el.value = opts.some((o) => o.value === keep) ? keep : '';
  }
}

/** Another device chosen while on: swap the track, no renegotiation. @param {Kind} kind */
async function changeDevice(kind) {
  if (!local[kind] || switching.has(kind)) return;
  switching.add(kind);
  try {
    const track = await capture(kind);
    const old = local[kind];
    local[kind] = track;
    await media.replace(kind, track);
    old.stop();
    if (kind === 'camera' && state.self) grid.setLocal(state.self.id, kind, track);
  } catch (e) {
    notice(explainMedia(e, kind));
  } finally {
    switching.delete(kind);
  }
}
$('mic-select').addEventListener('change', () => changeDevice('mic'));
$('cam-select').addEventListener('change', () => changeDevice('camera'));
if (navigator.mediaDevices) {
  navigator.mediaDevices.addEventListener('devicechange', () => refreshDevices());
  refreshDevices().catch(() => {});
}

// Network change: restart ICE at once rather than waiting for it to fail.
window.addEventListener('online', () => media.restartICE());
if (navigator.connection && navigator.connection.addEventListener) {
  navigator.connection.addEventListener('change', () => media.restartICE());
}

const qualityTimer = setInterval(async () => {
  if (state.ended || state.lobby) return;
  const q = await media.quality().catch(() => ({ quality: 'unknown' }));
  const el = $('quality');
  el.hidden = q.quality === 'unknown';
  if (el.hidden) return;
  const words = { good: 'good', fair: 'fair: video may be reduced', poor: 'poor: audio or video may break up' };
  el.textContent = `Connection: ${words[q.quality]}`;
  el.className = 'quality ' + q.quality;
}, 3000);

conn.start();

// The Aula client: loads the catalogue of the page's language, then wires
// the protocol connection, the media and the state store to the UI
// modules. State comes only from the server (welcome, then updates).
import { Connection, ServerType, ErrorCode, socketURL } from './protocol.js';
import { Media } from './media.js';
import { LocalMedia, mediaErrorText } from './localmedia.js';
import { Store } from './store.js';
import { t, pickLanguage, loadCatalogue, setCatalogue } from './i18n.js';
import { $, translate } from './ui/dom.js';
import { Layout, showView, status, toast } from './ui/layout.js';
import { ActionBar } from './ui/actionbar.js';
import { People } from './ui/participants.js';
import { Chat } from './ui/chat.js';
import { Stage } from './ui/stage.js';
import { Presentation } from './ui/presentation.js';
import { DeviceCheck } from './ui/devicecheck.js';
import { renderEnded } from './ui/ended.js';
import { Notes } from './ui/notes.js';
import { Polls } from './ui/polls.js';
import { Timer } from './ui/timer.js';
import { Video } from './ui/video.js';
import { chime } from './ui/sound.js';

/**
 * @typedef {import('./protocol.js').Participant} Participant
 * @typedef {import('./protocol.js').Welcome} Welcome
 * @typedef {'mic'|'camera'|'screen'} Kind
 */

const store = new Store();
const st = store.state;
const conn = new Connection(socketURL(location));
const media = new Media(conn);
const local = new LocalMedia(media);

/** @param {any} err */
function explain(err) {
  switch (err && err.code) {
    case ErrorCode.FORBIDDEN: return t('error.forbidden');
    case ErrorCode.RATE_LIMITED: return t('error.rateLimited');
    case ErrorCode.NOT_FOUND: return t('error.notFound');
    case ErrorCode.DISCONNECTED: return t('error.disconnected');
    case ErrorCode.TOO_LARGE: return t('error.tooLarge');
    case ErrorCode.UNAVAILABLE: return t('error.unavailable');
    default: return t('error.generic');
  }
}

/** @param {string} text */
function notice(text) {
  const el = $('media-notice');
  el.textContent = text;
  el.hidden = !text;
}

async function boot() {
  let chosen = null;
  try {
    chosen = sessionStorage.getItem('aula.lang');
  } catch {
    // no session storage: the page's language
  }
  const lang = pickLanguage(document.documentElement.lang, chosen);
  try {
    await loadCatalogue(lang, new URL('../../static/i18n/', location.href).href);
  } catch (e) {
    console.warn('catalogue', e);
    setCatalogue(lang, {});
  }
  document.documentElement.lang = lang;
  translate(document);
  start();
}

function start() {
  const layout = new Layout(store);
  const bar = new ActionBar(store, {
    toggle: (kind) => {
      if (st.view !== 'room' || st.ended) return;
      if (!local.tracks[kind]) notice('');
      local.toggle(kind);
    },
    hand: (up) => conn.raiseHand(up).catch((e) => status(explain(e))),
    react: (emoji) => conn.react(emoji).catch((e) => status(explain(e))),
    away: (on) => conn.setAway(on).catch((e) => status(explain(e))),
    leave: () => {
      if (store.isModerator) $('leave-dialog').showModal();
      else leave();
    },
    devices: () => {
      check.moveTo('device-check-dialog-home');
      check.render();
      $('devices-dialog').showModal();
    },
    chat: () => {
      layout.select('chat', true);
      $('chat-input').focus();
    },
  });
  layout.setShortcuts(bar.shortcuts());
  const chat = new Chat(store, {
    send: (text, to) => conn.chat(text, to),
    clear: () => conn.clearChat(),
    explain,
    visible: () => layout.chatVisible(),
    unread: (n) => {
      const pill = $('panel-unread');
      pill.hidden = n === 0;
      pill.textContent = String(n);
    },
  });
  layout.onTab = (tab) => {
    if (tab === 'chat') chat.seen();
    if (tab === 'polls') polls.seen();
  };
  const people = new People(store, {
    message: (p) => {
      layout.select('chat', true);
      chat.openPrivate(p.id, p.name);
      $('chat-input').focus();
    },
    mute: (p) => conn.mute(p.id),
    lowerHand: (p) => conn.lowerHand(p.id),
    setRole: (p, role) => conn.setRole(p.id, role),
    presenter: (p) => conn.setPresenter(p.id),
    remove: (p) => conn.remove(p.id),
    muteAll: () => conn.muteAll(true),
    lowerAll: () => conn.lowerAllHands(),
    setLock: (lock) => conn.setLock(lock),
    admit: (p, allow) => conn.admitGuest(p.id, allow),
    admitAll: () => conn.admitAllGuests(),
    explain,
  });
  const stage = new Stage(store, { onLayer: (id, w, h) => media.layer(id, w, h).catch(() => {}) });
  // Lesson tools: polls, shared notes, the timer, the external video.
  const closeMenu = () => {
    $('more').hidden = true;
    $('more-toggle').setAttribute('aria-expanded', 'false');
  };
  new Notes(store, conn, { explain });
  const polls = new Polls(store, conn, { explain, visible: () => layout.visible('polls'), attention: (text) => toast(text) });
  new Timer(store, conn, { explain, toast, closeMenu });
  new Video(store, conn, { explain, closeMenu, changed: () => stage.layout() });
  new Presentation(store, { conn, explain });
  const check = new DeviceCheck(store, {
    media,
    join: (mic, camera) => enter(mic, camera),
    micPublished: () => !!local.tracks.mic,
    deviceChanged: (kind, id) => {
      if (!st.entered) return;
      if (kind === 'speaker') stage.setSink(id);
      else local.changeDevice(kind);
    },
  });
  $('devices-close').addEventListener('click', () => $('devices-dialog').close());
  $('devices-dialog').addEventListener('close', () => {
    check.stop();
    $('more-toggle').focus();
  });

  /** @param {boolean} mic @param {boolean} camera */
  function enter(mic, camera) {
    if (st.entered || st.lobby || st.ended) return;
    st.entered = true;
    st.view = 'room';
    showView('room');
    store.changed('view', 'self', 'roster', 'meeting', 'chat', 'waiting', 'local');
    layout.renderMeeting();
    $('mic-toggle').focus();
    if (mic) local.toggle('mic');
    if (camera) local.toggle('camera');
  }

  /** @param {boolean} lobby */
  function showCheck(lobby) {
    st.view = 'check';
    showView('check');
    check.moveTo('device-check-home');
    $('check-title').textContent = (st.meeting && st.meeting.name) || t('meeting.unnamed');
    $('check-self').textContent = t('check.signedInAs', { name: st.self ? st.self.name : '' });
    const wait = $('lobby-wait');
    wait.hidden = !lobby;
    wait.textContent = st.lobbyReason === 'guest' ? t('lobby.waitGuest') : t('lobby.waitStart');
    $('check-actions').hidden = lobby;
    $('lobby-leave').hidden = !lobby;
    check.render();
  }

  /** @param {string} reason @param {string} [logoutURL] */
  function showEnded(reason, logoutURL) {
    if (st.ended) return;
    st.ended = true;
    conn.close();
    local.stopAll();
    media.close();
    check.stop();
    layout.stop();
    clearInterval(qualityTimer);
    for (const d of document.querySelectorAll('dialog[open]')) /** @type {HTMLDialogElement} */ (d).close();
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    renderEnded(reason, logoutURL || (st.meeting && st.meeting.logoutURL) || '');
    status('');
    st.view = 'ended';
    showView('ended');
    $('ended-title').focus();
  }

  function leave() {
    conn.leave().catch(() => {}).finally(() => showEnded('left'));
  }
  $('lobby-leave').addEventListener('click', leave);
  $('leave-cancel').addEventListener('click', () => $('leave-dialog').close());
  $('leave-confirm').addEventListener('click', () => {
    $('leave-dialog').close();
    leave();
  });
  $('end-confirm').addEventListener('click', () => {
    $('leave-dialog').close();
    conn.endMeeting().catch((e) => status(explain(e)));
  });
  $('leave-dialog').addEventListener('close', () => {
    if (!st.ended) $('leave').focus();
  });

  /** A viewer under a lock loses what it forbids. */
  function enforceLocks() {
    if (!st.self || st.self.role === 'MODERATOR' || st.lobby) return;
    const lock = store.lock;
    if (lock.disableMic && local.tracks.mic) local.forceOff('mic', t('media.micLocked'));
    if (lock.disableCam && local.tracks.camera) local.forceOff('camera', t('media.cameraLocked'));
  }

  /** @param {Welcome} w */
  function onWelcome(w) {
    const wasLobby = st.lobby && !!st.self;
    st.self = w.self;
    st.meeting = w.meeting;
    st.lobby = w.lobby;
    st.lobbyReason = w.lobbyReason || '';
    st.waiting = w.waiting || [];
    const server = Date.parse(w.serverTime);
    st.serverOffset = Number.isNaN(server) ? 0 : server - Date.now();
    document.title = t('doc.title', { name: w.meeting.name || t('meeting.unnamed') });
    if (w.lobby) {
      showCheck(true);
      return;
    }
    st.roster = new Map(w.roster.map((p) => [p.id, p]));
    st.roster.set(w.self.id, w.self);
    st.chat = [...w.chat];
    st.chatIDs = new Set(w.chat.map((m) => m.id));
    enforceLocks();
    chat.reset();
    if (st.entered) {
      store.changed('self', 'roster', 'meeting', 'chat', 'waiting', 'local');
      return;
    }
    if (wasLobby) {
      check.admitted();
      return;
    }
    showCheck(false);
  }

  /** @param {Participant} p */
  function upsert(p) {
    const prev = st.roster.get(p.id);
    if (st.self && p.id === st.self.id) {
      if (p.muted && !st.self.muted && local.tracks.mic) local.forceOff('mic', t('media.mutedByModerator'));
      st.self = p;
    } else if (store.isModerator && p.raisedHand && !(prev && prev.raisedHand) && st.entered) {
      chime();
      toast(t('people.raisedHandBy', { name: p.name }));
    }
    st.roster.set(p.id, p);
    store.changed('roster', 'self');
  }

  conn.on(ServerType.WELCOME, onWelcome);
  conn.on(ServerType.LOBBY_ADMITTED, () => status(st.lobbyReason === 'guest' ? t('lobby.admittedGuest') : t('lobby.admittedStart')));
  conn.on(ServerType.GUEST_WAITING, (d) => {
    const known = new Set(st.waiting.map((p) => p.id));
    const list = /** @type {Participant[]} */ (d.waiting || []);
    const arrived = list.filter((p) => !known.has(p.id));
    st.waiting = list;
    store.changed('waiting');
    if (arrived.length > 0 && store.isModerator) {
      toast(arrived.length === 1 ? t('waiting.arrivedOne', { name: arrived[0].name }) : t('waiting.arrivedMany', { count: arrived.length }));
    }
  });
  conn.on(ServerType.GUEST_DENIED, () => showEnded('denied'));
  conn.on(ServerType.PARTICIPANT_JOINED, (d) => upsert(d.participant));
  conn.on(ServerType.PARTICIPANT_UPDATED, (d) => upsert(d.participant));
  conn.on(ServerType.PARTICIPANT_LEFT, (d) => {
    st.roster.delete(d.id);
    st.speaking.delete(d.id);
    stage.removeParticipant(d.id);
    store.changed('roster');
  });
  conn.on(ServerType.CHAT_MESSAGE, (m) => {
    if (st.chatIDs.has(m.id)) return;
    st.chatIDs.add(m.id);
    st.chat.push(m);
    chat.arrived(m);
    store.changed('chat');
  });
  conn.on(ServerType.CHAT_CLEARED, () => {
    st.chat = st.chat.filter((m) => !!m.to);
    store.changed('chat');
    toast(t('chat.cleared'));
  });
  conn.on(ServerType.MEETING_UPDATED, (d) => {
    if (!st.meeting) return;
    st.meeting = { ...st.meeting, lock: d.lock || {} };
    enforceLocks();
    store.changed('meeting', 'roster', 'chat');
    people.refreshLocks();
  });
  conn.on(ServerType.REACTION, (d) => {
    const until = Date.now() + 5000;
    st.reactions.set(d.id, { emoji: d.emoji, until });
    store.changed('reaction');
    setTimeout(() => {
      const r = st.reactions.get(d.id);
      if (r && r.until <= Date.now()) {
        st.reactions.delete(d.id);
        store.changed('reaction');
      }
    }, 5100);
  });
  conn.on(ServerType.MEETING_ENDED, (d) => showEnded(d.reason, d.logoutURL));
  conn.on(ServerType.REMOVED, () => showEnded('removed'));
  conn.on(ServerType.REPLACED, () => showEnded('replaced'));
  conn.on(ServerType.ERROR, (d, env) => {
    // Errors answering a request are handled where it was sent.
    if (env && env.ref) return;
    if (!st.self && ['forbidden', 'full', 'denied'].includes(d.code)) {
      showEnded(d.code === 'denied' ? 'forbidden' : d.code);
      return;
    }
    status(explain(d));
  });
  conn.on('state', (s) => {
    if (st.ended) return;
    if (s === 'reconnecting') status(t('conn.reconnecting'));
    else if (s === 'open') status('');
  });
  conn.on('final', ({ code, reason }) => {
    if (st.ended) return;
    /** @type {Record<number, string>} */
    const byCode = { 4001: 'ended', 4003: 'removed', 4004: 'replaced', 4005: 'left', 4006: 'denied', 4009: 'full' };
    showEnded(byCode[code] || (reason === 'unreachable' ? 'unreachable' : 'ended'));
  });

  // Media.
  media.on('ready', () => {
    st.mediaReady = true;
    if (st.self) stage.clearRemote(st.self.id);
    store.changed('media');
    // After a reconnect the server may remember devices this page no
    // longer has (or the reverse): tell it the truth.
    const s = local.state();
    const self = st.self;
    if (self && st.entered && (self.audio !== s.audio || self.video !== s.video || self.screen !== s.screen)) {
      media.setState(s).catch(() => {});
    }
  });
  media.on('track', ({ info, track }) => {
    if (st.self && info.participantId === st.self.id && info.kind === 'mic') check.playEcho(track);
    else stage.add(info, track);
  });
  media.on('trackended', ({ info }) => {
    if (st.self && info.participantId === st.self.id && info.kind === 'mic') check.stopEcho();
    else stage.remove(info);
  });
  media.on('speaking', ({ id, speaking }) => {
    if (speaking) {
      st.speaking.add(id);
      st.lastSpoke.set(id, Date.now());
    } else st.speaking.delete(id);
    store.changed('speaking');
  });
  media.on('error', (e) => console.warn('media', e));
  local.on('track', ({ kind, track }) => {
    if (kind !== 'mic' && st.self) stage.setLocal(st.self.id, kind, track);
  });
  local.on('change', () => {
    st.local = { mic: !!local.tracks.mic, camera: !!local.tracks.camera, screen: !!local.tracks.screen };
    store.changed('local');
  });
  local.on('error', ({ kind, error }) => notice(mediaErrorText(error, kind)));
  local.on('forced', ({ why }) => notice(why));

  // Network change: restart ICE at once rather than waiting for it to fail.
  window.addEventListener('online', () => media.restartICE());
  const nc = /** @type {any} */ (navigator).connection;
  if (nc && nc.addEventListener) nc.addEventListener('change', () => media.restartICE());

  const qualityTimer = setInterval(async () => {
    if (st.ended || st.view !== 'room') return;
    const q = await media.quality().catch(() => ({ quality: 'unknown' }));
    if (q.quality !== st.quality) {
      st.quality = q.quality;
      store.changed('quality');
    }
  }, 3000);

  bar.render();
  conn.start();
}

boot();

// The external video's player, inside the frame video.html that Aula
// serves only while a video is shared, under a Content-Security-Policy
// that opens exactly the video's origin. The room's page (js/ui/video.js)
// tells it what to play and the playback state; it follows that state
// (correcting a drift above about a second) and reports its position.
// MP4 and WebM files play in <video>; YouTube, Vimeo and PeerTube play in
// their embed, driven through their postMessage protocols (no script of
// theirs is loaded here). Messages are taken only from the room's page
// (same origin) and from the provider's frame (its origin).

/**
 * @typedef {{playing: boolean, position: number, rate: number, at: number}} Target
 *   at: this page's clock (ms) when position held
 * @typedef {{apply: (target: number, playing: boolean, rate: number) => void,
 *   mute: (on: boolean) => void, status: () => {position: number, duration: number, playing: boolean},
 *   receive?: (data: any) => void, frame?: HTMLIFrameElement, origin?: string}} Player
 */

const ORIGIN = location.origin;
/** Seek when the player is further than this from where it should be (s). */
const DRIFT = 1;

/** @type {Player|null} */
let player = null;
/** @type {Target|null} */
let target = null;
let muted = false;
let blocked = false;
let error = '';
/** @type {HTMLElement} */
const box = /** @type {HTMLElement} */ (document.getElementById('player'));

/** @param {any} msg */
function tell(msg) {
  if (window.parent !== window) window.parent.postMessage({ aula: 'video', ...msg }, ORIGIN);
}

/** Where the video should be now. */
function wanted() {
  if (!target) return 0;
  const p = target.position + (target.playing ? ((Date.now() - target.at) / 1000) * target.rate : 0);
  return Math.max(0, p);
}

function sync() {
  if (!player || !target) return;
  player.apply(wanted(), target.playing, target.rate);
}

function report() {
  if (!player) return;
  const s = player.status();
  tell({ type: 'status', position: s.position, duration: s.duration, playing: s.playing, muted, blocked, error });
}

/** A plain MP4 or WebM file. @param {string} url @returns {Player} */
function filePlayer(url) {
  const v = /** @type {HTMLVideoElement} */ (document.createElement('video'));
  v.playsInline = true;
  v.preload = 'auto';
  v.muted = muted;
  v.src = url;
  v.addEventListener('loadedmetadata', sync);
  v.addEventListener('canplay', sync);
  v.addEventListener('error', () => {
    error = 'load';
    report();
  });
  box.replaceChildren(v);
  let playing = false;
  return {
    apply(pos, play, rate) {
      if (v.playbackRate !== rate) v.playbackRate = rate;
      if (Number.isFinite(v.duration) && v.duration > 0) pos = Math.min(pos, v.duration);
      const off = Math.abs(v.currentTime - pos);
      if (!play) {
        playing = false;
        if (!v.paused) v.pause();
        if (off > 0.05 && v.readyState > 0 && !v.seeking) v.currentTime = pos;
        return;
      }
      if ((off > DRIFT || v.readyState === 0) && !v.seeking) v.currentTime = pos;
      if (v.paused && !playing && !v.ended) {
        playing = true;
        v.play().catch((e) => {
          playing = false;
          if (e && e.name === 'NotAllowedError' && !v.muted) {
            // The browser plays only muted without a gesture: play muted
            // and say so (the room's page offers to unmute).
            blocked = true;
            muted = true;
            v.muted = true;
            report();
            sync();
          }
        });
      } else if (!v.paused) playing = false;
    },
    mute(on) {
      v.muted = on;
      if (!on) blocked = false;
    },
    status() {
      return { position: v.currentTime, duration: Number.isFinite(v.duration) ? v.duration : 0, playing: !v.paused };
    },
  };
}

/** An embedded provider's player in a frame. @param {string} src @param {string} origin @param {string} title */
function embedFrame(src, origin, title) {
  const f = /** @type {HTMLIFrameElement} */ (document.createElement('iframe'));
  f.src = src;
  f.title = title;
  f.allow = 'autoplay; encrypted-media; fullscreen; picture-in-picture';
  f.referrerPolicy = 'no-referrer';
  box.replaceChildren(f);
  return f;
}

/** @param {any} data */
function parse(data) {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
}

/**
 * YouTube (youtube-nocookie.com) through the IFrame API's message
 * protocol: "listening", then "command" messages; "infoDelivery" reports.
 * @param {string} embed @param {string} origin @param {string} title @returns {Player}
 */
function youtubePlayer(embed, origin, title) {
  const u = new URL(embed);
  u.searchParams.set('origin', ORIGIN);
  const f = embedFrame(u.toString(), origin, title);
  let time = 0;
  let timeAt = Date.now();
  let state = -1;
  let duration = 0;
  let rate = 1;
  let heard = false;
  const send = (/** @type {string} */ func, /** @type {any[]} */ args = []) => {
    if (f.contentWindow) f.contentWindow.postMessage(JSON.stringify({ event: 'command', func, args, id: 1, channel: 'widget' }), origin);
  };
  const listen = setInterval(() => {
    if (heard) clearInterval(listen);
    else if (f.contentWindow) f.contentWindow.postMessage(JSON.stringify({ event: 'listening', id: 1, channel: 'widget' }), origin);
  }, 500);
  const now = () => time + (state === 1 ? ((Date.now() - timeAt) / 1000) * rate : 0);
  return {
    frame: f,
    origin,
    receive(d) {
      heard = true;
      if (!d || !d.info) {
        if (d && d.event === 'onReady') sync();
        return;
      }
      const info = d.info;
      if (typeof info.currentTime === 'number') {
        time = info.currentTime;
        timeAt = Date.now();
      }
      if (typeof info.playerState === 'number') state = info.playerState;
      if (typeof info.duration === 'number') duration = info.duration;
      if (typeof info.playbackRate === 'number') rate = info.playbackRate;
    },
    apply(pos, play, r) {
      if (!heard) return;
      if (r !== rate) send('setPlaybackRate', [r]);
      const off = Math.abs(now() - pos);
      if (off > (play ? DRIFT : 0.5)) {
        send('seekTo', [pos, true]);
        time = pos;
        timeAt = Date.now();
      }
      if (play && state !== 1 && state !== 3) send('playVideo');
      if (!play && (state === 1 || state === 3)) send('pauseVideo');
    },
    mute(on) {
      send(on ? 'mute' : 'unMute');
    },
    status() {
      return { position: now(), duration, playing: state === 1 };
    },
  };
}

/**
 * Vimeo through player.js's message protocol ({method, value}).
 * @param {string} embed @param {string} origin @param {string} title @returns {Player}
 */
function vimeoPlayer(embed, origin, title) {
  const f = embedFrame(embed, origin, title);
  let time = 0;
  let timeAt = Date.now();
  let playing = false;
  let duration = 0;
  let rate = 1;
  let ready = false;
  const send = (/** @type {string} */ method, /** @type {any} */ value) => {
    if (!f.contentWindow) return;
    /** @type {any} */
    const m = { method };
    if (value !== undefined) m.value = value;
    f.contentWindow.postMessage(m, origin);
  };
  const now = () => time + (playing ? ((Date.now() - timeAt) / 1000) * rate : 0);
  return {
    frame: f,
    origin,
    receive(d) {
      if (!d) return;
      if (d.event === 'ready') {
        ready = true;
        for (const ev of ['timeupdate', 'play', 'pause', 'ended', 'playbackratechange']) send('addEventListener', ev);
        send('getDuration');
        sync();
      } else if (d.event === 'timeupdate' && d.data) {
        time = d.data.seconds;
        timeAt = Date.now();
        if (d.data.duration) duration = d.data.duration;
      } else if (d.event === 'play') playing = true;
      else if (d.event === 'pause' || d.event === 'ended') playing = false;
      else if (d.method === 'getDuration' && typeof d.value === 'number') duration = d.value;
    },
    apply(pos, play, r) {
      if (!ready) return;
      if (r !== rate) {
        rate = r;
        send('setPlaybackRate', r);
      }
      if (Math.abs(now() - pos) > (play ? DRIFT : 0.5)) {
        send('setCurrentTime', pos);
        time = pos;
        timeAt = Date.now();
      }
      if (play && !playing) send('play');
      if (!play && playing) send('pause');
    },
    mute(on) {
      send('setMuted', on);
      send('setVolume', on ? 0 : 1);
    },
    status() {
      return { position: now(), duration, playing };
    },
  };
}

/**
 * PeerTube through its embed API's channel (jschannel: JSON strings with
 * a "peertube::" method scope).
 * @param {string} embed @param {string} origin @param {string} title @returns {Player}
 */
function peertubePlayer(embed, origin, title) {
  const f = embedFrame(embed, origin, title);
  let id = 1;
  let time = 0;
  let timeAt = Date.now();
  let playing = false;
  let duration = 0;
  let rate = 1;
  let ready = false;
  const post = (/** @type {any} */ m) => {
    if (f.contentWindow) f.contentWindow.postMessage(JSON.stringify(m), origin);
  };
  const call = (/** @type {string} */ method, /** @type {any} */ params) => post({ id: id++, method: 'peertube::' + method, params });
  const now = () => time + (playing ? ((Date.now() - timeAt) / 1000) * rate : 0);
  return {
    frame: f,
    origin,
    receive(d) {
      if (!d || typeof d.method !== 'string') return;
      if (d.method === 'peertube::__ready') {
        if (d.params === 'ping') post({ method: 'peertube::__ready', params: 'pong' });
        ready = true;
        sync();
      } else if (d.method === 'peertube::playbackStatusUpdate' && d.params) {
        ready = true;
        time = d.params.position || 0;
        timeAt = Date.now();
        duration = d.params.duration || duration;
        playing = d.params.playbackState === 'playing';
      }
    },
    apply(pos, play, r) {
      if (!ready) return;
      if (r !== rate) {
        rate = r;
        call('setPlaybackRate', r);
      }
      if (Math.abs(now() - pos) > (play ? DRIFT : 0.5)) {
        call('seek', pos);
        time = pos;
        timeAt = Date.now();
      }
      if (play && !playing) call('play');
      if (!play && playing) call('pause');
    },
    mute(on) {
      call('setVolume', on ? 0 : 1);
    },
    status() {
      return { position: now(), duration, playing };
    },
  };
}

window.addEventListener('message', (ev) => {
  if (player && player.frame && ev.source === player.frame.contentWindow) {
    if (ev.origin === player.origin && player.receive) player.receive(parse(ev.data));
    return;
  }
  if (ev.source !== window.parent || ev.origin !== ORIGIN) return;
  const d = ev.data;
  if (!d || d.aula !== 'video') return;
  if (d.type === 'load' && !player) {
    if (d.title) document.title = d.title;
    if (typeof d.lang === 'string' && /^[a-z]{2,3}(-[A-Za-z0-9]+)*$/.test(d.lang)) document.documentElement.lang = d.lang;
    muted = !!d.muted;
    if (d.provider === 'file') player = filePlayer(d.embed);
    else if (d.provider === 'youtube') player = youtubePlayer(d.embed, d.origin, d.title || '');
    else if (d.provider === 'vimeo') player = vimeoPlayer(d.embed, d.origin, d.title || '');
    else if (d.provider === 'peertube') player = peertubePlayer(d.embed, d.origin, d.title || '');
    if (player) player.mute(muted);
    sync();
  } else if (d.type === 'state') {
    target = { playing: !!d.playing, position: Number(d.position) || 0, rate: Number(d.rate) || 1, at: Date.now() - (Number(d.age) || 0) };
    sync();
  } else if (d.type === 'mute' && player) {
    muted = !!d.muted;
    player.mute(muted);
    report();
  }
});

setInterval(() => {
  sync();
  report();
}, 500);
tell({ type: 'ready' });

// One's own devices in the room: microphone, camera and screen, switched
// on and off in the order the protocol asks (media.state before
// publishing, stop the track so the device light goes out). No DOM here:
// the action bar renders the state from the 'change' event.
import { Emitter, ErrorCode } from './protocol.js';
import { t } from './i18n.js';

/**
 * @typedef {'mic'|'camera'|'screen'} Kind
 */

/** Device choices of this browser session (sessionStorage only). */
export const devicePrefs = {
  /** @param {'mic'|'camera'|'speaker'} what */
  get(what) {
    try {
      return sessionStorage.getItem('aula.device.' + what) || '';
    } catch {
      return '';
    }
  },
  /** @param {'mic'|'camera'|'speaker'} what @param {string} id */
  set(what, id) {
    try {
      sessionStorage.setItem('aula.device.' + what, id);
    } catch {
      // private mode: the choice lasts for this page only
    }
  },
};

/**
 * Constraints for a device kind with the session's chosen device.
 * @param {'mic'|'camera'} kind
 */
export function constraints(kind) {
  const id = devicePrefs.get(kind);
  return kind === 'mic'
    ? { audio: id ? { deviceId: { exact: id } } : true }
    : { video: { ...(id ? { deviceId: { exact: id } } : {}), width: { ideal: 1280 }, height: { ideal: 720 } } };
}

/**
 * Events: 'change' (state), 'track' ({kind, track}) when a local track
 * starts or stops (null), 'forced' ({kind, why}) when the server made us
 * stop, 'error' ({kind, error}).
 */
export class LocalMedia extends Emitter {
  /** @param {import('./media.js').Media} media */
  constructor(media) {
    super();
    this.media = media;
    /** @type {Record<Kind, MediaStreamTrack|null>} */
    this.tracks = { mic: null, camera: null, screen: null };
    /** @type {Set<Kind>} kinds being switched now */
    this.switching = new Set();
  }

  state() {
    return { audio: !!this.tracks.mic, video: !!this.tracks.camera, screen: !!this.tracks.screen };
  }

  /** @param {Kind} kind @returns {Promise<MediaStreamTrack>} */
  async capture(kind) {
    if (kind === 'screen') {
      const s = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      return s.getVideoTracks()[0];
    }
    const s = await navigator.mediaDevices.getUserMedia(constraints(kind));
    return kind === 'mic' ? s.getAudioTracks()[0] : s.getVideoTracks()[0];
  }

  /** @param {Kind} kind */
  async switchOn(kind) {
    const track = await this.capture(kind);
    this.tracks[kind] = track;
    try {
      // The server first: it refuses what a lock forbids, and forwards
      // only what it agreed to.
      await this.media.setState(this.state());
    } catch (e) {
      track.stop();
      this.tracks[kind] = null;
      throw e;
    }
    // Sharing stopped through the browser's own "Stop sharing" button.
    track.addEventListener('ended', () => {
      if (this.tracks[kind] === track) this.toggle(kind);
    });
    this.emit('track', { kind, track });
    this.emit('change');
    await this.media.publish(kind, track);
  }

  /** @param {Kind} kind @param {boolean} [tell] whether the server must hear of it */
  async switchOff(kind, tell = true) {
    const track = this.tracks[kind];
    if (!track) return;
    this.tracks[kind] = null;
    track.stop(); // the device light goes out
    this.emit('track', { kind, track: null });
    this.emit('change');
    if (tell) await this.media.setState(this.state()).catch(() => {});
    await this.media.unpublish(kind);
  }

  /** Switches a kind on or off. @param {Kind} kind @returns {Promise<void>} */
  async toggle(kind) {
    if (this.switching.has(kind)) return;
    this.switching.add(kind);
    try {
      if (this.tracks[kind]) await this.switchOff(kind);
      else await this.switchOn(kind);
    } catch (e) {
      this.emit('error', { kind, error: e });
    } finally {
      this.switching.delete(kind);
      this.emit('change');
    }
  }

  /** The server switched something off (mute, lock): follow it. @param {Kind} kind @param {string} why */
  forceOff(kind, why) {
    if (!this.tracks[kind]) return;
    this.emit('forced', { kind, why });
    this.switchOff(kind, false).catch(() => {});
  }

  /** Another device chosen while on: swap the track, no renegotiation. @param {'mic'|'camera'} kind */
  async changeDevice(kind) {
    if (!this.tracks[kind] || this.switching.has(kind)) return;
    this.switching.add(kind);
    try {
      const track = await this.capture(kind);
      const old = this.tracks[kind];
      this.tracks[kind] = track;
      await this.media.replace(kind, track);
      if (old) old.stop();
      this.emit('track', { kind, track });
    } catch (e) {
      this.emit('error', { kind, error: e });
    } finally {
      this.switching.delete(kind);
    }
  }

  stopAll() {
    for (const kind of /** @type {Kind[]} */ (['mic', 'camera', 'screen'])) {
      const tr = this.tracks[kind];
      if (tr) tr.stop();
      this.tracks[kind] = null;
    }
    this.emit('change');
  }
}

/**
 * Why a device or media request failed, in words.
 * @param {any} e
 * @param {Kind} kind
 * @returns {string}
 */
export function mediaErrorText(e, kind) {
  const name = e && e.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return kind === 'mic' ? t('media.error.notAllowedMic') : kind === 'camera' ? t('media.error.notAllowedCamera') : t('media.error.notAllowedScreen');
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') {
    return kind === 'mic' ? t('media.error.notFoundMic') : kind === 'camera' ? t('media.error.notFoundCamera') : t('media.error.notFoundScreen');
  }
  if (name === 'NotReadableError') {
    return kind === 'mic' ? t('media.error.inUseMic') : kind === 'camera' ? t('media.error.inUseCamera') : t('media.error.inUseScreen');
  }
  if (e && e.code === ErrorCode.FORBIDDEN) return kind === 'mic' ? t('media.error.lockedMic') : t('media.error.lockedCamera');
  if (e && e.code === ErrorCode.DISCONNECTED) return t('error.disconnected');
  return t('error.generic');
}

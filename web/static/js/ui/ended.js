// The end and leave pages: why one is out, "Rejoin" where that works
// (left on purpose, or the connection was lost: the session cookie still
// holds while the meeting runs), and the way back to the course.
import { $, safeLink } from './dom.js';
import { t } from '../i18n.js';

/** Reasons after which a reload brings one back in. */
const REJOIN = new Set(['left', 'unreachable']);

/** @param {string} reason */
export function endedTitle(reason) {
  if (reason === 'denied') return t('ended.titleDenied');
  if (['removed', 'replaced', 'left', 'full', 'forbidden', 'unreachable'].includes(reason)) return t('ended.titleOut');
  return t('ended.title');
}

/** @param {string} reason */
export function endedReason(reason) {
  switch (reason) {
    case 'moderator': return t('ended.reason.moderator');
    case 'api': return t('ended.reason.api');
    case 'duration': return t('ended.reason.duration');
    case 'noUserJoined': return t('ended.reason.noUserJoined');
    case 'empty': return t('ended.reason.empty');
    case 'noModerator': return t('ended.reason.noModerator');
    case 'shutdown': return t('ended.reason.shutdown');
    case 'removed': return t('ended.reason.removed');
    case 'replaced': return t('ended.reason.replaced');
    case 'left': return t('ended.reason.left');
    case 'full': return t('ended.reason.full');
    case 'forbidden': return t('ended.reason.forbidden');
    case 'denied': return t('ended.reason.denied');
    case 'unreachable': return t('ended.reason.unreachable');
    default: return t('ended.reason.ended');
  }
}

/**
 * Fills the end page.
 * @param {string} reason
 * @param {string} [logoutURL]
 */
export function renderEnded(reason, logoutURL) {
  $('ended-title').textContent = endedTitle(reason);
  $('ended-reason').textContent = endedReason(reason);
  $('rejoin').hidden = !REJOIN.has(reason);
  const link = $('ended-link');
  const href = safeLink(logoutURL);
  if (href) {
    link.href = href;
    link.hidden = false;
  } else {
    link.removeAttribute('href');
    link.hidden = true;
  }
  $('ended-close').hidden = !!href || REJOIN.has(reason);
}

$('rejoin').addEventListener('click', () => location.reload());

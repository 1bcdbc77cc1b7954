// Small DOM helpers. Text always goes in through textContent, never as
// HTML, so names and chat lines cannot inject markup.

/**
 * Creates an element.
 * @param {string} tag
 * @param {Object<string, any>} [attrs] attributes; `text` sets textContent,
 *   `on<event>` adds a listener, `class` sets className, false/null skip.
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c);
  }
  return el;
}

/** @param {string} id @returns {any} */
export function $(id) {
  return document.getElementById(id);
}

/** Shows exactly one of the top-level views. @param {string} name */
export function showView(name) {
  for (const el of document.querySelectorAll('.view')) {
    el.hidden = el.id !== 'view-' + name;
  }
}

/** Up to two initials of a display name. @param {string} name */
export function initials(name) {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0], parts[parts.length - 1]] : parts;
  return letters.map((p) => Array.from(p)[0] || '').join('').toUpperCase() || '?';
}

/** Local time of day of an ISO time. @param {string} iso */
export function clock(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * Only http(s) links may become hrefs: a logout URL is the platform's
 * input and must never be a javascript: URL.
 * @param {string|undefined} u
 * @returns {string}
 */
export function safeLink(u) {
  if (!u) return '';
  try {
    const url = new URL(u, location.href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : '';
  } catch {
    return '';
  }
}

// Small DOM helpers. Text always goes in through textContent, never as
// HTML, so names and chat lines cannot inject markup.
import { t } from '../i18n.js';

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

/**
 * Translates the static page: data-i18n sets the text, data-i18n-<attr>
 * sets that attribute (aria-label, title, placeholder).
 * @param {ParentNode} root
 */
export function translate(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.getAttribute('data-i18n') || '');
  for (const attr of ['aria-label', 'title', 'placeholder']) {
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) {
      el.setAttribute(attr, t(el.getAttribute(`data-i18n-${attr}`) || ''));
    }
  }
}

/** Up to two initials of a display name. @param {string} name */
export function initials(name) {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0], parts[parts.length - 1]] : parts;
  return letters.map((p) => Array.from(p)[0] || '').join('').toUpperCase() || '?';
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

/**
 * Re-renders a list and keeps keyboard focus on the element with the same
 * data-focus-key (or on a fallback key), so an action never drops focus.
 * @param {HTMLElement} container
 * @param {() => void} render
 * @param {(key: string) => string[]} [fallbacks] keys to try when the focused one is gone
 */
export function keepFocus(container, render, fallbacks) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.getAttribute('data-focus-key') : null;
  render();
  if (!key) return;
  for (const k of [key, ...(fallbacks ? fallbacks(key) : [])]) {
    const el = /** @type {HTMLElement|null} */ (container.querySelector(`[data-focus-key="${CSS.escape(k)}"]`));
    if (el && !el.closest('[hidden]')) {
      el.focus();
      return;
    }
  }
}

// The translation layer: every visible string of the client comes from a
// catalogue (web/static/i18n/<lang>.json, flat keys to strings with {name}
// placeholders). No DOM here: the page applies it (ui/dom.js translate).
//
// Plurals: a key used with a numeric `count` looks up `<key>.<category>`
// (Intl.PluralRules: one, other, …) and falls back to `<key>.other`.

/** The languages with a catalogue; the first is the fallback. */
export const LANGUAGES = Object.freeze(['en', 'de']);

/** @type {Record<string, string>} */
let strings = {};
/** @type {Record<string, string>} */
let fallback = {};
let lang = 'en';
/** @type {Intl.PluralRules|null} */
let plural = null;

/**
 * The language to use: a choice made in this browser session wins, then
 * the page's lang (set by the server from the join parameter or the
 * browser), then English.
 * @param {string} pageLang document.documentElement.lang
 * @param {string|null} [chosen] sessionStorage's choice
 * @returns {string}
 */
export function pickLanguage(pageLang, chosen) {
  for (const c of [chosen, pageLang]) {
    const l = (c || '').toLowerCase().split(/[-_]/)[0];
    if (LANGUAGES.includes(l)) return l;
  }
  return LANGUAGES[0];
}

/**
 * Installs a catalogue (and the fallback for keys it lacks).
 * @param {string} language
 * @param {Record<string, string>} catalogue
 * @param {Record<string, string>} [fallbackCatalogue]
 */
export function setCatalogue(language, catalogue, fallbackCatalogue) {
  lang = language;
  strings = catalogue || {};
  fallback = fallbackCatalogue || {};
  plural = typeof Intl !== 'undefined' ? new Intl.PluralRules(language) : null;
}

/**
 * Loads the catalogue of a language (and English as the fallback).
 * @param {string} language
 * @param {string} base URL of the i18n folder, ending in /
 * @param {(url: string) => Promise<{ok: boolean, json: () => Promise<any>}>} [get]
 */
export async function loadCatalogue(language, base, get = (u) => fetch(u, { credentials: 'same-origin' })) {
  const read = async (/** @type {string} */ l) => {
    const r = await get(base + l + '.json');
    if (!r.ok) throw new Error('catalogue ' + l + ' not loaded');
    return r.json();
  };
  const en = await read('en');
  setCatalogue(language, language === 'en' ? en : await read(language).catch(() => en), en);
}

/** @returns {string} the language in use */
export function language() {
  return lang;
}

/**
 * The translation of key with its {placeholders} filled in; a key that is
 * missing everywhere comes back as itself (the catalogue test prevents it).
 * @param {string} key
 * @param {Record<string, string|number>} [params]
 * @returns {string}
 */
export function t(key, params) {
  let s;
  if (params && typeof params.count === 'number') {
    const cat = plural ? plural.select(params.count) : (params.count === 1 ? 'one' : 'other');
    s = strings[key + '.' + cat] ?? strings[key + '.other'] ?? fallback[key + '.' + cat] ?? fallback[key + '.other'];
  }
  if (s === undefined) s = strings[key] ?? fallback[key] ?? key;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, name) => {
    const v = params[name];
    if (v === undefined) return m;
    return typeof v === 'number' ? formatNumber(v) : String(v);
  });
}

/** @param {number} n */
export function formatNumber(n) {
  return new Intl.NumberFormat(lang).format(n);
}

/**
 * Time of day (hours and minutes) in the page's language.
 * @param {string|Date} when ISO time or a Date
 */
export function formatClock(when) {
  const d = when instanceof Date ? when : new Date(when);
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' }).format(d);
}

/**
 * A duration as h:mm:ss or m:ss (a running clock, not words).
 * @param {number} ms
 */
export function formatDuration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/**
 * "5 minutes ago", "in 2 minutes" in the page's language.
 * @param {number} ms signed difference from now (negative: in the past)
 */
export function formatRelative(ms) {
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  const s = Math.round(ms / 1000);
  if (Math.abs(s) < 60) return rtf.format(s, 'second');
  const m = Math.round(s / 60);
  if (Math.abs(m) < 60) return rtf.format(m, 'minute');
  return rtf.format(Math.round(m / 60), 'hour');
}

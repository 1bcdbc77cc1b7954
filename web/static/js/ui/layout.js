// The frame of the page: which view shows, the top bar (meeting name,
// running time, connection quality, join by phone), the side panel with
// its tabs (a drawer on phones), toasts, the keyboard shortcuts and their
// help dialog, and the language switch.
import { $, h } from './dom.js';
import { setIcon } from './icons.js';
import { t, formatDuration, LANGUAGES, language } from '../i18n.js';

/**
 * @typedef {import('../store.js').Store} Store
 * @typedef {'people'|'chat'|'notes'|'polls'} Tab
 */

/** The side panel's tabs in their order. @type {Tab[]} */
export const TABS = ['people', 'chat', 'notes', 'polls'];

/** Shows exactly one view; the room's frame shows only in the room. @param {import('../store.js').View} name */
export function showView(name) {
  for (const el of document.querySelectorAll('.view')) /** @type {HTMLElement} */ (el).hidden = el.id !== 'view-' + name;
  const room = name === 'room';
  $('topbar').hidden = !room;
  $('side').hidden = !room;
  $('actionbar').hidden = !room;
  document.body.className = room ? 'mode-room' : 'mode-page';
}

/** A short notice that fades after a few seconds (and is announced). @param {string} text */
export function toast(text) {
  const box = $('toasts');
  const el = h('p', { class: 'toast', text });
  box.append(el);
  setTimeout(() => el.remove(), 6000);
  while (box.children.length > 3) box.firstElementChild.remove();
}

/** The connection line at the top of the page. @param {string} text */
export function status(text) {
  $('conn-status').textContent = text;
}

export class Layout {
  /** @param {Store} store */
  constructor(store) {
    this.store = store;
    /** @type {Tab} */
    this.tab = 'people';
    this.timer = 0;
    /** @type {(tab: Tab) => void} */
    this.onTab = () => {};
    this.phone = window.matchMedia('(max-width: 47.99rem)');
    this.bindTabs();
    this.bindDrawer();
    this.bindDialogs();
    store.on('meeting', () => this.renderMeeting());
    store.on('quality', () => this.renderQuality());
    this.renderQuality();
  }

  /** @private */
  bindTabs() {
    TABS.forEach((name, i) => {
      const tab = /** @type {HTMLElement} */ ($('tab-' + name));
      tab.addEventListener('click', () => this.select(name));
      tab.addEventListener('keydown', (/** @type {KeyboardEvent} */ ev) => {
        const n = TABS.length;
        const to = { ArrowRight: (i + 1) % n, ArrowLeft: (i + n - 1) % n, Home: 0, End: n - 1 }[ev.key];
        if (to === undefined) return;
        ev.preventDefault();
        this.select(TABS[to]);
        $('tab-' + TABS[to]).focus();
      });
    });
  }

  /** Shows a tab of the side panel (and opens the drawer on phones). @param {Tab} tab @param {boolean} [open] */
  select(tab, open = false) {
    this.tab = tab;
    for (const name of TABS) {
      const on = name === tab;
      const btn = $('tab-' + name);
      btn.setAttribute('aria-selected', String(on));
      btn.tabIndex = on ? 0 : -1;
      $('panel-' + name).hidden = !on;
    }
    if (open) this.openDrawer(true);
    this.onTab(tab);
  }

  /** Whether the chat is what one sees now. */
  chatVisible() {
    return this.visible('chat');
  }

  /** Whether a tab is what one sees now. @param {Tab} tab */
  visible(tab) {
    return this.tab === tab && (!this.phone.matches || $('side').classList.contains('open'));
  }

  /** @private */
  bindDrawer() {
    $('panel-toggle').addEventListener('click', () => this.openDrawer(!$('side').classList.contains('open')));
    $('side-close').addEventListener('click', () => {
      this.openDrawer(false);
      $('panel-toggle').focus();
    });
    this.phone.addEventListener('change', () => this.openDrawer(false));
  }

  /** The side panel as a drawer (phones). @param {boolean} open */
  openDrawer(open) {
    const side = $('side');
    side.classList.toggle('open', open);
    $('panel-toggle').setAttribute('aria-expanded', String(open));
    if (open && this.phone.matches) {
      const tab = $('tab-' + this.tab);
      tab.focus();
    }
    this.onTab(this.tab);
  }

  /** @private */
  bindDialogs() {
    $('dialin-open').addEventListener('click', () => $('dialin-dialog').showModal());
    $('dialin-close').addEventListener('click', () => $('dialin-dialog').close());
    $('help-open').addEventListener('click', () => this.openHelp());
    $('help-close').addEventListener('click', () => $('help-dialog').close());
    const sel = $('lang-select');
    const names = { en: t('language.en'), de: t('language.de') };
    sel.replaceChildren(...LANGUAGES.map((l) => h('option', { value: l, lang: l, text: names[/** @type {'en'|'de'} */ (l)] })));
    sel.value = language();
    sel.addEventListener('change', () => {
      try {
        sessionStorage.setItem('aula.lang', sel.value);
      } catch {
        // not kept
      }
      // The page is rebuilt in the new language; the session cookie keeps
      // the place in the meeting.
      location.reload();
    });
  }

  /** @param {{key: string, label: string}[]} shortcuts */
  setShortcuts(shortcuts) {
    this.shortcuts = shortcuts;
  }

  openHelp() {
    const list = $('help-list');
    list.replaceChildren(...(this.shortcuts || []).flatMap((s) => [
      h('dt', {}, h('kbd', { text: s.key })),
      h('dd', { text: s.label }),
    ]));
    $('more').hidden = true;
    $('more-toggle').setAttribute('aria-expanded', 'false');
    $('help-dialog').showModal();
  }

  renderMeeting() {
    const m = this.store.state.meeting;
    if (!m) return;
    $('room-name').textContent = m.name || t('meeting.unnamed');
    $('dialin-open').hidden = !m.dialNumber || !m.pin;
    $('dialin-number').textContent = m.dialNumber || '';
    $('dialin-pin').textContent = m.pin || '';
    $('timer-label').textContent = t('top.elapsed');
    clearInterval(this.timer);
    const start = m.startTime ? Date.parse(m.startTime) : NaN;
    const el = $('timer');
    if (Number.isNaN(start)) {
      el.textContent = '';
      return;
    }
    const tick = () => {
      el.textContent = formatDuration(Date.now() + this.store.state.serverOffset - start);
    };
    tick();
    this.timer = setInterval(tick, 1000);
  }

  renderQuality() {
    const q = this.store.state.quality;
    const el = $('quality');
    if (el.getAttribute('data-quality') === q && el.hasAttribute('data-done')) return;
    el.setAttribute('data-quality', q);
    el.setAttribute('data-done', '');
    setIcon($('quality-icon'), 'signal');
    const text = q === 'good' ? t('quality.good') : q === 'fair' ? t('quality.fair') : q === 'poor' ? t('quality.poor') : t('quality.unknown');
    $('quality-text').textContent = text;
    el.title = q === 'good' ? t('quality.goodHint') : q === 'fair' ? t('quality.fairHint') : q === 'poor' ? t('quality.poorHint') : '';
  }

  stop() {
    clearInterval(this.timer);
  }
}

// The presentation on the stage: the current page of the current
// document (the server's page image at the width the screen needs, or the
// white page of the blank deck) with the whiteboard over it, following
// the presenter's page, zoom and pan; the page's number and name, and
// the download of the original when allowed. The presenter turns pages
// (buttons, PageUp/PageDown and the arrow keys on the stage), zooms and
// pans, adds blank pages, sees thumbnails, uploads documents (with the
// upload's and the conversion's progress and every refusal in the
// user's language), chooses, removes and shares documents for download;
// moderators export a document with its drawings and grant drawing.
import { $, h } from './dom.js';
import { icon, fillIcons } from './icons.js';
import { t } from '../i18n.js';
import { ClientType, ServerType } from '../protocol.js';
import { Board, BLANK, pageKey, presentationActive, shownPage, pageImage, pageThumb, clampView, zoomAround, Throttle } from '../board.js';
import { Whiteboard } from './whiteboard.js';

/**
 * @typedef {import('../store.js').Store} Store
 * @typedef {import('../protocol.js').Connection} Connection
 * @typedef {import('../protocol.js').PresentationState} PresentationState
 * @typedef {import('../protocol.js').PresentationDoc} PresentationDoc
 * @typedef {import('../protocol.js').Participant} Participant
 * @typedef {import('../board.js').View} View
 */

/** The largest upload the server takes (docs/protocol.md). */
export const MAX_UPLOAD = 30 * 1024 * 1024;
/** Zoom steps of the buttons. */
const ZOOM_STEP = 1.25;

/**
 * A document's refusal or failure (protocol.md's codes, and the upload's
 * own) in the user's language.
 * @param {string} code
 */
export function docErrorText(code) {
  switch (code) {
    case 'too_large': return t('pres.error.tooLarge');
    case 'unsupported': return t('pres.error.unsupported');
    case 'too_many_pages': return t('pres.error.tooManyPages');
    case 'corrupt': return t('pres.error.corrupt');
    case 'encrypted': return t('pres.error.encrypted');
    case 'no_office': return t('pres.error.noOffice');
    case 'timeout': return t('pres.error.timeout');
    case 'download_failed': return t('pres.error.downloadFailed');
    case 'too_many': return t('pres.error.tooMany');
    case 'internal': return t('pres.error.internal');
    case 'forbidden': return t('pres.error.forbidden');
    case 'ended': return t('pres.error.ended');
    case 'unavailable': return t('pres.error.unavailable');
    case 'network': return t('pres.error.network');
    default: return t('pres.error.generic');
  }
}

export class Presentation {
  /**
   * @param {Store} store
   * @param {{conn: Connection, explain: (e: any) => string}} opts
   */
  constructor(store, opts) {
    this.store = store;
    this.conn = opts.conn;
    this.explain = opts.explain;
    this.board = new Board();
    /** @type {PresentationState|null} */
    this.state = null;
    /** @type {View|null} the presenter's view while panning, before the server confirms */
    this.localView = null;
    this.localAt = 0;
    /** @type {{doc: string, page: number}|null} the page the presenter asked for last */
    this.asked = null;
    this.turnedAt = 0;
    this.showThumbs = false;
    /** @type {{id: string, name: string}|null} the document this page uploaded last */
    this.uploaded = null;
    /** @type {XMLHttpRequest|null} */
    this.xhr = null;
    this.sayTimer = 0;
    this.root = $('stage-presentation');
    this.viewport = $('pres-viewport');
    this.pageEl = $('pres-page');
    this.canvas = $('pres-canvas');
    this.img = /** @type {HTMLImageElement} */ ($('pres-img'));
    this.viewOut = new Throttle(200, (/** @type {View} */ v) => {
      this.conn.request(ClientType.PRESENTATION_VIEW, v).catch((e) => this.say(this.explain(e), true));
    });
    this.wb = new Whiteboard(store, this.board, this.conn, {
      page: () => this.page(),
      view: () => this.view(),
      pan: (v, done) => this.setView(v, done),
      place: (x, y) => this.place(x, y),
      changed: () => this.changed(),
      say: (text, error) => this.say(text, error),
      explain: this.explain,
    });
    fillIcons(this.root);
    this.bind();

    this.conn.on(ServerType.WELCOME, (w) => {
      if (w.lobby) return;
      const f = w.features || {};
      this.state = f.presentation || null;
      this.board.load(f.whiteboard);
      this.localView = null;
      // app.js takes the welcome's self after this handler: render then.
      queueMicrotask(() => {
        this.changed();
        this.wb.renderTools();
      });
    });
    this.conn.on(ServerType.PRESENTATION_STATE, (s) => {
      const prev = this.state;
      this.state = s;
      // While the presenter pans, the echoes of views sent a moment ago
      // must not pull the page back: the own view stands until the
      // server confirms it, or for a second.
      const lv = this.localView;
      const same = !!prev && prev.current === s.current && prev.page === s.page;
      const echo = !!lv && lv.zoom === s.zoom && lv.x === s.x && lv.y === s.y;
      if (!lv || !same || echo || Date.now() - this.localAt > 1000) this.localView = null;
      const sp = shownPage(s);
      if (this.asked && sp && sp.doc.id === this.asked.doc && sp.page === this.asked.page) this.asked = null;
      this.changed();
      this.renderDocs();
    });
    store.on('self', () => {
      this.render();
      this.renderDocs();
    });
    store.on('roster', () => {
      if ($('wb-access-dialog').open) this.renderAccess(true);
    });
    if (typeof ResizeObserver === 'function') new ResizeObserver(() => this.layout()).observe(this.viewport);
  }

  /** @private */
  self() {
    return this.store.state.self;
  }

  /** @private */
  isPresenter() {
    const s = this.self();
    return !!s && s.presenter;
  }

  /** @private */
  isModerator() {
    return this.store.isModerator;
  }

  /** The shown page for the whiteboard. */
  page() {
    const sp = shownPage(this.state);
    if (!sp) return null;
    const ref = { doc: sp.doc.id, page: sp.page };
    return { ref, key: pageKey(ref), aspect: sp.w / sp.h };
  }

  /** The view now (the presenter's own while panning). @returns {View} */
  view() {
    if (this.localView) return this.localView;
    const s = this.state;
    return s ? clampView(s.zoom, s.x, s.y) : { zoom: 1, x: 0, y: 0 };
  }

  /** Something changed: tell the stage whether to show the presentation, and draw. */
  changed() {
    const st = this.store.state;
    const active = presentationActive(this.state, this.board);
    const had = st.presentation;
    st.presentation = this.state;
    if (active !== st.presentationActive || had !== this.state) {
      st.presentationActive = active;
      this.store.changed('presentation');
    }
    this.render();
  }

  // ---- Rendering ---------------------------------------------------------

  render() {
    const sp = shownPage(this.state);
    const presenter = this.isPresenter();
    const mod = this.isModerator();
    const v = this.view();
    const doc = sp ? sp.doc : null;
    const pages = doc && doc.pages ? doc.pages.length : 0;
    const name = !doc ? '' : doc.id === BLANK ? t('pres.blank') : doc.name || t('pres.untitled');
    $('pres-name').textContent = name;
    $('pres-pageinfo').textContent = sp ? t('pres.pageOf', { page: sp.page, pages }) : '';
    this.viewport.setAttribute('aria-label', sp ? t('pres.viewport', { name, page: sp.page, pages }) : t('pres.title'));
    $('pres-nav').hidden = !presenter && !mod && !(doc && doc.downloadable && doc.id !== BLANK);
    for (const id of ['pres-prev', 'pres-next', 'pres-thumbs-toggle', 'pres-zoom-out', 'pres-zoom-in', 'pres-zoom-fit']) $(id).hidden = !presenter || !sp;
    $('pres-docs').hidden = !presenter && !mod;
    $('pres-access').hidden = !presenter && !mod;
    $('pres-prev').disabled = !sp || sp.page <= 1;
    $('pres-next').disabled = !sp || sp.page >= pages;
    $('pres-zoom-out').disabled = v.zoom <= 1;
    $('pres-zoom-fit').disabled = v.zoom <= 1;
    $('pres-zoom-in').disabled = v.zoom >= 5;
    $('pres-zoom').textContent = sp && v.zoom > 1 ? t('pres.zoomLevel', { percent: Math.round(v.zoom * 100) }) : '';
    $('pres-add-page').hidden = !presenter || !doc || doc.id !== BLANK;
    $('pres-add-page').disabled = pages >= 50;
    const dl = /** @type {HTMLAnchorElement} */ ($('pres-download'));
    const canDownload = !!doc && doc.id !== BLANK && (doc.downloadable || presenter || mod);
    dl.hidden = !canDownload;
    if (canDownload && doc) dl.href = `doc/${encodeURIComponent(doc.id)}/original`;
    const ex = /** @type {HTMLAnchorElement} */ ($('pres-export'));
    ex.hidden = !mod || !doc;
    if (mod && doc) ex.href = `doc/${encodeURIComponent(doc.id)}/export.pdf`;
    this.viewport.classList.toggle('is-presenter', presenter);
    this.renderThumbs(sp, presenter);
    this.layout();
    this.wb.render();
  }

  /** @private Sizes the page in the viewport and applies the view. */
  layout() {
    const sp = shownPage(this.state);
    const W = this.viewport.clientWidth;
    const H = this.viewport.clientHeight;
    this.pageEl.hidden = !sp;
    if (!sp || W === 0 || H === 0) return;
    const a = sp.w / sp.h;
    const pw = Math.max(1, Math.floor(Math.min(W, H * a)));
    const ph = Math.max(1, Math.floor(pw / a));
    this.pageEl.style.width = pw + 'px';
    this.pageEl.style.height = ph + 'px';
    const v = this.view();
    this.canvas.style.transform = `scale(${v.zoom}) translate(${-v.x * pw}px, ${-v.y * ph}px)`;
    const blank = sp.doc.id === BLANK;
    this.canvas.classList.toggle('is-blank', blank);
    this.img.hidden = blank;
    if (!blank) {
      const want = pageImage(sp.doc.id, sp.page, pw * (globalThis.devicePixelRatio || 1) * v.zoom);
      const cur = this.img.getAttribute('src') || '';
      // Never trade a sharper image of the same page for a smaller one.
      const same = cur.replace(/-w\d+\.png$/, '') === want.replace(/-w\d+\.png$/, '');
      if (cur !== want && !(same && cur.endsWith('-w1920.png'))) {
        this.img.src = want;
        this.img.setAttribute('data-page', String(sp.page));
        this.img.setAttribute('data-doc', sp.doc.id);
      }
      this.img.alt = t('pres.pageImage', { page: sp.page, name: sp.doc.name || t('pres.untitled') });
    } else {
      this.img.removeAttribute('src');
    }
    this.wb.placeCursors();
  }

  /**
   * Where a page point is on the page element (CSS pixels), or null when
   * out of view.
   * @param {number} x @param {number} y
   */
  place(x, y) {
    const pw = this.pageEl.clientWidth;
    const ph = this.pageEl.clientHeight;
    if (!pw || !ph) return null;
    const v = this.view();
    const px = (x - v.x) * v.zoom * pw;
    const py = (y - v.y) * v.zoom * ph;
    if (px < 0 || py < 0 || px > pw || py > ph) return null;
    return [Math.round(px), Math.round(py)];
  }

  /** @private @param {ReturnType<typeof shownPage>} sp @param {boolean} presenter */
  renderThumbs(sp, presenter) {
    const box = $('pres-thumbs');
    const show = presenter && this.showThumbs && !!sp;
    box.hidden = !show;
    $('pres-thumbs-toggle').setAttribute('aria-pressed', String(show));
    if (!show || !sp) {
      box.replaceChildren();
      box.removeAttribute('data-doc');
      return;
    }
    const doc = sp.doc;
    const n = doc.pages ? doc.pages.length : 0;
    if (box.getAttribute('data-doc') !== doc.id || box.children.length !== n) {
      box.setAttribute('data-doc', doc.id);
      const items = [];
      for (let i = 1; i <= n; i++) {
        const label = t('pres.goToPage', { page: i });
        items.push(h('li', {}, h('button', {
          type: 'button', class: 'pres-thumb', 'data-page': String(i), 'aria-label': label, title: label,
          onclick: () => this.turn(i),
        }, doc.id === BLANK
          ? h('span', { class: 'pres-thumb-blank', 'aria-hidden': 'true' })
          : h('img', { src: pageThumb(doc.id, i), alt: '', loading: 'lazy' }),
        h('span', { class: 'pres-thumb-no', 'aria-hidden': 'true', text: String(i) }))));
      }
      box.replaceChildren(...items);
    }
    for (const b of box.querySelectorAll('.pres-thumb')) {
      const cur = b.getAttribute('data-page') === String(sp.page);
      if (cur) b.setAttribute('aria-current', 'page');
      else b.removeAttribute('aria-current');
    }
  }

  // ---- The presenter's actions ---------------------------------------------

  /** @private */
  bind() {
    $('pres-prev').addEventListener('click', () => this.step(-1));
    $('pres-next').addEventListener('click', () => this.step(1));
    $('pres-zoom-in').addEventListener('click', () => this.zoomBy(ZOOM_STEP));
    $('pres-zoom-out').addEventListener('click', () => this.zoomBy(1 / ZOOM_STEP));
    $('pres-zoom-fit').addEventListener('click', () => this.setView({ zoom: 1, x: 0, y: 0 }, true));
    $('pres-thumbs-toggle').addEventListener('click', () => {
      this.showThumbs = !this.showThumbs;
      this.render();
    });
    $('pres-add-page').addEventListener('click', () => {
      this.conn.request(ClientType.PRESENTATION_ADD_PAGE).catch((e) => this.say(this.explain(e), true));
    });
    $('pres-docs').addEventListener('click', () => this.openDocs());
    $('pres-access').addEventListener('click', () => this.openAccess());
    this.root.addEventListener('keydown', (ev) => this.key(ev));
    this.viewport.addEventListener('wheel', (ev) => {
      if (!this.isPresenter() || !(ev.ctrlKey || ev.metaKey)) return;
      ev.preventDefault();
      const r = this.pageEl.getBoundingClientRect();
      const v = this.view();
      const cx = v.x + (ev.clientX - r.left) / Math.max(1, r.width) / v.zoom;
      const cy = v.y + (ev.clientY - r.top) / Math.max(1, r.height) / v.zoom;
      this.setView(zoomAround(v, v.zoom * (ev.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP), cx, cy), false);
    }, { passive: false });
    this.img.addEventListener('error', () => {
      if (this.img.getAttribute('src')) this.say(t('pres.imageFailed'), true);
    });
    // Documents dialog.
    $('pres-upload').addEventListener('click', () => $('pres-file').click());
    $('pres-file').addEventListener('change', () => {
      const input = /** @type {HTMLInputElement} */ ($('pres-file'));
      const file = input.files && input.files[0];
      input.value = '';
      if (file) this.upload(file);
    });
    $('pres-dialog-close').addEventListener('click', () => $('pres-dialog').close());
    $('pres-dialog').addEventListener('close', () => {
      const back = $('pres-docs');
      if (back && !back.hidden && !this.root.hidden) back.focus();
    });
    // Drawing rights.
    $('wb-access-cancel').addEventListener('click', () => $('wb-access-dialog').close());
    $('wb-access-apply').addEventListener('click', () => this.applyAccess());
    $('wb-access-all').addEventListener('change', () => this.renderAccess(true));
    $('wb-access-dialog').addEventListener('close', () => {
      if (!$('pres-access').hidden && !this.root.hidden) $('pres-access').focus();
    });
  }

  /** @private Keys on the stage's presentation. @param {KeyboardEvent} ev */
  key(ev) {
    const target = /** @type {HTMLElement} */ (ev.target);
    if (target.closest('input, textarea, select, dialog')) return;
    if (this.wb.onKey(ev)) {
      ev.preventDefault();
      return;
    }
    if (!this.isPresenter() || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const v = this.view();
    if (ev.shiftKey && v.zoom > 1 && ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(ev.key)) {
      // Shift and an arrow pan the zoomed page.
      const d = 0.1 / v.zoom;
      const dx = ev.key === 'ArrowLeft' ? -d : ev.key === 'ArrowRight' ? d : 0;
      const dy = ev.key === 'ArrowUp' ? -d : ev.key === 'ArrowDown' ? d : 0;
      ev.preventDefault();
      this.setView({ zoom: v.zoom, x: v.x + dx, y: v.y + dy }, true);
      return;
    }
    // Arrows on a button of a toolbar keep their meaning there.
    if (target.closest('[role="toolbar"]') && ev.key.startsWith('Arrow')) return;
    /** @type {Record<string, () => void>} */
    const keys = {
      PageDown: () => this.step(1),
      PageUp: () => this.step(-1),
      ArrowRight: () => this.step(1),
      ArrowDown: () => this.step(1),
      ArrowLeft: () => this.step(-1),
      ArrowUp: () => this.step(-1),
      Home: () => this.turn(1),
      End: () => {
        const sp = shownPage(this.state);
        if (sp && sp.doc.pages) this.turn(sp.doc.pages.length);
      },
      '+': () => this.zoomBy(ZOOM_STEP),
      '-': () => this.zoomBy(1 / ZOOM_STEP),
      '0': () => this.setView({ zoom: 1, x: 0, y: 0 }, true),
    };
    const f = keys[ev.key];
    if (!f) return;
    ev.preventDefault();
    // A held key turns about five pages a second (the server's budget
    // for the presentation is ten messages a second).
    if (ev.repeat && Date.now() - this.turnedAt < 200) return;
    f();
  }

  /** @private @param {number} d */
  step(d) {
    const sp = shownPage(this.state);
    // Quick presses count from the page asked for, not yet shown.
    const from = this.asked && this.asked.doc === (sp && sp.doc.id) && Date.now() - this.turnedAt < 2000 ? this.asked.page : sp && sp.page;
    if (sp && from) this.turn(from + d);
  }

  /** Turns to a page of the shown document (presenter). @param {number} page */
  turn(page) {
    const sp = shownPage(this.state);
    if (!sp || !this.isPresenter() || !sp.doc.pages || page < 1 || page > sp.doc.pages.length) return;
    if (page === sp.page && !this.asked) return;
    this.viewOut.cancel();
    this.asked = { doc: sp.doc.id, page };
    this.turnedAt = Date.now();
    this.conn.request(ClientType.PRESENTATION_PAGE, { page }).catch((e) => {
      this.asked = null;
      this.say(this.explain(e), true);
    });
  }

  /** @private @param {number} factor */
  zoomBy(factor) {
    const v = this.view();
    const cx = v.x + 0.5 / v.zoom;
    const cy = v.y + 0.5 / v.zoom;
    this.setView(zoomAround(v, v.zoom * factor, cx, cy), true);
  }

  /**
   * The presenter zooms or pans: shown at once, sent throttled.
   * @param {View} v @param {boolean} done
   */
  setView(v, done) {
    if (!this.isPresenter() || !shownPage(this.state)) return;
    const c = clampView(v.zoom, v.x, v.y);
    this.localView = c;
    this.localAt = Date.now();
    this.viewOut.push(c);
    if (done) this.viewOut.flush();
    this.render();
  }

  /** A short message on the stage (refusals in red). @param {string} text @param {boolean} [error] */
  say(text, error = false) {
    const el = $('pres-status');
    el.textContent = text;
    el.hidden = !text;
    el.classList.toggle('is-error', error);
    clearTimeout(this.sayTimer);
    if (text) {
      this.sayTimer = setTimeout(() => {
        el.textContent = '';
        el.hidden = true;
      }, 6000);
    }
  }

  // ---- Documents -------------------------------------------------------------

  openDocs() {
    this.renderDocs();
    $('pres-dialog').showModal();
    const first = this.isPresenter() ? $('pres-upload') : $('pres-dialog-close');
    first.focus();
  }

  /** The documents dialog's list and the upload's state. */
  renderDocs() {
    const presenter = this.isPresenter();
    const mod = this.isModerator();
    $('pres-upload-box').hidden = !presenter;
    const s = this.state;
    const list = $('pres-doc-list');
    const docs = s ? s.docs : [];
    list.replaceChildren(...docs.map((d) => this.docRow(d, s, presenter, mod)));
    // The conversion of one's own upload.
    const up = this.uploaded;
    const mine = up && docs.find((d) => d.id === up.id);
    const prog = $('pres-convert');
    if (mine && mine.status === 'converting') {
      prog.hidden = false;
      prog.textContent = mine.total ? t('pres.converting', { name: up.name, done: mine.done || 0, total: mine.total }) : t('pres.convertingStart', { name: up.name });
    } else if (mine && mine.status === 'failed') {
      prog.hidden = true;
      this.uploadError(docErrorText(mine.error || ''));
      this.uploaded = null;
    } else if (mine && mine.status === 'ready') {
      prog.hidden = false;
      prog.textContent = t('pres.converted', { name: up.name });
      this.uploaded = null;
    } else if (up && !mine && s) {
      prog.hidden = true;
    }
  }

  /**
   * @private
   * @param {PresentationDoc} d @param {PresentationState|null} s @param {boolean} presenter @param {boolean} mod
   */
  docRow(d, s, presenter, mod) {
    const blank = d.id === BLANK;
    const name = blank ? t('pres.blank') : d.name || t('pres.untitled');
    const current = !!s && s.current === d.id;
    let status = '';
    if (d.status === 'converting') status = d.total ? t('pres.doc.converting', { done: d.done || 0, total: d.total }) : t('pres.doc.convertingStart');
    else if (d.status === 'failed') status = docErrorText(d.error || '');
    else status = t('pres.doc.pages', { count: d.pages ? d.pages.length : 0 });
    const actions = h('div', { class: 'pres-doc-actions' });
    if (presenter && d.status === 'ready' && !current) {
      actions.append(h('button', {
        type: 'button', class: 'btn small primary', 'data-action': 'show', 'aria-label': t('pres.doc.showNamed', { name }), text: t('pres.doc.show'),
        onclick: () => {
          this.conn.request(ClientType.PRESENTATION_SHOW, { doc: d.id }).then(() => {
            $('pres-dialog').close();
            this.viewport.focus();
          }, (e) => this.uploadError(this.explain(e)));
        },
      }));
    }
    if (!blank && d.status === 'ready' && (presenter || mod || d.downloadable)) {
      actions.append(h('a', {
        class: 'btn small', href: `doc/${encodeURIComponent(d.id)}/original`, download: '',
        'aria-label': t('pres.doc.downloadNamed', { name }), text: t('pres.doc.download'),
      }));
    }
    if (mod && d.status === 'ready') {
      actions.append(h('a', {
        class: 'btn small', href: `doc/${encodeURIComponent(d.id)}/export.pdf`, download: '', 'data-action': 'export',
        'aria-label': t('pres.doc.exportNamed', { name }), text: t('pres.doc.export'),
      }));
    }
    if (presenter && !blank) {
      actions.append(h('button', {
        type: 'button', class: 'btn small danger', 'data-action': 'remove', 'aria-label': t('pres.doc.removeNamed', { name }), text: t('pres.doc.remove'),
        onclick: () => this.conn.request(ClientType.PRESENTATION_REMOVE, { doc: d.id }).catch((e) => this.uploadError(this.explain(e))),
      }));
    }
    const allow = presenter && !blank && d.status === 'ready'
      ? h('label', { class: 'pres-doc-allow' },
        h('input', {
          type: 'checkbox', checked: d.downloadable, 'data-action': 'download',
          onchange: (/** @type {Event} */ ev) => {
            const box = /** @type {HTMLInputElement} */ (ev.target);
            this.conn.request(ClientType.PRESENTATION_DOWNLOAD, { doc: d.id, allow: box.checked }).catch((e) => {
              box.checked = !box.checked;
              this.uploadError(this.explain(e));
            });
          },
        }),
        h('span', { text: t('pres.doc.allowDownload') }))
      : null;
    return h('li', { class: 'pres-doc' + (current ? ' is-current' : '') + (d.status === 'failed' ? ' is-failed' : ''), 'data-doc': d.id },
      h('div', { class: 'pres-doc-head' },
        h('span', { class: 'pres-doc-name', text: name }),
        current && h('span', { class: 'pres-doc-current', text: t('pres.doc.current') })),
      h('p', { class: 'pres-doc-status' + (d.status === 'failed' ? ' error' : ''), text: status }),
      allow,
      actions.children.length > 0 && actions);
  }

  /** @private @param {string} text */
  uploadError(text) {
    const el = $('pres-upload-error');
    el.textContent = text;
    el.hidden = !text;
    if (text && !$('pres-dialog').open) this.say(text, true);
  }

  /**
   * Uploads a document (presenter): the request's progress, then the
   * conversion's from presentation.state.
   * @param {File} file
   */
  upload(file) {
    this.uploadError('');
    $('pres-convert').hidden = true;
    if (file.size > MAX_UPLOAD) {
      this.uploadError(docErrorText('too_large'));
      return;
    }
    if (this.xhr) this.xhr.abort();
    const xhr = new XMLHttpRequest();
    this.xhr = xhr;
    const box = $('pres-upload-progress-box');
    const bar = /** @type {HTMLProgressElement} */ ($('pres-upload-progress'));
    const label = $('pres-upload-label');
    box.hidden = false;
    bar.value = 0;
    label.textContent = t('pres.uploading', { name: file.name, percent: 0 });
    xhr.upload.addEventListener('progress', (ev) => {
      if (!ev.lengthComputable) return;
      const pct = Math.round(100 * ev.loaded / Math.max(1, ev.total));
      bar.value = pct;
      label.textContent = t('pres.uploading', { name: file.name, percent: pct });
    });
    const done = () => {
      this.xhr = null;
      box.hidden = true;
    };
    xhr.addEventListener('load', () => {
      done();
      /** @type {any} */
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 202 && body && body.id) {
        this.uploaded = { id: body.id, name: file.name };
        const prog = $('pres-convert');
        prog.hidden = false;
        prog.textContent = t('pres.convertingStart', { name: file.name });
        this.renderDocs();
        return;
      }
      this.uploadError(docErrorText((body && body.code) || ''));
    });
    xhr.addEventListener('error', () => {
      done();
      this.uploadError(docErrorText('network'));
    });
    xhr.addEventListener('abort', done);
    xhr.open('POST', 'upload');
    xhr.setRequestHeader('X-File-Name', encodeURIComponent(file.name));
    xhr.send(file);
  }

  // ---- Drawing rights --------------------------------------------------------

  openAccess() {
    const all = /** @type {HTMLInputElement} */ ($('wb-access-all'));
    all.checked = this.board.all;
    this.accessIDs = new Set(this.board.ids);
    $('wb-access-error').hidden = true;
    this.renderAccess(false);
    $('wb-access-dialog').showModal();
    all.focus();
  }

  /** @private @param {boolean} keepChecks keep what is ticked in the dialog now */
  renderAccess(keepChecks) {
    const list = $('wb-access-list');
    if (keepChecks) {
      this.accessIDs = new Set([...list.querySelectorAll('input:checked')].map((b) => b.getAttribute('value') || ''));
    }
    const all = /** @type {HTMLInputElement} */ ($('wb-access-all')).checked;
    const ids = this.accessIDs || new Set();
    const self = this.self();
    const people = [...this.store.state.roster.values()]
      .filter((p) => p.kind === 'browser' && p.inRoom && !p.presenter && (!self || p.id !== self.id || !self.presenter))
      .sort((a, b) => a.name.localeCompare(b.name));
    list.replaceChildren(...people.map((p) => h('label', { class: 'wb-access-person' },
      h('input', { type: 'checkbox', value: p.id, checked: all || ids.has(p.id), disabled: all }),
      h('span', { text: p.name }))));
    $('wb-access-none').hidden = people.length > 0;
  }

  /** @private */
  applyAccess() {
    const all = /** @type {HTMLInputElement} */ ($('wb-access-all')).checked;
    const ids = all ? [] : [...$('wb-access-list').querySelectorAll('input:checked')].map((b) => b.getAttribute('value') || '');
    this.conn.request(ClientType.WB_ACCESS, { all, ids }).then(() => {
      $('wb-access-dialog').close();
      this.say(all ? t('wb.access.allNow') : ids.length > 0 ? t('wb.access.someNow', { count: ids.length }) : t('wb.access.noneNow'));
    }, (e) => {
      const el = $('wb-access-error');
      el.textContent = this.explain(e);
      el.hidden = false;
    });
  }
}

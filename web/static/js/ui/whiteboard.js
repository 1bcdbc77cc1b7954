// The whiteboard over the presentation's page: an SVG layer in page
// coordinates (a view box VIEW_W wide, see board.js) that shows the
// page's shapes, what others draw now, and the drawers' cursors with
// their names; and, for those who may draw, the tools (select and move,
// pen, highlighter, line, arrow, rectangle, ellipse, text, eraser,
// pointer, pan), colour and thickness, undo and redo, clearing, as one
// keyboard-usable toolbar. Strokes stream live while drawn (wb.drawing,
// throttled) and are committed on release (wb.draw); the server's
// refusals show as a message on the stage.
import { $, h } from './dom.js';
import { icon } from './icons.js';
import { t } from '../i18n.js';
import { ClientType, ServerType, ErrorCode } from '../protocol.js';
import {
  pageKey, newShapeID, round, splitStroke, strokePath, toView, arrowHead, textLines, bounds,
  hitShape, Throttle, VIEW_W,
} from '../board.js';
import { Toolbar, COLORS, SIZES } from './wbtoolbar.js';

/**
 * @typedef {import('../store.js').Store} Store
 * @typedef {import('../protocol.js').Connection} Connection
 * @typedef {import('../protocol.js').Shape} Shape
 * @typedef {import('../protocol.js').PageRef} PageRef
 * @typedef {import('../board.js').Board} Board
 * @typedef {import('../board.js').View} View
 * @typedef {import('./wbtoolbar.js').Tool} Tool
 * @typedef {import('./wbtoolbar.js').Size} Size
 * @typedef {{ref: PageRef, key: string, aspect: number}} Page
 * @typedef {{
 *   page: () => Page|null,
 *   view: () => View,
 *   pan: (v: View, done: boolean) => void,
 *   place: (x: number, y: number) => number[]|null,
 *   changed: () => void,
 *   say: (text: string, error?: boolean) => void,
 *   explain: (e: any) => string,
 * }} BoardHost
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

/** @param {string} tag @param {Object<string, string|number>} [attrs] @returns {SVGElement} */
function svg(tag, attrs = {}) {
  const el = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag));
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** The highlighter is this much wider than the pen. */
const HIGHLIGHT = 5;
/** How close (CSS pixels) the eraser and selection must come to a shape. */
const REACH = 8;

/**
 * What a whiteboard refusal means, in the user's language.
 * @param {any} e @param {(e: any) => string} explain
 */
export function whiteboardError(e, explain) {
  switch (e && e.code) {
    case ErrorCode.FORBIDDEN: return t('wb.error.forbidden');
    case ErrorCode.RATE_LIMITED: return t('wb.error.rateLimited');
    case ErrorCode.BAD_REQUEST:
    case ErrorCode.TOO_LARGE: return t('wb.error.refused');
    case ErrorCode.NOT_FOUND: return t('wb.error.gone');
    default: return explain(e);
  }
}

export class Whiteboard {
  /**
   * @param {Store} store @param {Board} board @param {Connection} conn @param {BoardHost} host
   */
  constructor(store, board, conn, host) {
    this.store = store;
    this.board = board;
    this.conn = conn;
    this.host = host;
    /** @type {Tool} */
    this.tool = 'pen';
    this.color = COLORS[1];
    /** @type {Size} */
    this.size = 'medium';
    this.key = '';
    this.aspect = 16 / 9;
    /** @type {Map<string, {shape: Shape, el: SVGElement}>} */
    this.els = new Map();
    /** @type {Map<string, {key: string, shape: Shape}>} own shapes sent, not yet confirmed */
    this.pending = new Map();
    /** @type {Set<string>} */
    this.selected = new Set();
    /** @type {any} the gesture under way */
    this.gesture = null;
    /** @type {Map<string, {key: string, x: number, y: number, at: number}>} */
    this.cursors = new Map();
    /** @type {{x: number, y: number}|null} where the text being typed goes */
    this.textAt = null;

    this.svg = /** @type {SVGSVGElement} */ (/** @type {unknown} */ ($('wb-svg')));
    this.gShapes = svg('g', { class: 'wb-shapes' });
    this.gLive = svg('g', { class: 'wb-live' });
    this.gSel = svg('g', { class: 'wb-selection' });
    this.svg.replaceChildren(this.gShapes, this.gLive, this.gSel);
    this.cursorBox = $('wb-cursors');
    this.textInput = /** @type {HTMLInputElement} */ ($('wb-text'));
    this.toolbar = new Toolbar($('wb-tools'), {
      tool: (tool) => this.setTool(tool),
      color: (c) => {
        this.color = c;
        this.renderTools();
      },
      size: (size) => {
        this.size = size;
        this.renderTools();
      },
      undo: (redo) => this.undo(redo),
      clear: (all) => this.clear(all),
    });

    this.drawingOut = new Throttle(60, (/** @type {any} */ d) => this.conn.request(ClientType.WB_DRAWING, d).catch(() => {}));
    this.cursorOut = new Throttle(100, (/** @type {any} */ d) => this.conn.request(ClientType.WB_CURSOR, d).catch(() => {}));

    this.renderTools();
    this.bindPointer();
    this.bindText();

    conn.on(ServerType.WB_ADDED, (d) => {
      const key = pageKey(d.page);
      this.board.add(key, d.shapes || []);
      for (const s of d.shapes || []) this.pending.delete(s.id);
      this.changed(key);
    });
    conn.on(ServerType.WB_REMOVED, (d) => {
      const key = pageKey(d.page);
      this.board.remove(key, d.ids || []);
      for (const id of d.ids || []) this.selected.delete(id);
      this.changed(key);
    });
    conn.on(ServerType.WB_MOVED, (d) => {
      const key = pageKey(d.page);
      this.board.move(key, d.ids || [], d.dx, d.dy);
      this.changed(key);
    });
    conn.on(ServerType.WB_DRAWING, (d) => {
      const key = pageKey(d.page);
      if (this.board.find(key, d.shape.id)) return; // committed already
      this.board.drawing(key, d.shape, Date.now());
      if (key === this.key) this.renderLive();
    });
    conn.on(ServerType.WB_ACCESS, (d) => {
      this.board.setAccess(!!d.all, d.ids || []);
      this.renderTools();
      this.host.changed();
    });
    conn.on(ServerType.WB_CURSOR, (d) => {
      if (!d.id) return;
      this.cursors.set(d.id, { key: pageKey(d.page), x: d.x, y: d.y, at: Date.now() });
      this.placeCursors();
    });
    store.on('self', () => this.renderTools());
    store.on('roster', () => this.placeCursors());
    // Cursors and live strokes of others fade when nothing is heard.
    setInterval(() => {
      const now = Date.now();
      let gone = false;
      for (const [id, c] of this.cursors) {
        if (c.at < now - 4000) {
          this.cursors.delete(id);
          gone = true;
        }
      }
      if (gone) this.placeCursors();
      if (this.board.expireLive(now - 5000)) this.renderLive();
    }, 1000);
  }

  /** Whether this participant may draw now. */
  mayDraw() {
    return this.board.mayDraw(this.store.state.self);
  }

  /** @private */
  isPresenter() {
    const self = this.store.state.self;
    return !!self && self.presenter;
  }

  /** @private A shape this participant may erase or move. @param {Shape} s */
  mayChange(s) {
    const self = this.store.state.self;
    return !!self && (s.author === self.id || self.presenter || self.role === 'MODERATOR');
  }

  /** @private shapes on a page changed @param {string} key */
  changed(key) {
    if (key === this.key) this.render();
    this.host.changed();
  }

  // ---- Rendering -------------------------------------------------------

  /** Draws the shown page's shapes (only what changed since the last time). */
  render() {
    const pg = this.host.page();
    if (!pg) {
      this.key = '';
      this.els.clear();
      this.gShapes.replaceChildren();
      this.gLive.replaceChildren();
      this.gSel.replaceChildren();
      this.placeCursors();
      return;
    }
    if (pg.key !== this.key || pg.aspect !== this.aspect) {
      this.cancelGesture();
      this.closeText(false);
      this.key = pg.key;
      this.aspect = pg.aspect;
      this.svg.setAttribute('viewBox', `0 0 ${VIEW_W} ${round(VIEW_W / pg.aspect)}`);
      this.els.clear();
      this.gShapes.replaceChildren();
      this.selected.clear();
    }
    const shapes = this.board.shapes(this.key);
    const keep = new Set();
    /** @type {ChildNode|null} */
    let prev = null;
    for (const sh of shapes) {
      let e = this.els.get(sh.id);
      if (!e || e.shape !== sh) {
        const el = this.shapeEl(sh, true);
        if (e) e.el.replaceWith(el);
        e = { shape: sh, el };
        this.els.set(sh.id, e);
      }
      keep.add(sh.id);
      const want = prev ? prev.nextSibling : this.gShapes.firstChild;
      if (want !== e.el) this.gShapes.insertBefore(e.el, want);
      prev = e.el;
    }
    for (const [id, e] of this.els) {
      if (!keep.has(id)) {
        e.el.remove();
        this.els.delete(id);
      }
    }
    for (const id of [...this.selected]) if (!keep.has(id)) this.selected.delete(id);
    this.svg.setAttribute('aria-label', t('wb.drawings', { count: shapes.length }));
    this.renderLive();
    this.renderSelection();
    this.placeCursors();
  }

  /**
   * The SVG of one shape.
   * @private @param {Shape} sh @param {boolean} done
   * @returns {SVGElement}
   */
  shapeEl(sh, done) {
    const a = this.aspect;
    const w = round(sh.width * VIEW_W);
    const pts = sh.points.map((p) => toView(p, a).map(round));
    /** @type {SVGElement} */
    let el;
    switch (sh.kind) {
      case 'pen':
      case 'highlighter':
        el = svg('path', { d: strokePath(sh, a, done), fill: sh.color });
        if (sh.kind === 'highlighter') el.setAttribute('fill-opacity', '0.35');
        break;
      case 'line':
      case 'arrow': {
        const [p0, p1] = pts;
        el = svg('g', {});
        el.append(svg('line', { x1: p0[0], y1: p0[1], x2: p1[0], y2: p1[1], stroke: sh.color, 'stroke-width': w, 'stroke-linecap': 'round' }));
        if (sh.kind === 'arrow') {
          el.append(svg('polygon', { points: arrowHead(p0, p1, w).map((p) => p.map(round).join(',')).join(' '), fill: sh.color }));
        }
        break;
      }
      case 'rect': {
        const [p0, p1] = pts;
        el = svg('rect', {
          x: Math.min(p0[0], p1[0]), y: Math.min(p0[1], p1[1]), width: round(Math.abs(p1[0] - p0[0])), height: round(Math.abs(p1[1] - p0[1])),
          fill: 'none', stroke: sh.color, 'stroke-width': w, 'stroke-linejoin': 'round',
        });
        break;
      }
      case 'ellipse': {
        const [p0, p1] = pts;
        el = svg('ellipse', {
          cx: round((p0[0] + p1[0]) / 2), cy: round((p0[1] + p1[1]) / 2), rx: round(Math.abs(p1[0] - p0[0]) / 2), ry: round(Math.abs(p1[1] - p0[1]) / 2),
          fill: 'none', stroke: sh.color, 'stroke-width': w,
        });
        break;
      }
      default: {
        const [p0] = pts;
        const fs = round((sh.size || 0.045) * VIEW_W / a);
        el = svg('text', { x: p0[0], y: p0[1], 'font-size': fs, fill: sh.color, 'dominant-baseline': 'hanging', class: 'wb-text-shape' });
        textLines(sh).forEach((line, i) => {
          const span = svg('tspan', { x: p0[0], dy: i === 0 ? 0 : round(fs * 1.2) });
          span.textContent = line;
          el.append(span);
        });
      }
    }
    el.setAttribute('data-id', sh.id);
    el.setAttribute('data-kind', sh.kind);
    if (sh.author) el.setAttribute('data-author', sh.author);
    el.classList.add('wb-shape');
    return el;
  }

  /** @private What others draw now, and one's own shapes on their way. */
  renderLive() {
    const list = [...this.board.liveOn(this.key)];
    for (const p of this.pending.values()) if (p.key === this.key && !this.board.find(this.key, p.shape.id)) list.push(p.shape);
    if (this.gesture && (this.gesture.kind === 'stroke' || this.gesture.kind === 'shape')) list.push(this.gesture.shape);
    this.gLive.replaceChildren(...list.filter((s) => this.drawable(s)).map((s) => {
      const el = this.shapeEl(s, false);
      el.classList.add('is-live');
      return el;
    }));
  }

  /** @private a shape with enough points to draw @param {Shape} s */
  drawable(s) {
    const need = s.kind === 'pen' || s.kind === 'highlighter' || s.kind === 'text' ? 1 : 2;
    return Array.isArray(s.points) && s.points.length >= need;
  }

  /** @private Dashed boxes round the selected shapes. */
  renderSelection() {
    const boxes = [];
    for (const id of this.selected) {
      const e = this.els.get(id);
      if (!e) continue;
      const b = bounds(e.shape, this.aspect);
      const p0 = toView([b.x0, b.y0], this.aspect);
      const p1 = toView([b.x1, b.y1], this.aspect);
      boxes.push(svg('rect', {
        x: round(p0[0] - 4), y: round(p0[1] - 4), width: round(p1[0] - p0[0] + 8), height: round(p1[1] - p0[1] + 8),
        class: 'wb-selected', 'data-for': id,
      }));
    }
    this.gSel.replaceChildren(...boxes);
  }

  /** Places the cursors of others who point at the shown page. */
  placeCursors() {
    const out = [];
    const st = this.store.state;
    for (const [id, c] of this.cursors) {
      if (c.key !== this.key || c.x < 0 || c.y < 0 || c.x > 1 || c.y > 1) continue;
      const at = this.host.place(c.x, c.y);
      if (!at) continue;
      const p = st.roster.get(id);
      const name = (p && p.name) || t('people.someone');
      const el = h('div', { class: 'wb-cursor' + (p && p.presenter ? ' is-presenter' : ''), 'data-id': id },
        h('span', { class: 'wb-cursor-dot' }),
        h('span', { class: 'wb-cursor-name', text: p && p.presenter ? t('wb.pointerOf', { name }) : name }));
      el.style.left = at[0] + 'px';
      el.style.top = at[1] + 'px';
      out.push(el);
    }
    this.cursorBox.replaceChildren(...out);
  }

  // ---- The toolbar -------------------------------------------------------

  /** Shows the toolbar to those who may draw, with the current choices. */
  renderTools() {
    const may = this.mayDraw();
    const presenter = this.isPresenter();
    if (!may) {
      this.cancelGesture();
      this.closeText(false);
    }
    if (this.tool === 'pan' && !presenter) this.tool = 'pen';
    this.toolbar.render({ may, presenter, tool: this.tool, color: this.color, size: this.size });
    this.svg.classList.toggle('can-draw', may);
    this.svg.setAttribute('data-tool', may ? this.tool : '');
  }

  /** @param {Tool} tool */
  setTool(tool) {
    this.cancelGesture();
    this.closeText(true);
    this.tool = tool;
    if (tool !== 'select') {
      this.selected.clear();
      this.renderSelection();
    }
    this.renderTools();
  }

  /** @private @param {boolean} redo */
  undo(redo) {
    this.conn.request(redo ? ClientType.WB_REDO : ClientType.WB_UNDO).catch((e) => {
      if (e && e.code === ErrorCode.NOT_FOUND) this.host.say(redo ? t('wb.nothingToRedo') : t('wb.nothingToUndo'));
      else this.fail(e);
    });
  }

  /** @private @param {boolean} all */
  clear(all) {
    const pg = this.host.page();
    if (!pg) return;
    this.conn.request(ClientType.WB_CLEAR, all ? { page: pg.ref, all: true } : { page: pg.ref })
      .then(() => this.host.say(all ? t('wb.clearedPage') : t('wb.clearedMine')), (e) => this.fail(e));
  }

  /** @private @param {any} e */
  fail(e) {
    this.host.say(whiteboardError(e, this.host.explain), true);
  }

  // ---- Drawing -------------------------------------------------------------

  /** @private A pointer event's place on the page (fractions). @param {PointerEvent|MouseEvent} ev */
  pos(ev) {
    const r = this.svg.getBoundingClientRect();
    return [(ev.clientX - r.left) / Math.max(1, r.width), (ev.clientY - r.top) / Math.max(1, r.height)];
  }

  /** @private view-box units per CSS pixel now */
  unitsPerPixel() {
    const r = this.svg.getBoundingClientRect();
    return VIEW_W / Math.max(1, r.width);
  }

  /** @private */
  bindPointer() {
    const s = this.svg;
    s.addEventListener('pointerdown', (ev) => this.down(ev));
    s.addEventListener('pointermove', (ev) => this.move(ev));
    s.addEventListener('pointerup', (ev) => this.up(ev));
    s.addEventListener('pointercancel', () => this.cancelGesture());
    s.addEventListener('pointerleave', () => {
      const pg = this.host.page();
      if (!this.gesture && pg && this.mayDraw()) {
        // Off the page: others stop showing this cursor.
        this.cursorOut.cancel();
        this.conn.request(ClientType.WB_CURSOR, { page: pg.ref, x: -0.5, y: -0.5 }).catch(() => {});
      }
    });
  }

  /** @private @param {PointerEvent} ev */
  down(ev) {
    const pg = this.host.page();
    if (!pg || !this.mayDraw() || ev.button !== 0 || this.gesture) return;
    const p = this.pos(ev).map(round);
    const [wPen, sizeText] = SIZES[this.size];
    const base = { id: newShapeID(), color: this.color, width: wPen };
    switch (this.tool) {
      case 'pen':
      case 'highlighter':
        this.gesture = {
          kind: 'stroke', page: pg, last: [ev.clientX, ev.clientY],
          shape: { ...base, kind: this.tool, width: this.tool === 'highlighter' ? Math.min(0.1, wPen * HIGHLIGHT) : wPen, points: [p] },
        };
        break;
      case 'line':
      case 'arrow':
      case 'rect':
      case 'ellipse':
        this.gesture = { kind: 'shape', page: pg, shape: { ...base, kind: this.tool, points: [p, p] } };
        break;
      case 'text':
        // The input opens on release: the press moves the focus first.
        this.gesture = { kind: 'text', page: pg, p, at: [ev.clientX, ev.clientY], size: sizeText };
        break;
      case 'eraser':
        this.gesture = { kind: 'erase', page: pg, ids: new Set() };
        this.eraseAt(p);
        break;
      case 'select': {
        const hit = hitShape(this.board.shapes(pg.key), p, pg.aspect, REACH * this.unitsPerPixel(), (x) => this.mayChange(x));
        if (!hit) {
          this.selected.clear();
          this.renderSelection();
          return;
        }
        if (!this.selected.has(hit.id)) {
          this.selected.clear();
          this.selected.add(hit.id);
          this.renderSelection();
        }
        this.gesture = { kind: 'move', page: pg, start: p, dx: 0, dy: 0 };
        break;
      }
      case 'pan': {
        const r = this.svg.getBoundingClientRect();
        this.gesture = { kind: 'pan', page: pg, start: [ev.clientX, ev.clientY], view: this.host.view(), w: r.width, h: r.height };
        break;
      }
      default:
        return; // the pointer: only the cursor
    }
    ev.preventDefault();
    try {
      this.svg.setPointerCapture(ev.pointerId);
    } catch {
      // synthetic events have no capture
    }
    this.renderLive();
  }

  /** @private @param {PointerEvent} ev */
  move(ev) {
    const pg = this.host.page();
    if (!pg || !this.mayDraw()) return;
    const p = this.pos(ev).map(round);
    if (this.tool !== 'pan') this.cursorOut.push({ page: pg.ref, x: p[0], y: p[1] });
    const g = this.gesture;
    if (!g) return;
    switch (g.kind) {
      case 'stroke': {
        if (Math.hypot(ev.clientX - g.last[0], ev.clientY - g.last[1]) < 2) return;
        g.last = [ev.clientX, ev.clientY];
        g.shape.points.push(p);
        if (g.shape.points.length >= 2000) {
          // The server takes 2000 points a shape: commit this piece, go on
          // with a new one from its last point.
          const done = g.shape;
          this.commit(g.page, done);
          g.shape = { ...done, id: newShapeID(), points: [done.points[done.points.length - 1]] };
        }
        // Each wb.drawing carries the whole stroke so far: a long one goes
        // out less often, so what everyone receives stays small.
        this.drawingOut.ms = 60 + Math.floor(g.shape.points.length / 8);
        this.drawingOut.push({ page: g.page.ref, shape: { ...g.shape, points: [...g.shape.points] } });
        break;
      }
      case 'shape':
        g.shape.points[1] = p;
        this.drawingOut.push({ page: g.page.ref, shape: { ...g.shape, points: [...g.shape.points] } });
        break;
      case 'erase':
        this.eraseAt(p);
        return;
      case 'move': {
        g.dx = round(p[0] - g.start[0]);
        g.dy = round(p[1] - g.start[1]);
        const tr = `translate(${round(g.dx * VIEW_W)} ${round(g.dy * VIEW_W / this.aspect)})`;
        for (const id of this.selected) {
          const e = this.els.get(id);
          if (e) e.el.setAttribute('transform', tr);
        }
        this.gSel.setAttribute('transform', tr);
        return;
      }
      case 'pan': {
        const v = g.view;
        this.host.pan({ zoom: v.zoom, x: v.x - (ev.clientX - g.start[0]) / Math.max(1, g.w), y: v.y - (ev.clientY - g.start[1]) / Math.max(1, g.h) }, false);
        return;
      }
    }
    this.renderLive();
  }

  /** @private @param {PointerEvent} ev */
  up(ev) {
    const g = this.gesture;
    if (!g) return;
    this.gesture = null;
    try {
      this.svg.releasePointerCapture(ev.pointerId);
    } catch {
      // not captured
    }
    this.drawingOut.cancel();
    switch (g.kind) {
      case 'text':
        this.openText(g.p, g.at, g.size);
        break;
      case 'stroke':
        this.commit(g.page, g.shape);
        break;
      case 'shape': {
        const [a, b] = g.shape.points;
        if (Math.hypot(b[0] - a[0], (b[1] - a[1]) / g.page.aspect) > 0.004) this.commit(g.page, g.shape);
        break;
      }
      case 'erase': {
        const ids = [...g.ids];
        for (const id of ids) {
          const e = this.els.get(id);
          if (e) e.el.classList.remove('is-erasing');
        }
        if (ids.length > 0) this.conn.request(ClientType.WB_ERASE, { page: g.page.ref, ids }).catch((e) => this.fail(e));
        break;
      }
      case 'move': {
        const ids = [...this.selected];
        const reset = () => {
          for (const id of ids) {
            const e = this.els.get(id);
            if (e) e.el.removeAttribute('transform');
          }
          this.gSel.removeAttribute('transform');
          this.renderSelection();
        };
        if (ids.length === 0 || (Math.abs(g.dx) < 0.001 && Math.abs(g.dy) < 0.001)) {
          reset();
          break;
        }
        this.conn.request(ClientType.WB_MOVE, { page: g.page.ref, ids, dx: g.dx, dy: g.dy }).then(() => {
          this.gSel.removeAttribute('transform');
          this.renderSelection();
        }, (e) => {
          reset();
          this.fail(e);
        });
        break;
      }
      case 'pan': {
        const v = g.view;
        this.host.pan({ zoom: v.zoom, x: v.x - (ev.clientX - g.start[0]) / Math.max(1, g.w), y: v.y - (ev.clientY - g.start[1]) / Math.max(1, g.h) }, true);
        break;
      }
    }
    this.renderLive();
  }

  /** @private Commits a finished shape. @param {Page} pg @param {Shape} shape */
  commit(pg, shape) {
    const pieces = shape.kind === 'pen' || shape.kind === 'highlighter' ? splitStroke(shape.points) : [shape.points];
    pieces.forEach((points, i) => {
      const s = { ...shape, id: i === 0 ? shape.id : newShapeID(), points };
      this.pending.set(s.id, { key: pg.key, shape: s });
      this.conn.request(ClientType.WB_DRAW, { page: pg.ref, shape: s }).catch((e) => {
        this.pending.delete(s.id);
        this.renderLive();
        this.fail(e);
      });
    });
    this.host.changed();
  }

  /** @private Marks the shapes under the eraser. @param {number[]} p */
  eraseAt(p) {
    const g = this.gesture;
    if (!g) return;
    const hit = hitShape(this.board.shapes(g.page.key), p, g.page.aspect, REACH * this.unitsPerPixel(), (x) => this.mayChange(x) && !g.ids.has(x.id));
    if (!hit) return;
    g.ids.add(hit.id);
    const e = this.els.get(hit.id);
    if (e) e.el.classList.add('is-erasing');
  }

  /** Stops what is being drawn, without sending it. */
  cancelGesture() {
    const g = this.gesture;
    this.gesture = null;
    this.drawingOut.cancel();
    if (!g) return;
    for (const e of this.els.values()) {
      e.el.classList.remove('is-erasing');
      e.el.removeAttribute('transform');
    }
    this.gSel.removeAttribute('transform');
    this.renderSelection();
    this.renderLive();
  }

  /** @private Erases the selected shapes. */
  eraseSelected() {
    const pg = this.host.page();
    const ids = [...this.selected].filter((id) => this.els.has(id));
    if (!pg || ids.length === 0) return false;
    this.selected.clear();
    this.renderSelection();
    this.conn.request(ClientType.WB_ERASE, { page: pg.ref, ids }).catch((e) => this.fail(e));
    return true;
  }

  // ---- Text ------------------------------------------------------------------

  /** @private */
  bindText() {
    const input = this.textInput;
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        this.closeText(true);
      } else if (ev.key === 'Escape') {
        ev.preventDefault();
        ev.stopPropagation();
        this.closeText(false);
      }
    });
    input.addEventListener('blur', () => this.closeText(true));
  }

  /** @private @param {number[]} p page fractions @param {number[]} at client position @param {number} size */
  openText(p, at, size) {
    this.closeText(true);
    const box = /** @type {HTMLElement} */ (this.textInput.offsetParent || this.textInput.parentElement);
    const r = box.getBoundingClientRect();
    const svgR = this.svg.getBoundingClientRect();
    this.textAt = { x: p[0], y: p[1] };
    const input = this.textInput;
    input.value = '';
    input.hidden = false;
    input.style.left = Math.round(at[0] - r.left) + 'px';
    input.style.top = Math.round(at[1] - r.top) + 'px';
    input.style.fontSize = Math.max(10, Math.round(size * svgR.height)) + 'px';
    input.style.color = this.color === '#ffffff' ? '#1d2329' : this.color;
    input.focus();
  }

  /** Ends typing: commits the text (unless cancelled). @param {boolean} keep */
  closeText(keep) {
    const at = this.textAt;
    const input = this.textInput;
    if (!at) return;
    this.textAt = null;
    const text = input.value.trim();
    input.hidden = true;
    input.value = '';
    const pg = this.host.page();
    if (keep && text && pg) {
      const [wPen, size] = SIZES[this.size];
      this.commit(pg, { id: newShapeID(), kind: 'text', points: [[at.x, at.y]], color: this.color, width: wPen, text: text.slice(0, 500), size });
      this.renderLive();
    }
    if (document.activeElement === input || document.activeElement === document.body) {
      const vp = $('pres-viewport');
      if (vp) vp.focus();
    }
  }

  /**
   * Keys on the stage: Escape stops drawing or clears the selection,
   * Delete erases the selection, Ctrl+Z undoes, Ctrl+Y or Ctrl+Shift+Z
   * redoes. True when the key was used.
   * @param {KeyboardEvent} ev
   */
  onKey(ev) {
    if (!this.mayDraw()) return false;
    const mod = ev.ctrlKey || ev.metaKey;
    if (ev.key === 'Escape' && (this.gesture || this.selected.size > 0)) {
      this.cancelGesture();
      this.selected.clear();
      this.renderSelection();
      return true;
    }
    if ((ev.key === 'Delete' || ev.key === 'Backspace') && this.selected.size > 0) return this.eraseSelected();
    if (mod && !ev.altKey && (ev.key === 'z' || ev.key === 'Z')) {
      this.undo(ev.shiftKey);
      return true;
    }
    if (mod && !ev.altKey && (ev.key === 'y' || ev.key === 'Y')) {
      this.undo(true);
      return true;
    }
    return false;
  }
}

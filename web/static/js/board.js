// The whiteboard's state and geometry, without the DOM: the shapes of
// every page (from welcome's features.whiteboard and the wb.* messages),
// who may draw, shapes others are drawing now, and the arithmetic of
// page-relative coordinates (docs/protocol.md, "Whiteboard"), zoom and
// pan ("Presentation"), hit tests for the eraser and selection, and the
// pen's smoothed outline (perfect-freehand, vendored).
//
// Positions are fractions of the page (0 to 1 across its width and
// height). For drawing, a page is a view box VIEW_W units wide and
// VIEW_W / aspect high (aspect = width / height), so both axes share one
// unit and circles stay round.
import { getStroke } from '../vendor/perfect-freehand/index.mjs';

/**
 * @typedef {import('./protocol.js').Shape} Shape
 * @typedef {import('./protocol.js').PageRef} PageRef
 * @typedef {import('./protocol.js').PresentationState} PresentationState
 * @typedef {import('./protocol.js').PresentationDoc} PresentationDoc
 * @typedef {import('./protocol.js').WhiteboardState} WhiteboardState
 * @typedef {{x0: number, y0: number, x1: number, y1: number}} Box
 * @typedef {{zoom: number, x: number, y: number}} View
 */

/** The width of a page in view-box units. */
export const VIEW_W = 1000;
/** Points per shape the server takes (longer strokes are split). */
export const MAX_POINTS = 2000;
/** Zoom runs from the whole page (1) to this. */
export const MAX_ZOOM = 5;
/** The built-in blank deck. */
export const BLANK = 'blank';

/** A page's key, as in features.whiteboard.pages. @param {PageRef} ref */
export function pageKey(ref) {
  return ref.doc + '/' + ref.page;
}

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';

/** A new shape id (12 characters the server accepts). */
export function newShapeID() {
  const b = new Uint8Array(12);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => ID_CHARS[x & 63]).join('');
}

/** A coordinate rounded to keep messages small (1/100000 of the page). @param {number} v */
export function round(v) {
  return Math.round(v * 1e5) / 1e5;
}

/**
 * The shapes of a meeting's pages, who may draw, and what others are
 * drawing now.
 */
export class Board {
  constructor() {
    /** @type {Map<string, Shape[]>} page key → shapes, oldest first */
    this.pages = new Map();
    this.all = false;
    /** @type {Set<string>} */
    this.ids = new Set();
    /** @type {Map<string, {key: string, shape: Shape, at: number}>} shape id → a shape being drawn by someone else */
    this.live = new Map();
  }

  /** The whole board (welcome). @param {WhiteboardState|undefined|null} s */
  load(s) {
    this.pages.clear();
    this.live.clear();
    this.all = !!(s && s.all);
    this.ids = new Set((s && s.ids) || []);
    if (!s || !s.pages) return;
    for (const [key, shapes] of Object.entries(s.pages)) {
      if (Array.isArray(shapes) && shapes.length > 0) this.pages.set(key, shapes.map(copyShape));
    }
  }

  /** @param {string} key @returns {Shape[]} */
  shapes(key) {
    return this.pages.get(key) || [];
  }

  /** @param {string} key @param {string} id */
  find(key, id) {
    return this.shapes(key).find((s) => s.id === id) || null;
  }

  /** Shapes appeared (wb.added); one with a known id replaces it. @param {string} key @param {Shape[]} shapes */
  add(key, shapes) {
    const list = [...this.shapes(key)];
    for (const s of shapes) {
      this.live.delete(s.id);
      const i = list.findIndex((x) => x.id === s.id);
      if (i >= 0) list[i] = copyShape(s);
      else list.push(copyShape(s));
    }
    this.pages.set(key, list);
  }

  /** Shapes went (wb.removed). @param {string} key @param {string[]} ids */
  remove(key, ids) {
    const gone = new Set(ids);
    const list = this.shapes(key).filter((s) => !gone.has(s.id));
    if (list.length > 0) this.pages.set(key, list);
    else this.pages.delete(key);
  }

  /** Shapes moved (wb.moved): each becomes a new object. @param {string} key @param {string[]} ids @param {number} dx @param {number} dy */
  move(key, ids, dx, dy) {
    const moved = new Set(ids);
    const list = this.shapes(key).map((s) => (moved.has(s.id) ? { ...s, points: s.points.map((p) => [p[0] + dx, p[1] + dy]) } : s));
    if (list.length > 0) this.pages.set(key, list);
  }

  /** Who may draw besides the presenter (wb.access). @param {boolean} all @param {string[]} ids */
  setAccess(all, ids) {
    this.all = all;
    this.ids = new Set(ids || []);
  }

  /** Whether a participant may draw now. @param {{id: string, presenter: boolean}|null} p */
  mayDraw(p) {
    return !!p && (p.presenter || this.all || this.ids.has(p.id));
  }

  /** Someone else's shape while it is drawn (wb.drawing). @param {string} key @param {Shape} shape @param {number} now */
  drawing(key, shape, now) {
    this.live.set(shape.id, { key, shape, at: now });
  }

  /** Drops live shapes not heard of since before `before`; true when some went. @param {number} before */
  expireLive(before) {
    let gone = false;
    for (const [id, l] of this.live) {
      if (l.at < before) {
        this.live.delete(id);
        gone = true;
      }
    }
    return gone;
  }

  /** Live shapes on a page. @param {string} key @returns {Shape[]} */
  liveOn(key) {
    return [...this.live.values()].filter((l) => l.key === key).map((l) => l.shape);
  }

  /** Whether any page of a document has shapes. @param {string} doc */
  hasShapes(doc) {
    for (const key of this.pages.keys()) if (key.startsWith(doc + '/')) return true;
    return false;
  }
}

/** @param {Shape} s @returns {Shape} */
function copyShape(s) {
  return { ...s, points: (s.points || []).map((p) => [p[0], p[1]]) };
}

/**
 * Whether the stage should show the presentation: a document is shown,
 * or the blank deck has something on it (drawings, added pages).
 * @param {PresentationState|null} state @param {Board} board
 */
export function presentationActive(state, board) {
  if (!state || !state.current) return false;
  if (state.current !== BLANK) return true;
  const blank = state.docs.find((d) => d.id === BLANK);
  return (!!blank && !!blank.pages && blank.pages.length > 1) || board.hasShapes(BLANK);
}

/**
 * The page shown now: document, page number, its size, or null.
 * @param {PresentationState|null} state
 * @returns {{doc: PresentationDoc, page: number, w: number, h: number}|null}
 */
export function shownPage(state) {
  if (!state) return null;
  const doc = state.docs.find((d) => d.id === state.current);
  if (!doc || doc.status !== 'ready' || !doc.pages || doc.pages.length === 0) return null;
  const page = Math.min(Math.max(1, state.page || doc.page || 1), doc.pages.length);
  const size = doc.pages[page - 1];
  return { doc, page, w: size.w || 16, h: size.h || 9 };
}

/**
 * A page image's address relative to the client page: the 960 or 1920
 * pixel wide rendering, by how many device pixels it fills.
 * @param {string} doc @param {number} page @param {number} devicePixels
 */
export function pageImage(doc, page, devicePixels) {
  return `doc/${encodeURIComponent(doc)}/page-${String(page).padStart(4, '0')}-w${devicePixels > 960 ? 1920 : 960}.png`;
}

/** A page's thumbnail address. @param {string} doc @param {number} page */
export function pageThumb(doc, page) {
  return `doc/${encodeURIComponent(doc)}/page-${String(page).padStart(4, '0')}-thumb.png`;
}

/**
 * A valid view: zoom 1 to MAX_ZOOM, the visible part inside the page.
 * @param {number} zoom @param {number} x @param {number} y
 * @returns {View}
 */
export function clampView(zoom, x, y) {
  const z = Math.min(MAX_ZOOM, Math.max(1, Number.isFinite(zoom) ? zoom : 1));
  const max = 1 - 1 / z;
  const c = (/** @type {number} */ v) => round(Math.min(max, Math.max(0, Number.isFinite(v) ? v : 0)));
  return { zoom: round(z), x: c(x), y: c(y) };
}

/**
 * Zooms to `zoom` keeping the page point (cx, cy) where it is on screen.
 * @param {View} view @param {number} zoom @param {number} cx @param {number} cy
 */
export function zoomAround(view, zoom, cx, cy) {
  const z = Math.min(MAX_ZOOM, Math.max(1, zoom));
  return clampView(z, cx - (cx - view.x) * view.zoom / z, cy - (cy - view.y) * view.zoom / z);
}

/**
 * Splits a long stroke into pieces the server takes; each piece starts
 * where the one before ended, so the line stays whole.
 * @param {number[][]} points @param {number} [max]
 * @returns {number[][][]}
 */
export function splitStroke(points, max = MAX_POINTS) {
  if (points.length <= max) return [points];
  const out = [];
  let i = 0;
  while (i < points.length - 1) {
    const piece = points.slice(i, i + max);
    out.push(piece);
    i += max - 1;
  }
  return out;
}

/** A page point in view-box units. @param {number[]} p @param {number} aspect */
export function toView(p, aspect) {
  return [p[0] * VIEW_W, p[1] * VIEW_W / aspect];
}

/** @param {number} v */
function f(v) {
  return (Math.round(v * 100) / 100).toString();
}

/**
 * An SVG path through an outline (perfect-freehand's points), smoothed
 * with quadratic curves.
 * @param {number[][]} pts
 */
export function outlinePath(pts) {
  if (pts.length === 0) return '';
  let d = `M${f(pts[0][0])},${f(pts[0][1])} Q`;
  for (let i = 0; i < pts.length; i++) {
    const [x0, y0] = pts[i];
    const [x1, y1] = pts[(i + 1) % pts.length];
    d += `${f(x0)},${f(y0)} ${f((x0 + x1) / 2)},${f((y0 + y1) / 2)} `;
  }
  return d.trimEnd() + ' Z';
}

/**
 * The filled outline of a pen or highlighter stroke, in view-box units:
 * the pen thins with speed like ink, the highlighter keeps its width.
 * @param {Shape} s @param {number} aspect @param {boolean} [done] the stroke is finished
 */
export function strokePath(s, aspect, done = true) {
  const hl = s.kind === 'highlighter';
  const outline = getStroke(s.points.map((p) => toView(p, aspect)), {
    size: s.width * VIEW_W,
    thinning: hl ? 0 : 0.5,
    smoothing: 0.5,
    streamline: 0.4,
    simulatePressure: !hl,
    last: done,
  });
  return outlinePath(outline);
}

/**
 * The head of an arrow from a to b (view-box units): a triangle's points.
 * @param {number[]} a @param {number[]} b @param {number} width line width in view-box units
 */
export function arrowHead(a, b, width) {
  const len = Math.max(4 * width, 12);
  const ang = Math.atan2(b[1] - a[1], b[0] - a[0]);
  const wing = Math.PI / 7;
  const p1 = [b[0] - len * Math.cos(ang - wing), b[1] - len * Math.sin(ang - wing)];
  const p2 = [b[0] - len * Math.cos(ang + wing), b[1] - len * Math.sin(ang + wing)];
  return [b, p1, p2];
}

/** The lines of a text shape. @param {Shape} s */
export function textLines(s) {
  return (s.text || '').split('\n');
}

/**
 * A shape's bounding box in page fractions (text: estimated from its
 * size and length).
 * @param {Shape} s @param {number} aspect
 * @returns {Box}
 */
export function bounds(s, aspect) {
  if (s.kind === 'text') {
    const [x, y] = s.points[0];
    const size = s.size || 0.04;
    const lines = textLines(s);
    const longest = Math.max(1, ...lines.map((l) => [...l].length));
    return { x0: x, y0: y, x1: x + longest * size * 0.55 / aspect, y1: y + lines.length * size * 1.2 };
  }
  const xs = s.points.map((p) => p[0]);
  const ys = s.points.map((p) => p[1]);
  const hw = (s.width || 0) / 2;
  const hh = hw * aspect;
  return { x0: Math.min(...xs) - hw, y0: Math.min(...ys) - hh, x1: Math.max(...xs) + hw, y1: Math.max(...ys) + hh };
}

/** Distance from p to the segment ab. @param {number[]} p @param {number[]} a @param {number[]} b */
function segmentDistance(p, a, b) {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2));
  return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
}

/**
 * How far a page point is from a shape's drawn line, in view-box units
 * (0 inside a text).
 * @param {Shape} s @param {number[]} point page fractions @param {number} aspect
 */
export function distance(s, point, aspect) {
  const p = toView(point, aspect);
  const pts = s.points.map((q) => toView(q, aspect));
  const hw = (s.width || 0) * VIEW_W / 2;
  switch (s.kind) {
    case 'text': {
      const b = bounds(s, aspect);
      const v0 = toView([b.x0, b.y0], aspect);
      const v1 = toView([b.x1, b.y1], aspect);
      const dx = Math.max(v0[0] - p[0], 0, p[0] - v1[0]);
      const dy = Math.max(v0[1] - p[1], 0, p[1] - v1[1]);
      return Math.hypot(dx, dy);
    }
    case 'rect': {
      const [a, b] = pts;
      const c = [[a[0], a[1]], [b[0], a[1]], [b[0], b[1]], [a[0], b[1]]];
      let d = Infinity;
      for (let i = 0; i < 4; i++) d = Math.min(d, segmentDistance(p, c[i], c[(i + 1) % 4]));
      return Math.max(0, d - hw);
    }
    case 'ellipse': {
      const [a, b] = pts;
      const cx = (a[0] + b[0]) / 2;
      const cy = (a[1] + b[1]) / 2;
      const rx = Math.max(Math.abs(b[0] - a[0]) / 2, 0.5);
      const ry = Math.max(Math.abs(b[1] - a[1]) / 2, 0.5);
      const r = Math.hypot((p[0] - cx) / rx, (p[1] - cy) / ry);
      return Math.max(0, Math.abs(r - 1) * Math.min(rx, ry) - hw);
    }
    default: {
      if (pts.length === 1) return Math.max(0, Math.hypot(p[0] - pts[0][0], p[1] - pts[0][1]) - hw);
      let d = Infinity;
      for (let i = 0; i + 1 < pts.length; i++) d = Math.min(d, segmentDistance(p, pts[i], pts[i + 1]));
      return Math.max(0, d - hw);
    }
  }
}

/**
 * The topmost shape within `tolerance` view-box units of a page point
 * that `may` allows, or null.
 * @param {Shape[]} shapes @param {number[]} point @param {number} aspect @param {number} tolerance
 * @param {(s: Shape) => boolean} [may]
 */
export function hitShape(shapes, point, aspect, tolerance, may = () => true) {
  for (let i = shapes.length - 1; i >= 0; i--) {
    const s = shapes[i];
    if (may(s) && distance(s, point, aspect) <= tolerance) return s;
  }
  return null;
}

/**
 * Calls fn with the latest value at most once every `ms` milliseconds
 * (the first at once, the last one always): live strokes, cursors and
 * the presenter's panning stay within the server's message budget.
 */
export class Throttle {
  /**
   * @param {number} ms
   * @param {(v: any) => void} fn
   * @param {{now: () => number, set: (f: () => void, ms: number) => any, clear: (h: any) => void}} [clock]
   */
  constructor(ms, fn, clock) {
    this.ms = ms;
    this.fn = fn;
    this.clock = clock || { now: () => Date.now(), set: (g, d) => setTimeout(g, d), clear: (h) => clearTimeout(h) };
    this.last = -Infinity;
    this.pending = false;
    /** @type {any} */
    this.value = undefined;
    /** @type {any} */
    this.timer = null;
  }

  /** @param {any} v */
  push(v) {
    this.value = v;
    this.pending = true;
    const wait = this.last + this.ms - this.clock.now();
    if (wait <= 0) this.fire();
    else if (this.timer === null) {
      this.timer = this.clock.set(() => {
        this.timer = null;
        this.fire();
      }, wait);
    }
  }

  /** @private */
  fire() {
    if (!this.pending) return;
    this.pending = false;
    this.last = this.clock.now();
    this.fn(this.value);
  }

  /** Sends what waits now. */
  flush() {
    this.stopTimer();
    this.fire();
  }

  /** Drops what waits. */
  cancel() {
    this.stopTimer();
    this.pending = false;
  }

  /** @private */
  stopTimer() {
    if (this.timer !== null) this.clock.clear(this.timer);
    this.timer = null;
  }
}

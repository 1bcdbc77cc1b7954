// Tests of js/board.js under node (no DOM): the whiteboard's state from
// welcome and wb.* messages, drawing rights, when the stage shows the
// presentation, page images, zoom and pan, stroke splitting, hit tests,
// the pen's outline (vendored perfect-freehand) and the throttle. Run by
// client_test.go, which copies board.js and the vendored module into the
// same layout as web/static.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Board, pageKey, newShapeID, presentationActive, shownPage, pageImage, pageThumb, clampView, zoomAround,
  splitStroke, strokePath, hitShape, distance, bounds, arrowHead, Throttle, round, MAX_POINTS,
} from './js/board.js';

const pen = (id, author, points) => ({ id, kind: 'pen', points, color: '#e53935', width: 0.004, author });

test('the board follows welcome and the wb.* messages', () => {
  const b = new Board();
  b.load({ pages: { 'd1/1': [pen('a', 'u1', [[0.1, 0.1], [0.2, 0.2]])], 'd1/2': [] }, all: false, ids: ['u2'] });
  assert.equal(b.shapes('d1/1').length, 1);
  assert.equal(b.shapes('d1/2').length, 0);
  assert.ok(b.mayDraw({ id: 'u2', presenter: false }));
  assert.ok(b.mayDraw({ id: 'p', presenter: true }));
  assert.ok(!b.mayDraw({ id: 'u3', presenter: false }));
  assert.ok(!b.mayDraw(null));

  b.drawing('d1/1', pen('b', 'u2', [[0.5, 0.5]]), 100);
  assert.equal(b.liveOn('d1/1').length, 1);
  b.add('d1/1', [pen('b', 'u2', [[0.5, 0.5], [0.6, 0.6]])]);
  assert.equal(b.liveOn('d1/1').length, 0, 'the committed shape replaces the live one');
  assert.deepEqual(b.shapes('d1/1').map((s) => s.id), ['a', 'b']);
  b.add('d1/1', [pen('b', 'u2', [[0.5, 0.5]])]);
  assert.equal(b.shapes('d1/1').length, 2, 'a known id is replaced, not doubled');

  const before = b.find('d1/1', 'a');
  b.move('d1/1', ['a'], 0.1, -0.05);
  const after = b.find('d1/1', 'a');
  assert.notEqual(before, after, 'a moved shape is a new object (the renderer redraws it)');
  assert.deepEqual(after.points.map((p) => p.map(round)), [[0.2, 0.05], [0.3, 0.15]]);
  assert.deepEqual(before.points, [[0.1, 0.1], [0.2, 0.2]], 'the old object is untouched');

  b.remove('d1/1', ['a', 'b']);
  assert.equal(b.pages.has('d1/1'), false);

  b.setAccess(true, []);
  assert.ok(b.mayDraw({ id: 'anyone', presenter: false }));

  b.drawing('d1/1', pen('c', 'u2', [[0.5, 0.5]]), 100);
  assert.equal(b.expireLive(50), false);
  assert.equal(b.expireLive(200), true);
  assert.equal(b.live.size, 0);
});

test('shape ids are what the server takes', () => {
  const seen = new Set();
  for (let i = 0; i < 200; i++) {
    const id = newShapeID();
    assert.match(id, /^[A-Za-z0-9_-]{12}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 200);
  assert.equal(pageKey({ doc: 'd7', page: 3 }), 'd7/3');
});

test('the stage shows a document, or the blank deck once something is on it', () => {
  const b = new Board();
  const blank = { id: 'blank', name: '', status: 'ready', pages: [{ w: 1600, h: 900 }], downloadable: false, page: 1 };
  const doc = { id: 'd1', name: 'x.pdf', status: 'ready', pages: [{ w: 595, h: 842 }, { w: 842, h: 595 }], downloadable: false, page: 2 };
  const st = { docs: [blank, doc], current: 'blank', page: 1, zoom: 1, x: 0, y: 0 };
  assert.equal(presentationActive(null, b), false);
  assert.equal(presentationActive(st, b), false);
  b.add('blank/1', [pen('a', 'u', [[0.1, 0.1]])]);
  assert.equal(presentationActive(st, b), true);
  b.remove('blank/1', ['a']);
  assert.equal(presentationActive({ ...st, docs: [{ ...blank, pages: [blank.pages[0], blank.pages[0]] }, doc] }, b), true);
  assert.equal(presentationActive({ ...st, current: 'd1', page: 2 }, b), true);

  const shown = shownPage({ ...st, current: 'd1', page: 2 });
  assert.equal(shown.page, 2);
  assert.equal(shown.w, 842);
  assert.equal(shownPage({ ...st, current: 'gone' }), null);
  assert.equal(shownPage({ ...st, docs: [blank, { ...doc, status: 'converting' }], current: 'd1' }), null);
});

test('page images: the width that fills the screen', () => {
  assert.equal(pageImage('d1', 2, 700), 'doc/d1/page-0002-w960.png');
  assert.equal(pageImage('d1', 12, 1400), 'doc/d1/page-0012-w1920.png');
  assert.equal(pageImage('a/b', 1, 10), 'doc/a%2Fb/page-0001-w960.png');
  assert.equal(pageThumb('d1', 3), 'doc/d1/page-0003-thumb.png');
});

test('zoom and pan stay on the page', () => {
  assert.deepEqual(clampView(0.5, -1, 2), { zoom: 1, x: 0, y: 0 });
  assert.deepEqual(clampView(2, 0.9, 0.25), { zoom: 2, x: 0.5, y: 0.25 });
  assert.deepEqual(clampView(9, 1, 1), { zoom: 5, x: 0.8, y: 0.8 });
  assert.deepEqual(clampView(NaN, NaN, NaN), { zoom: 1, x: 0, y: 0 });
  // Zooming in around the page's centre keeps the centre in the middle.
  assert.deepEqual(zoomAround({ zoom: 1, x: 0, y: 0 }, 2, 0.5, 0.5), { zoom: 2, x: 0.25, y: 0.25 });
  // Around a corner, the corner stays put.
  assert.deepEqual(zoomAround({ zoom: 1, x: 0, y: 0 }, 4, 0, 0), { zoom: 4, x: 0, y: 0 });
  assert.deepEqual(zoomAround({ zoom: 2, x: 0.5, y: 0.5 }, 1, 0.75, 0.75), { zoom: 1, x: 0, y: 0 });
});

test('long strokes are split into pieces that join', () => {
  const pts = Array.from({ length: 4500 }, (_, i) => [i / 4500, 0.5]);
  const pieces = splitStroke(pts);
  assert.ok(pieces.every((p) => p.length <= MAX_POINTS && p.length >= 1));
  for (let i = 1; i < pieces.length; i++) assert.deepEqual(pieces[i][0], pieces[i - 1].at(-1));
  assert.deepEqual(pieces.at(-1).at(-1), pts.at(-1));
  assert.equal(pieces.reduce((n, p) => n + p.length, 0) - (pieces.length - 1), pts.length);
  assert.equal(splitStroke(pts.slice(0, 10)).length, 1);
});

test('the pen is a smoothed outline; hit tests find the topmost shape', () => {
  const aspect = 16 / 9;
  const s = pen('a', 'u', [[0.1, 0.1], [0.3, 0.2], [0.5, 0.1]]);
  const d = strokePath(s, aspect);
  assert.match(d, /^M[\d.]+,[\d.]+ Q/);
  assert.ok(d.endsWith('Z'));
  assert.match(strokePath(pen('dot', 'u', [[0.5, 0.5]]), aspect), /^M/);

  const rect = { id: 'r', kind: 'rect', points: [[0.2, 0.2], [0.4, 0.4]], color: '#000000', width: 0.004 };
  const ellipse = { id: 'e', kind: 'ellipse', points: [[0.6, 0.6], [0.8, 0.8]], color: '#000000', width: 0.004 };
  const text = { id: 't', kind: 'text', points: [[0.1, 0.7]], color: '#000000', width: 0.004, text: 'Hello', size: 0.05 };
  const shapes = [s, rect, ellipse, text];
  assert.equal(hitShape(shapes, [0.45, 0.125], aspect, 5).id, 'a');
  assert.equal(hitShape(shapes, [0.2, 0.3], aspect, 5).id, 'r', 'on the rectangle\'s edge');
  assert.equal(hitShape(shapes, [0.3, 0.3], aspect, 5), null, 'inside an empty rectangle is not on it');
  assert.equal(hitShape(shapes, [0.7, 0.6], aspect, 5).id, 'e');
  assert.equal(hitShape(shapes, [0.12, 0.72], aspect, 5).id, 't');
  assert.equal(hitShape(shapes, [0.45, 0.125], aspect, 5, (x) => x.id !== 'a'), null, 'only what one may change');
  assert.ok(distance(rect, [0.9, 0.9], aspect) > 100);
  const b = bounds(rect, aspect);
  assert.ok(b.x0 < 0.2 && b.x1 > 0.4 && b.y0 < 0.2 && b.y1 > 0.4);
  const head = arrowHead([0, 0], [100, 0], 4);
  assert.deepEqual(head[0], [100, 0]);
  assert.ok(head[1][0] < 100 && head[2][0] < 100 && head[1][1] * head[2][1] < 0);
});

test('the throttle sends at once, then at most once per interval, always the latest', () => {
  let now = 0;
  /** @type {(() => void)|null} */
  let pending = null;
  const clock = { now: () => now, set: (f) => { pending = f; return 1; }, clear: () => { pending = null; } };
  const sent = [];
  const th = new Throttle(50, (v) => sent.push(v), clock);
  th.push(1);
  assert.deepEqual(sent, [1]);
  now = 10;
  th.push(2);
  th.push(3);
  assert.deepEqual(sent, [1]);
  now = 50;
  pending();
  assert.deepEqual(sent, [1, 3]);
  now = 60;
  th.push(4);
  th.flush();
  assert.deepEqual(sent, [1, 3, 4]);
  now = 200;
  th.push(5);
  assert.deepEqual(sent, [1, 3, 4, 5]);
  now = 210;
  th.push(6);
  th.cancel();
  assert.equal(pending, null);
  assert.deepEqual(sent, [1, 3, 4, 5]);
});

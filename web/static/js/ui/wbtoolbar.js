// The whiteboard's toolbar (ui/whiteboard.js owns the drawing): the
// tools, colours and line widths as toggle buttons (aria-pressed) in
// labelled groups, and undo, redo and clearing; one keyboard-usable
// toolbar, shown only to those who may draw. It keeps no choice of its
// own: the whiteboard passes the current ones to render.
import { h } from './dom.js';
import { icon } from './icons.js';
import { t } from '../i18n.js';

/**
 * @typedef {'select'|'pen'|'highlighter'|'line'|'arrow'|'rect'|'ellipse'|'text'|'eraser'|'pointer'|'pan'} Tool
 * @typedef {'thin'|'medium'|'thick'} Size
 * @typedef {{
 *   tool: (tool: Tool) => void,
 *   color: (color: string) => void,
 *   size: (size: Size) => void,
 *   undo: (redo: boolean) => void,
 *   clear: (all: boolean) => void,
 * }} ToolbarActions
 */

/** The drawing tools, in toolbar order. */
export const TOOLS = /** @type {Tool[]} */ (['select', 'pen', 'highlighter', 'line', 'arrow', 'rect', 'ellipse', 'text', 'eraser', 'pointer', 'pan']);
/** The colours offered. */
export const COLORS = ['#1d2329', '#e53935', '#fb8c00', '#fdd835', '#43a047', '#1e88e5', '#8e24aa', '#ffffff'];
/** Line widths (fractions of the page width) and text sizes (of its height). */
export const SIZES = /** @type {const} */ ({ thin: [0.002, 0.03], medium: [0.004, 0.045], thick: [0.01, 0.07] });

/** @param {Tool} tool */
function toolName(tool) {
  switch (tool) {
    case 'select': return t('wb.tool.select');
    case 'pen': return t('wb.tool.pen');
    case 'highlighter': return t('wb.tool.highlighter');
    case 'line': return t('wb.tool.line');
    case 'arrow': return t('wb.tool.arrow');
    case 'rect': return t('wb.tool.rect');
    case 'ellipse': return t('wb.tool.ellipse');
    case 'text': return t('wb.tool.text');
    case 'eraser': return t('wb.tool.eraser');
    case 'pointer': return t('wb.tool.pointer');
    default: return t('wb.tool.pan');
  }
}

/** @param {string} c */
function colorName(c) {
  switch (c) {
    case '#1d2329': return t('wb.color.black');
    case '#e53935': return t('wb.color.red');
    case '#fb8c00': return t('wb.color.orange');
    case '#fdd835': return t('wb.color.yellow');
    case '#43a047': return t('wb.color.green');
    case '#1e88e5': return t('wb.color.blue');
    case '#8e24aa': return t('wb.color.purple');
    default: return t('wb.color.white');
  }
}

/** @param {string} size */
function sizeName(size) {
  switch (size) {
    case 'thin': return t('wb.size.thin');
    case 'medium': return t('wb.size.medium');
    default: return t('wb.size.thick');
  }
}

/** @param {Tool} tool */
function toolIcon(tool) {
  return tool === 'pan' ? 'hand' : 'wb-' + tool;
}

export class Toolbar {
  /** @param {HTMLElement} el @param {ToolbarActions} on */
  constructor(el, on) {
    this.el = el;
    const tools = TOOLS.map((tool) => h('button', {
      type: 'button', class: 'btn icon-btn small wb-tool', 'data-tool': tool, 'aria-pressed': 'false',
      'aria-label': toolName(tool), title: toolName(tool),
      onclick: () => on.tool(tool),
    }, icon(toolIcon(tool))));
    const colors = COLORS.map((c) => {
      const sw = h('span', { class: 'wb-swatch', 'aria-hidden': 'true' });
      sw.style.background = c;
      return h('button', {
        type: 'button', class: 'btn icon-btn small wb-color', 'data-color': c, 'aria-pressed': 'false',
        'aria-label': colorName(c), title: colorName(c),
        onclick: () => on.color(c),
      }, sw);
    });
    const sizes = /** @type {Size[]} */ (Object.keys(SIZES)).map((size) => h('button', {
      type: 'button', class: 'btn icon-btn small wb-size', 'data-size': size, 'aria-pressed': 'false',
      'aria-label': sizeName(size), title: sizeName(size),
      onclick: () => on.size(size),
    }, h('span', { class: 'wb-dot wb-dot-' + size, 'aria-hidden': 'true' })));
    /** @param {string} id @param {string} name @param {string} label @param {() => void} f */
    const act = (id, name, label, f) => h('button', {
      type: 'button', id, class: 'btn icon-btn small', 'aria-label': label, title: label, onclick: f,
    }, icon(name));
    this.clearAll = act('wb-clear-all', 'wb-clearAll', t('wb.clearPage'), () => on.clear(true));
    el.replaceChildren(
      h('div', { class: 'wb-group', role: 'group', 'aria-label': t('wb.tools.draw') }, ...tools),
      h('div', { class: 'wb-group', role: 'group', 'aria-label': t('wb.tools.color') }, ...colors),
      h('div', { class: 'wb-group', role: 'group', 'aria-label': t('wb.tools.size') }, ...sizes),
      h('div', { class: 'wb-group', role: 'group', 'aria-label': t('wb.tools.edit') },
        act('wb-undo', 'wb-undo', t('wb.undo'), () => on.undo(false)),
        act('wb-redo', 'wb-redo', t('wb.redo'), () => on.undo(true)),
        act('wb-clear-mine', 'trash', t('wb.clearMine'), () => on.clear(false)),
        this.clearAll),
    );
  }

  /**
   * Shows the toolbar (to those who may draw) with the current choices;
   * panning and clearing the page are the presenter's.
   * @param {{may: boolean, presenter: boolean, tool: Tool, color: string, size: Size}} st
   */
  render(st) {
    this.el.hidden = !st.may;
    for (const b of this.el.querySelectorAll('[data-tool]')) {
      const tool = b.getAttribute('data-tool');
      b.setAttribute('aria-pressed', String(tool === st.tool));
      /** @type {HTMLElement} */ (b).hidden = tool === 'pan' && !st.presenter;
    }
    for (const b of this.el.querySelectorAll('[data-color]')) b.setAttribute('aria-pressed', String(b.getAttribute('data-color') === st.color));
    for (const b of this.el.querySelectorAll('[data-size]')) b.setAttribute('aria-pressed', String(b.getAttribute('data-size') === st.size));
    this.clearAll.hidden = !st.presenter;
  }
}

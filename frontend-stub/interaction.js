// Pointer and keyboard interaction for a flame graph pane: hit testing (render.hitTest), the tooltip, the context
// menu and the search box's debounce. Everything here reports to the widget through callbacks; the widget owns
// the state and redraws.

import { h, setChildren } from './dom.js';
import { hitTest } from './render.js';
import { relativeChange } from './colors.js';
import { formatChange, formatPercent, formatValue, unitKind, formatCount } from './format.js';

/**
 * Wires pointer events of a canvas. getPane() returns the pane currently drawn on it.
 * handlers: {hover(item, ev), leave(), click(item, ev), context(item, ev)}
 */
export function attachPointer(canvas, getPane, handlers) {
  let pending = null;
  const locate = (ev) => {
    const r = canvas.getBoundingClientRect();
    const pane = getPane();
    return pane ? hitTest(canvas, pane, ev.clientX - r.left, ev.clientY - r.top) : -1;
  };
  canvas.addEventListener('mousemove', (ev) => {
    // One hit test per animation frame at most.
    const first = pending === null;
    pending = ev;
    if (first) {
      requestAnimationFrame(() => {
        const e = pending;
        pending = null;
        if (e) handlers.hover(locate(e), e);
      });
    }
  });
  canvas.addEventListener('mouseleave', () => {
    pending = null;
    handlers.leave();
  });
  canvas.addEventListener('click', (ev) => handlers.click(locate(ev), ev));
  canvas.addEventListener('contextmenu', (ev) => {
    const i = locate(ev);
    if (i >= 0) {
      ev.preventDefault();
      handlers.context(i, ev);
    }
  });
}

/** Samples, when the unit counts them; the raw value otherwise. */
function rawRow(value, unit) {
  return unitKind(unit) === 'count' ? ['Samples', formatCount(value)] : null;
}

/** The tooltip's content for item i of pane's data. */
export function tooltipContent(data, i, unit) {
  const name = data.names[data.nameId[i]];
  const title = h('div', { class: 'fg-tip-title' }, name);
  if (!data.diff) {
    const rows = [
      ['Total', `${formatValue(data.value[i], unit)} (${formatPercent(data.value[i] / data.total)})`],
      ['Self', `${formatValue(data.self[i], unit)} (${formatPercent(data.self[i] / data.total)})`],
    ];
    const raw = rawRow(data.value[i], unit);
    if (raw) rows.push(raw);
    return [title, h('table', { class: 'fg-tip-rows' }, h('tbody', null, rows.map(([k, v]) => h('tr', null, h('th', null, k), h('td', null, v)))))];
  }
  const right = data.valueRight[i];
  const left = data.value[i] - right;
  const selfRight = data.selfRight[i];
  const selfLeft = data.self[i] - selfRight;
  const tl = data.totalLeft;
  const tr = data.totalRight;
  const change = relativeChange(left, right, tl, tr);
  const status = left === 0 && right > 0 ? 'new' : right === 0 && left > 0 ? 'removed' : '';
  const table = h('table', { class: 'fg-tip-rows diff' },
    h('thead', null, h('tr', null, h('th'), h('th', null, 'Baseline'), h('th', null, 'Comparison'), h('th', null, 'Diff'))),
    h('tbody', null,
      h('tr', null, h('th', null, '% of total'), h('td', null, formatPercent(left / tl)), h('td', null, formatPercent(right / tr)),
        h('td', { class: change > 0 ? 'up' : change < 0 ? 'down' : '' }, status || formatChange(change))),
      h('tr', null, h('th', null, 'Total'), h('td', null, formatValue(left, unit)), h('td', null, formatValue(right, unit)), h('td')),
      h('tr', null, h('th', null, 'Self'), h('td', null, formatValue(selfLeft, unit)), h('td', null, formatValue(selfRight, unit)), h('td')),
    ));
  return [title, table];
}

/** Places a floating element near the pointer, inside the viewport. */
export function placeNear(el, clientX, clientY) {
  el.hidden = false;
  const pad = 14;
  const w = el.offsetWidth;
  const hgt = el.offsetHeight;
  let x = clientX + pad;
  let y = clientY + pad;
  if (x + w > window.innerWidth - 4) x = Math.max(4, clientX - w - pad);
  if (y + hgt > window.innerHeight - 4) y = Math.max(4, clientY - hgt - pad);
  el.style.left = `${x}px`;
  el.style.top = `${y}px`;
}

/**
 * Fills the context menu for a frame. items: [{id, label, disabled, title}]; choose(id) on selection.
 */
export function openMenu(menu, items, clientX, clientY, choose) {
  setChildren(menu, items.map((it) => h('button', {
    type: 'button', role: 'menuitem', class: 'fg-menu-item', dataset: { action: it.id }, disabled: it.disabled ? true : null,
    title: it.title || null, 'aria-disabled': it.disabled ? 'true' : null,
  }, it.label)));
  menu.onchoose = choose; // plain property, not an HTML attribute
  placeNear(menu, clientX, clientY);
  const first = menu.querySelector('button:not([disabled])');
  if (first) first.focus({ preventScroll: true });
}

/** Wires a context menu element once: clicks choose, Escape and outside clicks close. */
export function wireMenu(menu, close) {
  menu.addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-action]');
    if (!b || b.disabled) return;
    const choose = menu.onchoose;
    close();
    if (choose) choose(b.dataset.action);
  });
  menu.addEventListener('keydown', (ev) => {
    const buttons = [...menu.querySelectorAll('button:not([disabled])')];
    const k = buttons.indexOf(document.activeElement);
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const next = buttons[(k + (ev.key === 'ArrowDown' ? 1 : buttons.length - 1)) % buttons.length];
      if (next) next.focus();
    } else if (ev.key === 'Escape') {
      close();
    }
  });
  document.addEventListener('mousedown', (ev) => {
    if (!menu.hidden && !menu.contains(ev.target)) close();
  });
}

/** Calls fn(value) once typing pauses for `ms`. */
export function debounce(fn, ms) {
  let timer = 0;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.flush = (...args) => {
    clearTimeout(timer);
    fn(...args);
  };
  return wrapped;
}

/** Copies text: the async clipboard where allowed, else a hidden textarea and execCommand. */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch (_) {
    // fall through
  }
  const ta = h('textarea', { class: 'fg-offscreen', readonly: true });
  ta.value = text;
  document.body.append(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch (_) {
    ok = false;
  }
  ta.remove();
  return ok;
}

// The top table. Single profile: Symbol / Self / Total (the server's top rows when given, else summed from the
// flame graph), sorted by Self. Diff: Symbol / Baseline % / Comparison % / Diff % of self, new and removed
// functions marked. Headers sort; a row click selects the symbol (the widget turns it into an exact search).

import { h, setChildren } from './dom.js';
import { functionTotals } from './data.js';
import { relativeChange } from './colors.js';
import { formatChange, formatPercent, formatValue } from './format.js';

const MAX_ROWS = 200;

/** Rows for a single profile: from `profile.top` rows, else from the flame graph. */
export function singleRows(data, top) {
  if (top && Array.isArray(top.rows)) {
    const total = top.total || data.total || 1;
    return top.rows.map((r) => ({ name: String(r.name), self: r.flat, total: r.cum, selfShare: r.flat / total, totalShare: r.cum / total }));
  }
  const t = functionTotals(data);
  const rows = [];
  for (let k = 0; k < data.names.length; k++) {
    if (data.names[k] === 'total' && k === data.nameId[0]) continue;
    if (t.total[k] === 0) continue;
    rows.push({ name: data.names[k], self: t.self[k], total: t.total[k], selfShare: t.self[k] / data.total, totalShare: t.total[k] / data.total });
  }
  return rows;
}

/** Rows for a diff, from the diff flame graph: self shares per side and the relative change. */
export function diffRows(data) {
  const t = functionTotals(data);
  const rows = [];
  const tl = data.totalLeft;
  const tr = data.totalRight;
  for (let k = 0; k < data.names.length; k++) {
    if (k === data.nameId[0] && data.level[0] === 0 && data.names[k] === 'total') continue;
    const totalRight = t.totalRight[k];
    const totalLeft = t.total[k] - totalRight;
    const selfRight = t.selfRight[k];
    const selfLeft = t.self[k] - selfRight;
    if (totalLeft === 0 && totalRight === 0) continue;
    const status = totalLeft === 0 ? 'new' : totalRight === 0 ? 'removed' : '';
    const baseline = tl > 0 ? selfLeft / tl : 0;
    const comparison = tr > 0 ? selfRight / tr : 0;
    const change = status === 'new' ? Infinity : status === 'removed' ? -100 : relativeChange(selfLeft, selfRight, tl, tr);
    rows.push({ name: data.names[k], baseline, comparison, change, status, delta: comparison - baseline });
  }
  return rows;
}

const SINGLE_COLUMNS = [
  { key: 'name', label: 'Symbol' },
  { key: 'self', label: 'Self', numeric: true },
  { key: 'total', label: 'Total', numeric: true },
];
const DIFF_COLUMNS = [
  { key: 'name', label: 'Symbol' },
  { key: 'baseline', label: 'Baseline %', numeric: true },
  { key: 'comparison', label: 'Comparison %', numeric: true },
  { key: 'change', label: 'Diff %', numeric: true },
];

/**
 * Draws the table into `el`.
 * opts: {rows, diff, unit, sort: {key, desc}, filter (substring or null), selected (name or null),
 *        onSort(key), onSelect(name)}
 */
export function renderTable(el, opts) {
  const columns = opts.diff ? DIFF_COLUMNS : SINGLE_COLUMNS;
  const sort = opts.sort || { key: opts.diff ? 'comparison' : 'self', desc: true };
  const filter = opts.filter ? opts.filter.toLowerCase() : '';
  let rows = filter ? opts.rows.filter((r) => r.name.toLowerCase().includes(filter)) : opts.rows.slice();
  const dir = sort.desc ? -1 : 1;
  rows.sort((a, b) => {
    const x = a[sort.key];
    const y = b[sort.key];
    let c = typeof x === 'string' ? x.localeCompare(y) : x === y ? 0 : x < y ? -1 : 1;
    if (c === 0 && sort.key === 'change') c = a.delta - b.delta;
    if (c === 0) return a.name < b.name ? -1 : 1;
    return c * dir;
  });
  const shown = rows.slice(0, MAX_ROWS);

  const head = h('tr', null, columns.map((c) => {
    const active = c.key === sort.key;
    const th = h('th', { scope: 'col', class: c.numeric ? 'num' : null, 'aria-sort': active ? (sort.desc ? 'descending' : 'ascending') : 'none' },
      h('button', { type: 'button', class: 'sort', dataset: { key: c.key } }, c.label, active ? (sort.desc ? ' ▼' : ' ▲') : ''));
    return th;
  }));
  const body = h('tbody');
  for (const r of shown) {
    const tr = h('tr', { class: r.name === opts.selected ? 'selected' : null, tabindex: '0' });
    tr.dataset.name = r.name; // dataset assignment is text, never markup
    const symbol = h('td', { class: 'symbol', title: r.name }, h('div', { class: 'sym' }, h('span', { class: 'sym-name' }, r.name)));
    if (opts.diff) {
      if (r.status) symbol.firstChild.append(h('span', { class: `badge ${r.status}` }, r.status));
      tr.append(
        symbol,
        h('td', { class: 'num' }, formatPercent(r.baseline)),
        h('td', { class: 'num' }, formatPercent(r.comparison)),
        h('td', { class: `num change ${r.change > 0 ? 'up' : r.change < 0 ? 'down' : ''}` }, r.status || formatChange(r.change)),
      );
    } else {
      tr.append(
        symbol,
        h('td', { class: 'num' }, formatValue(r.self, opts.unit), h('span', { class: 'pct' }, formatPercent(r.selfShare))),
        h('td', { class: 'num' }, formatValue(r.total, opts.unit), h('span', { class: 'pct' }, formatPercent(r.totalShare))),
      );
    }
    body.append(tr);
  }
  const table = h('table', { class: 'fg-table' }, h('thead', null, head), body);
  const note = rows.length > shown.length
    ? h('div', { class: 'fg-table-note' }, `Showing ${shown.length} of ${rows.length} functions`)
    : rows.length === 0 ? h('div', { class: 'fg-table-note' }, 'No function matches') : null;
  setChildren(el, table, note);
}

/** Wires the table's clicks once: header buttons sort, rows select. */
export function wireTable(el, { onSort, onSelect }) {
  el.addEventListener('click', (ev) => {
    const btn = ev.target.closest('button.sort');
    if (btn && el.contains(btn)) {
      onSort(btn.dataset.key);
      return;
    }
    const tr = ev.target.closest('tbody tr');
    if (tr && el.contains(tr)) onSelect(tr.dataset.name);
  });
  el.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    const tr = ev.target.closest('tbody tr');
    if (tr && el.contains(tr)) onSelect(tr.dataset.name);
  });
}

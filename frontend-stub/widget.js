// The flame graph widget: mountFlameGraph(container, {fetchJSON}) builds a framework-free toolbar, top table and
// canvas flame graph inside `container`. One state object; one redraw() brings the DOM and the canvases in line
// with it. Data comes from the plugin's resource routes through the injected fetchJSON(route, body), or directly
// through setData(), so the same widget runs on the local page and, behind a thin wrapper, inside Grafana.

import { fromResponse, searchMatches, itemAt } from './data.js';
import { drawPane, itemRect, THEMES } from './render.js';
import { colorByDiff, colorByPackage, colorByValue, diffGradient, diffPercent, mix, relativeChange, rgbCss, DIFF_SCHEMES } from './colors.js';
import { attachPointer, copyText, debounce, openMenu, placeNear, tooltipContent, wireMenu } from './interaction.js';
import { buildSandwich, levelsOf } from './sandwich.js';
import { diffRows, renderTable, singleRows, wireTable } from './table.js';
import { h, setChildren } from './dom.js';
import { formatChange, formatPercent, formatShort, formatValue } from './format.js';

const VIEWS = [['table', 'Top table'], ['graph', 'Flame graph'], ['both', 'Both']];
const EXPLAIN_EVENT = 'flamegraph:explain-node';

/** DOM writes that touch the document only when the value changes (a hover redraw then costs no layout). */
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
function setHidden(el, hidden) {
  if (el.hidden !== hidden) el.hidden = hidden;
}
function setClass(el, name) {
  if (el.className !== name) el.className = name;
}
function setAttr(el, k, v) {
  if (el.getAttribute(k) !== v) el.setAttribute(k, v);
}

/** Names from the root's child (level 1) down to item i. */
function callPath(d, i) {
  const path = [];
  for (let j = i; j >= 0 && d.level[j] > 0; j = d.parent[j]) path.push(d.names[d.nameId[j]]);
  return path.reverse();
}

function hexToRgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/**
 * Mounts the widget. options:
 *   fetchJSON(route, body) -> Promise<object>   POSTs to the plugin's resource API (route like "/flamegraph")
 *   maxNodes (8192), topLimit (200), theme ('dark' | 'light'), explain (false: the menu item is disabled)
 * Returns the widget's API (openProfile, openDiff, setData, search, focusName, showSandwich, reset, ...).
 */
export function mountFlameGraph(container, options = {}) {
  const opts = { maxNodes: 8192, topLimit: 200, theme: 'dark', explain: false, ...options };
  const state = {
    phase: 'empty', // empty | loading | drawn | error
    message: 'Open a profile to see its flame graph.',
    diff: false,
    source: null, // {kind: 'profile', profile} | {kind: 'diff', baseline, comparison} | {kind: 'data'}
    label: '',
    data: null,
    top: null,
    rows: [],
    info: null,
    sampleTypes: [],
    sampleTypeIndex: -1,
    view: 'both',
    colorScheme: 'package', // package | value
    diffScheme: 'default', // default | colorBlind
    search: { text: '', exact: false },
    focus: -1,
    sandwich: null, // {nameIndex, name, callers, callees}
    hover: { pane: '', item: -1 },
    sort: null,
    explain: !!opts.explain,
    loadSeq: 0,
  };
  const stats = { lastRedrawMs: 0, lastDrawMs: 0, maxRedrawMs: 0, redraws: 0, nodes: 0, rects: 0, labels: 0, buildMs: 0, firstRedrawMs: 0, loadToDrawnMs: null, lastCopied: null };
  let loadStarted = 0;

  // ------------------------------------------------------------------ DOM
  const searchInput = h('input', { type: 'search', class: 'fg-search', placeholder: 'Search functions…', 'aria-label': 'Search functions', spellcheck: 'false', autocomplete: 'off' });
  const matchedPill = h('span', { class: 'fg-pill fg-matched', hidden: true });
  const focusPill = h('button', { type: 'button', class: 'fg-pill fg-focus-pill', hidden: true, title: 'Reset focus' });
  const sandwichPill = h('button', { type: 'button', class: 'fg-pill fg-sandwich-pill', hidden: true, title: 'Leave the sandwich view' });
  const resetBtn = h('button', { type: 'button', class: 'fg-btn fg-reset', title: 'Reset focus, search and sandwich' }, 'Reset view');
  const sampleSelect = h('select', { class: 'fg-select fg-sample-type', 'aria-label': 'Sample type', title: 'Sample type' });
  const colorSelect = h('select', { class: 'fg-select fg-color-scheme', 'aria-label': 'Colour scheme', title: 'Colour scheme' });
  const viewSwitch = h('div', { class: 'fg-segmented', role: 'group', 'aria-label': 'View' },
    VIEWS.map(([v, label]) => h('button', { type: 'button', class: 'fg-seg', dataset: { view: v } }, label)));
  const legend = h('div', { class: 'fg-legend', hidden: true },
    h('span', { class: 'fg-legend-label' }, '-100% (removed)'),
    h('span', { class: 'fg-legend-bar' }),
    h('span', { class: 'fg-legend-label' }, '+100% (added)'),
  );
  const legendMid = h('span', { class: 'fg-legend-mid' }, '0%');
  legend.querySelector('.fg-legend-bar').append(legendMid);
  const meta = h('div', { class: 'fg-meta' });
  const statusEl = h('div', { class: 'fg-status', role: 'status' });
  const tableEl = h('div', { class: 'fg-table-wrap' });
  const mainCanvas = h('canvas', { class: 'fg-canvas fg-main', 'aria-label': 'Flame graph' });
  const callersCanvas = h('canvas', { class: 'fg-canvas fg-callers', 'aria-label': 'Callers' });
  const calleesCanvas = h('canvas', { class: 'fg-canvas fg-callees', 'aria-label': 'Callees' });
  const callersTitle = h('div', { class: 'fg-pane-title' });
  const calleesTitle = h('div', { class: 'fg-pane-title' });
  const mainWrap = h('div', { class: 'fg-canvas-wrap' }, mainCanvas);
  const sandwichWrap = h('div', { class: 'fg-sandwich', hidden: true },
    callersTitle, h('div', { class: 'fg-canvas-wrap' }, callersCanvas),
    calleesTitle, h('div', { class: 'fg-canvas-wrap' }, calleesCanvas));
  const graphEl = h('div', { class: 'fg-graph' }, mainWrap, sandwichWrap);
  const body = h('div', { class: 'fg-body' }, tableEl, graphEl);
  const tooltip = h('div', { class: 'fg-tooltip', role: 'tooltip', hidden: true });
  const menu = h('div', { class: 'fg-menu', role: 'menu', hidden: true });
  const root = h('div', { class: `fg-widget fg-theme-${opts.theme}` },
    h('div', { class: 'fg-toolbar' },
      h('div', { class: 'fg-toolbar-left' }, searchInput, matchedPill, focusPill, sandwichPill, resetBtn),
      h('div', { class: 'fg-toolbar-right' }, sampleSelect, colorSelect, viewSwitch)),
    h('div', { class: 'fg-subbar' }, meta, legend),
    statusEl, body, tooltip, menu);
  container.replaceChildren(root);

  // ------------------------------------------------------------------ panes
  const panes = {
    main: { canvas: mainCanvas, pane: null },
    callers: { canvas: callersCanvas, pane: null },
    callees: { canvas: calleesCanvas, pane: null },
  };

  function makePane(data, inverted) {
    const bg = hexToRgb((THEMES[opts.theme] || THEMES.dark).background);
    const main = state.data;
    const fills = new Array(data.n);
    const fillsAncestor = new Array(data.n);
    const unit = data.sampleType.unit;
    const byName = new Map();
    for (let i = 0; i < data.n; i++) {
      let c;
      if (data.diff) {
        c = colorByDiff(diffPercent(data.value[i] - data.valueRight[i], data.valueRight[i], main.totalLeft, main.totalRight), state.diffScheme);
      } else if (state.colorScheme === 'value') {
        c = colorByValue(data.value[i], main.total);
      } else {
        const id = data.nameId[i];
        c = byName.get(id);
        if (!c) {
          c = colorByPackage(data.names[id]);
          byName.set(id, c);
        }
      }
      fills[i] = rgbCss(c);
      fillsAncestor[i] = rgbCss(mix(c, bg, (THEMES[opts.theme] || THEMES.dark).ancestorMix));
    }
    const makeLabel = (i) => {
      const name = data.names[data.nameId[i]];
      if (!data.diff) return `${name} (${formatShort(data.value[i], unit)})`;
      const right = data.valueRight[i];
      const left = data.value[i] - right;
      const tag = left === 0 ? 'new' : right === 0 ? 'removed' : formatChange(relativeChange(left, right, main.totalLeft, main.totalRight));
      return `${name} (${tag})`;
    };
    return { data, inverted, range: [0, data.total || 1], focusLevel: 0, hover: -1, fills, fillsAncestor, labels: new Array(data.n), makeLabel, unit, matches: null };
  }

  function rebuildPanes() {
    panes.main.pane = state.data ? makePane(state.data, false) : null;
    if (state.sandwich) {
      panes.callers.pane = makePane(state.sandwich.callers, true);
      panes.callees.pane = makePane(state.sandwich.callees, false);
    } else {
      panes.callers.pane = null;
      panes.callees.pane = null;
    }
    updateMatches();
  }

  function updateMatches() {
    for (const p of Object.values(panes)) {
      if (p.pane) p.pane.matches = searchMatches(p.pane.data, state.search.text, state.search.exact);
    }
  }

  // ------------------------------------------------------------------ redraw
  let tableKey = null;

  function redraw() {
    const t0 = performance.now();
    syncToolbar();
    syncTable();
    const t1 = performance.now();
    drawCanvases();
    const t2 = performance.now();
    stats.lastSyncMs = t1 - t0;
    stats.lastDrawMs = t2 - t1;
    stats.lastRedrawMs = t2 - t0;
    if (state.phase === 'drawn') stats.maxRedrawMs = Math.max(stats.maxRedrawMs, stats.lastRedrawMs);
    stats.redraws++;
    root.dataset.lastRedrawMs = stats.lastRedrawMs.toFixed(2);
    root.dataset.state = state.phase;
    container.dataset.state = state.phase;
    window.__flamegraphStats = stats;
  }

  let gradientScheme = '';
  function syncToolbar() {
    const has = !!state.data;
    root.classList.toggle('fg-has-data', has);
    root.classList.toggle('fg-diff', state.diff);
    root.classList.toggle('fg-colorblind', state.diff && state.diffScheme === 'colorBlind');
    setHidden(statusEl, state.phase === 'drawn');
    setClass(statusEl, `fg-status fg-status-${state.phase}`);
    setText(statusEl, state.phase === 'drawn' ? '' : state.message);
    for (const b of viewSwitch.children) setAttr(b, 'aria-pressed', String(b.dataset.view === state.view));
    setClass(body, `fg-body fg-view-${state.view}`);
    setHidden(tableEl, !has || state.view === 'graph');
    setHidden(graphEl, !has || state.view === 'table');
    setHidden(mainWrap, !!state.sandwich);
    setHidden(sandwichWrap, !state.sandwich);

    const m = panes.main.pane && panes.main.pane.matches;
    setHidden(matchedPill, !m);
    if (m) setText(matchedPill, `matched ${formatPercent(m.share)} of total`);
    setHidden(focusPill, state.focus < 0 || !!state.sandwich);
    if (state.focus >= 0 && state.data) {
      setText(focusPill, `${formatPercent(state.data.value[state.focus] / state.data.total)} of total ✕`);
    }
    setHidden(sandwichPill, !state.sandwich);
    if (state.sandwich) setText(sandwichPill, `Sandwich: ${state.sandwich.name} ✕`);
    const canReset = !!(state.focus >= 0 || state.sandwich || state.search.text);
    if (resetBtn.disabled === canReset) resetBtn.disabled = !canReset;

    setHidden(legend, !state.diff);
    if (state.diff && gradientScheme !== state.diffScheme) {
      gradientScheme = state.diffScheme;
      legend.querySelector('.fg-legend-bar').style.backgroundImage = diffGradient(state.diffScheme);
    }

    // Meta line: total, sample type, nodes, truncation.
    if (has) {
      const d = state.data;
      const st = d.sampleType;
      const parts = [];
      if (state.label) parts.push(state.label);
      if (state.diff) {
        parts.push(`baseline ${formatValue(d.totalLeft, st.unit)}, comparison ${formatValue(d.totalRight, st.unit)}`);
      } else {
        parts.push(`total ${formatValue(d.total, st.unit)}`);
      }
      parts.push(`${st.type || 'value'}${st.unit ? ` (${st.unit})` : ''}`);
      let nodes = `${(d.n - 1).toLocaleString('en-US')} nodes`;
      const tr = d.truncation;
      if (tr && tr.sourceNodes > tr.nodes) nodes += ` of ${tr.sourceNodes.toLocaleString('en-US')} (smaller ones merged into "other")`;
      parts.push(nodes);
      setText(meta, parts.join(' · '));
    } else {
      setText(meta, '');
    }
  }

  function syncSelects() {
    setChildren(sampleSelect, state.sampleTypes.map((t, k) => {
      const o = h('option', { value: String(k) }, `${t.type} (${t.unit})`);
      o.selected = k === state.sampleTypeIndex;
      return o;
    }));
    sampleSelect.hidden = state.sampleTypes.length < 2;
    const choices = state.diff
      ? Object.entries(DIFF_SCHEMES).map(([k, s]) => [k, s.name])
      : [['package', 'Colour by package'], ['value', 'Colour by value']];
    const current = state.diff ? state.diffScheme : state.colorScheme;
    setChildren(colorSelect, choices.map(([k, label]) => {
      const o = h('option', { value: k }, label);
      o.selected = k === current;
      return o;
    }));
  }

  function syncTable() {
    if (!state.data || state.view === 'graph') return;
    const filter = state.search.exact ? '' : state.search.text.trim();
    const selected = state.search.exact ? state.search.text : null;
    const key = [state.rows, state.sort && state.sort.key, state.sort && state.sort.desc, filter, selected].map(String).join('\u0000');
    if (key === tableKey && tableEl.firstChild) return;
    tableKey = key;
    renderTable(tableEl, {
      rows: state.rows, diff: state.diff, unit: state.data.sampleType.unit, sort: state.sort, filter, selected,
    });
  }

  function drawCanvases() {
    stats.rects = 0;
    stats.labels = 0;
    if (!state.data || state.view === 'table') return;
    const style = { theme: opts.theme };
    const list = state.sandwich ? ['callers', 'callees'] : ['main'];
    for (const key of list) {
      const p = panes[key];
      if (!p.pane) continue;
      p.pane.hover = state.hover.pane === key ? state.hover.item : -1;
      style.matches = p.pane.matches ? p.pane.matches.flags : null;
      const r = drawPane(p.canvas, p.pane, style, paneWidth(p.canvas));
      stats.rects += r.rects;
      stats.labels += r.labels;
    }
  }

  // Canvas widths come from the ResizeObserver; layout is read only when a pane was hidden or resized.
  const widths = new Map();
  function paneWidth(canvas) {
    let w = widths.get(canvas);
    if (!w) {
      w = canvas.parentElement.clientWidth;
      if (w) widths.set(canvas, w);
    }
    return w;
  }

  // ------------------------------------------------------------------ state changes
  function setFocus(i) {
    const d = state.data;
    if (!d || i < 0 || d.level[i] === 0) {
      state.focus = -1;
      if (panes.main.pane) {
        panes.main.pane.range = [0, d ? d.total || 1 : 1];
        panes.main.pane.focusLevel = 0;
      }
    } else {
      state.focus = i;
      panes.main.pane.range = [d.start[i], d.start[i] + d.value[i]];
      panes.main.pane.focusLevel = d.level[i];
    }
    hideTooltip();
    redraw();
  }

  function setSearch(text, exact) {
    state.search = { text, exact: !!exact && !!text };
    if (searchInput.value !== text) searchInput.value = text;
    updateMatches();
    redraw();
  }

  function showSandwich(nameIndex) {
    const d = state.data;
    if (!d || nameIndex < 0) return;
    const s = buildSandwich(d, nameIndex);
    if (!s) return;
    state.sandwich = { nameIndex, name: s.name, callers: s.callers, callees: s.callees };
    if (state.view === 'table') state.view = 'both';
    callersTitle.textContent = `Callers of ${s.name}`;
    calleesTitle.textContent = `Callees of ${s.name}`;
    panes.callers.pane = makePane(s.callers, true);
    panes.callees.pane = makePane(s.callees, false);
    state.hover = { pane: '', item: -1 };
    updateMatches();
    hideTooltip();
    redraw();
  }

  function leaveSandwich() {
    state.sandwich = null;
    panes.callers.pane = null;
    panes.callees.pane = null;
    hideTooltip();
    redraw();
  }

  function reset() {
    state.sandwich = null;
    panes.callers.pane = null;
    panes.callees.pane = null;
    state.search = { text: '', exact: false };
    searchInput.value = '';
    updateMatches();
    setFocus(-1);
  }

  function hideTooltip() {
    tooltip.hidden = true;
  }

  function closeMenu() {
    menu.hidden = true;
    menu.onchoose = null;
  }

  // ------------------------------------------------------------------ events
  const onSearchInput = debounce(() => setSearch(searchInput.value, false), 150);
  searchInput.addEventListener('input', () => onSearchInput());
  searchInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') onSearchInput.flush();
    if (ev.key === 'Escape') {
      searchInput.value = '';
      onSearchInput.flush();
    }
  });
  focusPill.addEventListener('click', () => setFocus(-1));
  sandwichPill.addEventListener('click', leaveSandwich);
  resetBtn.addEventListener('click', reset);
  viewSwitch.addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-view]');
    if (!b) return;
    state.view = b.dataset.view;
    hideTooltip();
    redraw();
  });
  colorSelect.addEventListener('change', () => {
    if (state.diff) state.diffScheme = colorSelect.value;
    else state.colorScheme = colorSelect.value;
    const keep = { focus: state.focus, range: panes.main.pane && panes.main.pane.range, level: panes.main.pane && panes.main.pane.focusLevel };
    rebuildPanes();
    if (keep.range && panes.main.pane) {
      panes.main.pane.range = keep.range;
      panes.main.pane.focusLevel = keep.level;
    }
    redraw();
  });
  sampleSelect.addEventListener('change', () => {
    const k = Number(sampleSelect.value);
    if (state.source && state.source.kind !== 'data') load(state.source, k, state.label);
  });
  wireTable(tableEl, {
    onSort(key) {
      const cur = state.sort || { key: state.diff ? 'comparison' : 'self', desc: true };
      state.sort = { key, desc: cur.key === key ? !cur.desc : key !== 'name' };
      redraw();
    },
    onSelect(name) {
      // A table row sets an exact search; selecting it again clears it.
      if (state.search.exact && state.search.text === name) setSearch('', false);
      else setSearch(name, true);
    },
  });
  wireMenu(menu, closeMenu);

  for (const key of Object.keys(panes)) {
    const p = panes[key];
    attachPointer(p.canvas, () => p.pane, {
      hover(i, ev) {
        if (!menu.hidden) return;
        if (state.hover.pane !== key || state.hover.item !== i) {
          state.hover = { pane: key, item: i };
          redraw();
        }
        if (i >= 0) {
          setChildren(tooltip, tooltipContent(p.pane.data, i, p.pane.unit));
          placeNear(tooltip, ev.clientX, ev.clientY);
        } else {
          hideTooltip();
        }
      },
      leave() {
        hideTooltip();
        if (state.hover.item !== -1) {
          state.hover = { pane: '', item: -1 };
          redraw();
        }
      },
      click(i) {
        closeMenu();
        if (i < 0) return;
        if (key === 'main') setFocus(i);
        else {
          const d = p.pane.data;
          const id = state.data.names.indexOf(d.names[d.nameId[i]]);
          if (id >= 0 && id !== state.sandwich.nameIndex) showSandwich(id);
        }
      },
      context(i, ev) {
        hideTooltip();
        const d = p.pane.data;
        const name = d.names[d.nameId[i]];
        const detail = {
          name,
          total: d.value[i],
          self: d.self[i],
          share: d.value[i] / (d.total || 1),
          level: d.level[i],
          sampleType: d.sampleType,
          diff: d.diff ? { baseline: d.value[i] - d.valueRight[i], comparison: d.valueRight[i] } : null,
          // The call path from the root's child down to this frame (main graph only: a sandwich half merges paths).
          path: key === 'main' ? callPath(d, i) : null,
        };
        const items = [];
        if (key === 'main') items.push({ id: 'focus', label: 'Focus block' });
        items.push({ id: 'sandwich', label: 'Sandwich view' });
        items.push({ id: 'copy', label: 'Copy function name' });
        const canExplain = state.explain && key === 'main' && d.level[i] > 0;
        const why = !state.explain ? 'Not available here' : key !== 'main' ? 'Explain a node from the flame graph itself' : 'Use "Explain flame graph" for the whole profile';
        items.push({ id: 'explain', label: 'Explain this node', disabled: !canExplain, title: canExplain ? null : why });
        openMenu(menu, items, ev.clientX, ev.clientY, (action) => {
          if (action === 'focus') setFocus(i);
          else if (action === 'sandwich') showSandwich(state.data.names.indexOf(name));
          else if (action === 'copy') {
            stats.lastCopied = name;
            copyText(name);
          } else if (action === 'explain') {
            root.dispatchEvent(new CustomEvent(EXPLAIN_EVENT, { bubbles: true, detail }));
          }
        });
      },
    });
  }

  root.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !menu.hidden) closeMenu();
    else if (ev.key === 'Escape' && ev.target === root) setFocus(-1);
  });

  const resizeObserver = new ResizeObserver((entries) => {
    let changed = false;
    for (const e of entries) {
      const canvas = e.target.firstElementChild;
      const w = Math.floor(e.contentRect.width);
      if (widths.get(canvas) !== w) {
        if (w) widths.set(canvas, w);
        else widths.delete(canvas);
        changed = true;
      }
    }
    if (changed && state.data) redraw();
  });
  for (const wrap of root.querySelectorAll('.fg-canvas-wrap')) resizeObserver.observe(wrap);

  // ------------------------------------------------------------------ loading
  function fail(err) {
    state.phase = 'error';
    state.message = err && err.message ? err.message : String(err);
    redraw();
  }

  function show(result, { top = null, label = state.label } = {}) {
    const t0 = performance.now();
    const data = fromResponse(result);
    stats.buildMs = performance.now() - t0;
    state.data = data;
    state.diff = data.diff;
    state.top = top;
    state.rows = data.diff ? diffRows(data) : singleRows(data, top);
    state.sort = null;
    state.focus = -1;
    state.sandwich = null;
    state.hover = { pane: '', item: -1 };
    state.label = label;
    state.phase = 'drawn';
    stats.nodes = data.n;
    tableKey = null;
    rebuildPanes();
    syncSelects();
    redraw();
    stats.firstRedrawMs = stats.lastRedrawMs;
    stats.firstDrawMs = stats.lastDrawMs;
    if (loadStarted) {
      stats.loadToDrawnMs = performance.now() - loadStarted;
      loadStarted = 0;
    }
  }

  function sampleTypeIndex(info, st) {
    if (!info || !st) return -1;
    return info.sampleTypes.findIndex((t) => t.type === st.type && t.unit === st.unit);
  }

  // The graph is drawn as soon as its own request answers; the top table (from the flame graph until the server's
  // rows arrive) and the sample types follow. Requests go one after another so that a large upload is not sent
  // three times at once. root.dataset.complete turns "1" when every request of a load has settled.
  async function load(source, sampleType, label) {
    const seq = ++state.loadSeq;
    state.source = source;
    state.label = label || '';
    state.phase = 'loading';
    state.message = 'Loading…';
    root.dataset.complete = '0';
    closeMenu();
    hideTooltip();
    redraw();
    const st = sampleType >= 0 ? { sampleType } : {};
    const fetchJSON = opts.fetchJSON;
    const current = () => seq === state.loadSeq;
    try {
      if (!fetchJSON) throw new Error('no fetchJSON given to the widget');
      const known = sampleType >= 0 && state.info ? state.info : null;
      const result = source.kind === 'diff'
        ? await fetchJSON('/diff', { baseline: source.baseline, comparison: source.comparison, format: 'levels', maxNodes: opts.maxNodes, ...st })
        : await fetchJSON('/flamegraph', { profile: source.profile, maxNodes: opts.maxNodes, ...st });
      if (!current()) return;
      setInfo(known, result);
      show(result, { top: null, label });
      if (source.kind !== 'diff') {
        const top = await fetchJSON('/top', { profile: source.profile, limit: opts.topLimit, ...st }).catch(() => null);
        if (!current()) return;
        if (top && Array.isArray(top.rows)) {
          state.top = top;
          state.rows = singleRows(state.data, top);
          tableKey = null;
          redraw();
        }
      }
      if (!known) {
        const info = await fetchJSON('/info', { profile: source.kind === 'diff' ? source.baseline : source.profile }).catch(() => null);
        if (!current()) return;
        setInfo(info, result);
        syncSelects();
      }
    } catch (err) {
      if (current()) fail(err);
    } finally {
      if (current()) root.dataset.complete = '1';
    }
  }

  function setInfo(info, result) {
    state.info = info;
    state.sampleTypes = info && Array.isArray(info.sampleTypes) ? info.sampleTypes : [];
    state.sampleTypeIndex = sampleTypeIndex(info, result && result.sampleType);
  }

  redraw();

  // ------------------------------------------------------------------ API
  const api = {
    element: root,
    state,
    stats,
    /** Opens one profile: `profile` is {pprof: base64} or {name} (a server-side profile). */
    openProfile(profile, { label = '', sampleType = -1, startedAt = 0 } = {}) {
      state.info = null;
      loadStarted = startedAt || performance.now();
      return load({ kind: 'profile', profile }, sampleType, label);
    },
    /** Opens a diff of two profiles (each {pprof} or {name}). */
    openDiff(baseline, comparison, { label = '', sampleType = -1, startedAt = 0 } = {}) {
      state.info = null;
      loadStarted = startedAt || performance.now();
      return load({ kind: 'diff', baseline, comparison }, sampleType, label);
    },
    /** Shows results directly: a profile.flamegraph / profile.diff result ({flamegraph} or {frame}). */
    setData(result, { top = null, info = null, label = '' } = {}) {
      state.source = { kind: 'data' };
      state.loadSeq++;
      setInfo(info, result);
      root.dataset.complete = '1';
      try {
        show(result, { top, label });
      } catch (err) {
        fail(err);
      }
    },
    showError(message) {
      fail(new Error(message));
    },
    setExplainEnabled(on) {
      state.explain = !!on;
    },
    /** True when the drawn graph has a frame named `name`. */
    hasName(name) {
      return !!state.data && state.data.names.includes(name);
    },
    search(text, exact = false) {
      setSearch(text, exact);
    },
    focusName(name) {
      const d = state.data;
      if (!d) return;
      let best = -1;
      for (let i = 0; i < d.n; i++) if (d.names[d.nameId[i]] === name && (best < 0 || d.value[i] > d.value[best])) best = i;
      setFocus(best);
    },
    showSandwich(name) {
      if (state.data) showSandwich(state.data.names.indexOf(name));
    },
    leaveSandwich,
    reset,
    setView(v) {
      state.view = v;
      redraw();
    },
    redraw,
    /** Where frames named `name` are drawn, in viewport (client) pixels, widest first. For tests and tours. */
    frameRects(name, paneKey = state.sandwich ? 'callees' : 'main') {
      const p = panes[paneKey];
      if (!p || !p.pane) return [];
      const d = p.pane.data;
      const box = p.canvas.getBoundingClientRect();
      const out = [];
      for (let i = 0; i < d.n; i++) {
        if (d.names[d.nameId[i]] !== name) continue;
        const r = itemRect(p.canvas, p.pane, i);
        if (r.width <= 0) continue;
        out.push({ item: i, x: box.left + r.x, y: box.top + r.y, width: r.width, height: r.height, canvasX: r.x, canvasY: r.y });
      }
      return out.sort((a, b) => b.width - a.width);
    },
    /** The sandwich halves as per-level sorted [name, value] pairs (tests compare them with the data). */
    sandwichLevels() {
      return state.sandwich ? { callers: levelsOf(state.sandwich.callers), callees: levelsOf(state.sandwich.callees) } : null;
    },
    itemAt(L, t) {
      return state.data ? itemAt(state.data, L, t) : -1;
    },
    destroy() {
      resizeObserver.disconnect();
      container.replaceChildren();
    },
  };
  return api;
}

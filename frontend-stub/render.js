// Canvas icicle: the root on top (or at the bottom when inverted, for the sandwich's callers), one row per level,
// device-pixel-ratio aware. Frames narrower than one device pixel are merged with adjacent narrow neighbours into
// one muted bar, or skipped; labels are cut to the frame with an ellipsis (monospace, so by character count),
// and fillText's maxWidth keeps any odd glyph inside the frame.

import { firstItemEndingAfter } from './data.js';
import { formatShort } from './format.js';

export const ROW_HEIGHT = 20; // CSS pixels per level
const FONT_PX = 12;
const TEXT_PAD = 4; // CSS pixels left of a label
const MIN_LABEL_CHARS = 3;

export const THEMES = {
  dark: { background: '#181b1f', muted: '#2f343b', merged: '#3b4048', text: '#111217', hover: '#ffffff', ancestorMix: 0.45 },
  light: { background: '#ffffff', muted: '#dfe2e7', merged: '#c9ced6', text: '#111217', hover: '#24292e', ancestorMix: 0.45 },
};

/**
 * Sizes the canvas for `depth` rows at the width of its container. Returns the size in device pixels and
 * the ratio. Resizing only when needed keeps the context's state.
 */
export function sizeCanvas(canvas, depth, cssWidth) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.floor(cssWidth));
  const hCss = Math.max(1, depth) * ROW_HEIGHT;
  const pw = Math.round(w * dpr);
  const ph = Math.round(hCss * dpr);
  if (canvas.width !== pw || canvas.height !== ph) {
    canvas.width = pw;
    canvas.height = ph;
    canvas.style.width = `${w}px`;
    canvas.style.height = `${hCss}px`;
  }
  return { dpr, cssWidth: w, cssHeight: hCss };
}

const charWidthCache = new Map();
function charWidth(ctx, font) {
  let w = charWidthCache.get(font);
  if (w === undefined) {
    ctx.font = font;
    w = ctx.measureText('MMMMMMMMMM').width / 10;
    charWidthCache.set(font, w);
  }
  return w;
}

/**
 * Draws one pane.
 *  pane:  {data, range: [t0, t1], focusLevel, inverted, hover (item or -1), fills and fillsAncestor (css colour
 *          per item), labels (a cache array), makeLabel(i) (optional), unit}
 *  style: {theme, matches (per-name flags or null)}
 * cssWidth: the width to draw at (the container's, from a ResizeObserver; read from layout when omitted).
 * Returns {rects, labels} drawn.
 */
export function drawPane(canvas, pane, style, cssWidth) {
  const { data } = pane;
  const theme = THEMES[style.theme] || THEMES.dark;
  const { dpr } = sizeCanvas(canvas, data.depth, cssWidth || (canvas.parentElement ? canvas.parentElement.clientWidth : canvas.width));
  const ctx = canvas.getContext('2d', { alpha: false });
  const W = canvas.width;
  const rowH = ROW_HEIGHT * dpr;
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, W, canvas.height);
  if (!data.n) return { rects: 0, labels: 0 };

  const [t0, t1] = pane.range;
  const ppt = W / (t1 - t0); // device pixels per tick
  const font = `${FONT_PX * dpr}px "DejaVu Sans Mono", Menlo, Consolas, monospace`;
  const cw = charWidth(ctx, font);
  ctx.font = font;
  ctx.textBaseline = 'middle';
  const pad = TEXT_PAD * dpr;
  const gap = Math.max(1, Math.round(dpr)); // the border between frames
  const matches = style.matches;
  const { start, value, nameId, names } = data;
  const fills = pane.fills;
  const focusLevel = pane.focusLevel || 0;
  let rects = 0;
  let labels = 0;
  let lastFill = '';
  const setFill = (f) => {
    if (f !== lastFill) {
      ctx.fillStyle = f;
      lastFill = f;
    }
  };
  const textQueue = []; // labels are drawn after the bars: one fillStyle switch for all text

  for (let L = 0; L < data.depth; L++) {
    const row = pane.inverted ? data.depth - 1 - L : L;
    const y = row * rowH;
    const end = data.levelOffsets[L + 1];
    const ancestor = L < focusLevel;
    let i = firstItemEndingAfter(data, L, t0);
    while (i < end && start[i] < t1) {
      const x0 = (start[i] - t0) * ppt;
      const w = value[i] * ppt;
      if (w < 1) {
        // A run of adjacent sub-pixel frames becomes one muted bar when it adds up to a pixel.
        let runEnd = start[i] + value[i];
        let j = i + 1;
        while (j < end && start[j] === runEnd && value[j] * ppt < 1) {
          runEnd += value[j];
          j++;
        }
        const runW = (runEnd - start[i]) * ppt;
        if (runW >= 1) {
          setFill(theme.merged);
          ctx.fillRect(x0, y, runW, rowH - gap);
          rects++;
        }
        i = j;
        continue;
      }
      const matched = !matches || (matches[nameId[i]] === 1 && !(L === 0 && data.virtualRoot));
      setFill(!matched ? theme.muted : ancestor ? pane.fillsAncestor[i] : fills[i]);
      const left = Math.max(x0, 0);
      const right = Math.min(x0 + w, W);
      ctx.fillRect(left, y, Math.max(1, right - left - (w > 2 * gap ? gap : 0)), rowH - gap);
      rects++;
      const room = right - left - 2 * pad;
      if (room >= cw * MIN_LABEL_CHARS) textQueue.push(i, left, room, y, matched ? 1 : 0);
      i++;
    }
  }

  // Labels: the name and value when it fits, else the name cut with an ellipsis.
  for (let k = 0; k < textQueue.length; k += 5) {
    const i = textQueue[k];
    const left = textQueue[k + 1];
    const room = textQueue[k + 2];
    const y = textQueue[k + 3];
    const fits = Math.floor(room / cw);
    let label = pane.labels[i];
    if (label === undefined) {
      label = pane.makeLabel ? pane.makeLabel(i) : `${names[nameId[i]]} (${formatShort(value[i], pane.unit)})`;
      pane.labels[i] = label;
    }
    let text = label;
    if (text.length > fits) {
      const name = names[nameId[i]];
      text = name.length <= fits ? name : name.slice(0, Math.max(1, fits - 1)) + '…';
    }
    setFill(textQueue[k + 4] ? theme.text : '#8e939b');
    ctx.fillText(text, left + pad, y + (ROW_HEIGHT * dpr - gap) / 2 + 0.5, room);
    labels++;
  }

  const hover = pane.hover;
  if (hover >= 0 && hover < data.n) {
    const L = data.level[hover];
    const row = pane.inverted ? data.depth - 1 - L : L;
    const x0 = Math.max((start[hover] - t0) * ppt, 0);
    const x1 = Math.min((start[hover] + value[hover] - t0) * ppt, W);
    if (x1 > x0) {
      ctx.strokeStyle = theme.hover;
      ctx.lineWidth = 2 * dpr;
      ctx.strokeRect(x0 + dpr, row * rowH + dpr, Math.max(1, x1 - x0 - 2 * dpr), rowH - gap - 2 * dpr);
    }
  }
  return { rects, labels };
}

/** The canvas's CSS width as sizeCanvas set it (no layout read). */
function cssWidthOf(canvas) {
  return parseFloat(canvas.style.width) || canvas.clientWidth || canvas.width;
}

/** The item under a point (CSS pixels relative to the canvas), or -1. */
export function hitTest(canvas, pane, x, y) {
  const { data } = pane;
  const cssWidth = cssWidthOf(canvas);
  let L = Math.floor(y / ROW_HEIGHT);
  if (pane.inverted) L = data.depth - 1 - L;
  if (L < 0 || L >= data.depth) return -1;
  const [t0, t1] = pane.range;
  const t = t0 + (x / cssWidth) * (t1 - t0);
  // Binary search within the level (starts increase).
  let lo = data.levelOffsets[L];
  let hi = data.levelOffsets[L + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (data.start[mid] > t) hi = mid - 1;
    else if (data.start[mid] + data.value[mid] <= t) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** Where an item is drawn, in CSS pixels relative to the canvas: {x, y, width, height} (clipped to the view). */
export function itemRect(canvas, pane, i) {
  const { data } = pane;
  const cssWidth = cssWidthOf(canvas);
  const [t0, t1] = pane.range;
  const k = cssWidth / (t1 - t0);
  const x0 = Math.max(0, (data.start[i] - t0) * k);
  const x1 = Math.min(cssWidth, (data.start[i] + data.value[i] - t0) * k);
  const L = data.level[i];
  const row = pane.inverted ? data.depth - 1 - L : L;
  return { x: x0, y: row * ROW_HEIGHT, width: Math.max(0, x1 - x0), height: ROW_HEIGHT };
}

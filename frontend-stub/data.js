// Flame graph data: Pyroscope levels (single and diff), Grafana data frames and merged trees become one flat,
// typed-array structure, built once per response. Items are stored level by level, left to right, so that:
//   - the items of level L are [levelOffsets[L], levelOffsets[L+1]) and their starts increase (binary search);
//   - the children of item i are [firstChild[i], childEnd[i]) in level L+1 (they are laid out from the parent's
//     left edge, so they are contiguous);
//   - parent[i] is the enclosing item one level up (-1 for roots).
// In a diff, value/self are the sum of both sides (the bar width, as in Pyroscope and Grafana) and
// valueRight/selfRight the comparison side; the baseline side is value - valueRight.

/** @typedef {{type: string, unit: string}} SampleType */

const EMPTY_F64 = new Float64Array(0);

/** Dedupes names: returns {names, idOf(name)}. */
function nameTable() {
  const names = [];
  const ids = new Map();
  return {
    names,
    id(name) {
      const key = String(name);
      let id = ids.get(key);
      if (id === undefined) {
        id = names.length;
        names.push(key);
        ids.set(key, id);
      }
      return id;
    },
  };
}

/**
 * Assembles a FlameData from per-level columns. `cols[L]` holds plain arrays {start, value, self, name,
 * valueRight?, selfRight?} with starts increasing within the level.
 */
function assemble(cols, names, meta) {
  const diff = !!meta.diff;
  let n = 0;
  for (const c of cols) n += c.start.length;
  const depth = cols.length;
  const levelOffsets = new Int32Array(depth + 1);
  const level = new Uint16Array(n);
  const start = new Float64Array(n);
  const value = new Float64Array(n);
  const self = new Float64Array(n);
  const nameId = new Int32Array(n);
  const valueRight = diff ? new Float64Array(n) : EMPTY_F64;
  const selfRight = diff ? new Float64Array(n) : EMPTY_F64;
  const parent = new Int32Array(n).fill(-1);
  const firstChild = new Int32Array(n);
  const childEnd = new Int32Array(n);
  let k = 0;
  for (let L = 0; L < depth; L++) {
    levelOffsets[L] = k;
    const c = cols[L];
    for (let j = 0; j < c.start.length; j++, k++) {
      level[k] = L;
      start[k] = c.start[j];
      value[k] = c.value[j];
      self[k] = c.self[j];
      nameId[k] = c.name[j];
      if (diff) {
        valueRight[k] = c.valueRight[j];
        selfRight[k] = c.selfRight[j];
      }
    }
  }
  levelOffsets[depth] = k;
  // Parents by a two-pointer walk over adjacent levels; children ranges follow.
  for (let L = 1; L < depth; L++) {
    let p = levelOffsets[L - 1];
    const pEnd = levelOffsets[L];
    for (let i = levelOffsets[L]; i < levelOffsets[L + 1]; i++) {
      while (p < pEnd && start[p] + value[p] <= start[i] && !(value[p] === 0 && start[p] === start[i])) p++;
      if (p < pEnd && start[p] <= start[i]) parent[i] = p;
    }
  }
  for (let i = 0; i < n; i++) {
    firstChild[i] = -1;
  }
  for (let i = n - 1; i >= 0; i--) {
    const p = parent[i];
    if (p >= 0) {
      if (firstChild[p] === -1) childEnd[p] = i + 1;
      firstChild[p] = i;
    }
  }
  for (let i = 0; i < n; i++) {
    if (firstChild[i] === -1) {
      firstChild[i] = levelOffsets[Math.min(level[i] + 1, depth)];
      childEnd[i] = firstChild[i];
    }
  }
  let total = 0;
  let totalRight = 0;
  for (let i = levelOffsets[0]; i < (depth ? levelOffsets[1] : 0); i++) {
    total += value[i];
    if (diff) totalRight += valueRight[i];
  }
  return {
    n,
    depth,
    names,
    nameId,
    level,
    start,
    value,
    self,
    valueRight,
    selfRight,
    parent,
    firstChild,
    childEnd,
    levelOffsets,
    total,
    totalRight,
    totalLeft: total - totalRight,
    diff,
    // Pyroscope's and Grafana's graphs start with one synthetic root ("total"): not a function, never a match.
    virtualRoot: meta.virtualRoot !== false && depth > 0 && levelOffsets[1] === 1,
    sampleType: meta.sampleType || { type: '', unit: '' },
    truncation: meta.truncation || null,
  };
}

/**
 * Pyroscope's levels: {names, levels: [{values: [x, total, self, nameIdx, ...]}, ...]} (or bare arrays) with x delta-encoded within a level
 * (x = previous x + previous total + encoded). A diff uses 7-tuples [xL, totalL, selfL, xR, totalR, selfR, nameIdx].
 */
export function fromLevels(flamegraph, meta = {}) {
  if (!flamegraph || !Array.isArray(flamegraph.levels) || !Array.isArray(flamegraph.names)) {
    throw new Error('flame graph: expected {names, levels}');
  }
  const table = nameTable();
  const nameMap = flamegraph.names.map((s) => table.id(s));
  // Pyroscope's JSON writes each level as {values: [...]}; plain arrays are accepted too.
  const rows = flamegraph.levels.map((l) => (Array.isArray(l) ? l : (l && l.values) || []));
  const first = rows.find((l) => l.length > 0);
  const step = meta.diff ? 7 : first && first.length % 7 === 0 && first.length % 4 !== 0 ? 7 : 4;
  const diff = step === 7;
  const cols = [];
  for (const row of rows) {
    const c = { start: [], value: [], self: [], name: [], valueRight: [], selfRight: [] };
    if (row.length % step !== 0) throw new Error(`flame graph: a level's length ${row.length} is not a multiple of ${step}`);
    if (diff) {
      let endL = 0;
      let endR = 0;
      for (let j = 0; j < row.length; j += 7) {
        const xL = endL + row[j];
        const xR = endR + row[j + 3];
        endL = xL + row[j + 1];
        endR = xR + row[j + 4];
        c.start.push(xL + xR);
        c.value.push(row[j + 1] + row[j + 4]);
        c.self.push(row[j + 2] + row[j + 5]);
        c.valueRight.push(row[j + 4]);
        c.selfRight.push(row[j + 5]);
        c.name.push(nameMap[row[j + 6]] ?? table.id(`#${row[j + 6]}`));
      }
    } else {
      let end = 0;
      for (let j = 0; j < row.length; j += 4) {
        const x = end + row[j];
        end = x + row[j + 1];
        c.start.push(x);
        c.value.push(row[j + 1]);
        c.self.push(row[j + 2]);
        c.name.push(nameMap[row[j + 3]] ?? table.id(`#${row[j + 3]}`));
      }
    }
    cols.push(c);
  }
  return assemble(cols, table.names, { ...meta, diff });
}

/** The result of `profile.flamegraph` or `profile.diff` (format levels) as FlameData. */
export function fromResponse(result) {
  if (!result || typeof result !== 'object') throw new Error('flame graph: empty response');
  if (result.frame) return fromDataFrame(result.frame, { sampleType: result.sampleType });
  const diff = 'leftTicks' in result || 'rightTicks' in result;
  return fromLevels(result.flamegraph, {
    diff,
    sampleType: result.sampleType,
    truncation: result.truncation,
  });
}

/**
 * Grafana's flame graph data frame: fields level, value, self, label (strings, or indexes into the field's
 * config.type.enum.text), and valueRight/selfRight in a diff; rows in depth-first pre-order. Accepts the
 * serialized form {schema: {fields}, data: {values}} and {fields: [{name, values, config}]}.
 */
export function fromDataFrame(frame, meta = {}) {
  let fields;
  if (frame.schema && frame.data) {
    fields = frame.schema.fields.map((f, i) => ({ ...f, values: frame.data.values[i] }));
  } else if (Array.isArray(frame.fields)) {
    fields = frame.fields.map((f) => ({ ...f, values: Array.isArray(f.values) ? f.values : Array.from(f.values || []) }));
  } else {
    throw new Error('flame graph: unknown data frame shape');
  }
  const field = (name) => fields.find((f) => f.name === name);
  const lv = field('level');
  const val = field('value');
  const slf = field('self');
  const lab = field('label');
  if (!lv || !val || !lab) throw new Error('flame graph: data frame needs level, value and label fields');
  const vr = field('valueRight');
  const sr = field('selfRight');
  const diff = !!vr;
  const enumText = lab.config && lab.config.type && lab.config.type.enum && lab.config.type.enum.text;
  const table = nameTable();
  const cols = [];
  const nextStart = []; // per level: where the next child of the open parent starts
  for (let r = 0; r < lv.values.length; r++) {
    const L = lv.values[r];
    while (cols.length <= L) cols.push({ start: [], value: [], self: [], name: [], valueRight: [], selfRight: [] });
    const s = L === 0 ? nextStart[0] || 0 : nextStart[L] ?? 0;
    const v = val.values[r];
    const c = cols[L];
    c.start.push(s);
    c.value.push(v);
    c.self.push(slf ? slf.values[r] : 0);
    const raw = lab.values[r];
    c.name.push(table.id(enumText && typeof raw === 'number' ? enumText[raw] : raw));
    if (diff) {
      c.valueRight.push(vr.values[r]);
      c.selfRight.push(sr ? sr.values[r] : 0);
    }
    nextStart[L] = s + v;
    nextStart[L + 1] = s; // the first child starts at the parent's left edge
  }
  // Value units may come in the frame's value field config.
  const unit = meta.sampleType || { type: '', unit: (val.config && val.config.unit) || '' };
  return assemble(cols, table.names, { diff, sampleType: unit });
}

/**
 * A merged tree {name, value, self, valueRight?, selfRight?, children: [...]} (children in display order) as
 * FlameData; used by the sandwich view.
 */
export function fromTree(root, meta = {}) {
  const table = nameTable();
  const diff = !!meta.diff;
  meta = { ...meta, virtualRoot: false };
  const cols = [];
  let frontier = [{ node: root, start: 0 }];
  while (frontier.length) {
    const c = { start: [], value: [], self: [], name: [], valueRight: [], selfRight: [] };
    const next = [];
    for (const { node, start } of frontier) {
      c.start.push(start);
      c.value.push(node.value);
      c.self.push(node.self || 0);
      c.name.push(table.id(node.name));
      if (diff) {
        c.valueRight.push(node.valueRight || 0);
        c.selfRight.push(node.selfRight || 0);
      }
      let s = start;
      for (const child of node.children || []) {
        next.push({ node: child, start: s });
        s += child.value;
      }
    }
    cols.push(c);
    frontier = next;
  }
  return assemble(cols, table.names, meta);
}

/** The item of level L covering tick t, or -1 (binary search over the level's increasing starts). */
export function itemAt(data, L, t) {
  if (L < 0 || L >= data.depth) return -1;
  let lo = data.levelOffsets[L];
  let hi = data.levelOffsets[L + 1] - 1;
  const { start, value } = data;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (start[mid] > t) hi = mid - 1;
    else if (start[mid] + value[mid] <= t) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** The first item of level L whose right edge is past tick t (for drawing a range). */
export function firstItemEndingAfter(data, L, t) {
  let lo = data.levelOffsets[L];
  let hi = data.levelOffsets[L + 1];
  const { start, value } = data;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (start[mid] + value[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The items whose name is `nameIndex`, and among them those with no ancestor of the same name. */
export function occurrences(data, nameIndex) {
  const all = [];
  const outermost = [];
  for (let i = 0; i < data.n; i++) {
    if (data.nameId[i] !== nameIndex) continue;
    all.push(i);
    let p = data.parent[i];
    let nested = false;
    while (p >= 0) {
      if (data.nameId[p] === nameIndex) {
        nested = true;
        break;
      }
      p = data.parent[p];
    }
    if (!nested) outermost.push(i);
  }
  return { all, outermost };
}

/**
 * Search: a per-name match flag and the share of the total under matching frames (a frame inside another
 * matching frame is counted once, through the outer one).
 */
export function searchMatches(data, query, exact) {
  const q = query.trim();
  if (!q) return null;
  const flags = new Uint8Array(data.names.length);
  const needle = q.toLowerCase();
  let count = 0;
  for (let k = 0; k < data.names.length; k++) {
    const name = data.names[k];
    const hit = exact ? name === q : name.toLowerCase().includes(needle);
    if (hit) {
      flags[k] = 1;
      count++;
    }
  }
  const covered = new Uint8Array(data.n);
  let matched = 0;
  let matchedRight = 0;
  const skip = data.virtualRoot ? 1 : 0; // the synthetic root matches nothing
  for (let i = skip; i < data.n; i++) {
    const p = data.parent[i];
    const inherited = p >= skip && (covered[p] || flags[data.nameId[p]]);
    covered[i] = inherited ? 1 : 0;
    if (!inherited && flags[data.nameId[i]]) {
      matched += data.value[i];
      if (data.diff) matchedRight += data.valueRight[i];
    }
  }
  return { flags, names: count, matched, matchedRight, share: data.total > 0 ? matched / data.total : 0 };
}

/**
 * Per-function self and total from the flame graph (total counts each stack once: outermost occurrences only).
 * Used for the diff table and when no server-side top table is available.
 */
export function functionTotals(data) {
  const m = data.names.length;
  const self = new Float64Array(m);
  const total = new Float64Array(m);
  const selfRight = new Float64Array(data.diff ? m : 0);
  const totalRight = new Float64Array(data.diff ? m : 0);
  // onPath[name] counts the open occurrences of a name on the current root path, walked depth first.
  const onPath = new Int32Array(m);
  const stack = [];
  const roots = [];
  for (let i = data.levelOffsets[0]; i < data.levelOffsets[Math.min(1, data.depth)]; i++) roots.push(i);
  for (let r = roots.length - 1; r >= 0; r--) stack.push(roots[r]);
  while (stack.length) {
    const v = stack.pop();
    if (v < 0) {
      onPath[data.nameId[~v]]--;
      continue;
    }
    const id = data.nameId[v];
    self[id] += data.self[v];
    if (data.diff) selfRight[id] += data.selfRight[v];
    if (onPath[id] === 0) {
      total[id] += data.value[v];
      if (data.diff) totalRight[id] += data.valueRight[v];
    }
    onPath[id]++;
    stack.push(~v);
    for (let c = data.childEnd[v] - 1; c >= data.firstChild[v]; c--) stack.push(c);
  }
  return { self, total, selfRight, totalRight };
}

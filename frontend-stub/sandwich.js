// Sandwich view of one function: its callers above it, its callees below, each merged over every occurrence of
// the function (frames with the same name on the same path merge into one), as Grafana's treeTransforms does.
// Occurrences nested inside another occurrence of the same function (recursion) are reached through the outer
// one, so the function's width is its total (cum) and nothing is counted twice. The virtual root is no caller.

import { fromTree, occurrences } from './data.js';

function node(name) {
  return { name, value: 0, self: 0, valueRight: 0, selfRight: 0, children: [], index: new Map() };
}

function childOf(parent, name) {
  let c = parent.index.get(name);
  if (!c) {
    c = node(name);
    parent.index.set(name, c);
    parent.children.push(c);
  }
  return c;
}

function addValues(target, data, i, withSelf) {
  target.value += data.value[i];
  if (withSelf) target.self += data.self[i];
  if (data.diff) {
    target.valueRight += data.valueRight[i];
    if (withSelf) target.selfRight += data.selfRight[i];
  }
}

/** The callees of the occurrences, merged by path: the function on top. */
export function calleesTree(data, nameIndex, occ) {
  const name = data.names[nameIndex];
  const root = node(name);
  // (merged node, source item) pairs, walked breadth first.
  let frontier = occ.map((i) => [root, i]);
  for (const i of occ) addValues(root, data, i, true);
  while (frontier.length) {
    const next = [];
    for (const [merged, i] of frontier) {
      for (let c = data.firstChild[i]; c < data.childEnd[i]; c++) {
        const m = childOf(merged, data.names[data.nameId[c]]);
        addValues(m, data, c, true);
        next.push([m, c]);
      }
    }
    frontier = next;
  }
  return root;
}

/** The callers of the occurrences, merged by path: the function first, then its callers, outwards. */
export function callersTree(data, nameIndex, occ) {
  const name = data.names[nameIndex];
  const root = node(name);
  for (const i of occ) {
    addValues(root, data, i, true);
    let merged = root;
    let p = data.parent[i];
    while (p >= 0 && data.parent[p] >= 0) {
      // the occurrence's value flows through every caller on its path
      merged = childOf(merged, data.names[data.nameId[p]]);
      merged.value += data.value[i];
      if (data.diff) merged.valueRight += data.valueRight[i];
      p = data.parent[p];
    }
  }
  return root;
}

/** Both halves as FlameData (callers to be drawn inverted), or null when the function is not in the graph. */
export function buildSandwich(data, nameIndex) {
  const { outermost } = occurrences(data, nameIndex);
  if (!outermost.length) return null;
  const meta = { diff: data.diff, sampleType: data.sampleType };
  const callers = fromTree(callersTree(data, nameIndex, outermost), meta);
  const callees = fromTree(calleesTree(data, nameIndex, outermost), meta);
  return { name: data.names[nameIndex], callers, callees, occurrences: outermost.length };
}

/** A comparable form of a sandwich half: per level, the sorted [name, value] pairs (used by tests). */
export function levelsOf(data) {
  const out = [];
  for (let L = 0; L < data.depth; L++) {
    const row = [];
    for (let i = data.levelOffsets[L]; i < data.levelOffsets[L + 1]; i++) row.push([data.names[data.nameId[i]], data.value[i]]);
    row.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
    out.push(row);
  }
  return out;
}

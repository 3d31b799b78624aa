// Small Node programs with one known bottleneck each, profiled by record-node (node --cpu-prof).
// Usage: node bottlenecks.js regex|json|quadratic [seconds]
'use strict';

function makeLines(n) {
  const lines = [];
  for (let i = 0; i < n; i++) lines.push(`2024-01-01T00:00:${String(i % 60).padStart(2, '0')} user=u${i % 97} id=${i} action=login ok`);
  return lines;
}

// The bottleneck: a RegExp built from a per-line source for every line (V8 compiles each new source).
function matchWithFreshRegExp(lines) {
  let hits = 0;
  for (let i = 0; i < lines.length; i++) {
    const re = new RegExp('user=(\\w+) id=' + i + ' action=(\\w+)');
    if (re.test(lines[i])) hits++;
  }
  return hits;
}

// The bottleneck: every event serialized on its own, pretty-printed.
function encodeEventsAsJSON(events) {
  let size = 0;
  for (const e of events) size += JSON.stringify(e, null, 1).length;
  return size;
}

// The bottleneck: Array.prototype.includes inside the loop, O(n^2).
function dedupeQuadratic(values) {
  const out = [];
  for (const v of values) {
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

function run(kind) {
  if (kind === 'regex') return matchWithFreshRegExp(makeLines(2000));
  if (kind === 'json') {
    const events = [];
    for (let i = 0; i < 2000; i++) events.push({ id: i, user: `u${i % 97}`, tags: ['a', 'b', String(i)], nested: { x: i, y: [1, 2, 3] } });
    return encodeEventsAsJSON(events);
  }
  if (kind === 'quadratic') {
    const values = [];
    for (let i = 0; i < 6000; i++) values.push(i % 3000);
    return dedupeQuadratic(values).length;
  }
  throw new Error(`unknown program ${kind}: regex, json or quadratic`);
}

const kind = process.argv[2] || 'regex';
const seconds = Number(process.argv[3] || 2);
const deadline = Date.now() + seconds * 1000;
let rounds = 0;
while (Date.now() < deadline) {
  run(kind);
  rounds++;
}
console.error(`${kind}: ${rounds} rounds`);

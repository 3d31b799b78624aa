// Bar colours. By package (the default): the function name's package, parsed per language, hashed to a stable
// palette, so one function has one colour in every profile. By value: hue 50 -> 0 as the share grows. Diff: the
// relative change of the frame's share, -100% (green, removed) -> 0% (grey) -> +100% (red, added), or a
// colour-blind blue -> grey -> red.

// HSL/RGB palette in the spirit of Pyroscope's and Grafana's (pastel, readable with dark text).
const PALETTE = [
  [24, 69, 60], [34, 65, 65], [194, 52, 61], [163, 45, 55], [211, 48, 60], [246, 40, 65], [305, 63, 79],
  [47, 100, 73],
].map(([h, s, l]) => hslToRgb(h, s, l)).concat([
  [183, 219, 171], [244, 213, 152], [78, 146, 249], [249, 186, 143], [242, 145, 145], [130, 181, 216],
  [229, 168, 226], [174, 162, 224], [154, 196, 138], [242, 201, 109], [101, 197, 219], [249, 147, 78],
  [234, 100, 96], [81, 149, 206], [214, 131, 206], [128, 110, 183],
]);

export const DIFF_SCHEMES = {
  default: { name: 'Green–red', colors: [[0, 170, 0], [148, 142, 142], [200, 0, 0]] },
  colorBlind: { name: 'Blue–red (colour-blind)', colors: [[26, 133, 255], [148, 142, 142], [220, 50, 32]] },
};

export function hslToRgb(h, s, l) {
  s /= 100;
  l /= 100;
  const k = (n) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return [Math.round(f(0) * 255), Math.round(f(8) * 255), Math.round(f(4) * 255)];
}

export function rgbCss([r, g, b]) {
  return `rgb(${r},${g},${b})`;
}

/** FNV-1a, 32 bit: small, stable across browsers and sessions. */
export function hash32(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche so that names differing only at the end spread over the palette.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** Strips argument lists and generic parameters: "A<B>.c(int)" -> "A.c". */
function stripBrackets(s) {
  let out = '';
  let depth = 0;
  for (const ch of s) {
    if (ch === '(' || ch === '<' || ch === '[') depth++;
    else if (ch === ')' || ch === '>' || ch === ']') depth = Math.max(0, depth - 1);
    else if (depth === 0) out += ch;
  }
  return out;
}

/**
 * The package of a function name, by the shape of names each language's profilers write:
 *  - Node:    "./node_modules/express/lib/router.js:handle:12", "handle /app/node_modules/pg/index.js:3"
 *             -> the npm package, else the file's first directory
 *  - Python:  "handle (app/views.py:12)", "app/views.py:12 - handle", "<module> (/usr/lib/python3.11/re.py)"
 *             -> the module's directory
 *  - Ruby:    "app/models/user.rb:12 - save" -> the file's directory; "ActiveRecord::Base#save" -> "ActiveRecord"
 *  - Rust, C++: "tokio::runtime::park", "std::vector<int>::push_back(int)", "<T as core::fmt::Debug>::fmt"
 *             -> the first path segment (crate or namespace)
 *  - Go:      "github.com/acme/svc/internal/db.(*Conn).Query", "math/big.addVV", "runtime.mallocgc"
 *             -> the import path before the function
 *  - Java:    "org/apache/kafka/Selector.poll", "java.util.HashMap.get" -> the package (before the class)
 *  - .NET:    "System.Collections.Generic.List`1.Add(T)", "MyApp.Services.Orders.Place" -> the namespace
 *  - anything else (C symbols, "[unknown]", addresses): the name itself.
 */
export function packageOf(rawName) {
  let name = String(rawName).trim();
  if (!name) return '';
  // "FILE:LINE - FUNCTION" (pprof names with file and line, as Pyroscope's SDKs write them).
  // Each file-shaped pattern runs only when its suffix is there: their lazy prefixes backtrack on long names
  // that cannot match (418 ms for the 8,192 names of the 1M-sample profile without these checks).
  const fileForm = name.includes(' - ') ? name.match(/^(\S*?):(-?\d+) - (.+)$/) : null;
  if (fileForm) {
    const [, file, , fn] = fileForm;
    if (/\.(py|rb|m?js|cjs|jsx|tsx?)$/.test(file)) name = file;
    else return packageOf(fn);
  }
  // Node: npm package or the first directory of a .js/.ts file.
  let m = name.includes('node_modules/') ? name.match(/node_modules\/((?:@[^/\s]+\/)?[^/\s:]+)/) : null;
  if (m) return m[1];
  m = /\.(?:m?js|cjs|jsx|tsx?)\b/.test(name) ? name.match(/(?:^|[\s(])\.?\/?([^\s():]*?)([^/\s():]+)\.(?:m?js|cjs|jsx|tsx?)\b/) : null;
  if (m) return m[1].replace(/\/$/, '') || m[2];
  // Python: the directory (or module) of the .py file.
  m = /\.py\b/.test(name) ? name.match(/([^\s():]*?)([^/\s():]+)\.py\b/) : null;
  if (m) return pyPackage(m[1], m[2]);
  // Ruby file form.
  m = /\.rb\b/.test(name) ? name.match(/([^\s():]*?)([^/\s():]+)\.rb\b/) : null;
  if (m) {
    const gem = m[1].match(/gems\/([^/]+?)-\d[^/]*\//);
    return gem ? gem[1] : m[1].split('/')[0] || m[2];
  }
  // Rust / C++ / Ruby (::) paths: first segment, after a qualified-self "<T as path::Trait>" prefix.
  if (name.includes('::')) {
    let s = name.replace(/^<[^<>]*? as /, '').replace(/^[<&*\s]+|^(?:dyn|impl|const|unsigned|static)\s+/g, '');
    s = s.replace(/^\{[^}]*\}\s*/, '');
    const first = s.split('::')[0].replace(/^.*\s/, '').replace(/[<>&*]/g, '');
    return first || name;
  }
  const plain = stripBrackets(name).replace(/\s.*$/, '');
  // Slash paths: Go import paths and Java's internal class names.
  const slash = plain.lastIndexOf('/');
  if (slash >= 0) {
    const tail = plain.slice(slash + 1);
    if (/^[A-Z]/.test(tail)) return plain.slice(0, slash); // org/apache/kafka/Selector.poll
    const dot = tail.indexOf('.');
    return dot >= 0 ? plain.slice(0, slash + 1 + dot) : plain.slice(0, slash);
  }
  const parts = plain.split('.').filter((p) => p !== '');
  if (parts.length <= 1) return plain || name;
  // Java/.NET: the segments before the first class-like (capitalized) one; a capitalized first segment is a
  // .NET namespace: all but class and method.
  const cls = parts.findIndex((p) => /^[A-Z]/.test(p));
  if (cls > 0) return parts.slice(0, cls).join('.');
  if (cls === 0) return parts.length > 2 ? parts.slice(0, parts.length - 2).join('.') : parts[0];
  // Go standard library ("runtime.mallocgc", "fmt.(*pp).doPrintf") and other dotted lowercase names.
  return parts[0];
}

function pyPackage(dir, file) {
  const d = dir.replace(/\/$/, '');
  const site = d.match(/(?:site|dist)-packages\/([^/]+)/);
  if (site) return site[1];
  const lib = d.match(/python\d(?:\.\d+)?$/);
  if (lib) return 'stdlib';
  return d ? d.split('/').slice(-1)[0] : file;
}

const packageColorCache = new Map();

/** The package colour of a function name, [r, g, b]. */
export function colorByPackage(name) {
  const pkg = packageOf(name);
  let c = packageColorCache.get(pkg);
  if (!c) {
    c = PALETTE[hash32(pkg) % PALETTE.length];
    packageColorCache.set(pkg, c);
  }
  return c;
}

/** Hue 50 (yellow) -> 0 (red) as the frame's share of the total grows. */
export function colorByValue(value, total) {
  const intensity = total > 0 ? Math.min(1, value / total) : 0;
  return hslToRgb(50 - 50 * intensity, 100, 65 + 7 * intensity);
}

/**
 * Relative change of a frame's share between baseline and comparison, in percent, clamped to [-100, 100]:
 * +100 when it is new (no baseline), -100 when it vanished.
 */
export function diffPercent(valueLeft, valueRight, totalLeft, totalRight) {
  if (totalLeft <= 0 || totalRight <= 0) return 0;
  const left = valueLeft / totalLeft;
  const right = valueRight / totalRight;
  if (left === 0) return right > 0 ? 100 : 0;
  return Math.max(-100, Math.min(100, ((right - left) / left) * 100));
}

/** The relative change of a share in percent, unclamped (Infinity when it grew from zero); for tables and tooltips. */
export function relativeChange(valueLeft, valueRight, totalLeft, totalRight) {
  if (totalLeft <= 0 || totalRight <= 0) return 0;
  const left = valueLeft / totalLeft;
  const right = valueRight / totalRight;
  if (left === 0) return right > 0 ? Infinity : 0;
  return ((right - left) / left) * 100;
}

/** The colour for a relative change in percent (-100 .. +100), linear through grey. */
export function colorByDiff(percent, scheme = 'default') {
  const [lo, mid, hi] = (DIFF_SCHEMES[scheme] || DIFF_SCHEMES.default).colors;
  const t = Math.max(-100, Math.min(100, percent)) / 100;
  const [a, b, f] = t < 0 ? [mid, lo, -t] : [mid, hi, t];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f));
}

/** A CSS linear-gradient for the legend of a diff scheme. */
export function diffGradient(scheme = 'default') {
  const [lo, mid, hi] = (DIFF_SCHEMES[scheme] || DIFF_SCHEMES.default).colors;
  return `linear-gradient(90deg, ${rgbCss(lo)} 0%, ${rgbCss(mid)} 50%, ${rgbCss(hi)} 100%)`;
}

/** Mixes a colour towards the background (for frames above a focused one and muted search misses). */
export function mix(c, towards, f) {
  return [0, 1, 2].map((k) => Math.round(c[k] + (towards[k] - c[k]) * f));
}

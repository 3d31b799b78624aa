// Values in the profile's unit: nanoseconds (and other time units) as durations, bytes as sizes, counts plain.

const TIME_UNITS = { nanoseconds: 1, ns: 1, microseconds: 1e3, us: 1e3, milliseconds: 1e6, ms: 1e6, seconds: 1e9, s: 1e9 };
const BYTE_UNITS = { bytes: 1, byte: 1, kilobytes: 1024, megabytes: 1024 * 1024 };

export function unitKind(unit) {
  const u = String(unit || '').toLowerCase();
  if (u in TIME_UNITS) return 'time';
  if (u in BYTE_UNITS) return 'bytes';
  return 'count';
}

function trim(x, digits) {
  const s = x.toFixed(digits);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Three significant digits, trailing zeros trimmed: 46.76 -> "46.8", 1.918 -> "1.92", 310 -> "310". */
function sig3(x) {
  const a = Math.abs(x);
  return trim(x, a >= 100 ? 0 : a >= 10 ? 1 : 2);
}

export function formatDuration(ns) {
  const a = Math.abs(ns);
  if (a === 0) return '0';
  if (a < 1e3) return `${sig3(ns)} ns`;
  if (a < 1e6) return `${sig3(ns / 1e3)} µs`;
  if (a < 1e9) return `${sig3(ns / 1e6)} ms`;
  if (a < 60e9) return `${sig3(ns / 1e9)} s`;
  if (a < 3600e9) return `${sig3(ns / 60e9)} min`;
  if (a < 86400e9) return `${sig3(ns / 3600e9)} h`;
  return `${sig3(ns / 86400e9)} day`;
}

export function formatBytes(b) {
  const a = Math.abs(b);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = a;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (a === 0) return '0';
  return `${b < 0 ? '-' : ''}${i === 0 ? trim(v, 0) : sig3(v)} ${units[i]}`;
}

export function formatCount(n) {
  return Math.round(n).toLocaleString('en-US');
}

/** A value in the sample type's unit, for people. */
export function formatValue(value, unit) {
  const u = String(unit || '').toLowerCase();
  if (u in TIME_UNITS) return formatDuration(value * TIME_UNITS[u]);
  if (u in BYTE_UNITS) return formatBytes(value * BYTE_UNITS[u]);
  return formatCount(value);
}

/** A short value for bar labels: like formatValue, counts abbreviated (1.2K, 3.4M). */
export function formatShort(value, unit) {
  if (unitKind(unit) !== 'count') return formatValue(value, unit);
  const a = Math.abs(value);
  if (a < 1e4) return formatCount(value);
  if (a < 1e6) return `${trim(value / 1e3, 1)}K`;
  if (a < 1e9) return `${trim(value / 1e6, 1)}M`;
  return `${trim(value / 1e9, 1)}B`;
}

export function formatPercent(share, digits = 2) {
  if (!Number.isFinite(share)) return '–';
  return `${trim(share * 100, digits)}%`;
}

/** A signed relative change in percent ("+12.3%", "-100%", "+633%"); growth from zero is "from 0". */
export function formatChange(percent) {
  if (percent === Infinity) return 'from 0';
  if (!Number.isFinite(percent)) return '–';
  const s = trim(Math.abs(percent), Math.abs(percent) < 10 ? 2 : 1);
  return `${percent > 0 ? '+' : percent < 0 ? '-' : ''}${s}%`;
}

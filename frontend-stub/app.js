// The local page: opens profiles through the host's resource API and shows them in the flame graph widget.
// Everything the host must provide is in README.md ("HTTP contract"). No inline script or style: the page works
// under a CSP of script-src 'self'; connect-src 'self'.

import { mountFlameGraph } from './widget.js';
import { mountExplainPanel } from './explain.js';
import { h, setChildren } from './dom.js';

export const API_BASE = '/api/plugins/flamegraphai-explain-app/resources';
const RESTART_HEADER = 'X-Backend-Restarted';

const $ = (id) => document.getElementById(id);
const banners = $('banners');

// ---------------------------------------------------------------- HTTP
function noteRestart(res, json) {
  const header = res.headers.get(RESTART_HEADER);
  if ((header && header !== '0' && header.toLowerCase() !== 'false') || (json && json.backendRestarted === true)) {
    showBanner('restart', 'warning', 'The profile backend restarted. Results shown were computed again; if something looks stale, open the profile again.');
  }
}

/** A same-origin JSON request to the resource API; errors carry the host's {error} message. */
export async function requestJSON(route, body, method = body === undefined ? 'GET' : 'POST') {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(API_BASE + route, init);
  } catch (err) {
    throw new Error(`The host did not answer ${route}: ${err.message}`);
  }
  return answerJSON(route, res);
}

/** The JSON of an answer (noting a backend restart); a non-2xx answer throws with the host's message. */
async function answerJSON(route, res) {
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (_) {
    json = null;
  }
  noteRestart(res, json);
  if (!res.ok) {
    const why = json && typeof json.error === 'string' ? json.error : text.slice(0, 300) || res.statusText;
    const err = new Error(`${route}: ${why} (HTTP ${res.status})`);
    err.status = res.status;
    throw err;
  }
  if (json === null) throw new Error(`${route}: the host answered no JSON`);
  return json;
}

/**
 * POSTs an explain route and streams its answer: `Accept: application/x-ndjson` asks the host for one JSON object a
 * line ({"event":"delta","text"} while the model writes, then {"event":"end","status","body"}); a host that
 * answers one JSON body instead (Grafana's resource API) is read whole. Resolves {status, body}.
 */
export async function requestStream(route, body, { signal, onDelta } = {}) {
  const res = await fetch(API_BASE + route, {
    method: 'POST', credentials: 'same-origin', signal,
    headers: { Accept: 'application/x-ndjson, application/json', 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const type = (res.headers.get('Content-Type') || '').toLowerCase();
  if (!type.startsWith('application/x-ndjson') || !res.body) {
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (_) {
      json = { error: `${route}: the host answered no JSON (HTTP ${res.status})` };
    }
    noteRestart(res, json);
    return { status: res.status, body: json };
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let end = null;
  const take = (line) => {
    if (!line.trim()) return;
    const ev = JSON.parse(line);
    if (ev.event === 'delta' && typeof ev.text === 'string') {
      if (onDelta) onDelta(ev.text);
    } else if (ev.event === 'end') {
      end = ev;
    }
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    for (let nl; (nl = buffer.indexOf('\n')) >= 0;) {
      take(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  }
  take(buffer + decoder.decode());
  if (!end) throw new Error(`${route}: the answer stopped before it was complete`);
  noteRestart(res, end.body);
  return { status: end.status, body: end.body };
}

// ---------------------------------------------------------------- banners
function showBanner(id, kind, text) {
  let el = banners.querySelector(`[data-banner="${id}"]`);
  if (!el) {
    const close = h('button', { type: 'button', class: 'banner-close', 'aria-label': 'Dismiss' }, '✕');
    el = h('div', { class: `banner banner-${kind}`, role: kind === 'error' ? 'alert' : 'status', dataset: { banner: id } }, h('span', { class: 'banner-text' }), close);
    close.addEventListener('click', () => el.remove());
    banners.append(el);
  }
  el.querySelector('.banner-text').textContent = text;
}

function clearBanner(id) {
  const el = banners.querySelector(`[data-banner="${id}"]`);
  if (el) el.remove();
}

// ---------------------------------------------------------------- files
/** A File's bytes as base64 (the browser's own encoder, via a data: URL). */
export function fileToBase64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onerror = () => reject(new Error(`could not read ${file.name}`));
    r.onload = () => {
      const url = String(r.result);
      resolve(url.slice(url.indexOf(',') + 1));
    };
    r.readAsDataURL(file);
  });
}

const megabytes = (n) => `${(n / 1e6).toFixed(1)} MB`;

/**
 * Sends a chosen file to the host once: `POST /upload?filename=NAME` with the raw bytes; the host keeps them and
 * answers `{name}`, which every later request (/flamegraph, /top, /info, /diff, /explain) uses instead of the
 * bytes. A host without that route (404/405) gets the bytes inline, as `{pprof: base64}`, in each request.
 */
export async function uploadFile(file) {
  const max = page.limits.maxUploadBytes;
  if (max && file.size > max) {
    throw new Error(`${file.name} is ${megabytes(file.size)}; this host takes files up to ${megabytes(max)}`);
  }
  if (page.uploadRoute) {
    const route = '/upload';
    let res;
    try {
      res = await fetch(`${API_BASE}${route}?filename=${encodeURIComponent(file.name)}`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { Accept: 'application/json', 'Content-Type': 'application/octet-stream' },
        body: file,
      });
    } catch (err) {
      throw new Error(`The host did not answer ${route}: ${err.message}`);
    }
    if (res.status !== 404 && res.status !== 405) {
      const json = await answerJSON(route, res);
      if (typeof json.name !== 'string') throw new Error(`${route}: the host answered no name`);
      return { name: json.name };
    }
    page.uploadRoute = false;
  }
  return { pprof: await fileToBase64(file) };
}

// ---------------------------------------------------------------- page state
const widget = mountFlameGraph($('flamegraph'), { fetchJSON: requestJSON });
window.__flamegraph = widget; // for tests and the console

const layout = $('analysis-layout');
const explainButton = $('explain-button');
const panel = mountExplainPanel($('ai-panel'), {
  request: requestStream,
  onSearch: (name) => widget.search(name, true),
  knownName: (name) => widget.hasName(name),
  onOpen: () => layout.classList.add('with-panel'),
  onClose: () => layout.classList.remove('with-panel'),
});
window.__explainPanel = panel; // for tests and the console
widget.setExplainEnabled(true);

const page = {
  mode: 'single',
  slots: { profile: null, vs: null }, // {ref: {pprof}|{name}, label, startedAt}
  serverProfiles: [],
  limits: { maxUploadBytes: null }, // from /session, when the host says
  uploadRoute: true, // false once the host answered /upload with 404 or 405
};

function setMode(mode) {
  page.mode = mode;
  for (const t of document.querySelectorAll('.open-tab')) t.setAttribute('aria-selected', String(t.dataset.mode === mode));
  document.querySelector('.slot[data-slot="vs"]').hidden = mode !== 'diff';
  const title = document.querySelector('.slot[data-slot="profile"] .slot-title');
  title.textContent = mode === 'diff' ? title.dataset.diff : title.dataset.single;
  $('drop-zone').classList.toggle('two', mode === 'diff');
}

function setSlot(slot, value) {
  page.slots[slot] = value;
  $(`name-${slot}`).textContent = value ? value.label : '';
}

async function openCurrent() {
  const { profile, vs } = page.slots;
  clearBanner('error');
  if (page.mode === 'single' && profile) {
    await widget.openProfile(profile.ref, { label: profile.label, startedAt: profile.startedAt });
  } else if (page.mode === 'diff' && profile && vs) {
    await widget.openDiff(profile.ref, vs.ref, {
      label: `${profile.label} → ${vs.label}`,
      startedAt: Math.max(profile.startedAt || 0, vs.startedAt || 0),
    });
  }
}

async function takeFile(slot, file) {
  const startedAt = performance.now();
  setSlot(slot, { ref: null, label: `${file.name} (reading…)` });
  try {
    const ref = await uploadFile(file);
    setSlot(slot, { ref, label: file.name, startedAt });
  } catch (err) {
    setSlot(slot, null);
    showBanner('error', 'error', err.message);
    return;
  }
  await openCurrent();
}

function takeServerProfile(slot, name) {
  if (!name) return;
  setSlot(slot, { ref: { name }, label: name, startedAt: performance.now() });
  openCurrent();
}

// ---------------------------------------------------------------- explain
/** What is drawn, as the explain routes take it: the profile (or both sides) and the chosen sample type. */
function drawnSubject() {
  const { profile, vs } = page.slots;
  const st = widget.state.sampleTypeIndex >= 0 ? { sampleType: widget.state.sampleTypeIndex } : {};
  if (widget.state.phase !== 'drawn' || !profile || !profile.ref) return null;
  if (widget.state.diff && vs && vs.ref) return { diff: true, baseline: profile.ref, comparison: vs.ref, st };
  return { diff: false, profile: profile.ref, st };
}

function syncExplainButton() {
  const s = drawnSubject();
  explainButton.disabled = !s;
  explainButton.textContent = s && s.diff ? 'Explain diff' : 'Explain flame graph';
}

explainButton.addEventListener('click', () => {
  const s = drawnSubject();
  if (!s) return;
  if (s.diff) {
    panel.start({ route: '/explainDiff', body: { baseline: s.baseline, comparison: s.comparison, ...s.st }, title: 'Explain diff', kind: 'diff' });
  } else {
    panel.start({ route: '/explain', body: { profile: s.profile, ...s.st }, title: 'Explain flame graph', kind: 'explain' });
  }
});

// "Explain this node": the analysis of the frame's subtree (in a diff, of the comparison profile's).
$('flamegraph').addEventListener('flamegraph:explain-node', (ev) => {
  const s = drawnSubject();
  const d = ev.detail;
  if (!s || !d || !Array.isArray(d.path) || !d.path.length) return;
  panel.start({
    route: '/explain', body: { profile: s.diff ? s.comparison : s.profile, subtree: d.path, ...(s.diff ? {} : s.st) },
    title: `Explain this node: ${d.name}`, kind: 'explain',
  });
});

new MutationObserver(syncExplainButton).observe($('flamegraph'), { attributes: true, attributeFilter: ['data-state'] });

// ---------------------------------------------------------------- wiring
for (const t of document.querySelectorAll('.open-tab')) {
  t.addEventListener('click', () => {
    setMode(t.dataset.mode);
    openCurrent();
  });
}
$('file-profile').addEventListener('change', (ev) => {
  const f = ev.target.files[0];
  if (f) takeFile('profile', f);
  ev.target.value = '';
});
$('file-vs').addEventListener('change', (ev) => {
  const f = ev.target.files[0];
  if (f) takeFile('vs', f);
  ev.target.value = '';
});
$('server-profile').addEventListener('change', (ev) => takeServerProfile('profile', ev.target.value));
$('server-vs').addEventListener('change', (ev) => takeServerProfile('vs', ev.target.value));

const drop = $('drop-zone');
drop.addEventListener('dragover', (ev) => {
  ev.preventDefault();
  drop.classList.add('dragging');
});
drop.addEventListener('dragleave', () => drop.classList.remove('dragging'));
drop.addEventListener('drop', async (ev) => {
  ev.preventDefault();
  drop.classList.remove('dragging');
  const files = [...(ev.dataTransfer ? ev.dataTransfer.files : [])];
  if (!files.length) return;
  if (files.length >= 2) {
    setMode('diff');
    setSlot('vs', null);
    const startedAt = performance.now();
    try {
      const [a, b] = await Promise.all(files.slice(0, 2).map(uploadFile));
      setSlot('profile', { ref: a, label: files[0].name, startedAt });
      setSlot('vs', { ref: b, label: files[1].name, startedAt });
    } catch (err) {
      showBanner('error', 'error', err.message);
      return;
    }
    openCurrent();
    return;
  }
  // One file: into the slot it was dropped on (the comparison slot in diff mode), else the first.
  const slotEl = ev.target.closest && ev.target.closest('.slot');
  const slot = page.mode === 'diff' && slotEl && slotEl.dataset.slot === 'vs' ? 'vs' : page.mode === 'diff' && page.slots.profile && !page.slots.vs ? 'vs' : 'profile';
  takeFile(slot, files[0]);
});

// ---------------------------------------------------------------- server-side profiles and the session
function fillServerSelect(select, placeholder) {
  setChildren(select, h('option', { value: '' }, placeholder), page.serverProfiles.map((p) => h('option', { value: p.name }, p.name)));
  select.hidden = page.serverProfiles.length === 0;
}

async function loadServerProfiles() {
  try {
    const res = await requestJSON('/profiles');
    page.serverProfiles = Array.isArray(res.profiles) ? res.profiles.filter((p) => p && typeof p.name === 'string') : [];
  } catch (_) {
    page.serverProfiles = []; // the host offers none: upload only
  }
  fillServerSelect($('server-profile'), 'or pick a profile on the server…');
  fillServerSelect($('server-vs'), 'or pick a profile on the server…');
}

/** A session entry is a profile reference ({name}, {pprof}, {path}) or a bare name. */
function refOf(x) {
  if (!x) return null;
  if (typeof x === 'string') return { name: x };
  if (typeof x === 'object') return x;
  return null;
}

function labelOf(ref) {
  return ref.name || ref.path || 'profile';
}

async function openFromSession() {
  const q = new URLSearchParams(location.search);
  let session = null;
  try {
    session = await requestJSON('/session');
  } catch (_) {
    session = null; // no session route: nothing preselected, no limits known
  }
  if (session && session.limits && Number.isFinite(session.limits.maxUploadBytes)) page.limits.maxUploadBytes = session.limits.maxUploadBytes;
  let open = session && session.open ? session.open : null;
  if (q.get('open')) open = { profile: q.get('open'), vs: q.get('vs') };
  if (!open) return;
  const a = refOf(open.profile);
  const b = refOf(open.vs);
  if (!a) return;
  const startedAt = performance.now();
  if (b) {
    setMode('diff');
    setSlot('profile', { ref: a, label: labelOf(a), startedAt });
    setSlot('vs', { ref: b, label: labelOf(b), startedAt });
  } else {
    setMode('single');
    setSlot('profile', { ref: a, label: labelOf(a), startedAt });
  }
  openCurrent();
}

setMode('single');
loadServerProfiles();
openFromSession();

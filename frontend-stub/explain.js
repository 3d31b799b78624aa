// The "Flame graph analysis" side panel (Grafana's SceneAiPanel, framework-free): the answer streams in as
// Markdown under "Analyzing…", then shows the three sections with where each came from (the model, the offline
// analysis, or an offline repair of a weak model answer) and why; cited names the profile holds are buttons that
// search the flame graph, names and numbers it does not back are marked; Cancel while streaming, Retry after an
// error, follow-up questions under the first answer. Model text is rendered by markdown.js (text nodes only).
//
// The transport is injected: request(route, body, {signal, onDelta}) -> Promise<{status, body}>. The local page
// streams NDJSON from `flamegraph-ai dev`; a host that answers one JSON body (Grafana's resource API) works too,
// with the whole answer arriving at once.

import { h, setChildren } from './dom.js';
import { renderMarkdown } from './markdown.js';

export const TITLES = {
  explain: [['bottleneck', 'Performance Bottleneck'], ['rootCause', 'Root Cause'], ['fix', 'Recommended Fix']],
  diff: [['performanceChange', 'Performance Change'], ['functionImpact', 'Function Impact'], ['potentialCauses', 'Potential Causes']],
};

// The backend's marks (Sources/Explain/Grounding.swift): kept out of the shown text, turned into styled marks.
const NUMBER_MARK = /([+-]?\d+(?:\.\d+)?(?:%|\s?pp)) \(unverified\)/g;
const NAME_HINT = 'Not in the profile: the answer names a function or file that this profile does not contain.';
const NUMBER_HINT = 'Unverified: this number is not one the profile analysis computed.';

const REASONS = {
  not_configured: 'no LLM is configured',
  low_quality: 'the model answer did not pass the quality checks',
  cancelled: 'the request was cancelled',
};

/**
 * Mounts the panel into `container` (hidden until an explanation starts). options:
 *   request(route, body, {signal, onDelta}) -> Promise<{status, body}>
 *   onSearch(name)        a verified name was clicked: search and highlight it in the flame graph
 *   knownName(name)       true when the drawn flame graph has a frame of that name (marks names while streaming)
 *   onOpen(), onClose()   the panel was shown / closed (the page makes room for it)
 */
export function mountExplainPanel(container, options = {}) {
  const opts = { onSearch() {}, knownName: () => false, onOpen() {}, onClose() {}, ...options };
  const panel = { base: null, conversationId: null, turns: [], active: null };

  const closeBtn = h('button', { type: 'button', class: 'ai-close', 'aria-label': 'Close the analysis', title: 'Close' }, '✕');
  const conversation = h('div', { class: 'ai-conversation', 'aria-live': 'polite' });
  const input = h('textarea', {
    class: 'ai-followup-input', rows: '2', placeholder: 'Ask a follow-up question…', 'aria-label': 'Ask a follow-up question', maxlength: '4000',
  });
  const send = h('button', { type: 'submit', class: 'fg-btn ai-send' }, 'Send');
  const form = h('form', { class: 'ai-followup', hidden: true }, input, send);
  const root = h('div', { class: 'ai-panel-inner', dataset: { state: 'idle' } },
    h('div', { class: 'ai-header' }, h('h2', { class: 'ai-title' }, 'Flame graph analysis'), closeBtn),
    conversation, form);
  container.replaceChildren(root);
  container.hidden = true;

  function setState(s) {
    root.dataset.state = s;
    container.dataset.state = s;
    const busy = s === 'streaming';
    input.disabled = busy || !panel.conversationId;
    send.disabled = busy || !panel.conversationId;
    form.hidden = !panel.conversationId;
  }

  // ------------------------------------------------------------ rendering
  function codeSpan(name, grounding, unverified) {
    const isUnverified = unverified.has(name) || (grounding && grounding.unverified.includes(name));
    const isVerified = !isUnverified && ((grounding && grounding.verified.includes(name)) || opts.knownName(name));
    if (isUnverified) {
      return h('span', { class: 'ai-code ai-unverified', tabindex: '0', title: NAME_HINT, dataset: { name } }, h('code', null, name));
    }
    if (isVerified) {
      const b = h('button', { type: 'button', class: 'ai-code ai-verified', title: 'Search for this node in the flame graph', dataset: { name } },
        h('code', null, name));
      b.addEventListener('click', () => opts.onSearch(name));
      return b;
    }
    return h('code', null, name);
  }

  function textRun(s) {
    NUMBER_MARK.lastIndex = 0;
    if (!NUMBER_MARK.test(s)) return s;
    const out = document.createDocumentFragment();
    let last = 0;
    NUMBER_MARK.lastIndex = 0;
    for (let m; (m = NUMBER_MARK.exec(s));) {
      out.append(s.slice(last, m.index), h('span', { class: 'ai-unverified-number', tabindex: '0', title: NUMBER_HINT }, m[1]));
      last = m.index + m[0].length;
    }
    out.append(s.slice(last));
    return out;
  }

  /** Markdown → nodes, with the grounding's marks turned into styled spans. */
  function markdown(text, grounding) {
    const unverified = new Set();
    const clean = String(text).replace(/`([^`\n]+)`( \(not in the profile\))/g, (_, name) => {
      unverified.add(name);
      return '`' + name + '`';
    });
    return renderMarkdown(clean, { code: (name) => codeSpan(name, grounding, unverified), text: textRun });
  }

  function provenance(result, key) {
    const q = result.quality;
    const from = q && q.sections && key ? q.sections[key] : null;
    if (from === 'offlineRepair' || from === 'offline' || (!from && result.source === 'offline')) {
      return q && q.verdict === 'repair' ? 'offline repair' : 'offline analysis';
    }
    return `model ${result.model || ''}`.trim();
  }

  function sourceLine(result, isFollowUp) {
    const parts = [];
    const q = result.quality;
    const fb = result.fallback;
    let kind;
    if (result.source === 'offline') {
      kind = 'offline';
      parts.push(h('strong', null, 'Offline analysis'));
      if (fb) {
        parts.push(` — the model was not used: ${REASONS[fb.reason] || fb.reason}`);
        if (fb.detail && fb.reason !== 'not_configured') parts.push(h('span', { class: 'ai-reason-detail' }, ` (${fb.detail})`));
      }
    } else if (q && q.verdict === 'repair') {
      kind = 'repair';
      parts.push(h('strong', null, `Model ${result.model || ''}`.trim()), ', with an offline repair of the sections the quality checks rejected');
    } else {
      kind = 'model';
      parts.push('Answer from the model ', h('strong', null, result.model || 'configured'));
    }
    if (q && Array.isArray(q.checks)) {
      const failed = q.checks.filter((c) => c && (c.passed === false || c.ok === false));
      if (failed.length) parts.push(h('span', { class: 'ai-reason-detail' }, ` · quality: ${failed.map((c) => c.name || c.id || c.check || 'check').join(', ')}`));
    }
    const g = result.grounding;
    if (g) {
      const names = `${g.verified.length} of ${g.cited.length} cited names found in the profile`;
      const nums = g.numbers ? `, ${g.numbers.verified.length} of ${g.numbers.cited.length} numbers checked` : '';
      parts.push(h('span', { class: 'ai-grounding' }, ` · ${names}${nums}`));
    }
    if (result.note && isFollowUp) parts.push(h('div', { class: 'ai-note' }, result.note));
    return h('div', { class: `ai-source ai-source-${kind}`, dataset: { source: kind, reason: fb ? fb.reason : '' } }, parts);
  }

  function showResult(turn, result) {
    const kind = turn.kind;
    const sections = result.sections && !turn.followUp ? result.sections : null;
    const titles = TITLES[kind === 'diff' ? 'diff' : 'explain'];
    const body = [];
    if (sections && titles.some(([k]) => typeof sections[k] === 'string')) {
      for (const [key, title] of titles) {
        if (typeof sections[key] !== 'string') continue;
        const from = provenance(result, key);
        body.push(h('section', { class: 'ai-section', dataset: { key, from, markdown: sections[key] } },
          h('h3', { class: 'ai-section-title' }, title, h('span', { class: `ai-badge ai-badge-${from.split(' ')[0]}` }, from)),
          h('div', { class: 'ai-section-body' }, markdown(sections[key], result.grounding))));
      }
    } else {
      body.push(h('div', { class: 'ai-section-body' }, markdown(result.markdown || '', result.grounding)));
    }
    setChildren(turn.answer, body);
    setChildren(turn.status, sourceLine(result, turn.followUp));
    // A model that was configured but failed: the offline answer stands, and Retry asks the model again.
    const fb = result.fallback;
    if (result.source === 'offline' && fb && fb.reason !== 'not_configured') {
      const retry = h('button', { type: 'button', class: 'fg-btn ai-retry', title: 'Ask the model again' }, 'Retry');
      retry.addEventListener('click', () => rerun(turn));
      turn.status.append(retry);
    }
    turn.el.dataset.state = 'done';
    turn.el.dataset.source = result.source || '';
  }

  function showError(turn, message, kind) {
    turn.el.dataset.state = kind === 'unknown_conversation' ? 'expired' : 'error';
    if (kind === 'unknown_conversation') {
      const restart = h('button', { type: 'button', class: 'fg-btn ai-restart' }, 'Start again');
      restart.addEventListener('click', () => start(panel.base));
      setChildren(turn.status, h('div', { class: 'ai-alert ai-alert-warning', role: 'alert' },
        h('span', null, 'This conversation has expired (the backend keeps one for 30 minutes, and forgets it when it restarts). Start a new analysis to ask again.'),
        restart));
      panel.conversationId = null;
      return;
    }
    const retry = h('button', { type: 'button', class: 'fg-btn ai-retry' }, 'Retry');
    retry.addEventListener('click', () => rerun(turn));
    setChildren(turn.status, h('div', { class: 'ai-alert ai-alert-error', role: 'alert' },
      h('span', { class: 'ai-alert-text' }, message), retry));
  }

  function showCancelled(turn) {
    turn.el.dataset.state = 'cancelled';
    const retry = h('button', { type: 'button', class: 'fg-btn ai-retry' }, 'Retry');
    retry.addEventListener('click', () => rerun(turn));
    setChildren(turn.status, h('div', { class: 'ai-alert ai-alert-info', role: 'status' }, h('span', null, 'Analysis cancelled.'), retry));
  }

  // ------------------------------------------------------------ requests
  function newTurn(question, kind, followUp) {
    const status = h('div', { class: 'ai-status' });
    const answer = h('div', { class: 'ai-answer' });
    const el = h('div', { class: `ai-turn${followUp ? ' ai-turn-followup' : ''}`, dataset: { state: 'streaming' } },
      h('div', { class: 'ai-question' }, question), answer, status);
    conversation.append(el);
    const turn = { el, status, answer, kind, followUp, request: null };
    panel.turns.push(turn);
    return turn;
  }

  async function run(turn, route, body) {
    if (panel.active) panel.active.controller.abort();
    const controller = new AbortController();
    const active = { controller, turn };
    panel.active = active;
    turn.request = { route, body };
    turn.el.dataset.state = 'streaming';
    turn.answer.replaceChildren();
    const cancel = h('button', { type: 'button', class: 'fg-btn ai-cancel' }, 'Cancel');
    cancel.addEventListener('click', () => {
      controller.abort();
      showCancelled(turn);
      if (panel.active === active) panel.active = null;
      setState('cancelled');
    });
    setChildren(turn.status, h('div', { class: 'ai-analyzing', role: 'status' }, h('span', { class: 'ai-spinner', 'aria-hidden': 'true' }), 'Analyzing…', cancel));
    setState('streaming');

    let text = '';
    let scheduled = false;
    const paint = () => {
      scheduled = false;
      if (controller.signal.aborted || turn.el.dataset.state !== 'streaming') return;
      setChildren(turn.answer, h('div', { class: 'ai-section-body ai-streaming' }, markdown(text, null)));
      turn.el.dataset.painted = String(Number(turn.el.dataset.painted || 0) + 1);
    };
    const onDelta = (delta) => {
      text += delta;
      if (!scheduled) {
        scheduled = true;
        requestAnimationFrame(paint);
      }
    };
    try {
      const answer = await opts.request(route, body, { signal: controller.signal, onDelta });
      if (controller.signal.aborted) return;
      const result = answer && answer.body;
      if (!answer || answer.status !== 200 || !result || typeof result !== 'object' || result.error) {
        const why = result && typeof result.error === 'string' ? result.error : `the host answered HTTP ${answer ? answer.status : '?'}`;
        showError(turn, why, result && result.kind);
        setState(result && result.kind === 'unknown_conversation' ? 'expired' : 'error');
        return;
      }
      if (result.conversationId) panel.conversationId = result.conversationId;
      showResult(turn, result);
      setState('done');
    } catch (err) {
      if (controller.signal.aborted) return;
      showError(turn, err && err.message ? err.message : String(err));
      setState('error');
    } finally {
      if (panel.active === active) panel.active = null;
    }
  }

  function rerun(turn) {
    if (turn.request) run(turn, turn.request.route, turn.request.body);
  }

  /** A new analysis: {route: '/explain' | '/explainDiff', body, title, kind: 'explain' | 'diff'}. */
  function start(base) {
    panel.base = base;
    panel.conversationId = null;
    panel.turns = [];
    conversation.replaceChildren();
    if (container.hidden) {
      container.hidden = false;
      opts.onOpen();
    }
    const turn = newTurn(base.title, base.kind, false);
    return run(turn, base.route, base.body);
  }

  function ask(question) {
    const q = question.trim();
    if (!q || !panel.conversationId || panel.active) return null;
    input.value = '';
    const turn = newTurn(q, panel.base ? panel.base.kind : 'explain', true);
    turn.el.scrollIntoView({ block: 'nearest' });
    return run(turn, '/explain/followUp', { conversationId: panel.conversationId, question: q });
  }

  function close() {
    if (panel.active) panel.active.controller.abort();
    panel.active = null;
    container.hidden = true;
    setState('idle');
    opts.onClose();
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ask(input.value);
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      ask(input.value);
    }
  });
  closeBtn.addEventListener('click', close);

  return { element: root, state: panel, start, ask, close };
}

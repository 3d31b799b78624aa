// The one-file HTML report (`flamegraph-ai report`): the widget over data carried in the page itself, and the
// offline explanation as text. No network: fetchJSON answers from the embedded results.
import { mountFlameGraph } from './widget.js';
import { h, setChildren } from './dom.js';

export function startReport() {
  const holder = document.getElementById('report-data');
  const data = JSON.parse(holder.textContent);
  document.title = 'Flame graph report: ' + data.title;
  setChildren(document.getElementById('report-title'), data.title);
  setChildren(document.getElementById('report-meta'), data.subtitle);
  const explanation = document.getElementById('report-explanation');
  // Untrusted text (names, the explanation) only through textContent: headings become <h3>, the rest <p>.
  const blocks = [];
  let paragraph = [];
  const flush = () => {
    if (paragraph.length) blocks.push(h('p', { class: 'report-paragraph' }, paragraph.join('\n')));
    paragraph = [];
  };
  for (const line of String(data.explanation || '').split('\n')) {
    const m = /^#{1,6}\s+(.*)$/.exec(line.trim());
    if (m) {
      flush();
      blocks.push(h('h3', {}, m[1]));
    } else if (line.trim() === '') {
      flush();
    } else {
      paragraph.push(line);
    }
  }
  flush();
  setChildren(explanation, ...blocks);
  const routes = data.routes || {};
  const fetchJSON = async (route) => {
    if (!(route in routes)) throw new Error('not in this report: ' + route);
    return routes[route];
  };
  const fg = mountFlameGraph(document.getElementById('report-widget'), { fetchJSON, maxNodes: data.maxNodes || 8192, theme: 'dark' });
  if (data.diff) fg.openDiff({ name: 'baseline' }, { name: 'comparison' }, { label: data.title });
  else fg.openProfile({ name: 'profile' }, { label: data.title });
  window.__flamegraph = fg;
}

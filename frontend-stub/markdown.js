// A small allow-list Markdown renderer for untrusted text (model answers): it builds DOM nodes and puts every
// piece of the source into the page through text nodes, never through innerHTML. What it knows: headings,
// paragraphs, bullet and numbered lists, block quotes, fenced code, rules; inline `code`, **strong**, *em*,
// and [links](http(s) only). Everything else, raw HTML and images included, stays visible as the text it is.

import { h } from './dom.js';

const SAFE_URL = /^https?:\/\/[^\s<>"'`]+$/i;

/**
 * Renders `source` into a DocumentFragment. options:
 *   code(text) -> Node           an inline code span (default: <code>text</code>)
 *   text(text) -> Node | string  a run of plain text (default: the text itself), e.g. to mark numbers
 */
export function renderMarkdown(source, options = {}) {
  const frag = document.createDocumentFragment();
  const lines = String(source).replace(/\r\n?/g, '\n').split('\n');
  const inline = (text) => renderInline(text, options);
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (/^\s*$/.test(line)) {
      i++;
      continue;
    }
    const fence = /^\s*(```|~~~)/.exec(line);
    if (fence) {
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i++;
      frag.append(h('pre', { class: 'md-pre' }, h('code', null, body.join('\n'))));
      continue;
    }
    const heading = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      // Model headings are demoted: the panel's own titles are h3; a model's h1 is never louder than them.
      const level = Math.min(6, heading[1].length + 3);
      frag.append(h(`h${Math.max(4, level)}`, { class: 'md-heading' }, inline(heading[2])));
      i++;
      continue;
    }
    if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
      frag.append(h('hr'));
      i++;
      continue;
    }
    if (/^\s{0,3}>/.test(line)) {
      const body = [];
      while (i < lines.length && /^\s{0,3}>/.test(lines[i])) body.push(lines[i++].replace(/^\s{0,3}>\s?/, ''));
      frag.append(h('blockquote', null, renderMarkdown(body.join('\n'), options)));
      continue;
    }
    const item = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
    if (item.test(line)) {
      const ordered = /\d/.test(item.exec(line)[2]);
      const list = h(ordered ? 'ol' : 'ul');
      let current = null;
      while (i < lines.length) {
        const m = item.exec(lines[i]);
        if (m && /\d/.test(m[2]) === ordered) {
          current = h('li', null, inline(m[3]));
          list.append(current);
          i++;
        } else if (current && /^\s{2,}\S/.test(lines[i])) {
          current.append(' ', inline(lines[i].trim()));
          i++;
        } else {
          break;
        }
      }
      frag.append(list);
      continue;
    }
    const para = [];
    while (i < lines.length && !/^\s*$/.test(lines[i]) && !/^\s{0,3}(#{1,6}\s|```|~~~|>|([-*+]|\d{1,9}[.)])\s)/.test(lines[i])) {
      para.push(lines[i++].trim());
    }
    if (!para.length) para.push(lines[i++].trim());
    frag.append(h('p', null, inline(para.join(' '))));
  }
  return frag;
}

/** Inline spans of one block: code, strong, em, http(s) links; the rest is text. */
export function renderInline(text, options = {}) {
  const out = [];
  const plain = (s) => {
    if (!s) return;
    const node = options.text ? options.text(s) : s;
    if (node !== null && node !== undefined) out.push(node);
  };
  let rest = String(text);
  // The first of: `code`, **strong**, *em* / _em_, [text](url).
  const token = /`([^`]+)`|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|(?<![\w])_([^_\s][^_]*)_(?![\w])|\[([^\]]*)\]\(([^)\s]*)\)/;
  while (rest) {
    const m = token.exec(rest);
    if (!m) {
      plain(rest);
      break;
    }
    plain(rest.slice(0, m.index));
    // An image, ![alt](src), is never loaded: its "!" and alt text stay text.
    const isImage = m[6] !== undefined && m.index > 0 && rest[m.index - 1] === '!';
    if (m[1] !== undefined) {
      out.push(options.code ? options.code(m[1]) : h('code', null, m[1]));
    } else if (m[2] !== undefined || m[3] !== undefined) {
      out.push(h('strong', null, renderInline(m[2] ?? m[3], options)));
    } else if (m[4] !== undefined || m[5] !== undefined) {
      out.push(h('em', null, renderInline(m[4] ?? m[5], options)));
    } else if (!isImage && SAFE_URL.test(m[7])) {
      out.push(h('a', { href: m[7], target: '_blank', rel: 'noopener noreferrer nofollow' }, renderInline(m[6], { ...options, code: null })));
    } else {
      plain(m[0]); // a javascript:, data: or relative link, or an image: shown as written, inert
    }
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}

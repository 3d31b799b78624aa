// A small React stand-in for the browser tests: the subset module.js uses (createElement, useState, useEffect,
// useRef, and react-dom's createRoot(container).render/unmount), with React's rules where module.js relies on them:
// children are matched by position (null and false keep their slot), an element whose type changes is replaced,
// React never touches DOM children it did not create (the widget's element), refs are set before effects run,
// effects run after the DOM is updated, with their cleanup before the next run and on unmount, state setters are
// stable and take updater functions, and an update re-renders asynchronously (a microtask). No keys, no context,
// no class components.
(function () {
  'use strict';

  function createElement(type, props) {
    var p = {};
    for (var k in props || {}) p[k] = props[k];
    if (arguments.length > 2) p.children = arguments.length === 3 ? arguments[2] : Array.prototype.slice.call(arguments, 2);
    return { type: type, props: p };
  }

  function childList(children) {
    var out = [];
    (function walk(c) {
      if (Array.isArray(c)) c.forEach(walk);
      else out.push(c === null || c === undefined || typeof c === 'boolean' ? null : c);
    })(children);
    return out;
  }

  function kindOf(v) {
    if (v === null) return 'hole';
    if (typeof v !== 'object') return 'text';
    return typeof v.type === 'function' ? 'comp' : 'host';
  }

  function same(rec, v) {
    var k = kindOf(v);
    return rec.kind === k && (k === 'hole' || k === 'text' || rec.type === v.type);
  }

  function domNodes(rec) {
    if (rec.kind === 'hole') return [];
    if (rec.kind === 'comp') return domNodes(rec.child);
    return [rec.dom];
  }

  // ------------------------------------------------------------ props
  var SKIP = { children: 1, key: 1, ref: 1 };
  var ATTR = { spellCheck: 'spellcheck', autoComplete: 'autocomplete', tabIndex: 'tabindex' };
  var BOOL = { checked: 1, disabled: 1, hidden: 1, readOnly: 1, selected: 1, multiple: 1 };

  function eventName(el, prop) {
    var name = prop.slice(2).toLowerCase();
    if (name === 'change' && (el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && !/^(checkbox|radio|file)$/.test(el.type)))) return 'input';
    return name;
  }

  function setProp(el, k, v, old) {
    if (/^on[A-Z]/.test(k)) {
      var ev = eventName(el, k);
      el.__handlers = el.__handlers || {};
      if (!(ev in el.__handlers)) {
        el.addEventListener(ev, function (e) {
          if (el.__handlers[ev]) el.__handlers[ev](e);
        });
      }
      el.__handlers[ev] = v || null;
    } else if (k === 'className') {
      el.className = v || '';
    } else if (k === 'htmlFor') {
      el.htmlFor = v || '';
    } else if (k === 'style') {
      var o = old || {};
      var n = v || {};
      for (var s in o) if (!(s in n)) el.style[s] = '';
      for (s in n) {
        if (s.slice(0, 2) === '--') el.style.setProperty(s, n[s]);
        else el.style[s] = n[s];
      }
    } else if (k === 'value') {
      if (el.type !== 'file' && el.value !== String(v === null || v === undefined ? '' : v)) el.value = v === null || v === undefined ? '' : v;
    } else if (BOOL[k]) {
      el[k] = !!v;
    } else {
      var a = ATTR[k] || k;
      if (v === null || v === undefined || v === false) el.removeAttribute(a);
      else el.setAttribute(a, v === true ? '' : String(v));
    }
  }

  function setProps(el, old, next) {
    var k;
    for (k in old) if (!SKIP[k] && !(k in next)) setProp(el, k, null, old[k]);
    for (k in next) if (!SKIP[k] && (old[k] !== next[k] || k === 'value')) setProp(el, k, next[k], old[k]);
  }

  function setRef(ref, value) {
    if (typeof ref === 'function') ref(value);
    else if (ref) ref.current = value;
  }

  // ------------------------------------------------------------ components and hooks
  var current = null;

  function renderComponent(rec) {
    current = rec;
    rec.hookIndex = 0;
    try {
      return rec.type(rec.props);
    } finally {
      current = null;
    }
  }

  function nextHook() {
    if (!current) throw new Error('hooks can only be called while a component renders');
    return current.hookIndex++;
  }

  function useState(init) {
    var rec = current;
    var i = nextHook();
    if (!(i in rec.hooks)) {
      var hook = (rec.hooks[i] = { value: typeof init === 'function' ? init() : init });
      hook.set = function (next) {
        var value = typeof next === 'function' ? next(hook.value) : next;
        if (Object.is(value, hook.value)) return;
        hook.value = value;
        if (rec.alive) schedule(rec.root);
      };
    }
    return [rec.hooks[i].value, rec.hooks[i].set];
  }

  function useRef(init) {
    var rec = current;
    var i = nextHook();
    if (!(i in rec.hooks)) rec.hooks[i] = { current: init };
    return rec.hooks[i];
  }

  function useEffect(fn, deps) {
    var rec = current;
    var i = nextHook();
    var hook = rec.hooks[i];
    var changed = !hook || !deps || !hook.deps || deps.length !== hook.deps.length ||
      deps.some(function (d, k) { return !Object.is(d, hook.deps[k]); });
    if (!hook) hook = rec.hooks[i] = { cleanup: null };
    if (changed) {
      hook.deps = deps;
      rec.root.pending.push({ rec: rec, hook: hook, fn: fn });
    }
  }

  // ------------------------------------------------------------ mount, patch, unmount
  function mount(v, parent, before, root) {
    var kind = kindOf(v);
    if (kind === 'hole') return { kind: 'hole' };
    if (kind === 'text') {
      var t = document.createTextNode(String(v));
      parent.insertBefore(t, before);
      return { kind: 'text', dom: t };
    }
    if (kind === 'host') {
      var el = document.createElement(v.type);
      var rec = { kind: 'host', type: v.type, dom: el, props: v.props };
      rec.children = reconcile([], childList(v.props.children), el, root);
      setProps(el, {}, v.props); // after the children: a <select>'s value needs its options
      parent.insertBefore(el, before);
      setRef(v.props.ref, el);
      return rec;
    }
    var comp = { kind: 'comp', type: v.type, props: v.props, hooks: [], root: root, alive: true };
    comp.child = mount(renderComponent(comp), parent, before, root);
    return comp;
  }

  function patch(rec, v, parent, before, root) {
    if (rec.kind === 'text') {
      if (rec.dom.nodeValue !== String(v)) rec.dom.nodeValue = String(v);
    } else if (rec.kind === 'host') {
      rec.children = reconcile(rec.children, childList(v.props.children), rec.dom, root);
      setProps(rec.dom, rec.props, v.props);
      if (rec.props.ref !== v.props.ref) {
        setRef(rec.props.ref, null);
        setRef(v.props.ref, rec.dom);
      }
      rec.props = v.props;
    } else if (rec.kind === 'comp') {
      rec.props = v.props;
      rec.child = place(rec.child, renderComponent(rec), parent, before, root);
    }
    return rec;
  }

  function place(old, v, parent, before, root) {
    if (old && same(old, v)) return patch(old, v, parent, before, root);
    var anchor = (old && domNodes(old)[0]) || before;
    var rec = mount(v, parent, anchor, root);
    if (old) unmount(old, true);
    return rec;
  }

  function reconcile(records, list, parent, root) {
    for (var i = list.length; i < records.length; i++) unmount(records[i], true);
    var out = new Array(list.length);
    for (i = list.length - 1; i >= 0; i--) {
      var before = null;
      for (var j = i + 1; j < out.length && !before; j++) before = domNodes(out[j])[0] || null;
      out[i] = place(records[i], list[i], parent, before, root);
    }
    return out;
  }

  function unmount(rec, removeDom) {
    if (rec.kind === 'comp') {
      rec.alive = false;
      rec.hooks.forEach(function (hook) {
        if (hook && typeof hook.cleanup === 'function') {
          var f = hook.cleanup;
          hook.cleanup = null;
          f();
        }
      });
      unmount(rec.child, removeDom);
    } else if (rec.kind === 'host') {
      rec.children.forEach(function (c) { unmount(c, false); });
      setRef(rec.props.ref, null);
      if (removeDom) rec.dom.remove();
    } else if (rec.kind === 'text' && removeDom) {
      rec.dom.remove();
    }
  }

  // ------------------------------------------------------------ roots
  function runEffects(root) {
    var pending = root.pending;
    root.pending = [];
    pending.forEach(function (p) {
      if (!p.rec.alive) return;
      if (typeof p.hook.cleanup === 'function') p.hook.cleanup();
      var cleanup = p.fn();
      p.hook.cleanup = typeof cleanup === 'function' ? cleanup : null;
    });
  }

  function renderRoot(root) {
    root.dirty = false;
    root.records = reconcile(root.records, [root.vnode], root.container, root);
    runEffects(root);
  }

  function schedule(root) {
    if (root.dirty || root.unmounted) return;
    root.dirty = true;
    Promise.resolve().then(function () {
      if (root.dirty && !root.unmounted) renderRoot(root);
    });
  }

  function createRoot(container) {
    var root = { container: container, records: [], pending: [], vnode: null, dirty: false, unmounted: false };
    return {
      render: function (vnode) {
        root.vnode = vnode;
        renderRoot(root);
      },
      unmount: function () {
        root.unmounted = true;
        root.records.forEach(function (r) { unmount(r, true); });
        root.records = [];
      },
    };
  }

  var React = { createElement: createElement, useState: useState, useEffect: useEffect, useRef: useRef, standin: true };
  var ReactDOM = { createRoot: createRoot };
  define('react', [], function () { return React; });
  define('react-dom', [], function () { return ReactDOM; });
})();

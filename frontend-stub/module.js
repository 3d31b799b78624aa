// The Grafana side of the app plugin: an AMD module (no build step) that Grafana loads as the plugin's module.js,
// supplying react, @grafana/data, @grafana/runtime and @grafana/ui as external modules. It exports `plugin`, an
// AppPlugin with
//   - the root page (/a/flamegraphai-explain-app/...): the same flame graph widget as the local page (widget.js),
//     mounted by a thin React wrapper, with file pickers to open a profile or a diff of two;
//   - a configuration page (LLM and Pyroscope settings), saved to Grafana's /api/plugins/<id>/settings.
//
// The widget's files are ES modules: they are loaded with a dynamic import() of `<meta.baseUrl>/widget.js`
// (Grafana passes the plugin's base URL, e.g. public/plugins/flamegraphai-explain-app, in meta.baseUrl; a relative
// one is taken below config.appSubUrl). Backend calls go through getBackendSrv().fetch to the plugin's resource
// routes, /api/plugins/flamegraphai-explain-app/resources/<route>, the same URLs as on the local host.
//
// React is used through a small subset only: createElement, useState, useEffect and useRef (no JSX, no context,
// no class components), so the browser tests can run this file against a small React stand-in as well as React.
define(['react', '@grafana/data', '@grafana/runtime', '@grafana/ui'], function (ReactModule, grafanaData, runtime, ui) {
  'use strict';

  var React = ReactModule && ReactModule.createElement ? ReactModule : ReactModule && ReactModule['default'];
  var h = React.createElement;
  var useState = React.useState;
  var useEffect = React.useEffect;
  var useRef = React.useRef;

  var PLUGIN_ID = 'flamegraphai-explain-app';
  var RESOURCES = '/api/plugins/' + PLUGIN_ID + '/resources';
  var SETTINGS = '/api/plugins/' + PLUGIN_ID + '/settings';
  var PAGE_STYLES = ['styles.css', 'widget-light.css', 'grafana.css'];
  var CONFIG_STYLES = ['grafana.css'];

  // ---------------------------------------------------------------- backend calls
  /** getBackendSrv().fetch answers an Observable in Grafana: its last value (as rxjs' lastValueFrom), without
   *  importing rxjs; an object with only toPromise(), or a promise, is accepted as well. */
  function toPromise(result) {
    if (result && typeof result.subscribe === 'function') {
      return new Promise(function (resolve, reject) {
        var last;
        var seen = false;
        result.subscribe({
          next: function (value) {
            last = value;
            seen = true;
          },
          error: reject,
          complete: function () {
            if (seen) resolve(last);
            else reject(new Error('the request completed without an answer'));
          },
        });
      });
    }
    if (result && typeof result.toPromise === 'function') return result.toPromise();
    return Promise.resolve(result);
  }

  function backendFetch(options) {
    // The page shows errors itself: no Grafana toast for them, none for success either.
    return toPromise(runtime.getBackendSrv().fetch(Object.assign({ showErrorAlert: false, showSuccessAlert: false }, options)));
  }

  /** An Error for a failed request: the backend's {error} (or Grafana's {message}) text and the HTTP status. */
  function failure(what, err) {
    var data = err && err.data;
    var why = (data && typeof data.error === 'string' && data.error) ||
      (data && typeof data.message === 'string' && data.message) ||
      (err && err.statusText) || (err && err.message) || String(err);
    var e = new Error(what + ': ' + why + (err && err.status ? ' (HTTP ' + err.status + ')' : ''));
    e.status = err && err.status;
    return e;
  }

  function backendRestarted(res) {
    var header = res && res.headers && typeof res.headers.get === 'function' ? res.headers.get('X-Backend-Restarted') : null;
    if (header && header !== '0' && header.toLowerCase() !== 'false') return true;
    return !!(res && res.data && res.data.backendRestarted === true);
  }

  /** The widget's fetchJSON(route, body): POST to the plugin's resource route, the answer's JSON. */
  function resourceFetcher(onRestart) {
    return function fetchJSON(route, body) {
      return backendFetch({ url: RESOURCES + route, method: 'POST', data: body, headers: { 'Content-Type': 'application/json' } })
        .then(function (res) {
          if (backendRestarted(res)) onRestart();
          if (!res || res.data === null || typeof res.data !== 'object') throw new Error(route + ': the backend answered no JSON');
          return res.data;
        }, function (err) {
          throw failure(route, err);
        });
    };
  }

  // ---------------------------------------------------------------- the plugin's files
  /** A file of the plugin: meta.baseUrl is relative to Grafana's root (public/plugins/<id>) or absolute (a CDN). */
  function assetURL(baseUrl, file) {
    var base = String(baseUrl || 'public/plugins/' + PLUGIN_ID).replace(/\/+$/, '');
    if (!/^[a-z][a-z0-9+.-]*:/i.test(base) && base.charAt(0) !== '/') {
      var sub = (runtime.config && runtime.config.appSubUrl) || '';
      base = sub.replace(/\/+$/, '') + '/' + base;
    }
    return new URL(base + '/' + file, window.location.href).href;
  }

  var widgetModules = {};
  function loadWidget(baseUrl, file) {
    var url = assetURL(baseUrl, file || 'widget.js');
    if (!widgetModules[url]) {
      widgetModules[url] = import(url).catch(function (err) {
        delete widgetModules[url]; // a later mount tries again
        throw new Error('could not load the flame graph widget from ' + url + ': ' + (err && err.message ? err.message : err));
      });
    }
    return widgetModules[url];
  }

  /** The explain panel's request(route, body): one JSON body through getBackendSrv (Grafana's resource API does not
   *  stream), answered {status, body}; an error answer with a JSON body is passed on for the panel to show. */
  function resourceRequest(onRestart) {
    return function request(route, body) {
      return backendFetch({ url: RESOURCES + route, method: 'POST', data: body, headers: { 'Content-Type': 'application/json' } })
        .then(function (res) {
          if (backendRestarted(res)) onRestart();
          return { status: (res && res.status) || 200, body: res ? res.data : null };
        }, function (err) {
          if (err && err.data && typeof err.data === 'object') return { status: err.status || 500, body: err.data };
          throw failure(route, err);
        });
    };
  }

  // Stylesheets are <link>s in the document head, shared by the pages that use them and removed with the last one.
  var stylesheets = {};
  function acquireStylesheets(baseUrl, files) {
    var hrefs = files.map(function (f) {
      return assetURL(baseUrl, f);
    });
    var ready = Promise.all(hrefs.map(function (href) {
      var s = stylesheets[href];
      if (!s) {
        var link = document.createElement('link');
        link.rel = 'stylesheet';
        link.href = href;
        link.setAttribute('data-flamegraphai', '');
        s = stylesheets[href] = { link: link, count: 0 };
        s.loaded = new Promise(function (resolve) {
          link.addEventListener('load', resolve);
          link.addEventListener('error', resolve); // unstyled is better than nothing
        });
        document.head.appendChild(link);
      }
      s.count++;
      return s.loaded;
    }));
    var released = false;
    return {
      ready: ready,
      release: function () {
        if (released) return;
        released = true;
        hrefs.forEach(function (href) {
          var s = stylesheets[href];
          if (s && --s.count === 0) {
            s.link.remove();
            delete stylesheets[href];
          }
        });
      },
    };
  }

  // ---------------------------------------------------------------- theme
  /** 'light' or 'dark', from the theme Grafana passes (useTheme2 follows a live theme change). */
  var useTheme2 = ui && typeof ui.useTheme2 === 'function' ? ui.useTheme2 : function () {
    return runtime.config && runtime.config.theme2;
  };
  function useThemeName() {
    var theme = useTheme2();
    return theme && theme.isDark === false ? 'light' : 'dark';
  }

  function useMergeState(initial) {
    var pair = useState(initial);
    var patch = useRef(null);
    if (!patch.current) {
      patch.current = function (changes) {
        pair[1](function (s) {
          return Object.assign({}, s, typeof changes === 'function' ? changes(s) : changes);
        });
      };
    }
    return [pair[0], patch.current];
  }

  // ---------------------------------------------------------------- the app page
  function readBase64(file) {
    return new Promise(function (resolve, reject) {
      var r = new FileReader();
      r.onerror = function () {
        reject(new Error('could not read ' + file.name));
      };
      r.onload = function () {
        var url = String(r.result);
        resolve(url.slice(url.indexOf(',') + 1));
      };
      r.readAsDataURL(file);
    });
  }

  function openIn(widget, target) {
    if (target.vs) widget.openDiff(target.profile.ref, target.vs.ref, { label: target.profile.label + ' → ' + target.vs.label });
    else widget.openProfile(target.profile.ref, { label: target.profile.label });
  }

  function RootPage(props) {
    var meta = props.meta || {};
    var baseUrl = meta.baseUrl;
    var theme = useThemeName();
    var holder = useRef(null); // the widget's element: React renders it empty and never touches its children
    var panelHolder = useRef(null); // the explain panel's element, likewise
    var widgetRef = useRef(null);
    var panelRef = useRef(null);
    var slots = useRef({ profile: null, vs: null });
    var pair = useMergeState({ phase: 'loading', error: '', restarted: false, profile: '', vs: '', panel: false });
    var state = pair[0];
    var patch = pair[1];

    // Mounts the widget (again when the theme changes: it takes the theme once), reopening what was open.
    useEffect(function () {
      var cancelled = false;
      var widget = null;
      var styles = acquireStylesheets(baseUrl, PAGE_STYLES);
      var onNode = function (ev) {
        var d = ev.detail;
        var s = slots.current;
        if (!panelRef.current || !s.profile || !d || !d.path || !d.path.length) return;
        panelRef.current.start({
          route: '/explain', body: { profile: (s.vs || s.profile).ref, subtree: d.path },
          title: 'Explain this node: ' + d.name, kind: 'explain',
        });
      };
      var element = holder.current;
      Promise.all([loadWidget(baseUrl), loadWidget(baseUrl, 'explain.js'), styles.ready]).then(function (loaded) {
        if (cancelled) return;
        var onRestart = function () {
          patch({ restarted: true });
        };
        widget = loaded[0].mountFlameGraph(holder.current, { fetchJSON: resourceFetcher(onRestart), theme: theme });
        widgetRef.current = widget;
        var w = widget;
        panelRef.current = loaded[1].mountExplainPanel(panelHolder.current, {
          request: resourceRequest(onRestart),
          onSearch: function (name) { w.search(name, true); },
          knownName: function (name) { return w.hasName(name); },
          onOpen: function () { patch({ panel: true }); },
          onClose: function () { patch({ panel: false }); },
        });
        widget.setExplainEnabled(true);
        element.addEventListener('flamegraph:explain-node', onNode);
        patch({ phase: 'ready', error: '', panel: false });
        if (slots.current.profile) openIn(widget, slots.current);
      }).catch(function (err) {
        if (!cancelled) patch({ phase: 'error', error: err && err.message ? err.message : String(err) });
      });
      return function () {
        cancelled = true;
        widgetRef.current = null;
        element.removeEventListener('flamegraph:explain-node', onNode);
        if (panelRef.current) panelRef.current.close();
        panelRef.current = null;
        if (panelHolder.current) panelHolder.current.replaceChildren();
        if (widget) widget.destroy();
        styles.release();
      };
    }, [baseUrl, theme]);

    function openCurrent() {
      if (slots.current.profile && widgetRef.current) openIn(widgetRef.current, slots.current);
    }

    function take(slot) {
      return function (ev) {
        var input = ev.target;
        var file = input.files && input.files[0];
        if (!file) return;
        readBase64(file).then(function (pprof) {
          slots.current = Object.assign({}, slots.current);
          slots.current[slot] = { ref: { pprof: pprof }, label: file.name };
          var names = { error: '' };
          names[slot] = file.name;
          patch(names);
          input.value = ''; // the same file can be chosen again
          openCurrent();
        }, function (err) {
          patch({ error: err.message });
        });
      };
    }

    /** "Explain flame graph" / "Explain diff": what is open, through the plugin's /explain or /explainDiff. */
    function explain() {
      var s = slots.current;
      var w = widgetRef.current;
      if (!panelRef.current || !s.profile) return;
      var st = w && w.state.sampleTypeIndex >= 0 ? { sampleType: w.state.sampleTypeIndex } : {};
      if (s.vs) {
        panelRef.current.start({ route: '/explainDiff', body: Object.assign({ baseline: s.profile.ref, comparison: s.vs.ref }, st), title: 'Explain diff', kind: 'diff' });
      } else {
        panelRef.current.start({ route: '/explain', body: Object.assign({ profile: s.profile.ref }, st), title: 'Explain flame graph', kind: 'explain' });
      }
    }

    function single() {
      slots.current = { profile: slots.current.profile, vs: null };
      patch({ vs: '' });
      openCurrent();
    }

    function fileButton(id, label, name, onChange) {
      return h('div', { className: 'fga-slot' },
        h('label', { className: 'fga-file', htmlFor: id }, label,
          h('input', { id: id, className: 'fga-file-input', type: 'file', onChange: onChange })),
        h('span', { className: 'fga-file-name' }, name || 'none'));
    }

    return h('div', { className: 'fga-page fga-' + theme },
      h('div', { className: 'fga-open' },
        fileButton('fga-file-profile', state.vs ? 'Baseline…' : 'Open a profile…', state.profile, take('profile')),
        fileButton('fga-file-vs', 'Compare with…', state.vs, take('vs')),
        state.vs ? h('button', { type: 'button', className: 'fga-btn', onClick: single }, 'Single profile') : null,
        h('button', { type: 'button', className: 'fga-btn fga-primary fga-explain', disabled: !state.profile || state.phase !== 'ready', onClick: explain },
          state.vs ? 'Explain diff' : 'Explain flame graph'),
        h('span', { className: 'fga-hint' }, 'pprof (.pb.gz), folded stacks, .cpuprofile, speedscope or perf script; read by the plugin backend')),
      state.restarted
        ? h('div', { className: 'fga-notice fga-warning', role: 'status' },
          h('span', null, 'The profile backend restarted. Results shown were computed again; if something looks stale, open the profile again.'),
          h('button', { type: 'button', className: 'fga-btn', onClick: function () { patch({ restarted: false }); } }, 'Dismiss'))
        : null,
      state.error ? h('div', { className: 'fga-notice fga-error', role: 'alert' }, state.error) : null,
      h('div', { className: 'fga-body' + (state.panel ? ' fga-with-panel' : '') },
        h('div', { className: 'fga-widget', ref: holder }),
        h('div', { className: 'fga-ai ai-panel', ref: panelHolder, 'aria-label': 'Flame graph analysis' })));
  }

  // ---------------------------------------------------------------- the configuration page
  // jsonData keys (plain settings) and secureJsonData keys (write-only: Grafana stores them encrypted and only says
  // whether each is set, in secureJsonFields; the backend gets them in pluginContext.appInstanceSettings).
  var LLM_MODES = [
    ['grafana-llm-app', 'Grafana LLM app (through Grafana)'],
    ['openai', 'OpenAI-compatible API'],
  ];
  var TEXT_KEYS = ['llmMode', 'llmURL', 'llmModel', 'llmContextTokens',
    'pyroscopeDatasourceUid', 'grafanaURL', 'pyroscopeURL', 'pyroscopeTenant', 'pyroscopeUser'];
  var SECURE_KEYS = ['llmApiKey', 'pyroscopeToken', 'pyroscopePassword'];
  var URL_KEYS = ['llmURL', 'grafanaURL', 'pyroscopeURL'];

  function formFrom(jsonData) {
    var form = {};
    TEXT_KEYS.forEach(function (k) {
      form[k] = jsonData[k] === undefined || jsonData[k] === null ? '' : String(jsonData[k]);
    });
    if (!form.llmMode) form.llmMode = 'grafana-llm-app';
    return form;
  }

  /** Field errors ({key: message}); empty when the form can be saved. */
  function validate(form) {
    var errors = {};
    URL_KEYS.forEach(function (k) {
      var v = form[k].trim();
      if (v && !/^https?:\/\/[^\s/?#]+[^\s]*$/i.test(v)) errors[k] = 'An http:// or https:// URL.';
    });
    var tokens = form.llmContextTokens.trim();
    if (tokens && (!/^\d+$/.test(tokens) || +tokens < 2048 || +tokens > 2000000)) {
      errors.llmContextTokens = 'A whole number of tokens from 2048 to 2000000 (the answer gets a quarter of it, at most 1024; 512 at 2048).';
    }
    if (form.pyroscopeDatasourceUid.trim() && !form.grafanaURL.trim()) {
      errors.grafanaURL = 'Needed with a data source uid: the backend reaches the data source through Grafana at this URL.';
    }
    return errors;
  }

  /** The body Grafana's settings API takes. Unknown jsonData keys (set by provisioning) are kept; empty fields are
   *  dropped; a secret is sent only when typed, or as "" when reset. */
  function settingsBody(meta, form, secrets, resets, enabled) {
    var jsonData = Object.assign({}, meta.jsonData || {});
    TEXT_KEYS.forEach(function (k) {
      var v = form[k].trim();
      if (!v) delete jsonData[k];
      else jsonData[k] = k === 'llmContextTokens' ? parseInt(v, 10) : v;
    });
    var secureJsonData = {};
    SECURE_KEYS.forEach(function (k) {
      if (secrets[k]) secureJsonData[k] = secrets[k];
      else if (resets[k]) secureJsonData[k] = '';
    });
    return { enabled: enabled, pinned: enabled, jsonData: jsonData, secureJsonData: secureJsonData };
  }

  function ConfigPage(props) {
    var plugin = props.plugin || {};
    var meta = plugin.meta || {};
    var theme = useThemeName();
    var pair = useMergeState(function () {
      return {
        form: formFrom(meta.jsonData || {}), secrets: {}, resets: {}, configured: Object.assign({}, meta.secureJsonFields),
        enabled: !!meta.enabled, errors: {}, saving: false, status: '', statusKind: '',
      };
    });
    var s = pair[0];
    var patch = pair[1];

    useEffect(function () {
      return acquireStylesheets(meta.baseUrl, CONFIG_STYLES).release;
    }, [meta.baseUrl]);

    function setField(key) {
      return function (ev) {
        var value = ev.target.value;
        patch(function (prev) {
          var form = Object.assign({}, prev.form);
          form[key] = value;
          return { form: form };
        });
      };
    }

    function setSecret(key) {
      return function (ev) {
        var value = ev.target.value;
        patch(function (prev) {
          var secrets = Object.assign({}, prev.secrets);
          secrets[key] = value;
          return { secrets: secrets };
        });
      };
    }

    function resetSecret(key) {
      return function () {
        patch(function (prev) {
          var resets = Object.assign({}, prev.resets);
          resets[key] = true;
          return { resets: resets };
        });
      };
    }

    function save(enabled) {
      var errors = validate(s.form);
      if (Object.keys(errors).length) {
        patch({ errors: errors, status: 'Not saved: fix the fields marked below.', statusKind: 'error' });
        return;
      }
      var body = settingsBody(meta, s.form, s.secrets, s.resets, enabled);
      patch({ errors: {}, saving: true, status: 'Saving…', statusKind: '' });
      backendFetch({ url: SETTINGS, method: 'POST', data: body }).then(function () {
        // What Grafana now holds (secureJsonFields only: secret values never come back).
        return backendFetch({ url: SETTINGS, method: 'GET' }).then(function (res) {
          return res && res.data;
        }, function () {
          return null;
        });
      }).then(function (stored) {
        var configured = {};
        if (stored && stored.secureJsonFields) {
          Object.keys(stored.secureJsonFields).forEach(function (k) {
            configured[k] = !!stored.secureJsonFields[k];
          });
        } else {
          configured = Object.assign({}, s.configured);
          Object.keys(body.secureJsonData).forEach(function (k) {
            configured[k] = body.secureJsonData[k] !== '';
          });
        }
        patch({
          saving: false, secrets: {}, resets: {}, configured: configured, enabled: stored ? !!stored.enabled : enabled,
          status: enabled ? 'Settings saved. The backend receives them with every request.' : 'The plugin is disabled.',
          statusKind: 'ok',
        });
      }, function (err) {
        patch({ saving: false, status: failure('Saving the settings', err).message, statusKind: 'error' });
      });
    }

    function field(key, label, description, control) {
      var error = s.errors[key];
      return h('div', { className: 'fga-field' + (error ? ' fga-invalid' : '') },
        h('label', { className: 'fga-label', htmlFor: 'fga-' + key }, label),
        description ? h('div', { className: 'fga-description' }, description) : null,
        control,
        error ? h('div', { className: 'fga-field-error', role: 'alert' }, error) : null);
    }

    function text(key, label, description, placeholder, type) {
      return field(key, label, description, h('input', {
        id: 'fga-' + key, className: 'fga-input', type: type || 'text', value: s.form[key], placeholder: placeholder || '',
        spellCheck: false, autoComplete: 'off', onChange: setField(key),
      }));
    }

    function secret(key, label, description) {
      var isSet = !!s.configured[key] && !s.resets[key];
      var control = isSet
        ? h('div', { className: 'fga-secret' },
          h('input', { id: 'fga-' + key, className: 'fga-input', type: 'text', value: 'configured', disabled: true }),
          h('button', { type: 'button', id: 'fga-reset-' + key, className: 'fga-btn', onClick: resetSecret(key) }, 'Reset'))
        : h('div', { className: 'fga-secret' },
          h('input', {
            id: 'fga-' + key, className: 'fga-input', type: 'password', value: s.secrets[key] || '',
            placeholder: s.resets[key] ? 'removed when you save' : 'not set', autoComplete: 'new-password', onChange: setSecret(key),
          }));
      return field(key, label, description, control);
    }

    var llmApp = s.form.llmMode === 'grafana-llm-app';
    return h('div', { className: 'fga-config fga-' + theme },
      h('h3', { className: 'fga-heading' }, 'LLM'),
      h('p', { className: 'fga-description' },
        'Explanations come from the model configured here; without one (or when it fails) the backend answers with its offline analysis.'),
      field('llmMode', 'Mode', null, h('select', { id: 'fga-llmMode', className: 'fga-input', value: s.form.llmMode, onChange: setField('llmMode') },
        LLM_MODES.map(function (m) {
          return h('option', { key: m[0], value: m[0] }, m[1]);
        }))),
      text('llmURL', llmApp ? 'Grafana URL' : 'API base URL',
        llmApp ? 'Grafana as the backend reaches it; chat goes to the LLM app\'s resource route.' : 'The server\'s base URL; chat goes to <URL>/v1/chat/completions.',
        llmApp ? 'http://localhost:3000' : 'https://api.openai.com'),
      text('llmModel', 'Model', llmApp ? 'base or large' : 'Any model the server offers.', llmApp ? 'base' : 'gpt-4o-mini'),
      text('llmContextTokens', 'Context tokens', 'The model\'s context window; the prompt is cut to fit it.', '8192', 'number'),
      secret('llmApiKey', llmApp ? 'Service account token' : 'API key', 'Stored encrypted by Grafana; never shown again.'),
      h('h3', { className: 'fga-heading' }, 'Pyroscope'),
      h('p', { className: 'fga-description' },
        'Where profiles are read from: a Pyroscope data source through Grafana (uid + Grafana URL + token), or Pyroscope directly (URL, optional basic auth or token).'),
      text('pyroscopeDatasourceUid', 'Data source uid', null, 'pyroscope'),
      text('grafanaURL', 'Grafana URL', 'Used with the data source uid.', 'http://localhost:3000'),
      text('pyroscopeURL', 'Pyroscope URL', 'Used when no data source uid is set.', 'http://localhost:4040'),
      text('pyroscopeTenant', 'Tenant (X-Scope-OrgID)', null, ''),
      text('pyroscopeUser', 'Basic auth user', null, ''),
      secret('pyroscopeToken', 'Token', 'A Grafana service account token (data source) or Pyroscope bearer token.'),
      secret('pyroscopePassword', 'Basic auth password', null),
      h('div', { className: 'fga-actions' },
        h('button', { type: 'button', id: 'fga-save', className: 'fga-btn fga-primary', disabled: s.saving, onClick: function () { save(true); } },
          s.enabled ? 'Save settings' : 'Enable and save'),
        s.enabled ? h('button', { type: 'button', id: 'fga-disable', className: 'fga-btn', disabled: s.saving, onClick: function () { save(false); } }, 'Disable') : null),
      h('div', { className: 'fga-status' + (s.statusKind ? ' fga-status-' + s.statusKind : ''), role: 'status' }, s.status));
  }

  var plugin = new grafanaData.AppPlugin().setRootPage(RootPage).addConfigPage({
    title: 'Configuration',
    icon: 'cog',
    body: ConfigPage,
    id: 'configuration',
  });
  return { plugin: plugin };
});

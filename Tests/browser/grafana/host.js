// The test page's "Grafana": loads React (the stand-in, or React 18's UMD builds with ?react=debian), the stand-ins
// for Grafana's modules, then the plugin's module.js through the AMD loader, as Grafana does: the plugin meta comes
// from GET /api/plugins/<id>/settings (with baseUrl and module), and the page renders
//   ?page=app     the root page (AppRootProps: meta, path, query, onNavChanged, basename)
//   ?page=config  the first config page's body (PluginConfigPageProps: plugin, query)
// window.__grafanaHost = {ready, error, plugin, meta, unmount()} for the tests.
(function () {
  'use strict';
  var PLUGIN_ID = 'flamegraphai-explain-app';
  var query = new URLSearchParams(location.search);
  var page = query.get('page') || 'app';
  var state = (window.__grafanaHost = { ready: false, error: null });
  document.body.classList.add(query.get('theme') === 'light' ? 'theme-light' : 'theme-dark');

  function script(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement('script');
      s.src = src;
      s.onload = resolve;
      s.onerror = function () { reject(new Error('could not load ' + src)); };
      document.head.appendChild(s);
    });
  }

  function fail(err) {
    state.error = String(err && err.message ? err.message : err);
    document.getElementById('grafana-page').textContent = 'host error: ' + state.error;
  }

  var react = query.get('react') === 'debian'
    ? ['/__standin/react-umd/react.development.js', '/__standin/react-umd/react-dom.development.js', 'react-umd-shim.js']
    : ['react-standin.js'];
  var scripts = react.concat(['grafana-standins.js']);
  scripts.reduce(function (p, src) { return p.then(function () { return script(src); }); }, Promise.resolve()).then(function () {
    require(['react', 'react-dom'], function (React, ReactDOM) {
      // Grafana reads the plugin's meta itself (not through the plugin's backendSrv calls).
      return window.fetch('/api/plugins/' + PLUGIN_ID + '/settings').then(function (r) {
        if (!r.ok) throw new Error('GET settings: HTTP ' + r.status);
        return r.json();
      }).then(function (meta) {
        require(['/' + meta.module], function (mod) {
          var plugin = mod.plugin;
          plugin.meta = meta;
          plugin.init(meta);
          var root = ReactDOM.createRoot(document.getElementById('grafana-page'));
          if (page === 'config') {
            var tab = plugin.configPages[0];
            root.render(React.createElement(tab.body, { plugin: plugin, query: { page: tab.id } }));
          } else {
            root.render(React.createElement(plugin.root, {
              meta: meta, path: '/a/' + PLUGIN_ID + '/explain', query: {}, basename: '/a/' + PLUGIN_ID,
              onNavChanged: function () {},
            }));
          }
          state.plugin = plugin;
          state.meta = meta;
          state.unmount = function () { root.unmount(); };
          state.ready = true;
        }, fail);
      });
    }, fail).catch(fail);
  }, fail);
})();

// Stand-ins for the modules Grafana supplies to a plugin's module.js: @grafana/data's AppPlugin, @grafana/runtime's
// config and getBackendSrv(), @grafana/ui's useTheme2. The test page's query string sets them up:
//   theme=dark|light                       config.theme2 (and what useTheme2 returns)
//   fetch=observable|toPromise|promise     what getBackendSrv().fetch returns: an Observable (Grafana's own answer,
//                                          subscribe only), an object with only toPromise(), or a promise
// Every fetch is logged in window.__grafanaStandin.fetches (url, method, showErrorAlert).
(function () {
  'use strict';
  var query = new URLSearchParams(location.search);
  var themeName = query.get('theme') === 'light' ? 'light' : 'dark';
  var shape = query.get('fetch') || 'observable';
  var log = (window.__grafanaStandin = { fetches: [], theme: themeName, fetchShape: shape });

  define('@grafana/data', [], function () {
    function AppPlugin() {
      this.meta = null;
      this.root = null;
      this.configPages = [];
    }
    AppPlugin.prototype.init = function () {};
    AppPlugin.prototype.setRootPage = function (root, rootNav) {
      this.root = root;
      this.rootNav = rootNav;
      return this;
    };
    AppPlugin.prototype.addConfigPage = function (tab) {
      this.configPages.push(tab);
      return this;
    };
    return { AppPlugin: AppPlugin };
  });

  function themeOf(name) {
    return { name: name === 'dark' ? 'Dark' : 'Light', isDark: name === 'dark', isLight: name === 'light' };
  }

  define('@grafana/runtime', [], function () {
    var config = { appSubUrl: '', theme2: themeOf(themeName) };

    // Grafana's BackendSrv.fetch: JSON in (options.data), {data, status, statusText, ok, headers, url, config} out;
    // a non-2xx answer is an error carrying the same fields.
    function request(options) {
      var init = { method: options.method || 'GET', headers: Object.assign({ Accept: 'application/json' }, options.headers), credentials: 'same-origin' };
      if (options.data !== undefined) {
        init.headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(options.data);
      }
      return window.fetch(config.appSubUrl + options.url, init).then(function (res) {
        return res.text().then(function (text) {
          var data = text;
          try {
            data = text ? JSON.parse(text) : null;
          } catch (_) {}
          var answer = { data: data, status: res.status, statusText: res.statusText, ok: res.ok, headers: res.headers, url: res.url, config: options };
          if (!res.ok) throw answer;
          return answer;
        });
      });
    }

    function observable(promise) {
      return {
        subscribe: function (observer) {
          promise.then(function (v) {
            observer.next(v);
            observer.complete();
          }, function (e) {
            observer.error(e);
          });
          return { unsubscribe: function () {} };
        },
      };
    }

    var backendSrv = {
      fetch: function (options) {
        log.fetches.push({ url: options.url, method: options.method || 'GET', showErrorAlert: options.showErrorAlert });
        var p = request(options);
        if (shape === 'promise') return p;
        if (shape === 'toPromise') return { toPromise: function () { return p; } };
        return observable(p);
      },
    };
    return { config: config, getBackendSrv: function () { return backendSrv; } };
  });

  // useTheme2 re-renders its component when the theme changes, as Grafana's ThemeContext does; the tests change it
  // with window.__grafanaStandin.setTheme('light' | 'dark').
  define('@grafana/ui', ['react', '@grafana/runtime'], function (React, runtime) {
    var listeners = [];
    log.setTheme = function (name) {
      runtime.config.theme2 = themeOf(name);
      document.body.classList.remove('theme-dark', 'theme-light');
      document.body.classList.add('theme-' + name);
      listeners.slice().forEach(function (f) { f(runtime.config.theme2); });
    };
    return {
      useTheme2: function () {
        var pair = React.useState(runtime.config.theme2);
        React.useEffect(function () {
          var f = function (theme) { pair[1](theme); };
          listeners.push(f);
          return function () { listeners.splice(listeners.indexOf(f), 1); };
        }, []);
        return pair[0];
      },
    };
  });
})();

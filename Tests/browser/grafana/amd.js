// A minimal AMD loader, enough to load the plugin's module.js the way Grafana's SystemJS does: define(name?, deps,
// factory) and require(deps, callback). Named modules (the stand-ins for Grafana's externals) register when their
// script runs; a dependency that is a path or URL (it starts with /, . or a scheme, or ends in .js) is loaded with a
// <script> element, and its anonymous define() takes the name it was required by (from document.currentScript).
// Other names (react, @grafana/data, ...) wait for the script that defines them. define.amd is left unset, so
// UMD builds (React's) set their globals instead of registering anonymously.
(function () {
  'use strict';
  var modules = {};

  function entry(name) {
    if (!modules[name]) {
      var e = (modules[name] = {});
      e.promise = new Promise(function (resolve, reject) {
        e.resolve = resolve;
        e.reject = reject;
      });
    }
    return modules[name];
  }

  function load(name) {
    var e = entry(name);
    if (!e.requested && /^(\/|\.|[a-z]+:)|\.js$/i.test(name)) {
      e.requested = true;
      var script = document.createElement('script');
      script.src = name;
      script.dataset.amdName = name;
      script.onerror = function () {
        e.reject(new Error('could not load ' + name));
      };
      document.head.appendChild(script);
    }
    return e.promise;
  }

  function require(deps, callback, errback) {
    return Promise.all(deps.map(load)).then(function (values) {
      return callback.apply(null, values);
    }).catch(errback || function (err) {
      console.error('require failed:', err);
    });
  }

  function define(name, deps, factory) {
    if (typeof name !== 'string') {
      factory = deps;
      deps = name;
      name = document.currentScript && document.currentScript.dataset.amdName;
    }
    if (!Array.isArray(deps)) {
      factory = deps;
      deps = [];
    }
    if (!name) throw new Error('define: an anonymous module outside a script the loader loaded');
    var e = entry(name);
    require(deps, function () {
      e.resolve(typeof factory === 'function' ? factory.apply(null, arguments) : factory);
    }, e.reject);
  }

  window.define = define;
  window.require = require;
})();

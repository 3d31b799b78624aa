// Minimal frontend for the app plugin: registers the app and its one page. The real UI comes later;
// the page talks to the backend through the plugin's resource API (/top, /flamegraph, /diff, /explain, /explainDiff, /explain/followUp).
define(['@grafana/data', 'react'], function (grafanaData, React) {
  'use strict';

  function ExplainPage() {
    return React.createElement(
      'div',
      { style: { padding: '16px' } },
      React.createElement('h2', null, 'Flame graph AI'),
      React.createElement('p', null, 'Upload a pprof profile to see its bottleneck, root cause and fix.')
    );
  }

  var plugin = new grafanaData.AppPlugin().setRootPage(ExplainPage);
  return { plugin: plugin };
});

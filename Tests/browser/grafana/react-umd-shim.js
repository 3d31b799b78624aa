// Registers React 18's UMD builds (window.React, window.ReactDOM: Debian's node-react and node-react-dom, served
// by the stand-in host under /__standin/react-umd/) as the AMD modules Grafana supplies.
define('react', [], function () { return window.React; });
define('react-dom', [], function () { return window.ReactDOM; });

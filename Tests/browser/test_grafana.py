"""The Grafana side of the plugin: frontend-stub/module.js loaded as Grafana loads it (an AMD module given react,
@grafana/data, @grafana/runtime and @grafana/ui), in a test page (Tests/browser/grafana/) whose minimal AMD loader and
stand-ins play Grafana, served by the stand-in host, which also plays Grafana's settings API and hands the stored
settings to every later resource request as pluginContext.appInstanceSettings.

React is the stand-in (Tests/browser/grafana/react-standin.js) and, when Debian's node-react and node-react-dom are
installed (or FLAMEGRAPH_AI_REACT_UMD names their umd/ files), React 18 itself; without them those cases are skipped.
Also checked without a browser: plugin.json and the provisioning example.
"""
import json
import os
import secrets
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
import yaml

from conftest import HERE, REPO, SHOTS, resolve

PLUGIN_ID = "flamegraphai-explain-app"
MODULE = os.path.join(REPO, "frontend-stub", "module.js")
PROVISIONING = os.path.join(REPO, "provisioning", "plugins", f"{PLUGIN_ID}.yaml")
JSON_KEYS = ["llmMode", "llmURL", "llmModel", "llmContextTokens",
             "pyroscopeDatasourceUid", "grafanaURL", "pyroscopeURL", "pyroscopeTenant", "pyroscopeUser"]
SECURE_KEYS = ["llmApiKey", "pyroscopeToken", "pyroscopePassword"]
BACKGROUND = {"dark": (24, 27, 31), "light": (255, 255, 255)}  # render.js THEMES[theme].background


# ------------------------------------------------------------------ without a browser
def test_plugin_json_declares_the_app_its_pages_and_dependencies():
    with open(os.path.join(REPO, "plugin.json")) as f:
        m = json.load(f)
    assert m["type"] == "app" and m["id"] == PLUGIN_ID and m["backend"] is True
    assert m["executable"] == "gpx_flamegraph-ai"
    assert os.path.isfile(os.path.join(REPO, "frontend-stub", m["info"]["logos"]["small"]))
    pages = [i for i in m["includes"] if i["type"] == "page"]
    app_page = pages[0]
    assert app_page["path"] == f"/a/{PLUGIN_ID}/explain" and app_page["addToNav"] and app_page["defaultNav"]
    assert app_page["role"] == "Viewer"
    config = [p for p in pages if p["path"].startswith(f"/plugins/{PLUGIN_ID}")]
    assert config and config[0]["role"] == "Admin", "a nav link to the configuration page"
    assert "routes" not in m, "the backend makes its own calls: no Grafana proxy routes"
    deps = m["dependencies"]
    assert deps["grafanaDependency"].startswith(">=")
    assert [p["id"] for p in deps["plugins"]] == ["grafana-llm-app"] and deps["plugins"][0]["type"] == "app"
    # the config page registers with the id and the body that Grafana's plugin page shows
    src = open(MODULE).read()
    assert "new grafanaData.AppPlugin().setRootPage(RootPage).addConfigPage(" in src and "id: 'configuration'" in src


def test_provisioning_example_names_the_plugin_and_its_settings():
    with open(PROVISIONING) as f:
        doc = yaml.safe_load(f)
    assert doc["apiVersion"] == 1
    (app,) = doc["apps"]
    assert app["type"] == PLUGIN_ID and app.get("disabled") is False
    assert set(app["jsonData"]) <= set(JSON_KEYS), set(app["jsonData"]) - set(JSON_KEYS)
    assert {"llmMode", "llmURL"} <= set(app["jsonData"])
    assert set(app["secureJsonData"]) <= set(SECURE_KEYS) and "llmApiKey" in app["secureJsonData"]
    # secrets come from the environment, never from the file
    assert app["secureJsonData"]["llmApiKey"] == "$LLM_API_KEY"
    for v in app["secureJsonData"].values():
        assert isinstance(v, str) and v.startswith("$"), v
    # every key the example sets is one the config page offers
    src = open(MODULE).read()
    for k in list(app["jsonData"]) + list(app["secureJsonData"]):
        assert f"'{k}'" in src, k
    assert os.path.isfile(os.path.join(REPO, "provisioning", "README.md"))


# ------------------------------------------------------------------ the page as Grafana shows it
@pytest.fixture(scope="module")
def grafana(host):
    """The stand-in host's base URL (a stand-in of our own when FLAMEGRAPH_AI_PAGE_URL names another host)."""
    if host["standin"]:
        yield host["base"]
        return
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "standin_host.py"), "--port", "0"], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("URL "), line
    yield line.split(" ", 1)[1].strip().split("/a/")[0]
    proc.terminate()
    proc.wait(timeout=10)


def http(base, path, body=None):
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="GET" if body is None else "POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def react_available(base):
    try:
        with urllib.request.urlopen(base + "/__standin/react-umd/react-dom.development.js", timeout=10) as r:
            return r.status == 200
    except urllib.error.HTTPError:
        return False


class GrafanaPage:
    def __init__(self, driver, base, react):
        self.d = driver
        self.base = base
        self.react = react

    def open(self, page="app", theme="dark", fetch="observable"):
        q = {"page": page, "theme": theme, "fetch": fetch, "react": self.react}
        self.d.get(f"{self.base}/__standin/grafana/index.html?{urlencode(q)}")
        self.wait(lambda d: d.execute_script("const h = window.__grafanaHost; return h && (h.ready || h.error);"), 30,
                  "the test page did not load the plugin")
        error = self.js("return window.__grafanaHost.error")
        assert not error, error
        return self

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def wait(self, predicate, timeout=30, message="timed out"):
        from selenium.webdriver.support.ui import WebDriverWait
        return WebDriverWait(self.d, timeout, poll_frequency=0.05).until(predicate, message)

    def upload(self, input_id, path):
        self.wait(lambda d: d.execute_script("return !!document.querySelector('.fg-widget')"), 30, "the widget did not mount")
        self.d.find_element("id", input_id).send_keys(os.path.abspath(path))

    def wait_drawn(self, label, timeout=60):
        def ok(d):
            s = d.execute_script("""const w = document.querySelector('.fg-widget');
                return w && [w.dataset.state, w.dataset.complete, document.querySelector('.fg-meta').textContent,
                             (document.querySelector('.fg-status') || {}).textContent];""")
            if s and s[0] == "error":
                raise AssertionError(f"the widget shows an error: {s[3]}")
            return s and s[0] == "drawn" and s[1] == "1" and label in s[2]
        self.wait(ok, timeout, f"not drawn: {label}")

    def requests(self):
        return http(self.base, "/__standin/requests")["requests"]

    def console_problems(self):
        out = []
        for e in self.d.get_log("browser"):
            m = e.get("message", "")
            if "createRoot from 'react-dom'" in m:  # React 18's UMD build says so for any createRoot
                continue
            if ("Content Security Policy" in m or "Refused to" in m or "Uncaught" in m or "Warning:" in m
                    or e.get("source") == "javascript"):
                out.append(m)
        return out

    def shot(self, name):
        os.makedirs(SHOTS, exist_ok=True)
        self.d.save_screenshot(os.path.join(SHOTS, name))


@pytest.fixture(params=["standin", "react18"])
def gpage(request, driver, grafana):
    if request.param == "react18" and not react_available(grafana):
        pytest.skip("React 18 UMD builds not installed (Debian's node-react and node-react-dom, or FLAMEGRAPH_AI_REACT_UMD)")
    http(grafana, "/__standin/control", {"resetSettings": True, "clearRequests": True})
    driver.get_log("browser")
    p = GrafanaPage(driver, grafana, "debian" if request.param == "react18" else "standin")
    yield p
    problems = p.console_problems()
    assert not problems, f"console errors: {problems}"


def root_row(g):
    """The root bar's colours across the main canvas (y = 2 CSS px), and the share of theme background pixels in the
    deepest row (the graph narrows downwards, so some background shows there)."""
    return g.js("""
        const c = document.querySelector('.fg-main');
        const k = c.width / c.clientWidth, w = c.clientWidth;
        const ctx = c.getContext('2d');
        const px = (x, y) => Array.from(ctx.getImageData(Math.floor(x * k), Math.floor(y * k), 1, 1).data.slice(0, 3));
        const row = [1, w * 0.25, w * 0.5, w * 0.75, w - 2].map(x => px(x, 2));
        const bottom = ctx.getImageData(0, c.height - Math.ceil(5 * k), c.width, 1).data;
        const bg = arguments[0];
        let n = 0;
        for (let i = 0; i < bottom.length; i += 4) if (Math.abs(bottom[i] - bg[0]) + Math.abs(bottom[i + 1] - bg[1]) + Math.abs(bottom[i + 2] - bg[2]) <= 6) n++;
        return {row, width: w, pageWidth: document.querySelector('.fga-widget').clientWidth, bottomBackground: n / (bottom.length / 4)};""",
                list(BACKGROUND[g.theme]))


def luminance(css):
    nums = [float(x) for x in css[css.index("(") + 1:css.index(")")].split(",")[:3]]
    return 0.2126 * nums[0] + 0.7152 * nums[1] + 0.0722 * nums[2]


# Grafana's fetch answers an Observable; the other shapes are the wrapper's fallbacks, checked with the stand-in only.
@pytest.mark.parametrize("gpage,theme,fetch", [
    ("standin", "dark", "observable"), ("standin", "light", "toPromise"), ("standin", "dark", "promise"),
    ("react18", "dark", "observable"), ("react18", "light", "observable"),
], indirect=["gpage"])
def test_app_page_draws_a_profile_through_grafanas_backend_srv(gpage, theme, fetch):
    e = json.load(open(os.path.join(HERE, "data", "expectations.json")))["single"]
    gpage.theme = theme
    gpage.open("app", theme=theme, fetch=fetch)
    # the widget module came from the plugin's base URL, its stylesheets with it
    links = gpage.js("return [...document.querySelectorAll('link[data-flamegraphai]')].map(l => new URL(l.href).pathname)")
    assert sorted(links) == sorted(f"/public/plugins/{PLUGIN_ID}/{f}" for f in ["styles.css", "widget-light.css", "grafana.css"])
    gpage.upload("fga-file-profile", resolve(e["file"]))
    gpage.wait_drawn(os.path.basename(e["file"]))
    assert gpage.js("return document.querySelector('.fg-widget').classList.contains(arguments[0])", f"fg-theme-{theme}")
    assert gpage.js("return document.querySelector('.fga-page').classList.contains(arguments[0])", f"fga-{theme}")

    # canvas pixels: the root bar is one colour across the whole width, which is the page's width
    r = root_row(gpage)
    assert all(c == r["row"][0] for c in r["row"]), f"the root bar is not one colour across the width: {r['row']}"
    assert max(abs(a - b) for a, b in zip(r["row"][0], BACKGROUND[theme])) > 10, "the root bar is not drawn"
    assert r["width"] >= r["pageWidth"] * 0.5 and r["width"] > 400, r
    assert r["bottomBackground"] > 0.01, f"no {theme} background in the deepest row: {r}"

    # the widget's buttons follow the theme (widget-light.css completes the light one)
    btn = gpage.js("const s = getComputedStyle(document.querySelector('.fg-reset')); return [s.backgroundColor, s.color];")
    if theme == "light":
        assert luminance(btn[0]) > 200 and luminance(btn[1]) < 100, btn
    else:
        assert luminance(btn[0]) < 60 and luminance(btn[1]) > 150, btn

    # the backend was called through getBackendSrv().fetch at the resource URLs, as JSON POSTs
    fetches = gpage.js("return window.__grafanaStandin.fetches")
    urls = [f["url"] for f in fetches]
    for route in ("flamegraph", "top", "info"):
        assert f"/api/plugins/{PLUGIN_ID}/resources/{route}" in urls, urls
    assert all(f["method"] == "POST" and f["showErrorAlert"] is False for f in fetches), fetches
    posts = [x for x in gpage.requests() if x["path"].startswith(f"/api/plugins/{PLUGIN_ID}/resources/")]
    assert {x["path"].rsplit("/", 1)[1] for x in posts} == {"flamegraph", "top", "info"}
    assert all(x["contentType"].startswith("application/json") and "profile" in x["bodyKeys"] for x in posts), posts
    gpage.shot(f"grafana-app-{theme}-{fetch}-{gpage.react}.png")


def test_app_page_follows_a_theme_change_and_cleans_up(gpage):
    e = json.load(open(os.path.join(HERE, "data", "expectations.json")))["single"]
    gpage.theme = "dark"
    gpage.open("app")
    gpage.upload("fga-file-profile", resolve(e["file"]))
    gpage.wait_drawn(os.path.basename(e["file"]))
    # Grafana switches to the light theme: the widget is mounted again in it and shows the same profile
    gpage.js("window.__grafanaStandin.setTheme('light')")
    gpage.theme = "light"
    gpage.wait(lambda d: d.execute_script("return !!document.querySelector('.fg-widget.fg-theme-light')"), 20)
    gpage.wait_drawn(os.path.basename(e["file"]))
    assert gpage.js("return document.querySelectorAll('.fg-widget').length") == 1
    r = root_row(gpage)
    assert all(c == r["row"][0] for c in r["row"]) and r["bottomBackground"] > 0.01, r
    # leaving the page removes the widget and the stylesheets it added
    gpage.js("window.__grafanaHost.unmount()")
    assert gpage.js("return document.querySelectorAll('link[data-flamegraphai]').length + document.querySelectorAll('.fg-widget').length") == 0


def test_app_page_opens_a_diff_and_shows_backend_errors(gpage):
    e = json.load(open(os.path.join(HERE, "data", "expectations.json")))["diff"]
    gpage.theme = "dark"
    gpage.open("app")
    gpage.upload("fga-file-profile", resolve(e["baseline"]))
    gpage.wait_drawn(os.path.basename(e["baseline"]))
    gpage.upload("fga-file-vs", resolve(e["comparison"]))
    gpage.wait_drawn(f"{os.path.basename(e['baseline'])} → {os.path.basename(e['comparison'])}")
    assert any(x["path"].endswith("/resources/diff") for x in gpage.requests())
    assert gpage.js("return !document.querySelector('.fg-legend').hidden"), "the diff legend shows"

    # back to one profile
    gpage.js("[...document.querySelectorAll('.fga-btn')].find(b => b.textContent === 'Single profile').click()")
    gpage.wait_drawn(os.path.basename(e["baseline"]))
    assert "→" not in gpage.js("return document.querySelector('.fg-meta').textContent")

    # a profile the backend refuses: its {error} text and the status reach the page (no Grafana toast)
    with tempfile.NamedTemporaryFile(suffix=".pb.gz", delete=False) as f:
        f.write(b"not a profile " + secrets.token_bytes(8))
    try:
        gpage.upload("fga-file-profile", f.name)
        gpage.wait(lambda d: d.execute_script("return document.querySelector('.fg-widget').dataset.state") == "error", 30)
    finally:
        os.unlink(f.name)
    status = gpage.js("return document.querySelector('.fg-status').textContent")
    assert "/flamegraph" in status and "HTTP 400" in status and "no fixture" in status, status


def fill(g, key, value):
    el = g.d.find_element("id", f"fga-{key}")
    el.clear()
    el.send_keys(value)


def saved_status(g):
    g.wait(lambda d: d.execute_script("return document.querySelector('.fga-status').classList.contains('fga-status-ok')"), 20,
           "no 'saved' status")
    return g.js("return document.querySelector('.fga-status').textContent")


def test_config_page_saves_settings_the_next_request_carries(gpage):
    gpage.theme = "dark"
    e = json.load(open(os.path.join(HERE, "data", "expectations.json")))["single"]
    key = "sk-test-" + secrets.token_hex(12)
    token = "glsa_" + secrets.token_hex(10)
    gpage.open("config")
    assert gpage.js("return document.getElementById('fga-save').textContent") == "Enable and save"
    from selenium.webdriver.support.ui import Select
    Select(gpage.d.find_element("id", "fga-llmMode")).select_by_value("openai")
    values = {"llmURL": "http://127.0.0.1:9/", "llmModel": "gpt-4o-mini", "llmContextTokens": "16384",
              "pyroscopeDatasourceUid": "pyro-uid", "grafanaURL": "http://127.0.0.1:3000", "pyroscopeTenant": "team-a"}
    for k, v in values.items():
        fill(gpage, k, v)
    fill(gpage, "llmApiKey", key)
    fill(gpage, "pyroscopeToken", token)
    gpage.d.find_element("id", "fga-save").click()
    saved_status(gpage)

    # what was posted: {enabled, pinned, jsonData, secureJsonData} through getBackendSrv
    posted = [x for x in gpage.requests() if x["path"] == f"/api/plugins/{PLUGIN_ID}/settings" and x["method"] == "POST"]
    assert len(posted) == 1 and posted[0]["bodyKeys"] == ["enabled", "jsonData", "pinned", "secureJsonData"]
    s = posted[0]["settings"]
    expected = dict(values, llmMode="openai", llmContextTokens=16384)
    assert s["enabled"] is True and s["pinned"] is True and s["jsonData"] == expected
    assert s["secureJsonKeys"] == ["llmApiKey", "pyroscopeToken"]
    assert any(f["url"] == f"/api/plugins/{PLUGIN_ID}/settings" and f["method"] == "POST"
               for f in gpage.js("return window.__grafanaStandin.fetches"))

    # the secrets are never echoed into the page: "configured" with a Reset button instead
    def secrets_hidden():
        html = gpage.js("return document.documentElement.outerHTML + [...document.querySelectorAll('input')].map(i => i.value).join(' ')")
        assert key not in html and token not in html
    for k in ("llmApiKey", "pyroscopeToken"):
        assert gpage.js("return document.getElementById(arguments[0]).value", f"fga-{k}") == "configured"
        assert gpage.js("return !!document.getElementById(arguments[0])", f"fga-reset-{k}")
    assert gpage.js("return document.getElementById('fga-pyroscopePassword').value") == ""
    secrets_hidden()
    gpage.shot(f"grafana-config-{gpage.react}.png")
    meta = http(gpage.base, f"/api/plugins/{PLUGIN_ID}/settings")
    assert meta["secureJsonFields"] == {"llmApiKey": True, "pyroscopeToken": True} and key not in json.dumps(meta)

    # a new visit shows what Grafana holds, still without the secret
    gpage.open("config")
    assert gpage.js("return document.getElementById('fga-llmURL').value") == values["llmURL"]
    assert gpage.js("return document.getElementById('fga-llmMode').value") == "openai"
    assert gpage.js("return document.getElementById('fga-llmApiKey').value") == "configured"
    assert gpage.js("return document.getElementById('fga-save').textContent") == "Save settings"
    secrets_hidden()

    # the next resource request carries them in pluginContext.appInstanceSettings
    http(gpage.base, "/__standin/control", {"clearRequests": True})
    gpage.open("app")
    gpage.upload("fga-file-profile", resolve(e["file"]))
    gpage.wait_drawn(os.path.basename(e["file"]))
    first = [x for x in gpage.requests() if "/resources/" in x["path"]][0]
    ctx = first["pluginContext"]
    assert ctx["pluginId"] == PLUGIN_ID
    assert ctx["appInstanceSettings"]["jsonData"] == expected
    assert ctx["appInstanceSettings"]["decryptedSecureJsonData"] == {"llmApiKey": key, "pyroscopeToken": token}
    secrets_hidden()

    # Reset removes the key: "" is sent for it, the token is kept, and the next request carries no key
    gpage.open("config")
    gpage.d.find_element("id", "fga-reset-llmApiKey").click()
    assert gpage.js("return document.getElementById('fga-llmApiKey').type") == "password"
    gpage.d.find_element("id", "fga-save").click()
    saved_status(gpage)
    assert gpage.js("return document.getElementById('fga-llmApiKey').value") == ""
    assert gpage.js("return document.getElementById('fga-pyroscopeToken').value") == "configured"
    s = [x for x in gpage.requests() if x.get("settings")][-1]["settings"]
    assert s["secureJsonKeys"] == ["llmApiKey"]
    http(gpage.base, "/__standin/control", {"clearRequests": True})
    gpage.open("app")
    gpage.upload("fga-file-profile", resolve(e["file"]))
    gpage.wait_drawn(os.path.basename(e["file"]))
    ctx = [x for x in gpage.requests() if "/resources/" in x["path"]][0]["pluginContext"]
    assert ctx["appInstanceSettings"]["decryptedSecureJsonData"] == {"llmApiKey": "", "pyroscopeToken": token}


def test_config_page_refuses_invalid_settings(gpage):
    gpage.theme = "light"
    gpage.open("config", theme="light")
    assert gpage.js("return document.querySelector('.fga-config').classList.contains('fga-light')")
    fill(gpage, "llmURL", "javascript:alert(1)")
    fill(gpage, "llmContextTokens", "100")
    fill(gpage, "pyroscopeDatasourceUid", "pyro-uid")
    gpage.d.find_element("id", "fga-save").click()
    gpage.wait(lambda d: d.execute_script("return document.querySelectorAll('.fga-field-error').length") == 3, 10)
    invalid = gpage.js("return [...document.querySelectorAll('.fga-invalid input')].map(i => i.id)")
    assert sorted(invalid) == ["fga-grafanaURL", "fga-llmContextTokens", "fga-llmURL"]
    assert "Not saved" in gpage.js("return document.querySelector('.fga-status').textContent")
    assert not [x for x in gpage.requests() if x["path"].endswith("/settings")], "nothing was posted"
    # fixed, it saves
    fill(gpage, "llmURL", "https://llm.example.test")
    fill(gpage, "llmContextTokens", "8192")
    fill(gpage, "grafanaURL", "https://grafana.example.test")
    gpage.d.find_element("id", "fga-save").click()
    saved_status(gpage)
    assert not gpage.js("return document.querySelectorAll('.fga-field-error').length")
    gpage.shot(f"grafana-config-light-{gpage.react}.png")


@pytest.fixture(scope="module")
def grafana_backend():
    """A stand-in Grafana whose resource routes reach a real `flamegraph-ai serve` (no LLM: offline answers)."""
    binary = os.environ.get("FLAMEGRAPH_AI_BIN") or os.path.join(REPO, ".build", "debug", "flamegraph-ai")
    binary = binary if os.path.isabs(binary) else os.path.join(REPO, binary)
    assert os.path.exists(binary), f"{binary} is missing: build first"
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "standin_host.py"), "--port", "0", "--backend", binary],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("URL "), line
    yield line.split(" ", 1)[1].strip().split("/a/")[0]
    proc.terminate()
    proc.wait(timeout=10)


def test_app_page_explains_through_the_resource_api(driver, grafana_backend):
    """The explain panel in Grafana: one JSON body from the resource API (no streaming there), the three sections
    beside the graph, a verified name searching the graph."""
    e = json.load(open(os.path.join(HERE, "data", "expectations.json")))["single"]
    driver.get_log("browser")
    g = GrafanaPage(driver, grafana_backend, "standin")
    g.open("app")
    button = lambda: g.d.find_element("css selector", ".fga-explain")
    assert button().get_attribute("disabled") and button().text == "Explain flame graph"
    g.upload("fga-file-profile", resolve(e["file"]))
    g.wait_drawn(os.path.basename(e["file"]))
    g.wait(lambda d: not button().get_attribute("disabled"), 10, "explain stays disabled")
    button().click()
    done = "const t = document.querySelector('.ai-turn'); return t && t.dataset.state"
    g.wait(lambda d: g.js(done) == "done", 60, f"no answer: {g.js(done)}")
    titles = g.js("return [...document.querySelectorAll('.ai-section-title')].map(t => t.firstChild.textContent)")
    assert titles == ["Performance Bottleneck", "Root Cause", "Recommended Fix"], titles
    assert g.js("return document.querySelector('.ai-source').dataset.source") == "offline"
    assert g.js("return document.querySelector('.fga-body').classList.contains('fga-with-panel')")
    fetched = [f["url"] for f in g.js("return window.__grafanaStandin.fetches")]
    assert f"/api/plugins/{PLUGIN_ID}/resources/explain" in fetched, fetched
    name = g.js("return document.querySelector('button.ai-verified').dataset.name")
    g.d.find_element("css selector", "button.ai-verified").click()
    g.wait(lambda d: g.js("return document.querySelector('.fg-search').value") == name, 5, "no search")
    g.shot("grafana-explain.png")
    problems = g.console_problems()
    assert not problems, problems

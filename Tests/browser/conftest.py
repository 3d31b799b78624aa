"""Fixtures for the browser tests: the host under test (the stand-in unless FLAMEGRAPH_AI_PAGE_URL is set), one
headless Chromium for the whole run, and helpers that read canvas pixels.

Environment:
  FLAMEGRAPH_AI_PAGE_URL      the page to test (e.g. http://127.0.0.1:3000/a/flamegraphai-explain-app/?token=...);
                              unset: the stand-in host is started on a free port
  FLAMEGRAPH_AI_STANDIN=1     the URL is the stand-in host (its /__standin controls may be used)
  FLAMEGRAPH_AI_REAL_HOST=1   the URL is `flamegraph-ai dev` (Tests/browser/run --real-host); FLAMEGRAPH_AI_HOST_PID is
                              its process id (its `serve` child is killed in a test), FLAMEGRAPH_AI_BIN its executable
  FLAMEGRAPH_AI_CHROME_FLAGS  extra Chromium flags, space-separated
  FLAMEGRAPH_AI_EXPECTATIONS  the data expectations (default Tests/browser/data/expectations.json)
  FLAMEGRAPH_AI_SHARED        where shared/ is (for the 1M-sample profile; default /work/shared or ../shared)
  FLAMEGRAPH_AI_SCREENSHOTS   where screenshots go (default .build/screenshots)
"""
import json
import os
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit, parse_qsl, urlencode

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
EXTRA_FLAGS = [f for f in os.environ.get("FLAMEGRAPH_AI_CHROME_FLAGS", "").split() if f]
SHOTS = os.environ.get("FLAMEGRAPH_AI_SCREENSHOTS", os.path.join(REPO, ".build", "screenshots"))


def pytest_configure(config):
    config.addinivalue_line("markers", "bench: a benchmark (scripts/bench-page), deselected from the test run")
    config.addinivalue_line(
        "markers", "standin: needs the stand-in host's test controls; deselected on the real host, run on their own by scripts/test"
    )


def pytest_report_header(config):
    return f"page: {os.environ.get('FLAMEGRAPH_AI_PAGE_URL') or 'stand-in host (Tests/browser/standin_host.py)'}"


@pytest.fixture(scope="session")
def expect():
    path = os.environ.get("FLAMEGRAPH_AI_EXPECTATIONS", os.path.join(HERE, "data", "expectations.json"))
    with open(path) as f:
        return json.load(f)


def resolve(rel):
    """A profile path from the expectations: repo-relative, or '@shared/...' inside shared/."""
    if not rel.startswith("@shared/"):
        return os.path.join(REPO, rel)
    candidates = [os.environ.get("FLAMEGRAPH_AI_SHARED"), "/work/shared", os.path.join(REPO, "..", "shared")]
    for c in candidates:
        if c and os.path.exists(os.path.join(c, rel[len("@shared/"):])):
            return os.path.realpath(os.path.join(c, rel[len("@shared/"):]))
    raise FileNotFoundError(f"{rel}: set FLAMEGRAPH_AI_SHARED to the shared/ folder")


@pytest.fixture(scope="session")
def host():
    """{url, standin: bool, base: scheme://host:port}."""
    url = os.environ.get("FLAMEGRAPH_AI_PAGE_URL")
    proc = None
    if not url:
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, "standin_host.py"), "--port", "0"],
                                stdout=subprocess.PIPE, text=True)
        line = proc.stdout.readline()
        if not line.startswith("URL "):
            proc.kill()
            raise RuntimeError(f"stand-in host did not start: {line!r}")
        url = line.split(" ", 1)[1].strip()
    parts = urlsplit(url)
    standin = proc is not None or os.environ.get("FLAMEGRAPH_AI_STANDIN") == "1"
    real = os.environ.get("FLAMEGRAPH_AI_REAL_HOST") == "1"
    pid = int(os.environ["FLAMEGRAPH_AI_HOST_PID"]) if real and os.environ.get("FLAMEGRAPH_AI_HOST_PID") else None
    yield {"url": url, "standin": standin, "real": real, "pid": pid, "base": f"{parts.scheme}://{parts.netloc}",
           "port": parts.port, "token": dict(parse_qsl(parts.query)).get("token")}
    if proc:
        proc.terminate()
        proc.wait(timeout=10)


def make_driver(scale=None, width=1500, height=1000, flags=()):
    o = Options()
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}",
              "--disable-extensions", *EXTRA_FLAGS, *flags, "--disable-background-networking", "--mute-audio", "--hide-scrollbars"]:
        o.add_argument(a)
    if scale:
        o.add_argument(f"--force-device-scale-factor={scale}")
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if os.path.exists("/usr/bin/chromium"):
        o.binary_location = "/usr/bin/chromium"
    service = Service("/usr/bin/chromedriver") if os.path.exists("/usr/bin/chromedriver") else Service()
    d = webdriver.Chrome(service=service, options=o)
    d.set_script_timeout(120)
    return d


@pytest.fixture(scope="session")
def driver():
    d = make_driver()
    yield d
    d.quit()


class Page:
    """The page under test in one browser, with helpers."""

    def __init__(self, driver, host, expect):
        self.d = driver
        self.host = host
        self.expect = expect

    # -------------------------------------------------------------- navigation
    def url(self, **query):
        parts = urlsplit(self.host["url"])
        q = dict(parse_qsl(parts.query))
        q.update({k: v for k, v in query.items() if v is not None})
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(q), ""))

    def open(self, **query):
        self.d.get(self.url(**query))
        self.wait(lambda d: d.execute_script("return !!window.__flamegraph"), 20, "the page did not start")
        self.d.get_log("browser")  # drop what the load printed (checked separately)
        return self

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def wait(self, predicate, timeout=30, message="timed out"):
        return WebDriverWait(self.d, timeout, poll_frequency=0.05).until(predicate, message)

    def state(self):
        return self.js("return document.querySelector('.fg-widget').dataset.state")

    def wait_drawn(self, label=None, timeout=60):
        def ok(d):
            s = d.execute_script("""
                const w = document.querySelector('.fg-widget');
                return [w.dataset.state, document.querySelector('.fg-meta').textContent,
                        (document.querySelector('.fg-status') || {}).textContent, w.dataset.complete];""")
            if s[0] == "error":
                raise AssertionError(f"the page shows an error: {s[2]}")
            return s[0] == "drawn" and s[3] == "1" and (label is None or label in s[1])
        self.wait(ok, timeout, f"not drawn: {label}")

    def upload(self, path, slot="profile", wait=True, timeout=60):
        before = self.js("return (window.__flamegraphStats || {}).redraws || 0")
        self.d.find_element("id", f"file-{slot}").send_keys(os.path.abspath(path))
        if wait:
            self.wait_drawn(os.path.basename(path), timeout)
        return before

    # -------------------------------------------------------------- canvas
    def frames(self, name, pane=None):
        return self.js("return window.__flamegraph.frameRects(arguments[0], arguments[1] || undefined)", name, pane)

    def frame(self, name, pane=None):
        rects = self.frames(name, pane)
        assert rects, f"no visible frame named {name!r}"
        return rects[0]

    def scroll_to(self, rect):
        """Scrolls so that a frame rect is in the viewport; returns the updated rect (same item)."""
        self.js("window.scrollBy(0, arguments[0] - window.innerHeight / 2)", rect["y"])
        return rect

    def pixel(self, canvas_sel, x, y):
        """The RGB at CSS pixel (x, y) of a canvas (relative to the canvas)."""
        return self.js("""
            const c = document.querySelector(arguments[0]);
            const k = c.width / c.clientWidth;
            const p = c.getContext('2d').getImageData(Math.floor(arguments[1] * k), Math.floor(arguments[2] * k), 1, 1).data;
            return [p[0], p[1], p[2]];""", canvas_sel, x, y)

    def pixels_row(self, canvas_sel, y, xs):
        return [self.pixel(canvas_sel, x, y) for x in xs]

    def frame_color(self, rect, canvas_sel=".fg-main"):
        """A frame's fill: sampled at the top of its middle, above any label text."""
        return self.pixel(canvas_sel, rect["canvasX"] + rect["width"] / 2, rect["canvasY"] + 2)

    def canvas_width(self, canvas_sel=".fg-main"):
        return self.js("return document.querySelector(arguments[0]).clientWidth", canvas_sel)

    def stats(self):
        return self.js("return Object.assign({}, window.__flamegraphStats)")

    def shot(self, name):
        os.makedirs(SHOTS, exist_ok=True)
        path = os.path.join(SHOTS, name)
        self.d.save_screenshot(path)
        return path

    def console_problems(self):
        """Console entries that mean a bug: CSP violations and uncaught errors."""
        out = []
        for e in self.d.get_log("browser"):
            m = e.get("message", "")
            if "Content Security Policy" in m or "Refused to" in m or "Uncaught" in m or e.get("source") == "javascript":
                out.append(m)
        return out

    # -------------------------------------------------------------- stand-in controls
    def control(self, **body):
        assert self.host["standin"]
        import urllib.request
        req = urllib.request.Request(self.host["base"] + "/__standin/control", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def requests(self):
        import urllib.request
        with urllib.request.urlopen(self.host["base"] + "/__standin/requests", timeout=10) as r:
            return json.load(r)["requests"]


@pytest.fixture
def page(driver, host, expect, request):
    p = Page(driver, host, expect)
    p.open()
    yield p
    problems = p.console_problems()
    assert not problems, f"console errors: {problems}"


@pytest.fixture
def real_host(host):
    if not host["real"]:
        pytest.skip("needs the real host (Tests/browser/run --real-host)")
    return host


@pytest.fixture
def standin(host):
    if not host["standin"]:
        pytest.skip("needs the stand-in host's test controls (FLAMEGRAPH_AI_PAGE_URL points elsewhere)")
    return host

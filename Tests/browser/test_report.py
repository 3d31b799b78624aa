"""The one-file HTML report (`flamegraph-ai report`) and the interactive SVG, opened from disk (file://) in headless
Chromium: no server, no console errors; the report draws its flame graph and shows the explanation that
`explain FILE` prints; the SVG's search highlights frames; hostile names stay text."""
import os
import re
import subprocess
import tempfile

import pytest

from conftest import REPO, make_driver

BIN = os.environ.get("FLAMEGRAPH_AI_BIN", os.path.join(REPO, ".build", "debug", "flamegraph-ai"))
FIB = os.path.join(REPO, "Tests", "Fixtures", "profiles", "go-cpu-fib.pb.gz")
HOSTILE = os.path.join(REPO, "Tests", "browser", "data", "hostile.pb.gz")


@pytest.fixture(scope="module")
def browser():
    d = make_driver()
    yield d
    d.quit()


def run(*args):
    r = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout


def problems(d):
    return [e["message"] for e in d.get_log("browser") if e.get("level") == "SEVERE" or "Refused" in e.get("message", "")]


def open_report(d, path):
    d.get("file://" + path)
    for _ in range(300):
        if d.execute_script("const w = document.querySelector('[data-state]'); return w && w.dataset.state") == "drawn":
            return
        d.implicitly_wait(0)
        import time
        time.sleep(0.1)
    raise AssertionError("the report did not draw")


def test_report_opens_from_disk_draws_and_explains(browser):
    out = os.path.join(tempfile.mkdtemp(), "report.html")
    run("report", FIB, "-o", out)
    open_report(browser, out)
    # The root bar spans the canvas: its first and last pixel columns on the first row are painted alike.
    left, right = browser.execute_script("""
        const c = document.querySelector('.fg-main'); const g = c.getContext('2d');
        const px = (x) => Array.from(g.getImageData(x, 4, 1, 1).data.slice(0, 3));
        return [px(1), px(c.width - 2)];""")
    assert left == right and left != [0, 0, 0], (left, right)
    # The explanation section is the offline explanation `explain FILE` prints.
    shown = browser.execute_script("return document.getElementById('report-explanation').innerText")
    printed = run("explain", FIB)
    expected = printed.split("\n\n", 1)[1] if "Source:" in printed else printed
    def words(t):
        return re.sub(r"[#`\s]+", " ", t).strip()
    body = expected.split("Source: offline analysis (no LLM configured)", 1)[-1]
    assert words(body) == words(shown)
    assert not problems(browser)


def test_report_keeps_hostile_names_as_text(browser):
    out = os.path.join(tempfile.mkdtemp(), "hostile.html")
    run("report", HOSTILE, "-o", out)
    html = open(out, encoding="utf-8").read()
    assert "<img src=x" not in html and "</script><script>" not in html
    browser.execute_script("window.__xss = undefined")
    open_report(browser, out)
    assert browser.execute_script("return window.__xss") is None
    assert browser.execute_script("return document.querySelectorAll('img').length") == 0
    assert "<img" in browser.execute_script("return document.body.innerText")


def test_svg_opens_without_errors_and_search_highlights(browser):
    out = os.path.join(tempfile.mkdtemp(), "fib.svg")
    with open(out, "wb") as f:
        f.write(subprocess.run([BIN, "flamegraph", FIB, "--format", "svg"], capture_output=True, check=True).stdout)
    browser.get("file://" + out)
    before = browser.execute_script("return document.querySelectorAll('rect').length")
    assert before > 10
    # The SVG's own search (flamegraph.pl style): a function of the profile, its frames recoloured, matched %.
    browser.execute_script("search('big\\\\.addVV')")
    matched = browser.execute_script("return document.getElementById('matched').textContent")
    assert re.search(r"Matched: 9\d\.\d%", matched), matched
    highlighted = browser.execute_script(
        "return Array.from(document.querySelectorAll('rect')).filter(r => r.getAttribute('fill') === 'rgb(230,0,230)')"
        ".map(r => r.parentNode.querySelector('title').textContent)")
    assert highlighted and all("big.addVV" in t for t in highlighted), highlighted
    assert not problems(browser)

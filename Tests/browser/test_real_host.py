"""The page on the real host, `flamegraph-ai dev` (Tests/browser/run --real-host): the printed URL's token becomes
an HttpOnly cookie, an upload is sent once, server-side profiles and the command line's FILE --vs CMP open by
name, a killed backend is restarted and the next action in the page works and says so, a DNS-rebinding page
cannot read an API answer, and the CSP blocks an injected inline script. Skipped on the stand-in host."""
import os
import signal
import subprocess
import time

import pytest
from selenium.webdriver.support.ui import Select

from conftest import REPO, make_driver, resolve, Page
from test_page import open_single, to_top

API = "/api/plugins/flamegraphai-explain-app/resources"


def pick_server_profile(page, name):
    page.wait(lambda d: d.execute_script("return document.querySelectorAll('#server-profile option').length") > 1, 10,
              "the server's profiles were not listed")
    Select(page.d.find_element("id", "server-profile")).select_by_value(name)


def child_pid(host_pid):
    """The host's `serve` child, from /proc (its only child process)."""
    for task in os.listdir(f"/proc/{host_pid}/task"):
        with open(f"/proc/{host_pid}/task/{task}/children") as f:
            kids = f.read().split()
        if kids:
            return int(kids[0])
    return None


def record_fetches(page):
    """Wraps the page's fetch: each call's route, method and body size go to window.__fetches."""
    page.js("""
        window.__fetches = [];
        const orig = window.fetch;
        window.fetch = (url, init = {}) => {
          const b = init.body;
          const size = b == null ? 0 : typeof b === 'string' ? b.length : (b.size ?? b.byteLength ?? -1);
          window.__fetches.push({url: String(url), method: init.method || 'GET', size,
                                 body: typeof b === 'string' ? b.slice(0, 400) : null});
          return orig(url, init);
        };""")


def test_the_printed_url_gives_an_httponly_cookie_and_leaves_the_address_bar(page, real_host):
    assert "token=" not in page.d.current_url, page.d.current_url
    assert page.js("return document.cookie") == "", "the token cookie must be HttpOnly"
    # the API answers the page (the cookie is sent): the server-side profiles are listed
    page.wait(lambda d: d.execute_script("return document.querySelectorAll('#server-profile option').length") > 1, 10)
    # a fresh browser without the token gets nothing
    d = make_driver()
    try:
        d.get(real_host["base"] + "/a/flamegraphai-explain-app/")
        assert "403" in d.find_element("tag name", "body").text
        assert d.execute_script("return !!window.__flamegraph") is False
    finally:
        d.quit()


def test_an_upload_is_sent_once_then_named(page, real_host):
    record_fetches(page)
    e = open_single(page)
    calls = page.js("return window.__fetches")
    size = os.path.getsize(resolve(e["file"]))
    uploads = [c for c in calls if c["url"].startswith(API + "/upload")]
    assert len(uploads) == 1 and uploads[0]["size"] == size, calls
    others = [c for c in calls if c["method"] == "POST" and not c["url"].startswith(API + "/upload")]
    assert {c["url"] for c in others} >= {API + "/flamegraph", API + "/top", API + "/info"}, calls
    for c in others:
        assert c["size"] < 1000 and '"name":"upload-' in c["body"], c
    assert page.js("return document.querySelector('.fg-table tbody tr').dataset.name") == e["topFunction"]


def test_server_side_profiles_open_by_name(page, real_host):
    pick_server_profile(page, "go-cpu-fib.pb.gz")
    page.wait_drawn("go-cpu-fib.pb.gz")
    assert page.js("return document.querySelector('.fg-table tbody tr').dataset.name") == page.expect["single"]["topFunction"]


def test_a_killed_backend_is_restarted_and_the_next_action_works(page, real_host):
    open_single(page)
    pid = child_pid(real_host["pid"])
    assert pid, "no serve child"
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        if open(f"/proc/{pid}/stat").read().split()[2] == "Z":
            break
        time.sleep(0.05)
    # the next action: open a profile from the server
    pick_server_profile(page, "go-cpu-fib.pb.gz")
    page.wait_drawn("go-cpu-fib.pb.gz")
    text = page.js("const b = document.querySelector('[data-banner=restart]'); return b ? b.textContent : null")
    assert text and "restarted" in text
    assert child_pid(real_host["pid"]) not in (None, pid)
    page.js("window.scrollTo(0, 0)")
    page.shot("14-real-host-restarted.png")


def test_dns_rebinding_cannot_read_an_api_answer(real_host):
    port, token = real_host["port"], real_host["token"]
    d = make_driver(flags=["--host-resolver-rules=MAP evil.test 127.0.0.1", "--no-proxy-server"])
    try:
        # The attacker's page, after its name was rebound to 127.0.0.1: same origin as the host as far as the
        # browser knows, but its Host header names evil.test.
        d.get(f"http://evil.test:{port}/a/flamegraphai-explain-app/?token={token}")
        body = d.find_element("tag name", "body").text
        assert body.startswith("403 Forbidden: Host"), body
        got = d.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const out = {};
            (async () => {
              const r = await fetch('/api/plugins/flamegraphai-explain-app/resources/profiles', {credentials: 'include'});
              out.sameOrigin = {status: r.status, text: await r.text()};
              try {
                const r2 = await fetch('http://127.0.0.1:' + arguments[0] + '/api/plugins/flamegraphai-explain-app/resources/profiles',
                                       {credentials: 'include'});
                out.crossOrigin = {status: r2.status, text: await r2.text()};
              } catch (e) {
                out.crossOrigin = {error: String(e)};
              }
              done(out);
            })();""", port)
        assert got["sameOrigin"]["status"] == 403 and "go-cpu-fib" not in got["sameOrigin"]["text"], got
        assert "error" in got["crossOrigin"], f"a cross-origin read succeeded: {got}"
        d.save_screenshot(os.path.join(REPO, ".build", "screenshots", "15-dns-rebinding-refused.png"))
    finally:
        d.quit()


def test_the_csp_blocks_an_injected_inline_script(page, real_host):
    page.js("""
        window.__violations = [];
        document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective));
        const s = document.createElement('script');
        s.textContent = 'window.__inlineRan = true';
        document.body.append(s);
        const img = document.createElement('img');
        img.setAttribute('src', 'x');
        img.setAttribute('onerror', 'window.__inlineRan = true');
        document.body.append(img);""")
    page.wait(lambda d: d.execute_script("return window.__violations.length") >= 1, 5, "no CSP violation reported")
    assert page.js("return window.__inlineRan") is None
    assert any(v.startswith("script-src") for v in page.js("return window.__violations"))
    logs = [e["message"] for e in page.d.get_log("browser")]  # drained here: the fixture checks the rest
    assert any("Content Security Policy" in m and "inline" in m for m in logs), logs


def test_the_command_lines_file_and_vs_open_at_once(driver, host, expect, real_host):
    base = os.path.join(REPO, "Tests", "Fixtures", "interpret")
    proc = subprocess.Popen([os.environ["FLAMEGRAPH_AI_BIN"], "dev", "--port", "0", os.path.join(base, "service-base.pb.gz"),
                             "--vs", os.path.join(base, "service-regex.pb.gz")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and "?token=" in url, url
        p = Page(driver, dict(host, url=url), expect)
        p.open()
        p.wait_drawn("service-base.pb.gz → service-regex.pb.gz")
        assert p.js("return document.querySelector('.fg-widget').classList.contains('fg-diff')")
        to_top(p)
        p.shot("16-dev-file-vs-cmp.png")
        assert not p.console_problems()
    finally:
        proc.terminate()
        proc.wait(timeout=10)

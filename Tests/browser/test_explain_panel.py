"""The "Flame graph analysis" side panel on the real host, `flamegraph-ai dev`, started here twice: once with no
LLM (offline answers) and once against the project's local test LLM server (Tests/LLMGatewayTests/
llm_test_server.py), which streams word by word, stalls, fails and logs what it received on demand. Each host
records its JSON-RPC traffic with the serve child (`--record`), so the tests read what the child was asked and
answered: the streamed answer against the JSON-RPC result, `$/cancelRequest` after Cancel, `subtree` from
"Explain this node". Screenshots go to .build/screenshots/explain-*.png."""
import base64
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.request

import pytest
from selenium.webdriver.common.keys import Keys

from conftest import REPO, Page, resolve
from test_page import pointer, center, menu_items, to_top

TOKEN = "panel-test-key-7f3a"
PROFILE = "go-cpu-fib.pb.gz"
NODE = ["main.calculateFib", "log.Println"]
# Grafana's three sections; two real functions of go-cpu-fib (one by its short name, which the backend writes out
# in full), one made-up function and one made-up share.
ANSWER = """##### Performance Bottleneck
Most of the time goes to `math/big.addVV`, called through `math/big.nat.add` from `fib.Fibonacci` (95.09% of cpu).

##### Root Cause
`main.fastInverseSqrt` recomputes values; `math/big.addVV` is busy at 12.3456% of the samples.

##### Recommended Fix
Cache results in `main.calculateFib` and reuse the big integers.
"""
HOSTILE = """##### Performance Bottleneck
<script>window.pwned = 1</script> and <img src=x onerror="window.pwned = 2"> in `math/big.addVV`.

##### Root Cause
In `math/big.nat.add`: [click me](javascript:window.pwned=3) and [ok link](https://example.com/doc) and ![pic](http://127.0.0.1:1/x.png)
<iframe src="javascript:window.pwned=4"></iframe> <b>bold?</b> <a href="javascript:window.pwned=5">a</a>

##### Recommended Fix
<style>body{display:none}</style><svg onload="window.pwned=6"></svg> **strong** and *em* for `math/big.addVV`.
"""


def binary():
    path = os.environ.get("FLAMEGRAPH_AI_BIN") or os.path.join(REPO, ".build", "debug", "flamegraph-ai")
    path = path if os.path.isabs(path) else os.path.join(REPO, path)
    assert os.path.exists(path), f"{path} is missing: build first (swift build)"
    return path


class AIHost:
    """A `flamegraph-ai dev` of its own, optionally with the test LLM server; both end with the module."""

    def __init__(self, llm):
        self.dir = tempfile.mkdtemp(prefix="fg-panel-")
        self.record = os.path.join(self.dir, "rec")
        self.llm = None
        env = dict(os.environ)
        args = [binary(), "dev", "--port", "0", "--profiles", os.path.join(REPO, "Tests", "Fixtures", "profiles"),
                "--record", self.record]
        if llm:
            self.llm = subprocess.Popen(
                ["python3", os.path.join(REPO, "Tests", "LLMGatewayTests", "llm_test_server.py"), "--token", TOKEN],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            line = self.llm.stdout.readline()
            assert line.startswith("PORT "), line
            self.llm_port = int(line.split()[1])
            args += ["--llm-url", f"http://127.0.0.1:{self.llm_port}", "--llm-mode", "openai", "--llm-model", "panel-model"]
            env["FLAMEGRAPH_AI_LLM_API_KEY"] = TOKEN
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(os.path.join(self.dir, "dev.log"), "w"),
                                     text=True, env=env)
        line = self.proc.stdout.readline()
        assert line.startswith("http://"), f"dev did not start: {line!r} {open(os.path.join(self.dir, 'dev.log')).read()}"
        self.url = line.strip()
        base = self.url.split("/a/", 1)[0]
        self.info = {"url": self.url, "standin": False, "real": True, "pid": self.proc.pid, "base": base,
                     "port": int(base.rsplit(":", 1)[1]), "token": self.url.split("token=", 1)[1]}

    def configure(self, reply=None, fault="", delay_ms=0):
        """The test server's reply and fault for every request from now on."""
        body = json.dumps({"reply": reply, "fault": fault, "delayMs": delay_ms}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.llm_port}/__test/config", data=body, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def llm_log(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.llm_port}/__test/requests", timeout=10) as r:
            return json.load(r)

    def traffic(self):
        """The recorded JSON-RPC requests to the child and the lines it answered."""
        def read(path):
            if not os.path.exists(path):
                return []
            with open(path) as f:
                return [json.loads(l) for l in f if l.strip()]
        return read(self.record + ".requests.jsonl"), read(self.record + ".responses.jsonl")

    def resource_calls(self, route):
        """(request id, decoded body) of each callResource to `route`."""
        requests, _ = self.traffic()
        out = []
        for r in requests:
            m = r.get("message", r)
            if m.get("method") == "callResource" and m["params"]["path"] == route.lstrip("/"):
                out.append((m["id"], json.loads(base64.b64decode(m["params"]["body"]) or b"{}")))
        return out

    def resource_result(self, request_id):
        """The decoded body of the child's answer to one callResource."""
        _, responses = self.traffic()
        for r in responses:
            m = r.get("message", r)
            if m.get("id") == request_id and "result" in m:
                return json.loads(base64.b64decode(m["result"]["body"]))
        return None

    def child_pid(self):
        for task in os.listdir(f"/proc/{self.proc.pid}/task"):
            with open(f"/proc/{self.proc.pid}/task/{task}/children") as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        return None

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        if self.llm:
            self.llm.stdin.close()
            self.llm.terminate()
            self.llm.wait(timeout=10)


@pytest.fixture(scope="module")
def llm_host():
    h = AIHost(llm=True)
    yield h
    h.stop()


@pytest.fixture(scope="module")
def offline_host():
    h = AIHost(llm=False)
    yield h
    h.stop()


def open_page(driver, expect, host, **query):
    p = Page(driver, host.info, expect)
    p.open(open=PROFILE, **query)
    p.wait_drawn(PROFILE)
    to_top(p)
    p.wait(lambda d: not d.find_element("id", "explain-button").get_attribute("disabled"), 10, "explain stays disabled")
    return p


@pytest.fixture
def panel_page(driver, expect, llm_host):
    llm_host.configure(reply=ANSWER)
    p = open_page(driver, expect, llm_host)
    yield p
    problems = p.console_problems()
    assert not problems, f"console errors: {problems}"


def turn_state(page, index=-1):
    return page.js("const t = [...document.querySelectorAll('.ai-turn')].at(arguments[0]); return t ? t.dataset.state : null", index)


def wait_turn(page, state, index=-1, timeout=30):
    page.wait(lambda d: turn_state(page, index) == state, timeout, f"turn {index} never reached {state}: {turn_state(page, index)}")


def sections(page):
    return page.js("""return [...document.querySelectorAll('.ai-turn:first-child .ai-section')].map(s => ({
        key: s.dataset.key, from: s.dataset.from, markdown: s.dataset.markdown,
        title: s.querySelector('.ai-section-title').firstChild.textContent, text: s.querySelector('.ai-section-body').textContent}))""")


def explain(page):
    page.d.find_element("id", "explain-button").click()
    page.wait(lambda d: turn_state(page) is not None, 5, "the panel did not open")


def test_without_a_model_the_offline_sections_are_labelled(driver, expect, offline_host):
    page = open_page(driver, expect, offline_host)
    explain(page)
    wait_turn(page, "done")
    got = sections(page)
    assert [s["title"] for s in got] == ["Performance Bottleneck", "Root Cause", "Recommended Fix"]
    assert all(s["from"] == "offline analysis" and s["text"].strip() for s in got), got
    source = page.js("return document.querySelector('.ai-source').textContent")
    assert source.startswith("Offline analysis") and "no LLM is configured" in source, source
    # The panel sits beside the graph, about half the width.
    widths = page.js("return [document.getElementById('flamegraph').clientWidth, document.getElementById('ai-panel').clientWidth]")
    assert 0.8 < widths[1] / widths[0] < 1.25, widths
    # No model, no Retry; follow-ups still open (they answer with the offline analysis and say so).
    assert not page.js("return !!document.querySelector('.ai-retry')")
    call_id, body = offline_host.resource_calls("/explain")[-1]
    assert body.get("stream") is True and body["profile"]["path"] == PROFILE
    assert [s["markdown"] for s in got] == [offline_host.resource_result(call_id)["sections"][k] for k in ("bottleneck", "rootCause", "fix")]
    assert not page.console_problems()


def test_the_answer_streams_in_then_shows_grounded_sections(panel_page, llm_host):
    page = panel_page
    llm_host.configure(reply=ANSWER, delay_ms=80)
    explain(page)
    seen = []
    shot = False
    deadline = time.time() + 30
    while time.time() < deadline:
        state, text, analyzing = page.js("""const t = document.querySelector('.ai-turn');
            return [t.dataset.state, t.querySelector('.ai-answer').textContent, !!t.querySelector('.ai-analyzing')]""")
        if state != "streaming":
            break
        assert analyzing and "Analyzing…" in page.js("return document.querySelector('.ai-analyzing').textContent")
        if text and (not seen or seen[-1] != text):
            seen.append(text)
        if len(seen) == 4 and not shot:
            page.shot("explain-streaming.png")
            shot = True
        time.sleep(0.05)
    # At least three visible steps, each the one before plus more text.
    assert len(seen) >= 3, seen
    assert all(b.startswith(a[: max(0, len(a) - 25)]) for a, b in zip(seen, seen[1:])), seen
    wait_turn(page, "done")
    got = sections(page)
    assert [s["title"] for s in got] == ["Performance Bottleneck", "Root Cause", "Recommended Fix"]
    assert all(s["from"] == "model panel-model" for s in got)
    call_id, body = llm_host.resource_calls("/explain")[-1]
    result = llm_host.resource_result(call_id)
    assert result["source"] == "llm"
    assert [s["markdown"] for s in got] == [result["sections"][k] for k in ("bottleneck", "rootCause", "fix")]
    page.shot("explain-final.png")

    # The made-up function and number are marked, with an explanation on hover.
    fake = page.js("""const e = document.querySelector('.ai-unverified[data-name="main.fastInverseSqrt"]');
        const r = e.getBoundingClientRect(); return [e.title, r.width > 0 && r.height > 0, getComputedStyle(e).borderTopStyle]""")
    assert "Not in the profile" in fake[0] and fake[1] and fake[2] == "dashed", fake
    number = page.js("const e = document.querySelector('.ai-unverified-number'); return [e.textContent, e.title]")
    assert number[0] == "12.3456%" and "Unverified" in number[1], number
    assert "(not in the profile)" not in page.js("return document.querySelector('.ai-answer').textContent")
    page.js("document.querySelector('.ai-unverified').scrollIntoView({block: 'center'})")
    page.shot("explain-unverified.png")
    page.js("document.getElementById('flamegraph').scrollIntoView({block: 'start'})")

    # A verified name is a button: it searches the graph and highlights it.
    names = page.js("return [...document.querySelectorAll('button.ai-verified')].map(b => b.dataset.name)")
    assert "github.com/polarsignals/pprof-example-app-go/fib.Fibonacci" in names and "math/big.addVV" in names, names
    page.d.find_element("css selector", 'button.ai-verified[data-name="math/big.addVV"]').click()
    page.wait(lambda d: page.js("return document.querySelector('.fg-search').value") == "math/big.addVV", 5, "no search")
    matched = page.js("const m = document.querySelector('.fg-matched'); return [m.hidden, m.textContent]")
    assert not matched[0] and matched[1].startswith("matched "), matched
    flags = page.js("""const p = window.__flamegraph; const d = p.state.data; let n = 0;
        for (let i = 0; i < d.n; i++) if (d.names[d.nameId[i]] === 'math/big.addVV') n++; return [n, p.state.search.exact]""")
    assert flags[0] > 0 and flags[1] is True


def test_cancel_during_a_stalled_stream(panel_page, llm_host):
    page = panel_page
    before = llm_host.llm_log()["disconnects"]
    llm_host.configure(reply=ANSWER, fault="stall=4")
    explain(page)
    page.wait(lambda d: len(page.js("return document.querySelector('.ai-answer').textContent")) > 10, 20, "nothing streamed")
    page.d.find_element("css selector", ".ai-cancel").click()
    t0 = time.time()
    wait_turn(page, "cancelled", timeout=1)
    assert time.time() - t0 < 1.0
    assert "cancelled" in page.js("return document.querySelector('.ai-status').textContent").lower()
    call_id, _ = llm_host.resource_calls("/explain")[-1]

    def cancelled(_):
        requests, _ = llm_host.traffic()
        return any((r.get("message", r).get("method") == "$/cancelRequest" and r.get("message", r)["params"]["id"] == call_id)
                   for r in requests)
    page.wait(cancelled, 5, "the child never received $/cancelRequest")
    page.wait(lambda d: llm_host.llm_log()["disconnects"] > before, 5, "the test LLM server still holds the stream")
    # Retry after a cancel runs the same request again.
    llm_host.configure(reply=ANSWER)
    page.d.find_element("css selector", ".ai-retry").click()
    wait_turn(page, "done")
    assert len(sections(page)) == 3


def test_a_follow_up_reaches_the_model_with_the_earlier_turns(panel_page, llm_host):
    page = panel_page
    explain(page)
    wait_turn(page, "done")
    follow = "Cheaper `math/big.addVV`? Reuse the **receiver** of `math/big.nat.add`."
    llm_host.configure(reply=follow)
    box = page.d.find_element("css selector", ".ai-followup-input")
    box.send_keys("Why is addVV so hot?")
    box.send_keys(Keys.ENTER)
    wait_turn(page, "done", index=1)
    last = llm_host.llm_log()["requests"][-1]["messages"]
    roles = [m["role"] for m in last]
    assert roles == ["system", "user", "assistant", "user"], roles
    # The earlier turn is the answer the reader was given: the model's text after grounding (a short name such as
    # `fib.Fibonacci` is written out as the profile names it), so compare section by section, not byte for byte.
    earlier = last[2]["content"]
    assert earlier.startswith("##### Performance Bottleneck") and "##### Root Cause" in earlier, earlier
    assert "Cache results in `main.calculateFib` and reuse the big integers." in earlier, earlier
    assert last[3]["content"] == "Why is addVV so hot?"
    turns = page.js("""return [...document.querySelectorAll('.ai-turn')].map(t => [t.className,
        t.querySelector('.ai-question').textContent, t.querySelector('.ai-answer').textContent])""")
    assert len(turns) == 2 and "ai-turn-followup" in turns[1][0], turns
    assert turns[1][1] == "Why is addVV so hot?" and "Reuse the receiver" in turns[1][2]
    assert page.js("return document.querySelectorAll('.ai-turn-followup button.ai-verified').length") == 2


def test_an_expired_conversation_offers_to_start_again(panel_page, llm_host):
    page = panel_page
    explain(page)
    wait_turn(page, "done")
    # The child forgets its conversations when it dies; the host starts another one for the next request.
    os.kill(llm_host.child_pid(), signal.SIGKILL)
    time.sleep(0.3)
    box = page.d.find_element("css selector", ".ai-followup-input")
    box.send_keys("And now?")
    box.send_keys(Keys.ENTER)
    wait_turn(page, "expired", index=1)
    assert "expired" in page.js("return document.querySelector('.ai-turn-followup .ai-alert').textContent")
    assert page.js("return document.querySelector('.ai-followup').hidden")
    page.d.find_element("css selector", ".ai-restart").click()
    wait_turn(page, "done", index=0)
    assert page.js("return document.querySelectorAll('.ai-turn').length") == 1
    assert not page.js("return document.querySelector('.ai-followup').hidden")


def test_hostile_model_text_renders_inert(panel_page, llm_host):
    page = panel_page
    llm_host.configure(reply=HOSTILE)
    page.js("window.pwned = undefined")
    explain(page)
    wait_turn(page, "done")
    time.sleep(0.3)
    assert page.js("return window.pwned") is None
    found = page.js("""const p = document.getElementById('ai-panel');
        return {tags: [...p.querySelectorAll('script, img, iframe, b, style, svg, object, embed')].map(e => e.tagName),
                hrefs: [...p.querySelectorAll('a')].map(a => a.getAttribute('href')),
                text: p.textContent, visible: getComputedStyle(document.body).display}""")
    assert found["tags"] == [], found["tags"]
    assert found["hrefs"] == ["https://example.com/doc"], found["hrefs"]
    assert found["visible"] != "none"
    for literal in ["<script>window.pwned = 1</script>", '<img src=x onerror="window.pwned = 2">', "javascript:window.pwned=3",
                    "<b>bold?</b>", "![pic](http://127.0.0.1:1/x.png)"]:
        assert literal in found["text"], literal
    assert page.js("return [...document.querySelectorAll('.ai-answer strong, .ai-answer em')].map(e => e.textContent)")[-2:] == ["strong", "em"]


@pytest.mark.parametrize("fault", ["500", "broken-sse"])
def test_a_gateway_failure_gives_the_offline_answer_and_retry_works(panel_page, llm_host, fault):
    page = panel_page
    llm_host.configure(reply=ANSWER, fault=fault)
    explain(page)
    wait_turn(page, "done", timeout=40)
    source = page.js("const s = document.querySelector('.ai-source'); return [s.dataset.source, s.dataset.reason, s.textContent]")
    assert source[0] == "offline" and source[1] and source[1] != "not_configured", source
    assert "the model was not used" in source[2], source
    assert [s["from"] for s in sections(page)] == ["offline analysis"] * 3
    if fault == "500":
        page.shot("explain-offline-reason.png")
    llm_host.configure(reply=ANSWER)
    page.d.find_element("css selector", ".ai-retry").click()
    wait_turn(page, "done", timeout=40)
    assert page.js("return document.querySelector('.ai-source').dataset.source") == "model"
    assert [s["from"] for s in sections(page)] == ["model panel-model"] * 3


def test_explain_this_node_from_the_context_menu(panel_page, llm_host):
    page = panel_page
    rect = page.frame("log.Println")
    x, y = center(rect)
    pointer(page, x, y, "context")
    page.wait(lambda d: ["Explain this node", False] in menu_items(page), 5, f"no enabled item: {menu_items(page)}")
    page.d.find_element("css selector", '.fg-menu-item[data-action="explain"]').click()
    wait_turn(page, "done")
    assert page.js("return document.querySelector('.ai-question').textContent") == "Explain this node: log.Println"
    call_id, body = llm_host.resource_calls("/explain")[-1]
    assert body["subtree"] == NODE, body
    result = llm_host.resource_result(call_id)
    assert result["analysis"]["total"] == 300000000  # log.Println's total, not the profile's
    # The prompt the model saw is the node's: its total, not the profile's 29.74 s.
    prompt = llm_host.llm_log()["requests"][-1]["messages"][1]["content"]
    assert "300000000" in prompt and "29740000000" not in prompt


def test_a_host_that_answers_one_json_body_works_too(panel_page, llm_host):
    """Grafana's resource API answers one JSON body: the page's fetch asks without NDJSON here."""
    page = panel_page
    page.js("""const orig = window.fetch;
        window.fetch = (url, init = {}) => {
          if (init.headers && init.headers.Accept) init.headers.Accept = 'application/json';
          return orig(url, init);
        };""")
    explain(page)
    wait_turn(page, "done")
    assert len(sections(page)) == 3
    _, body = llm_host.resource_calls("/explain")[-1]
    assert "stream" not in body


def test_in_diff_mode_the_button_explains_the_diff(driver, expect, offline_host):
    e = expect["diff"]
    page = Page(driver, offline_host.info, expect)
    page.open()
    page.d.find_element("id", "tab-diff").click()
    page.upload(resolve(e["baseline"]), wait=False)
    page.wait(lambda d: page.js("return document.getElementById('name-profile').textContent") == os.path.basename(e["baseline"]),
              30, "the baseline was not taken")
    page.upload(resolve(e["comparison"]), slot="vs")
    button = page.d.find_element("id", "explain-button")
    page.wait(lambda d: button.text == "Explain diff" and not button.get_attribute("disabled"), 10, f"button: {button.text}")
    button.click()
    wait_turn(page, "done")
    got = sections(page)
    assert [s["title"] for s in got] == ["Performance Change", "Function Impact", "Potential Causes"], got
    call_id, body = offline_host.resource_calls("/explainDiff")[-1]
    result = offline_host.resource_result(call_id)
    assert [s["markdown"] for s in got] == [result["sections"][k] for k in ("performanceChange", "functionImpact", "potentialCauses")]
    assert e["grown"] in page.js("return [...document.querySelectorAll('.ai-verified')].map(b => b.dataset.name)")
    assert not page.console_problems()


def test_the_quality_gates_verdict_labels_each_section(panel_page, llm_host):
    """The backend's answer-quality gate decides, the panel shows it: an answer with only its first section is
    repaired (the model's section keeps the model's name, the two others say "offline repair"), and a looping answer
    that cites nothing is rejected (all three sections are the offline analysis, with the low_quality reason)."""
    page = panel_page
    llm_host.configure(reply="##### Performance Bottleneck\nMost of the time goes to `math/big.addVV`, called through "
                             "`math/big.nat.add` (95.09% of cpu).\n")
    explain(page)
    wait_turn(page, "done")
    assert [s["from"] for s in sections(page)] == ["model panel-model", "offline repair", "offline repair"]
    source = page.js("return document.querySelector('.ai-source').textContent")
    assert "offline repair" in source and "quality:" in source, source
    llm_host.configure(reply="The function is the one that is slow. " * 60)
    explain(page)
    wait_turn(page, "done")
    assert [s["from"] for s in sections(page)] == ["offline analysis"] * 3
    source = page.js("return document.querySelector('.ai-source').textContent")
    assert "did not pass the quality checks" in source, source

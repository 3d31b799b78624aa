"""The flame graph page in a real headless Chromium: what a person sees (canvas pixels, table rows, tooltip and
menu text) checked against data expectations computed from the fixtures (expectations.json).

Run with Tests/browser/run, or: python3 -m pytest Tests/browser (starts the stand-in host itself).
"""
import json
import os
import re
import tempfile
import time

import pytest
from selenium.common.exceptions import UnexpectedAlertPresentException
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from conftest import SHOTS, make_driver, resolve, Page

BACKGROUND = (24, 27, 31)  # render.js THEMES.dark.background
MUTED = (47, 52, 59)  # THEMES.dark.muted: frames a search did not match


# ------------------------------------------------------------------ helpers
def to_top(page):
    page.js("document.getElementById('flamegraph').scrollIntoView({block: 'start'})")


def pointer(page, x, y, action=None):
    ab = ActionBuilder(page.d)
    pa = ab.pointer_action.move_to_location(int(round(x)), int(round(y)))
    if action == "click":
        pa.click()
    elif action == "context":
        pa.context_click()
    ab.perform()


def unhover(page):
    """Moves the pointer off the canvas so that no hover outline covers the pixels read next."""
    before = page.stats()["redraws"]
    pointer(page, 2, 2)
    if page.js("return window.__flamegraph.state.hover.item") >= 0:
        wait_redraw(page, before)


def center(rect):
    return rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] / 2


def is_color(c, target, tol=3):
    return all(abs(a - b) <= tol for a, b in zip(c, target))


def percent_text(share):
    """The page's formatPercent: two decimals, trailing zeros trimmed."""
    s = f"{share * 100:.2f}".rstrip("0").rstrip(".")
    return f"{s}%"


def open_single(page):
    e = page.expect["single"]
    page.upload(resolve(e["file"]))
    to_top(page)
    return e


def wait_redraw(page, before):
    page.wait(lambda d: d.execute_script("return window.__flamegraphStats.redraws") > before, 5, "no redraw")


def menu_items(page):
    return page.js("""return [...document.querySelectorAll('.fg-menu:not([hidden]) .fg-menu-item')]
        .map(b => [b.textContent, b.disabled])""")


def click_menu(page, label):
    page.js("""const b = [...document.querySelectorAll('.fg-menu .fg-menu-item')].find(b => b.textContent === arguments[0]);
        b.click();""", label)


# ------------------------------------------------------------------ single profile
def test_upload_draws_root_across_the_canvas(page):
    e = open_single(page)
    w = page.canvas_width()
    assert abs(w - page.js("return document.querySelector('.fg-canvas-wrap').clientWidth")) <= 1
    root = page.pixels_row(".fg-main", 2, [1, w * 0.25, w * 0.5, w * 0.75, w - 2])
    assert all(c == root[0] for c in root), f"the root bar is not one colour across the width: {root}"
    assert not is_color(root[0], BACKGROUND), "the root bar is not drawn"
    # the first level below the root is drawn too, and nothing past the graph's depth
    assert not is_color(page.pixel(".fg-main", w * 0.5, 22), BACKGROUND)
    assert page.stats()["nodes"] == e["nodes"]
    page.shot("01-single-profile.png")


def test_top_table_lists_the_top_function_first_and_sorts(page):
    e = open_single(page)
    first = page.js("return document.querySelector('.fg-table tbody tr').dataset.name")
    assert first == e["topFunction"]
    heads = page.js("return [...document.querySelectorAll('.fg-table thead th')].map(t => t.textContent.replace(/[▲▼]/g, '').trim())")
    assert heads == ["Symbol", "Self", "Total"]
    page.js("document.querySelector('.fg-table button.sort[data-key=total]').click()")
    page.wait(lambda d: d.execute_script("return document.querySelector('.fg-table tbody tr').dataset.name") == e["topByTotal"], 5,
              "sorting by Total did not put the largest total first")
    assert page.js("return document.querySelectorAll('.fg-table th')[2].getAttribute('aria-sort')") == "descending"


def test_clicking_a_frame_focuses_it_across_the_full_width(page):
    e = open_single(page)
    rect = page.frame(e["focus"])
    assert rect["width"] < page.canvas_width() - 2, "the frame must start narrower than the canvas"
    before = page.stats()["redraws"]
    pointer(page, *center(rect), action="click")
    wait_redraw(page, before)
    assert page.stats()["lastRedrawMs"] <= 16
    unhover(page)
    focused = page.frame(e["focus"])
    w = page.canvas_width()
    assert focused["canvasX"] <= 0.5 and abs(focused["width"] - w) <= 1, focused
    row = page.pixels_row(".fg-main", focused["canvasY"] + 2, [1, w * 0.3, w * 0.6, w - 2])
    assert all(c == row[0] for c in row) and not is_color(row[0], BACKGROUND), row
    pill = page.js("const p = document.querySelector('.fg-focus-pill'); return p.hidden ? null : p.textContent")
    assert pill and pill.startswith(percent_text(e["focusShare"]) + " of total"), pill
    page.shot("02-focused-frame.png")
    # the pill resets the view: the frame is narrow again
    page.js("document.querySelector('.fg-focus-pill').click()")
    assert page.frame(e["focus"])["width"] < w - 2
    assert page.js("return document.querySelector('.fg-focus-pill').hidden")


def test_search_highlights_matches_and_shows_the_matched_share(page):
    e = open_single(page)
    s = e["search"]
    box = page.d.find_element("css selector", ".fg-search")
    box.send_keys(s["query"])
    page.wait(lambda d: d.execute_script("return !document.querySelector('.fg-matched').hidden"), 5, "no matched pill")
    pill = page.js("return document.querySelector('.fg-matched').textContent")
    assert pill == f"matched {percent_text(s['share'])} of total", pill
    for name in s["matchedNames"]:
        rects = page.frames(name)
        if rects and rects[0]["width"] >= 3:
            assert not is_color(page.frame_color(rects[0]), MUTED), f"{name} matches but is muted"
    # a frame that does not match is muted
    other = page.frame(e["topByTotal"])
    assert e["search"]["query"] not in e["topByTotal"]
    assert is_color(page.frame_color(other), MUTED)
    # the table shows only matching functions
    names = page.js("return [...document.querySelectorAll('.fg-table tbody tr')].map(r => r.dataset.name)")
    assert names and all(s["query"].lower() in n.lower() for n in names)
    page.shot("03-search.png")


def test_a_table_row_sets_an_exact_search(page):
    e = open_single(page)
    page.js("document.querySelector('.fg-table tbody tr').click()")
    page.wait(lambda d: d.execute_script("return !document.querySelector('.fg-matched').hidden"), 5)
    assert page.js("return document.querySelector('.fg-search').value") == e["topFunction"]
    pill = page.js("return document.querySelector('.fg-matched').textContent")
    assert pill == f"matched {percent_text(e['topFunctionExactShare'])} of total"
    assert page.js("return document.querySelector('.fg-table tbody tr.selected').dataset.name") == e["topFunction"]


def test_tooltip_shows_values_in_the_profiles_unit(page):
    e = open_single(page)
    root = page.frame("total")
    pointer(page, root["x"] + 40, root["y"] + 10)
    page.wait(lambda d: d.execute_script("return !document.querySelector('.fg-tooltip').hidden"), 5, "no tooltip")
    title = page.js("return document.querySelector('.fg-tip-title').textContent")
    rows = dict(page.js("return [...document.querySelectorAll('.fg-tip-rows tr')].map(r => [r.cells[0].textContent, r.cells[1].textContent])"))
    assert title == "total"
    assert re.fullmatch(r"\d+(\.\d+)? (s|min) \(100%\)", rows["Total"]), rows  # nanoseconds shown as time
    assert "Samples" not in rows
    page.shot("04-tooltip.png")


def test_sample_type_picker_reloads_in_the_other_unit(page):
    e = open_single(page)
    other = e["otherSampleType"]
    Select(page.d.find_element("css selector", ".fg-sample-type")).select_by_value(str(other["index"]))
    page.wait(lambda d: f"{other['type']} ({other['unit']})" in d.execute_script("return document.querySelector('.fg-meta').textContent")
              and d.execute_script("return document.querySelector('.fg-widget').dataset.state") == "drawn", 30)
    to_top(page)
    root = page.frame("total")
    pointer(page, root["x"] + 40, root["y"] + 10)
    page.wait(lambda d: d.execute_script("return !document.querySelector('.fg-tooltip').hidden"), 5)
    rows = dict(page.js("return [...document.querySelectorAll('.fg-tip-rows tr')].map(r => [r.cells[0].textContent, r.cells[1].textContent])"))
    assert rows["Samples"] == f"{other['total']:,}"
    assert rows["Total"] == f"{other['total']:,} (100%)"


def test_bytes_are_shown_as_sizes(page):
    page.upload(resolve(page.expect["bytes"]["file"]))
    to_top(page)
    assert re.search(r"total \d+(\.\d+)? (B|KiB|MiB|GiB|TiB)", page.js("return document.querySelector('.fg-meta').textContent"))
    cell = page.js("return document.querySelector('.fg-table tbody tr td.num').textContent")
    assert re.match(r"\d+(\.\d+)? (B|KiB|MiB|GiB|TiB)", cell), cell


def test_view_switch(page):
    open_single(page)
    seg = lambda v: page.js(f"document.querySelector('.fg-seg[data-view={v}]').click()")
    seg("table")
    assert page.js("return [document.querySelector('.fg-table-wrap').hidden, document.querySelector('.fg-graph').hidden]") == [False, True]
    seg("graph")
    assert page.js("return [document.querySelector('.fg-table-wrap').hidden, document.querySelector('.fg-graph').hidden]") == [True, False]
    w = page.canvas_width()
    assert w > 1300, "the graph takes the full width alone"
    seg("both")
    assert page.js("return [document.querySelector('.fg-table-wrap').hidden, document.querySelector('.fg-graph').hidden]") == [False, False]


# ------------------------------------------------------------------ context menu and sandwich
def test_context_menu_items_copy_and_explain_hook(page):
    e = open_single(page)
    rect = page.frame(e["focus"])
    pointer(page, *center(rect), action="context")
    page.wait(lambda d: d.execute_script("return !document.querySelector('.fg-menu').hidden"), 5, "no context menu")
    # (the page enables "Explain this node": it opens the explain panel, Tests/browser/test_explain_panel.py)
    assert menu_items(page) == [["Focus block", False], ["Sandwich view", False], ["Copy function name", False],
                                ["Explain this node", False]]
    page.shot("05-context-menu.png")
    click_menu(page, "Copy function name")
    assert page.stats()["lastCopied"] == e["focus"]
    assert page.js("return document.querySelector('.fg-menu').hidden")
    # the explain item raises flamegraph:explain-node with the node's name and call path
    page.js("""window.__explained = null; window.__flamegraph.setExplainEnabled(true);
        document.addEventListener('flamegraph:explain-node', ev => { window.__explained = ev.detail; });""")
    pointer(page, *center(rect), action="context")
    page.wait(lambda d: d.execute_script("return !document.querySelector('.fg-menu').hidden"), 5)
    assert menu_items(page)[-1] == ["Explain this node", False]
    click_menu(page, "Explain this node")
    detail = page.js("return window.__explained")
    assert detail and detail["name"] == e["focus"] and detail["total"] > 0 and detail["path"][-1] == e["focus"]
    # the explain panel opened beside the graph (narrowing it); closing it gives the graph its width back
    page.d.find_element("css selector", ".ai-close").click()
    page.wait(lambda d: page.frame(e["focus"])["width"] == rect["width"], 5, "the graph did not get its width back")
    # Focus block from the menu
    pointer(page, *center(rect), action="context")
    page.wait(lambda d: d.execute_script("return !document.querySelector('.fg-menu').hidden"), 5)
    click_menu(page, "Focus block")
    unhover(page)
    assert abs(page.frame(e["focus"])["width"] - page.canvas_width()) <= 1


def test_sandwich_shows_exactly_the_callers_and_callees_of_the_data(page):
    e = open_single(page)
    sw = e["sandwich"]
    rect = page.frame(sw["name"])
    page.scroll_to(rect)
    rect = page.frame(sw["name"])
    pointer(page, *center(rect), action="context")
    page.wait(lambda d: d.execute_script("return !document.querySelector('.fg-menu').hidden"), 5)
    click_menu(page, "Sandwich view")
    page.wait(lambda d: d.execute_script("return !document.querySelector('.fg-sandwich').hidden"), 5, "no sandwich")
    got = page.js("return window.__flamegraph.sandwichLevels()")
    assert got["callers"] == sw["callers"], "callers differ from the data"
    assert got["callees"] == sw["callees"], "callees differ from the data"
    titles = page.js("return [...document.querySelectorAll('.fg-pane-title')].map(t => t.textContent)")
    assert titles == [f"Callers of {sw['name']}", f"Callees of {sw['name']}"]
    # the function spans both panes: bottom row of the callers, top row of the callees
    wc = page.canvas_width(".fg-callers")
    hc = page.js("return document.querySelector('.fg-callers').clientHeight")
    bottom = page.pixels_row(".fg-callers", hc - 18, [2, wc / 2, wc - 3])
    top = page.pixels_row(".fg-callees", 2, [2, wc / 2, wc - 3])
    assert all(c == bottom[0] for c in bottom) and not is_color(bottom[0], BACKGROUND)
    assert all(c == top[0] for c in top) and top[0] == bottom[0]
    assert page.js("return document.querySelector('.fg-sandwich-pill').textContent") == f"Sandwich: {sw['name']} ✕"
    to_top(page)
    page.shot("06-sandwich.png")
    page.js("document.querySelector('.fg-sandwich-pill').click()")
    assert page.js("return document.querySelector('.fg-sandwich').hidden")


# ------------------------------------------------------------------ colours
def test_same_function_same_colour_in_two_profiles_and_packages_differ(page):
    c = page.expect["colors"]
    page.upload(resolve(c["files"][0]))
    to_top(page)
    first = page.frame_color(page.frame(c["sameFunction"]))
    a = page.frame_color(page.frame(c["differentPackages"][0]))
    b = page.frame_color(page.frame(c["differentPackages"][1]))
    assert a != b, f"{c['differentPackages']} are in different packages but share a colour"
    page.open()
    page.upload(resolve(c["files"][1]))
    to_top(page)
    second = page.frame_color(page.frame(c["sameFunction"]))
    assert first == second, f"{c['sameFunction']}: {first} vs {second}"
    assert not is_color(first, BACKGROUND) and not is_color(first, MUTED)


# ------------------------------------------------------------------ diff
def open_diff(page):
    d = page.expect["diff"]
    page.js("document.getElementById('tab-diff').click()")
    page.upload(resolve(d["baseline"]), "profile", wait=False)
    page.wait(lambda x: "service-base" in x.execute_script("return document.getElementById('name-profile').textContent") and
              "reading" not in x.execute_script("return document.getElementById('name-profile').textContent"), 10)
    page.upload(resolve(d["comparison"]), "vs", wait=False)
    page.wait_drawn(os.path.basename(d["comparison"]))
    to_top(page)
    return d


def red_range(c):
    return c[0] >= 150 and c[0] > c[1] + 60 and c[0] > c[2] + 60


def green_range(c):
    return c[1] >= 150 and c[1] > c[0] + 60 and c[1] > c[2] + 60


def test_diff_colours_legend_and_table(page):
    d = open_diff(page)
    assert page.js("return document.querySelector('.fg-widget').classList.contains('fg-diff')")
    grown = page.frame_color(page.frame(d["grown"]))
    shrunk = page.frame_color(page.frame(d["shrunk"]))
    assert d["grownChange"] > 50 and red_range(grown), f"{d['grown']} grew by {d['grownChange']:.0f}% but is {grown}"
    assert d["shrunkChange"] < -50 and green_range(shrunk), f"{d['shrunk']} shrank by {d['shrunkChange']:.0f}% but is {shrunk}"
    legend = page.js("const l = document.querySelector('.fg-legend'); return l.hidden ? null : l.textContent")
    assert legend and "-100% (removed)" in legend and "0%" in legend and "+100% (added)" in legend
    heads = page.js("return [...document.querySelectorAll('.fg-table thead th')].map(t => t.textContent.replace(/[▲▼]/g, '').trim())")
    assert heads == ["Symbol", "Baseline %", "Comparison %", "Diff %"]
    page.d.find_element("css selector", ".fg-search").send_keys(d["newFunction"])
    page.wait(lambda x: x.execute_script("return !document.querySelector('.fg-matched').hidden"), 5)
    badge = page.js("""const r = [...document.querySelectorAll('.fg-table tbody tr')].find(r => r.dataset.name === arguments[0]);
        return r && r.querySelector('.badge') ? r.querySelector('.badge').textContent : null""", d["newFunction"])
    assert badge == "new"
    page.js("document.querySelector('.fg-reset').click()")
    if d.get("removedFunction"):
        page.d.find_element("css selector", ".fg-search").send_keys(d["removedFunction"])
        page.wait(lambda x: x.execute_script("return !document.querySelector('.fg-matched').hidden"), 5)
        badge = page.js("""const r = [...document.querySelectorAll('.fg-table tbody tr')].find(r => r.dataset.name === arguments[0]);
            return r && r.querySelector('.badge') ? r.querySelector('.badge').textContent : null""", d["removedFunction"])
        assert badge == "removed"
        page.js("document.querySelector('.fg-reset').click()")
    # the diff tooltip: baseline / comparison / diff
    pointer(page, *center(page.frame(d["grown"])))
    page.wait(lambda x: x.execute_script("return !document.querySelector('.fg-tooltip').hidden"), 5)
    assert page.js("return [...document.querySelectorAll('.fg-tip-rows thead th')].map(t => t.textContent)") == ["", "Baseline", "Comparison", "Diff"]
    page.shot("07-diff.png")
    pointer(page, 5, 5)
    # colour-blind scheme: growth stays red, shrinking turns blue
    Select(page.d.find_element("css selector", ".fg-color-scheme")).select_by_value("colorBlind")
    grown = page.frame_color(page.frame(d["grown"]))
    shrunk = page.frame_color(page.frame(d["shrunk"]))
    assert red_range(grown), grown
    assert shrunk[2] >= 150 and shrunk[2] > shrunk[0] + 60, f"colour-blind shrink should be blue: {shrunk}"
    page.shot("08-diff-colour-blind.png")


# ------------------------------------------------------------------ hostile names
def test_hostile_names_render_as_text(page):
    h = page.expect["hostile"]
    imgs_before = page.js("return document.images.length")
    try:
        page.upload(resolve(h["file"]))
        to_top(page)
        names = page.js("return [...document.querySelectorAll('.fg-table tbody tr')].map(r => r.cells[0].textContent)")
    except UnexpectedAlertPresentException:
        pytest.fail("a function name ran script (an alert opened)")
    for n in h["names"]:
        assert n in names, f"{n!r} is not shown as text in the table"
    assert page.js("return window.__xss") is None
    assert page.js("return document.images.length") == imgs_before
    assert page.js("return document.querySelectorAll('svg, script:not([src])').length") == 0
    # the tooltip shows the name as text
    rect = page.frame(h["names"][0])
    pointer(page, *center(rect))
    page.wait(lambda d: d.execute_script("return !document.querySelector('.fg-tooltip').hidden"), 5)
    assert page.js("return document.querySelector('.fg-tip-title').textContent") == h["names"][0]
    # the sandwich titles and pill too
    pointer(page, *center(rect), action="context")
    page.wait(lambda d: d.execute_script("return !document.querySelector('.fg-menu').hidden"), 5)
    click_menu(page, "Sandwich view")
    assert page.js("return document.querySelector('.fg-sandwich-pill').textContent") == f"Sandwich: {h['names'][0]} ✕"
    page.shot("09-hostile-names.png")
    assert page.js("return window.__xss") is None
    assert page.js("return document.images.length") == imgs_before


def test_errors_and_file_names_are_text(page):
    bad = os.path.join(tempfile.mkdtemp(), '<img src=x onerror="window.__xss=3">.pb.gz')
    with open(bad, "wb") as f:
        f.write(b"not a profile <script>window.__xss=4</script>")
    page.d.find_element("id", "file-profile").send_keys(bad)
    page.wait(lambda d: d.execute_script("return document.querySelector('.fg-widget').dataset.state") == "error", 30)
    msg = page.js("return document.querySelector('.fg-status').textContent")
    assert "HTTP 4" in msg, msg
    assert page.js("return document.getElementById('name-profile').textContent") == os.path.basename(bad)
    assert page.js("return window.__xss") is None
    assert page.js("return document.querySelectorAll('img').length") == 1  # the logo
    page.shot("10-error.png")


# ------------------------------------------------------------------ performance at 8,192 nodes
# A benchmark, not a test of behaviour: it uploads the shared 1M-sample profile (outside the repository), so it runs
# from scripts/bench-page (pytest -m bench), not in the test run.
@pytest.mark.bench
def test_redraw_within_16ms_at_8192_nodes(page):
    L = page.expect["large"]
    path = resolve(L["file"])
    page.js("performance.clearResourceTimings()")
    t0 = time.monotonic()
    page.upload(path, timeout=180)
    wall = time.monotonic() - t0
    to_top(page)
    st = page.stats()
    # Where the time to the first drawing went: each request of the load (start and end, ms since the page opened).
    phases = page.js("""return performance.getEntriesByType('resource').filter(e => e.name.includes('/resources/'))
        .map(e => ({route: e.name.split('/resources')[1].split('?')[0], start: Math.round(e.startTime),
                    end: Math.round(e.responseEnd)}))""")
    assert st["nodes"] == L["nodes"] >= 8000
    samples = []
    w = page.canvas_width()
    box = page.js("const r = document.querySelector('.fg-main').getBoundingClientRect(); return [r.left, r.top]")
    # hover: move over frames on several levels
    for k in range(24):
        before = page.stats()["redraws"]
        pointer(page, box[0] + 20 + (k * 53) % (w - 40), box[1] + 10 + 20 * (k % 30))
        try:
            wait_redraw(page, before)
        except Exception:
            continue  # the same frame as before: no redraw needed
        samples.append(("hover", page.stats()["lastRedrawMs"]))
    assert len(samples) >= 12
    # search
    before = page.stats()["redraws"]
    page.d.find_element("css selector", ".fg-search").send_keys("fmt.")
    page.wait(lambda d: d.execute_script("return !document.querySelector('.fg-matched').hidden"), 5)
    samples.append(("search", page.stats()["lastRedrawMs"]))
    page.d.find_element("css selector", ".fg-search").send_keys(Keys.ESCAPE)
    page.wait(lambda d: d.execute_script("return document.querySelector('.fg-matched').hidden"), 5)
    samples.append(("search cleared", page.stats()["lastRedrawMs"]))
    # focus: click a frame on level 3, then reset
    for target_level in (3, 8):
        before = page.stats()["redraws"]
        pointer(page, box[0] + w * 0.2, box[1] + 20 * target_level + 10, action="click")
        wait_redraw(page, before)
        samples.append((f"focus level {target_level}", page.stats()["lastRedrawMs"]))
        page.js("document.querySelector('.fg-focus-pill').click()")
        samples.append(("unfocus", page.stats()["lastRedrawMs"]))
    # and programmatic hover changes, one per animation frame as the pointer gives them
    paced = page.d.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const w = window.__flamegraph, ms = [];
        let k = 0;
        (function step() {
          w.state.hover = {pane: 'main', item: 100 + k * 97};
          w.redraw();
          ms.push(window.__flamegraphStats.lastRedrawMs);
          if (++k < 40) requestAnimationFrame(step); else done(ms);
        })();""")
    samples += [("redraw", m) for m in paced]
    unhover(page)
    page.shot("11-large-8192-nodes.png")
    ms = sorted(m for _, m in samples)
    median, p90, worst = ms[len(ms) // 2], ms[int(len(ms) * 0.9)], ms[-1]
    load1 = os.getloadavg()[0] / (os.cpu_count() or 1)
    report = {"nodes": st["nodes"], "loadToDrawnMs": st["loadToDrawnMs"], "uploadWallSeconds": round(wall, 2), "requests": phases,
              "buildMs": st["buildMs"], "firstRedrawMs": st["firstRedrawMs"],
              "redrawMs": {"median": median, "p90": p90, "max": worst, "min": ms[0], "samples": len(ms)},
              "loadPerCore": round(load1, 2), "byKind": samples}
    os.makedirs(SHOTS, exist_ok=True)
    with open(os.path.join(SHOTS, "perf.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(f"\nPERF nodes={st['nodes']} redraw ms: min={ms[0]:.1f} median={median:.1f} p90={p90:.1f} max={worst:.1f} "
          f"(n={len(ms)}, load/core {load1:.1f}); load-to-drawn {st['loadToDrawnMs']:.0f} ms "
          f"(levels to items {st['buildMs']:.0f} ms, first redraw {st['firstRedrawMs']:.0f} ms)")
    limit = L["maxRedrawMs"]
    assert median <= limit, f"the median redraw took {median:.1f} ms: {samples}"
    # On a quiet machine nearly every redraw must fit a frame; on a shared, busy one (load per core > 1) the
    # scheduler's pauses land in the wall-clock numbers, so only the median is held to the limit there.
    if load1 <= 1.0:
        assert p90 <= limit, f"the 90th percentile redraw took {p90:.1f} ms: {samples}"
    else:
        print(f"PERF machine busy (load/core {load1:.1f}): p90 {p90:.1f} ms reported, not asserted")


# ------------------------------------------------------------------ other data shapes, DPR
def test_grafana_data_frame_gives_the_same_graph(page):
    e = page.expect["single"]
    with open(os.path.join(os.path.dirname(__file__), "data", e["dataframe"])) as f:
        frame = json.load(f)
    page.js("window.__flamegraph.setData(arguments[0], {label: 'frame'})", frame)
    to_top(page)
    assert page.stats()["nodes"] == e["nodes"]
    w = page.canvas_width()
    root = page.pixels_row(".fg-main", 2, [1, w / 2, w - 2])
    assert all(c == root[0] for c in root) and not is_color(root[0], BACKGROUND)
    page.js("window.__flamegraph.showSandwich(arguments[0])", e["sandwich"]["name"])
    got = page.js("return window.__flamegraph.sandwichLevels()")
    assert got["callers"] == e["sandwich"]["callers"] and got["callees"] == e["sandwich"]["callees"]


def test_device_pixel_ratio_two(host, expect):
    d = make_driver(scale=2, width=1200, height=900)
    try:
        p = Page(d, host, expect).open()
        p.upload(resolve(expect["single"]["file"]))
        to_top(p)
        size = p.js("const c = document.querySelector('.fg-main'); return [c.width, c.clientWidth, c.height, c.clientHeight]")
        assert size[0] == 2 * size[1] and size[2] == 2 * size[3], size
        w = size[1]
        root = p.pixels_row(".fg-main", 2, [1, w / 2, w - 2])
        assert all(c == root[0] for c in root) and not is_color(root[0], BACKGROUND)
        p.shot("12-device-pixel-ratio-2.png")
        assert not p.console_problems()
    finally:
        d.quit()


# ------------------------------------------------------------------ host integration (stand-in controls)
@pytest.mark.standin
def test_requests_follow_the_contract(page, standin):
    page.control(clearRequests=True)
    open_single(page)
    reqs = [r for r in page.requests() if r["path"].startswith("/api/")]
    posts = {r["path"].rsplit("/", 1)[1]: r for r in reqs if r["method"] == "POST"}
    assert {"upload", "flamegraph", "top", "info"} <= set(posts), reqs
    # the file's bytes go once, raw, to /upload; every other request names it
    assert [r["path"].rsplit("/", 1)[1] for r in reqs if r["method"] == "POST"].count("upload") == 1, reqs
    assert posts["upload"]["contentType"] == "application/octet-stream"
    for route in ("flamegraph", "top", "info"):
        assert posts[route]["contentType"] == "application/json"
        assert "profile" in posts[route]["bodyKeys"]
    assert "maxNodes" in posts["flamegraph"]["bodyKeys"]


@pytest.mark.standin
def test_server_side_profiles_open_by_name(page, standin):
    # The list comes from GET /profiles after the page loads: wait for it rather than read it at once.
    page.wait(lambda d: d.execute_script("return document.querySelectorAll('#server-profile option').length > 1"), 10,
              "the server's profile list did not arrive")
    options = page.js("return [...document.querySelectorAll('#server-profile option')].map(o => o.value).filter(Boolean)")
    assert page.expect["single"]["profile"] in options
    Select(page.d.find_element("id", "server-profile")).select_by_value(page.expect["single"]["profile"])
    page.wait_drawn(page.expect["single"]["profile"])
    assert page.js("return document.querySelector('.fg-table tbody tr').dataset.name") == page.expect["single"]["topFunction"]


@pytest.mark.standin
def test_open_query_and_session_preselect_profiles(driver, host, expect, standin):
    p = Page(driver, host, expect)
    p.open(open="service-base", vs="service-regex")
    p.wait_drawn("service-base → service-regex")
    assert p.js("return document.querySelector('.fg-widget').classList.contains('fg-diff')")
    p.control(session={"profile": {"name": expect["single"]["profile"]}, "vs": None})
    try:
        p.open()
        p.wait_drawn(expect["single"]["profile"])
        assert not p.js("return document.querySelector('.fg-widget').classList.contains('fg-diff')")
    finally:
        p.control(session=None)
    assert not p.console_problems()


@pytest.mark.standin
def test_restart_banner(page, standin):
    page.control(restartOnce=True)
    open_single(page)
    text = page.js("const b = document.querySelector('[data-banner=restart]'); return b ? b.textContent : null")
    assert text and "restarted" in text
    page.js("window.scrollTo(0, 0)")
    page.shot("13-restart-banner.png")
    page.js("document.querySelector('[data-banner=restart] .banner-close').click()")
    assert page.js("return document.querySelector('[data-banner=restart]')") is None


def test_dropping_two_files_opens_their_diff(page):
    import base64
    d = page.expect["diff"]
    files = [(os.path.basename(p), base64.b64encode(open(resolve(p), "rb").read()).decode()) for p in (d["baseline"], d["comparison"])]
    page.js("""
        const dt = new DataTransfer();
        for (const [name, b64] of arguments[0]) {
          const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
          dt.items.add(new File([bytes], name, {type: 'application/gzip'}));
        }
        document.getElementById('drop-zone').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
    """, files)
    page.wait_drawn(f"{files[0][0]} → {files[1][0]}")
    assert page.js("return document.querySelector('.fg-widget').classList.contains('fg-diff')")
    assert page.js("return document.getElementById('tab-diff').getAttribute('aria-selected')") == "true"

"""The widget's modules on small literal data, run in the browser (the page's own ES modules, imported
dynamically): levels decoding, parents and children, search shares, per-function totals, package parsing per
language, diff colours and value formatting."""
import json

import pytest

PACKAGES = [
    # Go
    ("github.com/acme/svc/internal/db.(*Conn).Query", "github.com/acme/svc/internal/db"),
    ("github.com/acme/svc37/internal/key3.GetNode[...]", "github.com/acme/svc37/internal/key3"),
    ("math/big.addVV", "math/big"),
    ("runtime.mallocgc", "runtime"),
    ("fmt.(*pp).doPrintf", "fmt"),
    # Java (JFR/async-profiler slash form and dotted form)
    ("java/io/UnixFileSystem.getNameMax0", "java/io"),
    ("java.util.HashMap.get", "java.util"),
    ("org.apache.kafka.common.network.Selector.poll", "org.apache.kafka.common.network"),
    # Python
    ("lib/utility/utility.py:-1 - find_nearest_vehicle", "utility"),
    ("handle (/usr/lib/python3.11/site-packages/flask/app.py:12)", "flask"),
    ("<module> (/usr/lib/python3.11/re.py:1)", "stdlib"),
    # Ruby
    ("gems/activesupport-7.0.8/lib/active_support/core_ext/time/calculations.rb:-1 - minus_with_coercion", "activesupport"),
    ("app/helpers/application_helper.rb:-1 - block in find_nearest_vehicle", "app"),
    ("ActiveRecord::Base#save", "ActiveRecord"),
    # Node
    ("./node_modules/express/lib/router/index.js:handle:12", "express"),
    ("write /app/node_modules/@grpc/grpc-js/build/src/call.js:3", "@grpc/grpc-js"),
    # .NET
    ("System.Collections.Generic.List`1.Add(T)", "System.Collections.Generic"),
    ("MyApp.Services.Orders.Place", "MyApp.Services"),
    # Rust
    ("tokio::runtime::park::Parker::park", "tokio"),
    ("libunwind.rs:93 - backtrace::backtrace::libunwind::trace", "backtrace"),
    ("<alloc::alloc::Global as core::alloc::Allocator>::allocate", "core"),
    # C++ and C
    ("std::vector<int, std::allocator<int> >::push_back(int const&)", "std"),
    ("v8::internal::Heap::CollectGarbage", "v8"),
    ("memcpy", "memcpy"),
]


def call(page, body):
    """Runs `body` (a function body with the modules d, c, f, s in scope) in the page and returns its result.
    The modules are the page's own, imported dynamically (new Function would be refused by the page's CSP)."""
    err = page.d.execute_async_script("""
        const done = arguments[arguments.length - 1];
        Promise.all([import('./data.js'), import('./colors.js'), import('./format.js'), import('./sandwich.js')])
          .then(([d, c, f, s]) => { window.__mods = {d, c, f, s}; done(null); }, (e) => done(String(e)));""")
    if err:
        pytest.fail(err)
    return page.js("const {d, c, f, s} = window.__mods;\n" + body)


def test_levels_decode_to_items_with_parents_and_children(page):
    r = call(page, """
        const g = d.fromLevels({names: ['total', 'a', 'b', 'c'],
          levels: [{values: [0, 10, 0, 0]}, [0, 6, 1, 1, 0, 4, 4, 2], [0, 5, 5, 3]]});
        return {n: g.n, depth: g.depth, start: [...g.start], value: [...g.value], self: [...g.self],
                parent: [...g.parent], first: [...g.firstChild], end: [...g.childEnd],
                names: [...g.nameId].map(i => g.names[i]), total: g.total,
                hit: [d.itemAt(g, 1, 7), d.itemAt(g, 2, 5), d.itemAt(g, 2, 2)]};""")
    assert r == {"n": 4, "depth": 3, "start": [0, 0, 6, 0], "value": [10, 6, 4, 5], "self": [0, 1, 4, 5],
                 "parent": [-1, 0, 0, 1], "first": [1, 3, 3, 4], "end": [3, 4, 3, 4],
                 "names": ["total", "a", "b", "c"], "total": 10, "hit": [2, -1, 3]}


def test_diff_levels_add_both_sides(page):
    r = call(page, """
        const g = d.fromLevels({names: ['total', 'a', 'b'],
          levels: [[0, 10, 0, 0, 20, 0, 0], [0, 10, 10, 0, 15, 15, 1, 0, 0, 0, 0, 5, 5, 2]]}, {diff: true});
        return {start: [...g.start], value: [...g.value], right: [...g.valueRight], parent: [...g.parent],
                left: g.totalLeft, rightTotal: g.totalRight,
                change: [c.diffPercent(10, 15, 10, 20), c.diffPercent(0, 5, 10, 20), c.diffPercent(10, 0, 10, 20)]};""")
    assert r["start"] == [0, 0, 25] and r["value"] == [30, 25, 5] and r["right"] == [20, 15, 5]
    assert r["parent"] == [-1, 0, 0] and r["left"] == 10 and r["rightTotal"] == 20
    assert r["change"] == [-25, 100, -100]


def test_search_share_and_function_totals_count_recursion_once(page):
    r = call(page, """
        // total -> a -> a -> b, and total -> b
        const g = d.fromLevels({names: ['total', 'a', 'b'],
          levels: [[0, 10, 0, 0], [0, 8, 0, 1, 0, 2, 2, 2], [0, 8, 3, 1], [0, 5, 5, 2]]});
        const m = d.searchMatches(g, 'A', false);  // also in "total", the synthetic root, which never matches
        const e = d.searchMatches(g, 'b', true);
        const t = d.functionTotals(g);
        const sw = s.buildSandwich(g, g.names.indexOf('a'));
        return {share: m.share, exact: e.share, total: [...t.total], self: [...t.self],
                callees: s.levelsOf(sw.callees), callers: s.levelsOf(sw.callers)};""")
    assert r["share"] == 0.8 and r["exact"] == 0.7
    assert r["total"] == [10, 8, 7] and r["self"] == [0, 3, 7]
    assert r["callees"] == [[["a", 8]], [["a", 8]], [["b", 5]]]
    assert r["callers"] == [[["a", 8]]]


def test_package_parsing_per_language(page):
    got = call(page, f"return {json.dumps([n for n, _ in PACKAGES])}.map(n => c.packageOf(n));")
    wrong = [(n, want, g) for (n, want), g in zip(PACKAGES, got) if want != g]
    assert not wrong, wrong


def test_colours(page):
    r = call(page, """
        return {same: c.colorByPackage('math/big.addVV') === c.colorByPackage('math/big.nat.add'),
                added: c.colorByDiff(100), removed: c.colorByDiff(-100), none: c.colorByDiff(0),
                halfUp: c.colorByDiff(50), blind: c.colorByDiff(-100, 'colorBlind')};""")
    assert r["same"] is True
    assert r["added"] == [200, 0, 0] and r["removed"] == [0, 170, 0] and r["none"] == [148, 142, 142]
    assert r["halfUp"] == [174, 71, 71]
    assert r["blind"] == [26, 133, 255]


def test_value_formatting(page):
    r = call(page, """
        return [f.formatValue(29740000000, 'nanoseconds'), f.formatValue(310000000, 'nanoseconds'),
                f.formatValue(56210400000000, 'nanoseconds'), f.formatValue(1536, 'bytes'),
                f.formatValue(111080000000, 'bytes'), f.formatValue(1234567, 'count'), f.formatValue(0, 'bytes'),
                f.formatPercent(0.98957), f.formatChange(-91.28), f.formatChange(633.2), f.formatChange(Infinity)];""")
    assert r == ["29.7 s", "310 ms", "15.6 h", "1.5 KiB", "103 GiB", "1,234,567", "0", "98.96%", "-91.3%",
                 "+633.2%", "from 0"]

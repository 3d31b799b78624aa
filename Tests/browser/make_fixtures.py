#!/usr/bin/env python3
"""Regenerates Tests/browser/data/: the resource API answers the stand-in host serves, and expectations.json.

Runs the real backend (`flamegraph-ai serve`, JSON-RPC over stdin/stdout) on real profiles, so the fixtures are
exactly what the plugin's resource routes answer. Also writes hostile.pb.gz, a tiny pprof whose function names
are HTML/script injections. Expectations (top function, search share, sandwich callers/callees, diff colours) are
computed here in Python from the saved levels, independently of the page's JavaScript.

    swift build -c release --product flamegraph-ai
    python3 Tests/browser/make_fixtures.py [--backend .build/release/flamegraph-ai] [--shared /work/shared]
"""
import argparse
import base64
import gzip
import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(HERE, "data")
MAX_NODES = 8192

# name -> (path relative to the repo or to shared/, top rows)
PROFILES = {
    "go-cpu-fib": "Tests/Fixtures/profiles/go-cpu-fib.pb.gz",
    "go-heap": "Tests/Fixtures/profiles/go-heap.pb.gz",
    "go-cpu-benchmark": "Tests/Fixtures/profiles/go-cpu-benchmark.pb.gz",
    "java-cpu": "Tests/Fixtures/profiles/java-cpu-async-profiler.pb.gz",
    "python-cpu": "Tests/Fixtures/profiles/python-cpu.pb.gz",
    "service-base": "Tests/Fixtures/interpret/service-base.pb.gz",
    "service-regex": "Tests/Fixtures/interpret/service-regex.pb.gz",
    "hostile": "Tests/browser/data/hostile.pb.gz",
    "large": "@shared/profiles/synthetic/large.pb.gz",
}
DIFFS = {"service-base..service-regex": ("service-base", "service-regex")}

HOSTILE_NAMES = [
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(2)</script>",
    '<img src=x onerror="window.__xss=1">',
    '"><svg onload="window.__xss=2">',
    "&lt;b&gt;entity&amp;amp;</b>",
]


# ---------------------------------------------------------------- a tiny pprof writer (protobuf by hand)
def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num, payload):
    if isinstance(payload, int):
        return varint(num << 3) + varint(payload)
    return varint((num << 3) | 2) + varint(len(payload)) + payload


def packed(num, values):
    return field(num, b"".join(varint(v) for v in values))


def pprof(stacks, sample_type=("cpu", "nanoseconds"), period=10_000_000):
    """stacks: [( [root, ..., leaf], value )] -> gzipped pprof bytes."""
    strings = [""]

    def s(x):
        if x not in strings:
            strings.append(x)
        return strings.index(x)

    funcs = {}
    for names, _ in stacks:
        for n in names:
            funcs.setdefault(n, len(funcs) + 1)
    out = bytearray()
    out += field(1, field(1, s(sample_type[0])) + field(2, s(sample_type[1])))
    for names, value in stacks:
        locs = [funcs[n] for n in reversed(names)]  # leaf first
        out += field(2, packed(1, locs) + packed(2, [value]))
    out += field(3, field(1, 1) + field(2, 0x400000) + field(3, 0x500000) + field(5, s("hostile-binary")))
    for n, fid in funcs.items():
        out += field(4, field(1, fid) + field(2, 1) + field(3, 0x400000 + fid) + field(4, field(1, fid) + field(2, fid)))
    for n, fid in funcs.items():
        out += field(5, field(1, fid) + field(2, s(n)) + field(3, s(n)) + field(4, s("main.go")))
    strings_at = len(out)
    _ = strings_at
    for x in strings:
        out += field(6, x.encode())
    out += field(11, field(1, s(sample_type[0])) + field(2, s(sample_type[1])))
    out += field(12, period)
    # string_table must be complete before use; the fields above were assigned indexes while writing.
    return gzip.compress(bytes(out), mtime=0)


def hostile_profile():
    stacks = [
        (["main.main", "main.render", HOSTILE_NAMES[0]], 500_000_000),
        (["main.main", "main.render", HOSTILE_NAMES[1]], 300_000_000),
        (["main.main", HOSTILE_NAMES[2], "runtime.mallocgc"], 200_000_000),
        (["main.main", HOSTILE_NAMES[3]], 150_000_000),
        (["main.main", HOSTILE_NAMES[4], HOSTILE_NAMES[0]], 100_000_000),
    ]
    return pprof(stacks)


# ---------------------------------------------------------------- the backend over JSON-RPC
class Backend:
    def __init__(self, binary):
        self.proc = subprocess.Popen([binary, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.next_id = 0

    def call(self, method, params):
        self.next_id += 1
        line = json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        while True:
            reply = json.loads(self.proc.stdout.readline())
            if reply.get("id") == self.next_id:
                break
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


# ---------------------------------------------------------------- independent readers of the levels
def decode_levels(fg, diff=False):
    """-> list of nodes {id, level, start, value, self, name, parent, children, right?}."""
    names = fg["names"]
    nodes = []
    by_level = []
    for L, row in enumerate(fg["levels"]):
        row = row["values"] if isinstance(row, dict) else row  # Pyroscope's JSON: [{values: [...]}, ...]
        cur = []
        if diff:
            endL = endR = 0
            for j in range(0, len(row), 7):
                xL = endL + row[j]
                xR = endR + row[j + 3]
                endL, endR = xL + row[j + 1], xR + row[j + 4]
                cur.append(dict(level=L, start=xL + xR, value=row[j + 1] + row[j + 4], self=row[j + 2] + row[j + 5],
                                left=row[j + 1], right=row[j + 4], selfLeft=row[j + 2], selfRight=row[j + 5],
                                name=names[row[j + 6]]))
        else:
            end = 0
            for j in range(0, len(row), 4):
                x = end + row[j]
                end = x + row[j + 1]
                cur.append(dict(level=L, start=x, value=row[j + 1], self=row[j + 2], name=names[row[j + 3]]))
        for n in cur:
            n["id"] = len(nodes)
            n["children"] = []
            n["parent"] = None
            nodes.append(n)
        if L > 0:
            for n in cur:
                for p in by_level[L - 1]:
                    if p["start"] <= n["start"] < p["start"] + p["value"]:
                        n["parent"] = p["id"]
                        p["children"].append(n["id"])
                        break
        by_level.append(cur)
    return nodes


def ancestors(nodes, n):
    out = []
    p = n["parent"]
    while p is not None:
        out.append(nodes[p])
        p = nodes[p]["parent"]
    return out


def search_share(nodes, query, exact=False):
    q = query if exact else query.lower()
    hit = (lambda name: name == q) if exact else (lambda name: q in name.lower())
    total = nodes[0]["value"]
    matched = 0
    for n in nodes:
        if n["parent"] is None:
            continue  # the synthetic root "total" is no function
        if hit(n["name"]) and not any(hit(a["name"]) for a in ancestors(nodes, n) if a["parent"] is not None):
            matched += n["value"]
    return matched / total


def sandwich(nodes, name):
    """Callers and callees of `name`, merged over its outermost occurrences, as nested {name, value, children}."""
    occ = [n for n in nodes if n["name"] == name and not any(a["name"] == name for a in ancestors(nodes, n))]

    def merge_down(items):
        groups = {}
        for n in items:
            groups.setdefault(n["name"], []).append(n)
        return [{"name": k, "value": sum(x["value"] for x in g),
                 "children": merge_down([nodes[c] for x in g for c in x["children"]])}
                for k, g in groups.items()]

    callees = {"name": name, "value": sum(n["value"] for n in occ),
               "children": merge_down([nodes[c] for n in occ for c in n["children"]])}

    def merge_up(chains):
        # chains: [(value, [caller, caller's caller, ...])]
        groups = {}
        for value, chain in chains:
            if chain:
                groups.setdefault(chain[0], []).append((value, chain[1:]))
        return [{"name": k, "value": sum(v for v, _ in g), "children": merge_up(g)} for k, g in groups.items()]

    chains = []
    for n in occ:
        up = [a["name"] for a in ancestors(nodes, n) if a["parent"] is not None]  # without the virtual root
        chains.append((n["value"], up))
    callers = {"name": name, "value": callees["value"], "children": merge_up(chains)}
    return {"callers": callers, "callees": callees}


def canon(tree):
    """A comparable form: per level, the sorted (name, value) pairs."""
    levels = []
    frontier = [tree]
    while frontier:
        levels.append(sorted([n["name"], n["value"]] for n in frontier))
        frontier = [c for n in frontier for c in n["children"]]
    return levels


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default=os.path.join(REPO, ".build/release/flamegraph-ai"))
    ap.add_argument("--shared", default=os.environ.get("FLAMEGRAPH_AI_SHARED", "/work/shared"))
    args = ap.parse_args()
    os.makedirs(DATA, exist_ok=True)
    with open(os.path.join(DATA, "hostile.pb.gz"), "wb") as f:
        f.write(hostile_profile())

    be = Backend(args.backend)
    index = {"profiles": {}, "diffs": {}}
    levels = {}
    infos = {}
    try:
        for name, rel in PROFILES.items():
            path = os.path.join(args.shared, rel[len("@shared/"):]) if rel.startswith("@shared/") else os.path.join(REPO, rel)
            raw = open(path, "rb").read()
            prof = {"pprof": base64.b64encode(raw).decode()}
            info = be.call("profile.info", {"profile": prof})
            entry = {"source": rel, "sha256": hashlib.sha256(raw).hexdigest(), "sampleTypes": len(info["sampleTypes"]),
                     "defaultSampleType": info.get("defaultSampleType"), "files": {}}
            write(f"{name}.info.json", info)
            entry["files"]["info"] = f"{name}.info.json"
            types = range(len(info["sampleTypes"])) if name in ("go-cpu-fib", "go-heap") else [None]
            for st in types:
                params = {"profile": prof, "maxNodes": MAX_NODES}
                suffix = "" if st is None else f".{st}"
                if st is not None:
                    params["sampleType"] = st
                fg = be.call("profile.flamegraph", params)
                top = be.call("profile.top", {"profile": prof, "limit": 100, **({"sampleType": st} if st is not None else {})})
                write(f"{name}.flamegraph{suffix}.json", fg)
                write(f"{name}.top{suffix}.json", top)
                entry["files"][f"flamegraph{suffix}"] = f"{name}.flamegraph{suffix}.json"
                entry["files"][f"top{suffix}"] = f"{name}.top{suffix}.json"
                if st is None or st == info.get("defaultSampleType", len(info["sampleTypes"]) - 1):
                    entry["files"]["flamegraph"] = f"{name}.flamegraph{suffix}.json"
                    entry["files"]["top"] = f"{name}.top{suffix}.json"
                    levels[name] = (fg, top)
            if name == "go-cpu-fib":
                frame = be.call("profile.flamegraph", {"profile": prof, "maxNodes": MAX_NODES, "format": "dataframe"})
                write(f"{name}.dataframe.json", frame)
                entry["files"]["dataframe"] = f"{name}.dataframe.json"
            index["profiles"][name] = entry
            infos[name] = info
        for key, (a, b) in DIFFS.items():
            pa = os.path.join(REPO, PROFILES[a])
            pb = os.path.join(REPO, PROFILES[b])
            params = {"baseline": {"pprof": b64(pa)}, "comparison": {"pprof": b64(pb)}, "format": "levels",
                      "maxNodes": MAX_NODES}
            d = be.call("profile.diff", params)
            write(f"{key}.diff.json", d)
            index["diffs"][key] = {"baseline": a, "comparison": b, "file": f"{key}.diff.json"}
            levels[key] = (d, None)
    finally:
        be.close()
    write("index.json", index)
    write("expectations.json", expectations(levels, infos), pretty=True)


def b64(path):
    return base64.b64encode(open(path, "rb").read()).decode()


def write(name, obj, pretty=False):
    with open(os.path.join(DATA, name), "w") as f:
        if pretty:
            json.dump(obj, f, indent=1, sort_keys=True)
        else:
            json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def expectations(levels, infos):
    fib, fib_top = levels["go-cpu-fib"]
    fib_nodes = decode_levels(fib["flamegraph"])
    heap_nodes = decode_levels(levels["go-heap"][0]["flamegraph"])
    large_nodes = decode_levels(levels["large"][0]["flamegraph"])
    host_nodes = decode_levels(levels["hostile"][0]["flamegraph"])
    diff_nodes = decode_levels(levels["service-base..service-regex"][0]["flamegraph"], diff=True)
    d = levels["service-base..service-regex"][0]

    def share_change(n):
        lt, rt = d["leftTicks"], d["rightTicks"]
        l, r = n["left"] / lt, n["right"] / rt
        return 100.0 if l == 0 else (r - l) / l * 100

    def widest(nodes, name):
        return max((n for n in nodes if n["name"] == name), key=lambda n: n["value"])

    grown = "regexp.MustCompile"
    shrunk = "crypto/sha256.block"
    # The sandwich: a function with several callers and several callees, holding at least 0.5% of the total.
    def shape(name):
        sw = sandwich(fib_nodes, name)
        return len(sw["callers"]["children"]) * len(sw["callees"]["children"]), sw["callers"]["value"]
    candidates = [n for n in {x["name"] for x in fib_nodes} - {"total"}
                  if widest(fib_nodes, n)["value"] >= 0.005 * fib_nodes[0]["value"]]
    fib_sandwich = max(sorted(candidates), key=shape)
    sw = sandwich(fib_nodes, fib_sandwich)
    # The same function in two profiles: the one whose narrower widest frame is widest.
    base_nodes = decode_levels(levels["service-base"][0]["flamegraph"])
    regex_nodes = decode_levels(levels["service-regex"][0]["flamegraph"])

    def share(nodes, name):
        return max((n["value"] for n in nodes if n["name"] == name), default=0) / nodes[0]["value"]
    common = sorted({n["name"] for n in base_nodes} & {n["name"] for n in regex_nodes} - {"total"},
                    key=lambda x: (-min(share(base_nodes, x), share(regex_nodes, x)), x))

    def go_package(name):
        slash = name.rfind("/")
        dot = name.find(".", slash + 1)
        return name[:dot] if dot >= 0 else name
    by_width = sorted((n for n in base_nodes if n["parent"] is not None), key=lambda n: (-n["value"], n["name"]))
    first = by_width[0]["name"]
    second = next(n["name"] for n in by_width if go_package(n["name"]) != go_package(first))
    return {
        "maxNodes": MAX_NODES,
        "single": {
            "profile": "go-cpu-fib",
            "file": PROFILES["go-cpu-fib"],
            "sampleType": fib["sampleType"],
            "rootTotal": fib_nodes[0]["value"],
            "topFunction": fib_top["rows"][0]["name"],
            "topFunctionExactShare": search_share(fib_nodes, fib_top["rows"][0]["name"], exact=True),
            "topByTotal": max(fib_top["rows"], key=lambda r: (r["cum"], r["name"]))["name"],
            "nodes": len(fib_nodes),
            "focus": "math/big.nat.add",
            "focusShare": widest(fib_nodes, "math/big.nat.add")["value"] / fib_nodes[0]["value"],
            "search": {"query": "big.nat", "share": search_share(fib_nodes, "big.nat"),
                       "matchedNames": sorted({n["name"] for n in fib_nodes if "big.nat" in n["name"].lower()})},
            "sandwich": {"name": fib_sandwich, "callers": canon(sw["callers"]), "callees": canon(sw["callees"])},
            "otherSampleType": {"index": 0, "type": "samples", "unit": "count", "total": infos["go-cpu-fib"]["totals"][0]},
            "dataframe": "go-cpu-fib.dataframe.json",
        },
        "colors": {
            "profiles": ["service-base", "service-regex"],
            "files": [PROFILES["service-base"], PROFILES["service-regex"]],
            "sameFunction": common[0],
            "differentPackages": [first, second],
        },
        "bytes": {"profile": "go-heap", "file": PROFILES["go-heap"]},
        "hostile": {"profile": "hostile", "file": PROFILES["hostile"], "names": HOSTILE_NAMES,
                    "nodes": len(host_nodes)},
        "large": {"profile": "large", "file": PROFILES["large"], "nodes": len(large_nodes),
                  "depth": max(n["level"] for n in large_nodes) + 1, "maxRedrawMs": 16},
        "diff": {
            "baseline": PROFILES["service-base"], "comparison": PROFILES["service-regex"],
            "grown": grown, "grownChange": share_change(widest(diff_nodes, grown)),
            "shrunk": shrunk, "shrunkChange": share_change(widest(diff_nodes, shrunk)),
            "newFunction": grown,
            "removedFunction": next((n["name"] for n in diff_nodes if n["right"] == 0 and n["left"] > 0 and
                                     all(m["right"] == 0 for m in diff_nodes if m["name"] == n["name"])), None),
        },
    }


if __name__ == "__main__":
    sys.exit(main())

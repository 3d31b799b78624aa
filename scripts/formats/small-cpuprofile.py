#!/usr/bin/env python3
"""Cuts a .cpuprofile down to its first N samples and the nodes they use (with their ancestors), for a small,
complete seed of the mutation tests (Tests/Fixtures/formats/small.cpuprofile).

Usage: small-cpuprofile.py IN.cpuprofile OUT.cpuprofile [N=120]
"""
import json
import sys

src, dst = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 120
d = json.load(open(src))
parent = {c: node["id"] for node in d["nodes"] for c in node.get("children", [])}
keep = set()
for u in d["samples"][:n]:
    while u is not None and u not in keep:
        keep.add(u)
        u = parent.get(u)
nodes = []
for node in d["nodes"]:
    if node["id"] in keep:
        m = dict(node)
        m.pop("positionTicks", None)
        m["children"] = [c for c in node.get("children", []) if c in keep]
        if not m["children"]:
            del m["children"]
        nodes.append(m)
out = {
    "nodes": nodes,
    "startTime": d["startTime"],
    "endTime": d["startTime"] + sum(d["timeDeltas"][: n + 1]),
    "samples": d["samples"][:n],
    "timeDeltas": d["timeDeltas"][:n],
}
with open(dst, "w") as f:
    json.dump(out, f, separators=(",", ":"))

#!/usr/bin/env python3
"""An independent parse of folded, speedscope and .cpuprofile files, for ProfileFormatsTests.

Written from the formats' documentation, sharing no code with the Swift readers. Prints one JSON object:
  {"totals": {"<sample type>": N, ...}, "self": {"<function>": value of the default sample type, ...}}

Usage: independent_parse.py folded|speedscope|cpuprofile FILE

Rules (the same the Swift readers document):
  folded      count = last space-separated token; frames root first, split on ';'; py-spy frames
              'name (file:line)' are function 'name'. Type samples/count.
  speedscope  samples/count = number of samples; time/nanoseconds = sum of round(weight * unit factor);
              self = weight of each sample's last frame (time/nanoseconds).
  cpuprofile  t[i] = startTime + sum(timeDeltas[0..i]); samples ordered by t (stable); sample i lasts
              t[next] - t[i], the last one endTime - t[i] (never negative); durations rounded to ns
              (round half away from zero). '(root)' is not a frame; an empty functionName is '(anonymous)'.
              self = cpu/nanoseconds of each sample's node's function.
"""
import json
import math
import re
import sys
from collections import defaultdict

PYSPY_FRAME = re.compile(r"^(.*) \((.*):(\d+)\)$")


def python_module(path):
    """The module of a .py file, as the readers name Python functions (module.function)."""
    for marker in ("site-packages/", "dist-packages/"):
        if marker in path:
            path = path.rsplit(marker, 1)[1]
            break
    else:
        m = list(re.finditer(r"lib/python\d+(\.\d+)?/", path))
        if m:
            path = path[m[-1].end():]
        elif path.startswith("/"):
            path = path.rsplit("/", 1)[1]
    module = path[:-3]
    if module.endswith("/__init__"):
        module = module[: -len("/__init__")]
    if module in ("", "__init__"):
        return None
    return module.replace("/", ".")


def qualified(name, path):
    if path.endswith(".py"):
        module = python_module(path)
        if module:
            return module + "." + name
    return name


def function_of_folded_frame(frame):
    m = PYSPY_FRAME.match(frame)
    return qualified(m.group(1), m.group(2)) if m else frame


def round_half_away(x):
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def folded(path):
    total = 0
    self_ = defaultdict(int)
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.rsplit(None, 1)
            if len(parts) == 1:
                stack, count = "", int(parts[0])
            else:
                stack, count = parts[0], int(parts[1])
            total += count
            frames = [fr for fr in stack.split(";") if fr]
            if frames:
                self_[function_of_folded_frame(frames[-1])] += count
    return {"totals": {"samples/count": total}, "self": dict(self_)}


FACTORS = {"nanoseconds": 1, "microseconds": 1e3, "milliseconds": 1e6, "seconds": 1e9}


def speedscope(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    frames = doc["shared"]["frames"]
    samples = 0
    weight_total = 0
    self_ = defaultdict(int)
    per_thread = defaultdict(int)
    for profile in doc["profiles"]:
        assert profile["type"] == "sampled", "this oracle reads sampled profiles"
        factor = FACTORS[profile["unit"]]
        for stack, weight in zip(profile["samples"], profile["weights"]):
            samples += 1
            w = round_half_away(weight * factor)
            weight_total += w
            per_thread[profile["name"]] += 1
            if stack:
                leaf = frames[stack[-1]]
                self_[qualified(leaf["name"], leaf.get("file", ""))] += w
    return {
        "totals": {"samples/count": samples, "time/nanoseconds": weight_total},
        "self": dict(self_),
        "samplesPerThread": dict(per_thread),
    }


def cpuprofile(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    nodes = {n["id"]: n for n in doc["nodes"]}
    samples = doc["samples"]
    deltas = doc["timeDeltas"]
    t = doc.get("startTime", 0)
    stamps = []
    for d in deltas:
        t += d
        stamps.append(t)
    order = sorted(range(len(samples)), key=lambda i: (stamps[i], i))
    end = doc.get("endTime")
    self_ = defaultdict(int)
    total = 0
    for rank, i in enumerate(order):
        if rank + 1 < len(order):
            duration = stamps[order[rank + 1]] - stamps[i]
        elif end is not None:
            duration = max(end, stamps[i]) - stamps[i]
        else:
            duration = 0
        ns = round_half_away(duration * 1000)
        total += ns
        frame = nodes[samples[i]]["callFrame"]
        name = frame.get("functionName") or "(anonymous)"
        if name == "(root)":
            continue
        self_[name] += ns
    return {"totals": {"samples/count": len(samples), "cpu/nanoseconds": total}, "self": dict(self_)}


def main():
    kind, path = sys.argv[1], sys.argv[2]
    result = {"folded": folded, "speedscope": speedscope, "cpuprofile": cpuprofile}[kind](path)
    json.dump(result, sys.stdout, sort_keys=True)
    print()


if __name__ == "__main__":
    main()

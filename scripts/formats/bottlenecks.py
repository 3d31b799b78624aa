"""Small Python programs with one known bottleneck each, profiled by record-python (py-spy).

Usage: python3 bottlenecks.py regex|json|quadratic [seconds]

Each runs its workload in rounds until `seconds` (default 3) of wall time have passed, so two recordings
of the same program (raw and speedscope) hold about the same number of samples.
"""
import json
import re
import sys
import time


def make_lines(n):
    return [f"2024-01-01T00:00:{i % 60:02d} user=u{i % 97} id={i} action=login ok" for i in range(n)]


_serial = 0


def match_with_fresh_regex(lines):
    """The bottleneck: a pattern built and compiled for every line (each one new, so re's cache never hits)."""
    global _serial
    hits = 0
    for line in lines:
        _serial += 1
        pattern = re.compile(r"\d{4}-\d\d-\d\dT[0-9:]+ user=(\w+) id=" + str(_serial) + r" action=(\w+) ok, as logged by the server")
        if pattern.search(line):
            hits += 1
    return hits


def encode_events_as_json(events):
    """The bottleneck: every event encoded on its own with json.dumps."""
    size = 0
    for event in events:
        size += len(json.dumps(event, sort_keys=True, indent=1))
    return size


def dedupe_quadratic(values):
    """The bottleneck: membership test on a list inside the loop, O(n^2)."""
    out = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def run(kind):
    if kind == "regex":
        lines = make_lines(200)
        return match_with_fresh_regex(lines)
    if kind == "json":
        events = [{"id": i, "user": f"u{i % 97}", "tags": ["a", "b", str(i)], "nested": {"x": i, "y": [1, 2, 3]}}
                  for i in range(200)]
        return encode_events_as_json(events)
    if kind == "quadratic":
        return len(dedupe_quadratic([i % 1500 for i in range(3000)]))
    raise SystemExit(f"unknown program {kind!r}: regex, json or quadratic")


def main():
    kind = sys.argv[1] if len(sys.argv) > 1 else "regex"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    deadline = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < deadline:
        run(kind)
        rounds += 1
    print(f"{kind}: {rounds} rounds", file=sys.stderr)


if __name__ == "__main__":
    main()

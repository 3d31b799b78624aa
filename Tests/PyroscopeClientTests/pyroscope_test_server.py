#!/usr/bin/env python3
"""A local Pyroscope query API for the PyroscopeClient tests (Python standard library only).

Listens on 127.0.0.1 with an ephemeral port and prints `PORT <n>` on its first stdout line; stops when its stdin
closes. Speaks Connect unary over HTTP/1.1, `POST /querier.v1.QuerierService/<Method>`, with JSON
(`application/json`, protojson field names, int64 as strings) or binary protobuf (`application/proto`) bodies,
answering in the request's codec, gzip-compressed when the client accepts it:
  ProfileTypes {start, end}                     -> {profileTypes: [{ID, name, sampleType, sampleUnit, periodType, periodUnit}]}
  LabelNames {matchers, start, end}             -> {names}
  LabelValues {name, matchers, start, end}      -> {names}
  Series {matchers, labelNames, start, end}     -> {labelsSet: [{labels: [{name, value}]}]}
  SelectMergeStacktraces {profileTypeID, labelSelector, start, end, maxNodes, format}
        format 4 (PROFILE_FORMAT_PPROF)         -> {pprof: {profile: <merged pprof>}}
        otherwise                               -> {flamegraph: ...} (a root-only stub: the client never reads it)
  SelectMergeProfile {profileTypeID, labelSelector, start, end, maxNodes} -> <merged pprof> (google.v1.Profile)

Data: Tests/Fixtures/pyroscope/catalogue.json assigns fixture profiles to a profile name (process_cpu, memory),
labels and a time. A profile type is `<name>:<sample type>:<unit>:<period type>:<period unit>` for each sample type
of a fixture. A query selects the catalogue entries of that type whose labels match the selector (=, !=, =~, !~)
and whose time lies in [start, end], and merges them: every profile is decoded, its ids are renumbered past the
previous ones, its strings re-interned, and only the selected sample type's value is kept (zeros dropped), as
Pyroscope returns one sample type. A well-formed but unknown profile type gives an empty profile, as Pyroscope does.

Options:
  --token T           require `Authorization: Bearer T` on the direct routes
  --basic USER:PASS   require basic auth with these credentials (with --token: either is accepted)
  --tenants A[,B..]   multi-tenant: a request without X-Scope-OrgID gets Pyroscope's own error (401,
                      {"code":"unauthenticated","message":"no org id"}); tenants not listed see no data
  --grafana-uid UID   also serve Grafana's data source proxy, /api/datasources/proxy/uid/UID/querier.v1...,
  --grafana-token T   which takes `Authorization: Bearer T` (a service-account token) instead
  --old               an older server: SelectMergeStacktraces does not know the pprof format (answers a flame graph)
  --fault NAME[=ARG]  misbehave on every query request (see below)
Unauthorized requests get 401 with a message that echoes the presented Authorization header, so tests can prove
the client never repeats a credential.

Faults, per request: header `X-Test-Fault: NAME[=ARG]`, or a matcher `__fault__="NAME[=ARG]"` in the label
selector or matchers (the client sends no test headers):
  401 / 403          unauthenticated / permission_denied
  500                internal error (Connect `internal`)
  503[=SECONDS]      unavailable, with Retry-After when SECONDS is given
  429=SECONDS        resource_exhausted with Retry-After
  500-once=KEY       500 the first time KEY is seen, then normal (also 503-once=KEY, with Retry-After: 1)
  slow=MS            wait MS milliseconds, then answer normally
  huge=MB            200 with a body of MB megabytes
  empty              an empty result (no samples), whatever the selector
  old                this request is answered as by an older server (no pprof format in SelectMergeStacktraces)
  ancient            SelectMergeStacktraces does not exist (plain 404, as connect-go's mux answers)
  garbage            200 application/proto with bytes that are not the message
  html               200 text/html (a proxy's login page)
  close              close the connection without answering
  notfound           plain-text 404 on every route
GET /test/requests lists the requests seen so far: path, content type, accept-encoding, tenant, auth scheme.
"""
import base64
import gzip
import json
import os
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "Fixtures")
PREFIX = "/querier.v1.QuerierService/"
OPTIONS = {"token": None, "basic": None, "tenants": None, "grafana_uid": None, "grafana_token": None,
           "old": False, "fault": ""}
REQUESTS = []
SEEN = set()
LOCK = threading.Lock()


# ---- protobuf wire format ----------------------------------------------------------------------------------

def read_varint(buf, i):
    b = buf[i]
    if b < 0x80:
        return b, i + 1
    shift = 0
    value = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value & 0xFFFFFFFFFFFFFFFF, i
        shift += 7


def fields(buf):
    """Yields (field number, wire type, value): an int for varints and fixed, bytes for length-delimited."""
    i = 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(buf, i)
        elif wt == 1:
            v, i = int.from_bytes(buf[i:i + 8], "little"), i + 8
        elif wt == 5:
            v, i = int.from_bytes(buf[i:i + 4], "little"), i + 4
        elif wt == 2:
            n, i = read_varint(buf, i)
            if i + n > len(buf):
                raise ValueError("truncated field")
            v, i = bytes(buf[i:i + n]), i + n
        else:
            raise ValueError(f"wire type {wt}")
        yield num, wt, v


def signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def repeated_varints(wt, v):
    if wt == 0:
        return [v]
    out, i, n = [], 0, len(v)
    while i < n:
        b = v[i]
        if b < 0x80:
            out.append(b)
            i += 1
        else:
            x, i = read_varint(v, i)
            out.append(x)
    return out


class Writer:
    def __init__(self):
        self.out = bytearray()

    def varint(self, v):
        v &= 0xFFFFFFFFFFFFFFFF
        while v >= 0x80:
            self.out.append((v & 0x7F) | 0x80)
            v >>= 7
        self.out.append(v)

    def int(self, field, v):
        if v:
            self.varint(field << 3)
            self.varint(v)

    def bytes(self, field, b):
        self.varint(field << 3 | 2)
        self.varint(len(b))
        self.out += b

    def string(self, field, s):
        self.bytes(field, s.encode() if isinstance(s, str) else s)

    def packed(self, field, values):
        if values:
            w = Writer()
            for v in values:
                w.varint(v)
            self.bytes(field, w.out)


# ---- pprof ---------------------------------------------------------------------------------------------------

def decode_pprof(data, full=True):
    """The profile as dicts and lists; with full=False only sample types, period type and strings."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    p = {"sample_type": [], "sample": [], "mapping": [], "location": [], "function": [], "strings": [],
         "time_nanos": 0, "duration_nanos": 0, "period_type": None, "period": 0}
    for num, wt, v in fields(data):
        if not full and num in (2, 3, 4, 5):
            continue
        if num == 1:
            vt = {n: x for n, _, x in fields(v)}
            p["sample_type"].append((vt.get(1, 0), vt.get(2, 0)))
        elif num == 2:
            s = {"loc": [], "val": [], "label": []}
            for n, w, x in fields(v):
                if n == 1:
                    s["loc"] += repeated_varints(w, x)
                elif n == 2:
                    s["val"] += [signed(y) for y in repeated_varints(w, x)]
                elif n == 3:
                    lab = {n2: x2 for n2, _, x2 in fields(x)}
                    s["label"].append((lab.get(1, 0), lab.get(2, 0), signed(lab.get(3, 0)), lab.get(4, 0)))
            p["sample"].append(s)
        elif num == 3:
            m = {n: x for n, _, x in fields(v)}
            p["mapping"].append(m)
        elif num == 4:
            loc = {"id": 0, "mapping_id": 0, "address": 0, "line": [], "is_folded": 0}
            for n, _, x in fields(v):
                if n == 1:
                    loc["id"] = x
                elif n == 2:
                    loc["mapping_id"] = x
                elif n == 3:
                    loc["address"] = x
                elif n == 4:
                    ln = {n2: x2 for n2, _, x2 in fields(x)}
                    loc["line"].append((ln.get(1, 0), signed(ln.get(2, 0))))
                elif n == 5:
                    loc["is_folded"] = x
            p["location"].append(loc)
        elif num == 5:
            p["function"].append({n: x for n, _, x in fields(v)})
        elif num == 6:
            p["strings"].append(v)
        elif num == 9:
            p["time_nanos"] = signed(v)
        elif num == 10:
            p["duration_nanos"] = signed(v)
        elif num == 11:
            vt = {n: x for n, _, x in fields(v)}
            p["period_type"] = (vt.get(1, 0), vt.get(2, 0))
        elif num == 12:
            p["period"] = signed(v)
    return p


def string_at(p, i):
    return p["strings"][i].decode("utf-8", "replace") if 0 <= i < len(p["strings"]) else ""


def merge(profiles, sample_type, sample_unit, start, end):
    """One profile of one sample type from several; ids renumbered, strings re-interned, zero values dropped."""
    out = {"sample_type": [], "sample": [], "mapping": [], "location": [], "function": [], "strings": [b""],
           "time_nanos": start * 1_000_000, "duration_nanos": max(0, end - start) * 1_000_000,
           "period_type": None, "period": 0}
    index = {b"": 0}

    def intern(b):
        if b not in index:
            index[b] = len(out["strings"])
            out["strings"].append(b)
        return index[b]

    out["sample_type"].append((intern(sample_type.encode()), intern(sample_unit.encode())))
    next_mapping = next_location = next_function = 0
    for p in profiles:
        k = next(i for i, (t, u) in enumerate(p["sample_type"])
                 if string_at(p, t) == sample_type and string_at(p, u) == sample_unit)

        def s(i, p=p):
            return intern(p["strings"][i]) if 0 < i < len(p["strings"]) else 0

        if out["period_type"] is None and p["period_type"] is not None:
            out["period_type"] = (s(p["period_type"][0]), s(p["period_type"][1]))
            out["period"] = p["period"]
        mo, lo, fo = next_mapping, next_location, next_function
        for m in p["mapping"]:
            m2 = dict(m)
            m2[1] = m.get(1, 0) + mo
            for f in (5, 6):
                if f in m:
                    m2[f] = s(m[f])
            out["mapping"].append(m2)
            next_mapping = max(next_mapping, m2[1])
        for f in p["function"]:
            f2 = dict(f)
            f2[1] = f.get(1, 0) + fo
            for n in (2, 3, 4):
                if n in f:
                    f2[n] = s(f[n])
            out["function"].append(f2)
            next_function = max(next_function, f2[1])
        for loc in p["location"]:
            out["location"].append({"id": loc["id"] + lo, "mapping_id": loc["mapping_id"] + mo if loc["mapping_id"] else 0,
                                    "address": loc["address"], "is_folded": loc["is_folded"],
                                    "line": [(fid + fo if fid else 0, ln) for fid, ln in loc["line"]]})
            next_location = max(next_location, loc["id"] + lo)
        for smp in p["sample"]:
            v = smp["val"][k]
            if v == 0:
                continue
            out["sample"].append({"loc": [x + lo for x in smp["loc"]], "val": [v],
                                  "label": [(s(a), s(b), c, s(d)) for a, b, c, d in smp["label"]]})
    if not out["sample"]:
        return None
    return out


def scalars(d):
    """A message of integer fields given as {field number: value}."""
    w = Writer()
    for n in sorted(d):
        w.int(n, d[n])
    return w.out


def encode_pprof(p):
    if p is None:
        return b""
    w = Writer()
    for t, u in p["sample_type"]:
        vt = Writer()
        vt.int(1, t)
        vt.int(2, u)
        w.bytes(1, vt.out)
    for s in p["sample"]:
        sw = Writer()
        sw.packed(1, s["loc"])
        sw.packed(2, s["val"])
        for k, st, num, nu in s["label"]:
            lw = Writer()
            lw.int(1, k)
            lw.int(2, st)
            lw.int(3, num)
            lw.int(4, nu)
            sw.bytes(3, lw.out)
        w.bytes(2, sw.out)
    for m in p["mapping"]:
        w.bytes(3, scalars(m))
    for loc in p["location"]:
        lw = Writer()
        lw.int(1, loc["id"])
        lw.int(2, loc["mapping_id"])
        lw.int(3, loc["address"])
        for fid, ln in loc["line"]:
            x = Writer()
            x.int(1, fid)
            x.int(2, ln)
            lw.bytes(4, x.out)
        lw.int(5, loc["is_folded"])
        w.bytes(4, lw.out)
    for f in p["function"]:
        w.bytes(5, scalars(f))
    for s in p["strings"]:
        w.bytes(6, s)
    w.int(9, p["time_nanos"])
    w.int(10, p["duration_nanos"])
    if p["period_type"] is not None:
        vt = Writer()
        vt.int(1, p["period_type"][0])
        vt.int(2, p["period_type"][1])
        w.bytes(11, vt.out)
    w.int(12, p["period"])
    return bytes(w.out)


def pprof_json(p):
    """protojson of google.v1.Profile: lowerCamel names, 64-bit integers as strings, zero values omitted."""
    if p is None:
        return {}
    names = {"mapping": {1: "id", 2: "memoryStart", 3: "memoryLimit", 4: "fileOffset", 5: "filename", 6: "buildId",
                         7: "hasFunctions", 8: "hasFilenames", 9: "hasLineNumbers", 10: "hasInlineFrames"},
             "function": {1: "id", 2: "name", 3: "systemName", 4: "filename", 5: "startLine"}}

    def obj(d, kind):
        o = {}
        for n, v in sorted(d.items()):
            if not v:
                continue
            o[names[kind][n]] = bool(v) if n >= 7 and kind == "mapping" else str(signed(v) if n == 5 and kind == "function" else v)
        return o

    out = {"sampleType": [{"type": str(t), "unit": str(u)} for t, u in p["sample_type"]],
           "sample": [], "mapping": [obj(m, "mapping") for m in p["mapping"]], "location": [],
           "function": [obj(f, "function") for f in p["function"]],
           "stringTable": [s.decode("utf-8", "replace") for s in p["strings"]]}
    for s in p["sample"]:
        o = {"locationId": [str(x) for x in s["loc"]], "value": [str(x) for x in s["val"]]}
        if s["label"]:
            o["label"] = [{k: str(v) for k, v in (("key", a), ("str", b), ("num", c), ("numUnit", d)) if v}
                          for a, b, c, d in s["label"]]
        out["sample"].append(o)
    for loc in p["location"]:
        o = {"id": str(loc["id"])}
        if loc["mapping_id"]:
            o["mappingId"] = str(loc["mapping_id"])
        if loc["address"]:
            o["address"] = str(loc["address"])
        if loc["line"]:
            o["line"] = [{k: str(v) for k, v in (("functionId", fid), ("line", ln)) if v} for fid, ln in loc["line"]]
        if loc["is_folded"]:
            o["isFolded"] = True
        out["location"].append(o)
    for key, name in (("time_nanos", "timeNanos"), ("duration_nanos", "durationNanos"), ("period", "period")):
        if p[key]:
            out[name] = str(p[key])
    if p["period_type"] is not None:
        out["periodType"] = {"type": str(p["period_type"][0]), "unit": str(p["period_type"][1])}
    return {k: v for k, v in out.items() if v != []}


# ---- the catalogue -------------------------------------------------------------------------------------------

class Entry:
    def __init__(self, spec):
        self.file = spec["file"]
        self.name = spec["name"]
        self.time = int(spec["time"])
        self.labels = dict(spec["labels"])
        self._profile = None
        self._header = None
        self._lock = threading.Lock()

    def _read(self, full):
        with open(os.path.join(FIXTURES, "profiles", self.file), "rb") as f:
            return decode_pprof(f.read(), full)

    @property
    def profile(self):
        with self._lock:
            if self._profile is None:
                self._profile = self._read(True)
            return self._profile

    def types(self):
        with self._lock:
            if self._header is None:
                self._header = self._profile or self._read(False)
            p = self._header
        period = p["period_type"] or (0, 0)
        return [f"{self.name}:{string_at(p, t)}:{string_at(p, u)}:{string_at(p, period[0])}:{string_at(p, period[1])}"
                for t, u in p["sample_type"]]

    def series(self):
        """One label set per profile type, as Pyroscope's series are."""
        return [dict(self.labels, __name__=self.name, __profile_type__=t) for t in self.types()]


with open(os.path.join(FIXTURES, "pyroscope", "catalogue.json")) as f:
    CATALOGUE = [Entry(e) for e in json.load(f)["profiles"]]

MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*')


class BadRequest(Exception):
    pass


def parse_selector(text):
    text = (text or "").strip()
    if text == "":
        return []
    if not (text.startswith("{") and text.endswith("}")):
        raise BadRequest(f'parse error: unexpected character in label selector "{text[:1]}"')
    inner = text[1:-1]
    out, i = [], 0
    while i < len(inner) and inner[i:].strip():
        m = MATCHER.match(inner, i)
        if not m:
            raise BadRequest(f"parse error at char {i + 2}: expected a label matcher")
        value = re.sub(r"\\(.)", r"\1", m.group(3))
        out.append((m.group(1), m.group(2), value))
        i = m.end()
        if i < len(inner):
            if inner[i] != ",":
                raise BadRequest(f"parse error at char {i + 2}: expected , or }}")
            i += 1
    return out


def matches(labels, matchers):
    for name, op, value in matchers:
        if name == "__fault__":
            continue
        have = labels.get(name, "")
        if op == "=" and have != value:
            return False
        if op == "!=" and have == value:
            return False
        if op == "=~" and not re.fullmatch(value, have):
            return False
        if op == "!~" and re.fullmatch(value, have):
            return False
    return True


def in_range(entry, start, end):
    return (not start or entry.time >= start) and (not end or entry.time <= end)


def check_profile_type(pt):
    parts = pt.split(":")
    if len(parts) not in (5, 6):
        raise BadRequest("profile-type selection must be of the form <name>:<sample-type>:<sample-unit>:"
                         f"<period-type>:<period-unit>(:delta), got({len(parts)}): {json.dumps(pt)}")
    return parts


# ---- requests and responses ----------------------------------------------------------------------------------

# Request messages, field number -> (json name, kind); kinds: s string, S repeated string, i int64, e enum.
SCHEMAS = {
    "ProfileTypes": {1: ("start", "i"), 2: ("end", "i")},
    "LabelNames": {1: ("matchers", "S"), 2: ("start", "i"), 3: ("end", "i")},
    "LabelValues": {1: ("name", "s"), 2: ("matchers", "S"), 3: ("start", "i"), 4: ("end", "i")},
    "Series": {1: ("matchers", "S"), 2: ("labelNames", "S"), 3: ("start", "i"), 4: ("end", "i")},
    "SelectMergeStacktraces": {1: ("profileTypeID", "s"), 2: ("labelSelector", "s"), 3: ("start", "i"),
                               4: ("end", "i"), 5: ("maxNodes", "i"), 6: ("format", "e")},
    "SelectMergeProfile": {1: ("profileTypeID", "s"), 2: ("labelSelector", "s"), 3: ("start", "i"), 4: ("end", "i"),
                           5: ("maxNodes", "i")},
}
FORMATS = {"PROFILE_FORMAT_UNSPECIFIED": 0, "PROFILE_FORMAT_FLAMEGRAPH": 1, "PROFILE_FORMAT_TREE": 2,
           "PROFILE_FORMAT_DOT": 3, "PROFILE_FORMAT_PPROF": 4}
SNAKE = {"profile_typeID": "profileTypeID", "label_selector": "labelSelector", "max_nodes": "maxNodes",
         "label_names": "labelNames"}


def parse_request(method, codec, body, old):
    schema = SCHEMAS[method]
    req = {name: ([] if kind == "S" else "" if kind == "s" else 0) for name, kind in schema.values()}
    kinds = {name: kind for name, kind in schema.values()}
    if codec == "json":
        try:
            obj = json.loads(body or b"{}")
        except ValueError as e:
            raise BadRequest(f"unmarshal into {method}Request: {e}")
        if not isinstance(obj, dict):
            raise BadRequest("unmarshal: the body is not a JSON object")
        for key, value in obj.items():
            key = SNAKE.get(key, key)
            if key not in kinds:
                continue  # protojson with DiscardUnknown
            kind = kinds[key]
            if kind == "e" and isinstance(value, str):
                if value not in FORMATS or (old and FORMATS[value] == 4):
                    raise BadRequest(f'proto: (line 1:1): invalid value for enum field format: "{value}"')
                value = FORMATS[value]
            if kind in ("i", "e"):
                value = int(value)
            req[key] = value
    else:
        try:
            for num, wt, v in fields(body):
                if num not in schema:
                    continue
                name, kind = schema[num]
                if kind == "S":
                    req[name].append(v.decode())
                elif kind == "s":
                    req[name] = v.decode()
                else:
                    req[name] = signed(v)
        except (ValueError, IndexError, UnicodeDecodeError) as e:
            raise BadRequest(f"unmarshal into {method}Request: {e}")
    return req


def answer(method, req, tenant_ok, old, empty):
    """(json object, protobuf bytes) for a request."""
    start, end = req.get("start", 0), req.get("end", 0)
    if method == "ProfileTypes":
        types = sorted({t for e in CATALOGUE if tenant_ok and in_range(e, start, end) for t in e.types()})
        objs = []
        w = Writer()
        for t in types:
            name, st, su, pt, pu = t.split(":")[:5]
            objs.append({"ID": t, "name": name, "sampleType": st, "sampleUnit": su, "periodType": pt, "periodUnit": pu})
            x = Writer()
            for n, v in ((1, t), (2, name), (4, st), (5, su), (6, pt), (7, pu)):
                x.string(n, v)
            w.bytes(1, x.out)
        return ({"profileTypes": objs} if objs else {}), bytes(w.out)
    if method in ("LabelNames", "LabelValues", "Series"):
        matchers = [parse_selector(m) for m in req["matchers"]]
        sets = []
        for e in CATALOGUE:
            if tenant_ok and in_range(e, start, end):
                sets += [s for s in e.series() if all(matches(s, m) for m in matchers)]
        if method == "LabelNames":
            names = sorted({k for s in sets for k in s})
        elif method == "LabelValues":
            names = sorted({s[req["name"]] for s in sets if req["name"] in s})
        if method in ("LabelNames", "LabelValues"):
            w = Writer()
            for n in names:
                w.string(1, n)
            return ({"names": names} if names else {}), bytes(w.out)
        keep = req["labelNames"]
        unique = []
        for s in sets:
            pairs = sorted((k, v) for k, v in s.items() if not keep or k in keep)
            if pairs not in unique:
                unique.append(pairs)
        w = Writer()
        for pairs in unique:
            lw = Writer()
            for k, v in pairs:
                pw = Writer()
                pw.string(1, k)
                pw.string(2, v)
                lw.bytes(1, pw.out)
            w.bytes(2, lw.out)
        objs = [{"labels": [{"name": k, "value": v} for k, v in pairs]} for pairs in unique]
        return ({"labelsSet": objs} if objs else {}), bytes(w.out)
    # SelectMergeStacktraces, SelectMergeProfile
    _, sample_type, sample_unit, period_type, period_unit = check_profile_type(req["profileTypeID"])[:5]
    pt = req["profileTypeID"]
    matchers = parse_selector(req["labelSelector"])
    merged = None
    if not empty and tenant_ok:
        chosen = [e for e in CATALOGUE if in_range(e, start, end) and pt in e.types()
                  and matches(dict(e.labels, __name__=e.name, __profile_type__=pt), matchers)]
        if chosen:
            merged = merge([e.profile for e in chosen], sample_type, sample_unit, start, end)
    pprof = encode_pprof(merged)
    if method == "SelectMergeProfile":
        return pprof_json(merged), pprof
    if req["format"] == 4 and not old:
        w = Writer()
        inner = Writer()
        inner.bytes(1, pprof)
        w.bytes(5, inner.out)
        return {"pprof": {"profile": pprof_json(merged)}}, bytes(w.out)
    total = sum(s["val"][0] for s in merged["sample"]) if merged else 0
    fg = Writer()
    fg.string(1, "total")
    level = Writer()
    level.packed(1, [0, total, 0, 0])
    fg.bytes(2, level.out)
    fg.int(3, total)
    w = Writer()
    w.bytes(1, fg.out)
    return {"flamegraph": {"names": ["total"], "levels": [{"values": ["0", str(total), "0", "0"]}],
                           "total": str(total)}}, bytes(w.out)


CONNECT_STATUS = {"invalid_argument": 400, "unauthenticated": 401, "permission_denied": 403, "not_found": 404,
                  "resource_exhausted": 429, "internal": 500, "unimplemented": 501, "unavailable": 503}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body, content_type, extra=None):
        headers = dict(extra or {})
        if len(body) >= 1024 and "gzip" in self.headers.get("Accept-Encoding", "") and status == 200:
            body = gzip.compress(body, 6)
            headers["Content-Encoding"] = "gzip"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _error(self, code, message, extra=None):
        self._send(CONNECT_STATUS[code], json.dumps({"code": code, "message": message}).encode(), "application/json", extra)

    def do_GET(self):
        if self.path == "/test/requests":
            with LOCK:
                body = json.dumps(REQUESTS).encode()
            self._send(200, body, "application/json")
            return
        self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")

    def _authorized(self, grafana):
        auth = self.headers.get("Authorization", "")
        if grafana:
            return auth == f"Bearer {OPTIONS['grafana_token']}"
        if OPTIONS["token"] is None and OPTIONS["basic"] is None:
            return True
        if OPTIONS["token"] is not None and auth == f"Bearer {OPTIONS['token']}":
            return True
        if OPTIONS["basic"] is not None and auth == "Basic " + base64.b64encode(OPTIONS["basic"].encode()).decode():
            return True
        return False

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        path = self.path
        grafana = False
        if path.startswith("/api/datasources/proxy/uid/"):
            rest = path[len("/api/datasources/proxy/uid/"):]
            uid, _, tail = rest.partition("/")
            if OPTIONS["grafana_uid"] is None or uid != OPTIONS["grafana_uid"]:
                self._send(404, json.dumps({"message": "Data source not found"}).encode(), "application/json")
                return
            grafana = True
            path = "/" + tail
        auth = self.headers.get("Authorization", "")
        with LOCK:
            REQUESTS.append({"path": self.path, "contentType": self.headers.get("Content-Type", ""),
                             "acceptEncoding": self.headers.get("Accept-Encoding", ""),
                             "connectProtocolVersion": self.headers.get("Connect-Protocol-Version", ""),
                             "tenant": self.headers.get("X-Scope-OrgID"),
                             "auth": auth.split(" ")[0].lower() if auth else "none"})
        fault = self.headers.get("X-Test-Fault", "") or OPTIONS["fault"]
        m = re.search(rb'__fault__\s*=\s*\\?"([^"\\]*)', body)
        if m:
            fault = m.group(1).decode()
        name, _, arg = fault.partition("=")
        if name == "notfound":
            self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")
            return
        if not path.startswith(PREFIX) or path[len(PREFIX):] not in SCHEMAS:
            self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")
            return
        method = path[len(PREFIX):]
        if grafana and not self._authorized(True):
            self._send(401, json.dumps({"message": f"invalid API key: {auth}", "traceID": ""}).encode(), "application/json")
            return
        if not grafana and not self._authorized(False):
            self._error("unauthenticated", f"invalid credential: {auth}")
            return
        tenant = self.headers.get("X-Scope-OrgID")
        tenant_ok = True
        if OPTIONS["tenants"] is not None:
            if not tenant:
                self._error("unauthenticated", "no org id")
                return
            tenant_ok = tenant in OPTIONS["tenants"]
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        if ctype not in ("application/json", "application/proto"):
            self._send(415, b"", "text/plain")
            return
        codec = "json" if ctype == "application/json" else "proto"
        old = OPTIONS["old"] or name == "old"

        if name in ("500-once", "503-once"):
            with LOCK:
                first = arg not in SEEN
                SEEN.add(arg)
            if first:
                if name == "500-once":
                    self._error("internal", "transient failure")
                else:
                    self._error("unavailable", "ingester not ready", {"Retry-After": "1"})
                return
        if name == "slow":
            time.sleep(int(arg or "1000") / 1000)
        if name == "401":
            self._error("unauthenticated", f"invalid credential: {auth}")
            return
        if name == "403":
            self._error("permission_denied", "the access policy does not allow profiles:read")
            return
        if name == "500":
            self._error("internal", "the querier failed")
            return
        if name == "503":
            self._error("unavailable", "no healthy queriers", {"Retry-After": arg} if arg else None)
            return
        if name == "429":
            self._error("resource_exhausted", "too many requests", {"Retry-After": arg or "1"})
            return
        if name == "ancient" and method == "SelectMergeStacktraces":
            self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")
            return
        if name == "close":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if name == "html":
            self._send(200, b"<!doctype html><html><body>Sign in</body></html>", "text/html; charset=utf-8")
            return
        if name == "garbage":
            self._send(200, b"\x0a\xff\xff\xff\xff\x0f" + b"\x00" * 32, "application/" + codec)
            return
        if name == "huge":
            size = int(float(arg or "32") * 1024 * 1024)
            self.send_response(200)
            self.send_header("Content-Type", "application/" + codec)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"\x00" * 65536
            sent = 0
            try:
                while sent < size:
                    n = min(len(chunk), size - sent)
                    self.wfile.write(chunk[:n])
                    sent += n
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        try:
            req = parse_request(method, codec, body, old)
            obj, raw = answer(method, req, tenant_ok, old, name == "empty")
        except BadRequest as e:
            self._error("invalid_argument", str(e))
            return
        if codec == "json":
            self._send(200, json.dumps(obj).encode(), "application/json")
        else:
            self._send(200, raw, "application/proto")


def main():
    args = sys.argv[1:]
    while args:
        a = args.pop(0)
        if a == "--token":
            OPTIONS["token"] = args.pop(0)
        elif a == "--basic":
            OPTIONS["basic"] = args.pop(0)
        elif a == "--tenants":
            OPTIONS["tenants"] = args.pop(0).split(",")
        elif a == "--grafana-uid":
            OPTIONS["grafana_uid"] = args.pop(0)
        elif a == "--grafana-token":
            OPTIONS["grafana_token"] = args.pop(0)
        elif a == "--old":
            OPTIONS["old"] = True
        elif a == "--fault":
            OPTIONS["fault"] = args.pop(0)
        else:
            sys.exit(f"unknown option {a}")
    ThreadingHTTPServer.request_queue_size = 64
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    # Stop when the parent closes our stdin, so a crashed test leaves nothing behind.
    threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()

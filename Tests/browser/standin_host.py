#!/usr/bin/env python3
"""A stand-in for the local web host: serves frontend-stub/ at /a/flamegraphai-explain-app/ under a strict CSP and
answers the plugin's resource routes from the JSON fixtures in Tests/browser/data (or, with --backend, from a
real `flamegraph-ai serve` child over JSON-RPC). The real host must answer the same contract (frontend-stub/README.md).

    python3 Tests/browser/standin_host.py [--port 0] [--backend .build/release/flamegraph-ai]

Prints "URL http://127.0.0.1:PORT/a/flamegraphai-explain-app/" once listening. Test-only controls (not part of
the contract): POST /__standin/control {"session": {...}|null, "restartOnce": true, "clearRequests": true,
"resetSettings": true}, GET /__standin/requests (each resource request with the pluginContext a host sends the
backend, secrets included: a test control on 127.0.0.1 only).

As Grafana, for the plugin's module.js (Tests/browser/test_grafana.py): the plugin's files under
/public/plugins/flamegraphai-explain-app/ (frontend-stub/), the app settings API /api/plugins/<id>/settings (GET: the
plugin meta with jsonData and secureJsonFields, never a secret; POST {enabled, pinned, jsonData, secureJsonData}:
stored, secure keys merged, and carried by every later resource request in
pluginContext.appInstanceSettings {jsonData, decryptedSecureJsonData}), the test page /__standin/grafana/
(Tests/browser/grafana/) and React 18's UMD builds under /__standin/react-umd/ when Debian's node-react and
node-react-dom are installed (or FLAMEGRAPH_AI_REACT_UMD names a folder holding react(-dom).development.js).
Uploads (POST /upload, the file's bytes) are kept in memory, like the real host, and answered {name}.
"""
import argparse
import base64
import binascii
import hashlib
import json
import mimetypes
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
STATIC = os.path.join(REPO, "frontend-stub")
DATA = os.path.join(HERE, "data")
PLUGIN_ID = "flamegraphai-explain-app"
PAGE = "/a/flamegraphai-explain-app/"
API = "/api/plugins/flamegraphai-explain-app/resources"
SETTINGS = "/api/plugins/flamegraphai-explain-app/settings"
PUBLIC = "/public/plugins/flamegraphai-explain-app/"
GRAFANA_PAGE = "/__standin/grafana/"
GRAFANA_FIXTURE = os.path.join(HERE, "grafana")
REACT_UMD = "/__standin/react-umd/"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'")
RPC = {"/info": "profile.info", "/top": "profile.top", "/flamegraph": "profile.flamegraph", "/diff": "profile.diff"}
# Answered only with --backend (the fixtures hold no explanations).
EXPLAIN_ROUTES = {"/explain", "/explainDiff", "/explain/followUp"}
MAX_UPLOAD_BYTES = 64_000_000


class Uploads:
    """Uploaded files by name ("upload-" + 16 hex digits of their sha256), the last 32 kept."""
    lock = threading.Lock()
    by_name = {}

    @classmethod
    def add(cls, raw):
        name = "upload-" + hashlib.sha256(raw).hexdigest()[:16]
        with cls.lock:
            cls.by_name.pop(name, None)
            cls.by_name[name] = raw
            while len(cls.by_name) > 32:
                cls.by_name.pop(next(iter(cls.by_name)))
        return name

    @classmethod
    def get(cls, name):
        with cls.lock:
            return cls.by_name.get(name)


class HostError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def react_umd_dirs():
    """Where React 18's UMD builds are: FLAMEGRAPH_AI_REACT_UMD, else Debian's node-react / node-react-dom."""
    env = os.environ.get("FLAMEGRAPH_AI_REACT_UMD")
    if env:
        return [env]
    return ["/usr/share/nodejs/react/umd", "/usr/share/nodejs/react-dom/umd"]


class Fixtures:
    def __init__(self):
        with open(os.path.join(DATA, "index.json")) as f:
            self.index = json.load(f)
        self.by_sha = {e["sha256"]: name for name, e in self.index["profiles"].items()}

    def name_of(self, ref, where):
        if not isinstance(ref, dict):
            raise HostError(400, f"{where} must be {{pprof}} or {{name}}")
        if "name" in ref and Uploads.get(ref["name"]) is not None:
            sha = hashlib.sha256(Uploads.get(ref["name"])).hexdigest()
            if sha not in self.by_sha:
                raise HostError(400, f"{where}: the stand-in host has no fixture for this profile (sha256 {sha[:12]}…)")
            return self.by_sha[sha]
        if "name" in ref:
            if ref["name"] not in self.index["profiles"]:
                raise HostError(404, f"{where}.name: no profile named {ref['name']!r}")
            return ref["name"]
        if "pprof" in ref:
            try:
                raw = base64.b64decode(ref["pprof"], validate=False)
            except (binascii.Error, ValueError):
                raise HostError(400, f"{where}.pprof is not valid base64")
            sha = hashlib.sha256(raw).hexdigest()
            if sha not in self.by_sha:
                raise HostError(400, f"{where}: the stand-in host has no fixture for this profile (sha256 {sha[:12]}…)")
            return self.by_sha[sha]
        raise HostError(400, f"{where} needs 'pprof' (base64) or 'name'")

    def load(self, file):
        with open(os.path.join(DATA, file), "rb") as f:
            return f.read()

    def answer(self, route, body, context=None):
        if route == "/diff":
            a = self.name_of(body.get("baseline"), "baseline")
            b = self.name_of(body.get("comparison"), "comparison")
            for d in self.index["diffs"].values():
                if d["baseline"] == a and d["comparison"] == b:
                    return self.load(d["file"])
            raise HostError(400, f"the stand-in host has no diff fixture for {a} vs {b}")
        name = self.name_of(body.get("profile"), "profile")
        entry = self.index["profiles"][name]
        kind = route.strip("/")
        key = kind
        st = body.get("sampleType")
        if kind != "info" and st is not None:
            if isinstance(st, str):
                info = json.loads(self.load(entry["files"]["info"]))
                idx = [i for i, t in enumerate(info["sampleTypes"]) if st in (t["type"], f"{t['type']}/{t['unit']}")]
                if not idx:
                    raise HostError(400, f"sampleType: no sample type {st!r}")
                st = idx[0]
            key = f"{kind}.{st}" if f"{kind}.{st}" in entry["files"] else kind
            if key == kind and st != entry.get("defaultSampleType") and entry["sampleTypes"] > 1:
                raise HostError(400, f"the stand-in host has no {kind} fixture for sample type {st}")
        return self.load(entry["files"][key])


class Backend:
    """A `flamegraph-ai serve` child: a resource request becomes a JSON-RPC `callResource` with the pluginContext, as
    a host must send it (one at a time)."""

    def __init__(self, binary, fixtures):
        self.proc = subprocess.Popen([binary, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.lock = threading.Lock()
        self.next_id = 0
        self.fixtures = fixtures

    def resolve(self, ref):
        # Server-side names resolve to the profile file's bytes.
        if isinstance(ref, dict) and Uploads.get(ref.get("name")) is not None:
            return {"pprof": base64.b64encode(Uploads.get(ref["name"])).decode()}
        if isinstance(ref, dict) and "name" in ref:
            entry = self.fixtures.index["profiles"].get(ref["name"])
            if not entry:
                raise HostError(404, f"no profile named {ref['name']!r}")
            src = entry["source"]
            path = os.path.join(os.environ.get("FLAMEGRAPH_AI_SHARED", "/work/shared"), src[8:]) if src.startswith("@shared/") else os.path.join(REPO, src)
            with open(path, "rb") as f:
                return {"pprof": base64.b64encode(f.read()).decode()}
        return ref

    def answer(self, route, body, context=None):
        params = dict(body)
        for k in ("profile", "baseline", "comparison"):
            if k in params:
                params[k] = self.resolve(params[k])
        call = {"pluginContext": context or {}, "path": route.lstrip("/"), "method": "POST", "url": route.lstrip("/"),
                "headers": {"Content-Type": ["application/json"]},
                "body": base64.b64encode(json.dumps(params).encode()).decode()}
        with self.lock:
            self.next_id += 1
            rid = self.next_id
            self.proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": rid, "method": "callResource", "params": call}).encode() + b"\n")
            self.proc.stdin.flush()
            while True:
                reply = json.loads(self.proc.stdout.readline())
                if reply.get("id") == rid:
                    break
        if "error" in reply:
            raise HostError(500, reply["error"].get("message", "error"))
        answer = base64.b64decode(reply["result"].get("body") or b"")
        status = reply["result"].get("status", 200)
        if status != 200:
            try:
                message = json.loads(answer).get("error", "error")
            except ValueError:
                message = answer.decode(errors="replace")
            raise HostError(status, message)
        return answer


class State:
    session = None
    restart_once = False
    requests = []
    lock = threading.Lock()
    settings = None  # {enabled, pinned, jsonData, secure, updated}

    @classmethod
    def reset_settings(cls):
        cls.settings = {"enabled": False, "pinned": False, "jsonData": {}, "secure": {}, "updated": int(time.time() * 1000)}

    @classmethod
    def plugin_context(cls):
        """What Grafana sends the backend with a resource call to this app (the SDK's PluginContext)."""
        s = cls.settings
        return {
            "orgId": 1, "pluginId": PLUGIN_ID,
            "user": {"login": "admin", "name": "admin", "email": "admin@localhost", "role": "Admin"},
            "appInstanceSettings": {"jsonData": dict(s["jsonData"]), "decryptedSecureJsonData": dict(s["secure"]),
                                    "updated": s["updated"]},
        }

    @classmethod
    def meta(cls):
        """GET /api/plugins/<id>/settings as Grafana answers it: no secret values, only which are set."""
        with open(os.path.join(REPO, "plugin.json")) as f:
            manifest = json.load(f)
        s = cls.settings
        base = PUBLIC.strip("/")
        return {
            "id": PLUGIN_ID, "type": "app", "name": manifest.get("name"), "info": manifest.get("info"),
            "includes": manifest.get("includes"), "dependencies": manifest.get("dependencies"),
            "enabled": s["enabled"], "pinned": s["pinned"], "jsonData": s["jsonData"],
            "secureJsonFields": {k: True for k, v in s["secure"].items() if v},
            "baseUrl": base, "module": base + "/module.js", "defaultNavUrl": PAGE + "explain",
        }


State.reset_settings()


def make_handler(source, fixtures):
    class Handler(BaseHTTPRequestHandler):
        server_version = "flamegraph-ai-standin"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet
            pass

        def send(self, status, body, ctype="application/json", extra=None):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            if ctype.startswith("text/html"):
                self.send_header("Content-Security-Policy", CSP)
            with State.lock:
                if State.restart_once and self.path.startswith(API):
                    State.restart_once = False
                    self.send_header("X-Backend-Restarted", "1")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def json(self, status, obj):
            self.send(status, json.dumps(obj).encode())

        def record(self, body_keys, **extra):
            with State.lock:
                State.requests.append({
                    "method": self.command, "path": urlsplit(self.path).path,
                    "contentType": self.headers.get("Content-Type"), "bodyKeys": body_keys,
                    "origin": self.headers.get("Origin"), "secFetchSite": self.headers.get("Sec-Fetch-Site"), **extra,
                })

        def do_GET(self):
            path = urlsplit(self.path).path
            if path in ("/", "/a/flamegraphai-explain-app"):
                self.send_response(302)
                self.send_header("Location", PAGE)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if path.startswith(PAGE):
                return self.static(path[len(PAGE):])
            if path.startswith(PUBLIC):
                return self.static(path[len(PUBLIC):])
            if path.startswith(GRAFANA_PAGE):
                return self.static(path[len(GRAFANA_PAGE):], GRAFANA_FIXTURE)
            if path.startswith(REACT_UMD):
                name = os.path.basename(path)
                for d in react_umd_dirs():
                    if os.path.isfile(os.path.join(d, name)):
                        return self.static(name, d)
                return self.send(404, b"not found", "text/plain")
            if path == SETTINGS:
                with State.lock:
                    meta = State.meta()
                return self.json(200, meta)
            if path == API + "/profiles":
                self.record(None)
                names = [n for n in fixtures.index["profiles"] if n != "large"]
                return self.json(200, {"profiles": [{"name": n} for n in names]})
            if path == API + "/session":
                self.record(None)
                return self.json(200, {"open": State.session, "limits": {"maxUploadBytes": MAX_UPLOAD_BYTES}})
            if path == "/__standin/requests":
                return self.json(200, {"requests": State.requests})
            if path.startswith(API):
                return self.json(405, {"error": f"{path[len(API):]} takes POST with a JSON body"})
            self.json(404, {"error": "not found"})

        do_HEAD = do_GET

        def static(self, rel, root=STATIC):
            rel = rel or "index.html"
            full = os.path.realpath(os.path.join(root, rel))
            if not full.startswith(os.path.realpath(root) + os.sep) or not os.path.isfile(full):
                return self.send(404, b"not found", "text/plain")
            ctype = mimetypes.guess_type(full)[0] or "application/octet-stream"
            if full.endswith(".js"):
                ctype = "text/javascript"
            if ctype.startswith("text/") or ctype.endswith("javascript"):
                ctype += "; charset=utf-8"
            with open(full, "rb") as f:
                self.send(200, f.read(), ctype)

        def do_POST(self):
            path = urlsplit(self.path).path
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if path == "/__standin/control":
                ctl = json.loads(raw or b"{}")
                with State.lock:
                    if "session" in ctl:
                        State.session = ctl["session"]
                    if ctl.get("restartOnce"):
                        State.restart_once = True
                    if ctl.get("clearRequests"):
                        State.requests = []
                    if ctl.get("resetSettings"):
                        State.reset_settings()
                return self.json(200, {"ok": True})
            if path == SETTINGS:
                return self.save_settings(raw)
            if not path.startswith(API):
                return self.json(404, {"error": "not found"})
            route = path[len(API):]
            if route == "/upload":
                self.record(None)
                if length > MAX_UPLOAD_BYTES:
                    return self.json(413, {"error": "too large"})
                return self.json(200, {"name": Uploads.add(raw), "bytes": len(raw)})
            if route not in RPC and not (isinstance(source, Backend) and route in EXPLAIN_ROUTES):
                return self.json(404, {"error": f"no resource at {route}", "routes": sorted(RPC) + ["/profiles", "/session"]})
            if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                self.record(None)
                return self.json(415, {"error": "the body must be application/json"})
            try:
                body = json.loads(raw or b"{}")
            except ValueError as e:
                return self.json(400, {"error": f"body is not JSON: {e}"})
            with State.lock:
                context = State.plugin_context()
            self.record(sorted(body) if isinstance(body, dict) else None, pluginContext=context)
            try:
                self.send(200, source.answer(route, body, context))
            except HostError as e:
                self.json(e.status, {"error": str(e)})

        def save_settings(self, raw):
            """POST /api/plugins/<id>/settings as Grafana takes it: {enabled, pinned, jsonData, secureJsonData}; secure
            keys not sent are kept, a key sent as "" is cleared."""
            try:
                body = json.loads(raw or b"{}")
            except ValueError as e:
                return self.json(400, {"message": f"body is not JSON: {e}"})
            if not isinstance(body, dict) or not isinstance(body.get("jsonData", {}), dict) \
                    or not isinstance(body.get("secureJsonData", {}), dict):
                return self.json(400, {"message": "expected {enabled, pinned, jsonData: {}, secureJsonData: {}}"})
            with State.lock:
                s = State.settings
                s["enabled"] = bool(body.get("enabled", s["enabled"]))
                s["pinned"] = bool(body.get("pinned", s["pinned"]))
                if "jsonData" in body:
                    s["jsonData"] = body["jsonData"]
                for k, v in (body.get("secureJsonData") or {}).items():
                    s["secure"][k] = str(v)
                s["updated"] = int(time.time() * 1000)
            self.record(sorted(body), settings={
                "enabled": body.get("enabled"), "pinned": body.get("pinned"), "jsonData": body.get("jsonData"),
                "secureJsonKeys": sorted(body.get("secureJsonData") or {})})
            return self.json(200, {"message": "Plugin settings updated"})

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--backend", help="answer from a real flamegraph-ai serve instead of the fixtures")
    args = ap.parse_args()
    fixtures = Fixtures()
    source = Backend(args.backend, fixtures) if args.backend else fixtures
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(source, fixtures))
    print(f"URL http://127.0.0.1:{server.server_address[1]}{PAGE}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())

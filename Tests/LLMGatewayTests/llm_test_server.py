#!/usr/bin/env python3
"""A local OpenAI-compatible test server for the gateway tests (Python standard library only).

Listens on 127.0.0.1 with an ephemeral port and prints `PORT <n>` on its first stdout line. Speaks:
  POST /v1/chat/completions                                          (openai mode)
  POST /api/plugins/grafana-llm-app/resources/llm/v1/chat/completions (Grafana LLM app, current route)
  POST /api/plugins/grafana-llm-app/resources/openai/v1/chat/completions (deprecated route, still served)
  GET  /api/plugins/grafana-llm-app/health                           (the LLM app's health)
Requests need `Authorization: Bearer <token>` equal to --token; otherwise 401 with an error body that
echoes the presented credential (so tests can prove the client never repeats it).

Misbehaviour on demand, per request: header `X-Test-Fault: NAME[=ARG]` or model `fault:NAME[=ARG]`:
  slow=MS        wait MS milliseconds before answering
  stall=N        (streaming) send N chunks, then hold the connection open without sending anything
  close          close the connection without a response
  429=SECONDS    answer 429 with Retry-After
  500            answer 500 with an OpenAI-style error body
  invalid-json   answer 200 with a body that is not JSON
  broken-sse     (streaming) send one valid chunk, then a data line that is not JSON, then close
  huge=MB        answer 200 with a body of MB megabytes
  midstream-error (streaming) send a chunk, then an OpenAI error object in a data line
  429-once=KEY   answer 429 (Retry-After: 1) the first time KEY is seen, then normally
  500-once=KEY   answer 500 the first time KEY is seen, then normally
  slow500=MS     wait MS milliseconds, then answer 500 (a retryable failure that takes time)
  replay=NAME[@MS] answer with a real server's recorded body from Tests/Fixtures/llm/recorded: NAME.response.json,
                 or streamed NAME.sse one event at a time, MS milliseconds apart (default 4)
  reply=KEY      answer with the text stored under KEY by --replies FILE (a JSON object of texts)
  no-stream-options  answer 400 to a request that carries stream_options (a server that does not know the field)
GET /v1/models lists the models (openai mode's health check): test-model and gpt-4o-mini (the default), and with --models-json FILE that file's body
(a recorded llama-server answer, or its recording wrapped as {status, content-type, body}). GET /__test/streams answers {"streams": [{"name", "sent", "total", "closedEarly"}]}:
how many events of each replayed stream went out, and whether the client closed the connection before the end. GET /__test/requests answers {"count": N, "requests":
[...], "disconnects": D}: how many other requests arrived (tests use it to prove that a refused request never reached
the model), the last 50 chat requests ({path, stream, model, messages}), and how many stalled streams the client
closed while the server held them. POST /__test/config {"reply": TEXT|null, "fault": "NAME[=ARG]"|"", "delayMs": MS}
changes the defaults at run time (a test of a host that holds the model settings cannot send X-Test-Fault): the
reply, a fault for every request without one of its own, and a pause before each streamed word.
With --legacy it serves only the LLM app's older /openai/v1/... routes (404 on /llm/v1/...).
A streamed request with stream_options.include_usage gets a last chunk with usage and no choices.
Replies echo the last user message: "echo: <text>" (with --reply TEXT: always TEXT); streamed in word-sized chunks with a random "p"
padding field (as the LLM app adds), keep-alive comments and CRLF line endings when --crlf is given.
"""
import json
import os
import random
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "test-token"
LEGACY = False
SEEN = set()
SEEN_LOCK = threading.Lock()
COUNT = 0
CRLF = False
REPLY = None
REPLIES = {}
MODELS_BODY = None
STREAMS = []
RECORDED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "llm", "recorded")
CONFIG = {"reply": None, "fault": "", "delayMs": 0}
LOG = []
DISCONNECTS = 0
ROUTES = (
    "/v1/chat/completions",
    "/api/plugins/grafana-llm-app/resources/llm/v1/chat/completions",
    "/api/plugins/grafana-llm-app/resources/openai/v1/chat/completions",
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _json(self, status, obj, extra=None):
        self._body(status, json.dumps(obj).encode(), extra)

    def _body(self, status, body, extra=None):
        """Answers `body` (bytes, sent as they are) as application/json."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _authorized(self):
        auth = self.headers.get("Authorization", "")
        if auth == f"Bearer {TOKEN}":
            return True
        self._json(401, {"error": {"message": f"invalid credential: {auth}", "type": "invalid_request_error"}})
        return False

    def _count(self):
        global COUNT
        with SEEN_LOCK:
            COUNT += 1

    def do_GET(self):
        if self.path == "/__test/requests":
            with SEEN_LOCK:
                self._json(200, {"count": COUNT, "requests": LOG[-50:], "disconnects": DISCONNECTS})
            return
        if self.path == "/__test/streams":
            with SEEN_LOCK:
                self._json(200, {"streams": [dict(s) for s in STREAMS]})
            return
        self._count()
        if self.path == "/v1/models":
            if not self._authorized():
                return
            if MODELS_BODY is not None:
                self._body(200, MODELS_BODY)
                return
            self._json(200, {"object": "list", "data": [{"id": "test-model", "object": "model"}, {"id": "gpt-4o-mini", "object": "model"}]})
            return
        if self.path.startswith("/api/plugins/grafana-llm-app/health"):
            if not self._authorized():
                return
            self._json(200, {"status": "OK", "message": "", "details": {
                "llmProvider": {"configured": True, "ok": True, "models": {"base": {"ok": True}, "large": {"ok": True}}},
                "vector": {"enabled": False, "ok": False}, "version": "test"}})
            return
        self._json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        if self.path == "/__test/config":
            try:
                change = json.loads(raw or b"{}")
            except Exception:
                self._json(400, {"error": {"message": "config is not JSON"}})
                return
            with SEEN_LOCK:
                CONFIG.update({k: v for k, v in change.items() if k in CONFIG})
                self._json(200, dict(CONFIG))
            return
        self._count()
        if self.path not in ROUTES or (LEGACY and "/resources/llm/" in self.path):
            self._json(404, {"error": {"message": "not found"}})
            return
        if not self._authorized():
            return
        try:
            req = json.loads(raw)
        except Exception:
            self._json(400, {"error": {"message": "request is not JSON"}})
            return
        fault = self.headers.get("X-Test-Fault", "")
        model = str(req.get("model", ""))
        if model.startswith("fault:"):
            fault = model[len("fault:"):]
        with SEEN_LOCK:
            fault = fault or CONFIG["fault"] or ""
            reply = CONFIG["reply"]
            LOG.append({"path": self.path, "stream": bool(req.get("stream")), "model": model,
                        "messages": req.get("messages") or []})
            del LOG[:-50]
        name, _, arg = fault.partition("=")
        messages = req.get("messages") or [{}]
        if reply is None:
            reply = REPLY
        text = reply if reply is not None else "echo: " + str(messages[-1].get("content", ""))
        if name == "reply":
            text = REPLIES[arg]
        if name == "no-stream-options" and "stream_options" in req:
            # As a server that does not know the field answers.
            self._json(400, {"error": {"message": "unknown field: stream_options", "type": "invalid_request_error"}})
            return
        if name == "replay":
            self._replay(req, *arg.partition("@")[::2])
            return

        if name in ("429-once", "500-once"):
            with SEEN_LOCK:
                first = arg not in SEEN
                SEEN.add(arg)
            if first and name == "429-once":
                self._json(429, {"error": {"message": "rate limited", "type": "rate_limit"}}, {"Retry-After": "1"})
                return
            if first:
                self._json(500, {"error": {"message": "transient failure", "type": "server_error"}})
                return
        if name == "slow":
            time.sleep(int(arg or "1000") / 1000)
        if name == "slow500":
            time.sleep(int(arg or "1000") / 1000)
            self._json(500, {"error": {"message": "slow failure", "type": "server_error"}})
            return
        if name == "close":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if name == "429":
            self._json(429, {"error": {"message": "rate limited", "type": "rate_limit"}}, {"Retry-After": arg or "1"})
            return
        if name == "500":
            self._json(500, {"error": {"message": "the provider failed", "type": "server_error"}})
            return
        if name == "invalid-json":
            self._body(200, b"{this is not json")
            return
        if name == "huge":
            size = int(float(arg or "32") * 1024 * 1024)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"x" * 65536
            sent = 0
            try:
                while sent < size:
                    n = min(len(chunk), size - sent)
                    self.wfile.write(chunk[:n])
                    sent += n
            except (BrokenPipeError, ConnectionResetError):
                pass
            return

        if req.get("stream"):
            self._stream(req, text, name, arg)
            return
        self._json(200, {
            "id": "chatcmpl-test", "object": "chat.completion", "created": 1700000000, "model": model or "test",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": len(text.split()), "total_tokens": 10 + len(text.split())},
        })

    def _replay(self, req, name, delay):
        if not name.replace("-", "").isalnum():
            self._json(400, {"error": {"message": "bad replay name"}})
            return
        if not req.get("stream"):
            with open(os.path.join(RECORDED, name + ".response.json"), "rb") as f:
                self._body(200, f.read())
            return
        with open(os.path.join(RECORDED, name + ".sse"), "rb") as f:
            events = [e + b"\n\n" for e in f.read().split(b"\n\n") if e.strip()]
        record = {"name": name, "sent": 0, "total": len(events), "closedEarly": False}
        with SEEN_LOCK:
            STREAMS.append(record)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        pause = int(delay or "4") / 1000
        try:
            for event in events:
                self.wfile.write(event)
                self.wfile.flush()
                with SEEN_LOCK:
                    record["sent"] += 1
                time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            with SEEN_LOCK:
                record["closedEarly"] = True

    def _stream(self, req, text, fault, arg):
        nl = b"\r\n" if CRLF else b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

        def chunk(delta, finish=None):
            obj = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1700000000,
                   "model": req.get("model", "test"), "p": "p" * random.randint(1, 20),
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return b"data: " + json.dumps(obj).encode() + nl + nl

        try:
            self.wfile.write(b": keep-alive" + nl + nl)
            self.wfile.write(chunk({"role": "assistant"}))
            words = text.split(" ")
            for i, word in enumerate(words):
                if fault == "stall" and i >= int(arg or "1"):
                    self.wfile.flush()
                    self._hold(60)
                    return
                delay = CONFIG["delayMs"]
                if delay:
                    time.sleep(delay / 1000)
                if fault == "broken-sse" and i == 1:
                    self.wfile.write(b"data: {\"choices\": [ this is broken" + nl + nl)
                    self.wfile.flush()
                    return
                if fault == "midstream-error" and i == 1:
                    self.wfile.write(b"data: " + json.dumps({"error": {"message": "provider failed mid-stream", "type": "server_error"}}).encode() + nl + nl)
                    self.wfile.flush()
                    return
                piece = word if i == 0 else " " + word
                # Split one event across two writes to exercise the client's framing.
                data = chunk({"content": piece})
                self.wfile.write(data[:7])
                self.wfile.flush()
                self.wfile.write(data[7:])
                self.wfile.flush()
            self.wfile.write(chunk({}, "stop"))
            if (req.get("stream_options") or {}).get("include_usage"):
                # As OpenAI and llama-server send it: a last chunk without choices.
                usage = {"prompt_tokens": 10, "completion_tokens": len(words), "total_tokens": 10 + len(words)}
                self.wfile.write(b"data: " + json.dumps({"id": "chatcmpl-test", "object": "chat.completion.chunk", "choices": [], "usage": usage}).encode() + nl + nl)
            self.wfile.write(b"data: [DONE]" + nl + nl)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


    def _hold(self, seconds):
        """Holds a stalled stream open; counts the client closing it (an upstream cancel reaching the model)."""
        global DISCONNECTS
        self.connection.settimeout(seconds)
        try:
            while True:
                if not self.connection.recv(4096):
                    with SEEN_LOCK:
                        DISCONNECTS += 1
                    return
        except (socket.timeout, OSError):
            return


def main():
    global TOKEN, CRLF, LEGACY, REPLY, REPLIES, MODELS_BODY
    args = sys.argv[1:]
    while args:
        a = args.pop(0)
        if a == "--token":
            TOKEN = args.pop(0)
        elif a == "--crlf":
            CRLF = True
        elif a == "--reply":
            REPLY = args.pop(0)
        elif a == "--replies":
            with open(args.pop(0)) as f:
                REPLIES = json.load(f)
        elif a == "--models-json":
            with open(args.pop(0), "rb") as f:
                MODELS_BODY = f.read()
            # A recording (protocol/models.json) wraps the body as {"status", "content-type", "body"}.
            wrapped = json.loads(MODELS_BODY)
            if isinstance(wrapped, dict) and isinstance(wrapped.get("body"), str) and "status" in wrapped:
                MODELS_BODY = wrapped["body"].encode()
        elif a == "--legacy":
            LEGACY = True  # an older LLM app: only the /openai/v1/... resource routes
    # A listen backlog for many simultaneous clients (the default of 5 makes connects wait for SYN retries).
    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    # Stop when the parent closes our stdin, so a crashed test leaves nothing behind.
    threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()

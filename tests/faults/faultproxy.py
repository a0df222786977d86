#!/usr/bin/env python3
"""tests/faults/faultproxy.py — an HTTP proxy on 127.0.0.1 in front of an AWS
emulator that injects faults on command. Standard library only.

    faultproxy.py PORT UPSTREAM_URL

Control: GET /__fault__?mode=MODE&count=N&after=K&delay=S
  mode   pass (default) | status (503 ServiceUnavailable) | throttle (503 SlowDown)
         | expired (400 ExpiredToken: temporary credentials AWS no longer takes)
         | close (drop the connection) | slow (wait `delay` s, then pass)
         | garbage | truncate (cut the upstream body in half) | huge (40 MiB body)
         | strip (remove what `pattern`, a regular expression, matches in the
           upstream body: a list that lags behind a write)
  count  how many requests get the fault (then back to pass); default: all
  after  let this many requests pass first
  match  only requests whose path contains this text are faulted (default: all)
  pattern  for strip
GET /__stats__ returns how many requests were proxied and faulted.
"""
import http.client
import http.server
import re
import sys
import threading
import time
import urllib.parse

state = {"mode": "pass", "count": -1, "after": 0, "delay": 0.0, "seen": 0, "faulted": 0,
         "match": "", "pattern": ""}
lock = threading.Lock()
UPSTREAM = urllib.parse.urlparse(sys.argv[2])


def next_fault(path):
    with lock:
        state["seen"] += 1
        if state["mode"] == "pass" or state["match"] not in path:
            return "pass"
        if state["after"] > 0:
            state["after"] -= 1
            return "pass"
        if state["count"] == 0:
            return "pass"
        if state["count"] > 0:
            state["count"] -= 1
        state["faulted"] += 1
        return state["mode"]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, ctype="application/xml"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def control(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        with lock:
            state["mode"] = q.get("mode", ["pass"])[0]
            state["count"] = int(q.get("count", ["-1"])[0])
            state["after"] = int(q.get("after", ["0"])[0])
            state["delay"] = float(q.get("delay", ["0"])[0])
            state["match"] = q.get("match", [""])[0]
            state["pattern"] = q.get("pattern", [""])[0]
        self.reply(200, b"ok", "text/plain")

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        conn = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp, data

    def handle_any(self):
        if self.path.startswith("/__fault__"):
            return self.control()
        if self.path.startswith("/__stats__"):
            with lock:
                return self.reply(200, ("%d %d" % (state["seen"], state["faulted"])).encode(), "text/plain")
        fault = next_fault(self.path)
        if fault == "close":
            self.close_connection = True
            self.connection.close()
            return
        if fault == "status":
            return self.reply(503, b"<Error><Code>ServiceUnavailable</Code><Message>injected outage</Message></Error>")
        if fault == "throttle":
            return self.reply(503, b"<Error><Code>SlowDown</Code><Message>injected throttling</Message></Error>")
        if fault == "expired":
            return self.reply(400, b"<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>")
        if fault == "garbage":
            return self.reply(200, b"\x00\xffthis is not xml <<<<")
        if fault == "huge":
            return self.reply(200, b"<a>" + b"x" * (40 << 20) + b"</a>")
        if fault == "slow":
            time.sleep(state["delay"])
        resp, data = self.forward()
        if fault == "truncate":
            data = data[: len(data) // 2]
        if fault == "strip":
            with lock:
                pattern = state["pattern"]
            data = re.sub(pattern.encode(), b"", data, flags=re.S)
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that hangs up on an injected fault is expected


if __name__ == "__main__":
    server = Server(("127.0.0.1", int(sys.argv[1])), Handler)
    server.serve_forever()

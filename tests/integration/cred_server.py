#!/usr/bin/env python3
"""tests/integration/cred_server.py — the credential endpoints a real
deployment has, on 127.0.0.1, for tests/integration/it_creds.c:

  * EC2 instance metadata, IMDSv2 only: PUT /latest/api/token (with a TTL
    header) gives a session token that every GET must carry;
  * the ECS / EKS Pod Identity container endpoint: GET /ecs/creds with an
    Authorization header equal to STATE/auth;
  * STS AssumeRoleWithWebIdentity, as AWS answers it: the request must be
    unsigned and carry the token of STATE/jwt and a RoleArn.

They hand out the credentials in STATE/creds.json ({AccessKeyId,
SecretAccessKey, Token, Expiration}), read again on every request so that
a test can rotate them. Every other request is passed to UPSTREAM (moto)
unchanged. STATE/hits.json counts the answers given, by endpoint.

usage: cred_server.py PORT STATE UPSTREAM
"""
import http.client
import json
import os
import secrets
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, STATE, UPSTREAM = int(sys.argv[1]), sys.argv[2], urllib.parse.urlsplit(sys.argv[3])
LOCK = threading.Lock()
IMDS_TOKENS = set()
ROLE = "iasql-instance-role"


def read(name):
    with open(os.path.join(STATE, name)) as f:
        return f.read().strip()


def hit(what):
    with LOCK:
        path = os.path.join(STATE, "hits.json")
        try:
            with open(path) as f:
                hits = json.load(f)
        except (OSError, ValueError):
            hits = {}
        hits[what] = hits.get(what, 0) + 1
        with open(path + ".tmp", "w") as f:
            json.dump(hits, f)
        os.replace(path + ".tmp", path)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("cred_server: " + (fmt % args) + "\n")

    def answer(self, status, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def creds(self):
        return json.loads(read("creds.json"))

    def do_PUT(self):
        data = self.body()
        if self.path == "/latest/api/token":
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            if not ttl or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return self.answer(400, "missing or invalid TTL header", "text/plain")
            tok = secrets.token_hex(16)
            IMDS_TOKENS.add(tok)
            return self.answer(200, tok, "text/plain")
        self.proxy(data)

    def do_GET(self):
        prefix = "/latest/meta-data/iam/security-credentials/"
        if self.path.startswith("/latest/"):
            if self.headers.get("X-aws-ec2-metadata-token") not in IMDS_TOKENS:
                return self.answer(401, "", "text/plain")  # IMDSv2 required
            if self.path == prefix:
                return self.answer(200, ROLE, "text/plain")
            if self.path == prefix + ROLE:
                c = self.creds()
                hit("imds")
                return self.answer(200, json.dumps({
                    "Code": "Success", "Type": "AWS-HMAC", "LastUpdated": "2026-01-01T00:00:00Z",
                    "AccessKeyId": c["AccessKeyId"], "SecretAccessKey": c["SecretAccessKey"],
                    "Token": c.get("Token", ""), "Expiration": c["Expiration"]}))
            return self.answer(404, "", "text/plain")
        if self.path == "/ecs/creds":
            if self.headers.get("Authorization") != read("auth"):
                return self.answer(401, json.dumps({"message": "bad authorization token"}))
            c = self.creds()
            hit("container")
            out = {k: c[k] for k in ("AccessKeyId", "SecretAccessKey", "Expiration")}
            if c.get("Token"):
                out["Token"] = c["Token"]
            out["RoleArn"] = "arn:aws:iam::123456789012:role/iasql-task-role"
            return self.answer(200, json.dumps(out))
        self.proxy(b"")

    def do_POST(self):
        data = self.body()
        form = urllib.parse.parse_qs(data.decode("utf-8", "replace"))
        if form.get("Action") == ["AssumeRoleWithWebIdentity"]:
            return self.web_identity(form)
        self.proxy(data)

    def do_DELETE(self):
        self.proxy(self.body())

    def do_HEAD(self):
        self.proxy(b"")

    def web_identity(self, form):
        def refuse(code, msg):
            self.answer(400, "<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code>"
                        "<Message>%s</Message></Error></ErrorResponse>" % (code, msg), "text/xml")
        if "Authorization" in self.headers or "X-Amz-Security-Token" in self.headers:
            return refuse("InvalidAction", "AssumeRoleWithWebIdentity takes no signature")
        if form.get("Version") != ["2011-06-15"]:
            return refuse("InvalidAction", "unknown version")
        if form.get("WebIdentityToken") != [read("jwt")]:
            return refuse("InvalidIdentityToken", "the token is not the one issued")
        if not form.get("RoleArn") or not form.get("RoleSessionName"):
            return refuse("MissingParameter", "RoleArn and RoleSessionName are required")
        c = self.creds()
        hit("web_identity")
        hit("session:" + form["RoleSessionName"][0])
        self.answer(200, (
            '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            "<AssumeRoleWithWebIdentityResult><Credentials>"
            "<AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>"
            "<SessionToken>%s</SessionToken><Expiration>%s</Expiration>"
            "</Credentials><AssumedRoleUser><Arn>%s/%s</Arn><AssumedRoleId>AROA:x</AssumedRoleId>"
            "</AssumedRoleUser></AssumeRoleWithWebIdentityResult>"
            "<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
            "</AssumeRoleWithWebIdentityResponse>") % (
                c["AccessKeyId"], c["SecretAccessKey"], c.get("Token", ""), c["Expiration"],
                form["RoleArn"][0], form["RoleSessionName"][0]), "text/xml")

    def proxy(self, data):
        conn = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=60)
        headers = {k: v for k, v in self.headers.items()}
        conn.request(self.command, self.path, body=data if data else None, headers=headers)
        r = conn.getresponse()
        out = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "server",
                                 "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)
        conn.close()


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()

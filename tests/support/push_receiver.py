"""An independent Web Push receiver and push-webhook receiver for the test suite.

It plays the browser's push service and the operator's webhook: it makes subscriptions (a P-256
key pair and an auth secret it keeps), decrypts each push with the third-party `http_ece` package
(RFC 8291 aes128gcm), verifies its VAPID signature with `py_vapid` (RFC 8292), and checks each
webhook call's HMAC-SHA256 signature and timestamp with Python's own `hmac`. Tests read what it
received and can make it answer 410, 429 or 500 for a while.

    python push_receiver.py --webhook-secret SECRET
prints `listening <port>` once it serves on 127.0.0.1.

  POST /subscriptions            -> {"id", "endpoint", "keys": {"p256dh", "auth"}}
  POST /behave/<id or "webhook"> {"status": 410, "times": 1, "retryAfter": "1"}
  GET  /received                 -> every push and webhook call, in arrival order
  POST /push/<id>                the push endpoint of subscription <id>
  POST /webhook                  the webhook
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import jwt as vapid_jwt

LOCK = threading.Lock()
SUBSCRIPTIONS = {}  # id -> (private key, auth secret)
BEHAVIOUR = {}  # id or "webhook" -> {"status", "times", "retryAfter"}
RECEIVED = []
WEBHOOK_IDS = set()
COUNTER = [0]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def scripted_answer(key):
    """The status the test asked for this receiver to answer next, if any."""
    with LOCK:
        rule = BEHAVIOUR.get(key)
        if rule and rule["times"] > 0:
            rule["times"] -= 1
            return rule["status"], rule.get("retryAfter")
    return None


def check_vapid(authorization, audience):
    """The VAPID claims, checked: `vapid t=<JWT>, k=<key>` (RFC 8292 §3), ES256, for this origin,
    expiring within 24 hours, with a contact."""
    scheme, _, params = authorization.partition(" ")
    assert scheme.lower() == "vapid", f"scheme {scheme!r}"
    parts = dict(
        item.strip().split("=", 1) for item in params.split(",") if item.strip()
    )
    token, key = parts["t"], parts["k"]
    header = json.loads(unb64url(token.split(".")[0]))
    assert header.get("alg") == "ES256", f"alg {header}"
    claims = vapid_jwt.decode(token, key)
    assert claims["aud"] == audience, f"aud {claims['aud']} != {audience}"
    now = time.time()
    assert now < claims["exp"] <= now + 24 * 3600, f"exp {claims['exp']}"
    assert claims["sub"].startswith(("mailto:", "https://")), f"sub {claims['sub']}"
    return claims, key


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=None, headers=()):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length)

    def do_GET(self):
        if self.path == "/received":
            with LOCK:
                self.reply(200, list(RECEIVED))
        else:
            self.reply(404, {"error": "no such route"})

    def do_POST(self):
        raw = self.body()
        if self.path == "/subscriptions":
            private = ec.generate_private_key(ec.SECP256R1())
            public = private.public_key().public_bytes(
                serialization.Encoding.X962,
                serialization.PublicFormat.UncompressedPoint,
            )
            auth = os.urandom(16)
            with LOCK:
                COUNTER[0] += 1
                sid = f"s{COUNTER[0]}"
                SUBSCRIPTIONS[sid] = (private, auth)
            port = self.server.server_address[1]
            self.reply(
                200,
                {
                    "id": sid,
                    "endpoint": f"http://127.0.0.1:{port}/push/{sid}",
                    "keys": {"p256dh": b64url(public), "auth": b64url(auth)},
                },
            )
        elif self.path.startswith("/behave/"):
            rule = json.loads(raw or b"{}")
            with LOCK:
                BEHAVIOUR[self.path[len("/behave/"):]] = {
                    "status": int(rule["status"]),
                    "times": int(rule.get("times", 1)),
                    "retryAfter": rule.get("retryAfter"),
                }
            self.reply(200, {"ok": True})
        elif self.path.startswith("/push/"):
            self.push(self.path[len("/push/"):], raw)
        elif self.path == "/webhook":
            self.webhook(raw)
        else:
            self.reply(404, {"error": "no such route"})

    def push(self, sid, raw):
        record = {"kind": "webpush", "subscription": sid, "at": time.time()}
        scripted = scripted_answer(sid)
        if scripted:
            status, retry_after = scripted
            record["status"] = status
            with LOCK:
                RECEIVED.append(record)
            headers = [("Retry-After", retry_after)] if retry_after else []
            return self.reply(status, {"scripted": status}, headers)
        try:
            with LOCK:
                private, auth = SUBSCRIPTIONS[sid]
            assert self.headers.get("Content-Encoding") == "aes128gcm", "Content-Encoding"
            port = self.server.server_address[1]
            claims, key = check_vapid(
                self.headers.get("Authorization", ""), f"http://127.0.0.1:{port}"
            )
            plain = http_ece.decrypt(
                raw, private_key=private, auth_secret=auth, version="aes128gcm"
            )
            record.update(
                status=201,
                payload=json.loads(plain),
                ttl=self.headers.get("TTL"),
                urgency=self.headers.get("Urgency"),
                topic=self.headers.get("Topic"),
                vapidKey=key,
                vapidSub=claims["sub"],
            )
        except Exception as err:  # the test reads the failure
            record.update(status=400, error=f"{type(err).__name__}: {err}")
        with LOCK:
            RECEIVED.append(record)
        self.reply(record["status"], {"ok": record["status"] == 201})

    def webhook(self, raw):
        record = {"kind": "webhook", "at": time.time()}
        webhook_id = self.headers.get("X-Webhook-Id", "")
        record["webhookId"] = webhook_id
        try:
            timestamp = self.headers.get("X-Timestamp", "")
            expected = "sha256=" + hmac.new(
                ARGS.webhook_secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256
            ).hexdigest()
            signature = self.headers.get("X-Signature", "")
            assert hmac.compare_digest(expected, signature), "signature"
            assert abs(time.time() - int(timestamp)) < 300, "stale timestamp"
            record["body"] = json.loads(raw)
        except Exception as err:
            record.update(status=401, error=f"{type(err).__name__}: {err}")
            with LOCK:
                RECEIVED.append(record)
            return self.reply(401, {"error": record["error"]})
        scripted = scripted_answer("webhook")
        if scripted:
            record["status"] = scripted[0]
            with LOCK:
                RECEIVED.append(record)
            return self.reply(scripted[0], {"scripted": scripted[0]})
        with LOCK:
            record["repeat"] = webhook_id in WEBHOOK_IDS
            WEBHOOK_IDS.add(webhook_id)
            record["status"] = 200
            RECEIVED.append(record)
        self.reply(200, {"ok": True})


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--webhook-secret", default="")
    ARGS = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

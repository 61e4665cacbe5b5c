#!/usr/bin/env python3
"""Tiny stand-ins for the services the shipped contact-submit workflow calls, on the ports the
shipped config/brain-gateway.yaml names:

  ai-agents     127.0.0.1:8008  POST /api/v1/agents/execute   scores a lead (score_hint, else 72)
  wagtail-cms   127.0.0.1:8002  POST /api/v1/cms/forms/submit stores the form
  django-crm    127.0.0.1:8003  POST /api/v1/crm/leads/create creates a lead (DELETE undoes it)
  notification  127.0.0.1:8010  POST /api/v1/notifications/alerts/high-value-lead

Each prints what it receives (the gateway's tenant, idempotency key and workflow headers
included). Standard library only: `python3 examples/contact-demo/backends.py`.
"""
import itertools
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counter = itertools.count(1)


def answer(name, method, path, body):
    """(status, JSON) for one request to the service `name`."""
    if path.endswith("/health"):
        return 200, {"status": "ok"}
    if name == "ai-agents" and path == "/api/v1/agents/catalog":
        return 200, {"agents": [{"name": "lead-scoring-agent", "actions": ["calculate_score"]}]}
    if name == "ai-agents" and path == "/api/v1/agents/execute":
        data = body.get("data") or {}
        hint = data.get("score_hint")
        score = hint if isinstance(hint, (int, float)) else 72
        return 200, {"score": score, "agent": body.get("agent"), "pattern": body.get("pattern")}
    if name == "wagtail-cms" and path == "/api/v1/cms/forms/submit":
        return 201, {"id": next(counter), "stored": True}
    if name == "django-crm" and path == "/api/v1/crm/leads/create":
        return 201, {"id": f"lead-{next(counter)}", "name": body.get("name"), "score": body.get("score")}
    if name == "django-crm" and method == "DELETE" and path.startswith("/api/v1/crm/leads/"):
        return 204, None
    if name == "notification" and path == "/api/v1/notifications/alerts/high-value-lead":
        return 202, {"sent": True, "lead": body.get("id")}
    return 404, {"error": "not_found"}


def handler_for(name):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle_one(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {}
            status, payload = answer(name, self.command, self.path.split("?")[0], body if isinstance(body, dict) else {})
            if not self.path.endswith("/health"):
                print(f"{name:13} {self.command} {self.path} tenant={self.headers.get('X-Tenant-ID')} "
                      f"key={self.headers.get('Idempotency-Key')} workflow={self.headers.get('X-Brain-Workflow')} → {status}", flush=True)
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_one

        def log_message(self, *args):
            pass

    return Handler


def main():
    # BACKENDS_HOST=0.0.0.0 serves other machines too (deploy/compose.yaml runs it in a container).
    host = os.environ.get("BACKENDS_HOST", "127.0.0.1")
    servers = [("ai-agents", 8008), ("wagtail-cms", 8002), ("django-crm", 8003), ("notification", 8010)]
    for name, port in servers:
        server = ThreadingHTTPServer((host, port), handler_for(name))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(f"{name} on http://{host}:{port}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()

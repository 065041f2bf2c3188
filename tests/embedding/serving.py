"""A small real embeddings server for the tests: the OpenAI ``/v1/embeddings`` API on 127.0.0.1, embedding with the
function it is given; it can also fail on purpose (an HTTP status for the first calls, a slow answer, a body that
is not JSON)."""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def embeddings_server(embed, *, fail_first: int = 0, status: int = 500, delay: float = 0.0, garbage: bool = False):
    """Yield the server's base URL (``http://127.0.0.1:PORT/v1``); ``calls`` on the server counts requests."""
    state = {"calls": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the name http.server calls
            state["calls"] += 1
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if state["calls"] <= fail_first:
                self._answer(status, b'{"error": "failing on purpose"}')
                return
            time.sleep(delay)
            if garbage:
                self._answer(200, b"<html>not json</html>")
                return
            vectors = embed(body["input"])
            data = [{"object": "embedding", "index": i, "embedding": [float(x) for x in vector]}
                    for i, vector in reversed(list(enumerate(vectors)))]  # out of order: the client sorts by index
            self._answer(200, json.dumps({"object": "list", "data": data, "model": body["model"]}).encode())

        def _answer(self, code, payload):
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.state = state
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()

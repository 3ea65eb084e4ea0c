"""A loopback HTTP server standing in for the lists' and vendors' download servers: serves
files from a dict, answers conditional requests (ETag / If-Modified-Since) with 304, counts
requests, and can be told to fail."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAST_MODIFIED = "Sat, 28 Nov 2026 12:00:00 GMT"


@dataclass
class ServedFiles:
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, answer status)
    base: str = ""

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


@contextmanager
def serve(files: dict[str, bytes]) -> Iterator[ServedFiles]:
    served = ServedFiles(dict(files))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            body = served.files.get(path)
            if body is None:
                served.requests.append((path, "404"))
                self.send_error(404)
                return
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                served.requests.append((path, "304"))
                self.send_response(304)
                self.end_headers()
                return
            served.requests.append((path, "200"))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", LAST_MODIFIED)
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()

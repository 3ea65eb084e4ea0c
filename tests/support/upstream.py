"""A local HTTPS server standing in for the real hosts an app contacts (graph.facebook.com,
zoom.us, ...): the proxy is redirected here while SNI and Host keep the real names.

It answers any path: `/status/NNN` with that status, `/bytes/N` with N bytes, `/ws` as a
WebSocket echo server, anything else with a small JSON body echoing what it received.
"""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import socket

from .certs import ServerCert

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        if self.path == "/ws" and self.headers.get("upgrade", "").lower() == "websocket":
            self._websocket()
            return
        self._answer(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        self._answer(self.rfile.read(length))

    do_PUT = do_POST  # noqa: N815

    def _answer(self, body: bytes) -> None:
        status, payload = 200, b""
        if self.path.startswith("/status/"):
            status = int(self.path.split("/")[2])
        elif self.path.startswith("/bytes/"):
            payload = b"x" * int(self.path.split("/")[2])
        if not payload:
            payload = json.dumps({"host": self.headers.get("host"), "path": self.path,
                                  "received": len(body)}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _websocket(self) -> None:
        key = self.headers["sec-websocket-key"].encode()
        accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()
        self.send_response(101)
        self.send_header("upgrade", "websocket")
        self.send_header("connection", "Upgrade")
        self.send_header("sec-websocket-accept", accept)
        self.end_headers()
        self.wfile.flush()
        while True:
            frame = _read_frame(self.rfile)
            if frame is None:
                return
            opcode, payload = frame
            if opcode == 0x8:
                self.wfile.write(_frame(0x8, payload[:2]))
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(_frame(opcode, payload))
            self.wfile.flush()


def _read_frame(stream: object) -> tuple[int, bytes] | None:
    read = stream.read  # type: ignore[attr-defined]
    head = read(2)
    if len(head) < 2:
        return None
    opcode, length = head[0] & 0x0F, head[1] & 0x7F
    if length == 126:
        length = struct.unpack("!H", read(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", read(8))[0]
    mask = read(4) if head[1] & 0x80 else b"\0\0\0\0"
    data = read(length)
    return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def _frame(opcode: int, payload: bytes) -> bytes:
    head = bytes([0x80 | opcode])
    if len(payload) < 126:
        head += bytes([len(payload)])
    elif len(payload) < 1 << 16:
        head += bytes([126]) + struct.pack("!H", len(payload))
    else:
        head += bytes([127]) + struct.pack("!Q", len(payload))
    return head + payload


class UpstreamServer:
    """An HTTP server on 127.0.0.1: HTTPS with a certificate for the given names, or plain
    HTTP when `cert` is None."""

    def __init__(self, cert: ServerCert | None) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        if cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert.cert_pem, cert.key_pem)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> UpstreamServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port() -> int:
    """A TCP port on loopback that was free a moment ago."""
    with socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

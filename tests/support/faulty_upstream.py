"""Loopback servers that fail the way real servers do, for tests of failed proxied requests.

Modes: `close` accepts the TCP connection and closes it at once; `not-tls` answers plain HTTP
where TLS is expected; `no-response` completes TLS, reads the request and hangs up;
`cut-body` sends a response head promising 1000 bytes, 10 bytes of body, and hangs up.
A port nothing listens on (`closed_port`) stands for a server that refuses connections.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from typing import Literal

from .certs import ServerCert

Mode = Literal["close", "not-tls", "no-response", "cut-body"]
CUT_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: text/plain\r\n\r\n")


def closed_port() -> int:
    """A loopback TCP port that refuses connections (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FaultyUpstream:
    """A TCP server on 127.0.0.1 that fails every connection in one way."""

    def __init__(self, mode: Mode, cert: ServerCert) -> None:
        self.mode = mode
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert.cert_pem, cert.key_pem)

    def __enter__(self) -> FaultyUpstream:
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.listener.accept()
                threading.Thread(target=self._fail, args=(conn,), daemon=True).start()

    def _fail(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            if self.mode == "close":
                return
            if self.mode == "not-tls":
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                return
            with self.context.wrap_socket(conn, server_side=True) as tls:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = tls.recv(65536)
                    if not chunk:
                        return
                    request += chunk
                if self.mode == "cut-body":
                    tls.sendall(CUT_HEAD + b"x" * 10)

"""An HTTPS client through an HTTP proxy's CONNECT tunnel that sends its TLS ClientHello in
two pieces with a pause between them, as a large (post-quantum) hello split across TCP
segments arrives at a proxy. Python's ssl over memory BIOs, so the bytes are ours to send."""

from __future__ import annotations

import contextlib
import socket
import ssl
import time

from .tunnel import connect_tunnel


def https_get_in_pieces(proxy_port: int, connect_to: str, server_name: str,
                        context: ssl.SSLContext, path: str, cut: int = 60,
                        pause: float = 0.3) -> bytes:
    """GET https://server_name/path through a tunnel to connect_to:443; the ClientHello is
    sent as its first `cut` bytes, a pause, then the rest. Returns the whole response."""
    raw = connect_tunnel(proxy_port, connect_to)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=server_name)
    with contextlib.suppress(ssl.SSLWantReadError):
        tls.do_handshake()  # writes the ClientHello, then wants the server's answer
    hello = outgoing.read()
    assert len(hello) > cut
    raw.sendall(hello[:cut])
    time.sleep(pause)
    raw.sendall(hello[cut:])
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            _flush(raw, outgoing)
            _receive(raw, incoming)
    _flush(raw, outgoing)
    tls.write(f"GET {path} HTTP/1.1\r\nHost: {server_name}\r\nConnection: close\r\n\r\n"
              .encode())
    _flush(raw, outgoing)
    response = b""
    while True:
        try:
            response += tls.read(65536)
        except ssl.SSLWantReadError:
            _flush(raw, outgoing)
            if not _receive(raw, incoming):
                break
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            break
    raw.close()
    return response


def _flush(raw: socket.socket, outgoing: ssl.MemoryBIO) -> None:
    data = outgoing.read()
    if data:
        raw.sendall(data)


def _receive(raw: socket.socket, incoming: ssl.MemoryBIO) -> bool:
    data = raw.recv(65536)
    if not data:
        incoming.write_eof()
        return False
    incoming.write(data)
    return True

"""Raw clients through an HTTP proxy's CONNECT tunnel: TLS with chosen ALPN, and HTTP/2."""

from __future__ import annotations

import socket
import ssl

import h2.config
import h2.connection
import h2.events


def connect_tunnel(proxy_port: int, host: str) -> socket.socket:
    """A socket tunnelled to host:443 by the proxy's CONNECT."""
    raw = socket.create_connection(("127.0.0.1", proxy_port), timeout=10)
    raw.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = raw.recv(4096)
        if not chunk:
            raise ConnectionError("proxy closed the tunnel")
        reply += chunk
    if not reply.startswith(b"HTTP/1.1 200"):
        raise ConnectionError(reply.decode(errors="replace"))
    return raw


def tls_through_proxy(proxy_port: int, context: ssl.SSLContext, host: str,
                      alpn: list[str] | None = None) -> ssl.SSLSocket:
    """A TLS connection to host:443 through the proxy's CONNECT tunnel."""
    raw = connect_tunnel(proxy_port, host)
    if alpn:
        context.set_alpn_protocols(alpn)
    return context.wrap_socket(raw, server_hostname=host)


def http2_get(proxy_port: int, context: ssl.SSLContext, host: str, path: str) -> int:
    """GET https://host/path over HTTP/2 through the proxy; returns the status code."""
    tls = tls_through_proxy(proxy_port, context, host, ["h2"])
    assert tls.selected_alpn_protocol() == "h2"
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "GET"), (":path", path), (":scheme", "https"),
                          (":authority", host)], end_stream=True)
    tls.sendall(conn.data_to_send())
    status = None
    ended = False
    while not ended:
        data = tls.recv(65536)
        if not data:
            break
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                status = int(dict(event.headers)[b":status"])
            elif isinstance(event, h2.events.DataReceived):
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                ended = True
        tls.sendall(conn.data_to_send())
    conn.close_connection()
    tls.sendall(conn.data_to_send())
    tls.close()
    assert status is not None
    return status

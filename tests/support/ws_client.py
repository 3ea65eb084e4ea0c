"""A WebSocket client that goes through an HTTP proxy with CONNECT (wsproto over TLS)."""

from __future__ import annotations

import socket
import ssl

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Request,
    TextMessage,
)


def websocket_echo(proxy_port: int, context: ssl.SSLContext, host: str,
                   messages: list[str]) -> list[str]:
    """Open wss://host/ws through the proxy, send the messages, return the echoes."""
    raw = socket.create_connection(("127.0.0.1", proxy_port), timeout=10)
    raw.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
    reply = b""
    while b"\r\n\r\n" not in reply:
        reply += raw.recv(4096)
    assert reply.startswith(b"HTTP/1.1 200"), reply
    tls = context.wrap_socket(raw, server_hostname=host)
    ws = WSConnection(ConnectionType.CLIENT)
    tls.sendall(ws.send(Request(host=host, target="/ws")))
    echoes: list[str] = []
    accepted = False
    while not accepted:
        ws.receive_data(tls.recv(65536))
        accepted = any(isinstance(e, AcceptConnection) for e in ws.events())
    for message in messages:
        tls.sendall(ws.send(TextMessage(data=message)))
    while len(echoes) < len(messages):
        ws.receive_data(tls.recv(65536))
        for event in ws.events():
            if isinstance(event, (TextMessage, BytesMessage)):
                echoes.append(str(event.data))
    tls.sendall(ws.send(CloseConnection(code=1000)))
    try:
        while True:
            data = tls.recv(65536)
            if not data:
                break
            ws.receive_data(data)
            if any(isinstance(e, CloseConnection) for e in ws.events()):
                break
    except (ssl.SSLError, OSError):
        pass
    tls.close()
    return echoes

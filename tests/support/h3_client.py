"""A minimal HTTP/3 client (aioquic) for tests: one GET, returns the status."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

from aioquic.asyncio.client import connect
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import QuicEvent


class _Client(QuicConnectionProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.http = H3Connection(self._quic)
        self.status: int | None = None
        self.done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def quic_event_received(self, event: QuicEvent) -> None:
        for h3_event in self.http.handle_event(event):
            if isinstance(h3_event, HeadersReceived):
                self.status = int(dict(h3_event.headers)[b":status"])
            ended = (isinstance(h3_event, (HeadersReceived, DataReceived))
                     and h3_event.stream_ended)
            if ended and not self.done.done() and self.status is not None:
                self.done.set_result(self.status)

    async def get(self, authority: str, path: str) -> int:
        stream = self._quic.get_next_available_stream_id()
        self.http.send_headers(stream, [(b":method", b"GET"), (b":scheme", b"https"),
                                        (b":authority", authority.encode()),
                                        (b":path", path.encode())], end_stream=True)
        self.transmit()
        return await asyncio.wait_for(self.done, 10)


def http3_get(port: int, ca: Path, server_name: str, path: str) -> int:
    """GET https://server_name/path over HTTP/3 from UDP 127.0.0.1:port."""

    async def go() -> int:
        configuration = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN,
                                          server_name=server_name)
        configuration.load_verify_locations(str(ca))
        configuration.verify_mode = ssl.CERT_REQUIRED
        async with connect("127.0.0.1", port, configuration=configuration,
                           create_protocol=_Client) as client:
            assert isinstance(client, _Client)
            return await client.get(server_name, path)

    return asyncio.run(go())

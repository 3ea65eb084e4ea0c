"""Client connections that end without a flow of their own.

Most failures reach the addon as a flow: an HTTP exchange's `error`, a refused CONNECT, a
relayed TCP stream's `tcp_error`. Some do not: in transparent modes (WireGuard, local
capture) a server that cannot be reached closes the client before any layer makes a flow,
and mitmproxy can stall a tunnel whose server hung up before the TLS handshake. This addon
follows every TCP client connection until it closes; if the proxy tried to reach a server for
it and no flow of it was recorded, the attempt itself becomes one flow (`connection_record`),
so an app that tried to reach a tracker leaves a trace whatever went wrong.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mitmproxy import connection, tls
from mitmproxy.proxy.server_hooks import ServerConnectionHookData

from auditor.live.hook_guard import guarded
from auditor.mitm.flow_records import connection_record
from auditor.records import Flow

STILL_OPEN = "no exchange before the proxy stopped"


@dataclass(slots=True)
class Attempt:
    """What is known about one client connection while it is open."""

    client: connection.Client
    server: connection.Server | None = None  # set once the proxy tried to reach a server
    asked: str | None = None  # the host the proxy was first asked to reach, before any rewrite
    error: str | None = None
    recorded: bool = False  # a flow of this connection was recorded


class ConnectionAttempts:
    """A sub-addon of the vcaudit addon: records connections that left no flow."""

    def __init__(self, record: Callable[[Flow], object],
                 note_failure: Callable[[str, Exception, tuple[Any, ...]], None]) -> None:
        self._record = record
        self._note_failure = note_failure
        self._open: dict[str, Attempt] = {}

    def note_failure(self, where: str, exc: Exception, args: tuple[Any, ...]) -> None:
        """A hook failed: the vcaudit addon records it as an anomaly."""
        self._note_failure(where, exc, args)

    def recorded(self, client: connection.Client) -> None:
        """A flow of this connection was recorded: the connection needs no flow of its own."""
        attempt = self._open.get(client.id)
        if attempt is not None:
            attempt.recorded = True

    @guarded
    def client_connected(self, client: connection.Client) -> None:
        """Follow a TCP connection (UDP has no connection that ends)."""
        if client.transport_protocol == "tcp":
            self._open[client.id] = Attempt(client)

    @guarded
    def server_connect(self, data: ServerConnectionHookData) -> None:
        """Note the host the proxy is about to reach, before an addon may redirect it."""
        attempt = self._open.get(data.client.id)
        if attempt is not None and attempt.asked is None and data.server.address:
            attempt.asked = str(data.server.address[0])

    @guarded
    def server_connected(self, data: ServerConnectionHookData) -> None:
        """The proxy reached a server for a client."""
        self._server_used(data.client, data.server)

    @guarded
    def server_connect_error(self, data: ServerConnectionHookData) -> None:
        """The proxy could not reach a server for a client."""
        self._server_used(data.client, data.server,
                          data.server.error or "could not connect to the server")

    @guarded
    def tls_failed_server(self, data: tls.TlsData) -> None:
        """The TLS handshake with the server failed."""
        if isinstance(data.conn, connection.Server):
            self._server_used(data.context.client, data.conn,
                              f"TLS handshake with the server failed: "
                              f"{data.conn.error or 'no reason given'}")

    @guarded
    def server_disconnected(self, data: ServerConnectionHookData) -> None:
        """A server hanging up first, before anything was recorded, is why the attempt failed
        (when the client leaves first, the proxy closes the server after it)."""
        attempt = self._open.get(data.client.id)
        if attempt is not None and data.client.timestamp_end is None and not attempt.recorded:
            self._server_used(data.client, data.server, data.server.error or
                              "the server closed the connection before any exchange")

    @guarded
    def client_disconnected(self, client: connection.Client) -> None:
        """Record the connection if it left no flow although the proxy tried to reach a
        server for it."""
        attempt = self._open.pop(client.id, None)
        if attempt is not None:
            self._record_unrecorded(attempt)

    def record_unfinished(self) -> None:
        """At shutdown: record connections still open that left no flow (stalled, idle)."""
        attempts, self._open = list(self._open.values()), {}
        for attempt in attempts:
            attempt.error = attempt.error or STILL_OPEN
            try:
                self._record_unrecorded(attempt)
            except Exception as exc:  # noqa: BLE001 - keep recording the others
                self.note_failure("shutdown", exc, ())

    def _server_used(self, client: connection.Client, server: connection.Server,
                     error: str | None = None) -> None:
        attempt = self._open.get(client.id)
        if attempt is None:
            return
        attempt.server = server
        if error and attempt.error is None:
            attempt.error = error

    def _record_unrecorded(self, attempt: Attempt) -> None:
        if attempt.recorded or attempt.server is None:
            return
        self._record(connection_record(str(uuid.uuid4()), attempt.client, attempt.server,
                                       error=attempt.error, asked=attempt.asked))

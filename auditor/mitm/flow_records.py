"""The adapter from mitmproxy's flow objects to vcaudit records.

One `Flow` per HTTP exchange, WebSocket connection, raw TCP/UDP connection, pinned TLS
handshake, refused CONNECT or client connection that failed before any of these, and
`DnsAnswer`s from DNS responses the proxy saw. Byte counts of HTTP exchanges are message sizes
at the HTTP layer (head as HTTP/1.1 plus body as sent); a body cut short by a failure has no
known size, so its direction's count is None; packets are unknown to a proxy and stay None.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from mitmproxy import connection, dns, http, tcp, udp
from mitmproxy.net.http.http1 import assemble_request_head, assemble_response_head

from auditor.media.stream import MessageHead, StreamMedia
from auditor.mitm.stream_counts import StreamCounts
from auditor.names.dns_index import answers_from_message
from auditor.names.domains import is_ip_address, normalise_host
from auditor.personal_data.request_fields import RequestData
from auditor.protocols.dns import DnsError, parse_dns
from auditor.records import (
    PINNING_REFUSAL,
    DnsAnswer,
    Flow,
    HostSource,
    Orientation,
    Transport,
    Visibility,
)

Address = tuple[Any, ...] | None


def http_flow_record(flow: http.HTTPFlow, *, ws_counts: tuple[int, int, int, int] | None = None,
                     ) -> Flow:
    """A completed or failed HTTP exchange (or WebSocket connection, with its message counts:
    messages up, messages down, bytes up, bytes down)."""
    request, response = flow.request, flow.response
    client_ip, client_port = _split(flow.client_conn.peername)
    server_ip, server_port = _server_address(flow.server_conn, request.port)
    sni = _clean_name(flow.client_conn.sni)
    host, source = _best_name(request.pretty_host, sni)
    asked = _clean_name(request.pretty_host)
    if server_ip is None and asked is not None and is_ip_address(asked):
        server_ip = asked  # an address asked for (a HAR entry without serverIPAddress)
    failed = flow.error is not None
    bytes_up = _message_size(request, assemble_request_head, failed)
    bytes_down = (_message_size(response, assemble_response_head, failed)
                  if response is not None else None)
    app_proto = "websocket" if flow.websocket is not None else "http"
    if ws_counts is not None:
        bytes_up = (bytes_up or 0) + ws_counts[2]
        bytes_down = (bytes_down or 0) + ws_counts[3]
    started = request.timestamp_start
    ended = _end_time(flow)
    return Flow(
        flow_id=flow.id,
        ts_start=started,
        ts_end=ended,
        transport=Transport.UDP if request.http_version == "HTTP/3" else Transport.TCP,
        client_ip=client_ip,
        client_port=client_port,
        server_ip=server_ip,
        server_port=server_port,
        orientation=Orientation.PROXY,
        host=host,
        host_source=source,
        app_proto=app_proto,
        bytes_up=bytes_up,
        bytes_down=bytes_down,
        visibility=Visibility.INTERCEPTED if request.scheme == "https" or sni
        else Visibility.PLAINTEXT,
        sni=sni,
        http_host=_clean_name(request.host_header) if request.host_header else None,
        alpn=_alpn(flow.client_conn),
        method=request.method,
        url=request.pretty_url,
        status=_status_code(response.status_code) if response is not None else None,
        http_version=request.http_version,
        request_content_type=request.headers.get("content-type"),
        response_content_type=response.headers.get("content-type") if response else None,
        error=flow.error.msg if flow.error else None,
        messages_up=ws_counts[0] if ws_counts else None,
        messages_down=ws_counts[1] if ws_counts else None,
    )


def stream_media(flow: tcp.TCPFlow | udp.UDPFlow) -> StreamMedia:
    """A reader of a raw TCP or UDP flow's messages for media protocols."""
    _, client_port = _split(flow.client_conn.peername)
    _, server_port = _server_address(flow.server_conn, None)
    return StreamMedia(isinstance(flow, udp.UDPFlow), client_port, server_port)


def media_read(flow: tcp.TCPFlow | udp.UDPFlow, counts: StreamCounts) -> StreamMedia | None:
    """What was read of the flow's messages for media: as they came, or the first ones kept
    (saved files) read now; None when they were not read (a pinned host passed through)."""
    media = counts.media
    if isinstance(media, MessageHead):
        return media.replay(stream_media(flow))
    return media


def stream_flow_record(flow: tcp.TCPFlow | udp.UDPFlow, counts: StreamCounts,
                       media: StreamMedia | None, *, sni: str | None = None,
                       pinned: bool = False) -> Flow:
    """A raw TCP or UDP connection the proxy relayed, with its messages counted and read for
    media (`media_read`); `sni` and `pinned` for a pinned host it passed through."""
    client_ip, client_port = _split(flow.client_conn.peername)
    server_ip, server_port = _server_address(flow.server_conn, None)
    started = flow.client_conn.timestamp_start or time.time()
    ended = _end_time(flow)
    messages = counts.messages_up + counts.messages_down
    verdict = media.verdict(messages, ended - started) if media is not None else None
    sni = _clean_name(sni)
    source = HostSource.SNI
    if sni is None and verdict is not None:  # the name a DTLS or SD-RTN hello stated
        sni, source = _clean_name(verdict.server_name), verdict.name_source or HostSource.NONE
    if verdict is not None:
        app_proto: str | None = verdict.app_proto
    else:
        app_proto = "tls" if sni is not None or counts.starts_like_tls else None
    visibility = Visibility.PINNED if pinned else None
    if verdict is not None and not pinned:  # media inside TLS the proxy decrypted (TURN-TLS)
        visibility = (Visibility.INTERCEPTED if flow.client_conn.tls_established
                      else verdict.visibility)
    return Flow(
        flow_id=flow.id,
        ts_start=started,
        ts_end=ended,
        transport=Transport.TCP if isinstance(flow, tcp.TCPFlow) else Transport.UDP,
        client_ip=client_ip,
        client_port=client_port,
        server_ip=server_ip,
        server_port=server_port,
        orientation=Orientation.PROXY,
        host=sni,
        host_source=source if sni else HostSource.NONE,
        app_proto=app_proto,
        bytes_up=counts.bytes_up,
        bytes_down=counts.bytes_down,
        messages_up=counts.messages_up,
        messages_down=counts.messages_down,
        visibility=visibility,
        sni=sni,
        alpn=verdict.alpn if verdict is not None else None,
        error=flow.error.msg if flow.error else None,
        media=verdict.media if verdict is not None else None,
    )


def connect_failure_record(flow: http.HTTPFlow) -> Flow:
    """A CONNECT request the proxy answered with an error (the server could not be reached,
    or an addon refused it). Host, method and URL are the client's; the status and body are
    the proxy's, not the server's, so they are left out."""
    response = flow.response
    error = flow.error.msg if flow.error else flow.server_conn.error
    if not error:
        error = (f"the proxy answered CONNECT with {response.status_code} {response.reason}"
                 if response is not None else "CONNECT failed")
    record = http_flow_record(flow)
    return replace(record, bytes_down=None, status=None, response_content_type=None,
                   error=error)


def connection_record(flow_id: str, client: connection.Client, server: connection.Server | None,
                      *, error: str | None, visibility: Visibility | None = None,
                      asked: str | None = None) -> Flow:
    """A client connection recorded as a whole: a TLS handshake the client refused, a
    connection relayed without counts, or one that failed before making any other flow.
    Named by its SNI, else by the name the proxy was asked to reach (`asked`, by default the
    server's address: the CONNECT target or the mode's); bytes are unknown."""
    client_ip, client_port = _split(client.peername)
    server_ip, server_port = _server_address(server, None) if server else (None, None)
    sni = _clean_name(client.sni)
    if asked is None and server is not None and server.address:
        asked = str(server.address[0])
    asked = _clean_name(asked)
    asked = asked if asked and not is_ip_address(asked) else None
    if visibility is None and client.tls:
        visibility = (Visibility.INTERCEPTED if client.tls_established
                      else Visibility.ENCRYPTED)
    ends = [t for t in (client.timestamp_end, server.timestamp_end if server else None) if t]
    now = time.time()
    return Flow(
        flow_id=flow_id,
        ts_start=client.timestamp_start or now,
        ts_end=max(ends) if ends else now,
        transport=Transport.TCP if client.transport_protocol == "tcp" else Transport.UDP,
        client_ip=client_ip,
        client_port=client_port,
        server_ip=server_ip,
        server_port=server_port,
        orientation=Orientation.PROXY,
        host=sni or asked,
        host_source=HostSource.SNI if sni else (HostSource.HTTP_HOST if asked
                                                 else HostSource.NONE),
        app_proto="tls" if client.tls else None,
        visibility=visibility,
        sni=sni,
        alpn=tuple(a.decode("ascii", "replace") for a in client.alpn_offers) or None,
        error=error,
    )


def pinned_handshake_record(flow_id: str, client: connection.Client,
                            server: connection.Server, error: str | None) -> Flow:
    """A TLS handshake the client aborted because it refused the proxy's certificate."""
    return connection_record(
        flow_id, client, server, visibility=Visibility.PINNED,
        error=f"{PINNING_REFUSAL}: {error or 'handshake failed'}")


def dns_flow_records(flow: dns.DNSFlow) -> tuple[Flow, list[DnsAnswer]]:
    """A DNS exchange as a flow, and the answers it gave."""
    client_ip, client_port = _split(flow.client_conn.peername)
    server_ip, server_port = _server_address(flow.server_conn, 53)
    answers: list[DnsAnswer] = []
    response = flow.response
    ts = flow.request.timestamp or flow.client_conn.timestamp_start or time.time()
    if response is not None:
        try:
            answers = answers_from_message(flow.id, response.timestamp or ts,
                                           parse_dns(response.packed))
        except DnsError:
            answers = []
    record = Flow(
        flow_id=flow.id,
        ts_start=ts,
        ts_end=(response.timestamp if response is not None and response.timestamp else ts),
        transport=Transport.UDP if flow.client_conn.transport_protocol == "udp"
        else Transport.TCP,
        client_ip=client_ip,
        client_port=client_port,
        server_ip=server_ip,
        server_port=server_port,
        orientation=Orientation.PROXY,
        app_proto="dns",
        bytes_up=len(flow.request.packed),
        bytes_down=len(response.packed) if response is not None else None,
        visibility=Visibility.PLAINTEXT,
        error=flow.error.msg if flow.error else None,
    )
    return record, answers


def request_data(request: http.Request) -> RequestData:
    """What the client sent, for the personal-data scan: the body as sent (still
    content-encoded); a body mitmproxy streamed instead of keeping is marked incomplete."""
    return RequestData(
        method=request.method,
        url=request.pretty_url,
        headers=tuple((k, v) for k, v in request.headers.items(multi=True)),
        body=request.raw_content or b"",
        body_complete=request.raw_content is not None,
    )


def _message_size[M: (http.Request, http.Response)](
        message: M, assemble_head: Callable[[M], bytes], failed: bool) -> int | None:
    """Head plus body. A body mitmproxy did not keep counts as declared when the exchange
    completed (streamed), and as unknown when it failed (it may have been cut short)."""
    body = message.raw_content
    if body is None and failed:
        return None
    size = len(body) if body is not None else _declared_length(message.headers)
    return len(assemble_head(message)) + size


def _declared_length(headers: http.Headers) -> int:
    try:
        return max(0, int(headers.get("content-length", "0")))
    except ValueError:
        return 0


def _end_time(flow: Any) -> float:
    candidates = [
        getattr(getattr(flow, "response", None), "timestamp_end", None),
        getattr(flow.client_conn, "timestamp_end", None),
        getattr(flow.server_conn, "timestamp_end", None),
        getattr(getattr(flow, "request", None), "timestamp_end", None),
    ]
    known = [t for t in candidates if t]
    return max(known) if known else time.time()


MAX_PORT = 65535


def _status_code(code: object) -> int | None:
    """A response's status as a three-digit number, or None when there is none (HAR's 0 for
    a request without a response) or a saved flow or HAR entry holds something else there (a
    string, a boolean, a number out of range)."""
    if type(code) is int and 100 <= code <= 999:
        return code
    return None


def _split(address: Address) -> tuple[str | None, int | None]:
    if not address:
        return None, None
    host, number = str(address[0]), int(address[1])
    port = number if 0 <= number <= MAX_PORT else None  # a saved flow may say anything
    if host.startswith("::ffff:") and "." in host:  # IPv4-mapped, as dual-stack sockets give
        host = host[7:]
    return host, port


def _server_address(server: connection.Server, default_port: int | None
                    ) -> tuple[str | None, int | None]:
    """The server's IP when the proxy connected, else the address the client asked for if it
    is an IP (a name asked for is the flow's host, not its address)."""
    ip, port = _split(server.peername)
    if ip is not None:
        return ip, port
    asked, asked_port = _split(server.address)
    if asked is not None and not is_ip_address(asked):
        asked = None
    return asked, asked_port if asked_port is not None else default_port


def _best_name(host: str | None, sni: str | None) -> tuple[str | None, HostSource]:
    """The Host (or authority) when it is a name, else the SNI. An address in the Host header
    is not a name: it stays in `http_host`, and the flow may be named from DNS instead."""
    name = _clean_name(host)
    if name and not is_ip_address(name):
        return name, HostSource.HTTP_HOST
    if sni:
        return sni, HostSource.SNI
    return None, HostSource.NONE


def _clean_name(name: str | None) -> str | None:
    if not name:
        return None
    cleaned = normalise_host(name)
    return cleaned if cleaned and (is_ip_address(cleaned) or " " not in cleaned) else None


def _alpn(client: connection.Client) -> tuple[str, ...] | None:
    if client.alpn:
        return (client.alpn.decode("ascii", "replace"),)
    return None

"""Per-flow payload inspection: which application protocol a flow carries and what names it
states (TLS/DTLS/QUIC SNI, HTTP Host), plus the DNS answers it carries.

Only the first payloads of a flow are looked at; the flow table stops calling once `done` is
set. Media flows (STUN/TURN, DTLS, RTP, Zoom's framing, ...) are handed to a `MediaSniffer`,
which after its first datagrams only counts RTP headers. Direction `0` is the side that sent
the flow's first packet, `1` the other; `client_hint` records which side protocol evidence
says is the client (the one that sent a ClientHello, an HTTP request, a DNS query or a STUN
request).
"""

from __future__ import annotations

from collections.abc import Callable

from auditor.capture.tcp_prefix import StreamPrefix
from auditor.media.sniffer import MediaSniffer, start_media
from auditor.media.tcp_frames import TcpMediaFrames
from auditor.protocols.dns import DnsError, DnsMessage, parse_dns
from auditor.protocols.gquic import VERSION_Q050, gquic_chlo_sni, q050_server_name
from auditor.protocols.http import (
    HttpHeadError,
    HttpRequestBytes,
    HttpRequestHead,
    looks_like_http_request,
    parse_request_head,
    requests_in_stream,
)
from auditor.protocols.quic import (
    ClientHelloAssembler,
    QuicInitialError,
    client_initial_crypto,
    is_quic_long_header_initial,
)
from auditor.protocols.tls import (
    ClientHello,
    ClientHelloError,
    client_hello_length,
    parse_client_hello,
    parse_dtls_client_hello,
    tls_records_handshake,
)

DNS_PORTS = {53: "dns", 5353: "mdns", 5355: "llmnr"}
# Labels for LAN and infrastructure protocols recognised by port alone; they name the
# protocol in reports and never decide a classification.
UDP_PORT_LABELS = {
    67: "dhcp", 68: "dhcp", 123: "ntp", 137: "netbios-ns", 138: "netbios-dgm", 161: "snmp",
    546: "dhcpv6", 547: "dhcpv6", 1900: "ssdp", 3702: "ws-discovery", 5060: "sip",
}
MAX_UDP_INSPECTED = 12
MAX_QUERIES_KEPT = 256
MAX_DNS_FAILURES = 8  # malformed messages reported per flow; all of them if nothing parsed
MAX_STALLED_SEGMENTS = 64  # segments that did not extend the stream prefix before giving up
TCP_PREFIX_LIMIT = 16384

AnomalySink = Callable[[str, str], None]
DnsSink = Callable[[int, DnsMessage], None]


class FlowInspector:
    """Looks at the first payloads of one flow."""

    __slots__ = (
        "_anomaly",
        "_dir_done",
        "_dns_failures",
        "_dns_port",
        "_dns_sink",
        "_dns_successes",
        "_media",
        "_prefixes",
        "_quic",
        "_quic_client",
        "_quic_dcid",
        "_stalled",
        "_tcp_media",
        "_udp_seen",
        "alpn",
        "app_proto",
        "client_hint",
        "client_stream",
        "dns_queries",
        "done",
        "http",
        "sni",
        "sni_kind",
    )

    def __init__(self, sport: int, dport: int, anomaly: AnomalySink, dns_sink: DnsSink) -> None:
        self.app_proto: str | None = None
        self.sni: str | None = None
        self.sni_kind: str | None = None  # "sni" | "quic-sni" | "dtls-sni" | "sd-rtn-sni"
        self.alpn: tuple[str, ...] | None = None
        self.http: HttpRequestHead | None = None
        self.client_stream: bytes | None = None  # plaintext HTTP: what the client sent
        self.dns_queries: list[str] = []  # names this flow's client asked for
        self.client_hint: int | None = None
        self.done = False
        self._prefixes: list[StreamPrefix | None] = [None, None]
        self._dir_done = [False, False]
        self._stalled = [0, 0]
        self._dns_failures = 0
        self._dns_successes = 0
        self._udp_seen = 0
        self._quic: ClientHelloAssembler | None = None
        self._quic_client: int | None = None
        self._quic_dcid: bytes | None = None
        self._media: MediaSniffer | None = None  # set once a media protocol is recognised
        self._tcp_media: TcpMediaFrames | None = None
        self._dns_port = next((p for p in (dport, sport) if p in DNS_PORTS), None)
        self._anomaly = anomaly
        self._dns_sink = dns_sink
        if self._dns_port is not None:
            self.app_proto = DNS_PORTS[self._dns_port]

    # --- TCP -----------------------------------------------------------------------------

    def tcp_syn(self, direction: int, seq: int) -> None:
        """Anchor a direction's stream at its SYN."""
        self._prefix(direction).set_initial_sequence(seq)

    def tcp_payload(self, direction: int, seq: int, payload: bytes) -> None:
        """Feed one TCP segment's payload."""
        if self._dir_done[direction]:
            return
        prefix = self._prefix(direction).add(seq, payload)
        if prefix is not None:
            self._stalled[direction] = 0
            self._sniff_stream(direction, prefix)
        else:
            # A lost first segment leaves a gap the prefix never closes: give up after a while.
            self._stalled[direction] += 1
            if self._stalled[direction] >= MAX_STALLED_SEGMENTS:
                self._finish_direction(direction)
        if self._dir_done[0] and self._dir_done[1]:
            self.done = True

    def _prefix(self, direction: int) -> StreamPrefix:
        prefix = self._prefixes[direction]
        if prefix is None:
            prefix = self._prefixes[direction] = StreamPrefix(TCP_PREFIX_LIMIT)
        return prefix

    def _finish_direction(self, direction: int) -> None:
        self._dir_done[direction] = True
        self._prefixes[direction] = None

    def _sniff_stream(self, direction: int, prefix: bytes) -> None:
        if self._dns_port == 53:
            self._sniff_dns_over_tcp(direction, prefix)
            return
        if prefix[0] == 0x16 and len(prefix) > 1 and prefix[1] == 3:
            self._sniff_tls(direction, prefix)
        elif looks_like_http_request(prefix):
            self._sniff_http(direction, prefix)
        elif prefix.startswith(b"HTTP/1."):
            self._set_proto("http")
            self._hint_client(1 - direction)
            self._finish_direction(direction)
        elif prefix.startswith(b"SSH-"):
            self._set_proto("ssh")
            self._finish_direction(direction)
        elif self._sniff_tcp_media(direction, prefix):
            pass
        elif len(prefix) >= 4 or prefix[0] != 0x16:
            self._finish_direction(direction)

    def _sniff_tls(self, direction: int, prefix: bytes) -> None:
        self._set_proto("tls")
        handshake, plausible = tls_records_handshake(prefix)
        try:
            length = client_hello_length(handshake)
        except ClientHelloError:
            # A ServerHello or other handshake message: this side is the server.
            if handshake and handshake[0] == 2:
                self._hint_client(1 - direction)
            self._finish_direction(direction)
            return
        if length is None or len(handshake) < length:
            if not plausible or len(prefix) >= TCP_PREFIX_LIMIT:
                self._anomaly("tls-client-hello-incomplete", f"{len(prefix)} bytes gathered")
                self._finish_direction(direction)
            return
        self._hint_client(direction)
        self._take_client_hello(handshake[:length], "sni", parse_client_hello)
        self._finish_direction(direction)

    def _sniff_http(self, direction: int, prefix: bytes) -> None:
        self._set_proto("http")
        try:
            head = parse_request_head(prefix)
        except HttpHeadError as exc:
            self._anomaly("http-malformed-request", str(exc))
            self._finish_direction(direction)
            return
        if head is None:
            if len(prefix) >= TCP_PREFIX_LIMIT:
                self._finish_direction(direction)
            return
        self._hint_client(direction)
        self.http = self.http or head
        # Keep reading this side (up to the prefix limit): later requests on the connection
        # and request bodies are scanned for personal data when the flow is finished.
        self.client_stream = prefix
        if len(prefix) >= TCP_PREFIX_LIMIT:
            self._finish_direction(direction)

    def _sniff_tcp_media(self, direction: int, prefix: bytes) -> bool:
        """STUN/TURN over TCP and RTP framed as RFC 4571 says; True while it is (or may be)
        such a stream and more of it is wanted."""
        if self.app_proto is not None:
            return False
        frames = self._tcp_media
        if frames is None:
            frames = self._tcp_media = TcpMediaFrames(self)
        wanted = frames.feed(direction, prefix)
        if not wanted:
            self._finish_direction(direction)
        return frames.recognised or wanted

    @property
    def media_sniffer(self) -> MediaSniffer | None:
        """The media sniffer of a UDP or TCP media flow, or None."""
        if self._media is not None:
            return self._media
        return self._tcp_media.sniffer if self._tcp_media is not None else None

    def http_requests(self) -> list[HttpRequestBytes]:
        """The plaintext HTTP requests the client sent, as far as they were kept."""
        if self.client_stream is None:
            return []
        try:
            return requests_in_stream(self.client_stream)
        except HttpHeadError as exc:
            self._anomaly("http-malformed-request", str(exc))
            return []

    def _sniff_dns_over_tcp(self, direction: int, prefix: bytes) -> None:
        pos = 0
        while pos + 2 <= len(prefix):
            length = int.from_bytes(prefix[pos : pos + 2], "big")
            if pos + 2 + length > len(prefix):
                return
            self._take_dns(direction, prefix[pos + 2 : pos + 2 + length])
            pos += 2 + length
        if pos >= TCP_PREFIX_LIMIT - 2:
            self._finish_direction(direction)

    # --- UDP -----------------------------------------------------------------------------

    def udp_payload(self, direction: int, sport: int, dport: int, payload: bytes) -> None:
        """Feed one UDP datagram's payload."""
        if self._dns_port is not None:
            self._take_dns(direction, payload)
            return
        media = self._media
        if media is not None:
            if media.counting:  # the first seconds of a media stream: RTP headers only
                media.count(payload)
                self.done = media.finished
                return
            media.feed(direction, payload)
            self.done = media.finished
            return
        self._udp_seen += 1
        if self._udp_seen > MAX_UDP_INSPECTED:
            self.done = True
            return
        first = payload[0]
        if first & 0x80 and is_quic_long_header_initial(payload):
            self._sniff_quic(direction, payload)
        elif looks_like_http_request(payload):
            self._sniff_udp_http(direction, sport, dport, payload)
        elif self._sniff_gquic(direction, payload):
            pass
        elif self.app_proto is None:
            self._media = start_media(direction, sport, dport, payload, self)
            if self._media is not None:
                return
            label = UDP_PORT_LABELS.get(dport) or UDP_PORT_LABELS.get(sport)
            if label is not None:
                self._set_proto(label)
                self.done = True

    def _sniff_quic(self, direction: int, payload: bytes) -> None:
        q050 = int.from_bytes(payload[1:5], "big") == VERSION_Q050
        self._set_proto("gquic" if q050 else "quic")
        if self._quic_client is None:
            self._quic_client = direction
        if direction != self._quic_client or self.sni is not None:
            return  # the server's Initials are keyed differently; nothing to learn there
        assembler = self._quic
        if assembler is not None and assembler.done:
            return
        try:
            crypto = client_initial_crypto(payload, self._quic_dcid)
            if crypto is None:
                return
            self._hint_client(direction)
            if q050:
                self._take_q050(crypto.fragments)
                return
            if assembler is None:
                assembler = self._quic = ClientHelloAssembler()
                self._quic_dcid = crypto.dcid
            hello = assembler.add(crypto.fragments)
        except QuicInitialError as exc:
            self._anomaly("quic-initial-undecodable", str(exc))
            return
        if hello is not None:
            self._take_client_hello(hello, "quic-sni", parse_client_hello)

    def _take_q050(self, fragments: tuple[tuple[int, bytes], ...]) -> None:
        """Google QUIC Q050: a CHLO tag table in the decrypted CRYPTO stream."""
        try:
            name = q050_server_name(fragments)
        except QuicInitialError as exc:
            self._anomaly("gquic-hello-malformed", str(exc))
            return
        if name is not None and self.sni is None:
            self.sni, self.sni_kind = name, "quic-sni"

    def _sniff_gquic(self, direction: int, payload: bytes) -> bool:
        """Google QUIC's clear-text hello; True if the datagram was one."""
        try:
            name = gquic_chlo_sni(payload)
        except QuicInitialError as exc:
            self._anomaly("gquic-hello-malformed", str(exc))
            return True
        if name is None:
            return False
        self._set_proto("gquic")
        self._hint_client(direction)
        if self.sni is None:
            self.sni, self.sni_kind = name, "quic-sni"
        return True

    def _sniff_udp_http(self, direction: int, sport: int, dport: int, payload: bytes) -> None:
        self._set_proto("ssdp" if 1900 in (sport, dport) else "http")
        try:
            head = parse_request_head(payload)
        except HttpHeadError as exc:
            self._anomaly("http-malformed-request", str(exc))
            return
        if head is not None:
            self._hint_client(direction)
            self.http = self.http or head
            if self.client_stream is None:
                self.client_stream = payload

    # --- shared ----------------------------------------------------------------------------

    def _take_client_hello(
        self, handshake: bytes, kind: str, parse: Callable[[bytes], ClientHello]
    ) -> None:
        try:
            hello = parse(handshake)
        except ClientHelloError as exc:
            self._anomaly(f"{kind.replace('sni', 'client-hello')}-malformed", str(exc))
            return
        if hello.problem is not None:
            self._anomaly(f"{kind.replace('sni', 'client-hello')}-damaged", hello.problem)
        if hello.server_name and self.sni is None:
            self.sni, self.sni_kind = hello.server_name, kind
        if hello.alpn and self.alpn is None:
            self.alpn = hello.alpn

    def _take_dns(self, direction: int, payload: bytes) -> None:
        try:
            message = parse_dns(payload)
        except DnsError as exc:
            self._dns_failures += 1
            if self._dns_failures <= MAX_DNS_FAILURES:
                self._anomaly("dns-malformed", str(exc))
            if self._dns_failures == MAX_DNS_FAILURES and not self._dns_successes:
                # Something else on a DNS port (a VPN, say): stop parsing it packet by packet.
                self.app_proto = None
                self.done = True
            return
        self._dns_successes += 1
        if not message.is_response and self._dns_port != 5353:
            self._hint_client(direction)
            for name, _qtype in message.questions:
                if len(self.dns_queries) < MAX_QUERIES_KEPT and name not in self.dns_queries:
                    self.dns_queries.append(name)
        self._dns_sink(direction, message)

    # --- what the media sniffer reports (MediaHooks) -----------------------------------------

    def hint_client(self, direction: int) -> None:
        """The side at `direction` behaves as the client (a STUN request, a hello)."""
        self._hint_client(direction)

    def take_dtls_hello(self, handshake: bytes) -> None:
        """A DTLS ClientHello: its server name and ALPN."""
        self._take_client_hello(handshake, "dtls-sni", parse_dtls_client_hello)

    def take_name(self, name: str, kind: str) -> None:
        """A server name a media hello stated."""
        if self.sni is None:
            self.sni, self.sni_kind = name, kind

    def note_anomaly(self, kind: str, detail: str) -> None:
        """Something malformed in the flow's media."""
        self._anomaly(kind, detail)

    def _set_proto(self, proto: str) -> None:
        if self.app_proto is None:
            self.app_proto = proto

    def _hint_client(self, direction: int) -> None:
        if self.client_hint is None:
            self.client_hint = direction


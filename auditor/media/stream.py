"""Media in a relayed stream: the raw UDP datagrams or TCP reads a proxy relayed (live, or saved
in a flow file), whose client side the proxy knows.

A `StreamMedia` reads a stream's messages as they come, within the bounds a capture's flow
inspector keeps: datagrams go to a `MediaSniffer` once one starts (after MAX_UDP_TRIED that
start none, or a QUIC Initial, it stops); TCP reads are joined into each direction's stream for
`TcpMediaFrames`. The first FULL_MESSAGES messages are read whole (up to MAX_MESSAGE_BYTES);
later datagrams only as far as HEADER_BYTES, which is all a sniffer reads of a packet once it
only counts RTP headers; TCP is not read past them; nothing is read after MAX_MESSAGES, nor
once the sniffer has nothing more to learn (`wanted` then turns False).

Where a stream's transport and ports are known only after its messages were read (a saved flow
file's messages are counted as the file is read), a `MessageHead` keeps the first messages, cut
the same way, and replays them into a `StreamMedia` later: both give the same result.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.media.observations import label_visibility
from auditor.media.sniffer import MAX_COUNTED, MediaSniffer, start_media
from auditor.media.tcp_frames import TcpMediaFrames
from auditor.protocols.quic import is_quic_long_header_initial
from auditor.protocols.tls import ClientHelloError, parse_dtls_client_hello
from auditor.records import HostSource, Media, Visibility

FULL_MESSAGES = 64  # messages read whole; a sniffer starts by the 12th and reads 48 in full
MAX_MESSAGE_BYTES = 16384  # of a whole message; also the most of a TCP direction joined
HEADER_BYTES = 64  # of a later datagram: Zoom's deepest RTP header ends at byte 47
MAX_UDP_TRIED = 12  # datagrams that start no media sniffer before the stream is given up
MAX_MESSAGES = MAX_UDP_TRIED + MAX_COUNTED
MAX_ANOMALIES = 8  # malformed media messages reported per stream
NAME_SOURCES = {"dtls-sni": HostSource.DTLS_SNI, "sd-rtn-sni": HostSource.QUIC_SNI}


@dataclass(frozen=True, slots=True)
class MediaVerdict:
    """What a stream's messages showed: its media protocol, what that lets one see, its
    `Media` block, and the server name and ALPN a DTLS or SD-RTN hello stated."""

    app_proto: str
    visibility: Visibility
    media: Media | None
    server_name: str | None = None
    name_source: HostSource | None = None
    alpn: tuple[str, ...] | None = None


def cut(number: int, content: bytes) -> bytes:
    """What a `StreamMedia` reads of a stream's `number`th message (from 1)."""
    return content[:HEADER_BYTES if number > FULL_MESSAGES else MAX_MESSAGE_BYTES]


class StreamMedia:
    """Reads one relayed stream's messages for media protocols."""

    __slots__ = ("_frames", "_open", "_ports", "_prefixes", "_sniffer", "_tried", "_udp", "alpn",
                 "anomalies", "name_kind", "read", "server_name", "wanted")

    def __init__(self, udp: bool, client_port: int | None, server_port: int | None) -> None:
        self._udp = udp
        self._ports = (client_port or 0, server_port or 0)
        self._sniffer: MediaSniffer | None = None
        self._tried = 0  # datagrams that started no sniffer
        self._frames: TcpMediaFrames | None = None
        self._prefixes = [bytearray(), bytearray()]  # TCP: each direction's stream so far
        self._open = [True, True]  # TCP: directions still read
        self.read = 0
        self.wanted = True  # False once nothing more is read
        self.server_name: str | None = None
        self.name_kind: str | None = None
        self.alpn: tuple[str, ...] | None = None
        self.anomalies: list[tuple[str, str]] = []  # (kind, detail), the first MAX_ANOMALIES

    def add(self, from_client: bool, content: bytes) -> None:
        """One relayed message: a UDP datagram or a TCP read, as it came."""
        self.read += 1
        direction = 0 if from_client else 1
        if self._udp:
            self._datagram(direction, cut(self.read, content))
        elif self.read <= FULL_MESSAGES:
            self._stream(direction, cut(self.read, content))
        if self.read >= MAX_MESSAGES or (not self._udp and self.read >= FULL_MESSAGES):
            self.wanted = False

    def verdict(self, messages: int, duration: float) -> MediaVerdict | None:
        """The stream's media protocol and `Media` block; None when it showed none.
        `messages` and `duration` are the whole stream's (each UDP message is a datagram, so
        they make its packet rate)."""
        sniffer = self._sniffer if self._udp else (
            self._frames.sniffer if self._frames is not None else None)
        if sniffer is None:
            return None
        label = sniffer.seen.label()
        if label is None:
            return None
        # The proxy's client is direction 0.
        media = sniffer.seen.media(0, messages, duration, counted=self._udp)
        source = NAME_SOURCES.get(self.name_kind) if self.name_kind is not None else None
        return MediaVerdict(label, label_visibility(label), media, self.server_name, source,
                            self.alpn)

    def _datagram(self, direction: int, payload: bytes) -> None:
        sniffer = self._sniffer
        if sniffer is not None:
            sniffer.feed(direction, payload)
            if sniffer.finished:
                self.wanted = False
            return
        self._tried += 1
        if payload and payload[0] & 0x80 and is_quic_long_header_initial(payload):
            self.wanted = False  # QUIC: no media follows (a capture names it "quic")
            return
        if payload:
            sport, dport = self._ports if direction == 0 else self._ports[::-1]
            self._sniffer = start_media(direction, sport, dport, payload, self)
        if self._sniffer is None and self._tried >= MAX_UDP_TRIED:
            self.wanted = False

    def _stream(self, direction: int, content: bytes) -> None:
        if not self._open[direction] or not content:
            return
        prefix = self._prefixes[direction]
        prefix += content[:MAX_MESSAGE_BYTES - len(prefix)]
        frames = self._frames
        if frames is None:
            frames = self._frames = TcpMediaFrames(self)
        if not frames.feed(direction, bytes(prefix)) or len(prefix) >= MAX_MESSAGE_BYTES:
            self._open[direction] = False
            self._prefixes[direction] = bytearray()
            if not (self._open[0] or self._open[1]):
                self.wanted = False

    # --- what the sniffer reports (MediaHooks) ---------------------------------------------

    def hint_client(self, direction: int) -> None:
        """A proxy knows its client: protocol hints change nothing."""

    def take_dtls_hello(self, handshake: bytes) -> None:
        """A DTLS ClientHello: its server name and ALPN."""
        try:
            hello = parse_dtls_client_hello(handshake)
        except ClientHelloError as exc:
            self.note_anomaly("dtls-client-hello-malformed", str(exc))
            return
        if hello.problem is not None:
            self.note_anomaly("dtls-client-hello-damaged", hello.problem)
        if hello.server_name and self.server_name is None:
            self.server_name, self.name_kind = hello.server_name, "dtls-sni"
        if hello.alpn and self.alpn is None:
            self.alpn = hello.alpn

    def take_name(self, name: str, kind: str) -> None:
        """A server name a media hello stated."""
        if self.server_name is None:
            self.server_name, self.name_kind = name, kind

    def note_anomaly(self, kind: str, detail: str) -> None:
        """Something malformed in the stream's media."""
        if len(self.anomalies) < MAX_ANOMALIES:
            self.anomalies.append((kind, detail))


class MessageHead:
    """The first messages of a stream, cut as a `StreamMedia` reads them, kept until the
    stream's transport and ports are known: the first FULL_MESSAGES as they are, the later
    ones packed into one buffer (a direction byte, a length byte, up to HEADER_BYTES), so a
    long stream keeps at most about 1.2 MB, and a stream of small messages little more than
    its messages' bytes."""

    __slots__ = ("_later", "count", "whole")

    def __init__(self) -> None:
        self.whole: list[tuple[bool, bytes]] = []
        self._later = bytearray()
        self.count = 0

    @property
    def wanted(self) -> bool:
        """Whether the next message would be kept."""
        return self.count < MAX_MESSAGES

    def add(self, from_client: bool, content: bytes) -> None:
        """Keep one message (from its start)."""
        self.count += 1
        if self.count <= FULL_MESSAGES:
            self.whole.append((from_client, cut(self.count, content)))
            return
        head = content[:HEADER_BYTES]
        self._later += bytes((from_client, len(head)))
        self._later += head

    def replay(self, media: StreamMedia) -> StreamMedia:
        """Read the kept messages into `media`, as if they came now; `media` back."""
        for from_client, content in self.whole:
            if not media.wanted:
                return media
            media.add(from_client, content)
        later, pos = self._later, 0
        while pos < len(later) and media.wanted:
            end = pos + 2 + later[pos + 1]
            media.add(bool(later[pos]), bytes(later[pos + 2 : end]))
            pos = end
        return media

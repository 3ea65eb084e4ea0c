"""Media protocols in a UDP flow: STUN and TURN, DTLS, RTP and RTCP (told apart by their first
byte as RFC 7983 says), Zoom's framing, Agora's SD-RTN hello and Discord's voice handshake.

`start_media` looks at a datagram its source could not place (a capture's flow inspector, or a
relayed stream's `StreamMedia`). Once a media protocol is recognised, a `MediaSniffer` reads
every following datagram of the flow: fully for the first MAX_MEDIA_INSPECTED, then, when RTP
was found, it only reads RTP headers (a table lookup and a few integer operations per packet,
at most MAX_STREAMS payload type and SSRC pairs kept) until MAX_RTP_READ of them were read.
`seen.media()` turns what it saw into the flow's `Media` block; `seen.label()` names the flow's
`app_proto`.
"""

from __future__ import annotations

from typing import Protocol

from auditor.media.observations import MAX_STREAMS, MediaObservations
from auditor.protocols.agora import AgoraError, sd_rtn_server_name
from auditor.protocols.discord_voice import DiscordVoiceError, is_voice_ping, parse_ip_discovery
from auditor.protocols.dtls import (
    HANDSHAKE_CLIENT_HELLO,
    HANDSHAKE_SERVER_HELLO,
    DtlsError,
    looks_like_dtls,
    parse_records,
)
from auditor.protocols.rtp import RtpError, parse_rtcp, parse_rtp
from auditor.protocols.stun import (
    CLASS_INDICATION,
    CLASS_REQUEST,
    StunError,
    looks_like_stun,
    parse_channel_data,
    parse_stun,
)
from auditor.protocols.zoom_media import (
    P2P_HELLO,
    ZME_TYPES,
    ZoomMediaError,
    is_zoom_port,
    parse_p2p,
    parse_sfu,
)

MAX_MEDIA_INSPECTED = 48  # datagrams read in full once a media protocol is recognised
# RTP headers read per flow for its streams and payload types. Reading every packet of a long
# call through the flow inspector made reading bench/'s call capture a third slower; 512
# headers per flow cost about 1%. A call's streams show in its first seconds (a stream that
# starts later is missed).
MAX_RTP_READ = 512
MAX_COUNTED = 4 * MAX_RTP_READ  # datagrams looked at in all, for flows with little RTP
MAX_TENTATIVE = 8  # datagrams to confirm RTP that came without STUN, DTLS or a vendor hello
MAX_SEQUENCE_STEP = 64  # two RTP packets of one stream: the second follows within this many
# Zoom SFU types 3 and 4 have no known layout: like nDPI, believe them on a Zoom port only
# after this many datagrams of SFU types 3 to 5.
MIN_WEAK_SFU = 4
# What the second byte of an RTP-range datagram is: 1 RTP (marker bit + a valid payload type),
# 2 RTCP, 0 neither. One lookup per packet while counting.
_RTP, _RTCP = 1, 2
_SECOND_BYTE = bytes(
    _RTCP if 192 <= b <= 213 else _RTP if (b & 0x7F) <= 34 or (b & 0x7F) >= 96 else 0
    for b in range(256))


class MediaHooks(Protocol):
    """What the sniffer tells whoever feeds it: who the client is, names, anomalies."""

    def hint_client(self, direction: int) -> None:
        """The side at `direction` behaves as the client."""

    def take_dtls_hello(self, handshake: bytes) -> None:
        """A DTLS ClientHello handshake message (12-byte DTLS handshake header first)."""

    def take_name(self, name: str, kind: str) -> None:
        """A server name the client stated (`kind`: "sd-rtn-sni"; a DTLS hello goes to
        take_dtls_hello)."""

    def note_anomaly(self, kind: str, detail: str) -> None:
        """Something malformed in the flow."""


class MediaSniffer:
    """Reads the datagrams of one media flow after its first recognised one."""

    __slots__ = ("_hooks", "_tentative", "_weak_sfu", "_zoom_base", "counting", "finished",
                 "inspected", "seen")

    def __init__(self, hooks: MediaHooks, zoom_sfu: bool) -> None:
        self._hooks = hooks
        # Where Zoom's media header sits: 8 behind the SFU header of a media router flow,
        # 0 between peers, None when the flow is not Zoom's framing.
        self._zoom_base: int | None = 8 if zoom_sfu else None
        self._tentative: dict[int, tuple[int, int]] = {}  # direction -> (ssrc, sequence)
        self._weak_sfu = 0  # Zoom SFU datagrams of types 3-5 seen
        self.seen = MediaObservations()
        self.inspected = 0
        self.counting = False  # past the full-inspection window: only RTP headers counted
        self.finished = False  # nothing more to learn: its source may stop feeding it

    @property
    def tentative(self) -> bool:
        """Whether it waits for more datagrams to confirm RTP or Zoom's framing."""
        return bool(self._tentative) or self._weak_sfu > 0

    def feed(self, direction: int, payload: bytes) -> None:
        """One datagram of the flow (the first recognised one included)."""
        if self.counting:
            self.count(payload)
            return
        self.inspected += 1
        self._datagram(direction, payload, relayed=False)
        seen = self.seen
        if not seen.protocols and self.inspected >= MAX_TENTATIVE:
            self.finished = True  # RTP-looking bytes that never became a stream
        elif self.inspected >= MAX_MEDIA_INSPECTED:
            if seen.rtp_packets or seen.rtcp_packets:
                self.counting = True
            else:
                self.finished = True

    def count(self, payload: bytes) -> None:
        """Count one RTP or RTCP packet (plain, inside TURN ChannelData, or in Zoom's framing)."""
        self.inspected += 1
        if self.inspected >= MAX_COUNTED:
            self.finished = True
        if len(payload) < 12:
            return
        first = payload[0]
        start = 0
        base = self._zoom_base
        if base is not None:
            if base and first != 5:
                return
            kind_offset = ZME_TYPES.get(payload[base])
            if kind_offset is None:
                return
            start = base + kind_offset[1]
        elif 64 <= first < 128 and self.seen.relay:  # TURN ChannelData
            start = 4
        if len(payload) < start + 12 or payload[start] & 0xC0 != 0x80:
            return
        second = payload[start + 1]
        kind = _SECOND_BYTE[second]
        seen = self.seen
        if kind == _RTP:
            seen.rtp_packets += 1
            streams = seen.streams
            if len(streams) < MAX_STREAMS:
                streams.add((second & 0x7F) << 32 | int.from_bytes(payload[start + 8 : start + 12]))
            if seen.rtp_packets >= MAX_RTP_READ:
                self.finished = True
        elif kind == _RTCP:
            seen.rtcp_packets += 1

    # --- full inspection -------------------------------------------------------------------

    def _datagram(self, direction: int, payload: bytes, relayed: bool) -> None:
        """One datagram, or one a TURN relay carried (`relayed`): demultiplexed by its first
        byte as RFC 7983 says, after the vendor framings that do not follow it."""
        if not relayed:
            if self._zoom_base == 8:
                self._zoom(direction, payload)
                return
            if self._zoom_base == 0 or payload[:3] == P2P_HELLO:
                self._zoom_p2p(direction, payload)
                return
            if self._vendor(direction, payload):
                return
        first = payload[0] if payload else -1
        if 0 <= first <= 3:
            self._stun(direction, payload, relayed)
        elif 20 <= first <= 63:
            self._dtls(direction, payload)
        elif 64 <= first <= 127 and not relayed:
            self._channel_data(direction, payload)
        elif 128 <= first <= 191:
            self._rtp(direction, payload)

    def _vendor(self, direction: int, payload: bytes) -> bool:
        """Discord's voice handshake and pings; Agora's SD-RTN hello."""
        seen = self.seen
        if is_voice_ping(payload):
            seen.add_protocol("discord-voice")
            return True
        try:
            discovery = parse_ip_discovery(payload)
            name = sd_rtn_server_name(payload) if discovery is None else None
        except (DiscordVoiceError, AgoraError) as exc:
            self._hooks.note_anomaly("media-hello-malformed", str(exc))
            return True
        if discovery is not None:
            seen.add_protocol("discord-voice")
            seen.srtp_evidence.add("discord")
            if discovery.response and discovery.address is not None:
                seen.note_mapped(direction, discovery.address)
            elif not discovery.response:
                self._hooks.hint_client(direction)
            return True
        if name is not None:
            seen.add_protocol("sd-rtn")
            self._hooks.hint_client(direction)
            self._hooks.take_name(name, "sd-rtn-sni")
            return True
        return False

    def _stun(self, direction: int, payload: bytes, relayed: bool) -> None:
        if not looks_like_stun(payload):
            return
        try:
            message = parse_stun(payload)
        except StunError as exc:
            self._hooks.note_anomaly("stun-malformed", str(exc))
            return
        seen = self.seen
        seen.add_protocol("turn" if message.is_turn else "stun")
        seen.note_stun(direction, message, relayed)
        if not relayed and (message.message_class == CLASS_REQUEST or (
                message.is_turn and message.message_class == CLASS_INDICATION
                and message.method_name == "send")):
            self._hooks.hint_client(direction)
        if message.data and not relayed:
            self._datagram(direction, message.data, relayed=True)

    def _dtls(self, direction: int, payload: bytes) -> None:
        if not looks_like_dtls(payload):
            return
        try:
            records = parse_records(payload)
        except DtlsError as exc:
            self._hooks.note_anomaly("dtls-malformed", str(exc))
            return
        self.seen.add_protocol("dtls")
        for record in records:
            if record.handshake_type in (HANDSHAKE_CLIENT_HELLO, HANDSHAKE_SERVER_HELLO):
                self.seen.srtp_evidence.add("dtls")
            if record.handshake_type == HANDSHAKE_CLIENT_HELLO:
                self._hooks.hint_client(direction)
                self._hooks.take_dtls_hello(payload[record.offset : record.offset + record.length])

    def _channel_data(self, direction: int, payload: bytes) -> None:
        try:
            _channel, data = parse_channel_data(payload)
        except StunError:
            return  # not ChannelData after all
        if data:
            self.seen.add_protocol("turn")
            self.seen.relay = True
            self._datagram(direction, data, relayed=True)

    def _rtp(self, direction: int, payload: bytes) -> None:
        seen = self.seen
        try:
            if len(payload) > 1 and _SECOND_BYTE[payload[1]] == _RTCP:
                info = parse_rtcp(payload)
                if seen.protocols:  # RTCP alone is too weak a sign to start a media flow
                    seen.add_protocol("srtcp" if info.encrypted else "rtcp")
                    seen.rtcp_packets += 1
                    if info.encrypted:
                        seen.srtp_evidence.add("srtcp")
                return
            header = parse_rtp(payload)
        except RtpError:
            return
        if not seen.protocols and not self._confirmed(direction, header.ssrc, header.sequence):
            return
        seen.add_protocol("rtp")
        seen.rtp_packets += 1
        if len(seen.streams) < MAX_STREAMS:
            seen.streams.add(header.payload_type << 32 | header.ssrc)

    def _confirmed(self, direction: int, ssrc: int, sequence: int) -> bool:
        """RTP with nothing else in the flow yet: believe it once two packets of one stream
        follow each other (same SSRC, sequence a little higher)."""
        previous = self._tentative.get(direction)
        self._tentative[direction] = (ssrc, sequence)
        return previous is not None and previous[0] == ssrc and (
            0 < (sequence - previous[1]) % 0x10000 <= MAX_SEQUENCE_STEP)

    def _zoom(self, direction: int, payload: bytes) -> None:
        if payload and 3 <= payload[0] <= 5:
            self._weak_sfu += 1
            if self._weak_sfu >= MIN_WEAK_SFU:
                self.seen.add_protocol("zoom-media")
                self.seen.srtp_evidence.add("zoom")
        try:
            packet = parse_sfu(payload)
        except ZoomMediaError:
            return  # Zoom has more SFU types than the ones whose layout is known
        self._zoom_packet(direction, payload, packet.kind, packet.rtp_offset, sfu=packet.sfu_type)

    def _zoom_p2p(self, direction: int, payload: bytes) -> None:
        try:
            packet = parse_p2p(payload)
        except ZoomMediaError:
            return
        self._zoom_base = 0
        self._zoom_packet(direction, payload, packet.kind, packet.rtp_offset, sfu=None)

    def _zoom_packet(self, direction: int, payload: bytes, kind: str | None,
                     rtp_offset: int | None, sfu: int | None) -> None:
        seen = self.seen
        seen.add_protocol("zoom-media")
        seen.srtp_evidence.add("zoom")
        if kind == "hello":
            # SFU hellos 01 00 0x come from the client, 02 00 0x from the router.
            self._hooks.hint_client(direction if sfu in (1, None) else 1 - direction)
            return
        if kind is not None:
            seen.zoom_kinds.add(kind)
        if rtp_offset is not None:
            self.count(payload)


def start_media(direction: int, sport: int, dport: int, payload: bytes,
                hooks: MediaHooks) -> MediaSniffer | None:
    """A sniffer for the flow when its datagram is a media protocol (or RTP that a later
    datagram may confirm); None when it is none of them."""
    first = payload[0]
    zoom_sfu = is_zoom_port(sport, dport) and (_is_sfu(payload) or (
        3 <= first <= 5 and len(payload) > 8))
    plausible = (
        (0 <= first <= 3 and looks_like_stun(payload))
        or (20 <= first <= 63 and looks_like_dtls(payload))
        or zoom_sfu
        or (128 <= first <= 191 and len(payload) >= 12)
        or payload[:3] == P2P_HELLO
        or is_voice_ping(payload)
        or (len(payload) >= 20 and (payload[6] == 0x21 or payload[2:4] == b"\x00\x46"))
    )
    if not plausible:
        return None
    sniffer = MediaSniffer(hooks, zoom_sfu)
    sniffer.feed(direction, payload)
    if sniffer.finished or not (sniffer.seen.protocols or sniffer.tentative):
        return None
    return sniffer


def _is_sfu(payload: bytes) -> bool:
    try:
        parse_sfu(payload)
    except ZoomMediaError:
        return False
    return True


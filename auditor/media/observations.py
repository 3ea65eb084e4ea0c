"""What a flow's media payloads showed, gathered while the flow's source is read, and the
`Media` block and `app_proto` label made of it when the flow is finished (and its client is
known)."""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.protocols.stun import (
    CLASS_SUCCESS,
    METHOD_ALLOCATE,
    StunMessage,
    address_text,
)
from auditor.records import Media, Visibility

MAX_STREAMS = 64  # payload type and SSRC pairs kept per flow
MAX_LISTED = 8  # SOFTWARE values and peer addresses kept per flow
# The label a media flow gets: what carried the flow's content, most specific first. A flow
# that went STUN, DTLS, SRTP is an SRTP flow; its other protocols stay in `Media.protocols`.
LABEL_ORDER = ("zoom-media", "srtp", "rtp", "srtcp", "rtcp", "dtls", "discord-voice", "sd-rtn",
               "turn", "stun")
# What each label lets an observer read: Zoom and Discord encrypt the media payload behind
# readable headers, as SRTP does; Agora's hello is readable, what follows it is not.
ENCRYPTED_LABELS = frozenset({"zoom-media", "srtp", "srtcp", "dtls", "discord-voice", "sd-rtn"})
PLAINTEXT_LABELS = frozenset({"rtp", "rtcp", "turn", "stun"})
# Why RTP is taken to be SRTP, strongest first.
EVIDENCE_ORDER = ("dtls", "srtcp", "zoom", "discord", "ice")
Address = tuple[str, int]


@dataclass(slots=True)
class MediaObservations:
    """Mutable record of one flow's media facts, per direction where orientation matters."""

    protocols: list[str] = field(default_factory=list)
    stun_methods: list[str] = field(default_factory=list)
    relay: bool = False
    realm: str | None = None
    software: list[str] = field(default_factory=list)
    mapped: dict[int, Address] = field(default_factory=dict)  # direction of the response
    relayed: Address | None = None
    peers: list[str] = field(default_factory=list)
    ice: bool = False
    srtp_evidence: set[str] = field(default_factory=set)
    rtp_packets: int = 0  # RTP headers read
    rtcp_packets: int = 0
    streams: set[int] = field(default_factory=set)  # payload type << 32 | SSRC
    zoom_kinds: set[str] = field(default_factory=set)

    def add_protocol(self, name: str) -> None:
        """Note a protocol (kept in the order first seen)."""
        if name not in self.protocols:
            self.protocols.append(name)

    def note_mapped(self, direction: int, address: Address) -> None:
        """An address the sender of a datagram in `direction` reported for its receiver."""
        self.mapped.setdefault(direction, address)

    def note_stun(self, direction: int, message: StunMessage, relayed: bool) -> None:
        """What one STUN or TURN message says (`relayed`: it travelled inside TURN)."""
        name = message.method_name
        if name not in self.stun_methods:
            self.stun_methods.append(name)
        if message.is_ice_check:
            # WebRTC (RFC 8827) and the conferencing apps that use ICE send SRTP after it.
            self.ice = True
            self.srtp_evidence.add("ice")
        if relayed:
            return  # addresses inside a relay describe the peers' path, not this flow
        if message.is_turn:
            self.relay = True
        if message.realm and self.realm is None:
            self.realm = message.realm
        if message.software and message.software not in self.software and len(
                self.software) < MAX_LISTED:
            self.software.append(message.software)
        if message.message_class == CLASS_SUCCESS and message.mapped_address is not None:
            self.note_mapped(direction, message.mapped_address)
        if message.method == METHOD_ALLOCATE and message.relayed_address is not None:
            self.relayed = self.relayed or message.relayed_address
        if message.peer_address is not None:
            text = address_text(message.peer_address)
            if text not in self.peers and len(self.peers) < MAX_LISTED:
                self.peers.append(text)

    def label(self) -> str | None:
        """The flow's app_proto: its most specific media protocol."""
        protocols = self.final_protocols()
        return next((name for name in LABEL_ORDER if name in protocols), None)

    def final_protocols(self) -> tuple[str, ...]:
        """The protocols seen, with RTP named SRTP when the flow shows its media encrypted."""
        encrypted = bool(self.srtp_evidence)
        return tuple(dict.fromkeys("srtp" if p == "rtp" and encrypted else p
                                   for p in self.protocols))

    def media(self, client_direction: int, packets: int, duration: float,
              counted: bool = True) -> Media | None:
        """The flow's Media block, now that its client side is known; None without media.

        `packets` and `duration` are the whole flow's; `counted`: each packet was seen (UDP),
        so the packet rate means something (a TCP flow's segments are not media packets).
        """
        if not self.protocols:
            return None
        # A success response sent by the server tells the client its public address.
        mapped = self.mapped.get(1 - client_direction)
        has_rtp = "rtp" in self.protocols or self.rtp_packets > 0
        rate = round(packets / duration, 1) if counted and has_rtp and duration > 0 else None
        ssrcs = {stream & 0xFFFFFFFF for stream in self.streams}
        payload_types = sorted({stream >> 32 for stream in self.streams})
        evidence = next((e for e in EVIDENCE_ORDER if e in self.srtp_evidence), None)
        return Media(
            protocols=self.final_protocols(),
            stun_methods=tuple(self.stun_methods) or None,
            relay=True if self.relay else None,
            turn_realm=self.realm,
            software=tuple(self.software) or None,
            mapped_address=address_text(mapped) if mapped is not None else None,
            relayed_address=address_text(self.relayed) if self.relayed is not None else None,
            peer_addresses=tuple(self.peers) or None,
            ice=True if self.ice else None,
            srtp_evidence=evidence if has_rtp else None,
            rtp_packets_read=self.rtp_packets if has_rtp else None,
            ssrc_count=len(ssrcs) if ssrcs else None,
            payload_types=tuple(payload_types) or None,
            packet_rate=rate,
            zoom_kinds=tuple(sorted(self.zoom_kinds)) or None,
        )


def label_visibility(label: str) -> Visibility:
    """What a flow labelled `label` (one of LABEL_ORDER) shows of its content."""
    return Visibility.ENCRYPTED if label in ENCRYPTED_LABELS else Visibility.PLAINTEXT

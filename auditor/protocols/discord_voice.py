"""Discord's voice transport on UDP: the IP discovery exchange and the voice-server pings.

Before sending voice, a Discord client asks the voice server which public address and port it
is seen from (Discord's developer documentation, "IP Discovery"): a 74-byte request of type 1
(2-byte type, 2-byte length 70, the 4-byte SSRC, a 64-byte address field and a 2-byte port)
answered by type 2 with the address filled in. That answer reveals the client's public
address, like STUN's XOR-MAPPED-ADDRESS. Voice then flows as RTP with encrypted payloads. To
pick a server the client first pings several with 8-byte datagrams starting 13 37 ca fe (the
marker nDPI's Discord dissector uses). Malformed discovery packets raise `DiscordVoiceError`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

DISCOVERY_LENGTH = 74
DISCOVERY_BODY_LENGTH = 70
DISCOVERY_REQUEST, DISCOVERY_RESPONSE = 1, 2
PING_MARKER = b"\x13\x37\xca\xfe"
MAX_PING_LENGTH = 32


class DiscordVoiceError(ValueError):
    """An IP discovery packet whose address field is not an address."""


@dataclass(frozen=True, slots=True)
class IpDiscovery:
    """One IP discovery packet: request or response, the SSRC it is for, and (in a response)
    the address and port the server saw the client at."""

    response: bool
    ssrc: int
    address: tuple[str, int] | None


def parse_ip_discovery(payload: bytes) -> IpDiscovery | None:
    """An IP discovery request or response; None if the datagram is not one."""
    if len(payload) != DISCOVERY_LENGTH or int.from_bytes(payload[2:4], "big") != (
            DISCOVERY_BODY_LENGTH):
        return None
    kind = int.from_bytes(payload[0:2], "big")
    if kind not in (DISCOVERY_REQUEST, DISCOVERY_RESPONSE):
        return None
    ssrc = int.from_bytes(payload[4:8], "big")
    field = bytes(payload[8:72]).split(b"\x00", 1)[0]
    if kind == DISCOVERY_REQUEST or not field:
        return IpDiscovery(kind == DISCOVERY_RESPONSE, ssrc, None)
    try:
        address = str(ipaddress.ip_address(field.decode("ascii")))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DiscordVoiceError(f"IP discovery address {field[:40]!r} is not an address") from exc
    return IpDiscovery(True, ssrc, (address, int.from_bytes(payload[72:74], "big")))


def is_voice_ping(payload: bytes) -> bool:
    """A voice-server ping (or its answer): short, starting 13 37 ca fe."""
    return 8 <= len(payload) <= MAX_PING_LENGTH and bytes(payload[:4]) == PING_MARKER

"""Agora's SD-RTN ("software-defined real-time network"), the media network under many apps'
voice and video calls: the server name in a client's first datagram.

The hello resembles Google QUIC's CHLO but carries no Q0xx version: byte 6 is 0x21, bytes
12-15 are the tag `\\x04SNI`, bytes 16-17 the name's length, byte 18 zero and the name follows
(the layout nDPI's SD-RTN dissector checks; e.g. `23-248-186-179.edge.agora.io`). The name
is read; everything else in the datagram is left alone. Malformed hellos raise `AgoraError`.
"""

from __future__ import annotations

from auditor.protocols.tls import ClientHelloError, server_name_text

NAME_OFFSET = 19
SNI_TAG = b"\x04SNI"


class AgoraError(ValueError):
    """The datagram starts like an SD-RTN hello but its server name is unreadable."""


def sd_rtn_server_name(payload: bytes) -> str | None:
    """The server name of an SD-RTN hello; None if the datagram is not one."""
    if len(payload) < 20 or payload[6] != 0x21 or bytes(payload[12:16]) != SNI_TAG:
        return None
    length = int.from_bytes(payload[16:18], "big")
    if payload[18] != 0 or NAME_OFFSET + length > len(payload):
        raise AgoraError(f"SD-RTN SNI of {length} bytes does not fit the hello")
    try:
        return server_name_text(bytes(payload[NAME_OFFSET : NAME_OFFSET + length]))
    except (ClientHelloError, UnicodeDecodeError) as exc:
        raise AgoraError(f"bad SD-RTN server name: {exc}") from exc

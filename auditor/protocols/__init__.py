"""Payload parsers, one module per protocol: TLS ClientHello, QUIC and gQUIC Initial packets,
DNS messages, HTTP request heads, and the media plane: STUN/TURN, DTLS records, RTP/RTCP,
Zoom's media framing, Agora's SD-RTN hello, Discord's voice handshake. Pure functions of bytes
that raise a specific ValueError on a malformed payload; used by every source (capture files
and the live proxy).

May import: the standard library only.
"""

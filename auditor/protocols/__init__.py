"""Payload parsers, one module per protocol: TLS ClientHello, QUIC and gQUIC Initial packets,
DNS messages, HTTP request heads. Pure functions of bytes that raise a specific ValueError on a
malformed payload; used by every source (capture files and the live proxy).

May import: the standard library only.
"""

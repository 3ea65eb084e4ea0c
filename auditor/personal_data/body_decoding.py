"""Undoing a request body's Content-Encoding (gzip, deflate, br, zstd) with an output bound,
so a decompression bomb costs at most the bound."""

from __future__ import annotations

import sys
import zlib
from dataclasses import dataclass

import brotli

if sys.version_info >= (3, 14):  # zstd is in the standard library from Python 3.14
    from compression import zstd
else:  # before it, the backport mitmproxy depends on
    from backports import zstd


_PIECE = 256 * 1024  # brotli output per step


@dataclass(frozen=True, slots=True)
class DecodedBody:
    """A body after its content encodings: the bytes, whether the bound cut it, and why it
    could not be decoded (then `data` is the raw body)."""

    data: bytes
    truncated: bool
    error: str | None


def decode_body(raw: bytes, content_encoding: str | None, limit: int) -> DecodedBody:
    """Decode `raw` through each encoding in the header (applied in order, undone in
    reverse), producing at most `limit` bytes."""
    encodings = [e.strip().lower() for e in (content_encoding or "").split(",") if e.strip()]
    data, truncated = raw, False
    bound = max(limit, 1)  # a zero bound would mean "unbounded" to the decompressors
    for encoding in reversed(encodings):
        if encoding in ("identity", ""):
            continue
        try:
            data, cut = _decode_one(data, encoding, bound)
        except (zlib.error, brotli.error, zstd.ZstdError, EOFError, ValueError) as exc:
            return DecodedBody(raw[:limit], len(raw) > limit, f"{encoding}: {exc}")
        truncated = truncated or cut
    if len(data) > limit:
        return DecodedBody(data[:limit], True, None)
    return DecodedBody(data, truncated, None)


def _decode_one(data: bytes, encoding: str, limit: int) -> tuple[bytes, bool]:
    if encoding in ("gzip", "x-gzip"):
        return _zlib(data, zlib.MAX_WBITS | 16, limit)
    if encoding == "deflate":
        try:
            return _zlib(data, zlib.MAX_WBITS, limit)
        except zlib.error:  # many clients send raw deflate without the zlib wrapper
            return _zlib(data, -zlib.MAX_WBITS, limit)
    if encoding == "br":
        return _brotli(data, limit)
    if encoding == "zstd":
        return _zstd(data, limit)
    raise ValueError(f"unsupported content encoding {encoding!r}")


def _zlib(data: bytes, wbits: int, limit: int) -> tuple[bytes, bool]:
    decompressor = zlib.decompressobj(wbits)
    out = decompressor.decompress(data, limit)
    if len(out) < limit or decompressor.eof:
        return out, False
    # The bound stopped it: truncated if there is more output to come.
    return out, bool(decompressor.decompress(decompressor.unconsumed_tail, 1))


def _brotli(data: bytes, limit: int) -> tuple[bytes, bool]:
    # In pieces: one process() call with a large output limit peaks at about three times it.
    decompressor = brotli.Decompressor()
    pieces: list[bytes] = []
    size = 0
    piece = decompressor.process(data, output_buffer_limit=_PIECE)
    while True:
        if size + len(piece) > limit:
            pieces.append(piece[: limit - size])
            return b"".join(pieces), True
        pieces.append(piece)
        size += len(piece)
        # Finished, or waiting for input that the body does not have (a stream cut short).
        if decompressor.is_finished() or decompressor.can_accept_more_data() or not piece:
            return b"".join(pieces), False
        piece = decompressor.process(b"", output_buffer_limit=_PIECE)


def _zstd(data: bytes, limit: int) -> tuple[bytes, bool]:
    decompressor = zstd.ZstdDecompressor()
    out = decompressor.decompress(data, max_length=limit)
    if len(out) < limit or decompressor.eof:
        return out, False
    return out, bool(decompressor.decompress(b"", max_length=1))

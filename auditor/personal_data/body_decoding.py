"""Undoing a request body's Content-Encoding (gzip, deflate, br, zstd) with an output bound,
so a decompression bomb costs at most the bound."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import brotli

try:  # Python 3.14 has zstd in the standard library; before it, mitmproxy's backport
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the Python version
    from backports import zstd  # type: ignore[no-redef]


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
    for encoding in reversed(encodings):
        if encoding in ("identity", ""):
            continue
        try:
            data, cut = _decode_one(data, encoding, limit)
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
    out = decompressor.decompress(data, limit + 1)
    return out[:limit], len(out) > limit


def _brotli(data: bytes, limit: int) -> tuple[bytes, bool]:
    decompressor = brotli.Decompressor()
    out = decompressor.process(data, output_buffer_limit=limit + 1)
    return out[:limit], len(out) > limit or not decompressor.is_finished()


def _zstd(data: bytes, limit: int) -> tuple[bytes, bool]:
    decompressor = zstd.ZstdDecompressor()
    out = decompressor.decompress(data, max_length=limit + 1)
    return out[:limit], len(out) > limit

"""Content-Encoding decoding of request bodies: every codec, chains, bad input, and
decompression bombs that must cost no more than the output bound."""

from __future__ import annotations

import gzip
import random
import struct
import tracemalloc
import zlib

import brotli
import pytest

from auditor.personal_data.body_decoding import decode_body

try:  # the same zstd the module under test uses
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:  # Python < 3.14: mitmproxy's backport
    from backports import zstd  # type: ignore[no-redef]

MB = 1 << 20
GIB = 1 << 30
# A Facebook SDK app-events form body, the kind of thing that arrives compressed.
PLAIN = (b"event=MOBILE_APP_INSTALL&advertiser_id=6D92078A-8246-4BA4-AE5B-76104861E7DC"
         b"&extinfo=%5B%22i2%22%2C%22us.zoom.videomeetings%22%2C%225.0.2%22%5D") * 40


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


ENCODERS = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,  # zlib-wrapped, as RFC 9110 says
    "br": brotli.compress,
    "zstd": zstd.compress,
}


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_each_codec_round_trips(encoding: str) -> None:
    decoded = decode_body(ENCODERS[encoding](PLAIN), encoding, 4 * MB)
    assert decoded.data == PLAIN
    assert decoded.truncated is False and decoded.error is None


def test_raw_deflate_without_zlib_wrapper() -> None:
    # Many clients (old IE, some SDKs) send bare deflate data under "deflate".
    decoded = decode_body(raw_deflate(PLAIN), "deflate", 4 * MB)
    assert decoded.data == PLAIN and decoded.error is None


@pytest.mark.parametrize("header", ["GZIP", " gzip ", "Gzip,", "identity, gzip"])
def test_header_case_spaces_and_identity(header: str) -> None:
    decoded = decode_body(gzip.compress(PLAIN), header, 4 * MB)
    assert decoded.data == PLAIN and decoded.error is None


def test_chained_encodings_are_undone_in_reverse() -> None:
    # "br, gzip": brotli was applied first, gzip last, so gzip comes off first.
    body = gzip.compress(brotli.compress(PLAIN))
    decoded = decode_body(body, "br, gzip", 4 * MB)
    assert decoded.data == PLAIN and decoded.error is None
    three = zstd.compress(zlib.compress(gzip.compress(PLAIN)))
    assert decode_body(three, "gzip, deflate, zstd", 4 * MB).data == PLAIN


def test_chain_in_the_wrong_order_is_an_error_with_the_raw_body() -> None:
    body = gzip.compress(brotli.compress(PLAIN))
    decoded = decode_body(body, "gzip, br", 4 * MB)  # says brotli came last: it did not
    assert decoded.error is not None and decoded.error.startswith("br:")
    assert decoded.data == body and decoded.truncated is False


@pytest.mark.parametrize("header", [None, "", "identity", " , identity ,"])
def test_no_encoding_returns_the_body_as_is(header: str | None) -> None:
    decoded = decode_body(PLAIN, header, 4 * MB)
    assert decoded == decode_body(PLAIN, None, 4 * MB)
    assert decoded.data == PLAIN and decoded.truncated is False and decoded.error is None


def test_unknown_encoding_is_an_error_naming_it() -> None:
    decoded = decode_body(PLAIN, "compress", 4 * MB)
    assert decoded.error is not None and "compress" in decoded.error
    assert decoded.data == PLAIN


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "br", "zstd"])
def test_garbage_is_an_error_and_the_raw_body_is_returned(encoding: str) -> None:
    garbage = b"\x8f\x00this is not " + encoding.encode() + b" data at all\xff" * 20
    decoded = decode_body(garbage, encoding, 4 * MB)
    assert decoded.error is not None and decoded.error.startswith(encoding + ":")
    assert decoded.data == garbage and decoded.truncated is False


def test_raw_body_returned_on_error_still_respects_the_bound() -> None:
    garbage = b"\xff" * 1000
    decoded = decode_body(garbage, "gzip", 100)
    assert decoded.error is not None
    assert decoded.data == garbage[:100] and decoded.truncated is True


def test_plain_body_over_the_bound_is_cut() -> None:
    decoded = decode_body(PLAIN, None, 100)
    assert decoded.data == PLAIN[:100] and decoded.truncated is True and decoded.error is None


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd", None])
def test_empty_body(encoding: str | None) -> None:
    decoded = decode_body(b"", encoding, 4 * MB)
    assert decoded.data == b"" and decoded.truncated is False and decoded.error is None


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_compressed_empty_payload(encoding: str) -> None:
    decoded = decode_body(ENCODERS[encoding](b""), encoding, 4 * MB)
    assert decoded.data == b"" and decoded.truncated is False and decoded.error is None


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_output_exactly_at_the_bound_is_not_truncated(encoding: str) -> None:
    decoded = decode_body(ENCODERS[encoding](PLAIN), encoding, len(PLAIN))
    assert decoded.data == PLAIN and decoded.truncated is False


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_output_one_byte_over_the_bound_is_truncated(encoding: str) -> None:
    decoded = decode_body(ENCODERS[encoding](PLAIN), encoding, len(PLAIN) - 1)
    assert decoded.data == PLAIN[:-1] and decoded.truncated is True and decoded.error is None


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_zero_bound_decodes_nothing(encoding: str) -> None:
    decoded = decode_body(ENCODERS[encoding](PLAIN), encoding, 0)
    assert decoded.data == b"" and decoded.truncated is True


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_stream_cut_short_gives_its_beginning(encoding: str) -> None:
    # A capture or proxy that kept only part of the body: what arrived is still scanned.
    # Varied text, so the compressed stream keeps a real length; zstd emits whole 128 KiB
    # blocks only, so several of them.
    alphabet = b"abcdefghijklmnopqrstuvwxyz =&0123456789"
    text = bytes(alphabet[b % len(alphabet)] for b in random.Random(7).randbytes(MB))
    body = ENCODERS[encoding](text)
    decoded = decode_body(body[: len(body) // 2], encoding, 4 * MB)
    assert decoded.error is None
    assert 0 < len(decoded.data) < len(text) and text.startswith(decoded.data)
    assert decoded.truncated is False  # the body ended, the bound did not cut it


# ---- decompression bombs: 1 GiB of zeros, compressed -------------------------------------


def _deflate_gib_of_zeros() -> tuple[bytes, int, int]:
    """A raw deflate stream of 1 GiB of zeros (with its CRC-32 and Adler-32), built from
    independent 1 MiB blocks: after a full flush every block compresses to the same bytes."""
    chunk = bytes(MB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    middle = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    last = compressor.compress(chunk) + compressor.flush()
    crc, adler = 0, 1
    for _ in range(GIB // MB):
        crc, adler = zlib.crc32(chunk, crc), zlib.adler32(chunk, adler)
    return first + middle * (GIB // MB - 2) + last, crc, adler


@pytest.fixture(scope="module")
def bombs() -> dict[str, tuple[str, bytes]]:
    """Content-Encoding and body of a 1 GiB-of-zeros bomb for each codec."""
    raw, crc, adler = _deflate_gib_of_zeros()
    gzip_bomb = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + raw + struct.pack(
        "<II", crc, GIB & 0xFFFFFFFF)
    zlib_bomb = b"\x78\xda" + raw + struct.pack(">I", adler)
    chunk = bytes(MB)
    br = brotli.Compressor(quality=1)
    br_bomb = b"".join(br.process(chunk) for _ in range(GIB // MB)) + br.finish()
    zs = zstd.ZstdCompressor(level=1)
    zstd_bomb = b"".join(zs.compress(chunk) for _ in range(GIB // MB)) + zs.flush()
    return {
        "gzip": ("gzip", gzip_bomb),
        "x-gzip": ("x-gzip", gzip_bomb),
        "deflate-zlib": ("deflate", zlib_bomb),
        "deflate-raw": ("deflate", raw),
        "br": ("br", br_bomb),
        "zstd": ("zstd", zstd_bomb),
        # brotli inside gzip: the outer layer is small, the inner one is the bomb
        "br-then-gzip": ("br, gzip", gzip.compress(br_bomb)),
    }


def test_bombs_are_small_and_really_a_gibibyte() -> None:
    raw, _, _ = _deflate_gib_of_zeros()
    assert len(raw) < 2 * MB
    decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
    total, tail = 0, raw
    while not decompressor.eof:
        out = decompressor.decompress(tail, 256 * MB)
        total, tail = total + len(out), decompressor.unconsumed_tail
        assert out.count(0) == len(out)
    assert total == GIB


@pytest.mark.parametrize("codec", ["gzip", "x-gzip", "deflate-zlib", "deflate-raw", "br", "zstd",
                                   "br-then-gzip"])
def test_bomb_costs_the_bound_not_a_gibibyte(bombs: dict[str, tuple[str, bytes]],
                                             codec: str) -> None:
    encoding, body = bombs[codec]
    assert len(body) < 2 * MB
    limit = 4 * MB
    tracemalloc.start()
    try:
        decoded = decode_body(body, encoding, limit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert decoded.error is None
    assert decoded.truncated is True
    assert len(decoded.data) == limit and decoded.data.count(0) == limit
    assert peak < 3 * limit, f"{codec}: peak {peak / MB:.1f} MiB for a {limit // MB} MiB bound"


@pytest.mark.parametrize("codec", ["gzip", "br", "zstd"])
def test_bomb_with_a_small_bound(bombs: dict[str, tuple[str, bytes]], codec: str) -> None:
    encoding, body = bombs[codec]
    decoded = decode_body(body, encoding, 1000)
    assert decoded.data == bytes(1000) and decoded.truncated is True

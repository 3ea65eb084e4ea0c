"""The decompressed stream under .pcap.gz reading: bounded memory however much a file expands,
every byte before a cut kept, concatenated members and zero padding read as gzip does, steps
back within what was kept."""

from __future__ import annotations

import gzip
import random
import tracemalloc
from itertools import pairwise
from pathlib import Path

import pytest

from auditor.capture.gzip_stream import KEEP, RewindableStream


def stream_of(path: Path, header: int = 0) -> RewindableStream:
    handle = gzip.open(path, "rb")  # noqa: SIM115 - the stream owns and closes it
    handle.read(header)  # as scapy's reader leaves it: past the capture's file header
    return RewindableStream(handle)


def read_all(stream: RewindableStream) -> bytes:
    parts = []
    while chunk := stream.read(1 << 20):
        parts.append(chunk)
    return b"".join(parts)


def test_reads_on_from_where_the_gzip_file_was_left(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000
    path = tmp_path / "a.gz"
    path.write_bytes(gzip.compress(data))
    stream = stream_of(path, header=24)
    assert stream.tell() == 24
    assert read_all(stream) == data[24:] and stream.failure is None


def test_concatenated_members_and_zero_padding(tmp_path: Path) -> None:
    path = tmp_path / "multi.gz"
    path.write_bytes(gzip.compress(b"first,") + gzip.compress(b"second") + b"\x00" * 512)
    stream = stream_of(path)
    assert read_all(stream) == b"first,second" and stream.failure is None


@pytest.mark.parametrize("tail, why", [(b"not gzip at all", "damaged"),
                                       (None, "ended before the end-of-stream marker")])
def test_damage_keeps_everything_before_it(tmp_path: Path, tail: bytes | None,
                                           why: str) -> None:
    data = bytes(range(256)) * 20000
    packed = gzip.compress(data)
    path = tmp_path / "damaged.gz"
    path.write_bytes(packed + tail if tail is not None else packed[: len(packed) // 2])
    stream = stream_of(path)
    got = read_all(stream)
    assert stream.failure is not None and why in stream.failure
    assert data.startswith(got) and len(got) > (len(data) // 3 if tail is None else
                                                 len(data) - 1)


def test_steps_back_within_what_was_kept(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40000  # 10 MB
    path = tmp_path / "b.gz"
    path.write_bytes(gzip.compress(data))
    stream = stream_of(path)
    stream.read(3_000_000)
    stream.read(3_000_000)
    stream.seek(2_500_000)
    assert stream.read(1_000_000) == data[2_500_000:3_500_000]
    with pytest.raises(OSError):
        stream.seek(6_000_000 - KEEP - (2 << 20))
    stream.seek(9_000_000)  # forward: read on
    assert stream.read(100) == data[9_000_000:9_000_100]


def test_a_small_file_that_expands_enormously_costs_little_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.gz"
    with gzip.open(path, "wb", compresslevel=9) as handle:
        zeros = b"\x00" * (1 << 20)
        for _ in range(300):  # 300 MB of zeros, about 300 kB compressed
            handle.write(zeros)
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        stream = stream_of(path)
        total = 0
        while chunk := stream.read(1 << 20):
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 300 << 20
    assert peak < 16 << 20, f"peak {peak / 1e6:.1f} MB"


def test_a_read_spanning_two_members_gives_every_byte_asked_for(tmp_path: Path) -> None:
    """As a file does: a record reader that asks for a block's 12-byte header gets all 12
    even where a gzip member ends inside it (a short read there let a claimed length of
    gigabytes go unchecked), and fewer only at the end of the stream."""
    path = tmp_path / "split.gz"
    path.write_bytes(gzip.compress(b"abcdef") + gzip.compress(b"ghijklmnop"))
    stream = stream_of(path, header=0)
    assert stream.read(4) == b"abcd"
    assert stream.read(8) == b"efghijkl"  # two bytes of the first member, six of the second
    stream.seek(4)  # a step back to where the header starts, as the reader takes
    assert stream.read(12) == b"efghijklmnop"
    assert stream.read(12) == b"" and stream.failure is None


@pytest.mark.parametrize("read_size", [1 << 20, 4096, 12])
def test_members_larger_than_a_decompression_step_are_read_once(tmp_path: Path,
                                                                read_size: int) -> None:
    """Members whose end falls inside a bounded decompression step: zlib then leaves what
    follows in `unused_data` and a copy in `unconsumed_tail`; read together, the next member
    came twice (and the one after four times)."""
    data = random.Random(7).randbytes(3 << 20)
    cuts = [0, (1 << 20) + 5, (2 << 20) + 11, 3 << 20]
    path = tmp_path / "members.gz"
    path.write_bytes(b"".join(gzip.compress(data[a:b], compresslevel=1)
                              for a, b in pairwise(cuts)))
    stream = stream_of(path)
    parts = []
    while chunk := stream.read(read_size):
        parts.append(chunk)
        assert stream.tell() <= len(data)
    assert b"".join(parts) == data and stream.failure is None

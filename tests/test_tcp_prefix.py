"""Reassembly of the first bytes of a TCP stream: order, retransmission, overlap, SYN anchor,
sequence wrap-around and the memory bound."""

from __future__ import annotations

import random

import pytest

from auditor.capture.tcp_prefix import SEQ_MODULO, StreamPrefix

STREAM = bytes(range(256)) * 40  # 10240 bytes, every offset distinguishable modulo 256


def held_bytes(prefix: StreamPrefix) -> int:
    """Bytes the reassembler keeps in memory: the prefix and the segments waiting for a gap."""
    return len(prefix.prefix) + sum(len(s) for s in prefix._segments.values())


def segments(data: bytes, size: int, start: int = 0) -> list[tuple[int, bytes]]:
    return [((start + i) % SEQ_MODULO, data[i : i + size]) for i in range(0, len(data), size)]


def test_in_order_segments_grow_the_prefix() -> None:
    sp = StreamPrefix(limit=4096)
    sp.set_initial_sequence(999)
    grown = [sp.add(seq, seg) for seq, seg in segments(STREAM[:3000], 1000, start=1000)]
    assert grown == [STREAM[:1000], STREAM[:2000], STREAM[:3000]]
    assert sp.prefix == STREAM[:3000]


def test_out_of_order_segments_wait_for_the_gap() -> None:
    sp = StreamPrefix(limit=4096)
    sp.set_initial_sequence(41)
    parts = segments(STREAM[:3000], 1000, start=42)
    assert sp.add(*parts[2]) is None
    assert sp.add(*parts[1]) is None
    assert sp.prefix == b""
    assert sp.add(*parts[0]) == STREAM[:3000]  # the gap closes: everything at once


def test_shuffled_small_segments_reassemble() -> None:
    rng = random.Random(5)
    parts = segments(STREAM[:5000], 137, start=7_000_000)
    rng.shuffle(parts)
    sp = StreamPrefix(limit=8192)
    sp.set_initial_sequence(7_000_000 - 1)
    for seq, seg in parts:
        sp.add(seq, seg)
    assert sp.prefix == STREAM[:5000]


def test_retransmission_is_ignored() -> None:
    sp = StreamPrefix(limit=4096)
    sp.set_initial_sequence(0)
    assert sp.add(1, STREAM[:500]) == STREAM[:500]
    assert sp.add(1, STREAM[:500]) is None
    assert sp.add(1, STREAM[:200]) is None  # partial retransmission of covered bytes
    assert sp.add(501, STREAM[500:900]) == STREAM[:900]
    assert sp.prefix == STREAM[:900]


def test_retransmission_of_a_waiting_segment_is_ignored() -> None:
    sp = StreamPrefix(limit=4096)
    sp.set_initial_sequence(0)
    assert sp.add(501, STREAM[500:900]) is None
    assert sp.add(501, STREAM[500:900]) is None
    assert sp.add(1, STREAM[:500]) == STREAM[:900]


def test_retransmissions_do_not_use_up_the_limit() -> None:
    """Retransmitted copies of bytes already in the prefix must not count against the limit,
    or a connection with a few lost ACKs stops growing its prefix before the limit."""
    sp = StreamPrefix(limit=1000)
    sp.set_initial_sequence(0)
    sp.add(1, STREAM[:400])
    for _ in range(5):
        sp.add(1, STREAM[:400])  # the peer retransmits the first segment
        sp.add(201, STREAM[200:400])
    assert sp.add(401, STREAM[400:800]) == STREAM[:800]


def test_overlapping_segments_merge() -> None:
    sp = StreamPrefix(limit=4096)
    sp.set_initial_sequence(99)
    assert sp.add(100, STREAM[:600]) == STREAM[:600]
    assert sp.add(100 + 400, STREAM[400:1000]) == STREAM[:1000]  # overlaps by 200
    assert sp.add(100 + 950, STREAM[950:1500]) == STREAM[:1500]


def test_overlapping_out_of_order_segments_merge() -> None:
    sp = StreamPrefix(limit=4096)
    sp.set_initial_sequence(0)
    assert sp.add(1 + 800, STREAM[800:1200]) is None
    assert sp.add(1 + 300, STREAM[300:1000]) is None  # overlaps the waiting one
    assert sp.add(1, STREAM[:500]) == STREAM[:1200]


def test_longer_retransmission_at_the_same_sequence_replaces_the_shorter() -> None:
    sp = StreamPrefix(limit=4096)
    sp.set_initial_sequence(0)
    assert sp.add(1 + 100, STREAM[100:150]) is None
    assert sp.add(1 + 100, STREAM[100:400]) is None  # repacketised, longer
    assert sp.add(1, STREAM[:100]) == STREAM[:400]


def test_empty_payload_is_ignored() -> None:
    sp = StreamPrefix()
    assert sp.add(5, b"") is None
    assert sp.base is None  # an empty segment does not anchor the stream


def test_first_segment_anchors_without_syn() -> None:
    sp = StreamPrefix()
    assert sp.add(123456, b"GET / ") == b"GET / "
    assert sp.base == 123456
    assert sp.add(123456 + 6, b"HTTP/1.1") == b"GET / HTTP/1.1"


def test_syn_anchors_the_stream_so_an_early_second_segment_waits() -> None:
    sp = StreamPrefix()
    sp.set_initial_sequence(5000)
    assert sp.base == 5001
    assert sp.add(5001 + 1000, STREAM[1000:1400]) is None
    assert sp.add(5001, STREAM[:1000]) == STREAM[:1400]


def test_anchor_is_set_once() -> None:
    sp = StreamPrefix()
    sp.set_initial_sequence(10)
    sp.set_initial_sequence(900)  # a later SYN (retransmitted with another ISN) is ignored
    assert sp.base == 11
    sp2 = StreamPrefix(base=77)
    sp2.set_initial_sequence(10)
    assert sp2.base == 77


def test_segments_before_the_anchor_are_ignored() -> None:
    sp = StreamPrefix(limit=4096)
    sp.set_initial_sequence(10_000)
    assert sp.add(10_001 - 500, STREAM[:500]) is None
    assert sp.add(10_001 - 1, b"x" * 10) is None  # starts one byte before the anchor
    assert sp.prefix == b""
    assert sp.add(10_001, STREAM[:10]) == STREAM[:10]


@pytest.mark.parametrize("isn", [SEQ_MODULO - 1, SEQ_MODULO - 2, SEQ_MODULO - 700])
def test_sequence_numbers_wrap_around(isn: int) -> None:
    sp = StreamPrefix(limit=4096)
    sp.set_initial_sequence(isn)
    parts = segments(STREAM[:3000], 500, start=isn + 1)
    assert any(seq < 1000 for seq, _ in parts)  # some segments are past the wrap
    for seq, seg in reversed(parts):
        sp.add(seq, seg)
    assert sp.prefix == STREAM[:3000]


def test_wrap_around_without_syn() -> None:
    sp = StreamPrefix(limit=4096)
    assert sp.add(SEQ_MODULO - 100, STREAM[:100]) == STREAM[:100]
    assert sp.add(0, STREAM[100:300]) == STREAM[:300]


def test_prefix_stops_at_the_limit() -> None:
    sp = StreamPrefix(limit=1000)
    sp.set_initial_sequence(0)
    for seq, seg in segments(STREAM[:3000], 300, start=1):
        sp.add(seq, seg)
    assert sp.prefix == STREAM[:1000]
    assert sp.add(1 + 1000, STREAM[1000:1100]) is None  # beyond the limit
    assert held_bytes(sp) <= 1000


def test_segment_crossing_the_limit_is_cut() -> None:
    sp = StreamPrefix(limit=1000)
    sp.set_initial_sequence(0)
    assert sp.add(1, STREAM[:5000]) == STREAM[:1000]


def test_far_future_segments_are_not_stored() -> None:
    sp = StreamPrefix(limit=1000)
    sp.set_initial_sequence(0)
    for i in range(100):
        assert sp.add(1 + 1000 + i * 1000, STREAM[:1000]) is None
    assert held_bytes(sp) == 0


def test_flood_of_overlapping_segments_never_holds_more_than_limit() -> None:
    """A hostile or broken sender: many overlapping segments that never close the gap at the
    start. Memory must stay bounded by `limit`."""
    limit = 2000
    sp = StreamPrefix(limit=limit)
    sp.set_initial_sequence(0)
    for rel in range(1, limit):
        sp.add(1 + rel, STREAM[rel : rel + 1500])
        assert held_bytes(sp) <= limit, f"after a segment at {rel}"


def test_random_flood_never_holds_more_than_limit() -> None:
    rng = random.Random(99)
    for _ in range(50):
        limit = rng.randrange(100, 3000)
        sp = StreamPrefix(limit=limit)
        sp.set_initial_sequence(rng.randrange(SEQ_MODULO))
        assert sp.base is not None
        for _ in range(300):
            rel = rng.randrange(-200, limit + 200)
            size = rng.randrange(1, 1500)
            sp.add((sp.base + rel) % SEQ_MODULO, STREAM[max(rel, 0) : max(rel, 0) + size])
            assert held_bytes(sp) <= limit
            assert STREAM.startswith(sp.prefix)  # never a wrong byte


def test_random_order_with_duplicates_is_correct_and_complete() -> None:
    """Every byte arrives at least once, in any order, duplicated and re-segmented: the
    prefix is exactly the stream up to the limit."""
    rng = random.Random(1234)
    for _ in range(40):
        limit = rng.randrange(500, 4000)
        length = rng.randrange(100, 5000)
        isn = rng.randrange(SEQ_MODULO)
        pieces = []
        pos = 0
        while pos < length:
            size = rng.randrange(1, 600)
            pieces.append((pos, STREAM[pos : min(pos + size, length)]))
            pos += size
        pieces += rng.sample(pieces, k=len(pieces) // 3)  # retransmissions
        rng.shuffle(pieces)
        sp = StreamPrefix(limit=limit)
        sp.set_initial_sequence(isn)
        for rel, seg in pieces:
            sp.add((isn + 1 + rel) % SEQ_MODULO, seg)
        assert sp.prefix == STREAM[: min(length, limit)]

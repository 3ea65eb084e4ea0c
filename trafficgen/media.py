"""RTP-like media: headers, streams of frames at a fixed rate, and a call's media on a UDP flow."""

from __future__ import annotations

import random
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from trafficgen.flows import UdpFlow

RTP_HEADER = struct.Struct("!BBHII")


def rtp_header(pt: int, seq: int, timestamp: int, ssrc: int, marker: bool) -> bytes:
    """A 12-byte RTP header: version 2, no padding, extension or CSRCs."""
    second = (0x80 if marker else 0) | pt
    return RTP_HEADER.pack(0x80, second, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc)


@dataclass(frozen=True)
class Stream:
    """One RTP-like media stream: `interval` seconds between frames, packet sizes, clock."""

    ssrc: int
    pt: int
    clock: int
    interval: float
    size: tuple[int, int]
    keyframe_every: int = 0  # frames between 3-packet key frames; 0 = one packet per frame


def stream_packets(
    stream: Stream, t0: float, t1: float, rng: random.Random
) -> list[tuple[float, bytes]]:
    """(time, RTP packet) for `stream` between t0 and t1, with a little jitter."""
    out: list[tuple[float, bytes]] = []
    seq, ts = rng.randrange(0x10000), rng.getrandbits(32)
    step = round(stream.clock * stream.interval)
    for frame in range(int((t1 - t0) / stream.interval)):
        t = t0 + frame * stream.interval + rng.uniform(0.0, 0.0025)
        count = 3 if stream.keyframe_every and frame % stream.keyframe_every == 0 else 1
        for part in range(count):
            payload = rng.randbytes(rng.randint(*stream.size))
            header = rtp_header(stream.pt, seq, ts, stream.ssrc, part == count - 1)
            out.append((t + part * 0.0002, header + payload))
            seq += 1
        ts += step
    return out


def play_media(
    flow: UdpFlow,
    t0: float,
    t1: float,
    up: Sequence[Stream],
    down: Sequence[Stream],
    rng: random.Random,
) -> int:
    """Media both ways on `flow` (downlink from 30 ms later); returns how many packets were
    added."""
    count = 0
    for stream in up:
        for t, packet in stream_packets(stream, t0, t1, rng):
            flow.up(t, packet)
            count += 1
    for stream in down:
        for t, packet in stream_packets(stream, t0 + 0.03, t1, rng):
            flow.down(t, packet)
            count += 1
    return count

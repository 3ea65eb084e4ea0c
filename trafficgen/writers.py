"""Capture files as tcpdump and Wireshark write them: classic pcap (little-endian, µs) and
pcapng (one section, one interface, µs), streamed frame by frame.

Nothing in them names the host, the date or the tool, so the same frames give the same file.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from trafficgen.timeline import SECOND, Frame

SNAPLEN = 262144  # tcpdump's default
_PCAP_RECORD = struct.Struct("<IIII")
_PCAPNG_EPB_HEAD = struct.Struct("<IIIIIII")


def write_pcap(out: BinaryIO, frames: Iterable[Frame], linktype: int, start_us: int) -> int:
    """Classic pcap: `frames` (µs after `start_us`, µs since the epoch); returns how many."""
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, linktype))
    record = _PCAP_RECORD.pack
    write = out.write
    total = 0
    for ts, frame in frames:
        ts += start_us
        size = len(frame)
        write(record(ts // SECOND, ts % SECOND, size, size))
        write(frame)
        total += 1
    return total


def write_pcapng(out: BinaryIO, frames: Iterable[Frame], linktype: int, start_us: int) -> int:
    """pcapng: a section header, one interface (µs resolution, no options), one enhanced packet
    block per frame; returns how many."""
    out.write(struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28))
    out.write(struct.pack("<IIHHII", 1, 20, linktype, 0, SNAPLEN, 20))
    head = _PCAPNG_EPB_HEAD.pack
    write = out.write
    total = 0
    for ts, frame in frames:
        ts += start_us
        size = len(frame)
        pad = -size % 4
        block = 32 + size + pad
        write(head(6, block, 0, ts >> 32, ts & 0xFFFFFFFF, size, size))
        write(frame)
        write(b"\x00" * pad + struct.pack("<I", block))
        total += 1
    return total


def write_capture(
    path: Path, frames: Iterable[Frame], linktype: int, start_us: int, pcapng: bool
) -> int:
    """Write `frames` to `path` as pcapng or classic pcap; returns how many."""
    writer = write_pcapng if pcapng else write_pcap
    with path.open("wb", buffering=1 << 20) as out:
        return writer(out, frames, linktype, start_us)

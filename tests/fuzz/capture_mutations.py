"""Mutations that know pcap and pcapng: record and block lengths, timestamps (far-future and
out-of-range fractions), the global header (snap length, link type, precision, version),
pcapng's if_tsresol option, interface ids, whole records duplicated, dropped or swapped, and
the protocol headers inside a frame. A capture may then be wrapped in gzip, whose container
is mutated too (CRC, length, truncation, extra members).
"""

from __future__ import annotations

import gzip
import random
import struct
import zlib
from dataclasses import dataclass

from byte_mutations import GENERIC, Mutation

PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
LENGTHS = (0, 1, 13, 14, 20, 40, 54, 65535, 65536, 262143, 262144, 262145, 1 << 24,
           2**31 - 1, 2**32 - 1)
SECONDS = (0, 1, 2**31 - 1, 2**31, 2**32 - 1, 253402300799, 253402300800)
LINK_TYPES = (0, 1, 9, 12, 14, 101, 105, 113, 127, 228, 229, 276, 65535)
TSRESOL = (0, 6, 9, 19, 20, 63, 64, 0x7F, 0x80, 0x86, 0x9E, 0xBF, 0xFF)


@dataclass(frozen=True)
class Layout:
    """Where a capture's records are: (offset of a record or block, its length)."""

    ng: bool
    order: str
    records: list[tuple[int, int]]


def layout(data: bytes) -> Layout | None:
    """The records of a pcap, or the blocks of a pcapng file, as far as they can be walked."""
    if data[:4] == PCAPNG_MAGIC:
        order = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        blocks, at = [], 0
        while at + 12 <= len(data) and len(blocks) < 100_000:
            (length,) = struct.unpack(order + "I", data[at + 4:at + 8])
            if length < 12 or at + length > len(data):
                break
            blocks.append((at, length))
            at += length
        return Layout(True, order, blocks)
    if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    elif data[:4] in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = ">"
    else:
        return None
    records, at = [], 24
    while at + 16 <= len(data) and len(records) < 100_000:
        (included,) = struct.unpack(order + "I", data[at + 8:at + 12])
        if at + 16 + included > len(data):
            break
        records.append((at, 16 + included))
        at += 16 + included
    return Layout(False, order, records)


def _put(data: bytes, at: int, order: str, value: int, width: int = 4) -> bytes:
    code = {2: "H", 4: "I"}[width]
    return data[:at] + struct.pack(order + code, value % (1 << (8 * width))) + data[at + width:]


def _blocks_of(shape: Layout, data: bytes, kinds: tuple[int, ...]) -> list[tuple[int, int]]:
    return [(at, size) for at, size in shape.records
            if struct.unpack(shape.order + "I", data[at:at + 4])[0] in kinds]


def record_length(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """A pcap record's captured or wire length, or a pcapng block's total or captured length."""
    shape = layout(data)
    if not shape or not shape.records:
        return data, "length: no records"
    at, size = rng.choice(shape.records)
    value = rng.choice((*LENGTHS, size, size + 1, size - 1, len(data), len(data) - at))
    if not shape.ng:
        field = rng.choice((8, 12))
        return _put(data, at + field, shape.order, value), f"pcap record@{at} +{field} = {value}"
    epbs = _blocks_of(shape, data, (6,))
    if epbs and rng.random() < 0.5:
        at, _ = rng.choice(epbs)
        field = rng.choice((20, 24))
        return _put(data, at + field, shape.order, value), f"epb@{at} +{field} = {value}"
    field = rng.choice((4, size - 4)) if size >= 8 else 4
    return _put(data, at + field, shape.order, value), f"block@{at} +{field} = {value}"


def timestamp(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """A packet time far in the future or the past, or a fraction past one second."""
    shape = layout(data)
    if not shape or not shape.records:
        return data, "time: no records"
    if not shape.ng:
        at, _ = rng.choice(shape.records)
        if rng.random() < 0.6:
            value = rng.choice(SECONDS)
            return _put(data, at, shape.order, value), f"pcap ts_sec@{at} = {value}"
        value = rng.choice((999_999, 1_000_000, 999_999_999, 1_000_000_000, 2**32 - 1))
        return _put(data, at + 4, shape.order, value), f"pcap ts_frac@{at} = {value}"
    epbs = _blocks_of(shape, data, (6,))
    if not epbs:
        return data, "time: no epb"
    at, _ = rng.choice(epbs)
    micros = rng.choice((0, 2 * 10**18, 2**63 - 1, 2**64 - 1, 253402300800 * 10**6,
                         rng.randrange(1 << 64)))
    data = _put(data, at + 12, shape.order, micros >> 32)
    return _put(data, at + 16, shape.order, micros & 0xFFFFFFFF), f"epb time@{at} = {micros}"


def global_header(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """pcap: snap length, link type, version, precision magic; pcapng: an interface's link
    type or snap length, the section's version or length."""
    shape = layout(data)
    if not shape:
        return data, "header: not a capture"
    if not shape.ng:
        choice = rng.randrange(4)
        if choice == 0:
            value = rng.choice(LENGTHS)
            return _put(data, 16, shape.order, value), f"pcap snaplen = {value}"
        if choice == 1:
            value = rng.choice(LINK_TYPES)
            return _put(data, 20, shape.order, value), f"pcap linktype = {value}"
        if choice == 2:
            value = rng.choice((0, 1, 2, 3, 0xFFFF))
            return _put(data, 4, shape.order, value, 2), f"pcap version major = {value}"
        nano = {"<": b"\x4d\x3c\xb2\xa1", ">": b"\xa1\xb2\x3c\x4d"}[shape.order]
        micro = {"<": b"\xd4\xc3\xb2\xa1", ">": b"\xa1\xb2\xc3\xd4"}[shape.order]
        magic = micro if data[:4] == nano else nano
        return magic + data[4:], "pcap precision magic swapped"
    interfaces = _blocks_of(shape, data, (1,))
    if interfaces and rng.random() < 0.7:
        at, _ = rng.choice(interfaces)
        if rng.random() < 0.5:
            value = rng.choice(LINK_TYPES)
            return _put(data, at + 8, shape.order, value, 2), f"idb@{at} linktype = {value}"
        value = rng.choice(LENGTHS)
        return _put(data, at + 12, shape.order, value), f"idb@{at} snaplen = {value}"
    if rng.random() < 0.5:
        value = rng.choice((0, 1, 2, 0xFFFF))
        return _put(data, 12, shape.order, value, 2), f"shb version = {value}"
    return data[:16] + rng.randbytes(8) + data[24:], "shb section length"


def tsresol(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """Give an interface an if_tsresol option (or change it): 10^-n or 2^-n, in range or not."""
    shape = layout(data)
    interfaces = _blocks_of(shape, data, (1,)) if shape and shape.ng else []
    if not shape or not interfaces:
        return data, "tsresol: no interface"
    at, size = rng.choice(interfaces)
    value = rng.choice(TSRESOL)
    option = struct.pack(shape.order + "HH", 9, 1) + bytes([value, 0, 0, 0])
    body = data[at + 16:at + size - 4]
    if body.endswith(b"\x00\x00\x00\x00"):  # opt_endofopt: the new option goes before it
        body = body[:-4] + option + body[-4:]
    else:
        body = body + option + b"\x00\x00\x00\x00"
    length = 16 + len(body) + 4
    block = (data[at:at + 4] + struct.pack(shape.order + "I", length) + data[at + 8:at + 16]
             + body + struct.pack(shape.order + "I", length))
    return data[:at] + block + data[at + size:], f"idb@{at} if_tsresol = {value:#x}"


def interface_id(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """An Enhanced Packet Block naming an interface that does not exist."""
    shape = layout(data)
    epbs = _blocks_of(shape, data, (6,)) if shape and shape.ng else []
    if not shape or not epbs:
        return data, "interface: no epb"
    at, _ = rng.choice(epbs)
    value = rng.choice((1, 2, 255, 2**31, 2**32 - 1))
    return _put(data, at + 8, shape.order, value), f"epb@{at} interface = {value}"


def records(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """Duplicate, drop, swap or repeat whole records (pcapng: blocks, the header kept)."""
    shape = layout(data)
    if not shape or len(shape.records) < 2:
        return data, "records: too few"
    first = 1 if shape.ng else 0
    body = [data[at:at + size] for at, size in shape.records[first:]]
    head_end = shape.records[first][0]
    tail = data[shape.records[-1][0] + shape.records[-1][1]:]
    choice, index = rng.randrange(4), rng.randrange(len(body))
    if choice == 0:
        body.insert(index, body[index])
        what = f"duplicate record {index}"
    elif choice == 1:
        del body[index]
        what = f"drop record {index}"
    elif choice == 2:
        other = rng.randrange(len(body))
        body[index], body[other] = body[other], body[index]
        what = f"swap records {index} and {other}"
    else:
        times = rng.choice((10, 100, 1000))
        body[index:index + 1] = [body[index]] * times
        what = f"repeat record {index} x{times}"
    return data[:head_end] + b"".join(body) + tail, what


def frame_headers(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """Damage the protocol headers inside one frame (Ethernet, IP, TCP/UDP, the first
    payload bytes): lengths, header lengths, flags, ports."""
    shape = layout(data)
    if not shape or not shape.records:
        return data, "frame: no records"
    candidates = shape.records if not shape.ng else _blocks_of(shape, data, (6,))
    if not candidates:
        return data, "frame: no packets"
    at, size = rng.choice(candidates)
    start = at + (28 if shape.ng else 16)
    end = min(at + size, start + 96)
    if end <= start:
        return data, "frame: empty"
    buffer = bytearray(data)
    spot = rng.randrange(start, end)
    for offset in range(rng.choice((1, 1, 2, 4))):
        if spot + offset < end:
            buffer[spot + offset] = rng.choice((0, 1, 0x45, 0x4F, 0x60, 0x7F, 0x80, 0xFF,
                                                rng.randrange(256)))
    return bytes(buffer), f"frame byte at {spot - start} of record@{at}"


CAPTURE: tuple[Mutation, ...] = (record_length, timestamp, global_header, tsresol,
                                 interface_id, records, frame_headers)


def mutate_capture(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """One mutation: two times in three one that knows the format, else a generic one."""
    mutation = rng.choice(CAPTURE) if rng.random() < 0.67 else rng.choice(GENERIC)
    return mutation(rng, data, donors)


def gzipped(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """The capture as a .pcap.gz, its container damaged one time in three."""
    packed = gzip.compress(data, compresslevel=1, mtime=0)
    choice = rng.randrange(9)
    if choice == 0:
        at = rng.randrange(10, max(11, len(packed)))
        return packed[:at], f"gzip cut at {at}"
    if choice == 1:
        return packed[:-8] + rng.randbytes(8), "gzip trailer (CRC, size) replaced"
    if choice == 2:
        second = gzip.compress(rng.randbytes(rng.randint(0, 64)), mtime=0)
        return packed + second, "gzip with a second member"
    if choice == 3:
        raw = zlib.compress(data)[2:-4]
        header = b"\x1f\x8b\x08\x04" + b"\x00" * 6 + struct.pack("<H", 0xFFFF)
        return header + b"x" * 16 + raw, "gzip FEXTRA claiming 65535 bytes"
    return packed, "gzip"

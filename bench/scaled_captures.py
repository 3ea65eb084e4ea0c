"""Captures for the memory benchmark: the benchmark's call made longer, and a flood of flows.

* ``scaled_capture(base, k)``: k time-shifted copies of a classic pcap file merged in time
  order: copy i is shifted by i times the capture's span (plus a second), so a 2x capture is
  the same call twice in a row, twice the packets and flows at the same load. Memory that
  grows from 1x to 4x grows with the capture's length, not with what is open at once.
* ``flood_capture(path, flows)``: `flows` distinct UDP flows of one 8-byte datagram each (66
  bytes a record), from as many client addresses to 16 servers within 10 seconds: a scan or a
  flood, every flow open at the same time. Issue 9's million-flow case.

Both are written with `struct` only, deterministically (the same arguments give the same
bytes), into bench/out/ by pcap_speed.py.
"""

from __future__ import annotations

import struct
from pathlib import Path

PCAP_MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
_GLOBAL = struct.Struct("<IHHiIII")
_RECORD = struct.Struct("<IIII")
FLOOD_START = 1_793_628_000  # 2026-11-02T14:00:00Z, as the generated call


def scaled_capture(base: Path, copies: int, out: Path) -> Path:
    """`copies` time-shifted copies of the classic (little-endian, microsecond) pcap `base`
    merged in time order into `out`."""
    first, last = _time_span(base)
    shift = int(last - first) + 1  # whole seconds: microseconds stay as they are
    with base.open("rb") as source, out.open("wb") as target:
        header = source.read(_GLOBAL.size)
        target.write(header)
        for copy in range(copies):
            source.seek(_GLOBAL.size)
            _copy_records(source, target, copy * shift)
    return out


def _copy_records(source: object, target: object, shift: int) -> None:
    read = source.read  # type: ignore[attr-defined]
    write = target.write  # type: ignore[attr-defined]
    unpack, pack = _RECORD.unpack, _RECORD.pack
    while True:
        head = read(_RECORD.size)
        if len(head) < _RECORD.size:
            return
        sec, usec, caplen, wirelen = unpack(head)
        write(pack(sec + shift, usec, caplen, wirelen))
        write(read(caplen))


def _time_span(path: Path) -> tuple[float, float]:
    """The first and last packet times of a classic little-endian pcap file."""
    first = last = None
    with path.open("rb") as handle:
        magic = _GLOBAL.unpack(handle.read(_GLOBAL.size))[0]
        if magic != PCAP_MAGIC:
            raise ValueError(f"{path}: not a little-endian microsecond pcap file")
        while True:
            head = handle.read(_RECORD.size)
            if len(head) < _RECORD.size:
                break
            sec, usec, caplen, _wirelen = _RECORD.unpack(head)
            ts = sec + usec / 1e6
            first = ts if first is None else first
            last = ts
            handle.seek(caplen, 1)
    if first is None or last is None:
        raise ValueError(f"{path}: no packets")
    return first, last


def flood_capture(path: Path, flows: int) -> Path:
    """`flows` distinct one-datagram UDP flows from 10.0.0.0/8 clients to 16 servers, 10 µs
    apart."""
    ether = bytes.fromhex("02000000000102000000000208 00".replace(" ", ""))
    with path.open("wb") as handle:
        handle.write(_GLOBAL.pack(PCAP_MAGIC, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET))
        for n in range(flows):
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 36, n & 0xFFFF, 0, 64, 17, 0,
                             bytes((10, (n >> 16) & 255, (n >> 8) & 255, n & 255)),
                             bytes((198, 51, 100, n % 16 + 1)))
            udp = struct.pack("!HHHH", 1024 + n % 60000, 443, 16, 0)
            frame = ether + ip + udp + n.to_bytes(8, "big")
            ts = n * 10
            handle.write(_RECORD.pack(FLOOD_START + ts // 1_000_000, ts % 1_000_000,
                                      len(frame), len(frame)))
            handle.write(frame)
    return path

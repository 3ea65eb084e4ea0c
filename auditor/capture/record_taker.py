"""Classic pcap records accounted by a flow table straight from the buffer the reader read
them into (capture.reader's record takers): the flow table's shortcut (FlowTable.add_frame)
without a frame, a tuple or a call per packet, which is most of what reading a capture costs.

For each whole record the taker does what read_capture does with a frame: a packet of an open
flow that add_frame would count without decoding is counted here the same way (and its
payload, while the flow's inspector wants it, goes to FlowTable.frame_payload with the bounds
headers.decode_frame gives); every other record goes to `general`, which decodes it and adds it
(or counts why it cannot). The table's `frames` numbers the record being accounted, for the
anomalies it notes. The taker works on the table's own state (its flow dicts, its clock, its
next look for idle flows): it is the table's loop over records, kept in a module of its own.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from auditor.capture.flow_table import _TCP_CONTROL, FlowTable
from auditor.capture.headers import (
    ETHERTYPE_IPV4,
    LINKTYPE_ETHERNET,
    PORT_GTP_U,
    PORT_VXLAN,
    PROTO_TCP,
    PROTO_UDP,
)

MAX_RECORD = 262144  # reader.MAX_FRAME: longer records are left to the reader
# A record's header, then its frame's Ethernet type, IPv4 version/IHL, total length (two
# bytes), flags and fragment offset, protocol, and the transport's ports (frame bytes 34-38).
_RECORD_FIELDS = "IIII12xHBxBBxxHxB10xHH"
_RECORD_SIZE = 16 + 38
# A record the taker leaves to the general way: (time, wire length, link type, frame).
GeneralFrame = Callable[[float, int, int, bytes], None]
Taker = Callable[[Any, int, int, int], tuple[int, int, int, list[Any]]]


def pcap_taker(table: FlowTable, general: GeneralFrame) -> Callable[[Any, int, float], Taker]:
    """A reader.TakerFactory whose takers account records into `table`, leaving to `general`
    every record that add_frame would decode."""

    def factory(endian: str, linktype: int, divisor: float) -> Taker:
        return _RecordTaker(table, general, endian, linktype, divisor).take

    return factory


class _RecordTaker:
    """The taker for one file (its records' byte order, link type and time unit).

    A record's header and its frame's Ethernet, IPv4 and transport fields are read in one
    unpacking, in the file's byte order: the frame's 16-bit fields (big-endian on the wire)
    are then compared with constants in that order, and turned into numbers only when they
    are handed on; the IPv4 total length is read as its two bytes."""

    def __init__(self, table: FlowTable, general: GeneralFrame, endian: str, linktype: int,
                 divisor: float) -> None:
        self._table = table
        self._general = general
        self._linktype = linktype
        self._divisor = divisor
        self._header = struct.Struct(endian + "IIII").unpack_from
        self._record = (struct.Struct(endian + _RECORD_FIELDS).unpack_from
                        if linktype == LINKTYPE_ETHERNET else None)
        self._swapped = struct.pack(endian + "H", 1) != b"\x00\x01"  # not big-endian
        order = _swap if self._swapped else int
        self._ipv4, self._gtp, self._vxlan = (order(ETHERTYPE_IPV4), order(PORT_GTP_U),
                                              order(PORT_VXLAN))
        self._fragment_bits = order(0x3FFF)

    def take(self, buf: Any, pos: int, size: int,
             limit: int) -> tuple[int, int, int, list[Any]]:
        """Account at most `limit` whole records of buf[pos:size] (none longer than
        reader.MAX_FRAME): where it stopped, how many it took, how many were cut short.
        The capture's clock is kept here while records are counted and handed back to the
        table before anything of it runs (a look for idle flows, the general way)."""
        table, general, header, divisor = self._table, self._general, self._header, self._divisor
        linktype, record, swapped = self._linktype, self._record, self._swapped
        ipv4, gtp, vxlan, fragment_bits = self._ipv4, self._gtp, self._vxlan, self._fragment_bits
        udp, tcp = table._udp, table._tcp
        payload = table.frame_payload
        clock, next_scan = table._clock, table._next_scan
        first = table.frames
        short = taken = 0
        for taken in range(limit):  # `taken`: the records taken before this one
            start = pos + 16
            if record is not None and pos + _RECORD_SIZE <= size:
                (sec, usec, caplen, wirelen, ethertype, version_ihl, total_high, total_low,
                 flags_offset, proto, sport, dport) = record(buf, pos)
            elif start <= size:
                sec, usec, caplen, wirelen = header(buf, pos)
                ethertype = -1  # not read: the general way
            else:
                break
            end = start + caplen
            if end > size or caplen > MAX_RECORD:
                break
            pos = end
            if caplen < wirelen:
                short += 1
            ts = sec + usec / divisor
            # The frame holds the whole IPv4 header and the transport's (its IP length, when
            # given, covers them too): what decode_frame takes as it is.
            if ethertype == ipv4 and caplen >= 42 and version_ihl == 0x45 \
                    and not flags_offset & fragment_bits and (
                        (proto == PROTO_UDP
                         and (total_high or total_low >= 28 or not total_low)
                         and sport != gtp and dport != gtp and dport != vxlan)
                        or (proto == PROTO_TCP and caplen >= 54
                            and (total_high or total_low >= 40 or not total_low)
                            and buf[start + 46] >= 0x50)):
                if ts > clock:
                    clock = ts
                    if clock >= next_scan:
                        table._clock = clock
                        table.frames = first + taken + 1
                        table._scan()
                        next_scan = table._next_scan
                key = start + 26
                if proto == PROTO_UDP:
                    entry = udp.get(buf[key:key + 12])
                elif buf[start + 47] & _TCP_CONTROL:
                    entry = None
                else:
                    entry = tcp.get(buf[key:key + 12])
                if entry is not None:
                    state, direction = entry
                    if clock - state.seen <= state.idle:
                        counts = state.counts
                        if direction:
                            counts[2] += 1
                            counts[3] += wirelen
                        else:
                            counts[0] += 1
                            counts[1] += wirelen
                        state.ts_last = ts
                        state.seen = clock
                        if state.inspector is not None:
                            table.frames = first + taken + 1
                            table._clock = clock
                            if swapped:
                                sport, dport = _swap(sport), _swap(dport)
                            payload(state, direction, proto, buf, start, caplen,
                                    total_high << 8 | total_low, sport, dport, ts)
                            next_scan = table._next_scan
                        continue
            table._clock = clock
            table.frames = first + taken + 1
            general(ts, wirelen, linktype, buf[start:end])
            clock, next_scan = table._clock, table._next_scan
        else:
            taken = limit
        table._clock = clock
        table.frames = first + taken
        return pos, taken, short, []


def _swap(value: int) -> int:
    """A 16-bit field read in the other byte order."""
    return (value & 0xFF) << 8 | value >> 8

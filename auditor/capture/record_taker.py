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

from collections.abc import Callable
from typing import Any

from auditor.capture.flow_table import _FAST_FRAME, _TCP_CONTROL, FlowTable
from auditor.capture.headers import (
    ETHERTYPE_IPV4,
    LINKTYPE_ETHERNET,
    PORT_GTP_U,
    PORT_VXLAN,
    PROTO_TCP,
    PROTO_UDP,
)

MAX_RECORD = 262144  # reader.MAX_FRAME: longer records are left to the reader
# A record the taker leaves to the general way: (time, wire length, link type, frame).
GeneralFrame = Callable[[float, int, int, bytes], None]
Taker = Callable[[Any, int, int, int], tuple[int, int, int, list[Any]]]


def pcap_taker(table: FlowTable, general: GeneralFrame) -> Callable[[Any, int, float], Taker]:
    """A reader.TakerFactory whose takers account records into `table`, leaving to `general`
    every record that add_frame would decode."""

    def factory(header: Any, linktype: int, divisor: float) -> Taker:
        return _RecordTaker(table, general, header, linktype, divisor).take

    return factory


class _RecordTaker:
    """The taker for one file (its records' header decoder, link type and time unit)."""

    def __init__(self, table: FlowTable, general: GeneralFrame, header: Any, linktype: int,
                 divisor: float) -> None:
        self._table = table
        self._general = general
        self._header = header
        self._linktype = linktype
        self._divisor = divisor

    def take(self, buf: Any, pos: int, size: int,
             limit: int) -> tuple[int, int, int, list[Any]]:
        """Account at most `limit` whole records of buf[pos:size] (none longer than
        reader.MAX_FRAME): where it stopped, how many it took, how many were cut short.
        The capture's clock is kept here while records are counted and handed back to the
        table before anything of it runs (a look for idle flows, the general way)."""
        table, general, header, divisor = self._table, self._general, self._header, self._divisor
        linktype = self._linktype
        fast = _FAST_FRAME.unpack_from if linktype == LINKTYPE_ETHERNET else None
        udp, tcp = table._udp, table._tcp
        payload = table.frame_payload
        clock, next_scan = table._clock, table._next_scan
        first = table.frames
        short = taken = 0
        for taken in range(limit):  # `taken`: the records taken before this one
            start = pos + 16
            if start > size:
                break
            sec, usec, caplen, wirelen = header(buf, pos)
            end = start + caplen
            if end > size or caplen > MAX_RECORD:
                break
            pos = end
            if caplen < wirelen:
                short += 1
            ts = sec + usec / divisor
            if fast is not None and caplen >= 42:
                ethertype, version_ihl, total, flags_offset, proto, sport, dport = fast(
                    buf, start)
                # The frame holds the whole IPv4 header and the transport's (its IP length,
                # when given, covers them too): what decode_frame takes as it is.
                if ethertype == ETHERTYPE_IPV4 and version_ihl == 0x45 \
                        and not flags_offset & 0x3FFF and (
                            (proto == PROTO_UDP and (total >= 28 or not total)
                             and sport != PORT_GTP_U and dport != PORT_GTP_U
                             and dport != PORT_VXLAN)
                            or (proto == PROTO_TCP and caplen >= 54
                                and (total >= 40 or not total) and buf[start + 46] >= 0x50)):
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
                                payload(state, direction, proto, buf, start, caplen, total,
                                        sport, dport, ts)
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

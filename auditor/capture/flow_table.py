"""Bidirectional flow tracking over decoded packets, with flows expired as they end.

A flow is a TCP connection, a UDP 5-tuple, or the ICMP exchange between two addresses. Both
directions map to one state; direction 0 is the side that sent the flow's first packet. The
per-packet path is a dict lookup and a few counter updates; payloads go to a `FlowInspector`
only while it still wants them. Orientation (who is the client) is decided when the flow is
finished, from the best evidence seen (the rules and their order are in orientation.py).

A flow ends, and leaves the table through the `finished` callback, as it does in Zeek and
nfstream, when it has been idle for its transport's timeout (`IDLE_TIMEOUTS`: TCP 5 minutes,
Zeek's `tcp_inactivity_timeout`; UDP 2 minutes, nfstream's `idle_timeout`; ICMP and other IP
protocols 1 minute, Zeek's `icmp_inactivity_timeout`), or `CLOSED_TCP_LINGER` (5 s, Zeek's
`tcp_close_delay` and `tcp_reset_delay`) after a TCP connection was reset or closed with a FIN
each way. A later packet of the same 5-tuple starts a new flow, and so does a SYN with a new
initial sequence number. Idle time is measured on the capture's clock (the latest packet time
seen so far), so a packet stamped out of order cannot end its flow by its own time, and
expiry gives the same flows whichever packet happens to trigger it. The table holds at most
`MAX_ACTIVE_FLOWS` (65,536) flows: beyond that (a scan or a flood), the least recently active
ones end early, each counted as a `flow-table-full` anomaly.
"""

from __future__ import annotations

import ipaddress
import struct
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from auditor.capture.headers import (
    ETHERTYPE_IPV4,
    LINKTYPE_ETHERNET,
    PORT_GTP_U,
    PORT_VXLAN,
    PROTO_ICMP,
    PROTO_ICMPV6,
    PROTO_TCP,
    PROTO_UDP,
    TCP_ACK,
    TCP_FIN,
    TCP_RST,
    TCP_SYN,
    Packet,
    decode_frame,
)
from auditor.capture.inspector import FlowInspector
from auditor.capture.orientation import client_direction
from auditor.protocols.dns import DnsMessage
from auditor.records import Orientation

MAX_PENDING_FRAGMENTS = 256
MAX_FRAGMENTED_DATAGRAM = 65535
IDLE_TIMEOUTS = {PROTO_TCP: 300.0, PROTO_UDP: 120.0}  # seconds without a packet; others:
OTHER_IDLE_TIMEOUT = 60.0  # ICMP and other IP protocols
CLOSED_TCP_LINGER = 5.0  # after an RST, or a FIN from each side
MAX_ACTIVE_FLOWS = 1 << 16
SCAN_EVERY = 5.0  # seconds of capture time between looks for idle flows

_TCP_CONTROL = TCP_SYN | TCP_FIN | TCP_RST

AnomalySink = Callable[[str, str], None]
FinishedSink = Callable[["FlowState"], None]
DnsMessageSink = Callable[["FlowState", float, DnsMessage], None]
FlowKey = bytes  # source address, destination address, source and destination port
_PORTS = struct.Struct("!HH")
_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
# An Ethernet frame's type, then IPv4's version/IHL, total length, flags and fragment offset,
# protocol, and the transport's ports (bytes 34 to 38, after a 20-byte IPv4 header).
_FAST_FRAME = struct.Struct("!12xHBxHxxHxB10xHH")


class FlowState:
    """Mutable counters and evidence of one flow while the capture is read."""

    __slots__ = (
        "a_ip",
        "a_port",
        "b_ip",
        "b_port",
        "closed",
        "counts",
        "ended",
        "fins",
        "idle",
        "index",
        "inspector",
        "keys",
        "payload_info",
        "proto",
        "seen",
        "syn_dir",
        "syn_seq",
        "synack_dir",
        "ts_first",
        "ts_last",
        "tunnel",
        "vlans",
    )

    def __init__(self, index: int, pkt: Packet, ts: float, clock: float) -> None:
        self.index = index
        self.proto = pkt.proto
        self.a_ip, self.a_port, self.b_ip, self.b_port = pkt.src, pkt.sport, pkt.dst, pkt.dport
        self.counts = [0, 0, 0, 0]  # packets a->b, bytes a->b, packets b->a, bytes b->a
        self.ts_first = ts
        self.ts_last = ts
        self.seen = clock  # the capture's clock at the flow's last packet
        self.idle = IDLE_TIMEOUTS.get(pkt.proto, OTHER_IDLE_TIMEOUT)
        self.syn_dir: int | None = None
        self.syn_seq: int | None = None
        self.synack_dir: int | None = None
        self.closed = False
        self.fins = 0  # bit 0: direction 0 sent a FIN, bit 1: direction 1 did
        self.ended = False
        self.keys: tuple[bytes, ...] = ()  # its keys in the flow table, each way
        # `inspector` is set while payloads are still wanted; `payload_info` keeps its results.
        self.inspector: FlowInspector | None = None
        self.payload_info: FlowInspector | None = None
        self.vlans = pkt.vlans
        self.tunnel = pkt.tunnel

    def client_side(self) -> tuple[int, Orientation]:
        """Which direction index is the client, and the rule that decided it."""
        return client_direction(
            (self.a_ip, self.a_port), (self.b_ip, self.b_port), syn_dir=self.syn_dir,
            synack_dir=self.synack_dir,
            protocol_hint=self.payload_info.client_hint if self.payload_info else None)


class FlowTable:
    """The active flows of one capture, keyed both ways on the (inner) 5-tuple: per IP
    protocol, by source address, destination address and the two ports (two bytes each,
    zero without ports), as one bytes object. Each flow leaves through `finished` once it is
    over (or at `finish_all`, the end of the capture), numbered by `index` in the order of its
    first packet; every DNS response with answers goes to `dns_message` as it is read."""

    def __init__(self, anomaly: AnomalySink, finished: FinishedSink,
                 dns_message: DnsMessageSink) -> None:
        self._tcp: dict[FlowKey, tuple[FlowState, int]] = {}
        self._udp: dict[FlowKey, tuple[FlowState, int]] = {}
        self._tables = {PROTO_TCP: self._tcp, PROTO_UDP: self._udp}
        self._open_flows = 0
        self._fragments: OrderedDict[tuple[bytes, bytes, int, int], _PendingDatagram] = (
            OrderedDict()
        )
        self._anomaly = anomaly
        self._finished = finished
        self._dns_message = dns_message
        self._next_index = 0
        self.frames = 0  # frames offered so far: the number of the one being accounted
        self._ts = 0.0
        self._current: FlowState | None = None
        self._clock = float("-inf")
        self._next_scan = float("-inf")
        self._opened_before_scan = 0

    @property
    def flows_opened(self) -> int:
        """How many flows (and other IP conversations) were opened so far."""
        return self._next_index

    def add_frame(self, ts: float, wirelen: int, linktype: int, frame: bytes) -> None:
        """Account one captured frame. Raises PacketError or NonIpFrameError as
        headers.decode_frame does.

        Nearly every packet is an Ethernet frame holding IPv4 without options (not a
        fragment) and TCP or UDP, in a flow already open whose payloads are no longer wanted:
        such a packet is counted here, from one unpacking of its headers and the key cut
        from the frame as it is (addresses and ports side by side at bytes 26 to 38), with no
        Packet made. Any other packet (a new flow, a TCP SYN, FIN or RST, a payload the
        flow's inspector wants, an idle flow, a tunnel port, a short header) takes the general
        way, headers.decode_frame then `add`, with the same result."""
        self.frames += 1
        if linktype == LINKTYPE_ETHERNET and len(frame) >= 42:
            ethertype, version_ihl, total, flags_offset, proto, sport, dport = (
                _FAST_FRAME.unpack_from(frame))
            if ethertype == ETHERTYPE_IPV4 and version_ihl == 0x45 \
                    and not flags_offset & 0x3FFF and proto in (PROTO_UDP, PROTO_TCP):
                size = len(frame)
                end = 14 + total if total else size
                if end > size:
                    end = size
                if proto == PROTO_UDP:
                    plain = end >= 42 and sport != PORT_GTP_U and dport != PORT_GTP_U \
                        and dport != PORT_VXLAN
                else:
                    plain = end >= 54 and frame[46] >= 0x50
                if plain:  # decode_frame would take this packet's headers as they are
                    clock = self._clock
                    if ts > clock:
                        self._clock = clock = ts
                        if clock >= self._next_scan:
                            self._scan()
                    if proto == PROTO_UDP:
                        entry = self._udp.get(frame[26:38])
                    else:
                        entry = self._tcp.get(frame[26:38])
                        if frame[47] & _TCP_CONTROL:
                            entry = None
                    if entry is not None:
                        state, direction = entry
                        if state.inspector is None and clock - state.seen <= state.idle:
                            counts = state.counts
                            if direction:
                                counts[2] += 1
                                counts[3] += wirelen
                            else:
                                counts[0] += 1
                                counts[1] += wirelen
                            state.ts_last = ts
                            state.seen = clock
                            return
        self.add(ts, wirelen, decode_frame(linktype, frame), frame)

    def frame_payload(self, state: FlowState, direction: int, proto: int, buf: Any,
                       start: int, caplen: int, total: int, sport: int, dport: int,
                       ts: float) -> None:
        """The payload of a packet of an open flow that still wants it, counted already: a
        frame `add_frame` takes without decoding (at `start` in `buf`, `caplen` bytes, its
        IPv4 total length `total`), with the payload bounds headers.decode_frame gives."""
        inspector = state.inspector
        assert inspector is not None
        end = 14 + total if total else caplen
        if end > caplen:
            end = caplen
        if proto == PROTO_UDP:
            first = 42
            length = _U16.unpack_from(buf, start + 38)[0]
            if length >= 8 and 34 + length < end:
                end = 34 + length
        else:
            first = 34 + (buf[start + 46] >> 4) * 4
            if first > end:
                first = end
        if end <= first:
            return
        self._ts, self._current = ts, state
        data = buf[start + first:start + end]
        if proto == PROTO_TCP:
            inspector.tcp_payload(direction, _U32.unpack_from(buf, start + 38)[0], data)
        else:
            inspector.udp_payload(direction, sport, dport, data)
        if inspector.done:
            state.inspector = None

    def add(self, ts: float, wirelen: int, pkt: Packet, frame: bytes) -> None:
        """Account one decoded packet: one unpacking of the header fields, one dict lookup
        and the counter updates; the payload is sliced only while the flow's inspector wants
        it."""
        (proto, src, dst, sport, dport, payload_start, payload_end, tcp_flags, _seq, _vlans,
         _tunnel, fragment, ports_known) = pkt
        clock = self._clock
        if ts > clock:
            self._clock = clock = ts
            if clock >= self._next_scan:
                self._scan()
        if not ports_known:
            self._add_fragment(ts, wirelen, pkt, frame)
            return
        table = self._tables.get(proto)
        if table is None:
            table = self._tables[proto] = {}
        key = src + dst + _PORTS.pack(sport, dport)
        entry = table.get(key)
        if entry is None or clock - entry[0].seen > entry[0].idle:
            if entry is not None:
                self._finish(entry[0])
            entry = self._open(table, key, pkt, ts)
        state, direction = entry
        if tcp_flags & _TCP_CONTROL and proto == PROTO_TCP:
            state, direction = self._tcp_control(table, key, state, direction, pkt, ts)
        counts = state.counts
        if direction:
            counts[2] += 1
            counts[3] += wirelen
        else:
            counts[0] += 1
            counts[1] += wirelen
        state.ts_last = ts
        state.seen = clock
        if fragment is not None:
            self._first_fragment(pkt, frame, state, direction, ts)
            return
        inspector = state.inspector
        if inspector is not None and payload_end > payload_start:
            self._inspect(state, inspector, direction, pkt, frame[payload_start:payload_end], ts)

    def finish_all(self) -> None:
        """At the end of the capture: count what never completed, and finish every flow
        still open, in the order of their first packets."""
        self.finish_fragments()
        states = sorted(self._states(), key=lambda state: state.index)
        for table in self._tables.values():
            table.clear()
        self._open_flows = 0
        for state in states:
            self._end(state)

    def _states(self) -> list[FlowState]:
        """Every open flow (once, not once per direction)."""
        return [state for table in self._tables.values()
                for state, direction in table.values() if not direction]

    # --- flow life cycle --------------------------------------------------------------------

    def _open(self, table: dict[FlowKey, tuple[FlowState, int]], key: FlowKey, pkt: Packet,
              ts: float) -> tuple[FlowState, int]:
        state = FlowState(self._next_index, pkt, ts, self._clock)
        self._next_index += 1
        if pkt.proto in (PROTO_TCP, PROTO_UDP):
            state.inspector = state.payload_info = FlowInspector(
                pkt.sport, pkt.dport, self._anomaly, self._dns_sink
            )
        forward = (state, 0)
        reverse = pkt.dst + pkt.src + _PORTS.pack(pkt.dport, pkt.sport)
        state.keys = (key, reverse)
        table[key] = forward
        table[reverse] = (state, 1)
        self._open_flows += 1
        self._opened_before_scan -= 1
        if self._open_flows > MAX_ACTIVE_FLOWS:
            self._make_room()
        return forward

    def _tcp_control(self, table: dict[FlowKey, tuple[FlowState, int]], key: FlowKey,
                     state: FlowState, direction: int, pkt: Packet,
                     ts: float) -> tuple[FlowState, int]:
        flags = pkt.tcp_flags
        if flags & TCP_SYN and not flags & TCP_ACK:
            if (state.syn_seq is not None and state.syn_seq != pkt.tcp_seq) or (
                state.closed and state.syn_seq is None
            ):
                # A new connection reusing the 5-tuple: close the old flow.
                self._finish(state)
                state, direction = self._open(table, key, pkt, ts)
            if state.syn_dir is None:
                state.syn_dir, state.syn_seq = direction, pkt.tcp_seq
            if state.inspector is not None:
                state.inspector.tcp_syn(direction, pkt.tcp_seq)
        elif flags & TCP_SYN:
            if state.synack_dir is None:
                state.synack_dir = direction
            if state.inspector is not None:
                state.inspector.tcp_syn(direction, pkt.tcp_seq)
        if flags & (TCP_FIN | TCP_RST):
            state.closed = True
            if flags & TCP_FIN:
                state.fins |= 1 << direction
            if flags & TCP_RST or state.fins == 3:
                state.idle = CLOSED_TCP_LINGER
        return state, direction

    def _finish(self, state: FlowState) -> None:
        table = self._tables[state.proto]
        for key in state.keys:
            table.pop(key, None)
        self._open_flows -= 1
        self._end(state)

    def _end(self, state: FlowState) -> None:
        state.inspector = None
        state.ended = True
        self._finished(state)

    def _scan(self) -> None:
        """Finish every flow idle past its timeout. The next look comes SCAN_EVERY seconds
        of capture time later, and no sooner than a quarter of the open flows' number of new
        flows, so looking costs a bounded share of the time whatever the table's size."""
        clock = self._clock
        self._next_scan = clock + SCAN_EVERY
        if self._opened_before_scan > 0:
            return
        self._opened_before_scan = self._open_flows // 4
        for state in self._states():
            if clock - state.seen > state.idle:
                self._finish(state)

    def _make_room(self) -> None:
        """More than MAX_ACTIVE_FLOWS at once: the least recently active quarter ends now."""
        states = sorted(self._states(), key=lambda state: (state.seen, state.index))
        for state in states[: len(states) // 4]:
            self._anomaly("flow-table-full", f"more than {MAX_ACTIVE_FLOWS:,} flows at once: "
                          "the least recently active ended early")
            self._finish(state)

    # --- payloads ----------------------------------------------------------------------------

    def _inspect(self, state: FlowState, inspector: FlowInspector, direction: int, pkt: Packet,
                 payload: bytes, ts: float) -> None:
        self._ts, self._current = ts, state
        if pkt.proto == PROTO_TCP:
            inspector.tcp_payload(direction, pkt.tcp_seq, payload)
        else:
            inspector.udp_payload(direction, pkt.sport, pkt.dport, payload)
        if inspector.done:
            state.inspector = None

    def _dns_sink(self, direction: int, message: DnsMessage) -> None:
        if message.is_response and message.answers and self._current is not None:
            self._dns_message(self._current, self._ts, message)

    # --- IP fragments ------------------------------------------------------------------------

    def _first_fragment(self, pkt: Packet, frame: bytes, state: FlowState, direction: int,
                        ts: float) -> None:
        """The fragment with the transport header: it names the flow that the datagram's other
        fragments (before or after it) are counted to, and starts reassembly when the flow's
        payloads are still wanted (DNS answers split over fragments)."""
        assert pkt.fragment is not None
        key = (pkt.src, pkt.dst, pkt.proto, pkt.fragment[0])
        pending = self._fragments.get(key)
        if pending is None:
            pending = self._fragments[key] = _PendingDatagram()
            self._evict_fragments()
        pending.attach(state, direction, pkt.sport, pkt.dport,
                       keep=state.inspector is not None and pkt.proto == PROTO_UDP)
        self._reassembled(key, pending, 0, frame[pkt.payload_start - 8 : pkt.payload_end],
                          True, ts)

    def _add_fragment(self, ts: float, wirelen: int, pkt: Packet, frame: bytes) -> None:
        """A fragment without the transport header: counted to its datagram's flow, which may
        only become known when the first fragment arrives (fragments can come in any order)."""
        assert pkt.fragment is not None
        ip_id, offset, more = pkt.fragment
        key = (pkt.src, pkt.dst, pkt.proto, ip_id)
        pending = self._fragments.get(key)
        if pending is None:
            pending = self._fragments[key] = _PendingDatagram()
            self._evict_fragments()
        state = pending.state
        if state is not None and state.ended:  # its flow is over: the fragment is an orphan
            pending.state, state = None, None
        if state is None:
            pending.waiting_packets += 1
            pending.waiting_bytes += wirelen
        else:
            index = 2 * pending.direction
            state.counts[index] += 1
            state.counts[index + 1] += wirelen
            state.ts_last = max(state.ts_last, ts)
        self._reassembled(key, pending, offset, frame[pkt.payload_start : pkt.payload_end],
                          more, ts)

    def _reassembled(self, key: tuple[bytes, bytes, int, int], pending: _PendingDatagram,
                     offset: int, data: bytes, more: bool, ts: float) -> None:
        datagram = pending.add(offset, data, more)
        if datagram is None:
            if pending.finished():
                del self._fragments[key]
            return
        del self._fragments[key]
        state = pending.state
        inspector = state.inspector if state is not None else None
        if inspector is not None and len(datagram) > 8:
            udp_length = int.from_bytes(datagram[4:6], "big")
            payload = datagram[8:udp_length] if udp_length >= 8 else datagram[8:]
            self._ts, self._current = ts, state
            inspector.udp_payload(pending.direction, pending.sport, pending.dport, payload)

    def _evict_fragments(self) -> None:
        while len(self._fragments) > MAX_PENDING_FRAGMENTS:
            _key, pending = self._fragments.popitem(last=False)
            self._report_unfinished(pending)

    def finish_fragments(self) -> None:
        """At the end of the capture: count what never completed."""
        for pending in self._fragments.values():
            self._report_unfinished(pending)
        self._fragments.clear()

    def _report_unfinished(self, pending: _PendingDatagram) -> None:
        if pending.state is None:
            for _ in range(pending.waiting_packets):
                self._anomaly("ip-fragment-orphan", "fragment whose first part was not seen")
        elif pending.keep:
            self._anomaly("ip-fragment-incomplete", "a fragmented datagram never completed")


class _PendingDatagram:
    """Fragments of one IP datagram: counted to their flow once it is known, and reassembled
    (when its payload is wanted) once every byte has arrived."""

    __slots__ = ("direction", "dport", "keep", "pieces", "received", "size", "sport", "state",
                 "total", "waiting_bytes", "waiting_packets")

    def __init__(self) -> None:
        self.state: FlowState | None = None
        self.direction = 0
        self.sport = self.dport = 0
        self.keep = True  # keep the bytes until the flow says whether it wants them
        self.pieces: dict[int, bytes] = {}
        self.total: int | None = None
        self.size = 0
        self.received = 0  # bytes seen, kept or not
        self.waiting_packets = 0  # fragments seen before the first one named the flow
        self.waiting_bytes = 0

    def attach(self, state: FlowState, direction: int, sport: int, dport: int,
               keep: bool) -> None:
        """The first fragment arrived: count the waiting fragments to its flow."""
        self.state, self.direction, self.sport, self.dport = state, direction, sport, dport
        state.counts[2 * direction] += self.waiting_packets
        state.counts[2 * direction + 1] += self.waiting_bytes
        self.waiting_packets = self.waiting_bytes = 0
        self.keep = keep
        if not keep:
            self.pieces.clear()

    def finished(self) -> bool:
        """Every byte of a datagram whose bytes are not kept has been counted."""
        return (not self.keep and self.state is not None and self.total is not None
                and self.received >= self.total)

    def add(self, offset: int, data: bytes, more: bool) -> bytes | None:
        """Add a fragment's bytes; the whole datagram once complete (only when kept)."""
        if offset in self.pieces:
            return None
        self.received += len(data)
        if not more:
            self.total = offset + len(data)
        if not self.keep or self.size + len(data) > MAX_FRAGMENTED_DATAGRAM:
            return None
        self.pieces[offset] = data
        self.size += len(data)
        if self.total is None or self.state is None:
            return None
        out = bytearray()
        for piece_offset in sorted(self.pieces):
            if piece_offset > len(out):
                return None
            out += self.pieces[piece_offset][len(out) - piece_offset :]
        return bytes(out) if len(out) >= self.total else None


def ip_text(raw: bytes, cache: dict[bytes, str]) -> str:
    """An address's text form, memoised because every flow end repeats a few addresses."""
    text = cache.get(raw)
    if text is None:
        text = cache[raw] = str(ipaddress.ip_address(raw))
    return text


TRANSPORT_OF_PROTO = {PROTO_TCP: "tcp", PROTO_UDP: "udp", PROTO_ICMP: "icmp", PROTO_ICMPV6: "icmp"}

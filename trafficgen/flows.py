"""Timed conversations seen from the capturing client: UDP datagrams and TCP connections with
consistent sequence numbers, MSS-sized segments and acknowledgements, checksums computed.

Every frame goes onto a `Timeline` at a time in seconds; a conversation is added whole.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from trafficgen.addresses import ip_bytes, is_ipv6
from trafficgen.ip import (
    PROTO_TCP,
    PROTO_UDP,
    TCP_ACK,
    TCP_FIN,
    TCP_PSH,
    TCP_SYN,
    TcpOptions,
    ip_header,
    tcp,
    tcp_options,
    udp,
)
from trafficgen.links import Link
from trafficgen.timeline import Timeline


@dataclass
class Peer:
    """One side of a flow: its address, the TTL its packets carry here, its last IP ID."""

    addr: str
    ttl: int
    ip_id: int
    flow_label: int = 0

    @property
    def packed(self) -> bytes:
        """The address in bytes."""
        return ip_bytes(self.addr)

    def packet(self, dst: Peer, proto: int, payload: bytes, df: bool = True) -> bytes:
        """An IP packet to `dst` (IPv4: the next IP ID, DF as asked; IPv6: the flow label)."""
        if not is_ipv6(self.addr):
            self.ip_id = (self.ip_id + 1) & 0xFFFF
        header = ip_header(self.packed, dst.packed, proto, len(payload), self.ip_id, self.ttl,
                           df, self.flow_label, checksum=True)
        return header + payload


def new_peer(addr: str, ttl: int, rng: random.Random) -> Peer:
    """A peer with a random first IP ID and IPv6 flow label."""
    return Peer(addr, ttl, rng.randrange(0x10000), rng.randrange(1, 0x100000))


@dataclass
class Conversation:
    """Two peers and their ports, seen by the capturing client on `link`."""

    timeline: Timeline
    link: Link
    client: Peer
    server: Peer
    cport: int
    sport: int


@dataclass
class UdpFlow(Conversation):
    """A UDP conversation between the capturing client and one server port (DF clear)."""

    def up(self, t: float, payload: bytes) -> None:
        """A datagram from the client at `t`."""
        l4 = udp(self.client.packed, self.server.packed, self.cport, self.sport, payload, True)
        l3 = self.client.packet(self.server, PROTO_UDP, l4, df=False)
        self.timeline.add(t, self.link.frame(l3, True))

    def down(self, t: float, payload: bytes) -> None:
        """A datagram from the server, seen at `t`."""
        l4 = udp(self.server.packed, self.client.packed, self.sport, self.cport, payload, True)
        l3 = self.server.packet(self.client, PROTO_UDP, l4, df=False)
        self.timeline.add(t, self.link.frame(l3, False))


WINDOWS_SYN_OPTIONS: TcpOptions = [
    ("MSS", 1460),
    ("NOP", None),
    ("WScale", 8),
    ("NOP", None),
    ("NOP", None),
    ("SAckOK", b""),
]
SERVER_SYNACK_OPTIONS: TcpOptions = [
    ("MSS", 1460),
    ("NOP", None),
    ("NOP", None),
    ("SAckOK", b""),
    ("NOP", None),
    ("WScale", 9),
]
SERVER_SYNACK_OPTIONS_V6: TcpOptions = [("MSS", 1440), *SERVER_SYNACK_OPTIONS[1:]]


def linux_syn_options(tsval: int) -> TcpOptions:
    """Linux's SYN options (timestamps on; a server that does not echo them turns them off)."""
    return [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (tsval, 0)), ("NOP", None), ("WScale", 7)]


@dataclass
class TcpFlow(Conversation):
    """A TCP connection seen at the client: consistent seq/ack numbers in both directions.

    Receivers acknowledge every second segment and the last one of a burst; the server's
    acknowledgements reach the capture one RTT after the client's data left.
    """

    rtt: float
    rng: random.Random
    syn_options: TcpOptions = field(default_factory=lambda: list(WINDOWS_SYN_OPTIONS))
    client_window: int = 1026
    server_window: int = 501
    cseq: int = 0
    sseq: int = 0

    @property
    def mss(self) -> int:
        """The client's MSS: 1460 over IPv4, 1440 over IPv6."""
        return 1440 if is_ipv6(self.client.addr) else 1460

    def _segment(
        self,
        t: float,
        from_client: bool,
        flags: int,
        payload: bytes = b"",
        options: TcpOptions = (),
        window: int | None = None,
    ) -> None:
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        sport, dport = (self.cport, self.sport) if from_client else (self.sport, self.cport)
        seq, ack = (self.cseq, self.sseq) if from_client else (self.sseq, self.cseq)
        if window is None:
            window = self.client_window if from_client else self.server_window
        segment = tcp(
            src.packed,
            dst.packed,
            sport,
            dport,
            seq,
            ack if flags & TCP_ACK else 0,
            flags,
            window,
            payload,
            tcp_options(options),
            checksum=True,
        )
        self.timeline.add(t, self.link.frame(src.packet(dst, PROTO_TCP, segment), from_client))
        step = len(payload) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)
        if from_client:
            self.cseq = (self.cseq + step) & 0xFFFFFFFF
        else:
            self.sseq = (self.sseq + step) & 0xFFFFFFFF

    def open(self, t: float) -> float:
        """Three-way handshake starting at `t`; returns the time of the client's final ACK."""
        self.cseq, self.sseq = self.rng.getrandbits(32), self.rng.getrandbits(32)
        v6 = is_ipv6(self.client.addr)
        synack = SERVER_SYNACK_OPTIONS_V6 if v6 else SERVER_SYNACK_OPTIONS
        syn = [
            ("MSS", self.mss) if name == "MSS" else (name, value)
            for name, value in self.syn_options
        ]
        self._segment(t, True, TCP_SYN, options=syn, window=64240)
        self._segment(t + self.rtt, False, TCP_SYN | TCP_ACK, options=synack, window=65535)
        t += self.rtt + 0.00011
        self._segment(t, True, TCP_ACK)
        return t

    def _stream(self, t: float, from_client: bool, data: bytes, final_ack: bool) -> float:
        """Send `data` in MSS-sized segments; returns when the last segment is seen."""
        chunks = [data[i : i + self.mss] for i in range(0, len(data), self.mss)]
        ack_delay = self.rtt if from_client else 0.00016
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            if i and i % 10 == 0:  # a congestion window's worth: wait for the ACKs
                t += self.rtt
            self._segment(t, from_client, TCP_PSH | TCP_ACK if last else TCP_ACK, chunk)
            if (i % 2 == 1 and not last) or (last and final_ack):
                self._segment(t + ack_delay, not from_client, TCP_ACK)
            if not last:
                t += 0.00012
        return t

    def exchange(self, t: float, request: bytes, response: bytes, think: float = 0.002) -> float:
        """Client data, then (after RTT + think time) the server's reply; returns end time."""
        server_acks_first = think > 0.03 or not response
        t = self._stream(t, True, request, final_ack=server_acks_first)
        if not response:
            return t + self.rtt
        return self._stream(t + self.rtt + think, False, response, final_ack=True)

    def close(self, t: float) -> float:
        """Client FIN, server FIN, client ACK."""
        self._segment(t, True, TCP_FIN | TCP_ACK)
        self._segment(t + self.rtt, False, TCP_FIN | TCP_ACK)
        t += self.rtt + 0.00009
        self._segment(t, True, TCP_ACK)
        return t

"""Sessions generated lazily, frame by frame, for captures of a million packets: DNS lookups,
TCP connections (TLS or plain HTTP), QUIC connections, ICE probes and RTP-like media.

Each function returns an iterator of (µs, Ethernet frame) in time order, meant for
`timeline.merge`. Payloads that would be encrypted are slices of a shared `Noise` buffer and
every header is packed with `struct`, checksums zero, so writing a million packets takes
seconds; payload templates (DNS messages, ClientHellos) are built once by the caller.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from typing import NamedTuple

from trafficgen.addresses import Host
from trafficgen.flows import linux_syn_options
from trafficgen.http import http_message
from trafficgen.ip import PROTO_TCP, TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, tcp, tcp_options
from trafficgen.links import host_frame, udp_frame
from trafficgen.media import RTP_HEADER
from trafficgen.stun import (
    BINDING_REQUEST,
    BINDING_SUCCESS,
    ICE_CHECK_ATTRS,
    stun_message,
    xor_mapped_address,
)
from trafficgen.timeline import MS, SECOND, Frame
from trafficgen.tls import CHANGE_CIPHER_SPEC, REC_APPDATA, opaque_server_flight, tls_record

SYN_OPTIONS = tcp_options(linux_syn_options(0))  # every client SYN: Linux's, timestamp zero


class Noise:
    """A fixed buffer of random bytes; payloads are slices of it."""

    def __init__(self, rng: random.Random, size: int = 1 << 20) -> None:
        self.data = rng.randbytes(size)
        self.size = size

    def take(self, length: int, where: int) -> bytes:
        """`length` bytes from a place that depends on `where`."""
        start = (where * 7919) % (self.size - length - 1)
        return self.data[start : start + length]


class Ports:
    """Ephemeral ports handed out in turn, as a client OS does."""

    def __init__(self, rng: random.Random) -> None:
        self.next = rng.randrange(32768, 60999)

    def take(self) -> int:
        """The next port (wrapping to 32768 after 60999)."""
        port = self.next
        self.next = 32768 if port >= 60999 else port + 1
        return port


class DnsExchange(NamedTuple):
    """One query and its response on a lookup's socket; the templates' ids are replaced."""

    sent: int
    answered: int
    txid: int
    query: bytes
    response: bytes


def dns_lookup(
    client: Host, resolver: Host, sport: int, exchanges: list[DnsExchange]
) -> Iterator[Frame]:
    """The queries of one lookup (A, AAAA) from one socket, then the answers as they come."""
    for exchange in exchanges:
        query = struct.pack("!H", exchange.txid) + exchange.query[2:]
        yield exchange.sent, udp_frame(client, resolver, sport, 53, query, exchange.txid)
    for exchange in sorted(exchanges, key=lambda e: e.answered):
        response = struct.pack("!H", exchange.txid) + exchange.response[2:]
        ident = exchange.txid ^ 0x5A5A
        yield exchange.answered, udp_frame(resolver, client, 53, sport, response, ident, 63)


class TcpState:
    """Sequence numbers and IP ids of a TCP connection, as frames are built (side 0: client)."""

    def __init__(self, rng: random.Random, client: Host, server: Host, cport: int,
                 sport: int) -> None:
        self.hosts = (client, server)
        self.ports = (cport, sport)
        self.seq = [rng.getrandbits(32), rng.getrandbits(32)]
        self.ident = [rng.getrandbits(16), rng.getrandbits(16)]

    def segment(self, side: int, flags: int, payload: bytes = b"") -> bytes:
        """The next segment from `side` (SYNs with Linux's options, window 2048 / 65535)."""
        other = 1 - side
        seq = self.seq[side]
        ack = self.seq[other] if flags & TCP_ACK else 0
        options = SYN_OPTIONS if flags & TCP_SYN else b""
        src, dst = self.hosts[side], self.hosts[other]
        window = 65535 if side else 2048
        segment = tcp(src.ip, dst.ip, self.ports[side], self.ports[other], seq, ack, flags,
                      window, payload, options)
        step = len(payload) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)
        self.seq[side] = (seq + step) & 0xFFFFFFFF
        self.ident[side] += 1
        return host_frame(src, dst, PROTO_TCP, segment, self.ident[side], 64 if side == 0 else 52)


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for at in range(0, len(data), size):
        yield data[at : at + size]


def tcp_session(rng: random.Random, noise: Noise, t: int, client: Host, server: Host,
                cport: int, sport: int, first: bytes, split: bool, exchanges: int, until: int,
                tls: bool) -> Iterator[Frame]:
    """A TCP connection: handshake, the client's `first` bytes (in two segments if `split`),
    the server's reply (a TLS flight, or an OCSP `200 OK`), `exchanges` request and response
    records, keepalives until `until`, then FIN."""
    peer = TcpState(rng, client, server, cport, sport)
    rtt = rng.randrange(8, 90) * MS
    mss = 1448
    yield t, peer.segment(0, TCP_SYN)
    t += rtt
    yield t, peer.segment(1, TCP_SYN | TCP_ACK)
    t += 150
    yield t, peer.segment(0, TCP_ACK)
    t += 300
    if split:
        cut = rng.randrange(40, len(first) - 20)
        yield t, peer.segment(0, TCP_ACK, first[:cut])
        t += 200
        yield t, peer.segment(0, TCP_ACK | TCP_PSH, first[cut:])
    else:
        yield t, peer.segment(0, TCP_ACK | TCP_PSH, first)
    t += rtt
    if tls:
        flight = opaque_server_flight(noise.take(84, t), noise.take(rng.randrange(2400, 5200), t))
    else:
        headers = [("Content-Type", "application/ocsp-response"), ("Content-Length", "471")]
        flight = http_message("HTTP/1.1 200 OK", headers, noise.take(471, t))
    yield t, peer.segment(1, TCP_ACK)
    for number, piece in enumerate(_chunks(flight, mss)):
        t += 120
        yield t, peer.segment(1, TCP_ACK | TCP_PSH, piece)
        if number % 2:
            yield t + 80, peer.segment(0, TCP_ACK)
    t += 2 * MS
    if tls:
        finished = CHANGE_CIPHER_SPEC + tls_record(REC_APPDATA, noise.take(53, t))
        yield t, peer.segment(0, TCP_ACK | TCP_PSH, finished)
    for _ in range(exchanges):
        t += rng.randrange(2, 400) * MS
        request = tls_record(REC_APPDATA, noise.take(rng.randrange(90, 1400), t))
        yield t, peer.segment(0, TCP_ACK | TCP_PSH, request)
        t += rtt
        response = tls_record(REC_APPDATA, noise.take(rng.randrange(60, 9000), t))
        for number, piece in enumerate(_chunks(response, mss)):
            t += 100
            yield t, peer.segment(1, TCP_ACK | TCP_PSH, piece)
            if number % 2 or len(piece) < mss:
                yield t + 60, peer.segment(0, TCP_ACK)
    while t < until:  # keepalives of a signalling connection
        t += rng.randrange(15, 30) * SECOND
        yield t, peer.segment(0, TCP_ACK | TCP_PSH, tls_record(REC_APPDATA, noise.take(38, t)))
        t += rtt
        yield t, peer.segment(1, TCP_ACK | TCP_PSH, tls_record(REC_APPDATA, noise.take(38, t)))
        yield t + 200, peer.segment(0, TCP_ACK)
    t += 20 * MS
    yield t, peer.segment(0, TCP_FIN | TCP_ACK)
    t += rtt
    yield t, peer.segment(1, TCP_FIN | TCP_ACK)
    yield t + 100, peer.segment(0, TCP_ACK)


def quic_session(rng: random.Random, noise: Noise, t: int, client: Host, server: Host,
                 sport: int, initial: bytes, count: int) -> Iterator[Frame]:
    """A QUIC connection of `count` packets: the client `initial`, the server's long-header
    flight, the client's Handshake, then short-header packets both ways."""
    rtt = rng.randrange(8, 40) * MS
    yield t, udp_frame(client, server, sport, 443, initial, 1)
    t += rtt
    for number in range(2):  # server Initial + Handshake, coalesced, padded
        head = b"\xc1\x00\x00\x00\x01\x00\x08" + noise.take(8, t)
        payload = head + noise.take(1200 - len(head), t + number)
        yield t + number * 200, udp_frame(server, client, 443, sport, payload, 0, 58)
    t += 2 * MS
    head = b"\xe1\x00\x00\x00\x01\x08" + noise.take(8, t) + b"\x00"  # client Handshake
    yield t, udp_frame(client, server, sport, 443, head + noise.take(70, t), 2)
    for number in range(count - 4):
        t += rng.randrange(1, 60) * MS
        if rng.random() < 0.4:
            payload = b"\x43" + noise.take(rng.randrange(30, 600), t)
            yield t, udp_frame(client, server, sport, 443, payload, 3 + number)
        else:
            payload = b"\x47" + noise.take(rng.randrange(30, 1350), t)
            yield t, udp_frame(server, client, 443, sport, payload, number, 58)


def ice_probe(rng: random.Random, t: int, client: Host, server: Host, sport: int, dport: int,
              answered: bool) -> Iterator[Frame]:
    """Two ICE connectivity checks 100 ms apart to a candidate relay, answered or not."""
    for attempt in range(2):
        txid = rng.randbytes(12)
        request = stun_message(BINDING_REQUEST, txid, ICE_CHECK_ATTRS, fingerprint=False)
        yield t, udp_frame(client, server, sport, dport, request, attempt)
        if answered:
            mapped = xor_mapped_address(client.ip, sport)
            response = stun_message(BINDING_SUCCESS, txid, mapped, fingerprint=False)
            yield t + 30 * MS, udp_frame(server, client, dport, sport, response, attempt, 55)
        t += 100 * MS


# Per kind of media: share of packets downstream, payload sizes, RTP payload type and clock
# step per packet.
MEDIA_KINDS = {
    "audio": (0.5, (90, 220), 111, 960),
    "video": (0.72, (600, 1200), 98, 3000),
    "screen": (0.35, (300, 1200), 98, 3000),
}


def media_stream(rng: random.Random, noise: Noise, start: int, stop: int, client: Host,
                 server: Host, sport: int, dport: int, kind: str,
                 count: int) -> Iterator[Frame]:
    """ICE connectivity checks, then `count` - 4 RTP-like packets spread over the interval."""
    txids = [rng.randbytes(12), rng.randbytes(12)]
    t = start
    for txid in txids:
        request = stun_message(BINDING_REQUEST, txid, ICE_CHECK_ATTRS, fingerprint=False)
        yield t, udp_frame(client, server, sport, dport, request, 0)
        mapped = xor_mapped_address(client.ip, sport)
        response = stun_message(BINDING_SUCCESS, txid, mapped, fingerprint=False)
        yield t + 25 * MS, udp_frame(server, client, dport, sport, response, 0, 54)
        t += 50 * MS
    rtp_count = count - 4
    if rtp_count <= 0:
        return
    step = max(1, (stop - t) // rtp_count)
    down_share, (low, high), pt, tick = MEDIA_KINDS[kind]
    ssrc = [rng.getrandbits(32), rng.getrandbits(32)]
    seq = [rng.getrandbits(16), rng.getrandbits(16)]
    clock = [rng.getrandbits(32), rng.getrandbits(32)]
    ident = [rng.getrandbits(16), rng.getrandbits(16)]
    random_ = rng.random
    randrange = rng.randrange
    take = noise.take
    pack = RTP_HEADER.pack
    for number in range(rtp_count):
        when = t + number * step + int(random_() * step * 0.5)
        down = random_() < down_share
        side = 1 if down else 0
        header = pack(0x80, pt | (0x80 if number % 30 == 0 else 0), seq[side] & 0xFFFF,
                      clock[side] & 0xFFFFFFFF, ssrc[side])
        seq[side] += 1
        clock[side] += tick
        ident[side] += 1
        payload = header + take(randrange(low, high), number)
        if down:
            yield when, udp_frame(server, client, dport, sport, payload, ident[1], 54)
        else:
            yield when, udp_frame(client, server, sport, dport, payload, ident[0])

"""Build vcaudit's bundled sample captures, deterministically, with scapy.

Run as ``python captures/generate_samples.py [--out DIR]`` (default: this folder). It writes

* ``zoom-desktop-call.pcapng``: a ~60 s Zoom desktop call from a laptop on a home LAN
  (pcapng, Ethernet): DNS, TLS to Zoom/analytics/ad-tech/unknown hosts (one ClientHello split
  over two TCP segments), a plaintext OCSP request, STUN and RTP-like media over UDP, one UDP
  flow identifiable only by its IP range, an IPv6 TLS flow and the usual LAN chatter.
* ``teams-linux-any.pcap``: 10 s of a Teams call captured with ``tcpdump -i any`` on Linux
  (classic pcap, LINKTYPE_LINUX_SLL2).

Everything is synthetic: addresses, names and timings model real clients, but every byte is made
here. Timestamps start at 2026-11-02T14:00:00Z and every random value comes from a
``random.Random`` seeded from a fixed string and a per-part label, so two runs write byte-identical
files (scapy's writers add no host names, dates or tool versions to the files).
captures/README.md lists every endpoint and what vcaudit should make of it.
"""

from __future__ import annotations

import argparse
import random
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dns import DNS, DNSQR, DNSRR, DNSRROPT, DNSRRSOA, DNSRRSRV
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import (
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_RS,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptMTU,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
)
from scapy.layers.l2 import ARP, CookedLinuxV2, Ether
from scapy.layers.netbios import NBNSHeader, NBNSQueryRequest
from scapy.layers.tls.all import TLS, TLS13ServerHello, TLSClientHello
from scapy.layers.tls.extensions import (
    ProtocolName,
    ServerName,
    TLS_Ext_ALPN,
    TLS_Ext_EncryptThenMAC,
    TLS_Ext_ExtendedMasterSecret,
    TLS_Ext_PSKKeyExchangeModes,
    TLS_Ext_RenegotiationInfo,
    TLS_Ext_ServerName,
    TLS_Ext_SessionTicket,
    TLS_Ext_SignatureAlgorithms,
    TLS_Ext_SupportedGroups,
    TLS_Ext_SupportedPointFormat,
    TLS_Ext_SupportedVersion_CH,
    TLS_Ext_SupportedVersion_SH,
    TLS_Ext_Unknown,
)
from scapy.layers.tls.keyexchange_tls13 import (
    KeyShareEntry,
    TLS_Ext_KeyShare_CH,
    TLS_Ext_KeyShare_SH,
)
from scapy.packet import Packet, Padding, Raw
from scapy.utils import PcapNgWriter, RawPcapWriter

START = datetime(2026, 11, 2, 14, 0, 0, tzinfo=UTC)
EPOCH = int(START.timestamp())  # 1793628000
SEED = "vcaudit-sample-captures-v1"
ZOOM_FILE = "zoom-desktop-call.pcapng"
TEAMS_FILE = "teams-linux-any.pcap"
LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL2 = 276
ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772
SLL_HOST, SLL_OUTGOING = 0, 4  # packet types: to us, sent by us
ETH_MIN_FRAME = 60  # without FCS: what a capturing host sees for short received frames
SNAPLEN = 262144

# Home LAN of the Zoom sample (RFC 1918 / RFC 3849 documentation prefix for IPv6).
LAPTOP_MAC = "3c:a9:f4:5b:19:7e"
ROUTER_MAC = "50:c7:bf:3a:8e:12"
CHROMECAST_MAC = "f4:f5:d8:6c:21:a0"
LAPTOP_V4 = "192.168.1.23"
ROUTER_V4 = "192.168.1.1"
CHROMECAST_V4 = "192.168.1.40"
LAPTOP_V6 = "2001:db8:1:1::23"
LAPTOP_LL = "fe80::5d2c:9a41:3e07:b6f1"
ROUTER_LL = "fe80::1"
PUBLIC_V4 = "198.51.100.77"  # the home's NAT address, as STUN reports it (TEST-NET-2)

# Zoom sample servers.
ZOOM_WEB_V4 = "170.114.52.2"
ZOOM_WEB_V6 = "2407:30c0:182::aa1:101"
ZOOM_US05WEB = "170.114.10.87"
ZOOM_LOG = "170.114.13.78"
ZOOM_MMR_MEDIA = "109.94.161.27"
ZOOM_MMR_SIGNAL = "109.94.162.14"
ZOOM_UNNAMED = "206.247.41.10"
GTM_V4 = "142.250.185.104"
FACEBOOK_V4 = "157.240.20.19"
DIGICERT_V4 = "192.229.211.108"
UNKNOWN_V4 = "203.0.113.50"

# Teams sample (Linux laptop on another home LAN).
LINUX_MAC = "a4:c3:f0:8e:52:d1"
LINUX_ROUTER_MAC = "c8:3a:35:07:4b:90"
LINUX_V4 = "192.168.1.57"
TEAMS_WEB = "52.113.194.132"
ARIA_V4 = "20.42.73.29"
TEAMS_MEDIA = "52.115.98.40"

GREASE = tuple(0x0A0A + 0x1010 * i for i in range(16))
X25519, SECP256R1, SECP384R1, SECP521R1, X448 = 0x001D, 0x0017, 0x0018, 0x0019, 0x001E
X25519MLKEM768 = 0x11EC
MLKEM768_X25519_CLIENT_SHARE = 1184 + 32  # ML-KEM-768 encapsulation key || X25519 share
MLKEM768_X25519_SERVER_SHARE = 1088 + 32  # ML-KEM-768 ciphertext || X25519 share
TLS_AES_128_GCM_SHA256 = 0x1301
REC_CCS, REC_HANDSHAKE, REC_APPDATA = 20, 22, 23
STUN_MAGIC = 0x2112A442


def rng_for(label: str) -> random.Random:
    """A generator seeded from SEED and `label`, so each part's randomness is independent."""
    return random.Random(f"{SEED}/{label}")


def usec(t: float) -> int:
    """Seconds after START to whole microseconds."""
    return round(t * 1_000_000)


# --------------------------------------------------------------------------------------------
# Capture container and link layers
# --------------------------------------------------------------------------------------------


@dataclass
class Capture:
    """Frames with their time (µs after START); kept in creation order, written in time order."""

    frames: list[tuple[int, int, bytes]] = field(default_factory=list)

    def add(self, t: float, frame: Packet | bytes) -> None:
        self.frames.append((usec(t), len(self.frames), bytes(frame)))

    def in_time_order(self) -> list[tuple[int, bytes]]:
        return [(t, raw) for t, _, raw in sorted(self.frames)]


class Link(Protocol):
    """Wraps an IP packet in the capture's link layer, seen from the capturing host."""

    def frame(self, l3: Packet, outgoing: bool) -> Packet: ...


def pad_short_frame(frame: Packet) -> Packet:
    """Received Ethernet frames shorter than 60 bytes arrive padded; the capture keeps it."""
    missing = ETH_MIN_FRAME - len(frame)
    return frame / Padding(load=b"\x00" * missing) if missing > 0 else frame


@dataclass(frozen=True)
class EtherLink:
    """Ethernet between the capturing host and its router (the next hop off the LAN)."""

    own_mac: str
    router_mac: str

    def frame(self, l3: Packet, outgoing: bool) -> Packet:
        if outgoing:
            return Ether(src=self.own_mac, dst=self.router_mac) / l3
        return pad_short_frame(Ether(src=self.router_mac, dst=self.own_mac) / l3)


def ethertype(l3: Packet) -> int:
    if isinstance(l3, ARP):
        return 0x0806
    return 0x86DD if isinstance(l3, IPv6) else 0x0800


def sll2(l3: Packet, ifindex: int, hatype: int, pkttype: int, mac: str) -> Packet:
    """A LINKTYPE_LINUX_SLL2 header (20 bytes) in front of `l3`."""
    address = bytes.fromhex(mac.replace(":", "")) + b"\x00\x00"
    header = CookedLinuxV2(
        proto=ethertype(l3),
        ifindex=ifindex,
        lladdrtype=hatype,
        pkttype=pkttype,
        lladdrlen=6,
        src=address,
    )
    return header / l3


@dataclass(frozen=True)
class CookedLink:
    """`tcpdump -i any` on Linux: SLL2 headers naming the interface and the packet direction."""

    ifindex: int
    own_mac: str
    router_mac: str

    def frame(self, l3: Packet, outgoing: bool) -> Packet:
        if outgoing:
            return sll2(l3, self.ifindex, ARPHRD_ETHER, SLL_OUTGOING, self.own_mac)
        return sll2(l3, self.ifindex, ARPHRD_ETHER, SLL_HOST, self.router_mac)


# --------------------------------------------------------------------------------------------
# IP endpoints, UDP and TCP
# --------------------------------------------------------------------------------------------


@dataclass
class Peer:
    """One side of a flow: its address, the TTL its packets carry here, its next IP ID."""

    addr: str
    ttl: int
    ip_id: int
    flow_label: int = 0

    def ip(self, dst: str, df: bool = True) -> Packet:
        if ":" in self.addr:
            return IPv6(src=self.addr, dst=dst, hlim=self.ttl, fl=self.flow_label)
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        return IP(src=self.addr, dst=dst, ttl=self.ttl, id=self.ip_id, flags="DF" if df else 0)


def new_peer(addr: str, ttl: int, rng: random.Random) -> Peer:
    return Peer(addr, ttl, rng.randrange(0x10000), rng.randrange(1, 0x100000))


@dataclass
class UdpFlow:
    """A UDP conversation between the capturing client and one server port."""

    cap: Capture
    link: Link
    client: Peer
    server: Peer
    cport: int
    sport: int

    def up(self, t: float, payload: bytes | Packet) -> None:
        l4 = UDP(sport=self.cport, dport=self.sport) / payload
        self.cap.add(t, self.link.frame(self.client.ip(self.server.addr, df=False) / l4, True))

    def down(self, t: float, payload: bytes | Packet) -> None:
        l4 = UDP(sport=self.sport, dport=self.cport) / payload
        self.cap.add(t, self.link.frame(self.server.ip(self.client.addr, df=False) / l4, False))


TcpOptions = list[tuple[str, object]]

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
    """Linux's SYN options; the servers here do not echo the timestamp, so only the SYN has it."""
    return [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (tsval, 0)), ("NOP", None), ("WScale", 7)]


@dataclass
class TcpFlow:
    """A TCP connection seen at the client: consistent seq/ack numbers in both directions.

    Receivers acknowledge every second segment and the last one of a burst; the server's
    acknowledgements reach the capture one RTT after the client's data left.
    """

    cap: Capture
    link: Link
    client: Peer
    server: Peer
    cport: int
    sport: int
    rtt: float
    rng: random.Random
    syn_options: TcpOptions = field(default_factory=lambda: list(WINDOWS_SYN_OPTIONS))
    client_window: int = 1026
    server_window: int = 501
    cseq: int = 0
    sseq: int = 0

    @property
    def mss(self) -> int:
        return 1440 if ":" in self.client.addr else 1460

    def _segment(
        self,
        t: float,
        from_client: bool,
        flags: str,
        payload: bytes = b"",
        options: TcpOptions | None = None,
        window: int | None = None,
    ) -> None:
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        sport, dport = (self.cport, self.sport) if from_client else (self.sport, self.cport)
        seq, ack = (self.cseq, self.sseq) if from_client else (self.sseq, self.cseq)
        if window is None:
            window = self.client_window if from_client else self.server_window
        tcp = TCP(
            sport=sport,
            dport=dport,
            seq=seq,
            ack=ack if "A" in flags else 0,
            flags=flags,
            window=window,
            options=options or [],
        )
        l3 = src.ip(dst.addr) / tcp
        if payload:
            l3 = l3 / Raw(load=payload)
        self.cap.add(t, self.link.frame(l3, outgoing=from_client))
        step = len(payload) + (1 if ("S" in flags or "F" in flags) else 0)
        if from_client:
            self.cseq = (self.cseq + step) & 0xFFFFFFFF
        else:
            self.sseq = (self.sseq + step) & 0xFFFFFFFF

    def open(self, t: float) -> float:
        """Three-way handshake starting at `t`; returns the time of the client's final ACK."""
        self.cseq, self.sseq = self.rng.getrandbits(32), self.rng.getrandbits(32)
        synack = SERVER_SYNACK_OPTIONS_V6 if ":" in self.client.addr else SERVER_SYNACK_OPTIONS
        syn = [
            ("MSS", self.mss) if name == "MSS" else (name, value)
            for name, value in self.syn_options
        ]
        self._segment(t, True, "S", options=syn, window=64240)
        self._segment(t + self.rtt, False, "SA", options=synack, window=65535)
        t += self.rtt + 0.00011
        self._segment(t, True, "A")
        return t

    def _stream(self, t: float, from_client: bool, data: bytes, final_ack: bool) -> float:
        """Send `data` in MSS-sized segments; returns when the last segment is seen."""
        chunks = [data[i : i + self.mss] for i in range(0, len(data), self.mss)]
        ack_delay = self.rtt if from_client else 0.00016
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            if i and i % 10 == 0:  # a congestion window's worth: wait for the ACKs
                t += self.rtt
            self._segment(t, from_client, "PA" if last else "A", chunk)
            if (i % 2 == 1 and not last) or (last and final_ack):
                self._segment(t + ack_delay, not from_client, "A")
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
        self._segment(t, True, "FA")
        self._segment(t + self.rtt, False, "FA")
        t += self.rtt + 0.00009
        self._segment(t, True, "A")
        return t


# --------------------------------------------------------------------------------------------
# TLS records
# --------------------------------------------------------------------------------------------


def tls_record(content_type: int, body: bytes) -> bytes:
    return struct.pack("!BHH", content_type, 0x0303, len(body)) + body


def app_data(rng: random.Random, size: int) -> bytes:
    """Encrypted application data: random bytes in records of at most 16 KiB + overhead."""
    out = bytearray()
    while size > 0:
        chunk = min(size, 16401)
        out += tls_record(REC_APPDATA, rng.randbytes(chunk))
        size -= chunk
    return bytes(out)


CHANGE_CIPHER_SPEC = tls_record(REC_CCS, b"\x01")
FINISHED_RECORD_LEN = 53  # Finished (4 + 32 bytes) + content type + 16-byte AEAD tag


def hello_record(rng: random.Random, ciphers: Sequence[int], ext: list[Packet]) -> bytes:
    """A TLS 1.0-versioned handshake record holding one ClientHello, as clients send it."""
    hello = TLSClientHello(
        version=0x0303,
        gmt_unix_time=rng.getrandbits(32),
        random_bytes=rng.randbytes(28),
        sid=rng.randbytes(32),
        ciphers=list(ciphers),
        comp=[0],
        ext=ext,
    )
    return bytes(TLS(type=REC_HANDSHAKE, version=0x0301, msg=[hello]))


def alpn_ext(protocols: Sequence[str]) -> Packet:
    return TLS_Ext_ALPN(protocols=[ProtocolName(protocol=p.encode()) for p in protocols])


def optional_alpn(protocols: Sequence[str]) -> list[Packet]:
    """The ALPN extension, or nothing when the client offers no protocol."""
    return [alpn_ext(protocols)] if protocols else []


def sni_ext(host: str) -> Packet:
    return TLS_Ext_ServerName(servernames=[ServerName(servername=host.encode())])


def chromium_hello(rng: random.Random, sni: str, alpn: Sequence[str], post_quantum: bool) -> bytes:
    """A Chromium-style ClientHello (GREASE, ECH GREASE), optionally with X25519MLKEM768."""
    grease = rng.sample(GREASE, 4)
    groups = [grease[0], X25519, SECP256R1, SECP384R1]
    shares = [
        KeyShareEntry(group=grease[0], key_exchange=b"\x00"),
        KeyShareEntry(group=X25519, key_exchange=rng.randbytes(32)),
    ]
    if post_quantum:
        groups.insert(1, X25519MLKEM768)
        shares.insert(
            1,
            KeyShareEntry(
                group=X25519MLKEM768, key_exchange=rng.randbytes(MLKEM768_X25519_CLIENT_SHARE)
            ),
        )
    ech_grease = b"\x00\x00\x01\x00\x01" + bytes([rng.randrange(256)]) + b"\x00\x20"
    ech_grease += rng.randbytes(32) + struct.pack("!H", 176) + rng.randbytes(176)
    ext = [
        TLS_Ext_Unknown(type=grease[1], val=b""),
        sni_ext(sni),
        TLS_Ext_ExtendedMasterSecret(),
        TLS_Ext_RenegotiationInfo(renegotiated_connection=b""),
        TLS_Ext_SupportedGroups(groups=groups),
        TLS_Ext_SupportedPointFormat(ecpl=[0]),
        TLS_Ext_SessionTicket(),
        *optional_alpn(alpn),
        TLS_Ext_Unknown(type=5, val=b"\x01\x00\x00\x00\x00"),  # status_request: OCSP
        TLS_Ext_SignatureAlgorithms(
            sig_algs=[0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
        ),
        TLS_Ext_Unknown(type=18, val=b""),  # signed_certificate_timestamp
        TLS_Ext_KeyShare_CH(client_shares=shares),
        TLS_Ext_PSKKeyExchangeModes(kxmodes=[1]),
        TLS_Ext_SupportedVersion_CH(versions=[grease[2], 0x0304, 0x0303]),
        TLS_Ext_Unknown(type=27, val=b"\x02\x00\x02"),  # compress_certificate: brotli
        TLS_Ext_Unknown(type=17613, val=b"\x00\x03\x02h2"),  # application_settings
        TLS_Ext_Unknown(type=0xFE0D, val=ech_grease),  # encrypted_client_hello (GREASE)
        TLS_Ext_Unknown(type=grease[3], val=b"\x00"),
    ]
    ciphers = [
        grease[0],
        0x1301,
        0x1302,
        0x1303,
        0xC02B,
        0xC02F,
        0xC02C,
        0xC030,
        0xCCA9,
        0xCCA8,
        0xC013,
        0xC014,
        0x009C,
        0x009D,
        0x002F,
        0x0035,
    ]
    return hello_record(rng, ciphers, ext)


def native_hello(rng: random.Random, sni: str, alpn: Sequence[str]) -> bytes:
    """An OpenSSL-style ClientHello (the desktop client's own HTTP stack): X25519 only."""
    ext = [
        sni_ext(sni),
        TLS_Ext_SupportedPointFormat(ecpl=[0, 1, 2]),
        TLS_Ext_SupportedGroups(groups=[X25519, SECP256R1, X448, SECP521R1, SECP384R1]),
        TLS_Ext_SessionTicket(),
        *optional_alpn(alpn),
        TLS_Ext_EncryptThenMAC(),
        TLS_Ext_ExtendedMasterSecret(),
        TLS_Ext_SignatureAlgorithms(
            sig_algs=[
                0x0403,
                0x0503,
                0x0603,
                0x0807,
                0x0808,
                0x0804,
                0x0805,
                0x0806,
                0x0401,
                0x0501,
                0x0601,
            ]
        ),
        TLS_Ext_SupportedVersion_CH(versions=[0x0304, 0x0303]),
        TLS_Ext_PSKKeyExchangeModes(kxmodes=[1]),
        TLS_Ext_KeyShare_CH(
            client_shares=[KeyShareEntry(group=X25519, key_exchange=rng.randbytes(32))]
        ),
    ]
    ciphers = [
        0x1302,
        0x1303,
        0x1301,
        0xC02C,
        0xC030,
        0xCCA9,
        0xCCA8,
        0xC02B,
        0xC02F,
        0xC024,
        0xC028,
        0xC023,
        0xC027,
        0x009D,
        0x009C,
        0x003D,
        0x003C,
        0x0035,
        0x002F,
    ]
    return hello_record(rng, ciphers, ext)


def server_first_flight(
    rng: random.Random, client_hello: bytes, post_quantum: bool, encrypted_size: int
) -> bytes:
    """ServerHello (TLS 1.3), ChangeCipherSpec, then the encrypted EE/Certificate/Finished."""
    sid = client_hello[5 + 4 + 2 + 32 + 1 : 5 + 4 + 2 + 32 + 1 + 32]
    group, size = (X25519MLKEM768, MLKEM768_X25519_SERVER_SHARE) if post_quantum else (X25519, 32)
    hello = TLS13ServerHello(
        version=0x0303,
        random_bytes=rng.randbytes(32),
        sid=sid,
        cipher=TLS_AES_128_GCM_SHA256,
        ext=[
            TLS_Ext_SupportedVersion_SH(version=0x0304),
            TLS_Ext_KeyShare_SH(
                server_share=KeyShareEntry(group=group, key_exchange=rng.randbytes(size))
            ),
        ],
    )
    server_hello = bytes(TLS(type=REC_HANDSHAKE, version=0x0303, msg=[hello]))
    return server_hello + CHANGE_CIPHER_SPEC + app_data(rng, encrypted_size)


@dataclass(frozen=True)
class TlsPlan:
    """What one TLS connection does after the handshake.

    `exchanges` are (seconds after the previous step, request bytes, response bytes);
    `close_after` is the pause before the client's FIN, or None to leave the connection open.
    """

    sni: str
    alpn: tuple[str, ...] = ("h2", "http/1.1")
    chromium: bool = False
    post_quantum: bool = False
    cert_flight: int = 3400
    exchanges: tuple[tuple[float, int, int], ...] = ((0.0, 480, 2200),)
    close_after: float | None = 0.8


def run_tls(flow: TcpFlow, t: float, plan: TlsPlan) -> float:
    """Handshake, the plan's exchanges and (optionally) the close; returns the end time."""
    rng = flow.rng
    if plan.chromium:
        hello = chromium_hello(rng, plan.sni, plan.alpn, plan.post_quantum)
    else:
        hello = native_hello(rng, plan.sni, plan.alpn)
    t = flow.open(t)
    flight = server_first_flight(rng, hello, plan.post_quantum, plan.cert_flight)
    t = flow.exchange(t + 0.0003, hello, flight, think=0.0035)
    finished = CHANGE_CIPHER_SPEC + app_data(rng, FINISHED_RECORD_LEN)
    tickets = app_data(rng, 233) + app_data(rng, 233)
    for index, (pause, request, response) in enumerate(plan.exchanges):
        prefix, reply_prefix = (finished, tickets) if index == 0 else (b"", b"")
        reply = reply_prefix + (app_data(rng, response) if response else b"")
        t = flow.exchange(t + 0.0004 + pause, prefix + app_data(rng, request), reply)
    if plan.close_after is not None:
        t = flow.close(t + plan.close_after)
    return t


# --------------------------------------------------------------------------------------------
# DNS
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the resolver returns for one name: CNAME chain, then addresses."""

    name: str
    cnames: tuple[str, ...] = ()
    v4: tuple[str, ...] = ()
    v6: tuple[str, ...] = ()
    ttl: int = 300
    zone: str = ""

    def records(self, qtype: str) -> list[Packet]:
        owner, out = self.name, list[Packet]()
        for target in self.cnames:
            out.append(DNSRR(rrname=owner, type="CNAME", ttl=self.ttl, rdata=target))
            owner = target
        for addr in self.v4 if qtype == "A" else self.v6:
            out.append(DNSRR(rrname=owner, type=qtype, ttl=self.ttl, rdata=addr))
        return out

    def soa(self) -> Packet:
        """The negative-answer SOA for the zone of the last name in the chain."""
        zone = self.zone or ".".join((self.cnames or (self.name,))[-1].split(".")[-2:])
        return DNSRRSOA(
            rrname=zone,
            ttl=60,
            mname=f"ns1.{zone}",
            rname=f"hostmaster.{zone}",
            serial=2026110201,
            refresh=7200,
            retry=3600,
            expire=1209600,
            minimum=60,
        )


def dns_response(query: Packet, answer: Answer, qtype: str) -> Packet:
    records = answer.records(qtype)
    has_data = any(r.type != 5 for r in records)
    response = DNS(
        id=query.id,
        qr=1,
        rd=1,
        ra=1,
        qd=query.qd,
        an=records or None,
        ns=None if has_data else [answer.soa()],
        ar=query.ar,
    )
    compressed: Packet = response.compress()
    return compressed


@dataclass
class Resolver:
    """The client's stub lookups (A and AAAA, separate random ports) and the resolver's answers."""

    cap: Capture
    link: Link
    client_addr: str
    client_ttl: int
    server_addr: str
    server_ttl: int
    rng: random.Random
    edns: bool = False

    def lookup(
        self,
        t: float,
        answer: Answer,
        latency: float = 0.012,
        qtypes: tuple[str, ...] = ("A", "AAAA"),
    ) -> float:
        """Queries at `t`, answers `latency` later; returns the time of the last answer."""
        end = t
        for offset, qtype in enumerate(qtypes):
            flow = UdpFlow(
                self.cap,
                self.link,
                new_peer(self.client_addr, self.client_ttl, self.rng),
                new_peer(self.server_addr, self.server_ttl, self.rng),
                self.rng.randrange(49152, 65536),
                53,
            )
            extra = [DNSRROPT(rclass=1232)] if self.edns else None
            query = DNS(
                id=self.rng.randrange(0x10000),
                rd=1,
                qd=[DNSQR(qname=answer.name, qtype=qtype)],
                ar=extra,
            )
            sent = t + offset * 0.00021
            flow.up(sent, query)
            answered = sent + latency + self.rng.uniform(0.0, 0.004)
            flow.down(answered, dns_response(query, answer, qtype))
            end = max(end, answered)
        return end


# --------------------------------------------------------------------------------------------
# Plain HTTP: an OCSP request and response (valid DER with random hashes and signature)
# --------------------------------------------------------------------------------------------


def der(tag: int, content: bytes) -> bytes:
    """One DER TLV."""
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


OID_SHA1 = bytes.fromhex("06052b0e03021a")
OID_SHA256_RSA = bytes.fromhex("06092a864886f70d01010b")
OID_OCSP_BASIC = bytes.fromhex("06092b0601050507300101")
DER_NULL = b"\x05\x00"


def generalized_time(moment: datetime) -> bytes:
    return der(0x18, moment.strftime("%Y%m%d%H%M%SZ").encode())


def ocsp_cert_id(rng: random.Random) -> bytes:
    """CertID: SHA-1 issuer name/key hashes and a positive 16-byte serial number."""
    serial = bytearray(rng.randbytes(16))
    serial[0] = (serial[0] & 0x7F) or 0x01
    return der(
        0x30,
        der(0x30, OID_SHA1 + DER_NULL)
        + der(0x04, rng.randbytes(20))
        + der(0x04, rng.randbytes(20))
        + der(0x02, bytes(serial)),
    )


def ocsp_request(cert_id: bytes) -> bytes:
    return der(0x30, der(0x30, der(0x30, der(0x30, cert_id))))


def ocsp_response(rng: random.Random, cert_id: bytes, produced: datetime) -> bytes:
    """A successful OCSPResponse with one `good` SingleResponse, signed with random bytes."""
    single = der(
        0x30,
        cert_id
        + b"\x80\x00"
        + generalized_time(produced)
        + der(0xA0, generalized_time(produced + timedelta(days=7))),
    )
    tbs = der(
        0x30,
        der(0xA2, der(0x04, rng.randbytes(20))) + generalized_time(produced) + der(0x30, single),
    )
    basic = der(
        0x30, tbs + der(0x30, OID_SHA256_RSA + DER_NULL) + der(0x03, b"\x00" + rng.randbytes(256))
    )
    response_bytes = der(0x30, OID_OCSP_BASIC + der(0x04, basic))
    return der(0x30, der(0x0A, b"\x00") + der(0xA0, response_bytes))


def http_ocsp_post(host: str, body: bytes) -> bytes:
    head = (
        "POST / HTTP/1.1\r\n"
        "Cache-Control: no-cache\r\n"
        "Connection: Keep-Alive\r\n"
        "Pragma: no-cache\r\n"
        "Content-Type: application/ocsp-request\r\n"
        "Accept: */*\r\n"
        "User-Agent: Microsoft-CryptoAPI/10.0\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Host: {host}\r\n"
        "\r\n"
    )
    return head.encode() + body


def http_ocsp_ok(body: bytes, date: datetime) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Accept-Ranges: bytes\r\n"
        "Age: 2961\r\n"
        "Cache-Control: max-age=169603\r\n"
        f"Date: {format_datetime(date, usegmt=True)}\r\n"
        "Content-Type: application/ocsp-response\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode() + body


# --------------------------------------------------------------------------------------------
# STUN and RTP-like media
# --------------------------------------------------------------------------------------------


def stun_message(msg_type: int, txid: bytes, attrs: bytes = b"") -> bytes:
    """An RFC 5389 message with a FINGERPRINT attribute (CRC-32 xor 0x5354554e)."""
    head = struct.pack("!HHI", msg_type, len(attrs) + 8, STUN_MAGIC) + txid
    crc = (zlib.crc32(head + attrs) ^ 0x5354554E) & 0xFFFFFFFF
    return head + attrs + struct.pack("!HHI", 0x8028, 4, crc)


def xor_mapped_address(addr: str, port: int) -> bytes:
    xaddr = int.from_bytes(bytes(int(x) for x in addr.split(".")), "big") ^ STUN_MAGIC
    return struct.pack("!HHBBHI", 0x0020, 8, 0, 1, port ^ (STUN_MAGIC >> 16), xaddr)


def stun_binding(flow: UdpFlow, t: float, mapped: tuple[str, int], rtt: float) -> float:
    """Binding Request from the client, Binding Success Response from the server."""
    txid = rng_for(f"stun/{flow.server.addr}/{flow.cport}").randbytes(12)
    flow.up(t, stun_message(0x0001, txid))
    flow.down(t + rtt, stun_message(0x0101, txid, xor_mapped_address(*mapped)))
    return t + rtt


def rtp(pt: int, seq: int, timestamp: int, ssrc: int, marker: bool, payload: bytes) -> bytes:
    """A 12-byte RTP header (version 2, no CSRCs) and payload."""
    second = (0x80 if marker else 0) | pt
    return struct.pack("!BBHII", 0x80, second, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc) + payload


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
            out.append(
                (
                    t + part * 0.0002,
                    rtp(stream.pt, seq, ts, stream.ssrc, part == count - 1, payload),
                )
            )
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
    """Media both ways on `flow`; returns how many packets were added."""
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


# --------------------------------------------------------------------------------------------
# LAN chatter (Zoom sample)
# --------------------------------------------------------------------------------------------


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def build_arp(cap: Capture) -> None:
    """Laptop resolves the router; later the router re-checks the laptop."""
    who_has = ARP(op=1, hwsrc=LAPTOP_MAC, psrc=LAPTOP_V4, hwdst="00:00:00:00:00:00", pdst=ROUTER_V4)
    cap.add(0.0, Ether(src=LAPTOP_MAC, dst="ff:ff:ff:ff:ff:ff") / who_has)
    reply = ARP(op=2, hwsrc=ROUTER_MAC, psrc=ROUTER_V4, hwdst=LAPTOP_MAC, pdst=LAPTOP_V4)
    cap.add(0.00142, pad_short_frame(Ether(src=ROUTER_MAC, dst=LAPTOP_MAC) / reply))
    probe = ARP(op=1, hwsrc=ROUTER_MAC, psrc=ROUTER_V4, hwdst="00:00:00:00:00:00", pdst=LAPTOP_V4)
    cap.add(27.41873, pad_short_frame(Ether(src=ROUTER_MAC, dst=LAPTOP_MAC) / probe))
    answer = ARP(op=2, hwsrc=LAPTOP_MAC, psrc=LAPTOP_V4, hwdst=ROUTER_MAC, pdst=ROUTER_V4)
    cap.add(27.41891, Ether(src=LAPTOP_MAC, dst=ROUTER_MAC) / answer)
    gratuitous = ARP(
        op=1,
        hwsrc=CHROMECAST_MAC,
        psrc=CHROMECAST_V4,
        hwdst="00:00:00:00:00:00",
        pdst=CHROMECAST_V4,
    )
    cap.add(
        41.20577, pad_short_frame(Ether(src=CHROMECAST_MAC, dst="ff:ff:ff:ff:ff:ff") / gratuitous)
    )


def build_dhcp(cap: Capture, rng: random.Random) -> None:
    """DHCPREQUEST (INIT-REBOOT, broadcast) and the router's DHCPACK."""
    xid = rng.getrandbits(32)
    chaddr = mac_bytes(LAPTOP_MAC) + b"\x00" * 10
    request = BOOTP(op=1, xid=xid, chaddr=chaddr) / DHCP(
        options=[
            ("message-type", "request"),
            ("client_id", b"\x01" + mac_bytes(LAPTOP_MAC)),
            ("requested_addr", LAPTOP_V4),
            ("hostname", b"LAPTOP-7KQ2M4"),
            ("param_req_list", [1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252]),
            "end",
        ]
    )
    cap.add(
        0.05105,
        Ether(src=LAPTOP_MAC, dst="ff:ff:ff:ff:ff:ff")
        / IP(src="0.0.0.0", dst="255.255.255.255", ttl=128, id=rng.randrange(0x10000))
        / UDP(sport=68, dport=67)
        / request,
    )
    ack = BOOTP(op=2, xid=xid, yiaddr=LAPTOP_V4, chaddr=chaddr) / DHCP(
        options=[
            ("message-type", "ack"),
            ("server_id", ROUTER_V4),
            ("lease_time", 86400),
            ("renewal_time", 43200),
            ("rebinding_time", 75600),
            ("subnet_mask", "255.255.255.0"),
            ("broadcast_address", "192.168.1.255"),
            ("router", ROUTER_V4),
            ("name_server", ROUTER_V4),
            ("domain", b"lan"),
            "end",
        ]
    )
    cap.add(
        0.06322,
        Ether(src=ROUTER_MAC, dst=LAPTOP_MAC)
        / IP(src=ROUTER_V4, dst=LAPTOP_V4, ttl=64, id=rng.randrange(0x10000))
        / UDP(sport=67, dport=68)
        / ack,
    )


def build_ipv6_discovery(cap: Capture) -> None:
    """Router solicitation/advertisement, then neighbour solicitation/advertisement."""
    rs = (
        Ether(src=LAPTOP_MAC, dst="33:33:00:00:00:02")
        / IPv6(src=LAPTOP_LL, dst="ff02::2", hlim=255)
        / ICMPv6ND_RS()
        / ICMPv6NDOptSrcLLAddr(lladdr=LAPTOP_MAC)
    )
    cap.add(0.30218, rs)
    ra = (
        Ether(src=ROUTER_MAC, dst="33:33:00:00:00:01")
        / IPv6(src=ROUTER_LL, dst="ff02::1", hlim=255)
        / ICMPv6ND_RA(chlim=64, routerlifetime=1800)
        / ICMPv6NDOptSrcLLAddr(lladdr=ROUTER_MAC)
        / ICMPv6NDOptMTU(mtu=1500)
        / ICMPv6NDOptPrefixInfo(
            prefix="2001:db8:1:1::",
            prefixlen=64,
            L=1,
            A=1,
            validlifetime=86400,
            preferredlifetime=14400,
        )
    )
    cap.add(0.31077, ra)
    ns = (
        Ether(src=LAPTOP_MAC, dst="33:33:ff:00:00:01")
        / IPv6(src=LAPTOP_LL, dst="ff02::1:ff00:1", hlim=255)
        / ICMPv6ND_NS(tgt=ROUTER_LL)
        / ICMPv6NDOptSrcLLAddr(lladdr=LAPTOP_MAC)
    )
    cap.add(0.31502, ns)
    na = (
        Ether(src=ROUTER_MAC, dst=LAPTOP_MAC)
        / IPv6(src=ROUTER_LL, dst=LAPTOP_LL, hlim=255)
        / ICMPv6ND_NA(tgt=ROUTER_LL, R=1, S=1, O=1)
        / ICMPv6NDOptDstLLAddr(lladdr=ROUTER_MAC)
    )
    cap.add(0.31561, na)


def build_ping(cap: Capture, rng: random.Random) -> None:
    """Two Windows-style echo requests to the router (32-byte alphabet payload) and replies."""
    payload = b"abcdefghijklmnopqrstuvwabcdefghi"
    link = EtherLink(LAPTOP_MAC, ROUTER_MAC)
    laptop, router = new_peer(LAPTOP_V4, 128, rng), new_peer(ROUTER_V4, 64, rng)
    for n, t in enumerate((0.52031, 1.52377), start=1):
        cap.add(
            t,
            link.frame(laptop.ip(ROUTER_V4, df=False) / ICMP(type=8, id=1, seq=n) / payload, True),
        )
        cap.add(
            t + 0.00087,
            link.frame(router.ip(LAPTOP_V4, df=False) / ICMP(type=0, id=1, seq=n) / payload, False),
        )


def build_mdns(cap: Capture, rng: random.Random) -> None:
    """The laptop asks for Cast devices; a Chromecast on the LAN answers (all multicast)."""
    query = DNS(id=0, qd=[DNSQR(qname="_googlecast._tcp.local", qtype="PTR")])
    cap.add(
        0.70412,
        Ether(src=LAPTOP_MAC, dst="01:00:5e:00:00:fb")
        / IP(src=LAPTOP_V4, dst="224.0.0.251", ttl=255, id=rng.randrange(0x10000))
        / UDP(sport=5353, dport=5353)
        / query,
    )
    instance = "Chromecast-6c21a0b3e5f94d7a._googlecast._tcp.local"
    target = "6c21a0b3-e5f9-4d7a-8c1e-2b9f03d4a5e7.local"
    txt = [b"id=6c21a0b3e5f94d7a", b"md=Chromecast", b"fn=Living Room TV", b"rs="]
    answer = DNS(
        id=0,
        qr=1,
        aa=1,
        qd=[],
        an=[DNSRR(rrname="_googlecast._tcp.local", type="PTR", ttl=120, rdata=instance)],
        ar=[
            DNSRR(rrname=instance, type="TXT", rclass=0x8001, ttl=4500, rdata=txt),
            DNSRRSRV(rrname=instance, rclass=0x8001, ttl=120, port=8009, target=target),
            DNSRR(rrname=target, type="A", rclass=0x8001, ttl=120, rdata=CHROMECAST_V4),
        ],
    )
    cap.add(
        0.71866,
        Ether(src=CHROMECAST_MAC, dst="01:00:5e:00:00:fb")
        / IP(src=CHROMECAST_V4, dst="224.0.0.251", ttl=255, id=rng.randrange(0x10000))
        / UDP(sport=5353, dport=5353)
        / answer.compress(),
    )


def build_ssdp(cap: Capture, rng: random.Random) -> None:
    """Two SSDP M-SEARCHes for DIAL devices and the Chromecast's unicast reply."""
    search = (
        b"M-SEARCH * HTTP/1.1\r\n"
        b"HOST: 239.255.255.250:1900\r\n"
        b'MAN: "ssdp:discover"\r\n'
        b"MX: 1\r\n"
        b"ST: urn:dial-multiscreen-org:service:dial:1\r\n"
        b"USER-AGENT: Microsoft Edge/131.0 Windows\r\n"
        b"\r\n"
    )
    port = 54017
    for t in (0.80115, 0.90204):
        cap.add(
            t,
            Ether(src=LAPTOP_MAC, dst="01:00:5e:7f:ff:fa")
            / IP(src=LAPTOP_V4, dst="239.255.255.250", ttl=1, id=rng.randrange(0x10000))
            / UDP(sport=port, dport=1900)
            / search,
        )
    reply = (
        "HTTP/1.1 200 OK\r\n"
        "CACHE-CONTROL: max-age=1800\r\n"
        f"LOCATION: http://{CHROMECAST_V4}:8008/ssdp/device-desc.xml\r\n"
        "EXT:\r\n"
        "SERVER: Linux/3.8.13+, UPnP/1.0, Portable SDK for UPnP devices/1.6.18\r\n"
        "ST: urn:dial-multiscreen-org:service:dial:1\r\n"
        "USN: uuid:6c21a0b3-e5f9-4d7a-8c1e-2b9f03d4a5e7"
        "::urn:dial-multiscreen-org:service:dial:1\r\n"
        "\r\n"
    ).encode()
    cap.add(
        1.17342,
        Ether(src=CHROMECAST_MAC, dst=LAPTOP_MAC)
        / IP(src=CHROMECAST_V4, dst=LAPTOP_V4, ttl=64, id=rng.randrange(0x10000))
        / UDP(sport=1900, dport=port)
        / reply,
    )


def build_netbios(cap: Capture, rng: random.Random) -> None:
    """Windows' broadcast NetBIOS name query for WPAD, sent three times, unanswered."""
    trn_id = rng.randrange(0x10000)
    for t in (0.91133, 1.66152, 2.41170):
        query = NBNSHeader(NAME_TRN_ID=trn_id, NM_FLAGS=0x11) / NBNSQueryRequest(
            QUESTION_NAME="WPAD"
        )
        cap.add(
            t,
            Ether(src=LAPTOP_MAC, dst="ff:ff:ff:ff:ff:ff")
            / IP(src=LAPTOP_V4, dst="192.168.1.255", ttl=128, id=rng.randrange(0x10000))
            / UDP(sport=137, dport=137)
            / query,
        )


def build_lan_noise(cap: Capture) -> None:
    """Everything local: ARP, DHCP, IPv6 discovery, ping, mDNS, SSDP, NetBIOS."""
    build_arp(cap)
    build_dhcp(cap, rng_for("dhcp"))
    build_ipv6_discovery(cap)
    build_ping(cap, rng_for("ping"))
    build_mdns(cap, rng_for("mdns"))
    build_ssdp(cap, rng_for("ssdp"))
    build_netbios(cap, rng_for("netbios"))


# --------------------------------------------------------------------------------------------
# The Zoom call
# --------------------------------------------------------------------------------------------


@dataclass
class Laptop:
    """The Zoom sample's client: its link, resolver and ephemeral port allocator."""

    cap: Capture
    link: EtherLink
    resolver: Resolver
    next_port: int = 50713

    def port(self) -> int:
        self.next_port += 1
        return self.next_port

    def tls(
        self, t: float, server: str, server_ttl: int, rtt: float, plan: TlsPlan, port: int = 443
    ) -> float:
        """A TLS connection from this laptop (over IPv6 when `server` is IPv6)."""
        rng = rng_for(f"tls/{plan.sni}/{server}/{port}")
        client = LAPTOP_V6 if ":" in server else LAPTOP_V4
        flow = TcpFlow(
            self.cap,
            self.link,
            new_peer(client, 128, rng),
            new_peer(server, server_ttl, rng),
            self.port(),
            port,
            rtt,
            rng,
        )
        return run_tls(flow, t, plan)


def new_laptop(cap: Capture) -> Laptop:
    link = EtherLink(LAPTOP_MAC, ROUTER_MAC)
    resolver = Resolver(cap, link, LAPTOP_V4, 128, ROUTER_V4, 64, rng_for("dns/laptop"))
    return Laptop(cap, link, resolver)


ZOOM_ANSWERS = {
    "zoom.us": Answer("zoom.us", v4=(ZOOM_WEB_V4,), v6=(ZOOM_WEB_V6,), ttl=60),
    "us05web.zoom.us": Answer("us05web.zoom.us", v4=(ZOOM_US05WEB,), ttl=60),
    "log.zoom.us": Answer("log.zoom.us", v4=(ZOOM_LOG,), ttl=60),
    "zoomfrn169mmr.zoom.us": Answer("zoomfrn169mmr.zoom.us", v4=(ZOOM_MMR_MEDIA,), ttl=60),
    "www.zoom.us": Answer("www.zoom.us", v4=(ZOOM_WEB_V4,), ttl=60),
    "www.googletagmanager.com": Answer(
        "www.googletagmanager.com",
        cnames=("www-googletagmanager.l.google.com",),
        v4=(GTM_V4,),
        ttl=283,
    ),
    "graph.facebook.com": Answer(
        "graph.facebook.com", cnames=("star.c10r.facebook.com",), v4=(FACEBOOK_V4,), ttl=1731
    ),
    "ocsp.digicert.com": Answer(
        "ocsp.digicert.com",
        cnames=("ocsp.edge.digicert.com", "fp2e7a.wpc.phicdn.net"),
        v4=(DIGICERT_V4,),
        ttl=1855,
    ),
    "updates.example.net": Answer("updates.example.net", v4=(UNKNOWN_V4,), ttl=3600),
}


def build_zoom_web(laptop: Laptop) -> None:
    """Sign-in and web API traffic: zoom.us over IPv6 and IPv4, us05web (post-quantum hello)."""
    resolve = laptop.resolver.lookup
    t = resolve(1.00214, ZOOM_ANSWERS["zoom.us"])
    laptop.tls(
        t + 0.0011,
        ZOOM_WEB_V6,
        55,
        0.0198,
        TlsPlan(
            sni="zoom.us",
            cert_flight=4120,
            exchanges=((0.0, 612, 7400), (0.35, 914, 1830)),
            close_after=1.1,
        ),
    )
    long_lived = tuple((14.2, 180, 420) for _ in range(4))
    laptop.tls(
        t + 0.0823,
        ZOOM_WEB_V4,
        53,
        0.0211,
        TlsPlan(
            sni="zoom.us",
            alpn=("http/1.1",),
            cert_flight=4120,
            exchanges=((0.0, 530, 1260), *long_lived),
            close_after=0.5,
        ),
    )
    t = resolve(1.40127, ZOOM_ANSWERS["us05web.zoom.us"])
    laptop.tls(
        t + 0.0009,
        ZOOM_US05WEB,
        53,
        0.0207,
        TlsPlan(
            sni="us05web.zoom.us",
            chromium=True,
            post_quantum=True,
            cert_flight=3980,
            exchanges=((0.0, 1460, 5200), (0.21, 740, 2900), (0.9, 1210, 880)),
            close_after=2.2,
        ),
    )
    t = resolve(35.21077, ZOOM_ANSWERS["www.zoom.us"])
    laptop.tls(
        t + 0.0012,
        ZOOM_WEB_V4,
        53,
        0.0209,
        TlsPlan(
            sni="www.zoom.us",
            chromium=True,
            cert_flight=4120,
            exchanges=((0.0, 690, 14200), (0.12, 540, 3100)),
            close_after=1.4,
        ),
    )


def build_ocsp(laptop: Laptop) -> None:
    """Certificate-status check over plain HTTP to ocsp.digicert.com."""
    t = laptop.resolver.lookup(1.58822, ZOOM_ANSWERS["ocsp.digicert.com"])
    rng = rng_for("ocsp")
    flow = TcpFlow(
        laptop.cap,
        laptop.link,
        new_peer(LAPTOP_V4, 128, rng),
        new_peer(DIGICERT_V4, 56, rng),
        laptop.port(),
        80,
        0.0124,
        rng,
    )
    t = flow.open(t + 0.0008)
    cert_id = ocsp_cert_id(rng)
    produced = START - timedelta(hours=5, minutes=18, seconds=57)
    request = http_ocsp_post("ocsp.digicert.com", ocsp_request(cert_id))
    response = http_ocsp_ok(ocsp_response(rng, cert_id, produced), START + timedelta(seconds=1))
    t = flow.exchange(t + 0.0002, request, response, think=0.0011)
    flow.close(t + 0.105)


def build_trackers(laptop: Laptop) -> None:
    """Client telemetry upload, Google Tag Manager and the Facebook app-events endpoint."""
    resolve = laptop.resolver.lookup
    t = resolve(2.50493, ZOOM_ANSWERS["log.zoom.us"])
    laptop.tls(
        t + 0.0010,
        ZOOM_LOG,
        53,
        0.0214,
        TlsPlan(
            sni="log.zoom.us",
            alpn=("http/1.1",),
            cert_flight=4120,
            exchanges=((0.0, 14820, 310), (0.4, 9310, 310)),
            close_after=0.6,
        ),
    )
    t = resolve(3.20118, ZOOM_ANSWERS["www.googletagmanager.com"])
    laptop.tls(
        t + 0.0008,
        GTM_V4,
        117,
        0.0118,
        TlsPlan(
            sni="www.googletagmanager.com",
            cert_flight=2640,
            exchanges=((0.0, 640, 24600),),
            close_after=1.9,
        ),
    )
    t = resolve(3.61574, ZOOM_ANSWERS["graph.facebook.com"])
    laptop.tls(
        t + 0.0009,
        FACEBOOK_V4,
        57,
        0.0152,
        TlsPlan(
            sni="graph.facebook.com",
            cert_flight=2980,
            exchanges=((0.0, 1420, 120), (3.1, 1180, 120)),
            close_after=0.5,
        ),
    )


def build_unknown_host(laptop: Laptop) -> None:
    """An update check to a host no catalog knows (documentation addresses)."""
    t = laptop.resolver.lookup(12.03355, ZOOM_ANSWERS["updates.example.net"], latency=0.041)
    laptop.tls(
        t + 0.0011,
        UNKNOWN_V4,
        49,
        0.0862,
        TlsPlan(
            sni="updates.example.net",
            alpn=("http/1.1",),
            cert_flight=2410,
            exchanges=((0.0, 350, 2400),),
            close_after=0.3,
        ),
    )


def build_mmr_signalling(laptop: Laptop) -> None:
    """TLS on port 8443 to a meeting server, by address (no DNS), open for the whole call."""
    keepalives = tuple((4.9, 85, 85) for _ in range(10))
    laptop.tls(
        4.05219,
        ZOOM_MMR_SIGNAL,
        55,
        0.0233,
        TlsPlan(
            sni="zoomfrn170mmr.zoom.us",
            alpn=(),
            cert_flight=3010,
            exchanges=((0.0, 410, 690), (0.2, 220, 1540), *keepalives),
            close_after=5.1,
        ),
        port=8443,
    )


# ~60/40 down/up: uplink audio every 80 ms, 2 video frames/s; downlink audio every 60 ms,
# 4 video frames/s with a 3-packet key frame every 10 s.
ZOOM_UP = (
    Stream(0x1A2B3C01, 111, 48000, 0.080, (120, 200)),
    Stream(0x1A2B3C02, 98, 90000, 0.500, (900, 1200), keyframe_every=20),
)
ZOOM_DOWN = (
    Stream(0x5E6F7001, 111, 48000, 0.060, (120, 200)),
    Stream(0x5E6F7002, 98, 90000, 0.250, (900, 1200), keyframe_every=40),
)


def build_zoom_media(cap: Capture, laptop: Laptop) -> None:
    """The meeting's media: STUN then RTP-like UDP to the MMR named only by DNS."""
    t = laptop.resolver.lookup(4.50342, ZOOM_ANSWERS["zoomfrn169mmr.zoom.us"])
    rng = rng_for("zoom/media")
    to_stun = UdpFlow(
        cap,
        laptop.link,
        new_peer(LAPTOP_V4, 128, rng),
        new_peer(ZOOM_MMR_MEDIA, 55, rng),
        52100,
        3478,
    )
    t = stun_binding(to_stun, t + 0.0006, (PUBLIC_V4, 52100), 0.0231)
    media = UdpFlow(
        cap, laptop.link, to_stun.client, new_peer(ZOOM_MMR_MEDIA, 55, rng), 52100, 8801
    )
    play_media(media, t + 0.4, 59.5, ZOOM_UP, ZOOM_DOWN, rng)


def build_unnamed_zoom_udp(cap: Capture, laptop: Laptop) -> None:
    """A second media-path probe to a Zoom address nobody names: no DNS, no SNI."""
    rng = rng_for("zoom/unnamed")
    flow = UdpFlow(
        cap,
        laptop.link,
        new_peer(LAPTOP_V4, 128, rng),
        new_peer(ZOOM_UNNAMED, 52, rng),
        52102,
        8801,
    )
    times = [4.61877 + 0.2 * i for i in range(4)] + [10.0 * k + 0.73 for k in range(1, 6)]
    for t in times:
        flow.up(t, b"\x05\x10" + rng.randbytes(rng.randint(58, 118)))
        flow.down(t + 0.0289, b"\x05\x11" + rng.randbytes(rng.randint(40, 96)))


def zoom_capture() -> Capture:
    """The whole Zoom desktop sample."""
    cap = Capture()
    laptop = new_laptop(cap)
    build_lan_noise(cap)
    build_zoom_web(laptop)
    build_ocsp(laptop)
    build_trackers(laptop)
    build_mmr_signalling(laptop)
    build_zoom_media(cap, laptop)
    build_unnamed_zoom_udp(cap, laptop)
    build_unknown_host(laptop)
    return cap


# --------------------------------------------------------------------------------------------
# The Teams sample (Linux, tcpdump -i any)
# --------------------------------------------------------------------------------------------


TEAMS_ANSWERS = {
    "teams.microsoft.com": Answer(
        "teams.microsoft.com",
        cnames=("teams-office-com.s-0005.dc-msedge.net", "s-0005.dc-msedge.net"),
        v4=(TEAMS_WEB,),
        ttl=242,
    ),
    "mobile.pipe.aria.microsoft.com": Answer(
        "mobile.pipe.aria.microsoft.com",
        cnames=(
            "mobile.events.data.trafficmanager.net",
            "onedscolprdeus15.eastus.cloudapp.azure.com",
        ),
        v4=(ARIA_V4,),
        ttl=35,
        zone="cloudapp.azure.com",
    ),
}

WLAN_IFINDEX = 3
LOOPBACK_IFINDEX = 1


def loopback_twice(cap: Capture, t: float, l3: Packet) -> None:
    """With `-i any`, a loopback packet is seen going out and coming back in."""
    for offset, pkttype in ((0.0, SLL_OUTGOING), (0.000004, SLL_HOST)):
        cap.add(
            t + offset, sll2(l3, LOOPBACK_IFINDEX, ARPHRD_LOOPBACK, pkttype, "00:00:00:00:00:00")
        )


def teams_stub_lookup(cap: Capture, upstream: Resolver, t: float, answer: Answer) -> float:
    """An app asks systemd-resolved (127.0.0.53) over loopback; it asks the router upstream."""
    rng = upstream.rng
    app_port = rng.randrange(32768, 61000)
    stub = new_peer("127.0.0.53", 64, rng)
    app = new_peer("127.0.0.1", 64, rng)
    queries = []
    for offset, qtype in enumerate(("A", "AAAA")):
        query = DNS(
            id=rng.randrange(0x10000),
            rd=1,
            qd=[DNSQR(qname=answer.name, qtype=qtype)],
            ar=[DNSRROPT(rclass=65494)],
        )
        queries.append(query)
        loopback_twice(
            cap,
            t + offset * 0.00006,
            app.ip("127.0.0.53", df=True) / UDP(sport=app_port, dport=53) / query,
        )
    end = upstream.lookup(t + 0.00031, answer, latency=0.0167)
    for offset, query in enumerate(queries):
        qtype = "A" if offset == 0 else "AAAA"
        reply = dns_response(query, answer, qtype)
        loopback_twice(
            cap,
            end + 0.00012 + offset * 0.00005,
            stub.ip("127.0.0.1", df=True) / UDP(sport=53, dport=app_port) / reply,
        )
    return end + 0.0003


def teams_tls(
    cap: Capture, link: CookedLink, t: float, server: str, rtt: float, port: int, plan: TlsPlan
) -> float:
    rng = rng_for(f"teams/tls/{plan.sni}")
    flow = TcpFlow(
        cap,
        link,
        new_peer(LINUX_V4, 64, rng),
        new_peer(server, 110, rng),
        port,
        443,
        rtt,
        rng,
        syn_options=linux_syn_options(rng.getrandbits(32)),
        client_window=502,
    )
    return run_tls(flow, t, plan)


TEAMS_UP = (Stream(0x2C4A9E11, 111, 48000, 0.080, (110, 180)),)
TEAMS_DOWN = (Stream(0x7B0D3F42, 111, 48000, 0.080, (110, 180)),)
TEAMS_VIDEO_UP = (Stream(0x2C4A9E12, 107, 90000, 0.500, (900, 1150)),)
TEAMS_VIDEO_DOWN = (Stream(0x7B0D3F43, 107, 90000, 0.250, (900, 1150)),)


def build_teams_media(cap: Capture, link: CookedLink) -> None:
    """STUN to the media relay, then audio (3479) and video (3480): addresses named by nothing."""
    rng = rng_for("teams/media")
    client = new_peer(LINUX_V4, 64, rng)
    stun = UdpFlow(cap, link, client, new_peer(TEAMS_MEDIA, 108, rng), 50012, 3478)
    t = stun_binding(stun, 1.20412, (PUBLIC_V4, 50012), 0.0274)
    audio = UdpFlow(cap, link, client, new_peer(TEAMS_MEDIA, 108, rng), 50012, 3479)
    play_media(audio, t + 0.1, 9.9, TEAMS_UP, TEAMS_DOWN, rng)
    video = UdpFlow(cap, link, client, new_peer(TEAMS_MEDIA, 108, rng), 50014, 3480)
    play_media(video, t + 0.3, 9.9, TEAMS_VIDEO_UP, TEAMS_VIDEO_DOWN, rng)


def build_teams_arp(cap: Capture) -> None:
    who_has = ARP(op=1, hwsrc=LINUX_MAC, psrc=LINUX_V4, hwdst="00:00:00:00:00:00", pdst=ROUTER_V4)
    cap.add(5.01733, sll2(who_has, WLAN_IFINDEX, ARPHRD_ETHER, SLL_OUTGOING, LINUX_MAC))
    reply = ARP(op=2, hwsrc=LINUX_ROUTER_MAC, psrc=ROUTER_V4, hwdst=LINUX_MAC, pdst=LINUX_V4)
    cap.add(5.01902, sll2(reply, WLAN_IFINDEX, ARPHRD_ETHER, SLL_HOST, LINUX_ROUTER_MAC))


def teams_capture() -> Capture:
    """The whole Teams sample."""
    cap = Capture()
    link = CookedLink(WLAN_IFINDEX, LINUX_MAC, LINUX_ROUTER_MAC)
    upstream = Resolver(cap, link, LINUX_V4, 64, ROUTER_V4, 64, rng_for("teams/dns"), edns=True)
    t = teams_stub_lookup(cap, upstream, 0.01107, TEAMS_ANSWERS["teams.microsoft.com"])
    teams_tls(
        cap,
        link,
        t + 0.0004,
        TEAMS_WEB,
        0.0241,
        41876,
        TlsPlan(
            sni="teams.microsoft.com",
            chromium=True,
            cert_flight=5230,
            exchanges=((0.0, 1380, 6100), (0.4, 920, 2300), (6.5, 640, 380)),
            close_after=None,
        ),
    )
    t = teams_stub_lookup(cap, upstream, 0.61542, TEAMS_ANSWERS["mobile.pipe.aria.microsoft.com"])
    teams_tls(
        cap,
        link,
        t + 0.0004,
        ARIA_V4,
        0.0817,
        48220,
        TlsPlan(
            sni="mobile.pipe.aria.microsoft.com",
            alpn=("http/1.1",),
            chromium=True,
            cert_flight=4870,
            exchanges=((0.0, 3120, 210),),
            close_after=0.25,
        ),
    )
    build_teams_media(cap, link)
    build_teams_arp(cap)
    return cap


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------


def write_pcapng(path: Path, frames: list[tuple[int, bytes]]) -> None:
    """SHB + one Ethernet IDB + EPBs with µs timestamps (scapy adds no options)."""
    writer = PcapNgWriter(str(path))
    writer.linktype = LINKTYPE_ETHERNET
    writer.write_header(None)
    for t_us, raw in frames:
        # A Decimal keeps the µs exact: the writer stores int(sec * 1_000_000).
        exact = Decimal(EPOCH) + Decimal(t_us) / Decimal(1_000_000)
        writer.write_packet(raw, sec=exact)  # type: ignore[arg-type]
    writer.close()


def write_pcap(path: Path, frames: list[tuple[int, bytes]], linktype: int) -> None:
    """Classic little-endian pcap, µs timestamps, tcpdump's default snap length."""
    writer = RawPcapWriter(str(path), linktype=linktype, endianness="<", snaplen=SNAPLEN)
    writer.write_header(None)
    for t_us, raw in frames:
        writer.write_packet(raw, sec=EPOCH + t_us // 1_000_000, usec=t_us % 1_000_000)
    writer.close()


def generate(out_dir: Path) -> dict[str, int]:
    """Write both samples into `out_dir`; returns packets written per file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    zoom = zoom_capture().in_time_order()
    write_pcapng(out_dir / ZOOM_FILE, zoom)
    teams = teams_capture().in_time_order()
    write_pcap(out_dir / TEAMS_FILE, teams, LINKTYPE_LINUX_SLL2)
    return {ZOOM_FILE: len(zoom), TEAMS_FILE: len(teams)}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="directory to write the captures to (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    for name, count in generate(args.out).items():
        path = args.out / name
        print(f"{path}: {count} packets, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()

"""Build the speed benchmark's large capture: one long video-conferencing session.

Run as ``python bench/make_capture.py OUT.pcap [--packets N] [--pcapng] [--seed S]``. It writes
exactly N packets (default 1,000,000; at least 2,000) of Ethernet frames and a manifest beside
the file (``OUT.pcap.manifest.json``): packets by kind, flows by transport and naming method.
`build_capture` also returns every flow vcaudit should report, with its name.

The mix models a call of about an hour from a laptop on a home LAN:

* UDP media (RTP-like) to Zoom-style media routers on 8801 and relays on 3478/3480/19302, each
  flow opened with STUN binding requests, and a few peer-to-peer flows with no DNS name; media
  is most of the packets. Every media flow is preceded by ICE probes to other relays.
* TCP TLS connections (ClientHellos with SNI and ALPN, about one in seven split over two
  segments, a ServerHello flight, encrypted records, FIN), some over IPv6, some long-lived
  signalling connections with keepalives for the whole call, and plain-HTTP OCSP requests.
* DNS lookups (A and AAAA from one socket) with CNAME chains and several addresses, NXDOMAIN
  answers, a few percent of the packets; the media and relay addresses are named only by them.
* QUIC connections whose client Initial is really encrypted (RFC 9001 keys from its DCID) and
  carries a ClientHello with SNI, then short-header packets.
* LAN noise: ARP, LLDP, mDNS, SSDP, pings.

Writing a million packets with scapy's layers would take many minutes, so payload templates
(DNS messages, TLS ClientHellos, ARP/LLDP frames) are built with scapy once and every frame is
assembled with `struct` (Ethernet, IPv4/IPv6, UDP/TCP headers; checksums are left zero).
Every random choice comes from `random.Random` seeded from the seed and a label, so the same
arguments give a byte-identical file. Generation runs at about 170k packets/s.
"""

from __future__ import annotations

import argparse
import heapq
import ipaddress
import itertools
import json
import random
import struct
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

GENERATOR_VERSION = 2
START_US = int(datetime(2026, 11, 2, 14, 0, tzinfo=UTC).timestamp()) * 1_000_000
SECOND = 1_000_000
MS = 1_000

Frame = tuple[int, bytes]  # (timestamp in microseconds, Ethernet frame)

# --- addresses ---------------------------------------------------------------------------------


def mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


@dataclass(frozen=True, slots=True)
class Host:
    ip: bytes
    mac: bytes

    @property
    def text(self) -> str:
        return str(ipaddress.ip_address(self.ip))


def host(addr: str, hw: str = "00:1a:2b:00:00:01") -> Host:
    return Host(ipaddress.ip_address(addr).packed, mac(hw))


GATEWAY_MAC = "a4:91:b1:0c:22:01"
LAPTOP = host("192.168.1.23", "3c:22:fb:7a:10:5e")
LAPTOP6 = host("2001:db8:4a1:10::23", "3c:22:fb:7a:10:5e")
GATEWAY = host("192.168.1.1", GATEWAY_MAC)  # also the DNS resolver
PRINTER = host("192.168.1.50", "00:80:77:31:0a:9c")
TV = host("192.168.1.61", "a8:23:fe:01:77:42")
PUBLIC_DNS = host("9.9.9.9", GATEWAY_MAC)
BROADCAST_MAC = b"\xff" * 6
MDNS_GROUP = Host(ipaddress.ip_address("224.0.0.251").packed, mac("01:00:5e:00:00:fb"))
SSDP_GROUP = Host(ipaddress.ip_address("239.255.255.250").packed, mac("01:00:5e:7f:ff:fa"))

# Sites reached over TLS or QUIC: name, CNAME chain behind it, IPv4 block, IPv6 prefix, weight.
TLS_SITES: list[tuple[str, tuple[str, ...], str, str | None, int]] = [
    ("zoom.us", (), "170.114.52", None, 6),
    ("us05web.zoom.us", ("us05web.zoom.us.cdn.cloudflare.net",), "170.114.10", None, 10),
    ("us05st1.zoom.us", (), "170.114.45", None, 4),
    ("us05log.zoom.us", ("us05log.zoom.us.edgekey.net", "e9876.dscb.akamaiedge.net"),
     "23.45.67", "2a02:26f0:6c00:1b3::", 3),
    ("api.zoom.us", (), "170.114.15", None, 3),
    ("us05xmpp.zoom.us", (), "170.114.44", None, 2),
    ("login.microsoftonline.com",
     ("login.mso.msidentity.com", "ak.privatelink.msidentity.com",
      "www.tm.ak.prd.aadg.trafficmanager.net"), "20.190.160", None, 2),
    ("www.google-analytics.com", ("www-google-analytics.l.google.com",), "142.250.185",
     "2a00:1450:4001:82b::", 3),
    ("o417096.ingest.sentry.io", (), "34.120.195", None, 2),
    ("api.segment.io", (), "54.186.221", None, 2),
    ("app.launchdarkly.com", ("app.launchdarkly.com.cdn.cloudflare.net",), "104.18.20", None, 1),
    ("graph.facebook.com", ("star.c10r.facebook.com",), "157.240.1",
     "2a03:2880:f10c:83:face:b00c::", 1),
    ("browser-intake-datadoghq.com",
     ("alb-logs-http-shard0-1234.us-east-1.elb.amazonaws.com",), "3.233.147", None, 1),
    ("clients4.google.com", ("clients.l.google.com",), "142.250.186", "2a00:1450:4001:830::", 1),
    ("api.amplitude.com", (), "52.37.1", None, 1),
    ("file.zoom.us", ("file.zoom.us.cdn.cloudflare.net",), "104.16.9", None, 1),
]
QUIC_SITES: list[tuple[str, tuple[str, ...], str, str | None, int]] = [
    ("www.google.com", (), "142.250.184", None, 3),
    ("meet.google.com", (), "142.250.74", None, 3),
    ("fonts.gstatic.com", ("gstatic.l.google.com",), "142.250.179", None, 2),
    ("www.youtube.com", ("youtube-ui.l.google.com",), "142.250.181", None, 1),
]
HTTP_SITES: list[tuple[str, tuple[str, ...], str, str | None, int]] = [
    ("ocsp.digicert.com", ("ocsp.edge.digicert.com", "fp2e7a.wpc.phicdn.net"), "192.229.211",
     None, 1),
]
# Names a browser tab and the OS look up while the call runs; some do not exist.
BACKGROUND_NAMES = [
    "www.wikipedia.org", "news.ycombinator.com", "slack.com", "wss-primary.slack.com",
    "github.com", "outlook.office.com", "teams.microsoft.com", "www.bing.com",
    "connectivity-check.ubuntu.com", "time.cloudflare.com", "update.googleapis.com",
    "safebrowsing.googleapis.com", "ocsp.pki.goog", "captive.apple.com", "docs.google.com",
    "calendar.google.com", "mail.google.com", "www.googletagmanager.com", "cdn.segment.com",
    "static.zoom.us", "zoom.com", "status.zoom.us", "support.zoom.com",
]
NXDOMAIN_NAMES = ["wpad.home", "printer.home", "isatap.home", "_ldap._tcp.home"]
MEDIA_PORTS = (8801, 8801, 8801, 3478, 3480, 19302)
# Media servers by port: address block and DNS name pattern.
MEDIA_SERVERS = {
    8801: ("144.195", "zoom{dc}{ip}mmr.{dc}.zoom.us"),
    3478: ("52.112", "{ip}.relay.teams.microsoft.com"),
    3480: ("52.112", "{ip}.relay.teams.microsoft.com"),
    19302: ("74.125", "{ip}.meetings.googleusercontent.com"),
}

# --- frame assembly ------------------------------------------------------------------------

_ETH = struct.Struct("!6s6sH")
_IP4 = struct.Struct("!BBHHHBBH4s4s")
_IP6 = struct.Struct("!IHBB16s16s")
_UDP = struct.Struct("!HHHH")
_TCP = struct.Struct("!HHIIBBHHH")
_RTP = struct.Struct("!BBHII")
_PCAP_RECORD = struct.Struct("<IIII")
TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10
SYN_OPTIONS = bytes.fromhex("020405b40402080a0000000000000000") + bytes.fromhex("01030307")


def ip_frame(src: Host, dst: Host, proto: int, l4: bytes, ident: int, ttl: int = 64) -> bytes:
    """Ethernet + IPv4 or IPv6 header + the given transport bytes (checksums zero)."""
    if len(src.ip) == 4:
        return b"".join((
            _ETH.pack(dst.mac, src.mac, 0x0800),
            _IP4.pack(0x45, 0, 20 + len(l4), ident & 0xFFFF, 0x4000, ttl, proto, 0, src.ip,
                      dst.ip),
            l4,
        ))
    return b"".join((
        _ETH.pack(dst.mac, src.mac, 0x86DD),
        _IP6.pack(0x60000000, len(l4), proto, ttl, src.ip, dst.ip),
        l4,
    ))


def udp_frame(src: Host, dst: Host, sport: int, dport: int, payload: bytes, ident: int,
              ttl: int = 64) -> bytes:
    return ip_frame(src, dst, 17, _UDP.pack(sport, dport, 8 + len(payload), 0) + payload,
                    ident, ttl)


class Noise:
    """A fixed buffer of random bytes; payloads are slices of it."""

    def __init__(self, rng: random.Random, size: int = 1 << 20) -> None:
        self.data = rng.randbytes(size)
        self.size = size

    def take(self, length: int, where: int) -> bytes:
        start = (where * 7919) % (self.size - length - 1)
        return self.data[start : start + length]


class Ports:
    """Ephemeral ports handed out in turn, as a client OS does."""

    def __init__(self, rng: random.Random) -> None:
        self.next = rng.randrange(32768, 60999)

    def take(self) -> int:
        port = self.next
        self.next = 32768 if port >= 60999 else port + 1
        return port


# --- payload templates (scapy, once) ---------------------------------------------------------


def tls_client_hello_record(rng: random.Random, name: str, alpn: tuple[str, ...],
                            quic: bool = False) -> bytes:
    """A TLS 1.3 ClientHello in a handshake record, built with scapy's TLS layer."""
    from scapy.layers.tls.extensions import (
        ProtocolName,
        ServerName,
        TLS_Ext_ALPN,
        TLS_Ext_ServerName,
        TLS_Ext_SignatureAlgorithms,
        TLS_Ext_SupportedGroups,
        TLS_Ext_SupportedVersion_CH,
        TLS_Ext_Unknown,
    )
    from scapy.layers.tls.handshake import TLSClientHello
    from scapy.layers.tls.keyexchange_tls13 import KeyShareEntry, TLS_Ext_KeyShare_CH
    from scapy.layers.tls.record import TLS

    ext = [
        TLS_Ext_ServerName(servernames=[ServerName(servername=name.encode())]),
        TLS_Ext_SupportedGroups(groups=[29, 23, 24]),
        TLS_Ext_SignatureAlgorithms(sig_algs=[0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501]),
        TLS_Ext_ALPN(protocols=[ProtocolName(protocol=p.encode()) for p in alpn]),
        TLS_Ext_SupportedVersion_CH(versions=[0x0304] if quic else [0x0304, 0x0303]),
        TLS_Ext_KeyShare_CH(client_shares=[KeyShareEntry(group=29,
                                                         key_exchange=rng.randbytes(32))]),
    ]
    if quic:  # quic_transport_parameters: initial_max_data and a source connection id
        ext.append(TLS_Ext_Unknown(type=0x39, val=bytes.fromhex("04048010000005048010000f00")))
    hello = TLSClientHello(
        version=0x0303, gmt_unix_time=rng.getrandbits(32), random_bytes=rng.randbytes(28),
        sid=b"" if quic else rng.randbytes(32),
        ciphers=[0x1301, 0x1302, 0x1303] if quic else [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F,
                                                      0xC02C, 0xC030, 0xCCA9, 0xCCA8],
        comp=[0], ext=ext,
    )
    return bytes(TLS(type=22, version=0x0301, msg=[hello]))


def dns_query(name: str, qtype: str) -> bytes:
    from scapy.layers.dns import DNS, DNSQR

    return bytes(DNS(id=0, rd=1, qd=[DNSQR(qname=name, qtype=qtype)]))


def dns_response(name: str, qtype: str, chain: tuple[str, ...], addresses: list[str],
                 ttl: int, rcode: int = 0) -> bytes:
    from scapy.layers.dns import DNS, DNSQR, DNSRR

    records = []
    owner = name
    for target in chain:
        records.append(DNSRR(rrname=owner, type="CNAME", rdata=target, ttl=ttl))
        owner = target
    for address in addresses:
        records.append(DNSRR(rrname=owner, type=qtype, rdata=address, ttl=ttl))
    return bytes(DNS(id=0, qr=1, rd=1, ra=1, rcode=rcode, qd=[DNSQR(qname=name, qtype=qtype)],
                     an=records))


def mdns_announcement(name: str, address: str) -> bytes:
    from scapy.layers.dns import DNS, DNSRR

    return bytes(DNS(id=0, qr=1, aa=1, qd=[],
                     an=[DNSRR(rrname=name, type="A", rdata=address, ttl=120, rclass=0x8001)]))


def arp_frame(src: Host, target_ip: bytes, reply_to: Host | None) -> bytes:
    from scapy.layers.l2 import ARP, Ether

    if reply_to is None:
        frame = Ether(src=src.mac, dst=BROADCAST_MAC) / ARP(
            op=1, hwsrc=src.mac, psrc=str(ipaddress.ip_address(src.ip)),
            pdst=str(ipaddress.ip_address(target_ip)))
    else:
        frame = Ether(src=src.mac, dst=reply_to.mac) / ARP(
            op=2, hwsrc=src.mac, psrc=str(ipaddress.ip_address(src.ip)), hwdst=reply_to.mac,
            pdst=str(ipaddress.ip_address(reply_to.ip)))
    return bytes(frame).ljust(60, b"\x00")


def lldp_frame() -> bytes:
    # chassis id, port id, TTL, end; sent by the home switch every 30 s
    tlvs = bytes.fromhex("020704a491b10c2201" "0403056574683100" "06020078" "0000")
    return _ETH.pack(mac("01:80:c2:00:00:0e"), mac(GATEWAY_MAC), 0x88CC) + tlvs.ljust(46, b"\0")


def stun(msg_type: int, txid: bytes, attrs: bytes) -> bytes:
    return struct.pack("!HHI", msg_type, len(attrs), 0x2112A442) + txid + attrs


STUN_REQUEST_ATTRS = (
    bytes.fromhex("0006000c") + b"a3f1:9c2e1b7d"[:12]  # USERNAME
    + bytes.fromhex("002400046e7f00ff")  # PRIORITY
    + bytes.fromhex("802a000801020304050607080008001400") + bytes(19)  # ICE-CONTROLLING, MI
    + bytes.fromhex("802800045ad1c3f1")  # FINGERPRINT
)


def xor_mapped(addr: Host, port: int) -> bytes:
    xport = port ^ 0x2112
    xaddr = bytes(a ^ b for a, b in zip(addr.ip, bytes.fromhex("2112a442"), strict=False))
    return struct.pack("!HHBBH", 0x0020, 8, 0, 1, xport) + xaddr


# --- QUIC v1 client Initial (RFC 9001), deterministic ------------------------------------------

QUIC_V1_SALT = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")


def _expand_label(secret: bytes, label: bytes, length: int) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

    full = b"tls13 " + label
    info = struct.pack("!HB", length, len(full)) + full + b"\x00"
    return HKDFExpand(hashes.SHA256(), length, info).derive(secret)


def quic_client_initial(dcid: bytes, scid: bytes, hello: bytes, size: int = 1250) -> bytes:
    """A QUIC v1 client Initial datagram of `size` bytes carrying `hello` in a CRYPTO frame."""
    from cryptography.hazmat.primitives import hashes, hmac
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    extract = hmac.HMAC(QUIC_V1_SALT, hashes.SHA256())
    extract.update(dcid)
    secret = _expand_label(extract.finalize(), b"client in", 32)
    key = _expand_label(secret, b"quic key", 16)
    iv = _expand_label(secret, b"quic iv", 12)
    hp = _expand_label(secret, b"quic hp", 16)
    packet_number = 0
    frames = b"\x06\x00" + struct.pack("!H", 0x4000 | len(hello)) + hello
    head = b"\xc3" + (1).to_bytes(4, "big") + bytes([len(dcid)]) + dcid + bytes([len(scid)])
    head += scid + b"\x00"  # no token
    overhead = len(head) + 2 + 4 + 16
    frames = frames.ljust(size - overhead, b"\x00")  # PADDING frames
    header = head + struct.pack("!H", 0x4000 | (4 + len(frames) + 16))
    header += packet_number.to_bytes(4, "big")
    nonce = bytes(a ^ b for a, b in zip(iv, packet_number.to_bytes(12, "big"), strict=True))
    sealed = AESGCM(key).encrypt(nonce, frames, header)
    encryptor = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()  # RFC 9001 5.4.3
    mask = encryptor.update(sealed[:16]) + encryptor.finalize()
    pn_at = len(header) - 4
    first = bytes([header[0] ^ (mask[0] & 0x0F)])
    number = bytes(a ^ b for a, b in zip(header[pn_at:], mask[1:5], strict=True))
    return first + header[1:pn_at] + number + sealed


# --- expected results --------------------------------------------------------------------------


@dataclass(slots=True)
class ExpectedFlow:
    """One flow as vcaudit should report it."""

    kind: str  # media, p2p, stun-probe, tls, http, quic, dns, noise
    transport: str
    client_ip: str
    client_port: int | None
    server_ip: str
    server_port: int | None
    ts_start: int  # microseconds
    host: str | None = None
    host_source: str = "none"


@dataclass(slots=True)
class Manifest:
    path: str
    file_format: str
    seed: int
    generator_version: int
    packets: int = 0
    duration_s: float = 0.0
    non_ip_frames: int = 0
    packets_by_kind: dict[str, int] = field(default_factory=dict)
    flows: list[ExpectedFlow] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The manifest without the per-flow list, with flow counts."""
        by_transport: dict[str, int] = {}
        by_source: dict[str, int] = {}
        by_kind: dict[str, int] = {}
        for flow in self.flows:
            by_transport[flow.transport] = by_transport.get(flow.transport, 0) + 1
            by_source[flow.host_source] = by_source.get(flow.host_source, 0) + 1
            by_kind[flow.kind] = by_kind.get(flow.kind, 0) + 1
        out = {k: v for k, v in asdict(self).items() if k != "flows"}
        out.update(flows=len(self.flows), flows_by_transport=dict(sorted(by_transport.items())),
                   flows_by_host_source=dict(sorted(by_source.items())),
                   flows_by_kind=dict(sorted(by_kind.items())))
        return out


# --- the session plan --------------------------------------------------------------------------


@dataclass(slots=True)
class Activity:
    start: int
    kind: str
    make: Callable[[], Iterator[Frame]]


class Session:
    """Plans every activity of the call, then merges their packets in time order."""

    def __init__(self, packets: int, seed: int) -> None:
        if packets < 2000:
            raise ValueError("the benchmark capture needs at least 2,000 packets")
        self.target = packets
        self.seed = seed
        self.rng = self._rng("plan")
        self.noise = Noise(self._rng("noise"))
        self.ports = Ports(self._rng("ports"))
        self.duration = max(60 * SECOND, packets * SECOND // 250)
        self.activities: list[Activity] = []
        self.flows: list[ExpectedFlow] = []
        self.answers: dict[str, list[tuple[int, str]]] = {}  # address -> (time, name asked)
        self.site_ips: dict[str, list[str]] = {}
        self.site_ip6: dict[str, list[str]] = {}
        self._used_ips: set[str] = set()
        self._hello_cache: dict[tuple[str, bool], bytes] = {}
        self._dns_cache: dict[tuple[Any, ...], tuple[bytes, bytes]] = {}
        self._media: list[dict[str, Any]] = []
        self._counter = 0

    def _rng(self, label: str) -> random.Random:
        return random.Random(f"vcaudit-bench:{self.seed}:{label}")

    def _next_rng(self, label: str) -> tuple[random.Random, str]:
        """A planning generator for one activity, and the seed label of its packet stream
        (each pass over the packets starts a fresh generator from it)."""
        self._counter += 1
        key = f"{label}:{self._counter}"
        return self._rng(key), f"vcaudit-bench:{self.seed}:{key}:frames"

    # --- addresses and names -------------------------------------------------------------

    def _new_ip(self, block: str) -> str:
        while True:
            if ":" in block:
                address = f"{block}{self.rng.randrange(1, 0xFFFF):x}"
            else:
                octets = [str(self.rng.randrange(0, 256)) for _ in range(2 - block.count("."))]
                address = ".".join([block, *octets, str(self.rng.randrange(2, 254))])
            if address not in self._used_ips:
                self._used_ips.add(address)
                return address

    def _site_addresses(self, sites: list[tuple[str, tuple[str, ...], str, str | None, int]]
                        ) -> None:
        for name, _chain, block, block6, _weight in sites:
            self.site_ips[name] = [self._new_ip(block) for _ in range(self.rng.randint(1, 4))]
            if block6:
                self.site_ip6[name] = [self._new_ip(block6) for _ in range(2)]

    def _dns_templates(self, name: str, qtype: str, chain: tuple[str, ...],
                       addresses: list[str], rcode: int = 0) -> tuple[bytes, bytes]:
        key = (name, qtype, chain, tuple(addresses), rcode)
        cached = self._dns_cache.get(key)
        if cached is None:
            ttl = 30 + sum(name.encode()) % 270
            cached = self._dns_cache[key] = (
                dns_query(name, qtype), dns_response(name, qtype, chain, addresses, ttl, rcode))
        return cached

    def lookup(self, t: int, name: str, chain: tuple[str, ...], v4: list[str],
               v6: list[str] | None = None, both: bool = True, rcode: int = 0) -> None:
        """A DNS lookup at `t`: A (and AAAA) queries from one socket, and the answers."""
        rng, _label = self._next_rng("dns")
        sport = self.ports.take()
        resolver = GATEWAY if rng.random() < 0.9 else PUBLIC_DNS
        templates = [self._dns_templates(name, "A", chain, v4, rcode)]
        if both:
            templates.append(self._dns_templates(name, "AAAA", chain, v6 or [], rcode))
        rtt = rng.randrange(4, 40) * MS if resolver is GATEWAY else rng.randrange(12, 60) * MS
        # (query time, response time, transaction id, query, response)
        plan: list[tuple[int, int, int, bytes, bytes]] = []
        when = t
        for query, response in templates:
            plan.append((when, when + rtt, rng.getrandbits(16), query, response))
            when += rng.randrange(50, 400)
            rtt += rng.randrange(0, 3) * MS
        answered = plan[0][1]
        for address in v4 + (v6 or [] if both else []):
            self.answers.setdefault(address, []).append((answered, name))
        self._flow("dns", "udp", LAPTOP, sport, resolver, 53, t)

        def frames() -> Iterator[Frame]:
            for at, _answer_at, txid, query, _response in plan:
                yield at, udp_frame(LAPTOP, resolver, sport, 53, struct.pack("!H", txid)
                                    + query[2:], txid)
            for _at, answer_at, txid, _query, response in sorted(plan, key=lambda p: p[1]):
                yield answer_at, udp_frame(resolver, LAPTOP, 53, sport, struct.pack("!H", txid)
                                           + response[2:], txid ^ 0x5A5A, 63)

        self.activities.append(Activity(t, "dns", frames))

    def _flow(self, kind: str, transport: str, client: Host, cport: int | None, server: Host,
              sport: int | None, t: int, host_name: str | None = None,
              source: str = "none") -> None:
        self.flows.append(ExpectedFlow(kind, transport, client.text, cport, server.text, sport,
                                       t, host_name, source))

    def _pick(self, sites: list[tuple[str, tuple[str, ...], str, str | None, int]]
              ) -> tuple[str, tuple[str, ...]]:
        name, chain, *_ = self.rng.choices(sites, weights=[s[4] for s in sites])[0]
        return name, chain

    # --- planning -------------------------------------------------------------------------

    def plan(self) -> None:
        n = self.target
        rng = self.rng
        for sites in (TLS_SITES, QUIC_SITES, HTTP_SITES):
            self._site_addresses(sites)
        looked_up: set[str] = set()
        end = self.duration - 5 * SECOND

        def maybe_lookup(t: int, name: str, chain: tuple[str, ...]) -> None:
            if name not in looked_up or rng.random() < 0.4:
                looked_up.add(name)
                self.lookup(t - rng.randrange(5, 60) * MS, name, chain, self.site_ips[name],
                            self.site_ip6.get(name), both=rng.random() < 0.8)

        for _ in range(max(6, n // 700)):  # TLS connections
            t = rng.randrange(SECOND, end)
            name, chain = self._pick(TLS_SITES)
            maybe_lookup(t, name, chain)
            self._tls(t, name, long_lived=False)
        for i in range(n // 250_000 + 2):  # signalling: open for the whole call
            name = ("us05xmpp.zoom.us", "zoom.us", "us05web.zoom.us")[i % 3]
            t = rng.randrange(SECOND, 3 * SECOND)
            maybe_lookup(t, name, ())
            self._tls(t, name, long_lived=True)
        for _ in range(max(1, n // 50_000)):  # plain-HTTP OCSP checks
            t = rng.randrange(SECOND, end)
            name, chain = self._pick(HTTP_SITES)
            maybe_lookup(t, name, chain)
            self._http(t, name)
        for _ in range(max(2, n // 5_000)):  # QUIC connections
            t = rng.randrange(SECOND, end)
            name, chain = self._pick(QUIC_SITES)
            maybe_lookup(t, name, chain)
            self._quic(t, name)
        for _ in range(max(4, n // 110)):  # background lookups
            t = rng.randrange(SECOND, end)
            if rng.random() < 0.1:
                name = rng.choice(NXDOMAIN_NAMES)
                self.lookup(t, name, (), [], None, both=False, rcode=3)
            else:
                name = rng.choice(BACKGROUND_NAMES)
                self.lookup(t, name, (), [self._new_ip(f"{rng.randrange(20, 220)}")],
                            both=rng.random() < 0.5)
        self._noise(max(20, n // 150))
        self._plan_media(max(4, round(n / 12_500)))

    def _tls(self, t: int, name: str, long_lived: bool) -> None:
        rng, label = self._next_rng("tls")
        v6 = name in self.site_ip6 and rng.random() < 0.3
        client = LAPTOP6 if v6 else LAPTOP
        server_ip = rng.choice(self.site_ip6[name] if v6 else self.site_ips[name])
        server = host(server_ip, GATEWAY_MAC)
        sport = self.ports.take()
        key = (name, False)
        if key not in self._hello_cache:
            self._hello_cache[key] = tls_client_hello_record(
                self._rng(f"hello:{name}"), name, ("h2", "http/1.1"))
        hello = self._hello_cache[key]
        split = rng.random() < 0.15
        exchanges = rng.randint(1, 12)
        until = self.duration - 2 * SECOND if long_lived else 0
        self._flow("tls", "tcp", client, sport, server, 443, t, name, "sni")
        self.activities.append(Activity(t, "tls", lambda: tcp_session(
            random.Random(label), self.noise, t, client, server, sport, 443, hello, split,
            exchanges, until, tls=True)))

    def _http(self, t: int, name: str) -> None:
        rng, label = self._next_rng("http")
        server = host(rng.choice(self.site_ips[name]), GATEWAY_MAC)
        sport = self.ports.take()
        body = self.noise.take(83, rng.randrange(1 << 20))
        request = (f"POST / HTTP/1.1\r\nHost: {name}\r\nUser-Agent: ZoomWebKit/1.0\r\n"
                   "Accept: */*\r\nContent-Type: application/ocsp-request\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        self._flow("http", "tcp", LAPTOP, sport, server, 80, t, name, "http-host")
        self.activities.append(Activity(t, "http", lambda: tcp_session(
            random.Random(label), self.noise, t, LAPTOP, server, sport, 80, request, False, 0, 0,
            tls=False)))

    def _quic(self, t: int, name: str) -> None:
        rng, label = self._next_rng("quic")
        server = host(rng.choice(self.site_ips[name]), GATEWAY_MAC)
        sport = self.ports.take()
        key = (name, True)
        if key not in self._hello_cache:
            record = tls_client_hello_record(self._rng(f"qhello:{name}"), name, ("h3",), True)
            self._hello_cache[key] = record[5:]  # the handshake message, without record header
        initial = quic_client_initial(rng.randbytes(8), rng.randbytes(8), self._hello_cache[key])
        count = rng.randint(20, 120)
        self._flow("quic", "udp", LAPTOP, sport, server, 443, t, name, "quic-sni")
        self.activities.append(Activity(t, "quic", lambda: quic_session(
            random.Random(label), self.noise, t, server, sport, initial, count)))

    def _noise(self, count: int) -> None:
        rng, _label = self._next_rng("noise")
        events: list[tuple[int, str]] = []
        last = 0
        for t in sorted(rng.randrange(0, self.duration) for _ in range(count)):
            last = max(t, last + 2 * MS)  # every event's packets before the next one's
            events.append((last, rng.choices(NOISE_KINDS, weights=NOISE_WEIGHTS)[0]))
        ssdp_port = self.ports.take()
        flows = {
            "ping": ("icmp", LAPTOP, None, GATEWAY, None),
            "printer-ping": ("icmp", PRINTER, None, GATEWAY, None),
            "mdns": ("udp", PRINTER, 5353, MDNS_GROUP, 5353),
            "ssdp-notify": ("udp", TV, 1900, SSDP_GROUP, 1900),
            "ssdp-search": ("udp", LAPTOP, ssdp_port, SSDP_GROUP, 1900),
        }
        for t, kind in events:
            if kind in flows:
                transport, client, cport, server, sport = flows.pop(kind)
                # SSDP's Host header holds the group's address, which is not a name.
                self._flow("noise", transport, client, cport, server, sport, t, None, "none")
            if kind == "mdns":
                self.answers.setdefault(PRINTER.text, []).append((t, MDNS_NAME))
        self.activities.append(Activity(events[0][0], "noise", lambda: lan_noise(
            events, ssdp_port)))

    def _plan_media(self, count: int) -> None:
        """Media flows in four parallel slots over the call; budget filled in later."""
        rng = self.rng
        per_slot = max(1, count // 4)
        for slot in range(4):
            cuts = sorted(rng.randrange(2 * SECOND, self.duration - SECOND)
                          for _ in range(per_slot - 1))
            edges = [SECOND + slot * 300 * MS, *cuts, self.duration - SECOND]
            for index, (start, stop) in enumerate(itertools.pairwise(edges)):
                if stop - start < SECOND:
                    continue
                kind = ("audio", "video", "screen", "video")[slot]
                p2p = slot == 3 and index % 8 == 7
                self._media.append({"start": start + 400 * MS, "stop": stop, "kind": kind,
                                    "p2p": p2p, "slot": slot})

    def finish_plan(self) -> None:
        """Count every non-media packet, then share the rest of the budget among media."""
        rng = self.rng
        for media in self._media:
            start = media["start"]
            if media["p2p"]:
                continue
            relays = [self._new_ip("144.195") for _ in range(4)]
            relay_name = f"zoomgw-relay{rng.randrange(1, 40)}.zoom.us"
            self.lookup(start - 500 * MS, relay_name, (), relays, both=False)
            for relay in relays:
                self._probe(start - 400 * MS, relay)
            port = rng.choice(MEDIA_PORTS)
            block, name = MEDIA_SERVERS[port]
            media["server"] = self._new_ip(block)
            media["port"] = port
            media["name"] = name.format(dc=rng.choice(["sjc", "dfw", "fra", "ams"]),
                                        ip=media["server"].replace(".", "-"))
            self.lookup(start - 200 * MS, media["name"], (), [media["server"]], both=False)
        fixed = sum(sum(1 for _ in activity.make()) for activity in self.activities)
        budget = self.target - fixed
        weights = {"audio": 1.5, "video": 2.0, "screen": 0.6}
        total = sum((m["stop"] - m["start"]) * weights[m["kind"]] for m in self._media)
        if budget < 20 * len(self._media):
            raise ValueError(f"{self.target} packets is too few for this session's plan")
        shares = [int(budget * (m["stop"] - m["start"]) * weights[m["kind"]] / total)
                  for m in self._media]
        shares[-1] += budget - sum(shares)
        if min(shares) < 4:  # each media flow opens with four STUN packets
            raise ValueError(f"{self.target} packets is too few for this session's plan")
        for media, share in zip(self._media, shares, strict=True):
            self._media_flow(media, share)

    def _probe(self, t: int, relay: str) -> None:
        rng, label = self._next_rng("probe")
        server = host(relay, GATEWAY_MAC)
        sport = self.ports.take()
        answered = rng.random() < 0.7
        dport = 8801 if answered else 3478
        self._flow("stun-probe", "udp", LAPTOP, sport, server, dport, t)

        def frames() -> Iterator[Frame]:
            rng = random.Random(label)
            when = t
            for attempt in range(2):
                txid = rng.randbytes(12)
                yield when, udp_frame(LAPTOP, server, sport, dport,
                                      stun(0x0001, txid, STUN_REQUEST_ATTRS), attempt)
                if answered:
                    yield when + 30 * MS, udp_frame(server, LAPTOP, dport, sport,
                                                    stun(0x0101, txid, xor_mapped(LAPTOP, sport)),
                                                    attempt, 55)
                when += 100 * MS

        self.activities.append(Activity(t, "stun-probe", frames))

    def _media_flow(self, media: dict[str, Any], count: int) -> None:
        rng, label = self._next_rng("media")
        start, stop, kind = media["start"], media["stop"], media["kind"]
        sport = self.ports.take()
        if media["p2p"]:
            server = host(f"{rng.randrange(60, 90)}.{rng.randrange(256)}.{rng.randrange(256)}."
                          f"{rng.randrange(2, 254)}", GATEWAY_MAC)
            dport = rng.randrange(40000, 65000)
            self._flow("p2p", "udp", LAPTOP, sport, server, dport, start)
        else:
            server = host(media["server"], GATEWAY_MAC)
            dport = media["port"]
            self._flow("media", "udp", LAPTOP, sport, server, dport, start)
        self.activities.append(Activity(start, "media", lambda: media_stream(
            random.Random(label), self.noise, start, stop, server, sport, dport, kind, count)))

    # --- expected names ------------------------------------------------------------------

    def resolve_expected(self) -> None:
        """Name the flows without SNI/Host the way vcaudit does: from the capture's DNS."""
        for flow in self.flows:
            if flow.host_source != "none":
                continue
            answers = sorted(self.answers.get(flow.server_ip, ()))
            if not answers:
                continue
            before = [a for a in answers if a[0] <= flow.ts_start]
            flow.host = (before[-1] if before else answers[0])[1]
            flow.host_source = "dns"

    # --- output ----------------------------------------------------------------------------

    def frames(self) -> Iterator[tuple[str, Frame]]:
        """Every packet of the session, in time order."""
        heap: list[tuple[int, int, bytes, str, Iterator[Frame] | Activity]] = []
        order = 0
        for activity in self.activities:
            heap.append((activity.start, order, b"", activity.kind, activity))
            order += 1
        heapq.heapify(heap)
        pop, push = heapq.heappop, heapq.heappush
        while heap:
            _ts, _order, frame, kind, source = pop(heap)
            if isinstance(source, Activity):
                source = source.make()
            else:
                yield kind, (_ts, frame)
            item = next(source, None)
            if item is not None:
                push(heap, (item[0], order, item[1], kind, source))
                order += 1


# --- packet streams ---------------------------------------------------------------------------


class TcpPeer:
    """Sequence numbers and IP ids of a TCP connection, as frames are built."""

    def __init__(self, rng: random.Random, client: Host, server: Host, cport: int,
                 sport: int) -> None:
        self.hosts = (client, server)
        self.ports = (cport, sport)
        self.seq = [rng.getrandbits(32), rng.getrandbits(32)]
        self.ident = [rng.getrandbits(16), rng.getrandbits(16)]

    def segment(self, side: int, flags: int, payload: bytes = b"") -> bytes:
        other = 1 - side
        seq = self.seq[side]
        ack = self.seq[other] if flags & TCP_ACK else 0
        options = SYN_OPTIONS if flags & TCP_SYN else b""
        header = _TCP.pack(self.ports[side], self.ports[other], seq, ack,
                           ((20 + len(options)) // 4) << 4, flags, 65535 if side else 2048, 0, 0)
        self.seq[side] = (seq + len(payload) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)) \
            & 0xFFFFFFFF
        self.ident[side] += 1
        return ip_frame(self.hosts[side], self.hosts[other], 6, header + options + payload,
                        self.ident[side], 64 if side == 0 else 52)


def tls_record(content_type: int, body: bytes) -> bytes:
    return struct.pack("!BHH", content_type, 0x0303, len(body)) + body


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    for at in range(0, len(data), size):
        yield data[at : at + size]


def tcp_session(rng: random.Random, noise: Noise, t: int, client: Host, server: Host,
                cport: int, sport: int, first: bytes, split: bool, exchanges: int, until: int,
                tls: bool) -> Iterator[Frame]:
    """A TCP connection: handshake, the client's first bytes, the server's reply, some request
    and response records (or keepalives until `until`), then FIN."""
    peer = TcpPeer(rng, client, server, cport, sport)
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
        server_hello = b"\x02" + (86).to_bytes(3, "big") + b"\x03\x03" + noise.take(84, t)
        flight = (tls_record(22, server_hello) + tls_record(20, b"\x01")
                  + tls_record(23, noise.take(rng.randrange(2400, 5200), t)))
    else:
        flight = (b"HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n"
                  b"Content-Length: 471\r\n\r\n" + noise.take(471, t))
    yield t, peer.segment(1, TCP_ACK)
    for number, piece in enumerate(chunks(flight, mss)):
        t += 120
        yield t, peer.segment(1, TCP_ACK | TCP_PSH, piece)
        if number % 2:
            yield t + 80, peer.segment(0, TCP_ACK)
    t += 2 * MS
    if tls:
        yield t, peer.segment(0, TCP_ACK | TCP_PSH, tls_record(20, b"\x01")
                              + tls_record(23, noise.take(53, t)))
    for _ in range(exchanges):
        t += rng.randrange(2, 400) * MS
        yield t, peer.segment(0, TCP_ACK | TCP_PSH,
                              tls_record(23, noise.take(rng.randrange(90, 1400), t)))
        t += rtt
        response = tls_record(23, noise.take(rng.randrange(60, 9000), t))
        for number, piece in enumerate(chunks(response, mss)):
            t += 100
            yield t, peer.segment(1, TCP_ACK | TCP_PSH, piece)
            if number % 2 or len(piece) < mss:
                yield t + 60, peer.segment(0, TCP_ACK)
    while t < until:  # keepalives of a signalling connection
        t += rng.randrange(15, 30) * SECOND
        yield t, peer.segment(0, TCP_ACK | TCP_PSH, tls_record(23, noise.take(38, t)))
        t += rtt
        yield t, peer.segment(1, TCP_ACK | TCP_PSH, tls_record(23, noise.take(38, t)))
        yield t + 200, peer.segment(0, TCP_ACK)
    t += 20 * MS
    yield t, peer.segment(0, TCP_FIN | TCP_ACK)
    t += rtt
    yield t, peer.segment(1, TCP_FIN | TCP_ACK)
    yield t + 100, peer.segment(0, TCP_ACK)


def quic_session(rng: random.Random, noise: Noise, t: int, server: Host, sport: int,
                 initial: bytes, count: int) -> Iterator[Frame]:
    """A QUIC connection: the client Initial, the server's long-header flight, 1-RTT packets."""
    rtt = rng.randrange(8, 40) * MS
    yield t, udp_frame(LAPTOP, server, sport, 443, initial, 1)
    t += rtt
    for number in range(2):  # server Initial + Handshake, coalesced, padded
        head = b"\xc1\x00\x00\x00\x01\x00\x08" + noise.take(8, t)
        yield t + number * 200, udp_frame(server, LAPTOP, 443, sport,
                                          head + noise.take(1200 - len(head), t + number), 0, 58)
    t += 2 * MS
    head = b"\xe1\x00\x00\x00\x01\x08" + noise.take(8, t) + b"\x00"  # client Handshake
    yield t, udp_frame(LAPTOP, server, sport, 443, head + noise.take(70, t), 2)
    for number in range(count - 4):
        t += rng.randrange(1, 60) * MS
        if rng.random() < 0.4:
            yield t, udp_frame(LAPTOP, server, sport, 443,
                               b"\x43" + noise.take(rng.randrange(30, 600), t), 3 + number)
        else:
            yield t, udp_frame(server, LAPTOP, 443, sport,
                               b"\x47" + noise.take(rng.randrange(30, 1350), t), number, 58)


def media_stream(rng: random.Random, noise: Noise, start: int, stop: int, server: Host,
                 sport: int, dport: int, kind: str, count: int) -> Iterator[Frame]:
    """ICE connectivity checks, then `count` - 4 RTP-like packets spread over the interval."""
    txids = [rng.randbytes(12), rng.randbytes(12)]
    t = start
    for txid in txids:
        yield t, udp_frame(LAPTOP, server, sport, dport, stun(0x0001, txid, STUN_REQUEST_ATTRS),
                           0)
        yield t + 25 * MS, udp_frame(server, LAPTOP, dport, sport,
                                     stun(0x0101, txid, xor_mapped(LAPTOP, sport)), 0, 54)
        t += 50 * MS
    rtp_count = count - 4
    if rtp_count <= 0:
        return
    step = max(1, (stop - t) // rtp_count)
    down_share = {"audio": 0.5, "video": 0.72, "screen": 0.35}[kind]
    if kind == "audio":
        sizes = (90, 220)
    elif kind == "screen":
        sizes = (300, 1200)
    else:
        sizes = (600, 1200)
    pt = 111 if kind == "audio" else 98
    ssrc = [rng.getrandbits(32), rng.getrandbits(32)]
    seq = [rng.getrandbits(16), rng.getrandbits(16)]
    clock = [rng.getrandbits(32), rng.getrandbits(32)]
    ident = [rng.getrandbits(16), rng.getrandbits(16)]
    random_ = rng.random
    randrange = rng.randrange
    take = noise.take
    low, high = sizes
    for number in range(rtp_count):
        when = t + number * step + int(random_() * step * 0.5)
        down = random_() < down_share
        side = 1 if down else 0
        header = _RTP.pack(0x80, pt | (0x80 if number % 30 == 0 else 0), seq[side] & 0xFFFF,
                           clock[side] & 0xFFFFFFFF, ssrc[side])
        seq[side] += 1
        clock[side] += 960 if kind == "audio" else 3000
        ident[side] += 1
        payload = header + take(randrange(low, high), number)
        if down:
            yield when, udp_frame(server, LAPTOP, dport, sport, payload, ident[1], 54)
        else:
            yield when, udp_frame(LAPTOP, server, sport, dport, payload, ident[0])


NOISE_KINDS = ("arp", "lldp", "mdns", "ssdp-notify", "ssdp-search", "ping", "printer-ping")
NOISE_WEIGHTS = (25, 10, 20, 15, 5, 20, 5)
MDNS_NAME = "printer-3f.local"


def lan_noise(events: list[tuple[int, str]], ssdp_port: int) -> Iterator[Frame]:
    """ARP, LLDP, mDNS announcements, SSDP and pings at the given times."""
    arp_request = arp_frame(GATEWAY, LAPTOP.ip, None)
    arp_reply = arp_frame(LAPTOP, GATEWAY.ip, GATEWAY)
    lldp = lldp_frame()
    announcement = mdns_announcement(MDNS_NAME, PRINTER.text)
    notify = (b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800"
              b"\r\nLOCATION: http://192.168.1.61:8008/ssdp/device-desc.xml\r\nNT: upnp:rootdevice"
              b"\r\nNTS: ssdp:alive\r\nSERVER: Linux/3.8 UPnP/1.0\r\n\r\n")
    search = (b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
              b"MX: 1\r\nST: urn:dial-multiscreen-org:service:dial:1\r\n\r\n")
    echo = [0, 0]
    for number, (t, kind) in enumerate(events):
        if kind == "arp":
            yield t, arp_request
            yield t + 300, arp_reply
        elif kind == "lldp":
            yield t, lldp
        elif kind == "mdns":
            yield t, udp_frame(PRINTER, MDNS_GROUP, 5353, 5353, announcement, number, 255)
        elif kind == "ssdp-notify":
            yield t, udp_frame(TV, SSDP_GROUP, 1900, 1900, notify, number, 4)
        elif kind == "ssdp-search":
            yield t, udp_frame(LAPTOP, SSDP_GROUP, ssdp_port, 1900, search, number, 4)
        else:
            side = 0 if kind == "ping" else 1
            source = (LAPTOP, PRINTER)[side]
            echo[side] += 1
            body = struct.pack("!HH", 0x1234 + side, echo[side]) + bytes(range(48))
            yield t, ip_frame(source, GATEWAY, 1, b"\x08\x00\x00\x00" + body, number)
            yield t + 900, ip_frame(GATEWAY, source, 1, b"\x00\x00\x00\x00" + body, number)


# --- writers ----------------------------------------------------------------------------------


def write_pcap(out: BinaryIO, frames: Iterator[tuple[str, Frame]],
               counts: dict[str, int]) -> int:
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    record = _PCAP_RECORD.pack
    write = out.write
    total = 0
    for kind, (ts, frame) in frames:
        ts += START_US
        size = len(frame)
        write(record(ts // SECOND, ts % SECOND, size, size))
        write(frame)
        counts[kind] = counts.get(kind, 0) + 1
        total += 1
    return total


def write_pcapng(out: BinaryIO, frames: Iterator[tuple[str, Frame]],
                 counts: dict[str, int]) -> int:
    out.write(struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28))
    out.write(struct.pack("<IIHHII", 1, 20, 1, 0, 262144, 20))
    head = struct.Struct("<IIIIIII").pack
    write = out.write
    total = 0
    for kind, (ts, frame) in frames:
        ts += START_US
        size = len(frame)
        pad = -size % 4
        block = 32 + size + pad
        write(head(6, block, 0, ts >> 32, ts & 0xFFFFFFFF, size, size))
        write(frame)
        write(b"\x00" * pad + struct.pack("<I", block))
        counts[kind] = counts.get(kind, 0) + 1
        total += 1
    return total


def build_capture(path: Path, packets: int = 1_000_000, pcapng: bool = False,
                  seed: int = 1) -> Manifest:
    """Write the session's capture to `path` and return what vcaudit should find in it."""
    session = Session(packets, seed)
    session.plan()
    session.finish_plan()
    session.resolve_expected()
    manifest = Manifest(str(path), "pcapng" if pcapng else "pcap", seed, GENERATOR_VERSION)
    counts: dict[str, int] = {}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb", buffering=1 << 20) as out:
        writer = write_pcapng if pcapng else write_pcap
        manifest.packets = writer(out, session.frames(), counts)
    manifest.packets_by_kind = dict(sorted(counts.items()))
    manifest.duration_s = session.duration / SECOND
    manifest.non_ip_frames = _non_ip_frames(session)
    manifest.flows = _unique_flows(session.flows)
    return manifest


def _non_ip_frames(session: Session) -> int:
    noise = next(a for a in session.activities if a.kind == "noise")
    return sum(1 for _t, frame in noise.make() if frame[12:14] in (b"\x08\x06", b"\x88\xcc"))


def _unique_flows(flows: list[ExpectedFlow]) -> list[ExpectedFlow]:
    """UDP and ICMP flows with the same endpoints are one flow (a reused port, a ping)."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for flow in sorted(flows, key=lambda f: f.ts_start):
        key = (flow.transport, flow.client_ip, flow.client_port, flow.server_ip,
               flow.server_port)
        if flow.transport != "tcp" and key in seen:
            continue
        seen.add(key)
        out.append(flow)
    return out


def manifest_path(capture: Path) -> Path:
    return capture.with_name(capture.name + ".manifest.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="capture file to write")
    parser.add_argument("--packets", type=int, default=1_000_000, help="about how many packets")
    parser.add_argument("--pcapng", action="store_true", help="write pcapng instead of pcap")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    manifest_path(args.out).unlink(missing_ok=True)
    manifest = build_capture(args.out, args.packets, args.pcapng, args.seed)
    summary = manifest.summary()
    summary["generation_seconds"] = round(time.perf_counter() - began, 2)
    manifest_path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
    if not args.quiet:
        json.dump(summary, sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

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

This script only plans the session; the checkout's `trafficgen` library builds the packets:
payload templates (DNS messages, ClientHellos) with scapy once, then every frame with `struct`
as its turn comes (`trafficgen.streams`, checksums left zero). Every random choice comes from
`random.Random` seeded from the seed and a label, so the same arguments give a byte-identical
file. Generation runs at about 130k packets/s.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # trafficgen/ sits in the checkout, it is not installed
    sys.path.insert(0, str(ROOT))

from trafficgen import lan  # noqa: E402
from trafficgen.addresses import BROADCAST_MAC, ZERO_MAC, AddressPool, host  # noqa: E402
from trafficgen.dns import Answer, lookup_templates  # noqa: E402
from trafficgen.expected import Manifest, unique_flows  # noqa: E402
from trafficgen.http import http_message  # noqa: E402
from trafficgen.ip import PROTO_ICMP, icmp_echo  # noqa: E402
from trafficgen.links import (  # noqa: E402
    ETHERTYPE_ARP,
    LINKTYPE_ETHERNET,
    ethernet,
    host_frame,
    udp_frame,
)
from trafficgen.plan import SessionPlan  # noqa: E402
from trafficgen.quic import quic_client_initial  # noqa: E402
from trafficgen.streams import (  # noqa: E402
    DnsExchange,
    Noise,
    Ports,
    dns_lookup,
    ice_probe,
    media_stream,
    quic_session,
    tcp_session,
)
from trafficgen.timeline import MS, SECOND, Frame, Seeds  # noqa: E402
from trafficgen.tls import compact_hello  # noqa: E402
from trafficgen.writers import write_capture  # noqa: E402

GENERATOR_VERSION = 2
START_US = int(datetime(2026, 11, 2, 14, 0, tzinfo=UTC).timestamp()) * SECOND

# --- the home LAN ------------------------------------------------------------------------------

GATEWAY_MAC = "a4:91:b1:0c:22:01"
LAPTOP_MAC = "3c:22:fb:7a:10:5e"
LAPTOP = host("192.168.1.23", LAPTOP_MAC)
LAPTOP6 = host("2001:db8:4a1:10::23", LAPTOP_MAC)
GATEWAY = host("192.168.1.1", GATEWAY_MAC)  # also the DNS resolver
PRINTER = host("192.168.1.50", "00:80:77:31:0a:9c")
TV = host("192.168.1.61", "a8:23:fe:01:77:42")
PUBLIC_DNS = host("9.9.9.9", GATEWAY_MAC)
MDNS_NAME = "printer-3f.local"
# LLDP from the home switch every 30 s: chassis id (its MAC), port id, TTL 120, end. (The port
# id TLV says 3 bytes for "eth1": parsers that check it call the frame malformed.)
LLDP_TLVS = bytes.fromhex("020704a491b10c2201" "0403056574683100" "06020078" "0000")
NOISE_KINDS = ("arp", "lldp", "mdns", "ssdp-notify", "ssdp-search", "ping", "printer-ping")
NOISE_WEIGHTS = (25, 10, 20, 15, 5, 20, 5)

# --- who the laptop talks to -------------------------------------------------------------------

# Sites reached over TLS or QUIC: name, CNAME chain behind it, IPv4 block, IPv6 prefix, weight.
Site = tuple[str, tuple[str, ...], str, str | None, int]
TLS_SITES: list[Site] = [
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
QUIC_SITES: list[Site] = [
    ("www.google.com", (), "142.250.184", None, 3),
    ("meet.google.com", (), "142.250.74", None, 3),
    ("fonts.gstatic.com", ("gstatic.l.google.com",), "142.250.179", None, 2),
    ("www.youtube.com", ("youtube-ui.l.google.com",), "142.250.181", None, 1),
]
HTTP_SITES: list[Site] = [
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


@dataclass(slots=True)
class MediaSlot:
    """One media flow of the call: when it runs, what it carries, where it goes."""

    start: int
    stop: int
    kind: str  # audio, video, screen
    p2p: bool
    server: str = ""
    port: int = 0
    name: str = ""


class Session:
    """Plans every activity of the call, then merges their packets in time order."""

    def __init__(self, packets: int, seed: int) -> None:
        if packets < 2000:
            raise ValueError("the benchmark capture needs at least 2,000 packets")
        self.target = packets
        seeds = Seeds(f"vcaudit-bench:{seed}:")
        self.plan = SessionPlan(seeds)
        self.rng = seeds.rng("plan")
        self.noise = Noise(seeds.rng("noise"))
        self.ports = Ports(seeds.rng("ports"))
        self.addresses = AddressPool(self.rng)
        self.duration = max(60 * SECOND, packets * SECOND // 250)
        self.site_ips: dict[str, list[str]] = {}
        self.site_ip6: dict[str, list[str]] = {}
        self._hellos: dict[tuple[str, bool], bytes] = {}
        self._dns: dict[tuple[Answer, str, int], tuple[bytes, bytes]] = {}
        self._media: list[MediaSlot] = []

    def _hello(self, name: str, quic: bool) -> bytes:
        """The ClientHello record (TLS) or handshake message (QUIC) every connection to `name`
        sends."""
        if (name, quic) not in self._hellos:
            rng = self.plan.seeds.rng(f"qhello:{name}" if quic else f"hello:{name}")
            if quic:
                hello = compact_hello(rng, name, ("h3",), quic=True)[5:]  # no record header
            else:
                hello = compact_hello(rng, name, ("h2", "http/1.1"))
            self._hellos[name, quic] = hello
        return self._hellos[name, quic]

    def lookup(self, t: int, name: str, chain: tuple[str, ...], v4: list[str],
               v6: list[str] | None = None, both: bool = True, rcode: int = 0) -> None:
        """A DNS lookup at `t`: A (and AAAA) queries from one socket, and the answers."""
        rng, _label = self.plan.next_rng("dns")
        sport = self.ports.take()
        resolver = GATEWAY if rng.random() < 0.9 else PUBLIC_DNS
        ttl = 30 + sum(name.encode()) % 270
        answers = [Answer(name, chain, v4=tuple(v4), ttl=ttl)]
        if both:
            answers.append(Answer(name, chain, v6=tuple(v6 or ()), ttl=ttl))
        rtt = rng.randrange(4, 40) * MS if resolver is GATEWAY else rng.randrange(12, 60) * MS
        exchanges: list[DnsExchange] = []
        when = t
        for answer, qtype in zip(answers, ("A", "AAAA"), strict=False):
            key = (answer, qtype, rcode)  # the same answer to the same question: built once
            if key not in self._dns:
                self._dns[key] = lookup_templates(answer, qtype, rcode)
            exchanges.append(DnsExchange(when, when + rtt, rng.getrandbits(16), *self._dns[key]))
            when += rng.randrange(50, 400)
            rtt += rng.randrange(0, 3) * MS
        for address in v4 + (v6 or [] if both else []):
            self.plan.answered(address, exchanges[0].answered, name)
        self.plan.flow("dns", "udp", LAPTOP, sport, resolver, 53, t)
        self.plan.add(t, "dns", lambda: dns_lookup(LAPTOP, resolver, sport, exchanges))

    def _pick(self, sites: list[Site]) -> tuple[str, tuple[str, ...]]:
        name, chain, *_ = self.rng.choices(sites, weights=[s[4] for s in sites])[0]
        return name, chain

    def schedule(self) -> None:
        """Connections, lookups and LAN noise at random times; media slots (sized later)."""
        n = self.target
        rng = self.rng
        for sites in (TLS_SITES, QUIC_SITES, HTTP_SITES):
            for name, _chain, block, block6, _weight in sites:
                count = self.rng.randint(1, 4)
                self.site_ips[name] = [self.addresses.take(block) for _ in range(count)]
                if block6:
                    self.site_ip6[name] = [self.addresses.take(block6) for _ in range(2)]
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
                self.lookup(t, name, (), [self.addresses.take(f"{rng.randrange(20, 220)}")],
                            both=rng.random() < 0.5)
        self._noise(max(20, n // 150))
        self._plan_media(max(4, round(n / 12_500)))

    def _tls(self, t: int, name: str, long_lived: bool) -> None:
        rng, label = self.plan.next_rng("tls")
        v6 = name in self.site_ip6 and rng.random() < 0.3
        client = LAPTOP6 if v6 else LAPTOP
        server = host(rng.choice(self.site_ip6[name] if v6 else self.site_ips[name]), GATEWAY_MAC)
        sport = self.ports.take()
        hello = self._hello(name, quic=False)
        split = rng.random() < 0.15
        exchanges = rng.randint(1, 12)
        until = self.duration - 2 * SECOND if long_lived else 0
        self.plan.flow("tls", "tcp", client, sport, server, 443, t, name, "sni")
        self.plan.add(t, "tls", lambda: tcp_session(
            random.Random(label), self.noise, t, client, server, sport, 443, hello, split,
            exchanges, until, tls=True))

    def _http(self, t: int, name: str) -> None:
        rng, label = self.plan.next_rng("http")
        server = host(rng.choice(self.site_ips[name]), GATEWAY_MAC)
        sport = self.ports.take()
        body = self.noise.take(83, rng.randrange(1 << 20))
        request = http_message("POST / HTTP/1.1", [
            ("Host", name), ("User-Agent", "ZoomWebKit/1.0"), ("Accept", "*/*"),
            ("Content-Type", "application/ocsp-request"), ("Content-Length", str(len(body))),
        ], body)
        self.plan.flow("http", "tcp", LAPTOP, sport, server, 80, t, name, "http-host")
        self.plan.add(t, "http", lambda: tcp_session(
            random.Random(label), self.noise, t, LAPTOP, server, sport, 80, request, False, 0, 0,
            tls=False))

    def _quic(self, t: int, name: str) -> None:
        rng, label = self.plan.next_rng("quic")
        server = host(rng.choice(self.site_ips[name]), GATEWAY_MAC)
        sport = self.ports.take()
        hello = self._hello(name, quic=True)
        initial = quic_client_initial(rng.randbytes(8), rng.randbytes(8), hello)
        count = rng.randint(20, 120)
        self.plan.flow("quic", "udp", LAPTOP, sport, server, 443, t, name, "quic-sni")
        self.plan.add(t, "quic", lambda: quic_session(
            random.Random(label), self.noise, t, LAPTOP, server, sport, initial, count))

    def _noise(self, count: int) -> None:
        rng, _label = self.plan.next_rng("noise")
        events: list[tuple[int, str]] = []
        last = 0
        for t in sorted(rng.randrange(0, self.duration) for _ in range(count)):
            last = max(t, last + 2 * MS)  # every event's packets before the next one's
            events.append((last, rng.choices(NOISE_KINDS, weights=NOISE_WEIGHTS)[0]))
        ssdp_port = self.ports.take()
        flows = {
            "ping": ("icmp", LAPTOP, None, GATEWAY, None),
            "printer-ping": ("icmp", PRINTER, None, GATEWAY, None),
            "mdns": ("udp", PRINTER, 5353, lan.MDNS_GROUP, 5353),
            "ssdp-notify": ("udp", TV, 1900, lan.SSDP_GROUP, 1900),
            "ssdp-search": ("udp", LAPTOP, ssdp_port, lan.SSDP_GROUP, 1900),
        }
        for t, kind in events:
            if kind in flows:
                transport, client, cport, server, sport = flows.pop(kind)
                # SSDP's Host header holds the group's address, which is not a name.
                self.plan.flow("noise", transport, client, cport, server, sport, t)
            if kind == "mdns":
                self.plan.answered(PRINTER.text, t, MDNS_NAME)
        self.plan.add(events[0][0], "noise", lambda: lan_noise(events, ssdp_port))

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
                self._media.append(MediaSlot(start + 400 * MS, stop, kind, p2p))

    def finish_schedule(self) -> None:
        """Count every non-media packet, then share the rest of the budget among media."""
        rng = self.rng
        for media in self._media:
            start = media.start
            if media.p2p:
                continue
            relays = [self.addresses.take("144.195") for _ in range(4)]
            relay_name = f"zoomgw-relay{rng.randrange(1, 40)}.zoom.us"
            self.lookup(start - 500 * MS, relay_name, (), relays, both=False)
            for relay in relays:
                self._probe(start - 400 * MS, relay)
            port = rng.choice(MEDIA_PORTS)
            block, name = MEDIA_SERVERS[port]
            media.server = self.addresses.take(block)
            media.port = port
            media.name = name.format(dc=rng.choice(["sjc", "dfw", "fra", "ams"]),
                                     ip=media.server.replace(".", "-"))
            self.lookup(start - 200 * MS, media.name, (), [media.server], both=False)
        fixed = sum(sum(1 for _ in activity.make()) for activity in self.plan.activities)
        budget = self.target - fixed
        weights = {"audio": 1.5, "video": 2.0, "screen": 0.6}
        total = sum((m.stop - m.start) * weights[m.kind] for m in self._media)
        if budget < 20 * len(self._media):
            raise ValueError(f"{self.target} packets is too few for this session's plan")
        shares = [int(budget * (m.stop - m.start) * weights[m.kind] / total)
                  for m in self._media]
        shares[-1] += budget - sum(shares)
        if min(shares) < 4:  # each media flow opens with four STUN packets
            raise ValueError(f"{self.target} packets is too few for this session's plan")
        for media, share in zip(self._media, shares, strict=True):
            self._media_flow(media, share)

    def _probe(self, t: int, relay: str) -> None:
        rng, label = self.plan.next_rng("probe")
        server = host(relay, GATEWAY_MAC)
        sport = self.ports.take()
        answered = rng.random() < 0.7
        dport = 8801 if answered else 3478
        self.plan.flow("stun-probe", "udp", LAPTOP, sport, server, dport, t)
        self.plan.add(t, "stun-probe", lambda: ice_probe(
            random.Random(label), t, LAPTOP, server, sport, dport, answered))

    def _media_flow(self, media: MediaSlot, count: int) -> None:
        rng, label = self.plan.next_rng("media")
        start, stop, kind = media.start, media.stop, media.kind
        sport = self.ports.take()
        if media.p2p:
            server = host(f"{rng.randrange(60, 90)}.{rng.randrange(256)}.{rng.randrange(256)}."
                          f"{rng.randrange(2, 254)}", GATEWAY_MAC)
            dport = rng.randrange(40000, 65000)
            self.plan.flow("p2p", "udp", LAPTOP, sport, server, dport, start)
        else:
            server = host(media.server, GATEWAY_MAC)
            dport = media.port
            self.plan.flow("media", "udp", LAPTOP, sport, server, dport, start)
        self.plan.add(start, "media", lambda: media_stream(
            random.Random(label), self.noise, start, stop, LAPTOP, server, sport, dport, kind,
            count))


def lan_noise(events: list[tuple[int, str]], ssdp_port: int) -> Iterator[Frame]:
    """ARP, LLDP, mDNS announcements, SSDP and pings at the given times."""
    arp_request = lan.arp(lan.ARP_REQUEST, GATEWAY_MAC, GATEWAY.text, ZERO_MAC, LAPTOP.text)
    arp_reply = lan.arp(lan.ARP_REPLY, LAPTOP_MAC, LAPTOP.text, GATEWAY_MAC, GATEWAY.text)
    who_has = ethernet(BROADCAST_MAC, GATEWAY_MAC, arp_request, ETHERTYPE_ARP).ljust(60, b"\0")
    is_at = ethernet(GATEWAY_MAC, LAPTOP_MAC, arp_reply, ETHERTYPE_ARP).ljust(60, b"\0")
    lldp = lan.lldp_frame(GATEWAY_MAC, LLDP_TLVS)
    announcement = lan.mdns_announcement(MDNS_NAME, PRINTER.text)
    notify = lan.ssdp_notify(f"http://{TV.text}:8008/ssdp/device-desc.xml", "Linux/3.8 UPnP/1.0")
    search = lan.ssdp_search("urn:dial-multiscreen-org:service:dial:1")
    echo = [0, 0]
    for number, (t, kind) in enumerate(events):
        if kind == "arp":
            yield t, who_has
            yield t + 300, is_at
        elif kind == "lldp":
            yield t, lldp
        elif kind == "mdns":
            yield t, udp_frame(PRINTER, lan.MDNS_GROUP, 5353, 5353, announcement, number, 255)
        elif kind == "ssdp-notify":
            yield t, udp_frame(TV, lan.SSDP_GROUP, 1900, 1900, notify, number, 4)
        elif kind == "ssdp-search":
            yield t, udp_frame(LAPTOP, lan.SSDP_GROUP, ssdp_port, 1900, search, number, 4)
        else:
            side = 0 if kind == "ping" else 1
            source = (LAPTOP, PRINTER)[side]
            echo[side] += 1
            request = icmp_echo(False, 0x1234 + side, echo[side], bytes(range(48)))
            yield t, host_frame(source, GATEWAY, PROTO_ICMP, request, number)
            reply = icmp_echo(True, 0x1234 + side, echo[side], bytes(range(48)))
            yield t + 900, host_frame(GATEWAY, source, PROTO_ICMP, reply, number)


def build_capture(path: Path, packets: int = 1_000_000, pcapng: bool = False,
                  seed: int = 1) -> Manifest:
    """Write the session's capture to `path` and return what vcaudit should find in it."""
    session = Session(packets, seed)
    session.schedule()
    session.finish_schedule()
    session.plan.name_flows()
    manifest = Manifest(str(path), "pcapng" if pcapng else "pcap", seed, GENERATOR_VERSION)
    counts: dict[str, int] = {}
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = session.plan.frames(counts)
    manifest.packets = write_capture(path, frames, LINKTYPE_ETHERNET, START_US, pcapng)
    manifest.packets_by_kind = dict(sorted(counts.items()))
    manifest.duration_s = session.duration / SECOND
    noise = next(a for a in session.plan.activities if a.kind == "noise")
    non_ip = (b"\x08\x06", b"\x88\xcc")  # ARP, LLDP
    manifest.non_ip_frames = sum(1 for _t, frame in noise.make() if frame[12:14] in non_ip)
    manifest.flows = unique_flows(session.plan.flows)
    return manifest


def manifest_path(capture: Path) -> Path:
    """Where the manifest of `capture` is written."""
    return capture.with_name(capture.name + ".manifest.json")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, write the capture and its manifest."""
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

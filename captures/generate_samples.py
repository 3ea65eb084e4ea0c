"""Build vcaudit's bundled sample captures, deterministically.

Run as ``python captures/generate_samples.py [--out DIR]`` (default: this folder). It writes

* ``zoom-desktop-call.pcapng``: a ~60 s Zoom desktop call from a laptop on a home LAN
  (pcapng, Ethernet): DNS, TLS to Zoom/analytics/ad-tech/unknown hosts (one ClientHello split
  over two TCP segments), a plaintext OCSP request, STUN and RTP-like media over UDP, one UDP
  flow identifiable only by its IP range, an IPv6 TLS flow and the usual LAN chatter.
* ``teams-linux-any.pcap``: 10 s of a Teams call captured with ``tcpdump -i any`` on Linux
  (classic pcap, LINKTYPE_LINUX_SLL2).

This script only describes the two scenarios; the packets are built by the checkout's
`trafficgen` library. Everything is synthetic: addresses, names and timings model real
clients, but every byte is made there. Timestamps start at 2026-11-02T14:00:00Z and every
random value comes from a ``random.Random`` seeded from a fixed string and a per-part label, so
two runs write byte-identical files. captures/README.md lists every endpoint and what vcaudit
should make of it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # trafficgen/ sits in the checkout, it is not installed
    sys.path.insert(0, str(ROOT))

from trafficgen import lan, links  # noqa: E402
from trafficgen.addresses import BROADCAST_MAC, ZERO_MAC, Host, host, mac_bytes  # noqa: E402
from trafficgen.dns import Answer, Resolver, stub_lookup  # noqa: E402
from trafficgen.flows import Peer, TcpFlow, UdpFlow, linux_syn_options, new_peer  # noqa: E402
from trafficgen.http import http_message, ocsp_cert_id, ocsp_request, ocsp_response  # noqa: E402
from trafficgen.ip import PROTO_ICMP, icmp_echo  # noqa: E402
from trafficgen.media import Stream, play_media  # noqa: E402
from trafficgen.stun import stun_binding  # noqa: E402
from trafficgen.timeline import Seeds, Timeline  # noqa: E402
from trafficgen.tls import TlsPlan, run_tls  # noqa: E402
from trafficgen.writers import write_capture  # noqa: E402

START = datetime(2026, 11, 2, 14, 0, 0, tzinfo=UTC)
START_US = int(START.timestamp()) * 1_000_000  # 1793628000 s
SEEDS = Seeds("vcaudit-sample-captures-v1/")
ZOOM_FILE = "zoom-desktop-call.pcapng"
TEAMS_FILE = "teams-linux-any.pcap"

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


def stun_txid(flow: UdpFlow) -> bytes:
    """The transaction id of the flow's binding request, seeded by server and client port."""
    return SEEDS.rng(f"stun/{flow.server.addr}/{flow.cport}").randbytes(12)


# --- LAN chatter (Zoom sample) ---------------------------------------------------------------


LAPTOP = host(LAPTOP_V4, LAPTOP_MAC)
ROUTER = host(ROUTER_V4, ROUTER_MAC)
CHROMECAST = host(CHROMECAST_V4, CHROMECAST_MAC)


def lan_datagram(
    src: Host, dst: Host, ports: tuple[int, int], payload: bytes, ident: int, ttl: int
) -> bytes:
    """UDP on the LAN as Windows and the devices here send it: checksums computed, DF clear."""
    return links.udp_frame(src, dst, *ports, payload, ident, ttl, df=False, checksum=True)


def build_arp(timeline: Timeline, link: links.EtherLink) -> None:
    """Laptop resolves the router; later the router re-checks the laptop; the Chromecast
    announces itself."""
    who_has = lan.arp(lan.ARP_REQUEST, LAPTOP_MAC, LAPTOP_V4, ZERO_MAC, ROUTER_V4)
    timeline.add(0.0, links.ethernet(BROADCAST_MAC, LAPTOP_MAC, who_has, links.ETHERTYPE_ARP))
    reply = lan.arp(lan.ARP_REPLY, ROUTER_MAC, ROUTER_V4, LAPTOP_MAC, LAPTOP_V4)
    timeline.add(0.00142, link.frame(reply, False, links.ETHERTYPE_ARP))
    probe = lan.arp(lan.ARP_REQUEST, ROUTER_MAC, ROUTER_V4, ZERO_MAC, LAPTOP_V4)
    timeline.add(27.41873, link.frame(probe, False, links.ETHERTYPE_ARP))
    answer = lan.arp(lan.ARP_REPLY, LAPTOP_MAC, LAPTOP_V4, ROUTER_MAC, ROUTER_V4)
    timeline.add(27.41891, link.frame(answer, True, links.ETHERTYPE_ARP))
    announce = lan.arp(lan.ARP_REQUEST, CHROMECAST_MAC, CHROMECAST_V4, ZERO_MAC, CHROMECAST_V4)
    frame = links.ethernet(BROADCAST_MAC, CHROMECAST_MAC, announce, links.ETHERTYPE_ARP)
    timeline.add(41.20577, links.pad_received(frame))


def build_dhcp(timeline: Timeline) -> None:
    """DHCPREQUEST (INIT-REBOOT, broadcast) and the router's DHCPACK."""
    rng = SEEDS.rng("dhcp")
    xid = rng.getrandbits(32)
    request = lan.dhcp_message(1, xid, LAPTOP_MAC, [
        ("message-type", "request"), ("client_id", b"\x01" + mac_bytes(LAPTOP_MAC)),
        ("requested_addr", LAPTOP_V4), ("hostname", b"LAPTOP-7KQ2M4"),
        ("param_req_list", [1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252]), "end",
    ])
    unconfigured, everyone = host("0.0.0.0", LAPTOP_MAC), host("255.255.255.255", BROADCAST_MAC)
    frame = lan_datagram(unconfigured, everyone, (68, 67), request, rng.randrange(0x10000), 128)
    timeline.add(0.05105, frame)
    ack = lan.dhcp_message(2, xid, LAPTOP_MAC, [
        ("message-type", "ack"), ("server_id", ROUTER_V4), ("lease_time", 86400),
        ("renewal_time", 43200), ("rebinding_time", 75600), ("subnet_mask", "255.255.255.0"),
        ("broadcast_address", "192.168.1.255"), ("router", ROUTER_V4),
        ("name_server", ROUTER_V4), ("domain", b"lan"), "end",
    ], yiaddr=LAPTOP_V4)
    timeline.add(0.06322, lan_datagram(ROUTER, LAPTOP, (67, 68), ack, rng.randrange(0x10000), 64))


def build_ipv6_discovery(timeline: Timeline) -> None:
    """Router solicitation/advertisement, then neighbour solicitation/advertisement."""
    laptop, router = host(LAPTOP_LL, LAPTOP_MAC), host(ROUTER_LL, ROUTER_MAC)
    all_routers = host("ff02::2", "33:33:00:00:00:02")
    all_nodes = host("ff02::1", "33:33:00:00:00:01")
    solicited = host("ff02::1:ff00:1", "33:33:ff:00:00:01")  # the router's solicited-node group
    rs = lan.router_solicitation(LAPTOP_MAC)
    timeline.add(0.30218, lan.nd_frame(laptop, all_routers, rs))
    ra = lan.router_advertisement(ROUTER_MAC, "2001:db8:1:1::", 64, valid=86400, preferred=14400)
    timeline.add(0.31077, lan.nd_frame(router, all_nodes, ra))
    ns = lan.neighbour_solicitation(ROUTER_LL, LAPTOP_MAC)
    timeline.add(0.31502, lan.nd_frame(laptop, solicited, ns))
    na = lan.neighbour_advertisement(ROUTER_LL, ROUTER_MAC)
    timeline.add(0.31561, lan.nd_frame(router, laptop, na))


def build_ping(timeline: Timeline, link: links.EtherLink) -> None:
    """Two Windows-style echo requests to the router (32-byte alphabet payload) and replies."""
    rng = SEEDS.rng("ping")
    payload = b"abcdefghijklmnopqrstuvwabcdefghi"
    laptop, router = new_peer(LAPTOP_V4, 128, rng), new_peer(ROUTER_V4, 64, rng)
    for n, t in enumerate((0.52031, 1.52377), start=1):
        request = icmp_echo(False, 1, n, payload, checksum=True)
        timeline.add(t, link.frame(laptop.packet(router, PROTO_ICMP, request, df=False), True))
        reply = icmp_echo(True, 1, n, payload, checksum=True)
        reply_packet = router.packet(laptop, PROTO_ICMP, reply, df=False)
        timeline.add(t + 0.00087, link.frame(reply_packet, False))


def build_mdns(timeline: Timeline) -> None:
    """The laptop asks for Cast devices; a Chromecast on the LAN answers (all multicast)."""
    rng = SEEDS.rng("mdns")
    service, ports = "_googlecast._tcp.local", (5353, 5353)
    query = lan.mdns_query(service, "PTR")
    frame = lan_datagram(LAPTOP, lan.MDNS_GROUP, ports, query, rng.randrange(0x10000), 255)
    timeline.add(0.70412, frame)
    instance = "Chromecast-6c21a0b3e5f94d7a._googlecast._tcp.local"
    target = "6c21a0b3-e5f9-4d7a-8c1e-2b9f03d4a5e7.local"
    txt = [b"id=6c21a0b3e5f94d7a", b"md=Chromecast", b"fn=Living Room TV", b"rs="]
    answer = lan.dns_sd_answer(service, instance, target, 8009, txt, CHROMECAST_V4)
    frame = lan_datagram(CHROMECAST, lan.MDNS_GROUP, ports, answer, rng.randrange(0x10000), 255)
    timeline.add(0.71866, frame)


def build_ssdp(timeline: Timeline) -> None:
    """Two SSDP M-SEARCHes for DIAL devices and the Chromecast's unicast reply."""
    rng = SEEDS.rng("ssdp")
    dial = "urn:dial-multiscreen-org:service:dial:1"
    search = lan.ssdp_search(dial, user_agent="Microsoft Edge/131.0 Windows")
    port = 54017
    for t in (0.80115, 0.90204):
        frame = lan_datagram(LAPTOP, lan.SSDP_GROUP, (port, 1900), search,
                             rng.randrange(0x10000), 1)
        timeline.add(t, frame)
    reply = lan.ssdp_search_reply(
        location=f"http://{CHROMECAST_V4}:8008/ssdp/device-desc.xml",
        server="Linux/3.8.13+, UPnP/1.0, Portable SDK for UPnP devices/1.6.18",
        target=dial,
        usn=f"uuid:6c21a0b3-e5f9-4d7a-8c1e-2b9f03d4a5e7::{dial}",
    )
    frame = lan_datagram(CHROMECAST, LAPTOP, (1900, port), reply, rng.randrange(0x10000), 64)
    timeline.add(1.17342, frame)


def build_netbios(timeline: Timeline) -> None:
    """Windows' broadcast NetBIOS name query for WPAD, sent three times, unanswered."""
    rng = SEEDS.rng("netbios")
    query = lan.nbns_name_query(rng.randrange(0x10000), "WPAD")
    subnet = host("192.168.1.255", BROADCAST_MAC)
    for t in (0.91133, 1.66152, 2.41170):
        frame = lan_datagram(LAPTOP, subnet, (137, 137), query, rng.randrange(0x10000), 128)
        timeline.add(t, frame)


def build_lan_noise(timeline: Timeline, link: links.EtherLink) -> None:
    """Everything local: ARP, DHCP, IPv6 discovery, ping, mDNS, SSDP, NetBIOS."""
    build_arp(timeline, link)
    build_dhcp(timeline)
    build_ipv6_discovery(timeline)
    build_ping(timeline, link)
    build_mdns(timeline)
    build_ssdp(timeline)
    build_netbios(timeline)


# --- The Zoom call ------------------------------------------------------------------------------


class Laptop:
    """The Zoom sample's client: its link, resolver and ephemeral port allocator."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.link = links.EtherLink(LAPTOP_MAC, ROUTER_MAC)
        rng = SEEDS.rng("dns/laptop")
        self.resolver = Resolver(timeline, self.link, LAPTOP_V4, 128, ROUTER_V4, 64, rng)
        self.next_port = 50713

    def port(self) -> int:
        """The next ephemeral port."""
        self.next_port += 1
        return self.next_port

    def udp(self, client: Peer, server: Peer, cport: int, sport: int) -> UdpFlow:
        """A UDP flow from this laptop."""
        return UdpFlow(self.timeline, self.link, client, server, cport, sport)

    def tcp(self, server: str, server_ttl: int, port: int, rtt: float, label: str) -> TcpFlow:
        """A TCP connection from this laptop (over IPv6 when `server` is IPv6)."""
        rng = SEEDS.rng(label)
        client = LAPTOP_V6 if ":" in server else LAPTOP_V4
        peers = new_peer(client, 128, rng), new_peer(server, server_ttl, rng)
        return TcpFlow(self.timeline, self.link, *peers, self.port(), port, rtt, rng)

    def tls(
        self, t: float, server: str, server_ttl: int, rtt: float, plan: TlsPlan, port: int = 443
    ) -> float:
        """A TLS connection from this laptop; returns when it ends."""
        flow = self.tcp(server, server_ttl, port, rtt, f"tls/{plan.sni}/{server}/{port}")
        return run_tls(flow, t, plan)


ZOOM_ANSWERS = {
    "zoom.us": Answer("zoom.us", v4=(ZOOM_WEB_V4,), v6=(ZOOM_WEB_V6,), ttl=60),
    "us05web.zoom.us": Answer("us05web.zoom.us", v4=(ZOOM_US05WEB,), ttl=60),
    "log.zoom.us": Answer("log.zoom.us", v4=(ZOOM_LOG,), ttl=60),
    "zoomfrn169mmr.zoom.us": Answer("zoomfrn169mmr.zoom.us", v4=(ZOOM_MMR_MEDIA,), ttl=60),
    "www.zoom.us": Answer("www.zoom.us", v4=(ZOOM_WEB_V4,), ttl=60),
    "www.googletagmanager.com": Answer("www.googletagmanager.com",
                                       ("www-googletagmanager.l.google.com",), (GTM_V4,), ttl=283),
    "graph.facebook.com": Answer("graph.facebook.com", ("star.c10r.facebook.com",),
                                 (FACEBOOK_V4,), ttl=1731),
    "ocsp.digicert.com": Answer("ocsp.digicert.com",
                                ("ocsp.edge.digicert.com", "fp2e7a.wpc.phicdn.net"),
                                (DIGICERT_V4,), ttl=1855),
    "updates.example.net": Answer("updates.example.net", v4=(UNKNOWN_V4,), ttl=3600),
}


def build_zoom_web(laptop: Laptop) -> None:
    """Sign-in and web API traffic: zoom.us over IPv6 and IPv4, us05web (post-quantum hello)."""
    resolve = laptop.resolver.lookup
    t = resolve(1.00214, ZOOM_ANSWERS["zoom.us"])
    laptop.tls(t + 0.0011, ZOOM_WEB_V6, 55, 0.0198, TlsPlan(
        sni="zoom.us", cert_flight=4120, exchanges=((0.0, 612, 7400), (0.35, 914, 1830)),
        close_after=1.1,
    ))
    long_lived = tuple((14.2, 180, 420) for _ in range(4))
    laptop.tls(t + 0.0823, ZOOM_WEB_V4, 53, 0.0211, TlsPlan(
        sni="zoom.us", alpn=("http/1.1",), cert_flight=4120,
        exchanges=((0.0, 530, 1260), *long_lived), close_after=0.5,
    ))
    t = resolve(1.40127, ZOOM_ANSWERS["us05web.zoom.us"])
    laptop.tls(t + 0.0009, ZOOM_US05WEB, 53, 0.0207, TlsPlan(
        sni="us05web.zoom.us", chromium=True, post_quantum=True, cert_flight=3980,
        exchanges=((0.0, 1460, 5200), (0.21, 740, 2900), (0.9, 1210, 880)), close_after=2.2,
    ))
    t = resolve(35.21077, ZOOM_ANSWERS["www.zoom.us"])
    laptop.tls(t + 0.0012, ZOOM_WEB_V4, 53, 0.0209, TlsPlan(
        sni="www.zoom.us", chromium=True, cert_flight=4120,
        exchanges=((0.0, 690, 14200), (0.12, 540, 3100)), close_after=1.4,
    ))


def build_ocsp(laptop: Laptop) -> None:
    """Certificate-status check over plain HTTP to ocsp.digicert.com, as Windows' CryptoAPI
    sends it."""
    t = laptop.resolver.lookup(1.58822, ZOOM_ANSWERS["ocsp.digicert.com"])
    flow = laptop.tcp(DIGICERT_V4, 56, 80, 0.0124, "ocsp")
    t = flow.open(t + 0.0008)
    cert_id = ocsp_cert_id(flow.rng)
    body = ocsp_request(cert_id)
    request = http_message("POST / HTTP/1.1", [
        ("Cache-Control", "no-cache"), ("Connection", "Keep-Alive"), ("Pragma", "no-cache"),
        ("Content-Type", "application/ocsp-request"), ("Accept", "*/*"),
        ("User-Agent", "Microsoft-CryptoAPI/10.0"), ("Content-Length", str(len(body))),
        ("Host", "ocsp.digicert.com"),
    ], body)
    produced = START - timedelta(hours=5, minutes=18, seconds=57)
    body = ocsp_response(flow.rng, cert_id, produced)
    response = http_message("HTTP/1.1 200 OK", [
        ("Accept-Ranges", "bytes"), ("Age", "2961"), ("Cache-Control", "max-age=169603"),
        ("Date", format_datetime(START + timedelta(seconds=1), usegmt=True)),
        ("Content-Type", "application/ocsp-response"), ("Content-Length", str(len(body))),
    ], body)
    t = flow.exchange(t + 0.0002, request, response, think=0.0011)
    flow.close(t + 0.105)


def build_trackers(laptop: Laptop) -> None:
    """Client telemetry upload, Google Tag Manager and the Facebook app-events endpoint."""
    resolve = laptop.resolver.lookup
    t = resolve(2.50493, ZOOM_ANSWERS["log.zoom.us"])
    laptop.tls(t + 0.0010, ZOOM_LOG, 53, 0.0214, TlsPlan(
        sni="log.zoom.us", alpn=("http/1.1",), cert_flight=4120,
        exchanges=((0.0, 14820, 310), (0.4, 9310, 310)), close_after=0.6,
    ))
    t = resolve(3.20118, ZOOM_ANSWERS["www.googletagmanager.com"])
    laptop.tls(t + 0.0008, GTM_V4, 117, 0.0118, TlsPlan(
        sni="www.googletagmanager.com", cert_flight=2640, exchanges=((0.0, 640, 24600),),
        close_after=1.9,
    ))
    t = resolve(3.61574, ZOOM_ANSWERS["graph.facebook.com"])
    laptop.tls(t + 0.0009, FACEBOOK_V4, 57, 0.0152, TlsPlan(
        sni="graph.facebook.com", cert_flight=2980,
        exchanges=((0.0, 1420, 120), (3.1, 1180, 120)), close_after=0.5,
    ))


def build_unknown_host(laptop: Laptop) -> None:
    """An update check to a host no catalog knows (documentation addresses)."""
    t = laptop.resolver.lookup(12.03355, ZOOM_ANSWERS["updates.example.net"], latency=0.041)
    laptop.tls(t + 0.0011, UNKNOWN_V4, 49, 0.0862, TlsPlan(
        sni="updates.example.net", alpn=("http/1.1",), cert_flight=2410,
        exchanges=((0.0, 350, 2400),), close_after=0.3,
    ))


def build_mmr_signalling(laptop: Laptop) -> None:
    """TLS on port 8443 to a meeting server, by address (no DNS), open for the whole call."""
    keepalives = tuple((4.9, 85, 85) for _ in range(10))
    laptop.tls(4.05219, ZOOM_MMR_SIGNAL, 55, 0.0233, TlsPlan(
        sni="zoomfrn170mmr.zoom.us", alpn=(), cert_flight=3010,
        exchanges=((0.0, 410, 690), (0.2, 220, 1540), *keepalives), close_after=5.1,
    ), port=8443)


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


def build_zoom_media(laptop: Laptop) -> None:
    """The meeting's media: STUN then RTP-like UDP to the MMR named only by DNS."""
    t = laptop.resolver.lookup(4.50342, ZOOM_ANSWERS["zoomfrn169mmr.zoom.us"])
    rng = SEEDS.rng("zoom/media")
    client = new_peer(LAPTOP_V4, 128, rng)
    to_stun = laptop.udp(client, new_peer(ZOOM_MMR_MEDIA, 55, rng), 52100, 3478)
    t = stun_binding(to_stun, t + 0.0006, stun_txid(to_stun), (PUBLIC_V4, 52100), 0.0231)
    media = laptop.udp(client, new_peer(ZOOM_MMR_MEDIA, 55, rng), 52100, 8801)
    play_media(media, t + 0.4, 59.5, ZOOM_UP, ZOOM_DOWN, rng)


def build_unnamed_zoom_udp(laptop: Laptop) -> None:
    """A second media-path probe to a Zoom address nobody names: no DNS, no SNI."""
    rng = SEEDS.rng("zoom/unnamed")
    client, server = new_peer(LAPTOP_V4, 128, rng), new_peer(ZOOM_UNNAMED, 52, rng)
    flow = laptop.udp(client, server, 52102, 8801)
    times = [4.61877 + 0.2 * i for i in range(4)] + [10.0 * k + 0.73 for k in range(1, 6)]
    for t in times:
        flow.up(t, b"\x05\x10" + rng.randbytes(rng.randint(58, 118)))
        flow.down(t + 0.0289, b"\x05\x11" + rng.randbytes(rng.randint(40, 96)))


def zoom_capture() -> Timeline:
    """The whole Zoom desktop sample."""
    timeline = Timeline()
    laptop = Laptop(timeline)
    build_lan_noise(timeline, laptop.link)
    build_zoom_web(laptop)
    build_ocsp(laptop)
    build_trackers(laptop)
    build_mmr_signalling(laptop)
    build_zoom_media(laptop)
    build_unnamed_zoom_udp(laptop)
    build_unknown_host(laptop)
    return timeline


# --- The Teams sample (Linux, tcpdump -i any) ---------------------------------------------------


TEAMS_ANSWERS = {
    "teams.microsoft.com": Answer(
        "teams.microsoft.com", ("teams-office-com.s-0005.dc-msedge.net", "s-0005.dc-msedge.net"),
        (TEAMS_WEB,), ttl=242),
    "mobile.pipe.aria.microsoft.com": Answer(
        "mobile.pipe.aria.microsoft.com",
        ("mobile.events.data.trafficmanager.net", "onedscolprdeus15.eastus.cloudapp.azure.com"),
        (ARIA_V4,), ttl=35, zone="cloudapp.azure.com"),
}

WLAN_IFINDEX = 3


def teams_tls(
    timeline: Timeline, link: links.CookedLink, t: float, server: str, rtt: float, port: int,
    plan: TlsPlan,
) -> float:
    """A TLS connection from the Linux laptop (Linux SYN options and window)."""
    rng = SEEDS.rng(f"teams/tls/{plan.sni}")
    peers = new_peer(LINUX_V4, 64, rng), new_peer(server, 110, rng)
    syn_options = linux_syn_options(rng.getrandbits(32))
    flow = TcpFlow(timeline, link, *peers, port, 443, rtt, rng, syn_options, client_window=502)
    return run_tls(flow, t, plan)


TEAMS_UP = (Stream(0x2C4A9E11, 111, 48000, 0.080, (110, 180)),)
TEAMS_DOWN = (Stream(0x7B0D3F42, 111, 48000, 0.080, (110, 180)),)
TEAMS_VIDEO_UP = (Stream(0x2C4A9E12, 107, 90000, 0.500, (900, 1150)),)
TEAMS_VIDEO_DOWN = (Stream(0x7B0D3F43, 107, 90000, 0.250, (900, 1150)),)


def build_teams_media(timeline: Timeline, link: links.CookedLink) -> None:
    """STUN to the media relay, then audio (3479) and video (3480): addresses named by nothing."""
    rng = SEEDS.rng("teams/media")
    client = new_peer(LINUX_V4, 64, rng)
    stun = UdpFlow(timeline, link, client, new_peer(TEAMS_MEDIA, 108, rng), 50012, 3478)
    t = stun_binding(stun, 1.20412, stun_txid(stun), (PUBLIC_V4, 50012), 0.0274)
    audio = UdpFlow(timeline, link, client, new_peer(TEAMS_MEDIA, 108, rng), 50012, 3479)
    play_media(audio, t + 0.1, 9.9, TEAMS_UP, TEAMS_DOWN, rng)
    video = UdpFlow(timeline, link, client, new_peer(TEAMS_MEDIA, 108, rng), 50014, 3480)
    play_media(video, t + 0.3, 9.9, TEAMS_VIDEO_UP, TEAMS_VIDEO_DOWN, rng)


def build_teams_arp(timeline: Timeline, link: links.CookedLink) -> None:
    """The laptop resolves the router over Wi-Fi."""
    who_has = lan.arp(lan.ARP_REQUEST, LINUX_MAC, LINUX_V4, ZERO_MAC, ROUTER_V4)
    timeline.add(5.01733, link.frame(who_has, True, links.ETHERTYPE_ARP))
    reply = lan.arp(lan.ARP_REPLY, LINUX_ROUTER_MAC, ROUTER_V4, LINUX_MAC, LINUX_V4)
    timeline.add(5.01902, link.frame(reply, False, links.ETHERTYPE_ARP))


def teams_capture() -> Timeline:
    """The whole Teams sample."""
    timeline = Timeline()
    link = links.CookedLink(WLAN_IFINDEX, LINUX_MAC, LINUX_ROUTER_MAC)
    rng = SEEDS.rng("teams/dns")
    upstream = Resolver(timeline, link, LINUX_V4, 64, ROUTER_V4, 64, rng, edns_payload=1232)
    t = stub_lookup(timeline, upstream, 0.01107, TEAMS_ANSWERS["teams.microsoft.com"])
    teams_tls(timeline, link, t + 0.0004, TEAMS_WEB, 0.0241, 41876, TlsPlan(
        sni="teams.microsoft.com", chromium=True, cert_flight=5230,
        exchanges=((0.0, 1380, 6100), (0.4, 920, 2300), (6.5, 640, 380)), close_after=None,
    ))
    aria = TEAMS_ANSWERS["mobile.pipe.aria.microsoft.com"]
    t = stub_lookup(timeline, upstream, 0.61542, aria)
    teams_tls(timeline, link, t + 0.0004, ARIA_V4, 0.0817, 48220, TlsPlan(
        sni="mobile.pipe.aria.microsoft.com", alpn=("http/1.1",), chromium=True,
        cert_flight=4870, exchanges=((0.0, 3120, 210),), close_after=0.25,
    ))
    build_teams_media(timeline, link)
    build_teams_arp(timeline, link)
    return timeline


def generate(out_dir: Path) -> dict[str, int]:
    """Write both samples into `out_dir`; returns packets written per file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    zoom = zoom_capture().in_time_order()
    write_capture(out_dir / ZOOM_FILE, zoom, links.LINKTYPE_ETHERNET, START_US, pcapng=True)
    teams = teams_capture().in_time_order()
    write_capture(out_dir / TEAMS_FILE, teams, links.LINKTYPE_LINUX_SLL2, START_US, pcapng=False)
    return {ZOOM_FILE: len(zoom), TEAMS_FILE: len(teams)}


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and write the samples."""
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

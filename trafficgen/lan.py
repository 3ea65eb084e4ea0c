"""What devices on a home LAN say besides the call: ARP, DHCP, IPv6 neighbour discovery, mDNS
and DNS-SD, SSDP, NetBIOS name queries and LLDP.

Messages are returned as bytes, for `links.udp_frame` (or a `Link`) to frame; `nd_frame` frames
neighbour discovery, whose checksum covers the IPv6 addresses.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dns import DNS, DNSQR, DNSRR, DNSRRSRV
from scapy.layers.inet6 import (
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_RS,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptMTU,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptSrcLLAddr,
)
from scapy.layers.netbios import NBNSHeader, NBNSQueryRequest

from trafficgen.addresses import Host, host, ip_bytes, mac_bytes
from trafficgen.http import http_message
from trafficgen.ip import PROTO_ICMPV6, icmpv6
from trafficgen.links import ETHERTYPE_LLDP, ethernet, host_frame

ARP_REQUEST, ARP_REPLY = 1, 2
MDNS_GROUP = host("224.0.0.251", "01:00:5e:00:00:fb")
SSDP_GROUP = host("239.255.255.250", "01:00:5e:7f:ff:fa")
LLDP_MAC = "01:80:c2:00:00:0e"
FLUSH_IN = 0x8001  # class IN with mDNS's cache-flush bit: a unique record


def arp(op: int, hwsrc: str, psrc: str, hwdst: str, pdst: str) -> bytes:
    """An ARP message for Ethernet and IPv4 (`ARP_REQUEST` or `ARP_REPLY`)."""
    return struct.pack(
        "!HHBBH6s4s6s4s",
        1, 0x0800, 6, 4, op, mac_bytes(hwsrc), ip_bytes(psrc), mac_bytes(hwdst), ip_bytes(pdst),
    )


def dhcp_message(
    op: int, xid: int, client_mac: str, options: list[object], yiaddr: str = "0.0.0.0"
) -> bytes:
    """A BOOTP message (1 request, 2 reply) carrying DHCP `options` in scapy's notation."""
    chaddr = mac_bytes(client_mac) + b"\x00" * 10
    return bytes(BOOTP(op=op, xid=xid, yiaddr=yiaddr, chaddr=chaddr) / DHCP(options=options))


def nd_frame(src: Host, dst: Host, message: bytes) -> bytes:
    """A neighbour-discovery `message` in IPv6 (hop limit 255) and Ethernet, checksum filled."""
    return host_frame(src, dst, PROTO_ICMPV6, icmpv6(src.ip, dst.ip, message), 0, 255)


def router_solicitation(mac: str) -> bytes:
    """ICMPv6 Router Solicitation with the sender's link-layer address."""
    return bytes(ICMPv6ND_RS(cksum=0) / ICMPv6NDOptSrcLLAddr(lladdr=mac))


def router_advertisement(
    mac: str, prefix: str, prefixlen: int, valid: int, preferred: int, lifetime: int = 1800
) -> bytes:
    """ICMPv6 Router Advertisement: hop limit 64, MTU 1500, one autonomous on-link prefix."""
    return bytes(
        ICMPv6ND_RA(cksum=0, chlim=64, routerlifetime=lifetime)
        / ICMPv6NDOptSrcLLAddr(lladdr=mac)
        / ICMPv6NDOptMTU(mtu=1500)
        / ICMPv6NDOptPrefixInfo(
            prefix=prefix,
            prefixlen=prefixlen,
            L=1,
            A=1,
            validlifetime=valid,
            preferredlifetime=preferred,
        )
    )


def neighbour_solicitation(target: str, mac: str) -> bytes:
    """ICMPv6 Neighbour Solicitation for `target`, from the host with `mac`."""
    return bytes(ICMPv6ND_NS(cksum=0, tgt=target) / ICMPv6NDOptSrcLLAddr(lladdr=mac))


def neighbour_advertisement(target: str, mac: str) -> bytes:
    """A router's solicited Neighbour Advertisement for its own address `target`."""
    return bytes(ICMPv6ND_NA(cksum=0, tgt=target, R=1, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=mac))


def mdns_query(name: str, qtype: str) -> bytes:
    """A one-shot multicast DNS question."""
    return bytes(DNS(id=0, qd=[DNSQR(qname=name, qtype=qtype)]))


def dns_sd_answer(
    service: str, instance: str, target: str, port: int, txt: Sequence[bytes], address: str
) -> bytes:
    """A device's mDNS answer to a DNS-SD browse: PTR to its instance, then TXT, SRV and its
    address as additional records (names compressed)."""
    answer = DNS(
        id=0,
        qr=1,
        aa=1,
        qd=[],
        an=[DNSRR(rrname=service, type="PTR", ttl=120, rdata=instance)],
        ar=[
            DNSRR(rrname=instance, type="TXT", rclass=FLUSH_IN, ttl=4500, rdata=txt),
            DNSRRSRV(rrname=instance, rclass=FLUSH_IN, ttl=120, port=port, target=target),
            DNSRR(rrname=target, type="A", rclass=FLUSH_IN, ttl=120, rdata=address),
        ],
    )
    return bytes(answer.compress())


def mdns_announcement(name: str, address: str) -> bytes:
    """An unsolicited mDNS announcement of `name`'s IPv4 address."""
    record = DNSRR(rrname=name, type="A", rdata=address, ttl=120, rclass=FLUSH_IN)
    return bytes(DNS(id=0, qr=1, aa=1, qd=[], an=[record]))


def ssdp_search(target: str, user_agent: str | None = None) -> bytes:
    """An SSDP M-SEARCH for the search target `target`."""
    headers = [("HOST", f"{SSDP_GROUP.text}:1900"), ("MAN", '"ssdp:discover"'), ("MX", "1"),
               ("ST", target)]
    if user_agent:
        headers.append(("USER-AGENT", user_agent))
    return http_message("M-SEARCH * HTTP/1.1", headers)


def ssdp_search_reply(location: str, server: str, target: str, usn: str) -> bytes:
    """A device's unicast answer to an M-SEARCH."""
    return http_message(
        "HTTP/1.1 200 OK",
        [("CACHE-CONTROL", "max-age=1800"), ("LOCATION", location), ("EXT", ""),
         ("SERVER", server), ("ST", target), ("USN", usn)],
    )


def ssdp_notify(location: str, server: str) -> bytes:
    """A UPnP root device's `ssdp:alive` announcement."""
    return http_message(
        "NOTIFY * HTTP/1.1",
        [("HOST", f"{SSDP_GROUP.text}:1900"), ("CACHE-CONTROL", "max-age=1800"),
         ("LOCATION", location), ("NT", "upnp:rootdevice"), ("NTS", "ssdp:alive"),
         ("SERVER", server)],
    )


def nbns_name_query(trn_id: int, name: str) -> bytes:
    """A broadcast NetBIOS name query (recursion desired, broadcast flag) for `name`."""
    header = NBNSHeader(NAME_TRN_ID=trn_id, NM_FLAGS=0x11)
    return bytes(header / NBNSQueryRequest(QUESTION_NAME=name))


def lldp_frame(src_mac: str, tlvs: bytes) -> bytes:
    """An LLDP frame to the nearest-bridge group address, padded to the Ethernet minimum."""
    return ethernet(LLDP_MAC, src_mac, tlvs.ljust(46, b"\x00"), ETHERTYPE_LLDP)

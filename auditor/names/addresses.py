"""Where an address can be reached from: the public Internet, a private network behind the
user's router, a multicast group, or only this host.

Two decisions rest on it: which side of a flow is its server (between a private and a public
address, the public one: capture.orientation) and which addresses a local-only name can name
(an mDNS or LLMNR answer names a local address, never a remote peer: names.dns_index).

"Private" here is any address that does not route on the public Internet but names a host on
a network: RFC 1918, the carrier-grade NAT space (100.64.0.0/10, RFC 6598: the user's side of
an ISP's NAT), IPv6 unique local (fc00::/7) and link-local (169.254.0.0/16, fe80::/10). The
classifier's `local` category is narrower (CGNAT stays out of it, see catalog/local.toml):
an address can be private for orientation and still be reported as leaving the LAN.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from functools import lru_cache

_PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # RFC 1918
    "100.64.0.0/10",  # RFC 6598, shared address space behind a carrier-grade NAT
    "169.254.0.0/16",  # RFC 3927, IPv4 link-local
    "fc00::/7",  # RFC 4193, unique local
    "fe80::/10",  # RFC 4291, link-local
))
_HOST_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "0.0.0.0/8", "::1/128", "::/128",  # loopback, "this host", unspecified
))
_GROUP_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "224.0.0.0/4", "255.255.255.255/32", "ff00::/8",  # multicast, limited broadcast
))


class AddressScope(StrEnum):
    """Where an address can be reached from."""

    PUBLIC = "public"  # routed on the Internet (anything not listed below)
    PRIVATE = "private"  # a host on a private network: RFC 1918, CGNAT, ULA, link-local
    GROUP = "group"  # multicast or limited broadcast: a destination, never a sender
    HOST = "host"  # loopback, "this host" (0.0.0.0/8) and the unspecified address


@lru_cache(maxsize=65536)
def address_scope(address: str | bytes) -> AddressScope | None:
    """The scope of an IPv4 or IPv6 address given as text or packed bytes (4 or 16); None when
    it is not an address. An IPv4-mapped IPv6 address has its IPv4 address's scope."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    for networks, scope in ((_PRIVATE_NETWORKS, AddressScope.PRIVATE),
                            (_GROUP_NETWORKS, AddressScope.GROUP),
                            (_HOST_NETWORKS, AddressScope.HOST)):
        if any(parsed in network for network in networks):
            return scope
    return AddressScope.PUBLIC


def is_local_address(address: str | bytes) -> bool:
    """Whether an address is anything but public (private, multicast, broadcast, loopback):
    what a local-only name (mDNS, LLMNR) may name. False for text that is not an address."""
    scope = address_scope(address)
    return scope is not None and scope is not AddressScope.PUBLIC

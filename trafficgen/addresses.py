"""Addresses as the wire carries them: MAC and IP addresses in bytes, and hosts that have both."""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field

BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"
ZERO_MAC = "00:00:00:00:00:00"


def mac_bytes(mac: str) -> bytes:
    """`3c:a9:f4:5b:19:7e` as 6 bytes."""
    return bytes.fromhex(mac.replace(":", ""))


def ip_bytes(addr: str) -> bytes:
    """An IPv4 (4 bytes) or IPv6 (16 bytes) address in network order."""
    return ipaddress.ip_address(addr).packed


def is_ipv6(addr: str) -> bool:
    """Whether `addr` is written as an IPv6 address."""
    return ":" in addr


@dataclass(frozen=True, slots=True)
class Host:
    """An IP address and the MAC address its frames carry on the capturing LAN (for a host
    off the LAN: its router's)."""

    ip: bytes
    mac: bytes

    @property
    def text(self) -> str:
        """The IP address as text."""
        return str(ipaddress.ip_address(self.ip))


def host(addr: str, mac: str = "00:1a:2b:00:00:01") -> Host:
    """A `Host` from text addresses."""
    return Host(ip_bytes(addr), mac_bytes(mac))


@dataclass
class AddressPool:
    """Addresses drawn at random from blocks, never the same one twice."""

    rng: random.Random
    used: set[str] = field(default_factory=set)

    def take(self, block: str) -> str:
        """A new address in `block`: an IPv4 prefix of one to three octets (`"52.112"`), or an
        IPv6 prefix ending in `::` (a random last group)."""
        while True:
            if ":" in block:
                address = f"{block}{self.rng.randrange(1, 0xFFFF):x}"
            else:
                octets = [str(self.rng.randrange(0, 256)) for _ in range(2 - block.count("."))]
                address = ".".join([block, *octets, str(self.rng.randrange(2, 254))])
            if address not in self.used:
                self.used.add(address)
                return address

"""Writes small MaxMind DB (`.mmdb`) files for tests, following the published format
(maxmind.github.io/MaxMind-DB): an IPv6 search tree with 24-bit records (IPv4 networks under
::/96), a data section of maps, strings and unsigned integers, and the metadata map. The real
`maxminddb` reader reads them, so tests exercise it without bundling any MaxMind data."""

from __future__ import annotations

import ipaddress
import struct
from pathlib import Path
from typing import Any

METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"


def _control(kind: int, size: int) -> bytes:
    """A field's control byte(s): its type and payload size (sizes under 285 only)."""
    extended = kind > 7
    head = (0 if extended else kind) << 5
    out = bytes([head | min(size, 29)])
    if extended:
        out += bytes([kind - 7])
    if size >= 29:
        out += bytes([size - 29])
    return out


_UINT_TYPES = {"uint16": 5, "uint32": 6, "uint64": 9}


def encode(value: Any) -> bytes:
    """One value in the data section's encoding; `("uint16", n)` picks an integer type."""
    if isinstance(value, tuple):
        kind, number = _UINT_TYPES[value[0]], value[1]
        raw = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
        return _control(kind, len(raw)) + raw
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _control(2, len(raw)) + raw
    if isinstance(value, dict):
        out = _control(7, len(value))
        for key, item in value.items():
            out += encode(key) + encode(item)
        return out
    if isinstance(value, list):
        return _control(11, len(value)) + b"".join(encode(v) for v in value)
    if isinstance(value, int):
        kind = 6 if value < 2**32 else 9
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
        return _control(kind, len(raw)) + raw
    raise TypeError(f"cannot encode {value!r}")


def _bits(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    if network.version == 4:
        value, length = int(network.network_address), 96 + network.prefixlen
    else:
        value, length = int(network.network_address), network.prefixlen
    return format(value, "0128b")[:length]


def write_mmdb(path: Path, records: dict[str, dict[str, Any]], database_type: str,
               build_epoch: int = 1_780_000_000) -> Path:
    """Write `records` (network -> record map) as a MaxMind DB file."""
    data = b""
    offsets: dict[str, int] = {}
    for network, record in records.items():
        offsets[network] = len(data)
        data += encode(record)
    tree: list[list[Any]] = [[None, None]]  # node: [left, right]; child = int node | ("data", off)
    for network, offset in offsets.items():
        bits = _bits(ipaddress.ip_network(network))
        node = 0
        for depth, bit in enumerate(bits):
            side = int(bit)
            if depth == len(bits) - 1:
                tree[node][side] = ("data", offset)
                break
            child = tree[node][side]
            if not isinstance(child, int):
                tree.append([None, None])
                child = tree[node][side] = len(tree) - 1
            node = child
    count = len(tree)
    body = b""
    for left, right in tree:
        for child in (left, right):
            if child is None:
                value = count
            elif isinstance(child, int):
                value = child
            else:
                value = count + 16 + child[1]
            body += struct.pack(">I", value)[1:]
    metadata = encode({
        "node_count": ("uint32", count), "record_size": ("uint16", 24),
        "ip_version": ("uint16", 6), "database_type": database_type, "languages": ["en"],
        "binary_format_major_version": ("uint16", 2), "binary_format_minor_version": ("uint16", 0),
        "build_epoch": ("uint64", build_epoch), "description": {"en": f"test {database_type}"},
    })
    path.write_bytes(body + bytes(16) + data + METADATA_MARKER + metadata)
    return path

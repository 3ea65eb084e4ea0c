"""Shared test fixtures: the real captures beside the repository, the catalog, and helpers
that write scapy-built packets into capture files."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from scapy.layers.inet import TCP
from scapy.layers.tls.record import TLS
from scapy.packet import Packet, split_layers
from scapy.utils import PcapNgWriter, PcapWriter

import auditor
from auditor.capture.reading import CaptureReading
from auditor.classify.catalog import Catalog, load_catalog
from auditor.records import record_to_dict

# Importing scapy's TLS layer (the tests build ClientHellos with it) binds it to TCP port 443
# for the rest of the process, so any later dissection of a port-443 payload would become a
# TLS parse and rebuild, and results would depend on test order. Import it here, before any
# test module, and undo the binding: TLS is built explicitly, never guessed from the port.
split_layers(TCP, TLS, sport=443)
split_layers(TCP, TLS, dport=443)

REPO = Path(__file__).resolve().parents[1]
SHARED_CAPTURES = REPO.parent / "shared" / "captures"
SAMPLES = REPO / "captures"
INSTALLED_PACKAGE = Path(auditor.__file__).resolve().parent
FROM_SOURCE_TREE = INSTALLED_PACKAGE == REPO / "auditor"


def pytest_configure(config: pytest.Config) -> None:
    """`./dev.sh test` (and CI) test the installed wheel: refuse to run if `auditor` was
    imported from this checkout instead, since that would hide files missing from the wheel."""
    if os.environ.get("VCAUDIT_TEST_INSTALLED") and FROM_SOURCE_TREE:
        pytest.exit(f"auditor was imported from the source tree ({INSTALLED_PACKAGE}), not "
                    "from the installed wheel; run the tests with ./dev.sh test", returncode=4)


@pytest.fixture(scope="session")
def shared_captures() -> Path:
    """../shared/captures, or a skip: a user's fresh clone does not have it."""
    if not (SHARED_CAPTURES / "pcap").is_dir():
        pytest.skip(f"real captures not present at {SHARED_CAPTURES} (only beside the "
                    "project's CI checkout)")
    return SHARED_CAPTURES


@pytest.fixture(autouse=True)
def _no_user_lists_or_config(tmp_path_factory: pytest.TempPathFactory,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read the real ~/.config/vcaudit or ~/.cache/vcaudit: each test starts with an
    empty cache and no config file (subprocesses inherit the same environment)."""
    home = tmp_path_factory.mktemp("vcaudit-home")
    monkeypatch.setenv("VCAUDIT_CACHE", str(home / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("VCAUDIT_CONFIG", raising=False)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The built-in catalog, loaded once."""
    return load_catalog()


def write_pcap(path: Path, packets: Iterable[Packet], linktype: int | None = None) -> Path:
    """Write scapy packets (with their .time) to a classic pcap file."""
    with PcapWriter(str(path), linktype=linktype, sync=True) as writer:
        for packet in packets:
            writer.write(packet)
    return path


def write_pcapng(path: Path, packets: Iterable[Packet]) -> Path:
    """Write scapy packets to a pcapng file (scapy makes one interface per `sniffed_on`
    name, with the link type of its first packet)."""
    with PcapNgWriter(str(path)) as writer:
        for packet in packets:
            writer.write(packet)
    return path


def tls_client_hello(
    server_name: bytes | None = b"meet.google.com",
    alpn: tuple[bytes, ...] = (b"h2", b"http/1.1"),
    versions: tuple[int, ...] = (0x3A3A, 0x0304, 0x0303),
    extra: tuple[bytes, ...] = (),
) -> bytes:
    """A browser-like TLS 1.3 ClientHello handshake message (type byte first), built with
    scapy's TLS layer: GREASE extensions first and last, a post-quantum X25519MLKEM768 key
    share (1216 + 32 bytes) and a GREASE ECH extension, so it is about 1.6 KB and needs two
    TCP segments. `extra` extensions (raw bytes) go after the SNI and ALPN."""
    from scapy.layers.tls.extensions import (
        ProtocolName,
        ServerName,
        TLS_Ext_ALPN,
        TLS_Ext_ServerName,
        TLS_Ext_SupportedGroups,
        TLS_Ext_SupportedVersion_CH,
        TLS_Ext_Unknown,
    )
    from scapy.layers.tls.handshake import TLSClientHello
    from scapy.layers.tls.keyexchange_tls13 import KeyShareEntry, TLS_Ext_KeyShare_CH

    filler = bytes(range(256)) * 8
    extensions: list[Any] = [TLS_Ext_Unknown(type=0x0A0A, val=b"")]  # GREASE
    if server_name is not None:
        extensions.append(TLS_Ext_ServerName(servernames=[ServerName(servername=server_name)]))
    extensions.append(TLS_Ext_SupportedGroups(groups=[0x2A2A, 0x11EC, 29, 23, 24]))
    if alpn:
        extensions.append(TLS_Ext_ALPN(protocols=[ProtocolName(protocol=p) for p in alpn]))
    extensions += [TLS_Ext_Unknown(raw) for raw in extra]
    if versions:
        extensions.append(TLS_Ext_SupportedVersion_CH(versions=list(versions)))
    extensions += [
        TLS_Ext_KeyShare_CH(client_shares=[
            KeyShareEntry(group=0x2A2A, key_exchange=b"\x00"),  # GREASE share
            KeyShareEntry(group=0x11EC, key_exchange=filler[: 1216 + 32]),  # X25519MLKEM768
            KeyShareEntry(group=29, key_exchange=filler[7:39]),  # X25519
        ]),
        TLS_Ext_Unknown(type=0xFE0D, val=filler[:218]),  # GREASE encrypted_client_hello
        TLS_Ext_Unknown(type=0xFAFA, val=b"\x00"),  # GREASE
    ]
    hello = TLSClientHello(
        version=0x0303,
        gmt_unix_time=0x11223344,
        random_bytes=filler[100:128],
        sid=filler[:32],
        ciphers=[0x5A5A, 0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xCCA9],
        comp=[0],
        ext=extensions,
    )
    return bytes(hello)


def tls_records(handshake: bytes, split_at: tuple[int, ...] = ()) -> bytes:
    """Wrap a handshake message in TLS records, one record per piece cut at `split_at`."""
    cuts = (0, *split_at, len(handshake))
    out = b""
    for start, end in pairwise(cuts):
        piece = handshake[start:end]
        out += b"\x16\x03\x01" + len(piece).to_bytes(2, "big") + piece
    return out


def script_module(path: Path) -> ModuleType:
    """A script of the checkout (under bench/ or captures/) loaded as a module, once: kept in
    sys.modules under a name of its own (dataclasses look their module up while being
    built), with sys.path left as it was (a script puts the checkout's root on it, from which
    the rest of the run must not import `auditor`)."""
    name = f"script_{path.parent.name}_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    before = list(sys.path)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = before
    return module


def reading_contents(reading: CaptureReading) -> dict[str, Any]:
    """All a capture reading holds, comparable: two ways of reading must give the same."""
    return {
        "flows": [record_to_dict(flow) for flow in reading.flows],
        "dns": [record_to_dict(answer) for answer in reading.dns_answers],
        "anomalies": reading.anomalies.summary(),
        "findings": [record_to_dict(f) for f in reading.findings],
        "non_ip": reading.non_ip, "other_ip": reading.other_ip,
        "packets": reading.status.packets, "truncated": reading.status.truncated,
        "snaplen_cut": reading.status.snaplen_cut,
    }

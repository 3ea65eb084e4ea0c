"""Shared test fixtures: the real captures beside the repository, the catalog, and helpers
that write scapy-built packets into capture files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from scapy.packet import Packet
from scapy.utils import PcapNgWriter, PcapWriter

from auditor.catalog import Catalog, load_catalog

REPO = Path(__file__).resolve().parents[1]
SHARED_CAPTURES = REPO.parent / "shared" / "captures"
SAMPLES = REPO / "captures"


@pytest.fixture(scope="session")
def shared_captures() -> Path:
    """../shared/captures, or a skip: a user's fresh clone does not have it."""
    if not (SHARED_CAPTURES / "pcap").is_dir():
        pytest.skip(f"real captures not present at {SHARED_CAPTURES} (only beside the "
                    "project's CI checkout)")
    return SHARED_CAPTURES


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
    """Write scapy packets to a pcapng file (one interface per link type)."""
    with PcapNgWriter(str(path)) as writer:
        for packet in packets:
            writer.write(packet)
    return path

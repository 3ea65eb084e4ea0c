"""The speed benchmark's capture generator (bench/make_capture.py) stays correct: a small
session read by vcaudit gives exactly the flows, names and counts the generator planned.

The benchmark itself (bench/pcap_speed.py) is not part of the test suite."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from auditor.capture.reading import read_capture

from .conftest import script_module

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(scope="module")
def make_capture() -> ModuleType:
    return script_module(BENCH / "make_capture.py")


def flow_rows(flows: Iterable[Any]) -> set[tuple[Any, ...]]:
    """Planned flows (strings) or read ones (enums) as comparable rows."""
    return {(str(getattr(f.transport, "value", f.transport)), f.client_ip, f.client_port,
             f.server_ip, f.server_port, f.host,
             str(getattr(f.host_source, "value", f.host_source))) for f in flows}


@pytest.mark.parametrize("pcapng", [False, True], ids=["pcap", "pcapng"])
def test_vcaudit_finds_what_the_generator_planned(tmp_path: Path, make_capture: ModuleType,
                                                  pcapng: bool) -> None:
    path = tmp_path / ("session.pcapng" if pcapng else "session.pcap")
    manifest = make_capture.build_capture(path, packets=20_000, pcapng=pcapng)
    assert manifest.packets == 20_000

    reading = read_capture(path)

    assert reading.status.file_format == ("pcapng" if pcapng else "pcap")
    assert reading.status.packets == 20_000 and reading.status.truncated is None
    assert sum(reading.non_ip.values()) == manifest.non_ip_frames > 0
    assert reading.anomalies.total() == 0
    assert len(reading.flows) == len(manifest.flows)
    assert flow_rows(reading.flows) == flow_rows(manifest.flows)
    # a realistic mix: every naming method, media most of the packets, DNS a few percent
    sources = Counter(f.host_source.value for f in reading.flows)
    assert {"sni", "quic-sni", "http-host", "dns", "none"} <= set(sources)
    kinds = manifest.packets_by_kind
    assert kinds["media"] > 0.8 * manifest.packets
    assert 0.005 * manifest.packets < kinds["dns"] < 0.05 * manifest.packets
    assert {"tls", "quic", "stun-probe", "noise", "http"} <= set(kinds)
    assert Counter(f.transport.value for f in reading.flows) == Counter(
        f.transport for f in manifest.flows)


def test_the_capture_is_deterministic(tmp_path: Path, make_capture: ModuleType) -> None:
    first = make_capture.build_capture(tmp_path / "a.pcap", packets=5_000)
    second = make_capture.build_capture(tmp_path / "b.pcap", packets=5_000)
    assert (tmp_path / "a.pcap").read_bytes() == (tmp_path / "b.pcap").read_bytes()
    assert first.summary() | {"path": ""} == second.summary() | {"path": ""}
    other = make_capture.build_capture(tmp_path / "c.pcap", packets=5_000, seed=2)
    assert (tmp_path / "c.pcap").read_bytes() != (tmp_path / "a.pcap").read_bytes()
    assert other.packets == 5_000

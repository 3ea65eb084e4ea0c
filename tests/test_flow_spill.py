"""Flows kept on disk: records under dense keys in any order, and the FlowStore a capture's
flows live in, read back exactly as they were written."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.capture import flow_spill
from auditor.capture.flow_spill import FlowStore, RecordSpill, flow_record, record_flow
from auditor.capture.reading import read_capture
from auditor.records import Flow, HostSource, Media, Orientation, Transport, Visibility

from .conftest import SAMPLES


def test_records_come_back_in_key_order_whatever_order_they_were_put() -> None:
    spill = RecordSpill()
    for key in (5, 0, 3, 9):
        spill.put(key, (key, f"flow {key}", None, b"\x00\xff", (1.5, ("a", "b"))))
    assert len(spill) == 4 and spill.keys_seen == 10
    assert [key for key, _ in spill.in_key_order()] == [0, 3, 5, 9]
    assert spill.get(3) == (3, "flow 3", None, b"\x00\xff", (1.5, ("a", "b")))
    assert spill.get(4) is None and spill.get(42) is None
    assert [key for key, _ in spill.in_key_order(start=4)] == [5, 9]
    spill.close()


def test_a_large_spill_is_read_a_window_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow_spill, "READ_ALL_BELOW", 0)
    monkeypatch.setattr(flow_spill, "READ_WINDOW", 64)
    spill = RecordSpill()
    keys = list(range(200))
    for key in reversed(keys):  # the worst order for windows
        spill.put(key, (key, "x" * (key % 50)))
    assert [record for _, record in spill.in_key_order()] == [(k, "x" * (k % 50)) for k in keys]


def sample_flow(n: int) -> Flow:
    return Flow(f"F{n:06d}", 1.0 + n, 2.5 + n, Transport.UDP, "192.168.1.23", 50000 + n,
                "198.51.100.7", 3478, orientation=Orientation.PRIVATE_PUBLIC,
                host="relay.example", host_source=HostSource.DNS, app_proto="stun",
                bytes_up=10 * n, bytes_down=None, packets_up=n, packets_down=0,
                visibility=Visibility.PLAINTEXT, alpn=("h2",), dns_names=("relay.example",),
                name_evidence="IP 198.51.100.7 named relay.example", vlan=(10, 20),
                media=Media(protocols=("stun", "rtp"), relay=True, payload_types=(96, 111),
                            packet_rate=50.5, mapped_address="[2001:db8::1]:5000"))


def test_a_flow_survives_its_plain_record() -> None:
    flow = sample_flow(7)
    assert record_flow(flow_record(flow)) == flow
    bare = Flow("F1", 0.0, 0.0, Transport.ICMP, None, None, None, None)
    assert record_flow(flow_record(bare)) == bare


def test_flow_store_is_a_sequence_of_the_flows_added() -> None:
    flows = [sample_flow(n) for n in range(1, 6)]
    store = FlowStore()
    for flow in flows:
        store.append(flow, int(flow.flow_id[1:]) * 2)  # numbers need only increase
    assert store == flows and list(store) == flows and len(store) == 5
    assert store[0] == flows[0] and store[-1] == flows[-1] and store[1:3] == flows[1:3]
    assert list(store.starts) == [f.ts_start for f in flows]
    assert store.position(6) == 2 and store.position(7) is None
    assert store.flow_id(4) == "F000005"
    with pytest.raises(IndexError):
        store[5]
    store.close()


def test_a_capture_s_flows_are_kept_on_disk() -> None:
    reading = read_capture(SAMPLES / "zoom-desktop-call.pcapng")
    assert isinstance(reading.flows, FlowStore)
    flows = list(reading.flows)
    assert len(flows) == 43 and [f.flow_id for f in flows] == sorted(f.flow_id for f in flows)
    assert reading.flows == flows


def test_facts_and_store_files_are_gone_once_closed(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    store = FlowStore()
    store.append(sample_flow(1), 1)
    reading = read_capture(SAMPLES / "teams-linux-any.pcap")
    assert list(tmp_path.iterdir()) == []  # anonymous files: never a name on disk
    assert len(reading.flows) > 0
    store.close()

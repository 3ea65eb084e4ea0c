"""A session's flows read from its captures' stores come in report order (start time, then
flow id as text), classified and named by range as run_audit names a list of flows."""

from __future__ import annotations

from auditor.audit import FlowClassifier, run_audit
from auditor.capture.flow_spill import FlowStore
from auditor.classify.app_detection import choose_app
from auditor.classify.catalog import Catalog
from auditor.records import Flow, HostSource, Transport
from auditor.session.session_flows import SessionFlows, SessionVerdicts, time_order


def flow(flow_id: str, start: float, server: str = "198.51.100.7") -> Flow:
    return Flow(flow_id, start, start + 1, Transport.UDP, "192.168.1.23", 50000, server, 8801,
                bytes_up=10, bytes_down=20)


def store_of(flows: list[Flow]) -> FlowStore:
    store = FlowStore()
    for item in flows:
        store.append(item, int(item.flow_id.rpartition("-")[2].lstrip("F")))
    return store


def test_time_order_sorts_by_start_then_by_id_as_text() -> None:
    # Out of order in time, and ties across the width of the numbers (F999999 < F1000000
    # numerically, but not as text).
    flows = [flow("F999998", 5.0), flow("F999999", 3.0), flow("F1000000", 3.0),
             flow("F1000001", 1.0)]
    store = store_of(flows)
    order = [store[i].flow_id for i in time_order(store)]
    expected = [f.flow_id for f in sorted(flows, key=lambda f: (f.ts_start, f.flow_id))]
    assert order == expected == ["F1000001", "F1000000", "F999999", "F999998"]
    in_order = store_of([flow("F000001", 1.0), flow("F000002", 2.0)])
    assert isinstance(time_order(in_order), range)


def test_flows_of_several_captures_merge_as_run_audit_sorts_them(catalog: Catalog) -> None:
    first = [flow("F1-000001", 1.0), flow("F1-000002", 4.0, "206.247.41.10"),
             flow("F1-000004", 2.0)]
    second = [flow("F2-000001", 2.0), flow("F2-000002", 3.0, "206.247.41.11")]
    app = choose_app(catalog, first + second, None)
    flows = SessionFlows([store_of(first), store_of(second)],
                         FlowClassifier(catalog, [], app))
    expected = run_audit(catalog, sorted(first + second, key=lambda f: (f.ts_start, f.flow_id)),
                         [], session_id="s", source="pcap", inputs=[], requested_app=None)
    assert list(flows) == list(expected.flows)
    assert len(flows) == 5 and flows[2] == expected.flows[2]
    named = [f for f in flows if f.server_ip == "206.247.41.10"]
    assert named[0].host_source is HostSource.IP_RANGE  # Zoom's published range
    first_flow = flows.first()
    assert first_flow is not None and first_flow.flow_id == "F1-000001"
    verdicts = SessionVerdicts(flows)
    assert verdicts["F2-000002"] == expected.classifications["F2-000002"]
    assert verdicts["F1-000002"].entity == "Zoom"
    assert len(verdicts) == 5 and set(verdicts) == set(expected.classifications)
    pairs = list(flows.classified())
    assert [(f.flow_id, v) for f, v in pairs] == [
        (f.flow_id, expected.classifications[f.flow_id]) for f in expected.flows]

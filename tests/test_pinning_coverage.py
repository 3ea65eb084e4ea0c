"""Pinned hosts in the report: a refused handshake is a pinning finding; a connection relayed
untouched afterwards is counted as passed through, even when its server later failed."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from auditor.cli.main import main
from auditor.records import PINNING_REFUSAL, Flow, Transport, Visibility, record_to_dict


def pinned_flow(flow_id: str, error: str | None, bytes_up: int | None) -> Flow:
    return Flow(flow_id=flow_id, ts_start=1.0, ts_end=2.0, transport=Transport.TCP,
                client_ip="10.0.0.2", client_port=50000 + len(flow_id), server_ip="3.3.3.3",
                server_port=443, host="pinned.example", app_proto="tls",
                bytes_up=bytes_up, bytes_down=bytes_up, visibility=Visibility.PINNED,
                sni="pinned.example", error=error)


def test_a_relayed_connection_that_failed_is_not_a_refusal(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    flows = [pinned_flow("refused", f"{PINNING_REFUSAL}: bad certificate", None),
             pinned_flow("relayed", None, 100),
             pinned_flow("relayed-then-failed", "connection reset by peer", 50)]
    (folder / "flows.jsonl").write_text(
        "".join(json.dumps(record_to_dict(f)) + "\n" for f in flows))
    (folder / "session.json").write_text(json.dumps({"id": "t", "source": "proxy"}))
    result = CliRunner().invoke(main, ["report", str(folder), "-q"])
    assert result.exit_code == 0, result.output
    report = json.loads((folder / "report.json").read_text())
    pinned = report["coverage"]["pinned"]
    assert pinned["handshakes_refused"] == 1
    assert pinned["connections_passed_through"] == 2
    assert pinned["bytes_passed_through"] == 300
    findings = [f for f in report["findings"] if f["kind"] == "certificate-pinning"]
    assert [f["flow_ids"] for f in findings] == [["refused"]]

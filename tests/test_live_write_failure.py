"""A live session whose folder cannot be written (full disk, file size limit, removed): one
clear alert, nothing relayed that could not be recorded (fail closed), exit code 5 from
`vcaudit proxy`, and no traceback; `vcaudit_fail_open` keeps relaying instead."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from auditor.classify.catalog import Catalog
from auditor.live.session import LiveSession
from auditor.records import Flow, Transport

from .support.upstream import UpstreamServer, free_port

VCAUDIT = Path(sys.executable).with_name("vcaudit")
FILE_SIZE_LIMIT = 24_000  # bytes any file of the proxy process may reach


def a_flow(number: int) -> Flow:
    return Flow(flow_id=f"f{number}", ts_start=1.0 + number, ts_end=2.0 + number,
                transport=Transport.TCP, client_ip="10.0.0.2", client_port=40000 + number,
                server_ip="192.0.2.1", server_port=443, host="zoom.us")


def test_a_failed_write_is_reported_once_and_later_flows_are_counted(
        tmp_path: Path, catalog: Catalog) -> None:
    session = LiveSession(catalog, tmp_path / "s", None, "proxy", "test")
    alerts: list[str] = []
    session.on_write_failure = alerts.append
    assert session.record_flow(a_flow(1))
    # From now on every write of the flow log fails as on a full disk.
    session._flows._handle = open("/dev/full", "a", encoding="utf-8")  # noqa: SIM115
    assert not session.record_flow(a_flow(2))
    assert not session.record_flow(a_flow(3))
    session.record_anomaly("test", "an anomaly after the failure")
    session.close()  # flushing the failed log again must not raise
    assert len(alerts) == 1 and "No space left on device" in alerts[0]
    assert session.write_failure == alerts[0]
    assert (session.flow_count, session.unrecorded_flows) == (1, 2)
    lines = (tmp_path / "s" / "flows.jsonl").read_text().splitlines()
    assert [json.loads(line)["flow_id"] for line in lines] == ["f1"]


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def run_proxy_until_full(tmp_path: Path, *extra: str) -> tuple[int, str, int, Path]:
    """vcaudit proxy with a file size limit, fed plain HTTP requests until it stops relaying
    (or 400 requests). Returns its exit code, its output, the responses the client got, and
    the session folder. The output goes through a pipe: the limit applies to files only."""
    session = tmp_path / "session"
    port = free_port()
    output: list[bytes] = []
    with UpstreamServer(None) as upstream:
        process = subprocess.Popen(
            [str(VCAUDIT), "proxy", "--out", str(session), "--", "--listen-host", "127.0.0.1",
             "--listen-port", str(port), "--set", f"confdir={tmp_path / 'conf'}",
             "--set", "vcaudit_refresh=0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=_limit_file_size)
        assert process.stdout is not None
        reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + 60
            while b"point the app at this proxy" not in b"".join(output):
                assert process.poll() is None, b"".join(output).decode(errors="replace")
                assert time.monotonic() < deadline, b"".join(output).decode(errors="replace")
                time.sleep(0.1)
            delivered = 0
            with httpx.Client(proxy=f"http://127.0.0.1:{port}", timeout=10) as client:
                for number in range(400):
                    try:
                        response = client.get(f"http://127.0.0.1:{upstream.port}/r{number}"
                                              "?padding=" + "x" * 300)
                    except httpx.HTTPError:
                        break
                    if response.status_code != 200:
                        break
                    delivered += 1
            if process.poll() is None and "--set" in extra:
                process.send_signal(signal.SIGINT)
            code = process.wait(60)
            reader.join(10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
    return code, b"".join(output).decode(errors="replace"), delivered, session


def recorded_flows(session: Path) -> list[dict[str, object]]:
    """The complete lines of flows.jsonl (a last line cut by the limit is not a flow)."""
    flows = []
    for line in (session / "flows.jsonl").read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            flows.append(json.loads(line))
    return flows


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE"), reason="no file size limits here")
def test_the_proxy_fails_closed_when_the_folder_cannot_be_written(tmp_path: Path) -> None:
    code, output, delivered, session = run_proxy_until_full(tmp_path)
    assert code == 5, output[-3000:]
    assert "Traceback" not in output
    assert output.count("vcaudit: cannot write the session") == 1
    assert "vcaudit: error: the session folder could not be written" in output
    recorded = recorded_flows(session)
    assert 5 < len(recorded) < 400
    # No response reached the client that the session did not record.
    assert delivered <= len(recorded), (delivered, len(recorded))
    # A report that could not be written left no half-written file behind...
    assert not [p.name for p in session.iterdir() if p.name.endswith(".tmp")]
    # ...and once there is room again, `vcaudit report` rebuilds what was recorded.
    rebuilt = subprocess.run([str(VCAUDIT), "report", str(session), "-q"], capture_output=True,
                             text=True, timeout=120)
    assert rebuilt.returncode == 0, rebuilt.stderr
    report = json.loads((session / "report.json").read_text())
    assert report["summary"]["flows"] == len(recorded)


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE"), reason="no file size limits here")
def test_fail_open_keeps_relaying_and_says_so(tmp_path: Path) -> None:
    code, output, delivered, session = run_proxy_until_full(
        tmp_path, "--set", "vcaudit_fail_open=true")
    assert delivered == 400
    assert "traffic keeps flowing but is NOT recorded" in output
    assert "Traceback" not in output
    assert len(recorded_flows(session)) < 400
    assert code == 5  # the session is still incomplete: the exit code says so
    assert os.path.isdir(session)

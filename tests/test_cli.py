"""The command line, end to end: outputs, exit codes, one-line errors on stderr."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from auditor.cli import main
from auditor.cli_errors import EXIT_CATALOG, EXIT_INPUT, EXIT_OUTPUT, EXIT_USAGE
from auditor.render.report_files import ReportFile

from .conftest import SAMPLES

SAMPLE = SAMPLES / "zoom-desktop-call.pcapng"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line_error(result: Result, code: int, fragment: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vcaudit: error: "), result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.output + result.stderr


def test_analyze_writes_the_session_folder(tmp_path: Path) -> None:
    out = tmp_path / "session"
    result = run("analyze", SAMPLE, "--out", out)
    assert result.exit_code == 0, result.stderr
    for name in [kind.value for kind in ReportFile] + ["flows.jsonl", "dns.jsonl",
                                                       "session.json"]:
        assert (out / name).is_file(), name
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert "ad-tech" in result.stdout and "graph.facebook.com (Meta)" in result.stdout
    assert str(out / "report.md") in result.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["schema"] == "vcaudit.report/1"
    assert set(report) >= {"schema", "session", "summary", "endpoints", "findings", "coverage"}
    assert report["session"]["source"] == "pcap"
    assert report["session"]["app"] == "zoom" and report["session"]["app_detection"]["how"] == (
        "detected")
    flow_lines = (out / "flows.jsonl").read_text().splitlines()
    assert len(flow_lines) == report["summary"]["flows"]
    first = json.loads(flow_lines[0])
    for key in ("flow_id", "ts_start", "ts_end", "transport", "client_ip", "client_port",
                "server_ip", "server_port", "host", "host_source", "app_proto", "bytes_up",
                "bytes_down", "packets_up", "packets_down", "category", "entity", "method",
                "url", "status"):
        assert key in first, key


def test_default_folder_is_under_vcaudit_reports(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = run("analyze", SAMPLE, "--quiet")
    second = run("analyze", SAMPLE, "--quiet")
    assert first.exit_code == second.exit_code == 0
    one, two = Path(first.stdout.strip()), Path(second.stdout.strip())
    assert one.parent == two.parent == Path("vcaudit-reports") and one != two
    assert (tmp_path / one / "report.json").is_file()


def test_app_option(tmp_path: Path) -> None:
    result = run("analyze", SAMPLE, "--app", "teams", "--out", tmp_path / "s")
    assert result.exit_code == 0
    report = json.loads((tmp_path / "s" / "report.json").read_text())
    zoom = next(e for e in report["endpoints"] if e["host"] == "zoom.us")
    assert zoom["category"] == "third-party" and not zoom["first_party"]
    assert report["session"]["app_detection"]["how"] == "option"


def test_not_a_capture(tmp_path: Path) -> None:
    text = tmp_path / "notes.pcap"
    text.write_text("this is not a capture\n")
    assert_one_line_error(run("analyze", text, "--out", tmp_path / "s"), EXIT_INPUT,
                          "not a pcap or pcapng capture")


def test_missing_and_empty_inputs(tmp_path: Path) -> None:
    assert_one_line_error(run("analyze", tmp_path / "nope.pcap"), EXIT_INPUT, "cannot be read")
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    assert_one_line_error(run("analyze", empty), EXIT_INPUT, "empty")


def test_unknown_app(tmp_path: Path) -> None:
    assert_one_line_error(run("analyze", SAMPLE, "--app", "zooom", "--out", tmp_path / "s"),
                          EXIT_USAGE, "unknown app 'zooom'")


def test_bad_rules_file(tmp_path: Path) -> None:
    rules = tmp_path / "mine.toml"
    rules.write_text('[[rule]]\nid = "x.y"\nentity = "nobody"\n')
    assert_one_line_error(run("analyze", SAMPLE, "--rules", rules), EXIT_CATALOG,
                          f"{rules}:2: rule 'x.y'")


def test_unwritable_output(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_one_line_error(run("analyze", SAMPLE, "--out", blocker / "sub"), EXIT_OUTPUT,
                          "cannot create session folder")


def test_truncated_capture_is_analysed_with_a_warning(tmp_path: Path) -> None:
    data = SAMPLE.read_bytes()
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes(data[: len(data) // 2 + 37])
    result = run("analyze", cut, "--out", tmp_path / "s")
    assert result.exit_code == 0
    assert "vcaudit: warning:" in result.stderr and "analysed up to that point" in result.stderr
    report = json.loads((tmp_path / "s" / "report.json").read_text())
    assert report["coverage"]["inputs"][0]["truncated"]
    assert report["coverage"]["anomalies"]["by_kind"]["capture-truncated"] == 1
    assert report["summary"]["flows"] > 10


def test_report_rebuilds_from_the_flow_log(tmp_path: Path) -> None:
    out = tmp_path / "s"
    assert run("analyze", SAMPLE, "--out", out).exit_code == 0
    original = json.loads((out / "report.json").read_text())
    for kind in ReportFile:
        (out / kind.value).unlink()
    with open(out / "flows.jsonl", "a") as log:
        log.write('{"flow_id": "half-writ')  # a line cut off by a crash
    result = run("report", out)
    assert result.exit_code == 0, result.stderr
    assert "1 damaged log lines were skipped" in result.stderr
    rebuilt = json.loads((out / "report.json").read_text())
    assert rebuilt["endpoints"] == original["endpoints"]
    assert rebuilt["summary"] == original["summary"]
    assert rebuilt["coverage"]["anomalies"]["by_kind"]["log-line-unreadable"] == 1


def test_report_on_a_folder_that_is_not_a_session(tmp_path: Path) -> None:
    assert_one_line_error(run("report", tmp_path), EXIT_INPUT, "no flows.jsonl")


def test_classify_explains_and_prints_json() -> None:
    text = run("classify", "log.zoom.us", "--app", "zoom")
    assert text.exit_code == 0
    assert text.stdout.startswith("log.zoom.us: analytics, Zoom (the audited app's vendor)")
    assert "rule zoom." in text.stdout and "source: http" in text.stdout
    lines = run("classify", "--json", "graph.facebook.com", "109.94.160.99", "192.168.1.1",
                "updates.example.net").stdout.splitlines()
    objects = [json.loads(line) for line in lines]
    assert [o["category"] for o in objects] == ["ad-tech", "third-party", "local", "unknown"]
    for obj in objects:
        assert set(obj) == {"host", "category", "entity", "first_party", "evidence"}
    assert objects[1]["entity"] == "Zoom" and objects[1]["evidence"][0]["kind"] == "ip-range"


def test_classify_lists_apps_and_rejects_unknown_ones() -> None:
    listed = run("classify", "--list-apps")
    assert listed.exit_code == 0 and "zoom\tZoom" in listed.stdout
    assert_one_line_error(run("classify", "zoom.us", "--app", "nope"), EXIT_USAGE, "nope")
    assert run("classify").exit_code == EXIT_USAGE


def test_proxy_refused_by_mitmproxy_leaves_nothing_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("proxy", "--", "--mode", "bogus")
    assert result.exit_code == EXIT_USAGE
    assert "Invalid proxy mode specification" in result.output
    assert not (tmp_path / "vcaudit-reports").exists()
    unknown = run("proxy", "--app", "zooom")
    assert unknown.exit_code == EXIT_USAGE and "unknown app 'zooom'" in unknown.stderr


def test_report_survives_hostile_log_lines(tmp_path: Path) -> None:
    out = tmp_path / "s"
    assert run("analyze", SAMPLE, "--out", out).exit_code == 0
    good = json.loads((out / "flows.jsonl").read_text().splitlines()[0])
    hostile = [
        {**good, "flow_id": "x1", "ts_start": "yesterday"},
        {**good, "flow_id": "x2", "bytes_up": "lots"},
        {**good, "flow_id": "x3", "transport": "carrier-pigeon"},
        {**good, "flow_id": "x4", "server_port": 4.5},
        {**good, "flow_id": "x5", "host": {"nested": True}},
        {"flow_id": "x6"},
        [1, 2, 3],
        "just a string",
    ]
    with open(out / "flows.jsonl", "a") as log:
        for line in hostile:
            log.write(json.dumps(line) + "\n")
    result = run("report", out)
    assert result.exit_code == 0, result.stderr
    assert f"{len(hostile)} damaged log lines were skipped" in result.stderr

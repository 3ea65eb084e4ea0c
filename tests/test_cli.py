"""The command line, end to end: outputs, exit codes, one-line errors on stderr."""

from __future__ import annotations

import gzip
import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from auditor.cli.errors import EXIT_CATALOG, EXIT_INPUT, EXIT_OUTPUT, EXIT_USAGE
from auditor.cli.main import main
from auditor.report.render.report_files import ReportFile

from .conftest import SAMPLES
from .test_flow_files import har_entry

SAMPLE = SAMPLES / "zoom-desktop-call.pcapng"
TEAMS = SAMPLES / "teams-linux-any.pcap"


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


def test_truncated_gzip_capture_is_analysed_with_a_warning(tmp_path: Path) -> None:
    """`head -c N zoom.pcap.gz` warns and is marked truncated, as a cut plain capture is."""
    packed = gzip.compress(SAMPLE.read_bytes())
    cut = tmp_path / "cut.pcapng.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    result = run("analyze", cut, "--out", tmp_path / "s", "-q")
    assert result.exit_code == 0, result.stderr
    warning, = result.stderr.splitlines()
    assert warning.startswith(f"vcaudit: warning: {cut}: the compressed file is cut off")
    assert warning.endswith("analysed up to that point")
    report = json.loads((tmp_path / "s" / "report.json").read_text())
    assert report["coverage"]["inputs"][0]["truncated"].startswith("the compressed file")
    assert report["coverage"]["anomalies"]["by_kind"]["capture-truncated"] == 1
    whole = tmp_path / "whole.pcapng.gz"
    whole.write_bytes(packed)
    complete = run("analyze", whole, "--out", tmp_path / "w", "-q")
    assert complete.exit_code == 0 and complete.stderr == ""
    assert json.loads((tmp_path / "w" / "report.json").read_text())["coverage"]["inputs"][0][
        "truncated"] is None


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


# --- reusing --out ----------------------------------------------------------------------------


def flow_ids(folder: Path) -> list[str]:
    return [json.loads(line)["flow_id"] for line in (folder / "flows.jsonl").open()]


def test_reusing_out_is_refused_and_force_replaces_the_session(tmp_path: Path) -> None:
    """The issue's case: teams into X, then zoom into X appended a second capture (F000001
    twice) and `vcaudit report X` called both one Teams session."""
    out = tmp_path / "X"
    assert run("analyze", TEAMS, "--out", out, "-q").exit_code == 0
    teams_log = (out / "flows.jsonl").read_bytes()
    (out / "notes.txt").write_text("what I did during the call\n")
    assert_one_line_error(run("analyze", SAMPLE, "--out", out), EXIT_OUTPUT,
                          f"{out}: the folder exists and is not empty")
    assert (out / "flows.jsonl").read_bytes() == teams_log
    replaced = run("analyze", SAMPLE, "--out", out, "--force", "-q")
    assert replaced.exit_code == 0, replaced.stderr
    assert replaced.stderr == ""  # the folder vcaudit created is still owner-only: no warning
    fresh = tmp_path / "fresh"
    assert run("analyze", SAMPLE, "--out", fresh, "-q").exit_code == 0
    assert flow_ids(out) == flow_ids(fresh) and len(set(flow_ids(out))) == len(flow_ids(out))
    report = json.loads((out / "report.json").read_text())
    assert report["session"]["inputs"] == [str(SAMPLE)] and report["session"]["app"] == "zoom"
    assert run("report", out, "-q").exit_code == 0
    rebuilt = json.loads((out / "report.json").read_text())
    assert rebuilt["summary"] == json.loads((fresh / "report.json").read_text())["summary"]
    assert (out / "notes.txt").read_text() == "what I did during the call\n"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging left over


def test_a_folder_of_the_users_own_files_is_never_touched(tmp_path: Path) -> None:
    docs = tmp_path / "mydocs"
    docs.mkdir()
    os.chmod(docs, 0o755)
    (docs / "report.md").write_text("my own report\n")
    assert_one_line_error(run("analyze", SAMPLE, "--out", docs), EXIT_OUTPUT, "not empty")
    assert_one_line_error(run("analyze", SAMPLE, "--out", docs, "--force"), EXIT_OUTPUT,
                          "not a vcaudit session folder")
    assert [p.name for p in docs.iterdir()] == ["report.md"]
    assert (docs / "report.md").read_text() == "my own report\n"
    assert stat.S_IMODE(docs.stat().st_mode) == 0o755


def test_an_existing_empty_folder_keeps_its_mode_and_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o755)
    result = run("analyze", SAMPLE, "--out", folder, "-q")
    assert result.exit_code == 0
    warning, = result.stderr.splitlines()
    assert warning.startswith("vcaudit: warning: ") and "mode 0755" in warning
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert (folder / "report.json").is_file()


def test_out_naming_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "report.txt"
    blocker.write_text("x")
    for command in (("analyze", SAMPLE), ("proxy",)):
        assert_one_line_error(run(*command, "--out", blocker), EXIT_OUTPUT,
                              "exists and is not a folder")
    assert blocker.read_text() == "x"


@pytest.mark.parametrize("case, code", [
    ("not-a-capture", EXIT_INPUT), ("cut-header", EXIT_INPUT), ("folder", EXIT_INPUT),
    ("broken-har", EXIT_INPUT), ("unknown-app", EXIT_USAGE), ("bad-fail-on", EXIT_USAGE),
    ("bad-identity", EXIT_USAGE),
])
@pytest.mark.parametrize("out", [True, False], ids=["out", "default-folder"])
def test_a_rejected_input_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           case: str, code: int, out: bool) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "notes.pcap").write_text("not a capture\n")
    (inputs / "cut.pcap").write_bytes(b"\xd4\xc3\xb2\xa1\x02\x00")  # recognised, then unreadable
    (inputs / "broken.har").write_text('{"log": {"entries": [{"nope": 1}]}}')
    args = {
        "not-a-capture": [inputs / "notes.pcap"], "cut-header": [inputs / "cut.pcap"],
        "folder": [inputs], "broken-har": [inputs / "broken.har"],
        "unknown-app": [SAMPLE, "--app", "zooom"], "bad-fail-on": [SAMPLE, "--fail-on", "x"],
        "bad-identity": [SAMPLE, "--identity", "no-kind"],
    }[case]
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = run("analyze", *args, *(["--out", work / "new" / "s"] if out else []))
    assert result.exit_code == code, result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert list(work.iterdir()) == []


def test_a_har_file_replaces_a_session_with_force(tmp_path: Path) -> None:
    out = tmp_path / "s"
    assert run("analyze", SAMPLE, "--out", out, "-q").exit_code == 0
    har = tmp_path / "web.har"
    har.write_text(json.dumps({"log": {"entries": [har_entry("https://zoom.us/join")]}}))
    assert_one_line_error(run("analyze", har, "--out", out), EXIT_OUTPUT, "not empty")
    result = run("analyze", har, "--out", out, "--force", "-q")
    assert result.exit_code == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["session"]["source"] == "har" and report["summary"]["flows"] == 1
    assert len(flow_ids(out)) == 1 and not (out / "anomalies.jsonl").exists()


def test_proxy_refuses_a_used_folder_before_starting(tmp_path: Path) -> None:
    out = tmp_path / "s"
    assert run("analyze", SAMPLE, "--out", out, "-q").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # Refused by vcaudit itself: mitmproxy never gets to see the bad mode.
    assert_one_line_error(run("proxy", "--out", out, "--", "--mode", "bogus"), EXIT_OUTPUT,
                          "--force")
    forced = run("proxy", "--out", out, "--force", "--", "--mode", "bogus")
    assert forced.exit_code == EXIT_USAGE and "Invalid proxy mode" in forced.output
    # mitmproxy refused to start: the session --force was to replace is back, as it was.
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_proxy_refused_by_mitmproxy_leaves_an_existing_folder_as_it_was(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("proxy", "--out", empty, "--", "--mode", "bogus")
    assert result.exit_code == EXIT_USAGE
    assert list(empty.iterdir()) == []  # no empty session left to refuse the next run

"""Hostile and damaged flow files and HAR exports through `vcaudit analyze`: a bad flow or
entry is skipped and counted, a file cut short is analysed up to the cut, a file of which
nothing can be read is exit 3 with one line, and a huge body costs no more memory than a
small one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner
from mitmproxy.io import FlowWriter
from mitmproxy.test import tflow

from auditor.cli.errors import EXIT_INPUT
from auditor.cli.main import main

from .conftest import script_module
from .test_flow_files import har_entry

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(scope="module")
def make_flow_files() -> ModuleType:
    return script_module(BENCH / "make_flow_files.py")


def analyze(*args: str) -> Any:
    return CliRunner().invoke(main, ["analyze", *args])


def report_of(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "report.json").read_text())


def one_error_line(result: Any) -> str:
    assert result.exit_code == EXIT_INPUT, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vcaudit: error: ")
    return str(lines[0])


def test_a_claimed_length_larger_than_the_file_is_exit_3(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.mitm"
    bomb.write_bytes(b"99999999999:4:host,1:a,}")  # MemoryError in mitmproxy's reader
    line = one_error_line(analyze(str(bomb), "--out", str(tmp_path / "s")))
    assert line.endswith("bomb.mitm: not a readable mitmproxy flow file (the file ends inside "
                         "flow 1: it claims 99,999,999,999 bytes, 11 remain)")
    assert not (tmp_path / "s").exists()


def test_deep_nesting_is_exit_3(tmp_path: Path) -> None:
    data = b"0:~"
    for _ in range(1500):  # RecursionError in mitmproxy's reader
        data = b"1:a;" + data
        data = str(len(data)).encode() + b":" + data + b"}"
    deep = tmp_path / "deep.mitm"
    deep.write_bytes(data)
    line = one_error_line(analyze(str(deep), "--out", str(tmp_path / "s")))
    assert "none of its flows could be read; the first: flow 1: nested deeper than 64" in line


def frame(data: bytes) -> bytes:
    """A dict's data framed as a tnetstring."""
    return str(len(data)).encode() + b":" + data + b"}"


def test_a_har_head_nested_deep_is_detected_without_parsing_it(tmp_path: Path) -> None:
    deep = tmp_path / "deep.har"
    deep.write_text('\n {"log": ' + "[" * 3000 + "]" * 3000 + "}")
    line = one_error_line(analyze(str(deep), "--out", str(tmp_path / "s")))
    assert line.endswith("deep.har: not a readable HAR file (no log.entries list)")


def write_flows(path: Path, flows: list[Any], extra: bytes = b"") -> None:
    with path.open("wb") as handle:
        writer = FlowWriter(handle)
        for flow in flows:
            writer.add(flow)
        handle.write(extra)


def test_bad_flows_are_skipped_and_counted(tmp_path: Path) -> None:
    good = tflow.tflow(resp=True)
    good.request.host = "zoom.us"
    good.request.headers["host"] = "zoom.us"
    path = tmp_path / "mixed.mitm"
    write_flows(path, [good])
    with path.open("ab") as handle:
        handle.write(frame(b"4:host,99999:a,") + frame(b"7:version;5:99999#4:type;4:http;"))
        FlowWriter(handle).add(tflow.ttcpflow())
    result = analyze(str(path), "--out", str(tmp_path / "s"))
    assert result.exit_code == 0, result.stderr
    report = report_of(tmp_path / "s")
    assert report["coverage"]["saved_flows_read"] == 2
    assert report["coverage"]["saved_flows_skipped"] == 2
    anomalies = report["coverage"]["anomalies"]
    assert anomalies["by_kind"] == {"saved-flow-unreadable": 2}
    details = [a["detail"] for a in anomalies["examples"]["saved-flow-unreadable"]]
    assert "mixed.mitm: flow 2: a value claims 99,999 bytes" in details[0]
    assert details[1].startswith("mixed.mitm: ValueError:")
    assert {e["host"] for e in report["endpoints"]} >= {"zoom.us"}


def test_a_flow_file_cut_short_is_analysed_up_to_the_cut(tmp_path: Path) -> None:
    path = tmp_path / "cut.mitm"
    write_flows(path, [tflow.tflow(resp=True), tflow.tflow(resp=True)])
    path.write_bytes(path.read_bytes()[:-40])  # as when mitmdump is killed while writing
    result = analyze(str(path), "--out", str(tmp_path / "s"))
    assert result.exit_code == 0, result.stderr
    assert "warning: " in result.stderr and "the file ends inside flow 2" in result.stderr
    report = report_of(tmp_path / "s")
    assert report["summary"]["flows"] == 1
    assert report["coverage"]["inputs"][0]["truncated"].startswith("the file ends inside flow 2")
    assert any("analysed up to that point" in note for note in report["coverage"]["notes"])


def test_one_bad_har_entry_does_not_reject_the_file(tmp_path: Path) -> None:
    entries = [har_entry("https://zoom.us/join"),
               har_entry("https://a\u202egoogle-analytics.com/collect"),
               har_entry("https://<script>alert(1)</script>.example/"),
               har_entry("https://www.google-analytics.com/g/collect?v=2")]
    path = tmp_path / "web.har"
    path.write_text(json.dumps({"log": {"entries": entries}}, ensure_ascii=False))
    result = analyze(str(path), "--out", str(tmp_path / "s"))
    assert result.exit_code == 0, result.stderr
    report = report_of(tmp_path / "s")
    assert {e["host"] for e in report["endpoints"]} == {"zoom.us", "www.google-analytics.com"}
    assert report["coverage"]["anomalies"]["by_kind"] == {"har-entry-unreadable": 2}
    examples = report["coverage"]["anomalies"]["examples"]["har-entry-unreadable"]
    assert "\u202e" not in json.dumps(examples, ensure_ascii=False)
    assert "\\u202e" in examples[0]["detail"]
    assert report["coverage"]["saved_flows_skipped"] == 2


def test_a_har_file_cut_short_keeps_its_first_entries(tmp_path: Path) -> None:
    text = json.dumps({"log": {"entries": [har_entry("https://zoom.us/a"),
                                           har_entry("https://zoom.us/b")]}})
    path = tmp_path / "cut.har"
    path.write_text(text[: text.index("zoom.us/b") - 30])
    result = analyze(str(path), "--out", str(tmp_path / "s"))
    assert result.exit_code == 0, result.stderr
    assert "broken JSON (parse error: premature EOF); analysed up to that point" in result.stderr
    assert report_of(tmp_path / "s")["summary"]["flows"] == 1


# A child's ru_maxrss counts the memory of the process it was forked from (pytest, with a big
# file just written): a small launcher process runs the measured one and reports its peak.
LAUNCHER = ("import os, subprocess, sys\n"
            "child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
            "_, status, usage = os.wait4(child.pid, 0)\n"
            "print(usage.ru_maxrss)\n"
            "sys.exit(os.waitstatus_to_exitcode(status))\n")


def peak_rss_mb(tmp_path: Path, source: Path) -> tuple[float, Path]:
    """Peak resident memory of `vcaudit analyze source` run as its own process."""
    out = tmp_path / f"s-{source.name}"
    result = subprocess.run(
        [sys.executable, "-c", LAUNCHER, sys.executable, "-c",
         "from auditor.cli.main import main; main()", "analyze", str(source), "--out",
         str(out), "--quiet"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split()[-1]) / 1024, out


@pytest.mark.parametrize("kind", ["mitm", "har"])
def test_a_huge_body_costs_no_more_memory_than_a_small_one(
        tmp_path: Path, make_flow_files: ModuleType, kind: str) -> None:
    body = 160 << 20
    small, big = tmp_path / f"small.{kind}", tmp_path / f"big.{kind}"
    write = make_flow_files.write_mitm if kind == "mitm" else make_flow_files.write_har
    write(small, 1 << 10, 2)
    write(big, body, 2)
    small_peak, _ = peak_rss_mb(tmp_path, small)
    big_peak, out = peak_rss_mb(tmp_path, big)
    assert small_peak < 300 and big_peak - small_peak < 40, (small_peak, big_peak)
    flows = [json.loads(line) for line in (out / "flows.jsonl").open()]
    sizes = [f["bytes_up"] if kind == "mitm" else f["bytes_down"] for f in flows]
    expected = body if kind == "mitm" else body * 3 // 4  # HAR: base64 text
    assert max(sizes) >= expected and max(sizes) < expected + 4096

"""What vcaudit prints: the progress line on long reads, and the end-of-audit summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli.main import main
from auditor.cli.terminal import SHOW_AFTER_SECONDS, ProgressLine, print_summary

from .conftest import SAMPLES


def test_progress_shows_only_after_a_few_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    progress = ProgressLine()
    report = progress.for_file(Path("call.pcapng"))
    assert report is not None
    report(10, 100)
    assert capsys.readouterr().err == ""  # a quick read prints nothing
    progress._started -= SHOW_AFTER_SECONDS + 1  # as if the read had been going on a while
    report(50, 100)
    line = capsys.readouterr().err
    assert "reading call.pcapng:  50.0% of 100 B" in line
    assert ProgressLine(enabled=False).for_file(Path("x")) is None


def test_summary_names_the_trackers_and_the_report(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["analyze", str(SAMPLES / "zoom-desktop-call.pcapng"),
                                       "--out", str(tmp_path)])
    lines = result.stdout.splitlines()
    assert lines[0].startswith("vcaudit: 43 flows to 21 endpoints")
    assert any(line.split()[:2] == ["ad-tech", "1"] and "graph.facebook.com (Meta)" in line
               for line in lines)
    assert f"report: {tmp_path / 'report.md'}" in result.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert f"{report['summary']['endpoints']} endpoints" in lines[0]


def test_summary_lines_read_right_for_one_of_each(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Singular nouns for one, the category rows in the report's order, and a tracker known
    only from a list (no organisation) named by its host alone."""
    categories = {name: {"endpoints": 0, "flows": 0, "bytes_up": 0, "bytes_down": 0}
                  for name in ("local", "first-party", "unknown", "third-party", "analytics",
                               "ad-tech")}  # deliberately in another order
    categories["analytics"] = {"endpoints": 1, "flows": 1, "bytes_up": 5, "bytes_down": 7}
    categories["local"] = {"endpoints": 1, "flows": 1, "bytes_up": 1, "bytes_down": 1}
    report = {
        "session": {"app": None, "app_detection": {"how": "none"}},
        "summary": {"flows": 1, "endpoints": 1, "bytes_up": 1000, "bytes_down": 353307,
                    "categories": categories},
        "endpoints": [{"host": "t.example", "entity": None, "category": "analytics"}],
        "coverage": {"flows_without_name": {"flows": 1}, "encrypted_flows": {"flows": 1},
                     "anomalies": {"total": 1}, "readable_flows": {"flows": 1}},
    }
    print_summary(report, tmp_path)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("vcaudit: 1 flow to 1 endpoint, sent 1.0 kB, received 353.3 kB; "
                        "audited app: not detected")
    assert lines[1].split() == ["analytics", "1", "endpoint", "t.example"]
    assert lines[2].split() == ["local", "1", "endpoint"]
    assert "coverage: 1 flow without a name, 1 encrypted, 1 anomaly skipped" in lines
    assert "(None)" not in "\n".join(lines)

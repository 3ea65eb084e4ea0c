"""What vcaudit prints: the progress line on long reads, and the end-of-audit summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.terminal_output import SHOW_AFTER_SECONDS, ProgressLine

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

"""`vcaudit summary DIR...`: many sessions at once, one table per app and organisation, through
the command line on real session folders, and the table itself on their report documents."""

from __future__ import annotations

import copy
import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from auditor.cli.errors import EXIT_INPUT, EXIT_OUTPUT
from auditor.cli.main import main
from auditor.compare.across import summarise_sessions
from auditor.compare.render.files import SummaryFile, render_summary
from auditor.compare.render.summary_csv import COLUMNS
from auditor.compare.view import NotAReportError

from .test_diff import META_KINDS, assert_one_line_error, report_of, seed, sessions

__all__ = ["seed", "sessions"]  # the module-scoped fixtures of test_diff, shared


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def rows_of(document: dict[str, Any], app: str) -> dict[tuple[str, str], dict[str, Any]]:
    group = next(g for g in document["apps"] if g["app"] == app)
    return {(r["organisation"], r["category"]): r for r in group["organisations"]}


def test_sessions_of_two_apps(tmp_path: Path, sessions: dict[str, Path]) -> None:
    out = tmp_path / "summary"
    result = run("summary", sessions["a"], sessions["b"], sessions["zoom"], sessions["teams"],
                 "--out", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "vcaudit summary: 4 sessions",
        "teams: 1 session",
        "  analytics: Microsoft in 1 of 1",
        "zoom: 3 sessions",
        f"  ad-tech: Meta in 2 of 3; received {META_KINDS}",
        "  analytics: Zoom in 1 of 3",
        "  analytics: Google in 1 of 3",
        "  third-party: DigiCert in 1 of 3",
        "  unknown: updates.example.net in 1 of 3",
        f"summary: {out / 'summary.md'} (also summary.html, summary.csv, summary.json)",
    ]
    document = json.loads((out / "summary.json").read_text())
    assert document["schema"] == "vcaudit.summary/1" and document["sessions"] == 4
    assert [g["app"] for g in document["apps"]] == ["teams", "zoom"]
    zoom = rows_of(document, "zoom")
    meta = zoom[("Meta", "ad-tech")]
    assert (meta["sessions"], meta["app_sessions"], meta["sessions_with_data"]) == (2, 3, 1)
    assert meta["kinds"] == META_KINDS.split(", ") and meta["hosts"] == ["graph.facebook.com"]
    # Bytes and flows are the sum over the sessions' reports.
    reports = [report_of(sessions[n]) for n in ("a", "b", "zoom")]
    meta_endpoints = [e for r in reports for e in r["endpoints"] if e["entity"] == "Meta"]
    assert meta["bytes_up"] == sum(e["bytes_up"] for e in meta_endpoints)
    assert meta["flows"] == sum(e["flows"] for e in meta_endpoints) == 2
    first_party = zoom[("Zoom", "first-party")]
    assert first_party["sessions"] == 3 and first_party["first_party"]
    assert zoom[("Zoom", "analytics")]["sessions"] == 1  # Zoom's telemetry is its own row
    assert not zoom[("updates.example.net", "unknown")]["known"]
    teams = next(g for g in document["apps"] if g["app"] == "teams")
    assert [s["folder"] for s in teams["sessions"]] == [str(sessions["teams"])]


def test_the_csv_reads_back_in_pandas(tmp_path: Path, sessions: dict[str, Path]) -> None:
    out = tmp_path / "s"
    assert run("summary", sessions["zoom"], sessions["a"], "--out", out, "-q").exit_code == 0
    frame = pd.read_csv(out / "summary.csv", dtype_backend="numpy_nullable")
    assert tuple(frame.columns) == COLUMNS
    assert set(frame["app"]) == {"zoom"} and (frame["app_sessions"] == 2).all()
    meta = frame[frame["organisation"] == "Meta"].iloc[0]
    assert meta["kinds"].split(";")[:2] == ["advertising ID", "device or install ID"]
    assert meta["sessions"] == 2 and meta["sessions_with_data"] == 1
    summary = json.loads((out / "summary.json").read_text())
    assert len(frame) == len(summary["apps"][0]["organisations"])
    assert int(frame["bytes_down"].sum()) == sum(
        report_of(sessions[n])["summary"]["bytes_down"] for n in ("zoom", "a"))


def test_a_folder_of_sessions(tmp_path: Path, sessions: dict[str, Path]) -> None:
    reports = tmp_path / "vcaudit-reports"
    reports.mkdir()
    for name in ("a", "b", "teams"):
        shutil.copytree(sessions[name], reports / name)
    unreported = reports / "crashed"
    unreported.mkdir()
    shutil.copy(sessions["b"] / "flows.jsonl", unreported)
    (reports / "notes").mkdir()  # neither: skipped without a word
    result = run("summary", reports, sessions["a"], reports / "a", "--out", tmp_path / "s")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (f"vcaudit: warning: {unreported}: skipped, no report.json yet "
                             f"(run `vcaudit report {unreported}`)\n")
    document = json.loads((tmp_path / "s" / "summary.json").read_text())
    folders = [s["folder"] for g in document["apps"] for s in g["sessions"]]
    # The same folder named twice (itself, and inside a folder of sessions) counts once.
    assert sorted(folders) == sorted([str(reports / n) for n in ("a", "b", "teams")]
                                     + [str(sessions["a"])])
    assert document["sessions"] == 4


def test_folders_that_hold_no_session(tmp_path: Path, sessions: dict[str, Path]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(run("summary", empty), EXIT_INPUT,
                          f"{empty}: neither a session folder nor a folder of session folders")
    file = tmp_path / "file"
    file.write_text("x")
    assert_one_line_error(run("summary", file), EXIT_INPUT, f"{file}: not a folder")
    assert_one_line_error(run("summary", tmp_path / "missing"), EXIT_INPUT, "no such folder")
    unreported = tmp_path / "unreported"
    unreported.mkdir()
    shutil.copy(sessions["b"] / "flows.jsonl", unreported)
    assert_one_line_error(run("summary", unreported), EXIT_INPUT,
                          f"run `vcaudit report {unreported}` first")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "report.json").write_text('{"log": {}}')
    assert_one_line_error(run("summary", bad, "--out", tmp_path / "o"), EXIT_INPUT,
                          "not a vcaudit report")
    assert not (tmp_path / "o").exists()


def test_the_output_folder(tmp_path: Path, sessions: dict[str, Path],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("summary", sessions["a"], sessions["b"], "-q")
    assert result.stdout == "vcaudit-reports/summary-2-sessions\n"
    out = Path("vcaudit-reports/summary-2-sessions")
    assert sorted(p.name for p in out.iterdir()) == sorted(k.value for k in SummaryFile)
    assert_one_line_error(run("summary", sessions["a"], "--out", out), EXIT_OUTPUT,
                          "add --force to replace the summary in it")
    assert run("summary", sessions["a"], "--out", out, "--force", "-q").exit_code == 0
    assert json.loads((out / "summary.json").read_text())["sessions"] == 1
    assert_one_line_error(run("summary", sessions["a"], "--out", sessions["b"], "--force"),
                          EXIT_OUTPUT, "not a vcaudit summary folder (no summary.json)")


def test_the_table_is_a_function_of_report_documents(sessions: dict[str, Path]) -> None:
    documents = [report_of(sessions[n]) for n in ("a", "b")]
    undetected = copy.deepcopy(documents[1])
    undetected["session"]["app"] = None
    table = summarise_sessions([*documents, undetected])
    assert [(a.app, len(a.sessions)) for a in table.apps] == [("zoom", 2), (None, 1)]
    assert [(r.organisation, r.category, r.sessions) for r in table.apps[0].rows] == [
        ("Meta", "ad-tech", 1), ("Zoom", "first-party", 2)]
    assert summarise_sessions([]).apps == ()
    with pytest.raises(NotAReportError):
        summarise_sessions([{"log": {}}])
    with pytest.raises(ValueError, match="one folder name per document"):
        summarise_sessions(documents, ["only one"])


def test_hostile_names_stay_text(sessions: dict[str, Path]) -> None:
    document = report_of(sessions["b"])
    evil = "=HYPERLINK(\"http://x\")<img src=x>|*\x1b[2J"
    document["endpoints"].append({**document["endpoints"][0], "host": evil, "entity": evil,
                                  "category": "unknown"})
    table = summarise_sessions([document], ["+cmd|' /C calc'!A0"])
    text = {kind: render_summary(kind, table) for kind in SummaryFile}
    assert "<img" not in text[SummaryFile.HTML] and "\x1b" not in text[SummaryFile.HTML]
    assert "&lt;img src=x&gt;" in text[SummaryFile.HTML]
    assert r"\<img src=x\>\|\*\\x1b\[2J" in text[SummaryFile.MARKDOWN]
    cells = [c for row in csv.reader(io.StringIO(text[SummaryFile.CSV])) for c in row]
    assert "'=HYPERLINK(\"http://x\")<img src=x>|*\\x1b[2J" in cells
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    assert json.loads(text[SummaryFile.JSON])["apps"][0]["sessions"][0]["folder"] == (
        "+cmd|' /C calc'!A0")  # JSON keeps the exact text


def test_every_summary_file_has_a_formatter(sessions: dict[str, Path]) -> None:
    table = summarise_sessions([report_of(sessions["a"])], ["a"])
    for kind in SummaryFile:
        text = render_summary(kind, table)
        assert "graph.facebook.com" in text.replace("<wbr>", ""), kind
    # In HTML a host name may wrap after its dots, never inside a label.
    assert "graph.<wbr>facebook.<wbr>com" in render_summary(SummaryFile.HTML, table)

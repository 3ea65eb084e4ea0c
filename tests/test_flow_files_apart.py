"""A session's flow files (flows.jsonl, flows.csv, then dns.jsonl and findings.jsonl) written
by a fork of the process while it renders the report (session.flow_files) are the same as
written in one pass; a writer that fails makes the audit fail the same way, one that dies
without a word is replaced."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from auditor.classify.catalog import Catalog
from auditor.cli.errors import EXIT_OUTPUT
from auditor.session import flow_files
from auditor.session.folder import SessionFolderError
from auditor.session.offline import analyze_files
from auditor.session.session_audit import rebuild_report

from .conftest import SAMPLES

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="writing apart needs fork")
CAPTURES = sorted(SAMPLES.glob("*.pcap*"))


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def analysed(catalog: Catalog, capture: Path, out: Path, apart: bool,
             monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    monkeypatch.setattr(flow_files, "WRITE_APART_FROM", 0 if apart else 1 << 62)
    monkeypatch.setattr(flow_files, "spare_core", lambda: True)
    analyze_files(catalog, [capture], out=out, app=None)
    return folder_bytes(out)


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda path: path.name)
def test_flow_files_written_apart_are_the_same(catalog: Catalog, capture: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    here = analysed(catalog, capture, tmp_path / "here", False, monkeypatch)
    apart = analysed(catalog, capture, tmp_path / "apart", True, monkeypatch)
    assert apart.keys() == here.keys()
    assert {"flows.jsonl", "flows.csv", "dns.jsonl", "findings.jsonl"} <= apart.keys()
    assert [name for name in here if apart[name] != here[name]] == []
    assert not [name for name in apart if name.endswith(".tmp")]


def test_a_rebuilt_report_written_apart_is_the_same(catalog: Catalog, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    capture = SAMPLES / "zoom-desktop-call.pcapng"
    before = analysed(catalog, capture, tmp_path / "session", False, monkeypatch)
    (tmp_path / "session" / "flows.csv").unlink()
    monkeypatch.setattr(flow_files, "WRITE_APART_FROM", 0)
    rebuild_report(catalog, tmp_path / "session")
    assert folder_bytes(tmp_path / "session") == before


def test_a_writer_that_dies_is_replaced_by_writing_here(catalog: Catalog, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    capture = SAMPLES / "teams-linux-any.pcap"
    here = analysed(catalog, capture, tmp_path / "here", False, monkeypatch)
    parent = os.getpid()
    write = flow_files.write_flow_files

    def dying_writer(*args: Any, **kwargs: Any) -> None:
        if os.getpid() != parent:
            os._exit(9)  # the forked writer dies without a word
        write(*args, **kwargs)

    monkeypatch.setattr(flow_files, "write_flow_files", dying_writer)
    assert analysed(catalog, capture, tmp_path / "apart", True, monkeypatch) == here


@pytest.mark.parametrize("failure, kind", [
    (SessionFolderError("cannot write flows.jsonl: No space left on device"),
     SessionFolderError),
    (ValueError("a bug in the writer"), ValueError),
])
def test_a_writer_that_fails_makes_the_audit_fail(catalog: Catalog, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  failure: Exception,
                                                  kind: type[Exception]) -> None:
    parent = os.getpid()
    write = flow_files.write_flow_files

    def failing_writer(*args: Any, **kwargs: Any) -> None:
        if os.getpid() != parent:
            raise failure
        write(*args, **kwargs)

    monkeypatch.setattr(flow_files, "write_flow_files", failing_writer)
    out = tmp_path / "session"
    with pytest.raises(kind, match=str(failure).split(":")[0]) as raised:
        analysed(catalog, SAMPLES / "teams-linux-any.pcap", out, True, monkeypatch)
    notes = getattr(raised.value, "__notes__", [])
    if kind is SessionFolderError:  # what the user is told in one line, as it is
        assert notes == []
    else:  # a bug says where it happened
        assert "in the process writing the flow files" in notes[0]
        assert "failing_writer" in notes[0]
    assert not out.exists()  # nothing half-written is left


def test_a_full_disk_under_the_writer_is_exit_5_and_leaves_no_folder(tmp_path: Path) -> None:
    """The files fill the disk (the file size limit, under the size of flows.jsonl, stands in
    for it) while a fork writes the flow files: one line, exit 5, no folder, as when one
    process writes everything."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (8 * 1024, 8 * 1024))

    code = ("import auditor.session.flow_files as f; f.WRITE_APART_FROM = 0; "
            "f.spare_core = lambda: True; from auditor.cli.main import main; main()")
    out = tmp_path / "session"
    result = subprocess.run([sys.executable, "-c", code, "analyze",
                             str(SAMPLES / "zoom-desktop-call.pcapng"), "--out", str(out), "-q"],
                            capture_output=True, text=True, preexec_fn=limit, check=False,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == EXIT_OUTPUT, result.stderr
    assert result.stderr.startswith("vcaudit: error: cannot write "), result.stderr
    assert result.stderr.count("\n") == 1
    assert not out.exists()


def test_only_large_sessions_with_a_spare_core_are_written_apart(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow_files, "spare_core", lambda: True)
    assert not flow_files.worth_writing_apart(flow_files.WRITE_APART_FROM - 1)
    assert flow_files.worth_writing_apart(flow_files.WRITE_APART_FROM)
    monkeypatch.setattr(flow_files, "spare_core", lambda: False)
    assert not flow_files.worth_writing_apart(10 * flow_files.WRITE_APART_FROM)


def test_a_process_on_one_cpu_or_with_threads_has_no_spare_core(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor import cores

    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert not cores.spare_core()
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert cores.spare_core() is (sys.platform == "linux")
    monkeypatch.setattr(threading, "active_count", lambda: 2)  # a fork could deadlock
    assert not cores.spare_core()

"""The ways a capture is read give the same result: the flow table's shortcut for packets of
flows already open (FlowTable.add_frame) against decoding every packet (FlowTable.add), and
reading a large capture in another process (capture.background_read) against reading it here.
The progress line shows packets per second and the time left."""

from __future__ import annotations

import gzip
import json
import os
import sys
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from auditor.capture import background_read, reading
from auditor.capture.flow_table import FlowTable
from auditor.capture.headers import decode_frame
from auditor.capture.reader import Frame, ReadStatus, read_frame_batches
from auditor.capture.reading import CaptureReading, read_capture
from auditor.classify.catalog import Catalog
from auditor.cli import terminal

from .conftest import SAMPLES, reading_contents, script_module

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(scope="module")
def bench_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The benchmark's generated call (Ethernet, IPv4 and IPv6, TCP and UDP, DNS, TLS, QUIC,
    media), small."""
    path = tmp_path_factory.mktemp("bench") / "call.pcap"
    script_module(BENCH / "make_capture.py").build_capture(path, packets=30_000)
    return path




def read_without_shortcut(path: Path, monkeypatch: pytest.MonkeyPatch) -> CaptureReading:
    """The capture read with every packet decoded and added the general way: frame by frame
    (no record taker) and without add_frame's shortcut."""
    def every_packet_decoded(table: FlowTable, ts: float, wirelen: int, linktype: int,
                             frame: bytes) -> None:
        table.frames += 1
        table.add(ts, wirelen, decode_frame(linktype, frame), frame)

    def frame_by_frame(path: Path, status: ReadStatus, progress: Any = None,
                       taker: Any = None, mapped: bool = True) -> Iterator[list[Frame]]:
        return read_frame_batches(path, status, progress, None, mapped)

    with monkeypatch.context() as patch:
        patch.setattr(FlowTable, "add_frame", every_packet_decoded)
        patch.setattr(reading, "read_frame_batches", frame_by_frame)
        return read_capture(path)


@pytest.mark.parametrize("name", ["bench", "zoom-desktop-call.pcapng", "teams-linux-any.pcap"])
def test_the_shortcut_for_open_flows_changes_nothing(name: str, bench_capture: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = bench_capture if name == "bench" else SAMPLES / name
    general = reading_contents(read_without_shortcut(path, monkeypatch))
    assert general["flows"] and general["packets"] > 0
    assert reading_contents(read_capture(path)) == general


def test_the_shortcut_is_taken_for_most_packets(bench_capture: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: on the generated call, most packets never reach `add`."""
    calls = {"add": 0}
    add = FlowTable.add

    def counted(table: FlowTable, *args: Any) -> None:
        calls["add"] += 1
        add(table, *args)

    monkeypatch.setattr(FlowTable, "add", counted)
    reading = read_capture(bench_capture)
    assert calls["add"] < reading.status.packets / 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="reading in another process needs fork")
def test_a_capture_read_in_another_process_is_read_the_same(bench_capture: Path) -> None:
    here = read_capture(bench_capture)
    prepared: list[bool] = []
    progress: list[tuple[int, int, int]] = []
    apart = background_read.read_in_background(
        bench_capture, "F", lambda *report: progress.append(report), None,
        lambda: prepared.append(True))
    assert prepared == [True]
    assert reading_contents(apart) == reading_contents(here)
    assert all(size == bench_capture.stat().st_size for _, size, _ in progress)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="reading in another process needs fork")
def test_a_reader_that_dies_makes_the_capture_be_read_here(
        bench_capture: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parent = os.getpid()

    def dying_reader(*args: Any, **kwargs: Any) -> CaptureReading:
        if os.getpid() != parent:
            os._exit(9)  # the forked reader dies
        return read_capture(*args, **kwargs)

    here = reading_contents(read_capture(bench_capture))
    monkeypatch.setattr(background_read, "read_capture", dying_reader)
    apart = background_read.read_in_background(bench_capture)
    assert reading_contents(apart) == here


def test_only_large_captures_are_read_apart(tmp_path: Path) -> None:
    small = SAMPLES / "zoom-desktop-call.pcapng"
    assert not background_read.worth_reading_apart(small)
    assert not background_read.worth_reading_apart(tmp_path / "missing.pcap")


def test_the_progress_line_shows_the_rate_and_the_time_left(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(terminal, "SHOW_AFTER_SECONDS", 0.0)
    monkeypatch.setattr(terminal, "PLAIN_LINE_EVERY_SECONDS", 0.0)
    line = terminal.ProgressLine(enabled=True)
    report = line.for_file(Path("call.pcap"))
    assert report is not None
    clock = [100.0]
    monkeypatch.setattr(terminal.time, "monotonic", lambda: clock[0])
    line._started = 100.0
    clock[0] = 110.0  # 10 s in, a quarter of the file read
    report(250, 1000, 50_000)
    text = capsys.readouterr().err
    assert "25.0% of" in text and "5,000 packets/s" in text and "about 30 s left" in text
    clock[0] = 250.0
    report(500, 1000, 100_000)
    assert "about 2 min 30 s left" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "fork"), reason="reading in another process needs fork")
def test_a_bad_out_is_refused_while_a_large_capture_is_read(
        bench_capture: Path, tmp_path: Path, catalog: Catalog,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A large capture starts being read before `--out` is checked (session.offline); a bad
    `--out` still fails at once, and the reader is stopped, not left behind."""
    from auditor.session.folder import SessionFolderError
    from auditor.session.offline import analyze_files

    monkeypatch.setattr(background_read, "BACKGROUND_FROM", 0)
    monkeypatch.setattr(background_read, "spare_core", lambda: True)
    started: list[int] = []
    start = background_read._start

    def noted_start(*args: Any) -> tuple[int, int]:
        pid, pipe = start(*args)
        started.append(pid)
        return pid, pipe

    monkeypatch.setattr(background_read, "_start", noted_start)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(SessionFolderError, match="exists and is not a folder"):
        analyze_files(catalog, [bench_capture], out=not_a_folder, app=None)
    assert len(started) == 1  # the capture was being read in another process
    with pytest.raises(ChildProcessError):  # and that process is gone (reaped)
        os.waitpid(started[0], os.WNOHANG)


def test_analyze_starts_reading_before_loading_what_classifies_and_reports(
        tmp_path: Path) -> None:
    """What `vcaudit analyze` has imported when it forks the reader of a large capture: the
    readers, not the catalog, the audit or the report (those load while it reads)."""
    import subprocess

    probe = (
        "import json, os, sys\n"
        "import auditor.cores as cores\n"
        "def fork():\n"
        "    print(json.dumps(sorted(sys.modules)), flush=True)\n"
        "    os._exit(0)\n"
        "cores.fork = fork\n"
        "import auditor.capture.background_read as b\n"
        "b.fork, b.BACKGROUND_FROM, b.spare_core = fork, 0, lambda: True\n"
        "from auditor.cli.main import main\n"
        "main()\n")
    result = subprocess.run(
        [sys.executable, "-c", probe, "analyze", str(SAMPLES / "teams-linux-any.pcap"),
         "--out", str(tmp_path / "session"), "-q"],
        capture_output=True, text=True, timeout=120, check=True)
    loaded = set(json.loads(result.stdout.splitlines()[-1]))
    assert "auditor.capture.reading" in loaded
    early = {"auditor.classify.catalog", "auditor.audit", "auditor.report.build",
             "auditor.session.folder", "auditor.session.session_audit", "pandas"}
    assert not loaded & early, f"loaded before the reader started: {loaded & early}"


@pytest.mark.parametrize("pcapng", [False, True], ids=["pcap", "pcapng"])
def test_a_capture_gzipped_in_large_members_reads_as_the_plain_one(tmp_path: Path,
                                                                  pcapng: bool) -> None:
    """`gzip -c a >> x; gzip -c b >> x`: a compressed capture of several members, each larger
    than one decompression step, gives the same packets and flows as the capture itself
    (the bytes after a member were once read twice)."""
    plain = tmp_path / ("call.pcapng" if pcapng else "call.pcap")
    script_module(BENCH / "make_capture.py").build_capture(plain, packets=20_000,
                                                           pcapng=pcapng)
    data = plain.read_bytes()
    cuts = [0, len(data) // 3 + 5, 2 * len(data) // 3 + 11, len(data)]
    compressed = tmp_path / f"{plain.name}.gz"
    compressed.write_bytes(b"".join(gzip.compress(data[a:b], compresslevel=1)
                                    for a, b in pairwise(cuts)))
    here = reading_contents(read_capture(plain))
    from_gzip = reading_contents(read_capture(compressed))
    assert from_gzip["truncated"] is None
    assert from_gzip == here

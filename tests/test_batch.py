"""`vcaudit batch`: one session folder per capture, exactly as `vcaudit analyze` writes it, in
parallel (real worker processes, and a real Dask cluster on loopback), failures one line each
without stopping the others, the combined summary, batch.json, the batch folder's rules and the
progress bar."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from auditor.batch.inputs import find_inputs
from auditor.batch.job import BatchSettings, SessionJob
from auditor.batch.runners import WORKER_DIED, run_local
from auditor.cli.batch_progress import BatchProgress
from auditor.cli.errors import EXIT_BATCH_FAILED, EXIT_INPUT, EXIT_OUTPUT, EXIT_USAGE
from auditor.cli.main import main
from auditor.compare.across import summarise_sessions
from auditor.compare.render.files import SummaryFile, render_summary
from auditor.session.table_files import SessionTable

from .conftest import SAMPLES
from .support.mmdb_writer import write_mmdb
from .test_diff import app_events_entry, write_har, zoom_entries
from .test_flow_files import har_entry

ZOOM = SAMPLES / "zoom-desktop-call.pcapng"
TEAMS = SAMPLES / "teams-linux-any.pcap"
COMPARED = ("report.json", "flows.csv", "endpoints.csv", "report.md", "flows.jsonl")


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """The two bundled samples and a HAR file with the Facebook SDK's app events."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    shutil.copy(ZOOM, folder / ZOOM.name)
    shutil.copy(TEAMS, folder / TEAMS.name)
    write_har(folder / "zoom-5.0.2.har", [*zoom_entries(), app_events_entry()])
    return folder


def assert_same_session(batch_session: Path, analysed: Path, tables: bool = False) -> None:
    """The same report files (and with `tables`, the same Parquet tables); HAR entries get
    random flow ids, so for a HAR session the files without flow ids."""
    har = json.loads((analysed / "report.json").read_text())["session"]["source"] == "har"
    names = ["endpoints.csv"] if har else list(COMPARED)
    if tables:
        names += ["endpoints.parquet"] if har else list(SessionTable)
    for name in names:
        assert (batch_session / name).read_bytes() == (analysed / name).read_bytes(), name


def test_a_batch_writes_what_analyze_writes(tmp_path: Path, inputs: Path) -> None:
    out = tmp_path / "out"
    result = run("batch", inputs, "--out", out, "--jobs", "2")
    assert result.exit_code == 0, result.stderr
    names = {"teams-linux-any": TEAMS.name, "zoom-5.0.2": "zoom-5.0.2.har",
             "zoom-desktop-call": ZOOM.name}
    for name, file in names.items():
        alone = tmp_path / f"alone-{name}"
        assert run("analyze", inputs / file, "--out", alone, "-q").exit_code == 0
        assert_same_session(out / name, alone)
        assert all((out / name / table).is_file() for table in SessionTable)
    assert stat_mode(out) == 0o700
    assert result.stdout.splitlines() == [
        f"vcaudit batch: 3 sessions written in {out}",
        "apps: teams 1 session, zoom 2 sessions",
        f"summary: {out / 'summary.md'} (also summary.html, summary.csv, summary.json)",
        f"dataset: {out / 'dataset'} (flows, endpoints, findings as Parquet, partitioned by "
        "app and session; docs/datasets.md)",
    ]
    assert "error" not in result.stderr
    documents = [json.loads((out / n / "report.json").read_text()) for n in sorted(names)]
    table = summarise_sessions(documents, sorted(names))
    for kind in SummaryFile:
        assert (out / kind.value).read_text() == render_summary(kind, table), kind
    record = json.loads((out / "batch.json").read_text())
    assert record["schema"] == "vcaudit.batch/1" and record["complete"] is True
    assert record["runner"] == {"kind": "local", "jobs": 2}
    assert record["failed"] == [] and record["inputs"] == 3
    assert sorted(s["name"] for s in record["sessions"]) == sorted(names)
    zoom = next(s for s in record["sessions"] if s["name"] == "zoom-desktop-call")
    assert zoom["app"] == "zoom" and zoom["id"] == documents[2]["session"]["id"]


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_failures_are_one_line_each_and_the_others_go_on(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    notes = tmp_path / "notes.pcap"
    notes.write_text("not a capture\n")
    missing = tmp_path / "missing.pcap"
    out = tmp_path / "out"
    result = run("batch", ZOOM, empty, notes, missing, TEAMS, "--out", out, "--jobs", "2")
    assert result.exit_code == EXIT_BATCH_FAILED
    errors = [line for line in result.stderr.splitlines() if line.startswith("vcaudit: error:")]
    assert sorted(errors) == sorted([
        f"vcaudit: error: {empty}: the file is empty",
        f"vcaudit: error: {notes}: not a pcap or pcapng capture, mitmproxy flow file or HAR "
        "file (unrecognised content)",
        f"vcaudit: error: {missing}: cannot be read (No such file or directory)",
    ])
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == [
        "dataset", "teams-linux-any", "zoom-desktop-call"]
    assert "2 sessions written" in result.stdout and "3 failed" in result.stdout
    record = json.loads((out / "batch.json").read_text())
    assert sorted((f["name"], f["kind"]) for f in record["failed"]) == [
        ("empty", "input"), ("missing", "input"), ("notes", "input")]
    assert json.loads((out / "summary.json").read_text())["sessions"] == 2


def test_folders_are_searched(tmp_path: Path) -> None:
    tree = tmp_path / "lab"
    for sub in ("zoom/android", "zoom/ios", "teams"):
        (tree / sub).mkdir(parents=True)
    shutil.copy(ZOOM, tree / "zoom" / "android" / "run1.pcapng")
    shutil.copy(ZOOM, tree / "zoom" / "ios" / "run1.pcapng")
    shutil.copy(TEAMS, tree / "teams" / "run1.pcap")
    shutil.copy(TEAMS, tree / "teams" / ".partial.pcap")  # hidden: left out
    (tree / "teams" / "README.md").write_text("notes\n")
    (tree / "zoom" / "empty.pcap").write_bytes(b"")
    found = find_inputs([tree / "zoom", tree / "teams", TEAMS])
    assert [(i.path.relative_to(tmp_path) if i.path.is_relative_to(tmp_path) else i.path,
             i.name) for i in found.inputs] == [
        (Path("lab/zoom/android/run1.pcapng"), "android-run1"),
        (Path("lab/zoom/ios/run1.pcapng"), "ios-run1"),
        (Path("lab/teams/run1.pcap"), "run1"),
        (TEAMS, "teams-linux-any"),
    ]
    assert found.skipped == 2  # README.md and the empty file
    twice = find_inputs([TEAMS, tree / "teams" / "run1.pcap", TEAMS, tmp_path / "dataset.pcap"])
    assert [i.name for i in twice.inputs] == ["teams-linux-any", "run1", "dataset-2"]
    out = tree / "out"  # inside a folder given: never searched
    result = run("batch", tree, "--out", out, "--jobs", "1")
    assert result.exit_code == 0, result.stderr
    assert "2 files in the folders given are not captures" in result.stderr
    again = run("batch", tree, "--out", out, "--jobs", "1", "--force")
    assert again.exit_code == 0, again.stderr
    assert "3 sessions written" in again.stdout


def test_the_batch_folder(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine\n")
    refused = run("batch", TEAMS, "--out", other, "--force")
    assert refused.exit_code == EXIT_OUTPUT
    assert "not a vcaudit batch folder (no batch.json)" in refused.stderr
    assert [p.name for p in other.iterdir()] == ["keep.txt"]
    out = tmp_path / "out"
    assert run("batch", TEAMS, ZOOM, "--out", out, "-j", "1").exit_code == 0
    (out / "notes.txt").write_text("mine\n")
    not_again = run("batch", TEAMS, "--out", out)
    assert not_again.exit_code == EXIT_OUTPUT and "--force" in not_again.stderr
    replaced = run("batch", TEAMS, "--out", out, "--force", "-q")
    assert replaced.exit_code == 0, replaced.stderr
    assert replaced.stdout == f"{out}\n"
    assert sorted(p.name for p in out.iterdir()) == sorted([
        "batch.json", "dataset", "notes.txt", "teams-linux-any",
        *(kind.value for kind in SummaryFile)])
    assert [p.name for p in (out / "dataset" / "flows").iterdir()] == ["app=teams"]


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--jobs", "0"], EXIT_USAGE, "--jobs"),
    (["--app", "nosuchapp"], EXIT_USAGE, "unknown app 'nosuchapp'"),
    (["--identity", "nokind"], EXIT_USAGE, "nokind"),
    (["--rules", "/nonexistent/rules.toml"], 4, "/nonexistent/rules.toml"),
    (["--scheduler", " "], EXIT_USAGE, "--scheduler needs an address"),
])
def test_bad_options_stop_before_any_work(tmp_path: Path, args: list[str], code: int,
                                          message: str) -> None:
    out = tmp_path / "out"
    result = run("batch", TEAMS, "--out", out, *args)
    assert result.exit_code == code
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr
    assert not out.exists()


def test_address_databases_reach_the_workers(tmp_path: Path) -> None:
    database = write_mmdb(tmp_path / "asn.mmdb", {
        "5.45.0.0/24": {"autonomous_system_number": 64500,
                        "autonomous_system_organization": "Example Carrier"},
    }, "GeoLite2-ASN", build_epoch=1_780_000_000)
    for name in ("one", "two"):
        write_har(tmp_path / f"{name}.har", [har_entry("https://cdn.example.net/a",
                                                       ip="5.45.0.7")])
    out = tmp_path / "out"
    result = run("batch", tmp_path / "one.har", tmp_path / "two.har", "--out", out, "-j", "2",
                 "--geoip", database)
    assert result.exit_code == 0, result.stderr
    for name in ("one", "two"):
        endpoint = pq.read_table(out / name / "endpoints.parquet").to_pylist()[0]
        assert (endpoint["asn"], endpoint["as_org"]) == (64500, "Example Carrier")
    bad = tmp_path / "broken.mmdb"
    bad.write_bytes(b"not a database")
    refused = run("batch", tmp_path / "one.har", "--out", tmp_path / "x", "--geoip", bad)
    assert refused.exit_code == 4 and "broken.mmdb" in refused.stderr
    assert not (tmp_path / "x").exists()


def test_nothing_to_analyse(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("x\n")
    result = run("batch", folder, "--out", tmp_path / "out")
    assert result.exit_code == EXIT_INPUT
    assert result.stderr.startswith("vcaudit: error: nothing to analyse")
    assert not (tmp_path / "out").exists()


DYING_RUN = '''
import os
from auditor.batch.job import run_session

def run(job, settings):
    """Analyse, except the capture named `dies`: its worker process dies half-way through
    writing its session."""
    if job.name == "dies":
        (job.root / job.name).mkdir(exist_ok=True)
        (job.root / job.name / "flows.jsonl").write_text("{")
        os.kill(os.getpid(), 9)
    return run_session(job, settings)
'''


def test_a_worker_that_dies_costs_only_its_capture(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "dying_run.py").write_text(textwrap.dedent(DYING_RUN))
    monkeypatch.syspath_prepend(str(tmp_path))  # the worker processes import it from there
    import dying_run  # type: ignore[import-not-found]

    root = tmp_path / "out"
    root.mkdir()
    jobs = [SessionJob(TEAMS, "teams", root), SessionJob(TEAMS, "dies", root),
            SessionJob(ZOOM, "zoom", root), SessionJob(TEAMS, "teams-2", root)]
    results = list(run_local(jobs, BatchSettings(), 2, dying_run.run))
    by_name = {r.name: r for r in results}
    assert sorted(by_name) == ["dies", "teams", "teams-2", "zoom"] and len(results) == 4
    assert by_name["dies"].error == WORKER_DIED and by_name["dies"].kind == "worker"
    assert all(by_name[n].ok for n in ("teams", "teams-2", "zoom"))
    assert sorted(p.name for p in root.iterdir() if p.name != "dataset") == [
        "teams", "teams-2", "zoom"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is used on Linux only")
def test_workers_are_forked_only_from_a_process_with_one_thread() -> None:
    probe = ("import sys\n{}\nfrom auditor.batch.runners import start_method\n"
             "print(start_method())")
    alone = subprocess.run([sys.executable, "-c", probe.format("")], capture_output=True,
                           text=True, timeout=60, check=True)
    assert alone.stdout.strip() == "fork"
    threaded = subprocess.run([sys.executable, "-c", probe.format("import pyarrow.parquet")],
                              capture_output=True, text=True, timeout=60, check=True)
    assert threaded.stdout.strip() == "forkserver"  # pyarrow's native threads


def test_the_command_in_its_own_process(tmp_path: Path) -> None:
    """As a user runs it: a fresh process with one thread, whose workers are forks."""
    result = subprocess.run([sys.executable, "-m", "auditor.cli.main", "batch", str(ZOOM),
                             str(TEAMS), "--out", str(tmp_path / "out"), "--jobs", "2"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "out" / "batch.json").read_text())
    assert sorted(s["name"] for s in record["sessions"]) == ["teams-linux-any",
                                                             "zoom-desktop-call"]
    alone = tmp_path / "alone"
    assert run("analyze", ZOOM, "--out", alone, "-q").exit_code == 0
    assert_same_session(tmp_path / "out" / "zoom-desktop-call", alone)


def test_the_progress_bar_text(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([100.0, 100.0, 130.0, 160.0])
    monkeypatch.setattr(time, "monotonic", lambda: next(clock))
    progress = BatchProgress(4, enabled=False)
    progress.advance(failed=False)
    assert progress.text() == "1/4 captures, 0:30, about 1:30 left"
    progress.advance(failed=True)
    assert progress.text() == "2/4 captures, 1 failed, 1:00, about 1:00 left"


def test_progress_lines_when_not_a_terminal(tmp_path: Path, inputs: Path) -> None:
    result = run("batch", inputs, "--out", tmp_path / "out", "-j", "1")
    assert result.exit_code == 0
    assert "\r" not in result.stderr and "\x1b" not in result.stderr  # no bar drawn into logs


PROBE = """
import contextlib, io, json, sys
from auditor.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(["batch", "--help"])
    except SystemExit:
        pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_batch_help_is_light() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            timeout=60, check=True)
    loaded = set(json.loads(result.stdout.splitlines()[-1]))
    assert "auditor" in loaded
    assert not loaded & {"pandas", "pyarrow", "scapy", "mitmproxy", "distributed", "dask"}


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """A real Dask scheduler and two single-threaded worker processes on 127.0.0.1, started
    as a lab would start them (the `dask scheduler` and `dask worker` commands)."""
    pytest.importorskip("distributed", reason="Dask's distributed is not installed "
                                              "(pip install 'vcaudit[cluster]')")
    scheduler_file = tmp_path / "scheduler.json"
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    common = {"cwd": tmp_path, "stdin": subprocess.DEVNULL, "start_new_session": True}
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
        stdout=(logs / "scheduler.out").open("w"), stderr=subprocess.STDOUT, **common)
    processes = [scheduler]
    try:
        address = _wait_for_address(scheduler_file, scheduler)
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--host",
             "127.0.0.1", "--nworkers", "2", "--nthreads", "1", "--no-dashboard",
             "--local-directory", str(tmp_path / "dask-work")],
            stdout=(logs / "workers.out").open("w"), stderr=subprocess.STDOUT, **common))
        _wait_for_workers(address, 2)
        yield address
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _wait_for_address(scheduler_file: Path, scheduler: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if scheduler.poll() is not None:
            pytest.fail("the Dask scheduler exited")
        try:
            return str(json.loads(scheduler_file.read_text())["address"])
        except (OSError, ValueError, KeyError):
            time.sleep(0.2)
    pytest.fail("the Dask scheduler did not start within 60 s")


def _wait_for_workers(address: str, count: int) -> None:
    from distributed import Client

    with Client(address, timeout=30) as client:
        client.wait_for_workers(count, timeout=60)
        assert all(info["host"] == "127.0.0.1" for info in
                   client.scheduler_info()["workers"].values())


def test_a_batch_on_a_dask_cluster(tmp_path: Path, inputs: Path, dask_cluster: str) -> None:
    bad = tmp_path / "bad.pcap"
    bad.write_text("not a capture\n")
    out = tmp_path / "cluster-out"
    result = subprocess.run(  # the real command, as a lab runs it, with relative paths
        [sys.executable, "-m", "auditor.cli.main", "batch", "inputs", "bad.pcap", "--out",
         "cluster-out", "--scheduler", dask_cluster],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == EXIT_BATCH_FAILED, result.stderr
    assert [line for line in result.stderr.splitlines() if "error" in line] == [
        f"vcaudit: error: {bad}: not a pcap or pcapng capture, mitmproxy flow file or HAR "
        "file (unrecognised content)"]
    local = tmp_path / "local-out"
    assert run("batch", inputs, "--out", local, "-j", "1").exit_code == 0
    for name in ("teams-linux-any", "zoom-5.0.2", "zoom-desktop-call"):
        assert_same_session(out / name, local / name, tables=True)  # inputs absolute here
    record = json.loads((out / "batch.json").read_text())
    assert record["runner"] == {"kind": "dask", "scheduler": dask_cluster}
    assert [f["name"] for f in record["failed"]] == ["bad"]
    assert (out / "summary.md").read_text() == (local / "summary.md").read_text()


def test_no_scheduler_there(tmp_path: Path) -> None:
    pytest.importorskip("distributed", reason="Dask's distributed is not installed")
    result = run("batch", TEAMS, "--out", tmp_path / "out", "--scheduler", "nonsense://x")
    assert result.exit_code == EXIT_USAGE
    assert result.stderr.startswith("vcaudit: error: cannot connect to the Dask scheduler at "
                                    "nonsense://x")
    assert not (tmp_path / "out").exists()

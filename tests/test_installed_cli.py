"""End to end as a user meets vcaudit: the installed `vcaudit` command, run from an empty
folder (no checkout around it), on the bundled sample and a live proxy on loopback.

Under `./dev.sh test` (and CI) the command is the one the built wheel installed, so a data file
missing from the wheel or an import of the source tree fails here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import FROM_SOURCE_TREE, INSTALLED_PACKAGE, REPO, SAMPLES
from .support.upstream import UpstreamServer, free_port

VCAUDIT = Path(sys.executable).with_name("vcaudit")
SAMPLE = SAMPLES / "zoom-desktop-call.pcapng"
REPORT_FILES = ("flows.jsonl", "dns.jsonl", "session.json", "report.json", "endpoints.csv",
                "flows.csv", "report.md", "report.html")


@pytest.fixture
def empty_dir(tmp_path: Path) -> Path:
    """A working folder with nothing in it: no checkout, no captures, no config."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def run(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the installed command; the environment has no PYTHONPATH pointing at a checkout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(VCAUDIT), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_the_command_is_installed() -> None:
    assert VCAUDIT.is_file(), f"no vcaudit command beside {sys.executable}"


def test_version_and_help(empty_dir: Path) -> None:
    from auditor import __version__

    version = run("--version", cwd=empty_dir)
    assert version.returncode == 0, version.stderr
    assert __version__ in version.stdout
    help_text = run("--help", cwd=empty_dir)
    assert help_text.returncode == 0
    for command in ("analyze", "proxy", "report", "classify", "lists"):
        assert command in help_text.stdout


def test_analyze_then_report_the_bundled_sample(empty_dir: Path) -> None:
    analysed = run("analyze", str(SAMPLE), "--app", "zoom", cwd=empty_dir)
    assert analysed.returncode == 0, analysed.stderr
    assert "Traceback" not in analysed.stderr
    folders = list((empty_dir / "vcaudit-reports").iterdir())
    assert len(folders) == 1
    folder = folders[0]
    assert f"{folder.name}/report.md" in analysed.stdout
    for name in REPORT_FILES:
        assert (folder / name).stat().st_size > 0, name
    document = json.loads((folder / "report.json").read_text())
    assert document["schema"] == "vcaudit.report/1"
    assert document["summary"]["flows"] > 0
    assert document["summary"]["categories"]["first-party"]["endpoints"] > 0

    before = (folder / "report.json").read_text()
    rebuilt = run("report", str(folder), cwd=empty_dir)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads((folder / "report.json").read_text())["summary"] == \
        json.loads(before)["summary"]


def test_classify_and_list_apps(empty_dir: Path) -> None:
    result = run("classify", "--app", "zoom", "--json", "zoom.us", "graph.facebook.com",
                 cwd=empty_dir)
    assert result.returncode == 0, result.stderr
    verdicts = {line["host"]: line for line in map(json.loads, result.stdout.splitlines())}
    assert verdicts["zoom.us"]["category"] == "first-party"
    assert verdicts["zoom.us"]["first_party"] is True
    assert verdicts["graph.facebook.com"]["category"] == "ad-tech"
    apps = run("classify", "--list-apps", cwd=empty_dir)
    assert apps.returncode == 0
    assert {"zoom", "teams", "meet"} <= {line.split("\t")[0] for line in apps.stdout.splitlines()}


def test_lists_show(empty_dir: Path) -> None:
    result = run("lists", "show", "--json", cwd=empty_dir)
    assert result.returncode == 0, result.stderr
    known = {line["name"]: line for line in map(json.loads, result.stdout.splitlines())}
    assert {"easylist", "easyprivacy"} <= set(known)
    assert all(line["licence"] for line in known.values() if line["kind"] == "list")


@pytest.fixture
def plain_upstream() -> Iterator[UpstreamServer]:
    with UpstreamServer(None) as server:
        yield server


def test_proxy_starts_records_and_stops(empty_dir: Path, plain_upstream: UpstreamServer) -> None:
    port = free_port()
    session = empty_dir / "call"
    log = empty_dir / "proxy.log"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [str(VCAUDIT), "proxy", "--app", "zoom", "--out", str(session), "--",
             "--listen-host", "127.0.0.1", "--listen-port", str(port),
             "--set", f"confdir={empty_dir / 'conf'}"],
            cwd=empty_dir, stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        while b"point the app at this proxy" not in log.read_bytes():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        with httpx.Client(proxy=f"http://127.0.0.1:{port}") as client:
            response = client.get(f"http://127.0.0.1:{plain_upstream.port}/hello?x=1")
        assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    flows = [json.loads(line) for line in (session / "flows.jsonl").open()]
    assert [f["url"] for f in flows] == [f"http://127.0.0.1:{plain_upstream.port}/hello?x=1"]
    assert flows[0]["status"] == 200
    for name in REPORT_FILES[3:]:
        assert (session / name).is_file(), name
    assert str(session / "report.md") in log.read_text()


def test_installed_package_holds_every_data_file() -> None:
    """Every non-Python file of auditor/ in the checkout is in the installed package."""
    if FROM_SOURCE_TREE:
        pytest.skip("auditor is imported from the checkout (editable install); ./dev.sh test "
                    "checks the installed wheel")
    source = REPO / "auditor"
    wanted = {p.relative_to(source) for p in source.rglob("*")
              if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts}
    assert wanted, "the checkout has data files"
    missing = sorted(str(p) for p in wanted if not (INSTALLED_PACKAGE / p).is_file())
    assert not missing, f"missing from the installed package: {missing}"
    modules = {p.relative_to(source) for p in source.rglob("*.py")}
    assert not sorted(str(p) for p in modules if not (INSTALLED_PACKAGE / p).is_file())

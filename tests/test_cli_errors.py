"""Every path a command takes, given badly, fails with one `vcaudit: error:` line and the exit
code the README documents for what the path names; usage errors are one line too.

Unreadable files: the tests run as root here, whom chmod 000 does not stop, so a path through a
file (ENOTDIR) and a symbolic link loop (ELOOP) stand in for them (the same OSError path as
EACCES); a chmod 000 case runs only when not root. A FIFO is refused as a capture (the reader
must seek) but is read like any file for the text options (`--rules <(...)` works), so it is
not a bad path there.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from auditor.cli.errors import EXIT_CATALOG, EXIT_INPUT, EXIT_OUTPUT, EXIT_USAGE
from auditor.cli.main import main

from .conftest import SAMPLES

SAMPLE = SAMPLES / "zoom-desktop-call.pcapng"
# If vcaudit let a bad path through, mitmproxy would refuse this mode at once (exit 2) instead
# of running until the test times out.
NO_PROXY = ("--", "--mode", "bogus")


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line_error(result: Result, code: int, fragment: str = "") -> None:
    assert result.exit_code == code, (result.exit_code, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vcaudit: error: "), result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout == ""


def bad_path(tmp_path: Path, kind: str) -> Path:
    """A path that cannot be used, of the given kind."""
    if kind == "missing":
        return tmp_path / "missing"
    if kind == "folder":
        (tmp_path / "a-folder").mkdir()
        return tmp_path / "a-folder"
    if kind == "file":
        (tmp_path / "plain.txt").write_text("x\n")
        return tmp_path / "plain.txt"
    if kind == "through-a-file":  # ENOTDIR: what an unreadable path gives root
        (tmp_path / "plain.txt").write_text("x\n")
        return tmp_path / "plain.txt" / "inside"
    if kind == "symlink-loop":  # ELOOP
        (tmp_path / "loop").symlink_to(tmp_path / "loop")
        return tmp_path / "loop"
    if kind == "fifo":
        os.mkfifo(tmp_path / "fifo")
        return tmp_path / "fifo"
    if kind == "binary":  # not UTF-8 text
        (tmp_path / "random.bin").write_bytes(bytes(range(128, 256)) * 4)
        return tmp_path / "random.bin"
    raise ValueError(kind)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("session") / "s"
    assert run("analyze", SAMPLE, "--out", folder, "-q").exit_code == 0
    return folder


UNREADABLE = ["missing", "folder", "through-a-file", "symlink-loop"]


@pytest.mark.parametrize("kind", [*UNREADABLE, "fifo"])
def test_capture_input(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out"
    path = bad_path(tmp_path, kind)
    if kind == "fifo":  # a writer that closes at once: opening the pipe would not hang
        threading.Thread(target=lambda: open(path, "wb").close(), daemon=True).start()
    fragment = {"fifo": "not a regular file", "folder": "is a folder"}.get(kind, "")
    assert_one_line_error(run("analyze", path, "--out", out), EXIT_INPUT,
                          f"error: {path}: {fragment}")
    assert not out.exists()
    if kind == "fifo":
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))  # lets the writer's open return


@pytest.mark.parametrize("kind", [*UNREADABLE, "file", "fifo"])
def test_report_folder(tmp_path: Path, kind: str) -> None:
    path = bad_path(tmp_path, kind)
    fragment = "no flows.jsonl here" if kind == "folder" else ""  # a folder, not a session's
    assert_one_line_error(run("report", path), EXIT_INPUT, f"error: {path}: {fragment}")


@pytest.mark.parametrize("kind", ["file", "through-a-file", "symlink-loop"])
@pytest.mark.parametrize("command", ["analyze", "proxy"])
def test_out_that_cannot_be_a_session_folder(tmp_path: Path, command: str, kind: str) -> None:
    args = ("analyze", SAMPLE) if command == "analyze" else ("proxy",)
    tail = () if command == "analyze" else NO_PROXY
    assert_one_line_error(run(*args, "--out", bad_path(tmp_path, kind), *tail), EXIT_OUTPUT)


OPTION_FILES = [
    ("analyze", "--rules", EXIT_CATALOG), ("analyze", "--config", EXIT_CATALOG),
    ("analyze", "--identity-file", EXIT_USAGE), ("analyze", "--sdk-fields", EXIT_USAGE),
    ("report", "--rules", EXIT_CATALOG), ("report", "--config", EXIT_CATALOG),
    ("proxy", "--config", EXIT_CATALOG), ("proxy", "--identity-file", EXIT_USAGE),
    ("proxy", "--sdk-fields", EXIT_USAGE),
    ("classify", "--rules", EXIT_CATALOG), ("classify", "--config", EXIT_CATALOG),
    ("lists show", "--config", EXIT_CATALOG), ("lists update", "--config", EXIT_CATALOG),
]


@pytest.mark.parametrize("kind", [*UNREADABLE, "binary"])
@pytest.mark.parametrize("command, option, code", OPTION_FILES,
                         ids=[f"{c}{o}" for c, o, _ in OPTION_FILES])
def test_file_an_option_names(tmp_path: Path, session: Path, command: str, option: str,
                              code: int, kind: str) -> None:
    out = tmp_path / "out"
    args: tuple[object, ...] = {
        "analyze": ("analyze", SAMPLE, "--out", out),
        "report": ("report", session),
        "proxy": ("proxy", "--out", out),
        "classify": ("classify", "zoom.us"),
        "lists show": ("lists", "show"),
        "lists update": ("lists", "update"),
    }[command]
    tail = NO_PROXY if command == "proxy" else ()
    path = bad_path(tmp_path, kind)
    assert_one_line_error(run(*args, option, path, *tail), code, str(path))
    assert not out.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_files(tmp_path: Path) -> None:
    capture = tmp_path / "call.pcap"
    capture.write_bytes(SAMPLE.read_bytes())
    rules = tmp_path / "mine.toml"
    rules.write_text("")
    capture.chmod(0)
    rules.chmod(0)
    assert_one_line_error(run("analyze", capture), EXIT_INPUT, "ermission denied")
    assert_one_line_error(run("classify", "zoom.us", "--rules", rules), EXIT_CATALOG,
                          "ermission denied")


@pytest.mark.parametrize("args, fragment", [
    (("analyze", SAMPLE, "--bogus"), "No such option '--bogus'"),
    (("frobnicate",), "No such command 'frobnicate'"),
    (("lists", "frobnicate"), "No such command 'frobnicate'"),
    (("analyze",), "Missing argument 'FILES...'"),
    (("lists", "update", "--timeout", "0"), "Invalid value for '--timeout'"),
    (("classify",), "give at least one NAME_OR_IP"),
    (("--bogus",), "No such option '--bogus'"),
])
def test_usage_errors_are_one_line(args: tuple[object, ...], fragment: str) -> None:
    result = run(*args)
    assert_one_line_error(result, EXIT_USAGE, fragment)
    assert result.stderr.rstrip().endswith("--help`)")  # where to read more


@pytest.mark.parametrize("limit_kb, says", [
    (0, "vcaudit: error: cannot keep flows on disk in "),  # not even a temporary file
    (64, "vcaudit: error: cannot write "),  # the session folder's files fill the disk
])
def test_a_full_disk_while_analysing_is_exit_5_and_leaves_no_folder(tmp_path: Path,
                                                                    limit_kb: int,
                                                                    says: str) -> None:
    """A disk that is full, or fills up while the session folder is written (the file size
    limit stands in for it): one line saying what could not be written, exit 5, and no
    half-written folder left behind."""
    import resource
    import subprocess
    import sys

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_kb * 1024, limit_kb * 1024))

    out = tmp_path / "session"
    result = subprocess.run([sys.executable, "-c", "from auditor.cli.main import main; main()",
                             "analyze", str(SAMPLE), "--out", str(out), "-q"],
                            capture_output=True, text=True, preexec_fn=limit, check=False,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == EXIT_OUTPUT, result.stderr
    assert result.stderr.startswith(says)
    assert result.stderr.count("\n") == 1
    assert not out.exists()

"""One fuzz case: a file through the whole offline pipeline, as `vcaudit analyze FILE` and
`vcaudit report FOLDER` run it (analyze_files into a session folder, rebuild_report on it, the
terminal summary with the CLI's warnings), in a forked child with bounds on time and memory.

What counts as a failure:
- crash: an exception that is not one of vcaudit's documented errors (InputError, UsageError,
  ConfigError, OutputError): the CLI would exit 70 "internal error";
- hang: the case ran past its time bound (a stack of where it was is kept);
- memory: the child grew past its memory bound (resident memory over the parent's, sampled,
  or an allocation refused by RLIMIT_AS, or the peak measured at the end);
- terminal-text: the summary or a warning line carries a control, bidi or zero-width
  character, or text the terminal cannot encode;
- error-text: a documented error's message is not one clean line;
- rebuild-differs: `vcaudit report` on the folder summarises other totals than `analyze` did;
- signal: the child died of a signal (a crash in native code).
"""

from __future__ import annotations

import faulthandler
import io
import json
import os
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
from contextlib import redirect_stdout
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# Characters a line for the terminal must not carry: controls other than the line end, DEL,
# C1 controls, bidi embeddings, overrides and isolates, zero-width and other format marks.
UNSAFE_TEXT = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e"
                         "\u2060-\u2064\u2066-\u206f\ufeff\U000e0000-\U000e007f]")
MB = 1 << 20
CLI_RECURSION_LIMIT = 1000  # Python's default, as `vcaudit` runs with
FAILURES = ("crash", "hang", "memory", "terminal-text", "error-text", "rebuild-differs",
            "signal")


@dataclass
class Outcome:
    """What one case did: `kind` is ok, rejected (a documented error) or a failure kind."""

    kind: str
    detail: str = ""
    signature: str = ""
    trace: str = ""
    seconds: float = 0.0
    memory_mb: float = 0.0

    @property
    def failed(self) -> bool:
        """Whether this is a failure to store."""
        return self.kind in FAILURES


class CheckError(Exception):
    """A failure the pipeline itself did not raise: bad terminal text, a rebuild that
    disagrees. `what` tells failures of one kind apart in the signature."""

    def __init__(self, kind: str, what: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.what = what


class Pipeline:
    """The catalog and scan context the CLI would build, loaded once in the parent (children
    forked from it share them)."""

    def __init__(self) -> None:
        from auditor.classify.catalog import load_catalog
        from auditor.classify.list_attach import attach_lists
        from auditor.lists.config import load_config
        from auditor.personal_data.scan import ScanContext
        from auditor.personal_data.sdk_fields import load_sdks

        self.catalog = attach_lists(load_catalog([]), load_config(None), None)
        self.scan = ScanContext.build([], load_sdks(None))

    def warm_up(self, inputs: list[tuple[bytes, str]]) -> None:
        """Run inputs in this process, so that what the pipeline loads on first use (address
        databases, mitmproxy, pandas' writers) is loaded once, before the children fork."""
        for data, suffix in inputs:
            work = Path(tempfile.mkdtemp(prefix="vcaudit-fuzz-"))
            try:
                path = work / f"input{suffix}"
                path.write_bytes(data)
                self.run(path, work)
            finally:
                shutil.rmtree(work, ignore_errors=True)

    def run(self, path: Path, work: Path) -> str:
        """The file through analyze, report and the summary; the terminal text printed."""
        from auditor.cli.terminal import print_summary
        from auditor.session.offline import analyze_files
        from auditor.session.session_audit import rebuild_report

        raw = io.BytesIO()
        terminal = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="\n")
        analysed = analyze_files(self.catalog, [path], out=work / "session", app=None,
                                 scan=self.scan)
        rebuilt = rebuild_report(self.catalog, analysed.folder)
        for warning in analysed.warnings + rebuilt.warnings:  # as the CLI prints them
            terminal.write(f"vcaudit: warning: {warning}\n")
        with redirect_stdout(terminal):
            print_summary(rebuilt.report.document, rebuilt.folder)
        terminal.flush()
        before, after = analysed.report.document["summary"], rebuilt.report.document["summary"]
        if before != after:
            changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
            raise CheckError("rebuild-differs", ",".join(changed),
                             f"summary keys differ: {changed}")
        text = raw.getvalue().decode("utf-8")
        unsafe = UNSAFE_TEXT.search(text)
        if unsafe:
            line = text[:unsafe.start()].count("\n") + 1
            where = "warning" if text.splitlines()[line - 1].startswith("vcaudit: warning")\
                else "summary"
            raise CheckError("terminal-text", where,
                             f"{unsafe.group()!r} in terminal line {line}")
        return text


def documented_errors() -> tuple[type[BaseException], ...]:
    """The errors the CLI turns into a documented exit code other than 70."""
    from auditor.errors import ConfigError, InputError, OutputError, UsageError

    return (InputError, UsageError, ConfigError, OutputError)


def judge(exc: BaseException | None) -> Outcome:
    """What an exception (or none) from the pipeline means."""
    if exc is None:
        return Outcome("ok")
    if isinstance(exc, CheckError):
        return Outcome(exc.kind, str(exc), f"{exc.kind}:{exc.what}", _trace(exc))
    if isinstance(exc, MemoryError):
        return Outcome("memory", "MemoryError (allocation over the bound)",
                       f"memory:{_where(exc)}", _trace(exc))
    detail = f"{type(exc).__name__}: {str(exc)[:300]}"
    if isinstance(exc, documented_errors()):
        message = str(exc)
        if not message or UNSAFE_TEXT.search(message) or "\n" in message:
            return Outcome("error-text", f"{type(exc).__name__}: {message[:300]!r}",
                           f"error-text:{_where(exc)}", _trace(exc))
        return Outcome("rejected", detail)
    return Outcome("crash", detail, f"{type(exc).__name__}:{_where(exc)}", _trace(exc))


def _trace(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))[-6000:]


def _where(exc: BaseException) -> str:
    """The innermost frame in vcaudit's own code (else the innermost of all)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/auditor/" in f.filename] or frames
    if not ours:
        return "?"
    frame = ours[-1]  # no line number: the signature outlives edits of the file
    return f"{frame.filename.split('/auditor/')[-1]}:{frame.name}"


def _hang_where(dump: str) -> str:
    """The innermost vcaudit frame of a faulthandler dump (most recent call first)."""
    for line in dump.splitlines():
        match = re.search(r'File "([^"]*/auditor/[^"]*)", line (\d+) in (\S+)', line)
        if match:
            return f"{match.group(1).split('/auditor/')[-1]}:{match.group(3)}"
    return "?"


def _status(pid: int | str, field: str) -> int:
    """A memory figure of /proc/PID/status, in bytes (0 when the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def run_case(pipeline: Pipeline, data: bytes, suffix: str, seconds: float,
             memory_mb: int) -> Outcome:
    """Run one input in a forked child with its bounds; the child's working folder is removed
    afterwards."""
    work = Path(tempfile.mkdtemp(prefix="vcaudit-fuzz-"))
    try:
        path = work / f"input{suffix}"
        path.write_bytes(data)
        base_size = _status("self", "VmSize")
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            _child(pipeline, path, work, seconds, base_size + memory_mb * MB)
        return _watch(pid, work, started, seconds, _status(pid, "RssAnon"), memory_mb)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _child(pipeline: Pipeline, path: Path, work: Path, seconds: float,
           address_limit: int) -> None:
    """Run the case and write its outcome; the peak is resident memory over what the child
    started with (a forked child starts without the parent's file pages and counts those it
    touches, so this errs high by at most the parent's file-backed memory)."""
    code = 0
    base_rss = _status("self", "VmRSS")
    try:
        stderr = open(work / "stderr.txt", "w")  # noqa: SIM115 - lives until os._exit
        os.dup2(stderr.fileno(), 2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        faulthandler.enable(stderr)
        faulthandler.dump_traceback_later(max(seconds - 0.5, 0.1), exit=False, file=stderr)
        resource.setrlimit(resource.RLIMIT_AS, (address_limit, address_limit))
        sys.setrecursionlimit(CLI_RECURSION_LIMIT)
        error: BaseException | None = None
        try:
            pipeline.run(path, work)
        except BaseException as exc:  # noqa: BLE001 - every failure is judged
            error = exc
        outcome = judge(error)
        outcome.memory_mb = round((_status("self", "VmHWM") - base_rss) / MB, 1)
        (work / "outcome.json").write_text(json.dumps(asdict(outcome)))
    except BaseException:  # noqa: BLE001 - the child must reach os._exit
        code = 1
    finally:
        os._exit(code)


def _watch(pid: int, work: Path, started: float, seconds: float, base_anon: int,
           memory_mb: int) -> Outcome:
    """Wait for the child, sampling its anonymous memory; kill it past a bound."""
    peak = 0
    killed: str | None = None
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        growth = _status(pid, "RssAnon") - base_anon
        peak = max(peak, growth)
        if growth > memory_mb * MB:
            killed = "memory"
        elif time.monotonic() - started > seconds:
            killed = "hang"
        if killed:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            break
        time.sleep(0.01)
    elapsed = round(time.monotonic() - started, 3)
    stderr = _read(work / "stderr.txt")
    if killed == "hang":
        where = _hang_where(stderr)
        return Outcome("hang", f"still running after {seconds:g} s", f"hang:{where}",
                       stderr[-6000:], elapsed, round(peak / MB, 1))
    if killed == "memory":
        return Outcome("memory", f"resident memory grew past {memory_mb} MB",
                       "memory:resident", stderr[-6000:], elapsed, round(peak / MB, 1))
    result = work / "outcome.json"
    if not result.is_file():
        cause = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                 else f"exit status {os.WEXITSTATUS(status)}")
        return Outcome("signal", f"the child died ({cause})", f"signal:{cause}",
                       stderr[-6000:], elapsed, round(peak / MB, 1))
    outcome = Outcome(**json.loads(result.read_text()))
    outcome.seconds = elapsed
    outcome.memory_mb = max(outcome.memory_mb, round(peak / MB, 1))
    if outcome.kind not in FAILURES and outcome.memory_mb > memory_mb:
        outcome.kind, outcome.detail = "memory", f"peak {outcome.memory_mb} MB over the parent"
        outcome.signature = "memory:peak"
    return outcome


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def describe(outcome: Outcome) -> dict[str, Any]:
    """The outcome as JSON-ready data."""
    return asdict(outcome)

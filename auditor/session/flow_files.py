"""flows.jsonl and flows.csv: every flow of a session as its log line and its table row, in
report order, written as the flows stream by (then the session's other logs: dns.jsonl,
findings.jsonl).

session_pass writes them in its one pass over the flows. For a session with many flows, and a
core to spare, a fork of this process writes them instead, from its own pass over the same
flows (read again from the flow stores, and classified the same way, as the classifier is
copied with the process), while this process adds up and renders the report: the files are
the same, and writing a session takes about half as long. The fork reports a failure (a full
disk) back through a pipe, as the exception this process then raises; a fork that died
without one (killed) makes this process write the files itself.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import traceback
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from auditor.cores import fork, spare_core, stop
from auditor.records import FLOW_COLUMNS, Classification, Flow
from auditor.report.flow_rows import flow_line, shared_row
from auditor.report.render.report_files import ReportFile
from auditor.report.render.tables import CsvRows
from auditor.session.folder import TEXT_ERRORS, FlowLog, SessionFolderError, write_jsonl

WRITE_BUFFER = 1 << 20
# Logs written with the flow files: (file name, records), e.g. the DNS answers to dns.jsonl.
OtherLogs = Sequence[tuple[str, Sequence[Any]]]
# Sessions with fewer flows are written in one process: a fork and a second pass over the
# flows cost more than they save (about 40 microseconds a flow are saved).
WRITE_APART_FROM = 4096


class FlowFiles:
    """flows.csv, and flows.jsonl with `log`, being written a flow at a time into `folder`.
    flows.csv takes its place when closed, and the other `logs` are written then; failures
    raise SessionFolderError."""

    def __init__(self, folder: Path, log: bool, logs: OtherLogs = ()) -> None:
        self._folder = folder
        self._logs = logs
        self._csv_path = folder / ReportFile.FLOWS_CSV.value
        self._temporary = _temporary_csv(folder)
        try:
            self._handle = open(self._temporary, "w", encoding="utf-8",  # noqa: SIM115
                                errors=TEXT_ERRORS, newline="", buffering=WRITE_BUFFER)
        except OSError as exc:
            raise SessionFolderError(f"cannot write {self._csv_path}: {exc}") from exc
        try:
            self._log = FlowLog(folder, flush_each=False) if log else None
        except SessionFolderError:
            self.discard()
            raise
        self._rows = CsvRows(self._handle, FLOW_COLUMNS)

    def write(self, line: dict[str, Any], row: dict[str, Any]) -> None:
        """One flow: its flows.jsonl line and its flows.csv row."""
        if self._log is not None:
            self._log.append(line)
        try:
            self._rows.write(row)
        except OSError as exc:
            raise SessionFolderError(f"cannot write {self._csv_path}: {exc}") from exc

    def close(self) -> None:
        """Finish both files (flows.jsonl synced, flows.csv moved into place), then write the
        other logs."""
        try:
            if self._log is not None:
                self._log.close()
            self._handle.close()
            os.replace(self._temporary, self._csv_path)
        except OSError as exc:
            raise SessionFolderError(f"cannot write {self._csv_path}: {exc}") from exc
        finally:
            self.discard()
        for name, records in self._logs:
            write_jsonl(self._folder / name, records)

    def discard(self) -> None:
        """Give up: close what is open and leave no temporary file behind."""
        if self._log is not None:
            with contextlib.suppress(SessionFolderError):
                self._log.close()
        with contextlib.suppress(OSError):
            self._handle.close()
        with contextlib.suppress(OSError):
            self._temporary.unlink(missing_ok=True)


def write_flow_files(folder: Path, flows: Iterable[tuple[Flow, Classification]], *,
                     log: bool, show_values: bool, logs: OtherLogs = ()) -> None:
    """Write flows.csv (and flows.jsonl with `log`) from the classified flows, then the
    other `logs`."""
    files = FlowFiles(folder, log, logs)
    try:
        for flow, verdict in flows:
            line = flow_line(flow, verdict)
            files.write(line, shared_row(line, show_values))
    except BaseException:
        files.discard()
        raise
    files.close()


def worth_writing_apart(flow_count: int) -> bool:
    """Whether a session of this many flows should have its flow files written by a fork."""
    return flow_count >= WRITE_APART_FROM and spare_core()


Passes = Callable[[], Iterable[tuple[Flow, Classification]]]  # each call: a new pass


class FlowFilesApart:
    """write_flow_files run by a fork of this process, started when made; `wait` for it.
    `flows` gives a pass over the classified flows: the fork makes one, and this process
    another if the fork dies without a word."""

    def __init__(self, folder: Path, flows: Passes, *, log: bool, show_values: bool,
                 logs: OtherLogs = ()) -> None:
        self._arguments = (folder, flows, log, show_values, logs)
        read_end, write_end = os.pipe()
        self._pid = fork()
        if self._pid == 0:  # the writer: never returns
            status = 1
            try:
                os.close(read_end)
                status = _write_and_report(write_end, self._arguments)
            finally:
                os._exit(status)
        os.close(write_end)
        self._pipe = read_end

    def wait(self) -> None:
        """Wait for the files; raise what made writing them fail. A writer that died without
        saying why is replaced by writing the files here."""
        received = bytearray()
        try:
            while chunk := os.read(self._pipe, 1 << 16):
                received += chunk
        finally:
            os.close(self._pipe)
        _pid, status = os.waitpid(self._pid, 0)
        if os.waitstatus_to_exitcode(status) == 0:
            return
        if received:
            raise pickle.loads(bytes(received))
        folder, flows, log, show_values, logs = self._arguments
        write_flow_files(folder, flows(), log=log, show_values=show_values, logs=logs)

    def stop(self) -> None:
        """End the writer when its files are no longer wanted (this process failed)."""
        with contextlib.suppress(OSError):
            os.close(self._pipe)
        stop(self._pid)
        with contextlib.suppress(OSError):
            _temporary_csv(self._arguments[0]).unlink(missing_ok=True)


def _temporary_csv(folder: Path) -> Path:
    """Where flows.csv is written until it is complete."""
    return folder / f".{ReportFile.FLOWS_CSV.value}.tmp"


def _write_and_report(pipe: int,
                      arguments: tuple[Path, Passes, bool, bool, OtherLogs]) -> int:
    """The writer's work: the files written (exit status 0), or the exception that stopped
    it sent through `pipe` (status 1)."""
    folder, flows, log, show_values, logs = arguments
    try:
        write_flow_files(folder, flows(), log=log, show_values=show_values, logs=logs)
        return 0
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
        report = _transportable(exc)
        with contextlib.suppress(OSError), os.fdopen(pipe, "wb") as out:
            out.write(pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL))
        return 1


def _transportable(exc: BaseException) -> BaseException:
    """`exc` as it can be pickled and read back, with where it happened in the writer."""
    where = "".join(traceback.format_exception(exc))
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - an exception that does not survive pickling
        exc = RuntimeError(f"{type(exc).__name__}: {exc}")
    if not isinstance(exc, SessionFolderError):  # the one kind the user is told in a line
        exc.add_note(f"in the process writing the flow files:\n{where}")
    return exc

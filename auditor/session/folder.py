"""The session folder: where an audit's log and report files live.

`flows.jsonl` is the log every report is rebuilt from: one flow per line, appended and flushed
as flows complete, so a crash loses nothing already written. `dns.jsonl` holds the DNS answers
(for names and CNAME chains) and `session.json` what the source counted. A folder vcaudit
creates is readable by its owner only, because a session holds decrypted traffic; an existing
folder keeps its mode.

The logs (`*.jsonl`) are the private record: they keep what was seen, URLs with their tokens
and personal data found included, so that `vcaudit report --show-values` can show them later.
The report files (report.json, .md, .html, the CSV tables) are the ones to share: they redact
those values (short hashes) unless the session was built with `--show-values`.

Whether an existing `--out` may take a new session: auditor/session/out_folder.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from auditor.errors import InputError, OutputError
from auditor.records import (
    FLOW_COLUMNS,
    Anomaly,
    Classification,
    DnsAnswer,
    Finding,
    Flow,
    flow_from_dict,
    record_to_dict,
)
from auditor.report.build import BuiltReport
from auditor.report.flow_rows import flow_line
from auditor.report.render.report_files import ReportFile, render
from auditor.report.render.tables import CsvRows

FLOW_LOG = "flows.jsonl"
DNS_LOG = "dns.jsonl"
ANOMALY_LOG = "anomalies.jsonl"
FINDING_LOG = "findings.jsonl"
SESSION_META = "session.json"
SESSION_MARKERS = (FLOW_LOG, SESSION_META)
# Every file a session folder may hold (the datasets' Parquet files too): what --force replaces.
SESSION_FILES = frozenset({
    FLOW_LOG, DNS_LOG, ANOMALY_LOG, FINDING_LOG, SESSION_META,
    *(kind.value for kind in ReportFile),
    "flows.parquet", "endpoints.parquet", "findings.parquet",
})
DEFAULT_PARENT = Path("vcaudit-reports")
_encode = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(..., ensure_ascii=False)
# Text from traffic may hold lone surrogates (mitmproxy decodes undecodable bytes with
# surrogateescape), which UTF-8 cannot encode: every file of a session writes them escaped
# (`\udced`: in JSON, the escape that reads back as the same character).
TEXT_ERRORS = "backslashreplace"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class SessionFolderError(OutputError):
    """The session folder cannot be created, written or read; one line for the user."""


def create_session_folder(out: Path | None, session_id: str) -> Path:
    """The folder for a new session: `out` itself, or a fresh folder under ./vcaudit-reports/
    named after the session. A folder this creates is readable by its owner only; an existing
    one keeps its mode and is refused if it already holds session files."""
    if out is None:
        return _new_default_folder(session_id)
    if out.is_dir():
        present = sorted(name for name in SESSION_FILES if (out / name).exists())
        if present:
            raise SessionFolderError(f"{out} already holds a vcaudit session ({present[0]}); "
                                     "choose a new or empty folder")
        return out
    if out.exists():
        raise SessionFolderError(f"{out}: exists and is not a folder")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _make_private_folder(out)
    except OSError as exc:
        raise SessionFolderError(f"cannot create session folder {out}: "
                                 f"{exc.strerror or exc}") from exc
    return out


def _new_default_folder(session_id: str) -> Path:
    name = _UNSAFE.sub("-", session_id)
    folder = DEFAULT_PARENT / name
    try:
        DEFAULT_PARENT.mkdir(parents=True, exist_ok=True)
        for suffix in range(2, 10_000):
            try:
                _make_private_folder(folder)
                return folder
            except FileExistsError:
                folder = DEFAULT_PARENT / f"{name}-{suffix}"
        raise FileExistsError(f"too many sessions named {name} already")
    except OSError as exc:
        raise SessionFolderError(f"cannot create session folder {folder}: "
                                 f"{exc.strerror or exc}") from exc


def _make_private_folder(folder: Path) -> None:
    """Create a folder that did not exist yet (never take over one that appeared meanwhile),
    owner-only whatever the umask."""
    folder.mkdir(mode=0o700)
    os.chmod(folder, 0o700)


class AppendLog:
    """A JSON-lines file that only grows: each record is one line, flushed as it is written
    (`flush_each`, for a live session a crash must not cut short; an offline one is written
    into a folder that only takes its place once complete, and is synced when closed)."""

    def __init__(self, path: Path, flush_each: bool = True) -> None:
        self.path = path
        self._flush_each = flush_each
        try:
            self._handle: IO[str] = open(  # noqa: SIM115
                path, "a", encoding="utf-8", errors=TEXT_ERRORS,
                buffering=-1 if flush_each else 1 << 20)
        except OSError as exc:
            raise SessionFolderError(f"cannot write {path}: {exc}") from exc

    def append(self, line: dict[str, Any]) -> None:
        """Write one record (and flush it, so a crash right after loses nothing)."""
        try:
            self._handle.write(_encode(line) + "\n")
            if self._flush_each:
                self._handle.flush()
        except (OSError, ValueError) as exc:
            raise SessionFolderError(f"cannot write {self.path}: {exc}") from exc

    def close(self) -> None:
        """Close the log, syncing it to disk; raises SessionFolderError if what was written
        could not be (the handle is closed either way)."""
        if self._handle.closed:
            return
        failure: OSError | ValueError | None = None
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
        except (OSError, ValueError) as exc:
            failure = exc
        try:
            self._handle.close()
        except (OSError, ValueError) as exc:  # flushing what is still buffered failed again
            failure = failure or exc
        if failure is not None:
            raise SessionFolderError(f"cannot write {self.path}: {failure}") from failure


class FlowLog(AppendLog):
    """flows.jsonl: every flow with the classification known when it was written."""

    def __init__(self, folder: Path, flush_each: bool = True) -> None:
        super().__init__(folder / FLOW_LOG, flush_each)

    def write(self, flow: Flow, verdict: Classification | None = None) -> None:
        """Append one flow."""
        self.append(flow_line(flow, verdict))


def write_jsonl(path: Path, records: Iterable[Any]) -> None:
    """Write records (dataclasses) as JSON lines, replacing the file."""
    try:
        with open(path, "w", encoding="utf-8", errors=TEXT_ERRORS) as handle:
            for record in records:
                handle.write(json.dumps(record_to_dict(record), ensure_ascii=False) + "\n")
    except OSError as exc:
        raise SessionFolderError(f"cannot write {path}: {exc}") from exc


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write one JSON document, replacing the file atomically."""
    write_atomically(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def write_report_files(folder: Path, report: BuiltReport,
                       flows_written: bool = False) -> list[Path]:
    """Write every report file (flows.csv a row at a time, unless `flows_written` says it
    was written while the flows were classified); return their paths."""
    written = []
    for kind in ReportFile:
        path = folder / kind.value
        if kind is ReportFile.FLOWS_CSV:
            if not flows_written:
                _write_rows(path, FLOW_COLUMNS, report.flow_rows())
        else:
            write_atomically(path, render(kind, report))
        written.append(path)
    return written


def _write_rows(path: Path, columns: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> None:
    """A CSV table written a row at a time, replacing `path` atomically."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8", errors=TEXT_ERRORS, newline="",
                  buffering=1 << 20) as handle:
            writer = CsvRows(handle, columns)
            for row in rows:
                writer.write(row)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise SessionFolderError(f"cannot write {path}: {exc}") from exc


def write_atomically(path: Path, text: str,
                     error: type[OutputError] = SessionFolderError) -> None:
    """Write `text` to `path` through a hidden temporary file moved into place, so that `path`
    is never half-written; a failure raises `error` naming the file."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8", errors=TEXT_ERRORS)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):  # never leave a half-written file behind
            temporary.unlink(missing_ok=True)
        raise error(f"cannot write {path}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class StoredSession:
    """What a session folder holds, read back."""

    meta: dict[str, Any]
    flows: list[Flow]
    dns_answers: list[DnsAnswer]
    anomalies: list[Anomaly]
    findings: list[Finding]
    bad_lines: int


def read_session_folder(folder: Path, live: bool = False) -> StoredSession:
    """Read the logs and session.json. A damaged line (e.g. the last one, half-written when a
    process was killed) is counted and skipped; with `live`, a last line still being written
    (no newline yet) is left for the next read instead."""
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder" if not folder.exists() else
                         f"{folder}: not a folder (give the session folder that holds {FLOW_LOG})")
    flow_log = folder / FLOW_LOG
    if not flow_log.is_file():
        raise InputError(f"{folder}: no {FLOW_LOG} here; is it a vcaudit session folder?")
    meta: dict[str, Any] = {}
    meta_path = folder / SESSION_META
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"{meta_path}: unreadable ({exc})") from exc
    flows, bad_flows = _read_lines(flow_log, flow_from_dict, live)
    answers: list[DnsAnswer] = []
    anomalies: list[Anomaly] = []
    bad_answers = bad_anomalies = 0
    if (folder / DNS_LOG).is_file():
        answers, bad_answers = _read_lines(folder / DNS_LOG, _answer_from_dict, live)
    if (folder / ANOMALY_LOG).is_file():
        anomalies, bad_anomalies = _read_lines(folder / ANOMALY_LOG, _anomaly_from_dict, live)
    findings: list[Finding] = []
    bad_findings = 0
    if (folder / FINDING_LOG).is_file():
        findings, bad_findings = _read_lines(folder / FINDING_LOG, _finding_from_dict, live)
    unique = list({flow.flow_id: flow for flow in flows}.values())
    return StoredSession(meta, unique, answers, anomalies, findings,
                         bad_flows + bad_answers + bad_anomalies + bad_findings)


def _answer_from_dict(data: dict[str, Any]) -> DnsAnswer:
    return DnsAnswer(
        flow_id=str(data["flow_id"]), ts=float(data["ts"]), query=str(data["query"]),
        chain=tuple(str(c) for c in data["chain"]), address=str(data["address"]),
        ttl=data.get("ttl"),
    )


def _finding_from_dict(data: dict[str, Any]) -> Finding:
    return Finding(flow_id=str(data["flow_id"]), kind=str(data["kind"]),
                   location=str(data["location"]), path=str(data["path"]),
                   encoding=str(data["encoding"]), value=str(data["value"]),
                   detail=str(data["detail"]), sdk=data.get("sdk"))


def _anomaly_from_dict(data: dict[str, Any]) -> Anomaly:
    return Anomaly(kind=str(data["kind"]), detail=str(data["detail"]),
                   packet=data.get("packet"), flow_id=data.get("flow_id"))


def _read_lines(path: Path, parse: Any, live: bool = False) -> tuple[list[Any], int]:
    records, bad = [], 0
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in _nonblank(handle):
                if live and not line.endswith("\n"):
                    break  # still being written
                try:
                    records.append(parse(json.loads(line)))
                except (ValueError, TypeError, KeyError):
                    bad += 1
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    return records, bad


def _nonblank(handle: IO[str]) -> Iterator[str]:
    for line in handle:
        if line.strip():
            yield line

"""A live audit session: the folder a running proxy writes, its append-only logs, the DNS it
has seen so far, and the report it refreshes.

Every completed flow is appended to flows.jsonl and flushed at once; the report files are
rebuilt from the logs, so a report written while running, on shutdown, or by
`vcaudit report DIR` after a crash all come from the same place.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.classify.app_detection import AppChoice, choose_app
from auditor.classify.catalog import Catalog
from auditor.classify.endpoint import classify_endpoint
from auditor.names.dns_index import DnsIndex
from auditor.records import (
    Anomaly,
    Classification,
    DnsAnswer,
    Finding,
    Flow,
    record_to_dict,
)
from auditor.session.folder import (
    ANOMALY_LOG,
    DEFAULT_PARENT,
    DNS_LOG,
    FINDING_LOG,
    FLOW_LOG,
    SESSION_META,
    AppendLog,
    FlowLog,
    SessionFolderError,
    create_session_folder,
    write_json,
)
from auditor.session.session_audit import AuditOutcome, rebuild_report

REDETECT_EVERY = 50  # flows between re-detections of the audited app while running
MAX_ANSWERS_KEPT = 100_000  # DNS answers kept in memory for naming; all are in dns.jsonl
MAX_VERDICTS_CACHED = 10_000


class LiveSession:
    """Where a proxy session's records go. Thread-safe for appends and report refreshes."""

    def __init__(self, catalog: Catalog, out: Path | None, app: str | None, source: str,
                 description: str, show_values: bool = False) -> None:
        started = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
        self.session_id = f"{source}-{started}"
        self.folder_was_new = out is None or not out.exists()
        self.folder = create_session_folder(out, self.session_id)
        self.catalog = catalog
        self.requested_app = app
        self._app: AppChoice = choose_app(catalog, [], app)
        self._flows = FlowLog(self.folder)
        self._dns = AppendLog(self.folder / DNS_LOG)
        self._anomalies = AppendLog(self.folder / ANOMALY_LOG)
        self._findings = AppendLog(self.folder / FINDING_LOG)
        self.show_values = show_values
        self._answers: list[DnsAnswer] = []
        self._dns_index: DnsIndex | None = None
        self._recent: list[Flow] = []
        self._verdicts: dict[tuple[str | None, str | None, str | None], Classification] = {}
        self._lock = threading.Lock()
        self._report_lock = threading.Lock()
        self.flow_count = 0
        self.closed = False
        # The first failure to write the folder (full disk, read-only, removed): from then on
        # nothing more is written, and what could not be is counted.
        self.write_failure: str | None = None
        self.unrecorded_flows = 0
        self.unrecorded_records = 0
        self.on_write_failure: Callable[[str], None] | None = None
        write_json(self.folder / SESSION_META, {
            "id": self.session_id, "source": source, "inputs": [description],
            "app_requested": app, "coverage": {},
        })

    def record_flow(self, flow: Flow) -> bool:
        """Name the flow from DNS seen so far if it has no name, classify it, append it; say
        whether it was recorded. After close (shutdown), late flows are dropped: the report is
        already written. Once the folder cannot be written, flows are counted, not written."""
        with self._lock:
            if self.closed:
                return False
            if self.write_failure is not None:
                self.unrecorded_flows += 1
                return False
            if flow.host is None:
                flow = self._named_from_dns(flow)
            self._track_app(flow)
            key = (flow.host, flow.server_ip, self._app.entity_id)
            verdict = self._verdicts.get(key)
            if verdict is None:
                if len(self._verdicts) >= MAX_VERDICTS_CACHED:
                    self._verdicts.clear()
                verdict = self._verdicts[key] = classify_endpoint(
                    self.catalog, flow.host, flow.server_ip, self._app.entity_id)
            try:
                self._flows.write(flow, verdict)
            except SessionFolderError as exc:
                self.unrecorded_flows += 1
                self._failed(str(exc))
                return False
            self.flow_count += 1
            return True

    def record_dns(self, answers: list[DnsAnswer]) -> None:
        """Remember and log DNS answers, for naming later flows."""
        if not answers:
            return
        with self._lock:
            if self.closed:
                return
            self._write(self._dns, answers)
            self._answers.extend(answers)
            if len(self._answers) > MAX_ANSWERS_KEPT:
                del self._answers[: len(self._answers) // 2]
            self._dns_index = None

    def record_findings(self, findings: list[Finding]) -> None:
        """Log personal data found in a flow's request."""
        self._append(self._findings, findings)

    def record_anomaly(self, kind: str, detail: str, flow_id: str | None = None) -> None:
        """Log something that went wrong inside the addon; it never reaches the traffic."""
        self._append(self._anomalies, [Anomaly(kind, detail[:500], None, flow_id)])

    def _append(self, log: AppendLog, records: list[Any]) -> None:
        """Append records to a log unless the session is closed (late events at shutdown)."""
        if not records:
            return
        with self._lock:
            if self.closed:
                return
            self._write(log, records)

    def _write(self, log: AppendLog, records: list[Any]) -> None:
        """Append records (the caller holds the lock), or count them once writing failed."""
        if self.write_failure is not None:
            self.unrecorded_records += len(records)
            return
        for number, record in enumerate(records):
            try:
                log.append(record_to_dict(record))
            except SessionFolderError as exc:
                self.unrecorded_records += len(records) - number
                self._failed(str(exc))
                return

    def _failed(self, reason: str) -> None:
        """The first write failure: remember it and tell the addon (once)."""
        if self.write_failure is not None:
            return
        self.write_failure = reason
        if self.on_write_failure is not None:
            self.on_write_failure(reason)

    def write_report(self, final: bool = False) -> AuditOutcome:
        """Rebuild every report file from the logs."""
        with self._report_lock:
            return rebuild_report(self.catalog, self.folder, self.requested_app, live=not final,
                                  show_values=self.show_values)

    def close(self) -> None:
        """Sync and close the logs."""
        with self._lock:
            self.closed = True
            for log in (self._flows, self._dns, self._anomalies, self._findings):
                try:
                    log.close()
                except SessionFolderError as exc:
                    self._failed(str(exc))

    def discard(self) -> None:
        """Close a session that recorded nothing and remove what it wrote: its own files, and
        the folder too if it created it (an existing folder stays, as it was)."""
        self.close()
        if self.flow_count:
            return
        for name in (FLOW_LOG, DNS_LOG, ANOMALY_LOG, FINDING_LOG, SESSION_META):
            (self.folder / name).unlink(missing_ok=True)
        if not self.folder_was_new:
            return
        with contextlib.suppress(OSError):
            self.folder.rmdir()
            if self.folder.parent == DEFAULT_PARENT:
                DEFAULT_PARENT.rmdir()  # only if it is empty too

    def _named_from_dns(self, flow: Flow) -> Flow:
        if self._dns_index is None:
            self._dns_index = DnsIndex(self._answers)
        return self._dns_index.named(flow)

    def _track_app(self, flow: Flow) -> None:
        if self.requested_app:
            return
        self._recent.append(flow)
        if self._app.app is None or len(self._recent) % REDETECT_EVERY == 0:
            self._app = choose_app(self.catalog, self._recent, None)
        if len(self._recent) > 10 * REDETECT_EVERY:
            del self._recent[: len(self._recent) // 2]

"""The one pass over a session's flows that writes them: each classified flow becomes its
flows.jsonl line and its flows.csv row as it comes, and is added to the report's totals
(report.build.ReportBuilder). Nothing per flow is kept, so writing a session takes the same
memory whatever its size; then the report files are rendered from the totals.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from auditor.audit import SessionData, add_address_owners, owned_addresses
from auditor.capture.flow_spill import RecordSpill
from auditor.classify.catalog import Catalog
from auditor.records import FLOW_COLUMNS, Classification, Flow
from auditor.report.build import BuiltReport, ReportBuilder
from auditor.report.flow_rows import flow_line, shared_row
from auditor.report.render.report_files import ReportFile
from auditor.report.render.tables import CsvRows
from auditor.session.folder import (
    TEXT_ERRORS,
    FlowLog,
    SessionFolderError,
    write_report_files,
)

WRITE_BUFFER = 1 << 20


def write_session(folder: Path, session: SessionData,
                  flows: Iterable[tuple[Flow, Classification]], *, log: bool,
                  owners_from: Catalog | None = None) -> BuiltReport:
    """Write `flows` (the session's, in report order, with their classifications) to
    flows.csv and, with `log`, to flows.jsonl; then every other report file. With
    `owners_from`, the session's address owners are looked up in that catalog once the
    flows have been seen (the addresses they name are only known then)."""
    builder = ReportBuilder({finding.flow_id for finding in session.findings})
    stored = RecordSpill()  # the rows again, for the report files that read every flow
    addresses: set[str | None] = set()
    flow_log = FlowLog(folder, flush_each=False) if log else None
    csv_path = folder / ReportFile.FLOWS_CSV.value
    temporary = csv_path.with_name(f".{csv_path.name}.tmp")
    show_values = session.show_values
    try:
        with open(temporary, "w", encoding="utf-8", errors=TEXT_ERRORS, newline="",
                  buffering=WRITE_BUFFER) as handle:
            rows = CsvRows(handle, FLOW_COLUMNS)
            for number, (flow, verdict) in enumerate(flows):
                line = flow_line(flow, verdict)
                if flow_log is not None:
                    flow_log.append(line)
                row = shared_row(line, show_values)
                rows.write(row)
                stored.put(number, tuple(row[column] for column in FLOW_COLUMNS))
                builder.add(flow, verdict)
                if owners_from is not None:
                    addresses.update(owned_addresses((flow,)))
        os.replace(temporary, csv_path)
    except OSError as exc:
        raise SessionFolderError(f"cannot write {csv_path}: {exc}") from exc
    finally:
        temporary.unlink(missing_ok=True)
        if flow_log is not None:
            flow_log.close()
    if owners_from is not None:
        add_address_owners(session, owners_from, addresses)
    report = builder.finish(session, stored)
    write_report_files(folder, report, flows_written=True)
    return report

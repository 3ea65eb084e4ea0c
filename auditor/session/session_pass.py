"""The one pass over a session's flows that writes them: each classified flow becomes its
flows.jsonl line and its flows.csv row as it comes (session.flow_files; by a fork of this
process, from a pass of its own, when the session is large), and is added to the report's
totals (report.build.ReportBuilder). Nothing per flow is kept in memory (the rows the HTML
page lists wait on disk), so writing a session takes the same memory whatever its size; then
the report files are rendered from the totals.
"""

from __future__ import annotations

from pathlib import Path

from auditor.audit import SessionData, add_address_owners, owned_addresses
from auditor.capture.flow_spill import RecordSpill
from auditor.classify.catalog import Catalog
from auditor.records import FLOW_COLUMNS
from auditor.report.build import BuiltReport, ReportBuilder
from auditor.report.flow_rows import flow_line, shared_row
from auditor.session.flow_files import (
    FlowFiles,
    FlowFilesApart,
    OtherLogs,
    Passes,
    worth_writing_apart,
)
from auditor.session.folder import write_report_files


def write_session(folder: Path, session: SessionData, classified: Passes, *, log: bool,
                  owners_from: Catalog | None = None, logs: OtherLogs = ()) -> BuiltReport:
    """Write the session's flows to flows.csv and, with `log`, to flows.jsonl, then every
    other report file. `classified` gives a pass over the session's flows in report order
    with their classifications (a second one when a fork writes the flow files:
    flow_files). With `owners_from`, the session's address owners are looked up in that
    catalog once the flows have been seen (the addresses they name are only known then).
    The other `logs` (dns.jsonl, findings.jsonl) are written with the flow files."""
    show_values = session.show_values
    apart = (FlowFilesApart(folder, classified, log=log, show_values=show_values, logs=logs)
             if worth_writing_apart(len(session.flows)) else None)
    files = FlowFiles(folder, log, logs) if apart is None else None
    builder = ReportBuilder({finding.flow_id for finding in session.findings})
    stored = RecordSpill()  # the rows again, for the report files that read every flow
    addresses: set[str | None] = set()
    try:
        for number, (flow, verdict) in enumerate(classified()):
            line = flow_line(flow, verdict)
            row = shared_row(line, show_values)
            if files is not None:
                files.write(line, row)
            stored.put(number, tuple(row[column] for column in FLOW_COLUMNS))
            builder.add(flow, verdict)
            if owners_from is not None:
                addresses.update(owned_addresses((flow,)))
        if files is not None:
            files.close()
        if owners_from is not None:
            add_address_owners(session, owners_from, addresses)
        report = builder.finish(session, stored)
        write_report_files(folder, report, flows_written=True)
        if apart is not None:
            apart.wait()
    except BaseException:
        stored.close()
        if files is not None:
            files.discard()
        if apart is not None:
            apart.stop()
        raise
    return report

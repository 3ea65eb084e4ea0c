"""A session audited from what its inputs gave, and written into its session folder; and a
session folder's report rebuilt from its logs (`vcaudit report`).

A capture's flows stay on disk (the capture source's flow stores): the app is chosen in one
pass over them, and they are classified and written in a second (session_pass), so memory
does not grow with the capture. Flow files and HAR files are read whole, then written the
same way. What runs before (the inputs read, the catalog loaded): offline.analyze_files.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.audit import FlowClassifier, SessionData, run_audit, session_data
from auditor.capture.flow_spill import FlowStore
from auditor.classify.app_detection import choose_app
from auditor.classify.catalog import Catalog
from auditor.records import AnomalyLog, Classification, Flow, record_to_dict
from auditor.report.build import BuiltReport
from auditor.session.flow_files import Passes
from auditor.session.folder import (
    DNS_LOG,
    FINDING_LOG,
    SESSION_META,
    read_session_folder,
    write_json,
)
from auditor.session.inputs import SessionInputs
from auditor.session.out_folder import new_session
from auditor.session.session_flows import SessionFlows, SessionVerdicts
from auditor.session.session_pass import write_session
from auditor.timefmt import iso_utc


@dataclass(frozen=True, slots=True)
class AuditOutcome:
    """Where the session was written and what it says."""

    folder: Path
    session: SessionData
    report: BuiltReport
    warnings: list[str]


def audit_inputs(catalog: Catalog, paths: list[Path], inputs: SessionInputs,
                 stores: list[FlowStore], *, out: Path | None, app: str | None,
                 show_values: bool, replace: bool) -> AuditOutcome:
    """Audit what was read from `paths` (a capture's flows in `stores`, flow files' in
    `inputs.flows`) and write the session folder (see offline.analyze_files)."""
    if stores:
        session, classified = _capture_session(catalog, paths, stores, inputs, app,
                                               show_values)
        owners_from: Catalog | None = catalog
    else:
        flows = sorted(inputs.flows, key=lambda f: (f.ts_start, f.flow_id))
        session = run_audit(catalog, flows, inputs.dns_answers,
                            session_id=_session_id(paths, flows[0] if flows else None),
                            source=inputs.source, inputs=[str(p) for p in paths],
                            requested_app=app, coverage=inputs.coverage,
                            findings=inputs.findings, show_values=show_values)
        classified = _passes(session)
        owners_from = None
    with new_session(out, session.session_id, replace) as target:
        report = write_session(target.work, session, classified, log=True,
                               owners_from=owners_from,
                               logs=((DNS_LOG, inputs.dns_answers),
                                     (FINDING_LOG, inputs.findings)))
        write_json(target.work / SESSION_META, _session_meta(session, app))
    warnings = ([target.warning] if target.warning else []) + inputs.warnings
    return AuditOutcome(target.folder, session, report, warnings)


def _capture_session(catalog: Catalog, paths: list[Path], stores: list[FlowStore],
                     inputs: SessionInputs, requested_app: str | None, show_values: bool
                     ) -> tuple[SessionData, Passes]:
    """The session of captures whose flows are on disk, and passes over its flows in report
    order with their classifications (read, classified and named by range as they go)."""
    app = choose_app(catalog, (flow for store in stores for flow in store), requested_app)
    flows = SessionFlows(stores, FlowClassifier(catalog, inputs.dns_answers, app))
    session = session_data(catalog, app, flows, SessionVerdicts(flows), inputs.dns_answers,
                           session_id=_session_id(paths, flows.first()), source=inputs.source,
                           inputs=[str(p) for p in paths], coverage=inputs.coverage,
                           findings=inputs.findings, show_values=show_values)
    return session, flows.classified



def _passes(session: SessionData) -> Passes:
    """Passes over a session whose flows are in memory, with their classifications."""

    def classified() -> Iterable[tuple[Flow, Classification]]:
        return ((flow, session.classifications[flow.flow_id]) for flow in session.flows)

    return classified


def rebuild_report(catalog: Catalog, folder: Path, app: str | None = None,
                   live: bool = False, show_values: bool = False) -> AuditOutcome:
    """Rebuild every report file of a session folder from its logs (`live`: while a proxy is
    still appending to them)."""
    stored = read_session_folder(folder, live)
    meta = stored.meta
    coverage = dict(meta.get("coverage", {}))
    logged = AnomalyLog()
    for anomaly in stored.anomalies:
        logged.add(anomaly)
    if stored.bad_lines:
        logged.counts["log-line-unreadable"] = stored.bad_lines
    if logged.counts:
        coverage["anomalies"] = _merged_anomalies(coverage.get("anomalies"), logged)
    requested = app if app is not None else meta.get("app_requested")
    flows = sorted(stored.flows, key=lambda f: (f.ts_start, f.flow_id))
    session = run_audit(catalog, flows, stored.dns_answers,
                        session_id=meta.get("id", folder.name), source=meta.get("source", "pcap"),
                        inputs=meta.get("inputs", []), requested_app=requested,
                        coverage=coverage, findings=stored.findings, show_values=show_values)
    report = write_session(folder, session, _passes(session), log=False)
    if (folder / "flows.parquet").is_file():  # a batch's session: its tables kept current
        write_session_tables(folder, report)
    warnings = ([f"{stored.bad_lines} damaged log lines were skipped"] if stored.bad_lines
                else [])
    return AuditOutcome(folder, session, report, warnings)


def write_session_tables(folder: Path, report: BuiltReport) -> None:
    """The session's Parquet tables (pyarrow is imported only for them). `vcaudit analyze`
    does not write them (pyarrow alone would double its peak memory); `vcaudit batch` does,
    and a rebuild keeps them current."""
    from auditor.session import parquet_tables

    parquet_tables.write_session_tables(folder, report)


def _merged_anomalies(stored: dict[str, Any] | None, logged: AnomalyLog) -> dict[str, Any]:
    by_kind = dict((stored or {}).get("by_kind", {}))
    examples = dict((stored or {}).get("examples", {}))
    for kind, count in logged.counts.items():
        by_kind[kind] = by_kind.get(kind, 0) + count
    for kind, items in logged.examples.items():
        examples.setdefault(kind, [record_to_dict(a) for a in items])
    return {"total": sum(by_kind.values()), "by_kind": dict(sorted(by_kind.items())),
            "examples": dict(sorted(examples.items()))}


def _session_id(paths: list[Path], first: Flow | None) -> str:
    stem = paths[0].name.split(".")[0] if paths else "session"
    started = iso_utc(first.ts_start) if first is not None else None
    stamp = started[:19].replace("-", "").replace(":", "") + "Z" if started else "empty"
    return f"{stem}-{stamp}"


def _session_meta(session: SessionData, requested_app: str | None) -> dict[str, Any]:
    return {
        "id": session.session_id,
        "source": session.source,
        "inputs": session.inputs,
        "app_requested": requested_app,
        "coverage": session.coverage,
    }

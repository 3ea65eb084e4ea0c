"""`vcaudit analyze` and `vcaudit report` as functions: inputs in, session folder out.

Sources turn files into flows; this module runs the common core over them and writes the
session folder. The CLI stays a thin face over it. A capture's flows stay on disk (the
capture source's flow stores): the app is chosen in one pass over them, and they are
classified and written in a second (session_pass), so memory does not grow with the
capture. Flow files and HAR files are read whole, then written the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.audit import FlowClassifier, SessionData, run_audit, session_data
from auditor.capture.background_read import read_in_background, worth_reading_apart
from auditor.capture.flow_spill import FlowStore
from auditor.capture.reader import ProgressCallback
from auditor.capture.reading import CaptureReading, read_capture
from auditor.classify.app_detection import choose_app
from auditor.classify.catalog import Catalog
from auditor.errors import InputError
from auditor.input_format import InputFormat, detect_format
from auditor.names.domains import registrable_domain
from auditor.personal_data.scan import ScanContext
from auditor.records import AnomalyLog, Classification, DnsAnswer, Finding, Flow, record_to_dict
from auditor.report.build import BuiltReport
from auditor.session.flow_files import Passes
from auditor.session.folder import (
    DNS_LOG,
    FINDING_LOG,
    SESSION_META,
    read_session_folder,
    write_json,
)
from auditor.session.out_folder import check_out_folder, new_session
from auditor.session.session_flows import SessionFlows, SessionVerdicts
from auditor.session.session_pass import write_session
from auditor.timefmt import iso_utc

ProgressFactory = Callable[[Path], ProgressCallback | None]
FLOW_FILE_FORMATS = frozenset({InputFormat.HAR, InputFormat.MITM})


@dataclass(frozen=True, slots=True)
class AuditOutcome:
    """Where the session was written and what it says."""

    folder: Path
    session: SessionData
    report: BuiltReport
    warnings: list[str]


def analyze_files(
    catalog: Catalog | Callable[[], Catalog],
    paths: list[Path],
    *,
    out: Path | None,
    app: str | None,
    progress: ProgressFactory | None = None,
    scan: ScanContext | None = None,
    show_values: bool = False,
    replace: bool = False,
) -> AuditOutcome:
    """Audit capture files (or mitmproxy flow files, or HAR files) into one session folder:
    `out` (new or empty; with `replace`, a session folder whose session is replaced), or a new
    folder under ./vcaudit-reports/. Raises InputError for unusable input, UnknownAppError for
    a bad app name, SessionFolderError when `out` cannot take the session or writing fails;
    nothing is left behind then. `catalog` may be given as the function that loads it: a
    large capture is then read while it loads."""
    if out is not None:
        check_out_folder(out, replace)
    kind = _input_kind(paths)
    load = _Once(catalog)
    stores: list[FlowStore] = []
    try:
        if kind in FLOW_FILE_FORMATS:
            catalog = load()
            inputs = _read_flow_files(paths, kind, scan)
            flows = sorted(inputs.flows, key=lambda f: (f.ts_start, f.flow_id))
            session = run_audit(catalog, flows, inputs.dns_answers,
                                session_id=_session_id(paths, flows[0] if flows else None),
                                source=inputs.source, inputs=[str(p) for p in paths],
                                requested_app=app, coverage=inputs.coverage,
                                findings=inputs.findings, show_values=show_values)
            classified = _passes(session)
            owners_from = None
        else:
            inputs = _read_captures(paths, progress, scan, stores, load)
            catalog = load()
            session, classified = _capture_session(catalog, paths, stores, inputs, app,
                                                   show_values)
            owners_from = catalog
        with new_session(out, session.session_id, replace) as target:
            report = write_session(target.work, session, classified, log=True,
                                   owners_from=owners_from,
                                   logs=((DNS_LOG, inputs.dns_answers),
                                         (FINDING_LOG, inputs.findings)))
            write_json(target.work / SESSION_META, _session_meta(session, app))
    finally:
        for store in stores:
            store.close()
    warnings = ([target.warning] if target.warning else []) + inputs.warnings
    return AuditOutcome(target.folder, session, report, warnings)


class _Once:
    """The catalog, loaded on first need when given as the function that loads it."""

    def __init__(self, catalog: Catalog | Callable[[], Catalog]) -> None:
        self._catalog = catalog if isinstance(catalog, Catalog) else None
        self._loader = None if isinstance(catalog, Catalog) else catalog

    def __call__(self) -> Catalog:
        if self._catalog is None:
            assert self._loader is not None
            self._catalog = self._loader()
        return self._catalog


def _passes(session: SessionData) -> Passes:
    """Passes over a session whose flows are in memory, with their classifications."""

    def classified() -> Iterable[tuple[Flow, Classification]]:
        return ((flow, session.classifications[flow.flow_id]) for flow in session.flows)

    return classified


def _capture_session(catalog: Catalog, paths: list[Path], stores: list[FlowStore],
                     inputs: _Inputs, requested_app: str | None, show_values: bool
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


@dataclass(slots=True)
class _Inputs:
    """What the sources read from the input files, before the audit."""

    source: str
    flows: list[Flow]
    dns_answers: list[DnsAnswer]
    findings: list[Finding]
    coverage: dict[str, Any]
    warnings: list[str]


def _input_kind(paths: list[Path]) -> InputFormat:
    """The one kind of input of a session (captures, flow files or HAR files)."""
    kinds: set[InputFormat] = set()
    for path in paths:
        kind = detect_format(path)
        if kind is InputFormat.UNKNOWN:
            raise InputError(f"{path}: not a pcap or pcapng capture, mitmproxy flow file or "
                             "HAR file (unrecognised content)")
        kinds.add(InputFormat.PCAP if kind not in FLOW_FILE_FORMATS else kind)
    if len(kinds) > 1:
        raise InputError("give either captures (pcap/pcapng), or mitmproxy flow files, or "
                         "HAR files in one session, not a mix")
    return kinds.pop()


def _read_captures(paths: list[Path], progress: ProgressFactory | None,
                   scan: ScanContext | None, stores: list[FlowStore],
                   catalog: Callable[[], Catalog]) -> _Inputs:
    """Read each capture; its flows (on disk) are added to `stores`. A large capture is read
    by another process while this one loads what classifying and reporting its flows need:
    the catalog, its address database, the public suffix list (capture.background_read)."""
    readings: list[CaptureReading] = []
    prepared = False

    def prepare() -> None:
        nonlocal prepared
        if not prepared:
            prepared = True
            catalog().addresses.prepare()
            registrable_domain("example.com")  # loads the public suffix list

    for number, path in enumerate(paths, start=1):
        prefix = "F" if len(paths) == 1 else f"F{number}-"
        report = progress(path) if progress else None
        if worth_reading_apart(path):
            reading = read_in_background(path, prefix, report, scan, prepare)
        else:
            catalog()  # a bad --app or --rules is refused before the capture is read
            reading = read_capture(path, prefix, report, scan)
        readings.append(reading)
        assert isinstance(reading.flows, FlowStore)
        stores.append(reading.flows)
    return _Inputs(
        source="pcap",
        flows=[],
        dns_answers=[answer for reading in readings for answer in reading.dns_answers],
        findings=[finding for reading in readings for finding in reading.findings],
        coverage=capture_coverage(readings),
        warnings=[f"{r.status.path}: {r.status.truncated}; analysed up to that point"
                  for r in readings if r.status.truncated])


def _read_flow_files(paths: list[Path], kind: InputFormat, scan: ScanContext | None) -> _Inputs:
    from auditor.mitm.saved_flows import read_saved_flows  # mitmproxy loads only when needed

    saved = read_saved_flows(paths, scan)
    coverage: dict[str, Any] = {
        "inputs": [{"path": str(path), "format": kind.value,
                    "truncated": saved.damaged.get(str(path))} for path in paths],
        "saved_flows_read": saved.read,
        "saved_flows_skipped": saved.skipped,
    }
    if saved.anomalies.counts:
        coverage["anomalies"] = saved.anomalies.summary()
    warnings = [f"{path}: {reason}; analysed up to that point"
                for path, reason in saved.damaged.items()]
    return _Inputs(kind.value, saved.flows, saved.dns_answers, saved.findings, coverage,
                   warnings)


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


def capture_coverage(readings: list[CaptureReading]) -> dict[str, Any]:
    """What the capture reader counted, for the report's coverage section."""
    anomalies = AnomalyLog()
    non_ip: dict[str, int] = {}
    other_ip: dict[str, int] = {}
    for reading in readings:
        anomalies.merge(reading.anomalies)
        if reading.status.bad_times:
            anomalies.counts["time-out-of-range"] = (anomalies.counts.get("time-out-of-range", 0)
                                                     + reading.status.bad_times)
        for kind, count in reading.non_ip.items():
            non_ip[kind] = non_ip.get(kind, 0) + count
        for proto, count in reading.other_ip.items():
            other_ip[f"ip-proto-{proto}"] = other_ip.get(f"ip-proto-{proto}", 0) + count
    return {
        "inputs": [{
            "path": r.status.path, "format": r.status.file_format, "packets": r.status.packets,
            "bytes_read": r.status.bytes_read, "file_size": r.status.file_size,
            "truncated": r.status.truncated, "packets_cut_by_snaplen": r.status.snaplen_cut,
        } for r in readings],
        "packets": sum(r.status.packets for r in readings),
        "packets_not_ip": non_ip,
        "packets_other_ip_protocols": other_ip,
        "anomalies": anomalies.summary(),
    }


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

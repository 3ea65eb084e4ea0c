"""A session's input files read: captures (pcap, pcapng) into flow stores, or mitmproxy flow
files and HAR files into flows, with the DNS answers, findings and coverage the sources found.

Light to import: a large capture starts being read by a forked process
(capture.background_read) before the modules that classify and report are loaded, and the
session gets ready for them (`get_ready`: the output folder checked, the catalog, its address
database and the public suffix list loaded) while it reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.capture.background_read import read_in_background, worth_reading_apart
from auditor.capture.flow_spill import FlowStore
from auditor.capture.reader import ProgressCallback
from auditor.capture.reading import CaptureReading, read_capture
from auditor.errors import InputError
from auditor.input_format import InputFormat, detect_format
from auditor.personal_data.scan import ScanContext
from auditor.records import AnomalyLog, DnsAnswer, Finding, Flow

ProgressFactory = Callable[[Path], ProgressCallback | None]
FLOW_FILE_FORMATS = frozenset({InputFormat.HAR, InputFormat.MITM})


@dataclass(slots=True)
class SessionInputs:
    """What the sources read from the input files, before the audit (a capture's flows are
    in its flow store instead of `flows`)."""

    source: str
    flows: list[Flow]
    dns_answers: list[DnsAnswer]
    findings: list[Finding]
    coverage: dict[str, Any]
    warnings: list[str]


def input_kind(paths: list[Path]) -> InputFormat:
    """The one kind of input of a session (captures, flow files or HAR files); InputError for
    a file of none of them or a mix."""
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


def read_captures(paths: list[Path], progress: ProgressFactory | None,
                  scan: ScanContext | None, stores: list[FlowStore],
                  get_ready: Callable[[], None]) -> SessionInputs:
    """Read each capture; its flows (on disk) are added to `stores`. `get_ready` runs once,
    before the first capture is read, or while it is read when it is large enough to be read
    by another process."""
    readings: list[CaptureReading] = []
    ready = False

    def once() -> None:
        nonlocal ready
        if not ready:
            ready = True
            get_ready()

    for number, path in enumerate(paths, start=1):
        prefix = "F" if len(paths) == 1 else f"F{number}-"
        report = progress(path) if progress else None
        if worth_reading_apart(path):
            reading = read_in_background(path, prefix, report, scan, once)
        else:
            once()  # a bad --out, --app or --rules is refused before the capture is read
            reading = read_capture(path, prefix, report, scan)
        readings.append(reading)
        assert isinstance(reading.flows, FlowStore)
        stores.append(reading.flows)
    return SessionInputs(
        source="pcap",
        flows=[],
        dns_answers=[answer for reading in readings for answer in reading.dns_answers],
        findings=[finding for reading in readings for finding in reading.findings],
        coverage=capture_coverage(readings),
        warnings=[f"{r.status.path}: {r.status.truncated}; analysed up to that point"
                  for r in readings if r.status.truncated])


def read_flow_files(paths: list[Path], kind: InputFormat,
                    scan: ScanContext | None) -> SessionInputs:
    """Read mitmproxy flow files or HAR files (`kind`) whole."""
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
    return SessionInputs(kind.value, saved.flows, saved.dns_answers, saved.findings, coverage,
                         warnings)


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

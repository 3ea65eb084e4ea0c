"""Saved mitmproxy flows (`mitmdump -w`) and browser HAR exports, read into records.

Each saved flow goes through the same record makers as a live one (flow_records), with its
messages counted the same way (stream_counts), so a saved file and a live proxy give the same
records. Flows without a name are named from the DNS exchanges in the file, as a capture's are.
What is then done with the records (classification, report, session folder) is the session's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mitmproxy import dns, exceptions, http, tcp, udp
from mitmproxy.io import FlowReader

from auditor.errors import InputError
from auditor.mitm.flow_records import (
    dns_flow_records,
    http_flow_record,
    request_data,
    stream_flow_record,
)
from auditor.mitm.stream_counts import StreamCounts
from auditor.names.dns_index import DnsIndex
from auditor.personal_data.scan import ScanContext, scan_request
from auditor.records import Anomaly, AnomalyLog, DnsAnswer, Finding, Flow


@dataclass(slots=True)
class SavedFlows:
    """What the flow files held, as records."""

    flows: list[Flow] = field(default_factory=list)
    dns_answers: list[DnsAnswer] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    anomalies: AnomalyLog = field(default_factory=AnomalyLog)
    read: int = 0  # saved flows read, of every kind


def read_saved_flows(paths: list[Path], scan: ScanContext | None) -> SavedFlows:
    """Read mitmproxy flow files or HAR files into records (and personal-data findings when
    `scan` is given). Raises InputError for a file that cannot be read."""
    saved = SavedFlows()
    for path in paths:
        try:
            with open(path, "rb") as handle:
                for flow in FlowReader(handle).stream():
                    saved.read += 1
                    _add(saved, flow, scan)
        except exceptions.FlowReadException as exc:
            raise InputError(f"{path}: not a readable mitmproxy flow file or HAR ({exc})") from exc
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    saved.flows = _named_from_dns(saved.flows, saved.dns_answers)
    return saved


def _add(saved: SavedFlows, flow: object, scan: ScanContext | None) -> None:
    """The record of one saved flow, made as the live addon makes it."""
    if isinstance(flow, http.HTTPFlow):
        if flow.websocket is not None:
            counts = StreamCounts()
            for ws_message in flow.websocket.messages:
                counts.add(ws_message.from_client, ws_message.content)
            record = http_flow_record(flow, ws_counts=counts.as_tuple())
        else:
            record = http_flow_record(flow)
        saved.flows.append(record)
        if scan is not None:
            outcome = scan_request(record.flow_id, record.host, request_data(flow.request), scan,
                                   record.client_ip)
            saved.findings.extend(outcome.findings)
            if outcome.partial:
                saved.anomalies.add(Anomaly("body-partially-scanned",
                                            "; ".join(outcome.partial), flow_id=record.flow_id))
    elif isinstance(flow, (tcp.TCPFlow, udp.UDPFlow)):
        counts = StreamCounts()
        for message in flow.messages:
            counts.add(message.from_client, message.content)
        saved.flows.append(stream_flow_record(flow, counts.as_tuple(), None, None,
                                              "tls" if counts.starts_like_tls else None))
    elif isinstance(flow, dns.DNSFlow):
        record, answers = dns_flow_records(flow)
        saved.flows.append(record)
        saved.dns_answers.extend(answers)


def _named_from_dns(flows: list[Flow], answers: list[DnsAnswer]) -> list[Flow]:
    """Flows that carry no name of their own, named from the file's DNS answers."""
    if not answers:
        return flows
    index = DnsIndex(answers)
    return [index.named(flow) for flow in flows]

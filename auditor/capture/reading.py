"""From a pcap or pcapng file to named `Flow` records, DNS answers and a count of what was
skipped. This is the offline source: frames are decoded and tracked in one pass; each flow is
written to disk as its facts (flow_facts) when it ends, so memory follows the flows open at
once, not the capture's size. Names from the capture's own DNS are applied at the end, when
every answer is known, and the named flows are kept on disk too (flow_spill.FlowStore),
numbered in the order of their first packets. background_read runs all this in another
process while the caller prepares what comes next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from auditor.capture.flow_facts import CLIENT_STREAM, DNS_QUERIES, flow_facts, named_record
from auditor.capture.flow_spill import FlowStore, RecordSpill, record_flow
from auditor.capture.flow_table import TRANSPORT_OF_PROTO, FlowState, FlowTable
from auditor.capture.headers import NonIpFrameError, PacketError, decode_frame
from auditor.capture.reader import ProgressCallback, ReadStatus, read_frame_batches
from auditor.capture.record_taker import pcap_taker
from auditor.names.dns_index import DnsIndex, answers_from_message
from auditor.personal_data.request_fields import RequestData
from auditor.personal_data.scan import ScanContext, scan_names, scan_request
from auditor.protocols.dns import DnsMessage
from auditor.protocols.http import HttpHeadError, requests_in_stream
from auditor.records import Anomaly, AnomalyLog, DnsAnswer, Finding, Flow, Transport

LOCAL_RESOLUTION = frozenset({"mdns", "llmnr"})  # their answers name local addresses only
AnomalyNote = Callable[[str, str], None]


@dataclass(slots=True)
class CaptureReading:
    """Everything read from one capture file. `flows` are in the order of their first
    packets, kept on disk (a FlowStore) when read from a file."""

    status: ReadStatus
    flows: Sequence[Flow] = field(default_factory=list)
    dns_answers: list[DnsAnswer] = field(default_factory=list)
    anomalies: AnomalyLog = field(default_factory=AnomalyLog)
    findings: list[Finding] = field(default_factory=list)  # personal data in clear payloads
    non_ip: dict[str, int] = field(default_factory=dict)  # frames without IP, by kind
    other_ip: dict[int, int] = field(default_factory=dict)  # packets of other IP protocols


def read_capture(
    path: Path, flow_id_prefix: str = "F", progress: ProgressCallback | None = None,
    scan: ScanContext | None = None, store: FlowStore | None = None, mapped: bool = True,
) -> CaptureReading:
    """Read one capture into flows (into `store`, or a new FlowStore), and scan what is
    readable in it (plaintext HTTP requests, DNS query names) for personal data. Raises
    InputError if it is not a capture at all. `mapped`: see reader.read_frame_batches."""
    reading = CaptureReading(status=ReadStatus(path=str(path)))
    anomalies = reading.anomalies

    def note(kind: str, detail: str) -> None:
        anomalies.add(Anomaly(kind, detail, packet=table.frames))

    ended = _EndedFlows(reading, flow_id_prefix)
    try:
        table = FlowTable(note, ended.add, ended.dns_message)
        add, add_packet = table.add_frame, table.add
        non_ip = reading.non_ip

        def general(ts: float, wirelen: int, linktype: int, data: bytes) -> None:
            try:
                add_packet(ts, wirelen, decode_frame(linktype, data), data)
            except NonIpFrameError as exc:
                non_ip[exc.what] = non_ip.get(exc.what, 0) + 1
            except PacketError as exc:
                note(exc.kind, exc.detail)

        for batch in read_frame_batches(path, reading.status, progress,
                                        pcap_taker(table, general), mapped):
            for ts, linktype, data, wirelen in batch:
                try:
                    add(ts, wirelen, linktype, data)
                except NonIpFrameError as exc:
                    non_ip[exc.what] = non_ip.get(exc.what, 0) + 1
                except PacketError as exc:
                    note(exc.kind, exc.detail)
        if reading.status.truncated:
            anomalies.add(Anomaly("capture-truncated", reading.status.truncated))
        table.finish_all()
        reading.flows = ended.named(scan or ScanContext.build([]), note,
                                    store if store is not None else FlowStore())
    finally:
        ended.close()
    return reading


class _EndedFlows:
    """The flows the table finished, as facts on disk, and the capture's DNS answers."""

    def __init__(self, reading: CaptureReading, prefix: str) -> None:
        self._reading = reading
        self._prefix = prefix
        self._facts = RecordSpill()
        self._ip_cache: dict[bytes, str] = {}
        self._other_ip: dict[int, list[int]] = {}  # protocol: [first flow index, packets]
        self._local_resolution: set[str] = set()  # mDNS and LLMNR exchanges' flow ids

    def flow_id(self, index: int) -> str:
        """The id of the flow numbered `index` (from 0, in the order of first packets)."""
        return f"{self._prefix}{index + 1:06d}"

    def add(self, state: FlowState) -> None:
        """A flow left the table: keep its facts (other IP protocols are only counted)."""
        transport = TRANSPORT_OF_PROTO.get(state.proto)
        if transport is None:
            counted = self._other_ip.setdefault(state.proto, [state.index, 0])
            counted[0] = min(counted[0], state.index)
            counted[1] += state.counts[0] + state.counts[2]
            return
        self._facts.put(state.index, flow_facts(state, Transport(transport), self._ip_cache))

    def dns_message(self, state: FlowState, ts: float, message: DnsMessage) -> None:
        """A DNS response with answers, read in `state`'s flow."""
        flow_id = self.flow_id(state.index)
        self._reading.dns_answers.extend(answers_from_message(flow_id, ts, message))
        if state.payload_info is not None and state.payload_info.app_proto in LOCAL_RESOLUTION:
            self._local_resolution.add(flow_id)

    def named(self, scan: ScanContext, note: AnomalyNote, store: FlowStore) -> FlowStore:
        """Every flow named from the capture's DNS, in the order of first packets, with what
        their clear payloads reveal scanned for personal data."""
        reading = self._reading
        for proto, (_first, packets) in sorted(self._other_ip.items(), key=lambda i: i[1][0]):
            reading.other_ip[proto] = packets
        dns_index = DnsIndex(reading.dns_answers, self._local_resolution)
        names_cache: dict[str, tuple[str, ...]] = {}
        names_queries = bool(scan.needles)
        for index, facts in self._facts.in_key_order():
            record = named_record(facts, self.flow_id(index), dns_index, names_cache)
            store.append_record(record, index + 1)
            stream, queries = facts[CLIENT_STREAM], facts[DNS_QUERIES]
            if stream is not None or (queries and names_queries):
                _scan_payloads(reading, record_flow(record), stream, queries, scan, note)
        return store

    def close(self) -> None:
        """Delete the facts on disk."""
        self._facts.close()


def _scan_payloads(reading: CaptureReading, flow: Flow, stream: bytes | None,
                   queries: tuple[str, ...] | None, scan: ScanContext,
                   note: AnomalyNote) -> None:
    """Personal data in what the capture shows in the clear: HTTP requests and DNS names."""
    requests = []
    if stream is not None:
        try:
            requests = requests_in_stream(stream)
        except HttpHeadError as exc:
            note("http-malformed-request", str(exc))
    for request in requests:
        head = request.head
        outcome = scan_request(flow.flow_id, flow.host, RequestData(
            method=head.method, url=head.url or head.target, headers=head.headers,
            body=request.body, body_complete=request.complete), scan, flow.client_ip)
        reading.findings.extend(outcome.findings)
        if outcome.partial:
            reading.anomalies.add(Anomaly("body-partially-scanned", "; ".join(outcome.partial),
                                          flow_id=flow.flow_id))
    if queries and scan.needles:
        reading.findings.extend(scan_names(flow.flow_id, list(queries), scan))

"""Saved mitmproxy flows (`mitmdump -w`) and browser HAR exports, read into records.

Both are read as streams within bounds (tnetstring_reader, har_reader): a flow or entry at a
time, at most KEPT_BYTES of any body (its full size still counted), messages of a stream
counted rather than kept. A flow or HAR entry that cannot be read is skipped and counted as an
anomaly; a file whose framing breaks partway is analysed up to the break, which is reported; a
file of which nothing can be read is an InputError.

Each saved flow then goes through the same record makers as a live one (flow_records), with its
messages counted the same way (stream_counts) and a raw stream's first messages read for media
the same way (auditor.media), so a saved file and a live proxy give the same records. Flows
without a name are named from the DNS exchanges in the file, as a capture's are. What is then
done with the records (classification, report, session folder) is the session's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, cast

from mitmproxy import dns, http, tcp, udp
from mitmproxy.flow import Flow as MitmFlow
from mitmproxy.io import compat
from mitmproxy.io.har import request_to_flow

from auditor.errors import InputError
from auditor.media.stream import MessageHead
from auditor.mitm.flow_records import (
    dns_flow_records,
    http_flow_record,
    media_read,
    request_data,
    stream_flow_record,
)
from auditor.mitm.har_reader import HarEntry, HarFileError, read_har_entries
from auditor.mitm.stream_counts import StreamCounts
from auditor.mitm.tnetstring_reader import FlowFileError, SavedState, read_flow_states
from auditor.names.dns_index import DnsIndex
from auditor.personal_data.scan import ScanContext, scan_request
from auditor.personal_data.url_secrets import redact_secrets
from auditor.records import (
    Anomaly,
    AnomalyLog,
    DnsAnswer,
    Finding,
    Flow,
    flow_from_dict,
    record_to_dict,
)

MAX_DETAIL = 200  # characters of an error quoted in an anomaly
_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class SavedFlows:
    """What the flow files held, as records."""

    flows: list[Flow] = field(default_factory=list)
    dns_answers: list[DnsAnswer] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    anomalies: AnomalyLog = field(default_factory=AnomalyLog)
    read: int = 0  # saved flows (or HAR entries) read, of every kind
    skipped: int = 0  # saved flows or HAR entries that could not be read
    damaged: dict[str, str] = field(default_factory=dict)  # file -> where reading stopped
    flow_ids: set[str] = field(default_factory=set)  # every flow's id, each once


@dataclass(frozen=True, slots=True)
class _Sizes:
    """What the reader did not keep of one flow: full lengths of cut bodies, stream counts."""

    request_body: int | None = None
    response_body: int | None = None
    streams: StreamCounts | None = None


def read_saved_flows(paths: list[Path], scan: ScanContext | None) -> SavedFlows:
    """Read mitmproxy flow files or HAR files into records (and personal-data findings when
    `scan` is given). Raises InputError for a file of which nothing can be read."""
    saved = SavedFlows()
    for path in paths:
        try:
            with open(path, "rb") as handle:
                if _starts_like_json(handle):
                    _read_har(saved, path, handle, scan)
                else:
                    _read_flow_file(saved, path, handle, scan)
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    saved.flows = _named_from_dns(saved.flows, saved.dns_answers)
    return saved


def _starts_like_json(handle: BinaryIO) -> bool:
    """A HAR file is JSON (as input_format tells it); a flow file starts with a length."""
    head = handle.read(64)
    handle.seek(0)
    return head.removeprefix(_BOM).lstrip(b" \t\r\n")[:1] == b"{"


def _read_flow_file(saved: SavedFlows, path: Path, handle: BinaryIO,
                    scan: ScanContext | None) -> None:
    outcome = _FileOutcome(saved, path, "mitmproxy flow file", "flows",
                           "saved-flow-unreadable")
    try:
        for item in read_flow_states(handle):
            outcome.add(partial(_from_state, item), scan)
    except FlowFileError as exc:
        outcome.broken(str(exc))
    outcome.finish()


def _read_har(saved: SavedFlows, path: Path, handle: BinaryIO,
              scan: ScanContext | None) -> None:
    outcome = _FileOutcome(saved, path, "HAR file", "entries", "har-entry-unreadable")
    try:
        for entry in read_har_entries(handle):
            outcome.add(partial(_from_har_entry, entry), scan)
    except HarFileError as exc:
        outcome.broken(str(exc))
    outcome.finish()


class _FileOutcome:
    """Adds one file's flows to the records, counting what could not be read."""

    def __init__(self, saved: SavedFlows, path: Path, kind: str, items: str,
                 anomaly: str) -> None:
        self.saved, self.path, self.kind, self.items = saved, path, kind, items
        self.anomaly = anomaly
        self.read = 0
        self.first_error: str | None = None

    def add(self, convert: Callable[[], tuple[MitmFlow, _Sizes]],
            scan: ScanContext | None) -> None:
        """Convert one flow (or entry) and add its records; a failure is counted."""
        try:
            flow, sizes = convert()
            self._own_id(flow)
            _add(self.saved, flow, scan, sizes)
        # A saved flow is whatever its file says: mitmproxy's conversions raise whatever a
        # malformed one makes them raise, and one bad flow must not cost the others.
        except Exception as exc:  # noqa: BLE001
            detail = _detail(exc)
            self.first_error = self.first_error or detail
            self.saved.skipped += 1
            self.saved.anomalies.add(Anomaly(self.anomaly, f"{self.path.name}: {detail}"))
            return
        self.read += 1
        self.saved.read += 1

    def _own_id(self, flow: MitmFlow) -> None:
        """Give a flow whose saved id is not text, is empty or repeats an earlier flow's a
        new one (a flow file may hold any type anywhere), and say so."""
        saved = self.saved
        flow_id: object = flow.id
        if isinstance(flow_id, str) and flow_id and flow_id not in saved.flow_ids:
            saved.flow_ids.add(flow_id)
            return
        number = saved.read + saved.skipped + 1
        replacement = f"saved-{number}"
        while replacement in saved.flow_ids:
            number += 1
            replacement = f"saved-{number}"
        why = ("repeats an earlier flow's" if isinstance(flow_id, str) and flow_id
               else f"not text ({type(flow_id).__name__})" if flow_id != ""
               else "empty")
        flow.id = replacement
        saved.flow_ids.add(replacement)
        saved.anomalies.add(Anomaly("flow-id-replaced",
                                    f"{self.path.name}: a saved flow's id {why}: "
                                    f"called {replacement}", flow_id=replacement))

    def broken(self, reason: str) -> None:
        """The file's framing broke: keep what was read before, or refuse the file."""
        if not self.read:
            raise InputError(f"{self.path}: not a readable {self.kind} ({reason})")
        self.saved.damaged[str(self.path)] = reason
        self.saved.anomalies.add(Anomaly("flow-file-damaged", f"{self.path.name}: {reason}"))

    def finish(self) -> None:
        """Refuse a file none of whose flows could be read."""
        if not self.read and self.first_error is not None:
            raise InputError(f"{self.path}: not a readable {self.kind} (none of its {self.items} "
                             f"could be read; the first: {self.first_error})")


class _UnreadableError(ValueError):
    """A flow the reader could not parse."""


def _from_state(item: SavedState) -> tuple[MitmFlow, _Sizes]:
    if item.state is None:
        raise _UnreadableError(item.error or f"flow {item.number} could not be read")
    flow = MitmFlow.from_state(compat.migrate_flow(cast(dict[bytes | str, Any], item.state)))
    streams = item.streams.get(("messages",)) or item.streams.get(("websocket", "messages"))
    return flow, _Sizes(item.cuts.get(("request", "content")),
                        item.cuts.get(("response", "content")), streams)


def _from_har_entry(item: HarEntry) -> tuple[http.HTTPFlow, _Sizes]:
    if item.entry is None:
        raise _UnreadableError(item.error or f"entry {item.number} could not be read")
    entry = item.entry
    response = entry.get("response")
    if isinstance(response, dict) and type(response.get("status")) is not int:
        response["status"] = 0  # HAR's "no response": a request is kept whatever this says
    response_body = item.cuts.get(("response", "content", "text"))
    if response_body is not None:  # only its size counts: it is not converted
        content = entry["response"]["content"]
        if content.get("encoding") == "base64":
            response_body = response_body * 3 // 4
        content["text"] = ""
    return request_to_flow(entry), _Sizes(item.cuts.get(("request", "postData", "text")),
                                           response_body)


def _add(saved: SavedFlows, flow: object, scan: ScanContext | None, sizes: _Sizes) -> None:
    """The record of one saved flow, made as the live addon makes it."""
    if isinstance(flow, http.HTTPFlow):
        record = _loggable(_http_record(flow, sizes))
        if scan is not None:
            request = request_data(flow.request)
            if sizes.request_body is not None:
                request = replace(request, body_complete=False)
            outcome = scan_request(record.flow_id, record.host, request, scan, record.client_ip)
            saved.findings.extend(outcome.findings)
            if outcome.partial:
                saved.anomalies.add(Anomaly("body-partially-scanned",
                                            "; ".join(outcome.partial), flow_id=record.flow_id))
        saved.flows.append(record)
    elif isinstance(flow, (tcp.TCPFlow, udp.UDPFlow)):
        counts = sizes.streams or _counted(flow.messages, media=True)
        media = media_read(flow, counts)
        saved.flows.append(_loggable(stream_flow_record(flow, counts, media)))
        for kind, detail in media.anomalies if media is not None else ():
            saved.anomalies.add(Anomaly(kind, detail, flow_id=flow.id))
    elif isinstance(flow, dns.DNSFlow):
        record, answers = dns_flow_records(flow)
        saved.flows.append(_loggable(record))
        saved.dns_answers.extend(answers)


def _loggable(record: Flow) -> Flow:
    """`record`, once it is known to read back from flows.jsonl as it is: a saved flow holds
    whatever its file says, and a value of the wrong type that reached the record would make
    `vcaudit report` drop the line as damaged. Raises ValueError or TypeError: the flow is
    then skipped and counted, as one that cannot be read."""
    flow_from_dict(record_to_dict(record))
    return record


def _http_record(flow: http.HTTPFlow, sizes: _Sizes) -> Flow:
    """An HTTP flow's record; bodies the reader cut count at their full size."""
    if flow.websocket is not None:
        counts = sizes.streams or _counted(flow.websocket.messages, media=False)
        record = http_flow_record(flow, ws_counts=counts.as_tuple())
    else:
        record = http_flow_record(flow)
    if sizes.request_body is not None and record.bytes_up is not None:
        kept = len(flow.request.raw_content or b"")
        record = replace(record, bytes_up=record.bytes_up - kept + sizes.request_body)
    if (sizes.response_body is not None and record.bytes_down is not None
            and flow.response is not None):
        kept = len(flow.response.raw_content or b"")
        record = replace(record, bytes_down=record.bytes_down - kept + sizes.response_body)
    return record


def _counted(messages: Any, media: bool) -> StreamCounts:
    """A flow's messages counted (and the first ones kept for media, for a raw stream)."""
    counts = StreamCounts(media=MessageHead() if media else None)
    for message in messages:
        counts.add(message.from_client, message.content)
    return counts


def _detail(exc: Exception) -> str:
    """An error in one line, the traffic it quotes escaped and its URL secrets redacted (it
    goes to the terminal and into report.json)."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, KeyError):
        text = f"a required field is missing: {text}"
    elif not isinstance(exc, _UnreadableError):
        text = f"{type(exc).__name__}: {text}"
    text = ascii(redact_secrets(text))[1:-1]  # controls, bidi and all non-ASCII as escapes
    return text if len(text) <= MAX_DETAIL else text[:MAX_DETAIL - 3] + "..."


def _named_from_dns(flows: list[Flow], answers: list[DnsAnswer]) -> list[Flow]:
    """Flows that carry no name of their own, named from the file's DNS answers."""
    if not answers:
        return flows
    index = DnsIndex(answers)
    return [index.named(flow) for flow in flows]

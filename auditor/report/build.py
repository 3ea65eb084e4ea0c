"""The report as data: the `report.json` document and the endpoints table, added up one flow
at a time (`ReportBuilder`), so a session's flows are never all in memory at once.

Endpoints aggregate flows by host: the best name known, or the server address when none is
(endpoint_totals). Keys of report.json follow DESIGN.md (`schema`, `session`, `summary`,
`endpoints`, `findings`, `coverage`); others are added, never renamed: `personal_data`, and
`call` (where the call's media went: relays, servers, peers, countries; call_path.py documents
its keys). The sections that look at single flows get only the flows they look at: findings
the flows personal data was found in and refused handshakes, the call section the media flows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Protocol, overload

from auditor import __version__
from auditor.audit import SessionData
from auditor.records import (
    CATEGORY_ORDER,
    CLASSIFICATION_COLUMNS,
    FLOW_COLUMNS,
    INTEGER_FIELDS,
    Classification,
    Evidence,
    Flow,
    is_pinning_refusal,
    record_to_dict,
)
from auditor.report.call_path import build_call, call_frame, media_flow_records
from auditor.report.coverage import CoverageCounts, build_coverage
from auditor.report.endpoint_totals import (
    ENDPOINT_COLUMNS,
    ENDPOINT_INTEGER_COLUMNS,
    EndpointTable,
)
from auditor.report.endpoint_totals import (
    UNKNOWN_ENDPOINT as UNKNOWN_ENDPOINT,
)
from auditor.report.findings import build_findings, data_verdicts, who_received_what
from auditor.report.flow_rows import flow_line, shared_row
from auditor.timefmt import iso_utc

if TYPE_CHECKING:
    import pandas as pd


class RowSource(Protocol):
    """Rows kept as tuples of values under keys 0, 1, 2, ... (capture.flow_spill.RecordSpill
    is one)."""

    def in_key_order(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """(key, values) of every row, in key order."""
        ...

SCHEMA = "vcaudit.report/1"


class BuiltReport:
    """The report.json document, the endpoints table's rows, call.csv's rows (every media
    flow), and the session's flows.csv rows, read again when asked for: from `stored_rows`
    (rows kept on disk as they were written, in FLOW_COLUMNS order), or made again from the
    session.

    `flows`, `endpoints` and `call` give those tables as pandas DataFrames, built (and pandas
    imported) on first use: the whole flows table in memory, for small sessions and tests."""

    __slots__ = ("_frames", "call_rows", "document", "endpoint_rows", "session", "stored_rows")

    def __init__(self, document: dict[str, Any], endpoint_rows: list[dict[str, Any]],
                 call_rows: list[dict[str, Any]], session: SessionData,
                 stored_rows: RowSource | None = None) -> None:
        self.document = document
        self.endpoint_rows = endpoint_rows
        self.call_rows = call_rows
        self.session = session
        self.stored_rows = stored_rows
        self._frames: dict[str, pd.DataFrame] = {}

    @overload
    def flow_rows(self) -> Iterator[dict[str, Any]]: ...

    @overload
    def flow_rows(self, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]: ...

    def flow_rows(self, columns: Sequence[str] | None = None
                  ) -> Iterator[dict[str, Any]] | Iterator[tuple[Any, ...]]:
        """flows.csv's rows, one per flow in the session's order (redacted as it says): as
        dicts, or with `columns` (names among FLOW_COLUMNS; ValueError for others) as tuples of
        just those values, in that order, read without making a dict per row."""
        if columns is None:
            return self._row_dicts()
        names = tuple(columns)
        positions = _positions(names)
        if self.stored_rows is not None:
            stored = map(itemgetter(1), self.stored_rows.in_key_order())
            return stored if positions == _EVERY_POSITION else map(_picker(positions), stored)
        return (tuple(map(row.get, names)) for row in self._row_dicts())

    def _row_dicts(self) -> Iterator[dict[str, Any]]:
        if self.stored_rows is not None:
            for _key, values in self.stored_rows.in_key_order():
                yield dict(zip(FLOW_COLUMNS, values, strict=True))
            return
        session = self.session
        for flow in session.flows:
            yield shared_row(flow_line(flow, session.classifications[flow.flow_id]),
                             session.show_values)

    @property
    def flows(self) -> pd.DataFrame:
        """The flows table (every flow in memory)."""
        if "flows" not in self._frames:
            self._frames["flows"] = _frame(list(self.flow_rows()), FLOW_COLUMNS, {
                **{c: "object" for c in CLASSIFICATION_COLUMNS},
                **{c: "Int64" for c in INTEGER_FIELDS}})
        return self._frames["flows"]

    @property
    def endpoints(self) -> pd.DataFrame:
        """The endpoints table."""
        if "endpoints" not in self._frames:
            self._frames["endpoints"] = _frame(self.endpoint_rows, ENDPOINT_COLUMNS, dict.fromkeys(
                (*ENDPOINT_INTEGER_COLUMNS, "asn"), "Int64"))
        return self._frames["endpoints"]

    @property
    def call(self) -> pd.DataFrame:
        """call.csv's table."""
        if "call" not in self._frames:
            self._frames["call"] = call_frame(self.call_rows)
        return self._frames["call"]


_EVERY_POSITION = tuple(range(len(FLOW_COLUMNS)))


def _positions(names: tuple[str, ...]) -> tuple[int, ...]:
    """Where flows.csv's columns `names` are in a stored row."""
    unknown = [name for name in names if name not in FLOW_COLUMNS]
    if unknown:
        raise ValueError(f"flows.csv has no column {unknown[0]!r}")
    return tuple(FLOW_COLUMNS.index(name) for name in names)


def _picker(positions: tuple[int, ...]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """What takes the values at `positions` out of a stored row, as a tuple."""
    if len(positions) != 1:
        return itemgetter(*positions) if positions else lambda _row: ()
    position = positions[0]
    return lambda row: (row[position],)


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...],
           types: dict[str, str]) -> pd.DataFrame:
    import pandas as pd  # only for whoever asks for a table as a DataFrame

    return pd.DataFrame(rows, columns=list(columns)).astype(types)


def endpoint_of(flows: pd.DataFrame) -> pd.Series:
    """Each row's endpoint key in a flows DataFrame: its host name, or its server address
    when it has none."""
    return flows["host"].fillna(flows["server_ip"]).fillna(UNKNOWN_ENDPOINT)


class ReportBuilder:
    """Adds a session's flows up one at a time, in the session's order; `finish` makes the
    report. `finding_flows`: the ids of the flows personal data was found in (kept whole for
    the findings section)."""

    def __init__(self, finding_flows: set[str]) -> None:
        self._finding_flows = finding_flows
        self._endpoints = EndpointTable()
        self._coverage = CoverageCounts()
        self._categories = {c.value: [0, 0, 0] for c in CATEGORY_ORDER}  # flows, up, down
        self._flows = 0
        self._bytes = [0, 0]
        self._started: float | None = None
        self._ended: float | None = None
        self._kept: list[Flow] = []  # flows with findings, refused handshakes
        self._media: list[Flow] = []
        self._verdicts: dict[str, Classification] = {}  # of the flows kept

    def add(self, flow: Flow, verdict: Classification) -> None:
        """Count one flow with its classification."""
        self._flows += 1
        up, down = flow.bytes_up or 0, flow.bytes_down or 0
        self._bytes[0] += up
        self._bytes[1] += down
        category = self._categories.get(verdict.category.value)
        if category is not None:
            category[0] += 1
            category[1] += up
            category[2] += down
        if self._started is None or flow.ts_start < self._started:
            self._started = flow.ts_start
        if self._ended is None or flow.ts_end > self._ended:
            self._ended = flow.ts_end
        self._endpoints.add(flow, verdict)
        self._coverage.add(flow, verdict)
        kept = False
        if flow.flow_id in self._finding_flows or is_pinning_refusal(flow.visibility,
                                                                      flow.error):
            self._kept.append(flow)
            kept = True
        if flow.media is not None:
            self._media.append(flow)
            kept = True
        if kept:
            self._verdicts[flow.flow_id] = verdict

    def finish(self, session: SessionData,
               stored_rows: RowSource | None = None) -> BuiltReport:
        """The report of `session`, whose flows were all added (their flows.csv rows kept in
        `stored_rows`, if they were)."""
        rows = self._endpoints.rows(session.address_owners)
        media_view = replace(session, flows=self._media, classifications=self._verdicts)
        media_flows = media_flow_records(media_view)
        call = build_call(media_view, media_flows)
        findings = build_findings(self._kept, session.findings, self._verdicts,
                                  session.show_values, session.name_classifications, call)
        document = {
            "schema": SCHEMA,
            "generator": {"name": "vcaudit", "version": __version__},
            "session": self._session_section(session),
            "summary": self._summary(rows),
            "endpoints": self._endpoint_records(rows),
            "findings": findings,
            "personal_data": {
                "who_received_what": who_received_what(findings),
                "verdicts": data_verdicts(findings),
                "values_shown": session.show_values,
            },
            "coverage": build_coverage(session, self._coverage),
            "call": call,
        }
        return BuiltReport(document, rows, media_flows, session, stored_rows)

    def _session_section(self, session: SessionData) -> dict[str, Any]:
        app = session.app
        return {
            "id": session.session_id,
            "source": session.source,
            "inputs": session.inputs,
            "app": app.app,
            "app_vendor": app.entity.name if app.entity else None,
            "app_detection": {"how": app.how, "detail": app.detail},
            "started": iso_utc(self._started) if self._started is not None else None,
            "ended": iso_utc(self._ended) if self._ended is not None else None,
            "catalog": session.catalog_files,
            "lists": session.lists,  # standard lists used: name, version, fetched, licence
            # where endpoints' asn, as_org and country come from: name, date, licence
            "address_databases": session.address_databases,
        }

    def _summary(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        endpoints: dict[str, int] = {}
        for row in rows:
            endpoints[row["category"]] = endpoints.get(row["category"], 0) + 1
        return {
            "flows": self._flows,
            "endpoints": len(rows),
            "bytes_up": self._bytes[0],
            "bytes_down": self._bytes[1],
            "categories": {
                name: {"endpoints": endpoints.get(name, 0), "flows": flows,
                       "bytes_up": up, "bytes_down": down}
                for name, (flows, up, down) in self._categories.items()},
        }

    def _endpoint_records(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        records = []
        for row in rows:
            totals = self._endpoints.endpoints[row["host"]]
            naming = [Evidence(kind="name", detail=detail) for detail in totals.naming]
            evidence = [record_to_dict(e) for e in (*totals.verdict().evidence, *naming)]
            records.append({
                **row,
                "first_seen": iso_utc(row["first_seen"]),
                "last_seen": iso_utc(row["last_seen"]),
                "evidence": evidence,
                "flow_ids": totals.flow_ids,
            })
        return records


def build_report(session: SessionData) -> BuiltReport:
    """The report of a session whose flows are at hand (all of `session.flows`, in order)."""
    builder = ReportBuilder({finding.flow_id for finding in session.findings})
    for flow in session.flows:
        builder.add(flow, session.classifications[flow.flow_id])
    return builder.finish(session)

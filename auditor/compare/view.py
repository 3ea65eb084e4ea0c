"""A report.json document read tolerantly, as the comparisons need it.

Reports written by older (or newer) versions of vcaudit may lack keys, and a report.json is a
file anyone can edit: every value is checked for its type here, once, so that the comparisons
work on plain typed records. A missing or odd value is unknown (`None`) or empty, never an
exception; only a document that is not a vcaudit report at all is refused (`NotAReportError`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from auditor.records import CATEGORY_ORDER
from auditor.report.findings import KIND_LABELS, KIND_ORDER, NOT_PERSONAL_DATA, PINNING, kind_label

REPORT_SCHEMA_PREFIX = "vcaudit.report/"
# Categories where data is not "outside the first party" (fail_conditions uses the same).
INSIDE_CATEGORIES = frozenset({"first-party", "local"})
UNKNOWN_CATEGORY = "unknown"
_KINDS_BY_LABEL = {label: kind for kind, label in KIND_LABELS.items()}


class NotAReportError(ValueError):
    """The document is not a vcaudit report.json."""


@dataclass(frozen=True, slots=True)
class Traffic:
    """Counts of some endpoints: how many, their flows, bytes each way."""

    endpoints: int = 0
    flows: int = 0
    bytes_up: int = 0
    bytes_down: int = 0

    def __add__(self, other: Traffic) -> Traffic:
        return Traffic(self.endpoints + other.endpoints, self.flows + other.flows,
                       self.bytes_up + other.bytes_up, self.bytes_down + other.bytes_down)


@dataclass(frozen=True, slots=True)
class EndpointView:
    """One endpoint of a report."""

    host: str
    entity: str | None
    category: str
    first_party: bool | None  # None: the report does not say
    traffic: Traffic


@dataclass(frozen=True, slots=True)
class DataView:
    """One kind of personal data one host received (a finding of a report)."""

    kind: str  # the machine name (`advertising-id`), or the label when a report gave only that
    label: str  # how people read it (`advertising ID`)
    host: str
    entity: str | None
    category: str
    first_party: bool


@dataclass(frozen=True, slots=True)
class SessionView:
    """What a report says about its session, and what the comparisons compare."""

    id: str | None
    app: str | None
    app_vendor: str | None
    source: str | None
    inputs: tuple[str, ...]
    started: str | None
    ended: str | None
    version: str | None  # of the vcaudit that wrote the report
    totals: Traffic
    categories: dict[str, Traffic]
    endpoints: tuple[EndpointView, ...]
    data: tuple[DataView, ...]
    pinned: tuple[str, ...]
    readable_flows: int | None  # flows whose content could be searched for personal data


def read_view(document: object) -> SessionView:
    """The session a report.json document describes; raises NotAReportError for a document
    that is not a vcaudit report (a JSON object with a vcaudit.report schema, or without a
    schema but with an endpoint list, as the first reports were)."""
    if not isinstance(document, dict):
        raise NotAReportError("not a vcaudit report (the JSON is not an object)")
    schema = document.get("schema")
    if schema is None and not isinstance(document.get("endpoints"), list):
        raise NotAReportError("not a vcaudit report (no schema and no endpoint list)")
    if schema is not None and not (isinstance(schema, str)
                                   and schema.startswith(REPORT_SCHEMA_PREFIX)):
        raise NotAReportError(f"not a vcaudit report (schema {str(schema)[:40]!r})")
    session = _object(document.get("session"))
    summary = _object(document.get("summary"))
    endpoints = tuple(_endpoint(e) for e in _objects(document.get("endpoints")))
    findings = list(_objects(document.get("findings")))
    coverage = _object(document.get("coverage"))
    categories = _categories(summary.get("categories"), endpoints)
    totals = Traffic(
        _count(summary.get("endpoints"), len(endpoints)),
        _count(summary.get("flows"), sum(c.flows for c in categories.values())),
        _count(summary.get("bytes_up"), sum(c.bytes_up for c in categories.values())),
        _count(summary.get("bytes_down"), sum(c.bytes_down for c in categories.values())))
    # Pinning and peer-to-peer exposure are findings, not data someone received.
    data = tuple(_data(f) for f in findings if f.get("kind") not in NOT_PERSONAL_DATA)
    if not data:
        data = tuple(_received(_object(document.get("personal_data")).get("who_received_what")))
    pinned = {_name(h) for h in _list(_object(coverage.get("pinned")).get("hosts"))}
    pinned |= {_name(f.get("host")) for f in findings if f.get("kind") == PINNING}
    readable = _object(coverage.get("readable_flows")).get("flows")
    return SessionView(
        id=_text(session.get("id")), app=_text(session.get("app")),
        app_vendor=_text(session.get("app_vendor")), source=_text(session.get("source")),
        inputs=tuple(_name(i) for i in _list(session.get("inputs"))),
        started=_text(session.get("started")), ended=_text(session.get("ended")),
        version=_text(_object(document.get("generator")).get("version")),
        totals=totals, categories=categories, endpoints=endpoints,
        data=tuple(sorted(set(data), key=_data_order)),
        pinned=tuple(sorted(pinned)),
        readable_flows=readable if _is_count(readable) else None)


def category_rank(category: str) -> int:
    """Where a category goes in lists: ad-tech first, local last, unknown names after."""
    order = [c.value for c in CATEGORY_ORDER]
    return order.index(category) if category in order else len(order)


def kind_rank(kind: str) -> int:
    """Where a kind of data goes in lists: the user's own values, identifiers, location,
    device facts (the report's order)."""
    if kind.startswith("user-"):
        return -1
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def _endpoint(raw: dict[str, Any]) -> EndpointView:
    return EndpointView(
        host=_name(raw.get("host")), entity=_text(raw.get("entity")),
        category=_text(raw.get("category")) or UNKNOWN_CATEGORY,
        first_party=raw["first_party"] if isinstance(raw.get("first_party"), bool) else None,
        traffic=Traffic(1, _count(raw.get("flows")), _count(raw.get("bytes_up")),
                        _count(raw.get("bytes_down"))))


def _categories(raw: object, endpoints: tuple[EndpointView, ...]) -> dict[str, Traffic]:
    """Traffic per category: the summary's, or summed from the endpoints when it is missing;
    every standard category present."""
    table = {c.value: Traffic() for c in CATEGORY_ORDER}
    given = _object(raw)
    if given:
        for name, numbers in given.items():
            numbers = _object(numbers)
            table[str(name)] = Traffic(_count(numbers.get("endpoints")),
                                       _count(numbers.get("flows")),
                                       _count(numbers.get("bytes_up")),
                                       _count(numbers.get("bytes_down")))
        return table
    for endpoint in endpoints:
        table[endpoint.category] = table.get(endpoint.category, Traffic()) + endpoint.traffic
    return table


def _data(raw: dict[str, Any]) -> DataView:
    kind = _text(raw.get("kind")) or _text(raw.get("label")) or "personal data"
    category = _text(raw.get("category")) or UNKNOWN_CATEGORY
    return DataView(kind=kind, label=_text(raw.get("label")) or kind_label(kind),
                    host=_name(raw.get("host")), entity=_text(raw.get("entity")),
                    category=category, first_party=raw.get("first_party") is True)


def _received(rows: object) -> Iterable[DataView]:
    """Data from `personal_data.who_received_what` (labels only), for a report whose findings
    are missing."""
    for row in _objects(rows):
        hosts = [_name(h) for h in _list(row.get("hosts"))] or [_name(row.get("entity"))]
        for label in _list(row.get("kinds")):
            yield DataView(kind=_kind_of(_name(label)), label=_name(label), host=hosts[0],
                           entity=_text(row.get("entity")),
                           category=_text(row.get("category")) or UNKNOWN_CATEGORY,
                           first_party=row.get("first_party") is True)


def _kind_of(label: str) -> str:
    """The machine name of a kind of data given by its label (`your email` -> `user-email`),
    so that a report that gives only labels compares with one that gives both."""
    if label.startswith("your "):
        return f"user-{label[5:]}"
    return _KINDS_BY_LABEL.get(label, label)


def _data_order(item: DataView) -> tuple[int, str, str, int, str]:
    return (category_rank(item.category), item.entity or "", item.host, kind_rank(item.kind),
            item.kind)


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _objects(value: object) -> Iterable[dict[str, Any]]:
    return (item for item in _list(value) if isinstance(item, dict))


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: object) -> str | None:
    """A string value, or None for a missing, empty or non-text one."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _name(value: object) -> str:
    """A name that must be there (a host): its text, or "(unknown)"."""
    return _text(value) or "(unknown)"


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _count(value: object, default: int = 0) -> int:
    """A count or byte total: a non-negative integer, else `default` (unknown counts as 0 in
    sums, as the reports' own totals do)."""
    if _is_count(value):
        return value  # type: ignore[return-value]
    if isinstance(value, float) and value >= 0 and value.is_integer():
        return int(value)
    return default

"""The report as data: flows and endpoints tables (pandas) and the `report.json` document.

Endpoints aggregate flows by host: the best name known, or the server address when none is.
Keys of report.json follow DESIGN.md (`schema`, `session`, `summary`, `endpoints`,
`findings`, `coverage`); others are added, never renamed: `personal_data`, and `call` (where
the call's media went: relays, servers, peers, countries; call_path.py documents its keys).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd

from auditor import __version__
from auditor.audit import SessionData, name_evidence
from auditor.classify.address_owner import AddressOwner
from auditor.names.domains import registrable_domain
from auditor.personal_data.url_secrets import redact_secrets
from auditor.records import (
    CATEGORY_ORDER,
    CLASSIFICATION_COLUMNS,
    FLOW_COLUMNS,
    INTEGER_FIELDS,
    Classification,
    record_to_dict,
)
from auditor.report.call_path import build_call, call_frame, media_flow_records
from auditor.report.coverage import build_coverage
from auditor.report.endpoint_owners import OWNER_COLUMNS, add_owner_columns, owner_columns
from auditor.report.findings import build_findings, data_verdicts, who_received_what
from auditor.timefmt import iso_utc

SCHEMA = "vcaudit.report/1"
ENDPOINT_INTEGER_COLUMNS = ("flows", "bytes_up", "bytes_down", "packets_up", "packets_down")
MAX_FLOW_IDS_PER_ENDPOINT = 100
UNKNOWN_ENDPOINT = "(no name or address)"
MAX_NAME_EVIDENCE = 3
REDACTED_COLUMNS = ("url", "error")  # text that can quote a URL's secrets


def flows_frame(session: SessionData) -> pd.DataFrame:
    """One row per flow: every Flow field plus its category, entity and first-party flag.
    Secrets and e-mail addresses in URLs and error messages are redacted (short hashes)
    unless the session shows values (`--show-values`); flows.jsonl keeps them as seen."""
    rows = []
    for flow in session.flows:
        row = record_to_dict(flow)
        if not session.show_values:
            for column in REDACTED_COLUMNS:
                if row[column]:
                    row[column] = redact_secrets(row[column])
        verdict = session.classifications[flow.flow_id]
        row.update(category=verdict.category.value, entity=verdict.entity,
                   first_party=verdict.first_party)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(FLOW_COLUMNS))
    # Nullable integers: a port or count stays 443, not 443.0, when others are unknown.
    return frame.astype({**{c: "object" for c in CLASSIFICATION_COLUMNS},
                         **{c: "Int64" for c in INTEGER_FIELDS}})


def endpoint_of(flows: pd.DataFrame) -> pd.Series:
    """Each flow's endpoint key: its host name, or its server address when it has none."""
    return flows["host"].fillna(flows["server_ip"]).fillna(UNKNOWN_ENDPOINT)


def endpoint_verdicts(session: SessionData, flows: pd.DataFrame) -> dict[str, Classification]:
    """Per endpoint, the classification most of its flows got (ties: the earliest flow's)."""
    votes: dict[str, Counter[int]] = {}
    by_key: dict[int, Classification] = {}
    for endpoint, flow_id in zip(endpoint_of(flows), flows["flow_id"], strict=True):
        verdict = session.classifications[flow_id]
        by_key[id(verdict)] = verdict
        votes.setdefault(endpoint, Counter())[id(verdict)] += 1
    return {ep: by_key[c.most_common(1)[0][0]] for ep, c in votes.items()}


def _known_sum(values: pd.Series) -> Any:
    """Sum of the known values; missing (NA) when none is known, e.g. packets of a proxy."""
    return values.sum(min_count=1)


def endpoints_frame(flows: pd.DataFrame, verdicts: dict[str, Classification],
                    owners: dict[str, AddressOwner] | None = None) -> pd.DataFrame:
    """One row per endpoint with traffic totals, sorted by category then bytes; `owners`
    (who holds each public server address) fills the AS and country columns."""
    columns = ["host", "domain", "ips", *OWNER_COLUMNS, "ports", "protocols", "host_sources",
               "entity", "category", "first_party", "label", *ENDPOINT_INTEGER_COLUMNS,
               "first_seen", "last_seen"]
    integers = dict.fromkeys((*ENDPOINT_INTEGER_COLUMNS, "asn"), "Int64")
    if flows.empty:
        return pd.DataFrame(columns=columns).astype(integers)
    frame = flows.assign(
        endpoint=endpoint_of(flows),
        protocol=flows["app_proto"].fillna(flows["transport"]),
    )
    grouped = frame.groupby("endpoint", sort=False)
    table = grouped.agg(
        flows=("flow_id", "count"),
        bytes_up=("bytes_up", _known_sum),
        bytes_down=("bytes_down", _known_sum),
        packets_up=("packets_up", _known_sum),
        packets_down=("packets_down", _known_sum),
        first_seen=("ts_start", "min"),
        last_seen=("ts_end", "max"),
        ips=("server_ip", lambda s: sorted(set(s.dropna()))),
        ports=("server_port", lambda s: sorted({int(p) for p in s.dropna()})),
        protocols=("protocol", lambda s: sorted(set(s))),
        host_sources=("host_source", lambda s: sorted(set(s))),
    ).reset_index().rename(columns={"endpoint": "host"})
    table["entity"] = [verdicts[h].entity for h in table["host"]]
    table["category"] = [verdicts[h].category.value for h in table["host"]]
    table["first_party"] = [verdicts[h].first_party for h in table["host"]]
    table["label"] = [verdicts[h].label for h in table["host"]]
    table["domain"] = [registrable_domain(h) for h in table["host"]]
    add_owner_columns(table, owner_columns(flows, endpoint_of(flows), owners or {}))
    rank = {c.value: i for i, c in enumerate(CATEGORY_ORDER)}
    table["_rank"] = table["category"].map(rank)
    table["_bytes"] = table["bytes_up"].fillna(0) + table["bytes_down"].fillna(0)
    table = table.sort_values(["_rank", "_bytes", "host"], ascending=[True, False, True])
    return table[columns].reset_index(drop=True).astype(integers)


@dataclass(frozen=True, slots=True)
class BuiltReport:
    """The report.json document and the tables it was built from (`call`: every media flow,
    call.csv)."""

    document: dict[str, Any]
    flows: pd.DataFrame
    endpoints: pd.DataFrame
    call: pd.DataFrame


def build_report(session: SessionData) -> BuiltReport:
    """The report.json document and the flows and endpoints tables."""
    flows = flows_frame(session)
    verdicts = endpoint_verdicts(session, flows)
    endpoints = endpoints_frame(flows, verdicts, session.address_owners)
    media_flows = media_flow_records(session)
    call = build_call(session, media_flows)
    findings = build_findings(session.flows, session.findings, session.classifications,
                              session.show_values, session.name_classifications, call)
    document = {
        "schema": SCHEMA,
        "generator": {"name": "vcaudit", "version": __version__},
        "session": _session_section(session),
        "summary": _summary(flows, endpoints),
        "endpoints": _endpoint_records(session, flows, endpoints, verdicts),
        "findings": findings,
        "personal_data": {
            "who_received_what": who_received_what(findings),
            "verdicts": data_verdicts(findings),
            "values_shown": session.show_values,
        },
        "coverage": build_coverage(session, flows),
        "call": call,
    }
    return BuiltReport(document, flows, endpoints, call_frame(media_flows))


def _session_section(session: SessionData) -> dict[str, Any]:
    starts = [f.ts_start for f in session.flows]
    ends = [f.ts_end for f in session.flows]
    app = session.app
    return {
        "id": session.session_id,
        "source": session.source,
        "inputs": session.inputs,
        "app": app.app,
        "app_vendor": app.entity.name if app.entity else None,
        "app_detection": {"how": app.how, "detail": app.detail},
        "started": iso_utc(min(starts)) if starts else None,
        "ended": iso_utc(max(ends)) if ends else None,
        "catalog": session.catalog_files,
        "lists": session.lists,  # standard lists used: name, version, fetched, licence, entries
        # where endpoints' asn, as_org and country come from: name, date, licence
        "address_databases": session.address_databases,
    }


def _summary(flows: pd.DataFrame, endpoints: pd.DataFrame) -> dict[str, Any]:
    categories: dict[str, dict[str, int]] = {}
    for category in CATEGORY_ORDER:
        in_flows = flows[flows["category"] == category.value]
        categories[category.value] = {
            "endpoints": int((endpoints["category"] == category.value).sum()),
            "flows": len(in_flows),
            "bytes_up": int(in_flows["bytes_up"].sum()),
            "bytes_down": int(in_flows["bytes_down"].sum()),
        }
    return {
        "flows": len(flows),
        "endpoints": len(endpoints),
        "bytes_up": int(flows["bytes_up"].sum()),
        "bytes_down": int(flows["bytes_down"].sum()),
        "categories": categories,
    }


def _endpoint_records(session: SessionData, flows: pd.DataFrame, endpoints: pd.DataFrame,
                      verdicts: dict[str, Classification]) -> list[dict[str, Any]]:
    by_endpoint: dict[str, list[str]] = {}
    for host, flow_id in zip(endpoint_of(flows), flows["flow_id"], strict=True):
        by_endpoint.setdefault(host, []).append(flow_id)
    flow_by_id = {f.flow_id: f for f in session.flows}
    records: list[dict[str, Any]] = []
    for row in endpoints.to_dict("records"):
        flow_ids = by_endpoint[row["host"]]
        verdict = verdicts[row["host"]]
        naming = [e for e in (name_evidence(flow_by_id[i]) for i in flow_ids) if e]
        distinct_naming = list({e.detail: e for e in naming}.values())[:MAX_NAME_EVIDENCE]
        evidence = [record_to_dict(e) for e in (*verdict.evidence, *distinct_naming)]
        records.append({
            **{str(k): _plain(v) for k, v in row.items()},
            "first_seen": iso_utc(row["first_seen"]),
            "last_seen": iso_utc(row["last_seen"]),
            "evidence": evidence,
            "flow_ids": flow_ids[:MAX_FLOW_IDS_PER_ENDPOINT],
        })
    return records


def _plain(value: Any) -> Any:
    """A pandas cell as a JSON value: numpy scalars unwrapped, missing values as None."""
    if isinstance(value, list):
        return value
    if pd.isna(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value

"""The report's findings: which organisation received which kinds of personal data, with the
flows that prove it, peer-to-peer exposure, and certificate pinning, in that order. Values are
redacted (a short hash) unless the user asks to see them.

Kinds: the personal-data kinds (KIND_LABELS, `user-<kind>` for the user's own values),
`p2p-exposure` (media went directly to another participant's public address, so each side
learned the other's IP address; built from report.json's `call.peers`, call_path.py) and
`certificate-pinning`. A p2p-exposure finding also has `address`, `asn`, `as_org` and
`country` (the peer's), and its `values` are the user's public addresses the peer saw.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from auditor.records import (
    CATEGORY_ORDER,
    Category,
    Classification,
    Finding,
    Flow,
    is_pinning_refusal,
)

# Readable names of the kinds of data, as they appear in verdicts and tables.
KIND_LABELS = {
    "advertising-id": "advertising ID", "device-id": "device or install ID",
    "user-id": "user ID", "imei": "IMEI", "mac-address": "MAC address",
    "email": "email address", "hashed-email": "hashed email", "phone": "phone number",
    "device-model": "device model", "os-version": "OS and version", "time-zone": "time zone",
    "locale": "locale", "carrier": "carrier", "geolocation": "geolocation", "city": "city",
    "country": "country", "ip-address": "IP address", "screen-size": "screen size",
    "device-hardware": "device hardware", "app-id": "app identifier",
    "ad-tracking-status": "ad-tracking status", "hashed-user-data": "hashed user data",
    "user-property": "user properties", "meeting-id": "meeting ID",
    "meeting-topic": "meeting topic", "participant-name": "participant name",
}
# The order kinds are listed in: identifiers first, then location, then device facts.
KIND_ORDER = ("email", "hashed-email", "phone", "advertising-id", "device-id", "user-id",
              "imei", "mac-address", "ip-address", "geolocation", "city", "country",
              "device-model", "os-version", "time-zone", "locale", "carrier", "meeting-id",
              "meeting-topic", "participant-name", "hashed-user-data", "user-property",
              "screen-size", "device-hardware", "app-id", "ad-tracking-status")
# Data the vendor needs to run the meeting: only a finding when someone else receives it.
MEETING_KINDS = frozenset({"meeting-id", "meeting-topic", "participant-name"})
PINNING = "certificate-pinning"
P2P_EXPOSURE = "p2p-exposure"
P2P_LABEL = "peer-to-peer exposure"
# Finding kinds that are not personal data received by someone.
NOT_PERSONAL_DATA = frozenset({PINNING, P2P_EXPOSURE})
MAX_VALUES = 5
MAX_PLACES = 10
MAX_FLOW_IDS = 100


def kind_label(kind: str) -> str:
    """`advertising-id` -> `advertising ID`; `user-email` -> `your email`."""
    if kind.startswith("user-"):
        return f"your {kind[5:]}"
    return KIND_LABELS.get(kind, kind.replace("-", " "))


def redact(value: str) -> str:
    """A value as reports show it by default: a short hash that still tells values apart."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:12]


def is_personal_data(finding: dict[str, Any]) -> bool:
    """Whether a report finding is personal data someone received (not pinning or p2p)."""
    return finding["kind"] not in NOT_PERSONAL_DATA


def build_findings(flows: Iterable[Flow], findings: Iterable[Finding],
                   verdicts: dict[str, Classification], show_values: bool,
                   name_verdicts: dict[str, Classification] | None = None,
                   call: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The findings list of report.json: personal data per (host, kind), then peer-to-peer
    exposure (from report.json's `call` section, when given), then pinning.

    Data sent out in a DNS query name goes to whoever answers for that name, so it is
    attributed to the name (classified in `name_verdicts`), not to the resolver."""
    by_id = {flow.flow_id: flow for flow in flows}
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for finding in findings:
        flow = by_id.get(finding.flow_id)
        if finding.location == "dns" and name_verdicts and finding.path in name_verdicts:
            verdict: Classification | None = name_verdicts[finding.path]
            host = finding.path
        else:
            verdict = verdicts.get(finding.flow_id)
            host = (flow.host or flow.server_ip or "(unknown)") if flow else "(unknown)"
        if flow is None or verdict is None:
            continue
        if finding.kind in MEETING_KINDS and verdict.category is Category.FIRST_PARTY:
            continue
        group = groups.get((host, finding.kind))
        if group is None:
            group = groups[(host, finding.kind)] = {
                "kind": finding.kind, "label": kind_label(finding.kind), "host": host,
                "entity": verdict.entity, "category": verdict.category.value,
                "first_party": verdict.first_party, "detail": finding.detail,
                "flow_ids": [], "places": [], "values": [], "sdk": finding.sdk,
            }
        _add_unique(group["flow_ids"], finding.flow_id, MAX_FLOW_IDS)
        place = {"location": finding.location, "path": finding.path,
                 "encoding": finding.encoding}
        _add_unique(group["places"], place, MAX_PLACES)
        _add_unique(group["values"], finding.value if show_values else redact(finding.value),
                    MAX_VALUES)
    ordered = sorted(groups.values(), key=lambda g: (_category_rank(g["category"]), g["host"],
                                                     _kind_rank(g["kind"]), g["kind"]))
    exposure = p2p_findings(call) if call is not None else []
    return ordered + exposure + _pinning_findings(by_id.values(), verdicts)


def p2p_findings(call: dict[str, Any]) -> list[dict[str, Any]]:
    """One `p2p-exposure` finding per peer reached directly at a public address (the
    `exposed` entries of `call.peers`): its address, AS and country, and which of the user's
    public addresses it saw."""
    out = []
    for peer in call["peers"]:
        if not peer["exposed"]:
            continue
        out.append({
            "kind": P2P_EXPOSURE, "label": P2P_LABEL, "host": peer["address"],
            "entity": peer["entity"], "category": peer["category"] or Category.UNKNOWN.value,
            "first_party": bool(peer["first_party"]), "detail": _p2p_detail(peer),
            "flow_ids": peer["flow_ids"][:MAX_FLOW_IDS], "places": [],
            "values": peer["your_addresses"][:MAX_VALUES], "sdk": None,
            "address": peer["address"], "asn": peer["asn"], "as_org": peer["as_org"],
            "country": peer["country"],
        })
    return out


def _p2p_detail(peer: dict[str, Any]) -> str:
    holder = ", ".join(x for x in (
        f"AS{peer['asn']}" if peer["asn"] is not None else None,
        peer["as_org"] or "unknown network", peer["country"] or "country unknown") if x)
    answered = "" if peer["answered"] else \
        " (it sent nothing back: what was sent may not have reached it)"
    text = (f"media went directly to another participant's public address {peer['address']} "
            f"({holder}), not through a relay{answered}: each side learned the other's IP "
            "address. ")
    if peer["your_addresses_from"] is None:
        return text + "Which public address of yours it saw is not in the capture."
    where = ", ".join(x for x in (peer["your_as_org"], peer["your_country"]) if x)
    source = ("its own STUN answers" if peer["your_addresses_from"] == "peer"
              else "a server's answer for the same local port")
    return text + (f"It saw your public address {', '.join(peer['your_addresses'])}"
                   f"{f' ({where})' if where else ''}, as {source} show.")


def who_received_what(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per organisation (and category): the hosts and the kinds of data they received."""
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for finding in findings:
        if not is_personal_data(finding):
            continue
        key = (finding["entity"] or finding["host"], finding["category"])
        row = table.setdefault(key, {"entity": key[0], "category": key[1],
                                     "first_party": finding["first_party"], "hosts": [],
                                     "kinds": []})
        _add_unique(row["hosts"], finding["host"], 20)
        _add_unique(row["kinds"], finding["kind"], 50)
    for row in table.values():  # kinds in KIND_ORDER whatever host they came from
        row["kinds"] = [kind_label(k) for k in sorted(row["kinds"], key=_kind_rank)]
    return sorted(table.values(), key=lambda r: (_category_rank(r["category"]), r["entity"]))


def data_verdicts(findings: list[dict[str, Any]]) -> list[str]:
    """One sentence per organisation outside the first party that received personal data."""
    lines = []
    for row in who_received_what(findings):
        if row["category"] == Category.FIRST_PARTY.value:
            continue
        lines.append(f"{row['category']}: {row['entity']} ({', '.join(row['hosts'])}) "
                     f"received {', '.join(row['kinds'])}")
    return lines


def _pinning_findings(flows: Iterable[Flow],
                      verdicts: dict[str, Classification]) -> list[dict[str, Any]]:
    by_host: dict[str, dict[str, Any]] = {}
    for flow in flows:
        if not is_pinning_refusal(flow.visibility, flow.error):
            continue
        host = flow.host or flow.server_ip or "(unknown)"
        verdict = verdicts[flow.flow_id]
        entry = by_host.setdefault(host, {
            "kind": PINNING, "label": "certificate pinning", "host": host,
            "entity": verdict.entity, "category": verdict.category.value,
            "first_party": verdict.first_party,
            "detail": "the client refused the proxy's certificate: its traffic to this host "
                      "could not be inspected and was relayed untouched",
            "flow_ids": [], "places": [], "values": [], "sdk": None,
        })
        _add_unique(entry["flow_ids"], flow.flow_id, MAX_FLOW_IDS)
    return list(by_host.values())


def _add_unique(items: list[Any], item: Any, limit: int) -> None:
    if item not in items and len(items) < limit:
        items.append(item)


def _kind_rank(kind: str) -> int:
    if kind.startswith("user-"):
        return -1  # the user's own values first
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


_CATEGORY_RANK = {category.value: rank for rank, category in enumerate(CATEGORY_ORDER)}


def _category_rank(category: str) -> int:
    return _CATEGORY_RANK.get(category, len(_CATEGORY_RANK))

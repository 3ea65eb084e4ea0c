"""`--fail-on`: conditions on a report that make vcaudit exit non-zero, so a release pipeline
can gate on them.

  <category>        an endpoint of that category was contacted (ad-tech, analytics,
                    third-party, unknown)
  <category>-pii    personal data reached an endpoint of that category
  pii               personal data reached anyone but the first party
  identity          one of your own values (--identity) reached anyone but the first party
  pinning           the client refused the proxy's certificate somewhere
  p2p               media went directly to another participant's public address, so each
                    side learned the other's IP address (a p2p-exposure finding)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from auditor.errors import UsageError
from auditor.report.findings import P2P_EXPOSURE, PINNING, is_personal_data

GATED_CATEGORIES = ("ad-tech", "analytics", "third-party", "unknown")
CONDITIONS = frozenset({*GATED_CATEGORIES, *(f"{c}-pii" for c in GATED_CATEGORIES), "pii",
                        "identity", "pinning", "p2p"})


class FailOnError(UsageError):
    """An unknown --fail-on condition."""


def parse_fail_on(spec: str | None, known: Sequence[str] | None = None) -> list[str]:
    """`ad-tech,analytics-pii` -> ["ad-tech", "analytics-pii"], each once, among `known`
    (default: a report's CONDITIONS); raises FailOnError for an unknown one."""
    if not spec:
        return []
    choices = sorted(CONDITIONS) if known is None else list(known)
    conditions = list(dict.fromkeys(c.strip().lower() for c in spec.split(",") if c.strip()))
    unknown = [c for c in conditions if c not in choices]
    if unknown:
        raise FailOnError(f"unknown --fail-on condition(s) {', '.join(unknown)}; choose from "
                          f"{', '.join(choices)}")
    return conditions


def matched_conditions(report: dict[str, Any], conditions: list[str]) -> list[str]:
    """Each condition that holds, with what made it hold."""
    out = []
    data = [f for f in report["findings"] if is_personal_data(f)]
    outside = [f for f in data if f["category"] not in ("first-party", "local")]
    for condition in conditions:
        if condition in GATED_CATEGORIES:
            hosts = [e["host"] for e in report["endpoints"] if e["category"] == condition]
            if hosts:
                out.append(f"{condition}: contacted {', '.join(hosts[:5])}")
        elif condition.endswith("-pii") or condition == "pii":
            category = condition[:-4] if condition != "pii" else None
            hits = [f for f in outside if category is None or f["category"] == category]
            if hits:
                out.append(f"{condition}: {_received(hits)}")
        elif condition == "identity":
            hits = [f for f in outside if f["kind"].startswith("user-")]
            if hits:
                out.append(f"identity: {_received(hits)}")
        elif condition == "pinning":
            hosts = [f["host"] for f in report["findings"] if f["kind"] == PINNING]
            if hosts:
                out.append(f"pinning: {', '.join(hosts)}")
        elif condition == "p2p":
            peers = [f for f in report["findings"] if f["kind"] == P2P_EXPOSURE]
            if peers:
                out.append("p2p: media went directly to " + ", ".join(
                    f"{f['host']} ({f.get('as_org') or 'unknown network'}, "
                    f"{f.get('country') or 'country unknown'})" for f in peers[:5])
                    + (f", and {len(peers) - 5} more" if len(peers) > 5 else ""))
    return out


def _received(findings: list[dict[str, Any]]) -> str:
    """`Meta received advertising ID, device model; Google received your email`."""
    by_receiver: dict[str, list[str]] = {}
    for finding in findings:
        labels = by_receiver.setdefault(finding["entity"] or finding["host"], [])
        if finding["label"] not in labels:
            labels.append(finding["label"])
    return "; ".join(f"{who} received {', '.join(labels)}" for who, labels in by_receiver.items())

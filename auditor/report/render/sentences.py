"""The sentences the terminal summary, report.md and report.html share, written once so the
three say the same thing in the same words: the traffic line, the verdicts, and what the
personal-data search could and could not check."""

from __future__ import annotations

from typing import Any

from auditor.quantities import byte_size, counted, plural
from auditor.records import TRACKER_CATEGORIES, Category


def traffic_line(summary: dict[str, Any]) -> str:
    """`83 flows to 31 endpoints, sent 353.2 kB, received 323.8 kB`."""
    return (f"{counted(summary['flows'], 'flow')} to {counted(summary['endpoints'], 'endpoint')}"
            f", sent {byte_size(summary['bytes_up'])}, received {byte_size(summary['bytes_down'])}")


def category_counts(numbers: dict[str, Any]) -> str:
    """`2 endpoints, 11 flows` for one category of the summary."""
    return f"{counted(numbers['endpoints'], 'endpoint')}, {counted(numbers['flows'], 'flow')}"


def verdict_lines(report: dict[str, Any], hosts_shown: int | None = None) -> list[str]:
    """One line per tracking category naming who was contacted, and how much could not be
    judged: an unknown endpoint may be a tracker no rule knows, so it is never a clean bill.
    `hosts_shown` names at most that many hosts per organisation (`and 195 more`)."""
    lines = []
    for category in TRACKER_CATEGORIES:
        by_entity: dict[str | None, list[str]] = {}
        for endpoint in report["endpoints"]:
            if endpoint["category"] == category:
                by_entity.setdefault(endpoint["entity"], []).append(endpoint["host"])
        if by_entity:
            named = "; ".join(f"{entity} ({_some(hosts, hosts_shown)})" if entity
                              else _some(hosts, hosts_shown)
                              for entity, hosts in by_entity.items())
            lines.append(f"{category}: {named}")
    summary = report["summary"]
    total = summary["endpoints"]
    unknown = summary["categories"][Category.UNKNOWN]["endpoints"]
    if not total:
        return ["no traffic was recorded: there is nothing to judge"]
    if not unknown:
        return lines or ["no analytics or ad-tech endpoint was contacted"]
    share = f"{unknown} of {counted(total, 'endpoint')} {plural(unknown, 'is', 'are')} unknown"
    if unknown == total:
        lines.append("the only endpoint is unknown: a tracker cannot be ruled out" if total == 1
                     else f"{share}: trackers cannot be ruled out")
    elif lines:
        lines.append(f"{share}: more trackers among them cannot be ruled out")
    else:
        lines.append(f"no known analytics or ad-tech endpoint was contacted, but {share}: "
                     "trackers among them cannot be ruled out")
    return lines


def _some(names: list[str], shown: int | None) -> str:
    if shown is None or len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown])} and {len(names) - shown} more"


def unknown_traffic_line(summary: dict[str, Any]) -> str | None:
    """How much of the traffic went to endpoints nothing is known about, by bytes:
    `unknown endpoints exchanged 31.8 kB of 677.0 kB (4.7%)`; None when there are none."""
    unknown = summary["categories"][Category.UNKNOWN]
    if not unknown["endpoints"]:
        return None
    part = (unknown["bytes_up"] or 0) + (unknown["bytes_down"] or 0)
    total = (summary["bytes_up"] or 0) + (summary["bytes_down"] or 0)
    share = f" ({part / total:.1%})" if total else ""
    return f"unknown endpoints exchanged {byte_size(part)} of {byte_size(total)}{share}"


def data_lines(report: dict[str, Any]) -> list[str]:
    """Who outside the first party received personal data; when nobody did, how much of the
    traffic the search could read, since encrypted content could not be checked."""
    found = report.get("personal_data", {}).get("verdicts") or []
    if found:
        return list(found)
    total = report["summary"]["flows"]
    readable = report["coverage"].get("readable_flows", {}).get("flows", total)
    # Without a known app there is no first party to except.
    found_none = ("no personal data was found going to anyone but the first party"
                  if report["session"]["app"] else "no personal data was found")
    if readable >= total:
        return [found_none]
    if readable == 0:
        flows = {1: "the only flow", 2: "both flows"}.get(total, f"all {total} flows")
        return [f"no personal data could be looked for: the content of {flows} was encrypted "
                "or not decoded"]
    rest = total - readable
    return [f"{found_none} in {readable} of {counted(total, 'flow')} whose content could be "
            f"read; the other {rest} "
            f"{plural(rest, 'was', 'were')} encrypted or not decoded"]

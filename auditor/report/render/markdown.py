"""report.md: the report as a readable Markdown page."""

from __future__ import annotations

from typing import Any

from auditor.quantities import byte_size
from auditor.records import CATEGORY_ORDER, TRACKER_CATEGORIES, Category
from auditor.report.render.sentences import data_lines, traffic_line, verdict_lines
from auditor.report.render.text_safety import markdown_cell as cell
from auditor.report.render.text_safety import markdown_text as text

CATEGORY_MEANING = {
    Category.FIRST_PARTY: "a service of the audited app's vendor",
    Category.ANALYTICS: "telemetry, product analytics, crash reporting, tag managers "
                        "(whoever owns it)",
    Category.AD_TECH: "advertising, attribution, ad measurement, social-network app-event SDKs",
    Category.THIRD_PARTY: "other known services: CDNs, certificate checks, OS services, ...",
    Category.LOCAL: "LAN, multicast, broadcast, link-local",
    Category.UNKNOWN: "nothing known about it; vcaudit does not guess",
}


def render_markdown(report: dict[str, Any]) -> str:
    """The whole report.md text."""
    parts = [
        *_header(report),
        "## Verdict", "", *[f"- {text(line)}" for line in verdict_lines(report)], "",
        *_category_table(report),
        *_personal_data(report),
        *_tracker_table(report),
        *_endpoint_table(report),
        *_coverage(report),
        "## Categories", "",
        *[f"- **{name}**: {CATEGORY_MEANING[name]}" for name in CATEGORY_ORDER],
        "",
    ]
    return "\n".join(parts)


def _header(report: dict[str, Any]) -> list[str]:
    session, summary = report["session"], report["summary"]
    app = session["app"]
    app_text = (f"{app} ({session['app_vendor']}), {session['app_detection']['detail']}"
                if app else session["app_detection"]["detail"])
    return [
        f"# vcaudit report {cell(session['id'])}", "",
        f"- Source: {cell(session['source'])}: {cell(', '.join(session['inputs']))}",
        f"- Audited app: {text(app_text)}",
        f"- Time: {session['started'] or '?'} to {session['ended'] or '?'}",
        f"- Traffic: {traffic_line(summary)}",
        "",
    ]


def _category_table(report: dict[str, Any]) -> list[str]:
    rows = ["## Summary by category", "",
            "| category | endpoints | flows | sent | received |", "|---|--:|--:|--:|--:|"]
    for name in CATEGORY_ORDER:
        numbers = report["summary"]["categories"][name]
        rows.append(f"| {name} | {numbers['endpoints']} | {numbers['flows']} | "
                    f"{byte_size(numbers['bytes_up'])} | {byte_size(numbers['bytes_down'])} |")
    return [*rows, ""]


def _personal_data(report: dict[str, Any]) -> list[str]:
    section = report.get("personal_data", {})
    rows = ["## What left the device", ""]
    found = bool(section.get("verdicts"))
    rows += [f"- **{text(line)}**" if found else f"- {text(line)}" for line in data_lines(report)]
    table = section.get("who_received_what") or []
    if table:
        rows += ["", "| organisation | category | hosts | what it received |",
                 "|---|---|---|---|"]
        for row in table:
            rows.append(f"| {cell(row['entity'])} | {row['category']} | "
                        f"{cell(', '.join(row['hosts']))} | {cell(', '.join(row['kinds']))} |")
    details = [f for f in report["findings"] if f["places"]]
    if details:
        shown = "values" if section.get("values_shown") else "values (redacted: short hashes)"
        rows += ["", f"| host | data | where | encoding | {shown} | flows |",
                 "|---|---|---|---|---|--:|"]
        for f in details:
            where = ", ".join(f"{p['location']} {p['path']}".strip() for p in f["places"][:3])
            encodings = ", ".join(sorted({p["encoding"] for p in f["places"]}))
            rows.append(f"| {cell(f['host'])} | {cell(f['label'])} | {cell(where)} | "
                        f"{cell(encodings)} | {cell(', '.join(f['values'][:3]))} | "
                        f"{len(f['flow_ids'])} |")
    return [*rows, ""]


def _tracker_table(report: dict[str, Any]) -> list[str]:
    trackers = [e for e in report["endpoints"] if e["category"] in TRACKER_CATEGORIES]
    if not trackers:
        return ["## Analytics and ad-tech", "", "No known analytics or ad-tech endpoint.", ""]
    rows = ["## Analytics and ad-tech", "",
            "| host | category | organisation | flows | sent | received | why |",
            "|---|---|---|--:|--:|--:|---|"]
    for e in trackers:
        why = "; ".join(ev["detail"] for ev in e["evidence"])
        owner = (e["entity"] or "") + (" (the app's vendor)" if e["first_party"] else "")
        rows.append(f"| {cell(e['host'])} | {e['category']} | {cell(owner)} | {e['flows']} | "
                    f"{byte_size(e['bytes_up'])} | {byte_size(e['bytes_down'])} | {text(why)} |")
    return [*rows, ""]


def _endpoint_table(report: dict[str, Any]) -> list[str]:
    rows = ["## All endpoints", "",
            "| host | category | organisation | named by | protocols | ports | flows | sent "
            "| received |",
            "|---|---|---|---|---|---|--:|--:|--:|"]
    for e in report["endpoints"]:
        rows.append(
            f"| {cell(e['host'])} | {e['category']} | {cell(e['entity'] or '')} | "
            f"{cell(', '.join(e['host_sources']))} | {cell(', '.join(e['protocols']))} | "
            f"{cell(', '.join(str(p) for p in e['ports']))} | {e['flows']} | "
            f"{byte_size(e['bytes_up'])} | {byte_size(e['bytes_down'])} |")
    return [*rows, ""]


def _coverage(report: dict[str, Any]) -> list[str]:
    coverage = report["coverage"]
    rows = ["## Coverage: what could not be seen", ""]
    notes = coverage.get("notes") or ["Nothing was skipped."]
    rows += [f"- {text(note)}" for note in notes]
    anomalies = coverage.get("anomalies", {}).get("by_kind", {})
    if anomalies:
        rows += ["", "| anomaly | count |", "|---|--:|"]
        rows += [f"| {cell(kind)} | {count} |" for kind, count in sorted(anomalies.items())]
    return [*rows, ""]

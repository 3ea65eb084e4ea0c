"""report.md: the report as a readable Markdown page."""

from __future__ import annotations

from typing import Any

from auditor.quantities import byte_size
from auditor.records import CATEGORY_ORDER, TRACKER_CATEGORIES, Category
from auditor.report.render.sentences import data_lines, traffic_line, verdict_lines
from auditor.report.render.text_safety import markdown_cell as cell
from auditor.report.render.text_safety import markdown_text as text

MAX_CALL_ROWS = 200  # rows per table of the call section; call.csv has every media flow
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
        *_call(report),
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


def _call(report: dict[str, Any]) -> list[str]:
    """Where your call went: the verdicts of report.json's `call`, then its tables."""
    call = report.get("call")
    rows = ["## Where your call went", ""]
    if not call or not call["totals"]["media_flows"]:
        return [*rows, "No media flow (STUN, TURN, DTLS, RTP, SRTP, vendor media framing) was "
                "seen.", ""]
    # The first line is the path; any other says who learned the user's address.
    rows += [f"- **{text(line)}**" if n else f"- {text(line)}"
             for n, line in enumerate(call["verdicts"])]
    if call["relays"]:
        rows += ["", "| relay or server | role | owner | network | country | ports | flows | "
                 "sent | received | why |", "|---|---|---|---|---|---|--:|--:|--:|---|"]
        rows += [f"| {cell(r['address'])} | {r['role']} | {cell(r['owner'] or '')} | "
                 f"{cell(_network(r))} | {cell(r['country'] or '?')} | "
                 f"{cell(', '.join(str(p) for p in r['ports']))} | {r['flows']} | "
                 f"{byte_size(r['bytes_up'])} | {byte_size(r['bytes_down'])} | "
                 f"{text(r['role_reason'])} |" for r in call["relays"][:MAX_CALL_ROWS]]
    if call["peers"]:
        rows += ["", "| peer | reached | network | country | learned your address | flows | "
                 "sent | received |", "|---|---|---|---|---|--:|--:|--:|"]
        for p in call["peers"][:MAX_CALL_ROWS]:
            reached = ", ".join((["directly"] if p["direct"] else [])
                                + [f"through {r}" for r in p["through_relays"]])
            learned = (", ".join(p["your_addresses"]) or "yes, address not in the capture") \
                if p["exposed"] else "no"
            rows.append(f"| {cell(p['address'])} ({p['scope']}) | {cell(reached)} | "
                        f"{cell(_network(p))} | {cell(p['country'] or '?')} | "
                        f"{cell(learned)} | {p['flows']} | {byte_size(p['bytes_up'])} | "
                        f"{byte_size(p['bytes_down'])} |")
    if call["countries"]:
        rows += ["", "| country | media flows | sent | received | what was there |",
                 "|---|--:|--:|--:|---|"]
        rows += [f"| {cell(c['country'] or 'unknown')} | {c['flows']} | "
                 f"{byte_size(c['bytes_up'])} | {byte_size(c['bytes_down'])} | "
                 f"{', '.join(c['roles'])} |" for c in call["countries"]]
    if call["your_public_addresses"]:
        rows += ["", "| your public address, as remote sides saw it | network | country | "
                 "reported by |", "|---|---|---|---|"]
        rows += [f"| {cell(a['address'])} | {cell(_network(a))} | {cell(a['country'] or '?')} "
                 f"| {cell(_some(a['seen_by']))} |"
                 for a in call["your_public_addresses"][:MAX_CALL_ROWS]]
    rows += ["", "| flow | remote | role | owner | country | protocol | duration | sent | "
             "received | packets sent | packets received |",
             "|---|---|---|---|---|---|--:|--:|--:|--:|--:|"]
    for f in call["media_flows"][:MAX_CALL_ROWS]:
        remote = _endpoint(f["remote_ip"], f["remote_port"])
        if f["host"]:
            remote = f"{f['host']} ({remote})"
        rows.append(f"| {cell(f['flow_id'])} | {cell(remote)} | "
                    f"{f['role']} | {cell(f['owner'] or '')} | {cell(f['country'] or '?')} | "
                    f"{cell(f['protocol'] or '')} | {f['duration_s']:.1f} s | "
                    f"{byte_size(f['bytes_up'])} | {byte_size(f['bytes_down'])} | "
                    f"{_count(f['packets_up'])} | {_count(f['packets_down'])} |")
    more = call["totals"]["media_flows"] - min(len(call["media_flows"]), MAX_CALL_ROWS)
    if more > 0:
        rows.append(f"\n{more} more media flows in call.csv.")
    return [*rows, ""]


def _network(party: dict[str, Any]) -> str:
    """`AS8075 MICROSOFT-CORP-MSN-AS-BLOCK`, the AS organisation alone, or `?`."""
    parts = [f"AS{party['asn']}" if party.get("asn") is not None else None, party.get("as_org")]
    return " ".join(p for p in parts if p) or "?"


def _endpoint(address: str | None, port: int | None) -> str:
    """`52.114.250.123:3478`, `[2001:db8::1]:3478`; `?` for what is unknown."""
    shown = address or "?"
    if ":" in shown:
        shown = f"[{shown}]"
    return f"{shown}:{port}" if port is not None else shown


def _some(items: list[str], shown: int = 5) -> str:
    """`a, b, c` or `a, b, c, d, e and 4 more`."""
    more = len(items) - shown
    return ", ".join(items[:shown]) + (f" and {more} more" if more > 0 else "")


def _count(value: int | None) -> str:
    return "?" if value is None else str(value)


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

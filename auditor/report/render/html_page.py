"""report.html: the report as one self-contained page for people who did not run vcaudit (a
journalist, a works council, a procurement team), verdict first.

Sections: the verdict in the sentences report.md and the terminal use (sentences), bytes by
category, organisations (expandable to their endpoints), a timeline of who was contacted when,
where the call went, what left the device field by field, the endpoint and flow tables,
coverage, and what the categories mean. The parts live in `page/`; nothing on the page loads
anything (page/shell.py: a hash-only Content-Security-Policy), and everything that came from
traffic is escaped, its invisible characters shown as escapes (text_safety).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from auditor.records import CATEGORY_ORDER, TRACKER_CATEGORIES
from auditor.report.render.markdown import CATEGORY_MEANING
from auditor.report.render.page.call import call_section
from auditor.report.render.page.charts import category_chart
from auditor.report.render.page.clock import duration_text, parse_time
from auditor.report.render.page.flow_digest import FlowRows, digest_flows
from auditor.report.render.page.fragments import badge, path
from auditor.report.render.page.organisations import (
    group_organisations,
    organisation_key,
    organisation_table,
)
from auditor.report.render.page.personal_data import personal_data_section
from auditor.report.render.page.shell import html_document
from auditor.report.render.page.tables import endpoint_table, flow_table
from auditor.report.render.page.timeline import drawn_keys, timeline_plan, timeline_section
from auditor.report.render.sentences import (
    data_lines,
    traffic_line,
    unknown_traffic_line,
    verdict_lines,
)
from auditor.report.render.text_safety import html_cell, html_text

if TYPE_CHECKING:
    import pandas as pd

VERDICT_HOSTS = 6  # hosts named per organisation in a verdict; the tables list them all


def render_html(report: dict[str, Any], flows: FlowRows | pd.DataFrame | None = None) -> str:
    """The whole report.html text. `flows` gives the flows with flows.csv's columns: a
    function that reads the columns it is asked for (again on each call: the page reads them
    twice and keeps only what it draws; BuiltReport.flow_rows is one), or the flows table;
    without flows the page draws what the endpoints say (first and last seen) and has no flow
    table."""
    rows = flows if flows is None or callable(flows) else frame_rows(flows)
    origin = parse_time(report["session"].get("started"))
    organisations = group_organisations(report)
    plan, left_out = timeline_plan(organisations)
    owner = {str(e.get("host")): organisation_key(e) for e in report.get("endpoints") or []}
    digest = digest_flows(report, rows, owner, drawn_keys(plan))
    call = call_section(report, digest.media_flows, origin)
    sections = [
        ("verdict", "Verdict", _verdict(report)),
        ("organisations", "Organisations", organisation_table(organisations, origin)),
        ("timeline", "Timeline: who was contacted when",
         timeline_section(report, organisations, plan, left_out, digest)),
        *([("call", "Where the call went", call)] if call else []),
        ("data", "What left the device", personal_data_section(report)),
        ("endpoints", "Endpoints", endpoint_table(report.get("endpoints") or [], origin)),
        *([("flows", "Flows", flow_table(digest.earliest, digest.flows, origin))]
          if digest.flows is not None else []),
        ("coverage", "Coverage: what could not be seen", _coverage(report)),
        ("categories", "Categories", _legend()),
    ]
    body = [_header(report, [(anchor, title) for anchor, title, _ in sections])]
    for anchor, title, content in sections:
        body.append(f'<section id="{anchor}"><h2>{escape(title)}</h2>{content}</section>')
    body.append(_footer(report))
    return html_document(f"vcaudit report {report['session']['id']}", body)


def frame_rows(frame: pd.DataFrame) -> FlowRows:
    """The flows table's rows as plain values (missing values and columns None), for
    render_html."""
    where = {str(c): i for i, c in enumerate(frame.columns)}

    def rows(columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        picked = [where.get(c) for c in columns]
        for values in frame.itertuples(index=False, name=None):
            yield tuple(None if i is None else _plain(values[i]) for i in picked)
    return rows


def _plain(value: Any) -> Any:
    """A table cell as a plain value: pandas' missing values (NA, NaN, NaT) as None."""
    if value is None or isinstance(value, (str, bool, dict, list, tuple)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    try:
        if value != value:  # NaN-like
            return None
    except TypeError:  # pandas.NA refuses to compare
        return None
    return value.item() if hasattr(value, "item") else value


def _header(report: dict[str, Any], sections: list[tuple[str, str]]) -> str:
    session, summary = report["session"], report["summary"]
    app = session.get("app")
    vendor = session.get("app_vendor")
    title = (f"What {html_cell(str(app).capitalize())} talked to" if app
             else "What this session talked to")
    detection = (session.get("app_detection") or {}).get("detail") or ""
    made_by = f"by {html_cell(vendor)}, " if vendor else ""
    app_text = (f"{html_cell(app)} <span class=\"muted\">({made_by}{html_text(detection)})"
                "</span>" if app else html_text(detection or "not detected"))
    started, ended = session.get("started"), session.get("ended")
    span = ""
    start_time, end_time = parse_time(started), parse_time(ended)
    if start_time is not None and end_time is not None:
        span = f" <span class=\"muted\">({duration_text(end_time - start_time)})</span>"
    inputs = ", ".join(str(i) for i in session.get("inputs") or [])
    toc = " ".join(f'<a href="#{anchor}">{escape(name.split(":")[0])}</a>'
                  for anchor, name in sections)
    return (
        f"<header><h1>{title}</h1>"
        f'<p class="muted small">vcaudit report {html_cell(session.get("id"))}</p>'
        '<dl class="facts">'
        f"<dt>Source</dt><dd>{html_cell(session.get('source'))}: "
        f"{path(inputs)}</dd>"
        f"<dt>Audited app</dt><dd>{app_text}</dd>"
        f"<dt>Time (UTC)</dt><dd>{_when(started, ended)}{span}</dd>"
        f"<dt>Traffic</dt><dd>{escape(traffic_line(summary))}</dd></dl>"
        f'<nav class="toc" aria-label="sections">{toc}</nav></header>')


def _when(started: str | None, ended: str | None) -> str:
    """`2026-11-02 14:00:00.051 to 14:00:59.391`: the date once when both times share it."""
    if not started or not ended:
        return f"{escape(started or '?')} to {escape(ended or '?')}"
    first, last = (t.replace("T", " ").removesuffix("Z") for t in (started, ended))
    if first[:10] == last[:10]:
        return (f'<span class="nowrap">{escape(first[:10])}</span>, '
                f'<span class="nowrap">{escape(first[11:])}</span> to '
                f'<span class="nowrap">{escape(last[11:])}</span>')
    return (f'<span class="nowrap">{escape(first)}</span> to '
            f'<span class="nowrap">{escape(last)}</span>')


def _verdict(report: dict[str, Any]) -> str:
    """The verdicts, how much could not be judged, what left the device; then the chart."""
    trackers = tuple(f"{c.value}:" for c in TRACKER_CATEGORIES)
    lines = [f'<li class="strong">{html_text(line)}</li>' if line.startswith(trackers)
             else f"<li>{html_text(line)}</li>"
             for line in verdict_lines(report, hosts_shown=VERDICT_HOSTS)]
    unknown = unknown_traffic_line(report["summary"])
    if unknown:
        lines.append(f"<li>{html_text(unknown)}</li>")
    found = bool((report.get("personal_data") or {}).get("verdicts"))
    lines += [f'<li class="strong">{html_text(line)}</li>' if found
              else f"<li>{html_text(line)}</li>" for line in data_lines(report)]
    return (f'<div class="verdict"><ul>{"".join(lines)}</ul></div>'
            f"<h3>Traffic by category</h3>{category_chart(report['summary'])}")


def _coverage(report: dict[str, Any]) -> str:
    coverage = report.get("coverage") or {}
    notes = coverage.get("notes") or ["Nothing was skipped."]
    out = [f'<ul>{"".join(f"<li>{html_text(n)}</li>" for n in notes)}</ul>']
    anomalies = (coverage.get("anomalies") or {}).get("by_kind") or {}
    if anomalies:
        rows = "".join(f'<tr><td>{html_cell(kind)}</td><td class="n">{count}</td></tr>'
                       for kind, count in sorted(anomalies.items()))
        out.append('<div class="wrap"><table><thead><tr><th>anomaly</th>'
                   f'<th class="n">count</th></tr></thead><tbody>{rows}</tbody></table></div>')
    return "".join(out)


def _legend() -> str:
    items = "".join(f"<dt>{badge(c.value)}</dt><dd>{escape(CATEGORY_MEANING[c])}</dd>"
                    for c in CATEGORY_ORDER)
    return f'<dl class="facts">{items}</dl>'


def _footer(report: dict[str, Any]) -> str:
    session = report["session"]
    generator = report.get("generator") or {}
    parts = [f"Made by {escape(str(generator.get('name', 'vcaudit')))} "
             f"{escape(str(generator.get('version', '')))}."]
    for database in session.get("address_databases") or []:
        if isinstance(database, dict) and database.get("used"):
            parts.append(f"Address owners and countries: {html_cell(database.get('name'))} "
                         f"({html_cell(database.get('date'))}); "
                         f"{html_cell(database.get('licence'))}.")
    lists = [str(item.get("name")) for item in session.get("lists") or []
             if isinstance(item, dict) and item.get("name")]
    if lists:
        parts.append(f"Tracker lists: {html_cell(', '.join(lists))}.")
    return f'<footer>{"".join(f"<p>{p}</p>" for p in parts)}</footer>'

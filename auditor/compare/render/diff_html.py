"""diff.html: a diff as one self-contained page (page.py: no network, no script, a strict
Content-Security-Policy), with the same sections as diff.md and before/after bars per category.
"""

from __future__ import annotations

from auditor.compare.diff import Change, OrganisationChange, ReportDiff
from auditor.compare.render.diff_json import DiffContext
from auditor.compare.render.page import badge, bar_pair, breakable, html_page, wide_table
from auditor.compare.view import EndpointView
from auditor.compare.wording import (
    CHANGE_WORDS,
    byte_total,
    change_lines,
    flow_count,
    note_lines,
    session_text,
)
from auditor.quantities import byte_size
from auditor.report.render.text_safety import html_cell as cell
from auditor.report.render.text_safety import html_text as text

HOSTS_SHOWN = 8
MAX_ROWS = 500


def render_diff_html(diff: ReportDiff, context: DiffContext) -> str:
    """The whole diff.html text."""
    notes = note_lines(diff)
    body = [
        "<h1>vcaudit diff</h1>",
        _sessions(diff, context),
        "<h2>What changed</h2>",
        '<ul class="change">',
        *[f"<li>{text(line)}</li>" for line in change_lines(diff)],
        "</ul>",
        *(["<h2>Keep in mind</h2><ul>", *[f"<li>{text(n)}</li>" for n in notes], "</ul>"]
          if notes else []),
        _fail_on(context),
        "<h2>Bytes by category</h2>",
        _categories(diff),
        "<h2>Organisations</h2>",
        _organisations(diff),
        "<h2>Endpoints that differ</h2>",
        _endpoints(diff),
    ]
    title = f"vcaudit diff {diff.before.id or 'A'} vs {diff.after.id or 'B'}"
    return html_page(title, body)


def _sessions(diff: ReportDiff, context: DiffContext) -> str:
    rows = []
    for label, role, session, folder, link in (
            ("A", "before", diff.before, context.before_folder, context.before_link),
            ("B", "after", diff.after, context.after_folder, context.after_link)):
        where = (f'<br><span class="muted">report: {breakable(folder)}/report.html</span>'
                 if folder else "")
        if link:
            where = f'<br><a href="{cell(link)}/report.html">its report</a>'
        rows.append(f"<tr><th>{label} ({role})</th><td>{text(session_text(session))}"
                    f"{where}</td></tr>")
    return f"<table>{''.join(rows)}</table>"


def _fail_on(context: DiffContext) -> str:
    if not context.conditions:
        return ""
    held = [f"<li><strong>held</strong>: {text(line)}</li>" for line in context.matched]
    return (f"<h2>--fail-on</h2><p>Conditions: {cell(', '.join(context.conditions))}.</p>"
            f"<ul>{''.join(held) or '<li>none held</li>'}</ul>")


def _categories(diff: ReportDiff) -> str:
    largest = max((max(c.before.bytes_up + c.before.bytes_down,
                       c.after.bytes_up + c.after.bytes_down) for c in diff.categories),
                  default=0)
    rows = []
    for change in diff.categories:
        a, b = change.before, change.after
        if not (a.endpoints or b.endpoints):
            continue  # diff.json has every category
        rows.append(
            f"<tr><td>{badge(change.category)}</td>"
            f'<td class="n">{a.endpoints}</td><td class="n">{b.endpoints}</td>'
            f'<td class="n">{byte_size(a.bytes_up)}</td><td class="n">{byte_size(b.bytes_up)}'
            f'</td><td class="n">{byte_size(a.bytes_down)}</td>'
            f'<td class="n">{byte_size(b.bytes_down)}</td>'
            f"<td>{bar_pair(a.bytes_up + a.bytes_down, b.bytes_up + b.bytes_down, largest)}"
            "</td></tr>")
    table = wide_table(["category", "endpoints A", "endpoints B", "sent A", "sent B",
                        "received A", "received B", "bytes (grey: A, blue: B)"], rows)
    return table


def _organisations(diff: ReportDiff) -> str:
    rows = []
    for change in diff.organisations[:MAX_ROWS]:
        before, after = change.before, change.after
        rows.append(
            f"<tr><td>{cell(change.name)}</td>"
            f"<td>{badge(CHANGE_WORDS[change.change], change.change.value)}</td>"
            f"<td>{_categories_cell(change)}</td><td class=\"host\">{_hosts_cell(change)}</td>"
            f"<td>{cell(', '.join(before.labels) if before else '')}</td>"
            f"<td>{cell(', '.join(after.labels) if after else '')}</td>"
            f'<td class="n">{flow_count(before.traffic if before else None)}</td>'
            f'<td class="n">{flow_count(after.traffic if after else None)}</td>'
            f'<td class="n">{byte_total(before.traffic if before else None)}</td>'
            f'<td class="n">{byte_total(after.traffic if after else None)}</td></tr>')
    if len(diff.organisations) > MAX_ROWS:
        rows.append(f'<tr><td colspan="10" class="muted">{len(diff.organisations) - MAX_ROWS} '
                    "more organisations in diff.json</td></tr>")
    return wide_table(["organisation", "change", "category", "hosts", "data received in A",
                       "data received in B", "flows A", "flows B", "bytes A", "bytes B"], rows)


def _categories_cell(change: OrganisationChange) -> str:
    now = " ".join(badge(c) for c in change.latest.categories)
    if change.change is Change.CHANGED and (change.categories_added
                                            or change.categories_removed):
        was = " ".join(badge(c) for c in (change.before.categories if change.before else ()))
        return f'{now} <span class="muted">was</span> {was}'
    return now


def _hosts_cell(change: OrganisationChange) -> str:
    hosts = [breakable(h) + (' <span class="muted">(new)</span>'
                        if h in change.hosts_added and change.before else "")
             for h in change.latest.hosts]
    if change.after is not None:
        hosts += [f'<del>{breakable(h)}</del> <span class="muted">(no longer)</span>'
                  for h in change.hosts_removed]
    more = f" and {len(hosts) - HOSTS_SHOWN} more" if len(hosts) > HOSTS_SHOWN else ""
    return ", ".join(hosts[:HOSTS_SHOWN]) + more


def _endpoints(diff: ReportDiff) -> str:
    if not diff.endpoints:
        return "<p>None.</p>"
    rows = []
    for change in diff.endpoints[:MAX_ROWS]:
        rows.append(
            f'<tr><td class="host">{breakable(change.host)}</td>'
            f"<td>{badge(CHANGE_WORDS[change.change], change.change.value)}</td>"
            f"<td>{_endpoint(change.before)}</td><td>{_endpoint(change.after)}</td>"
            f'<td class="n">{flow_count(change.before.traffic if change.before else None)}</td>'
            f'<td class="n">{flow_count(change.after.traffic if change.after else None)}</td></tr>')
    if len(diff.endpoints) > MAX_ROWS:
        rows.append(f'<tr><td colspan="6" class="muted">{len(diff.endpoints) - MAX_ROWS} more '
                    "endpoints in diff.json</td></tr>")
    return wide_table(["host", "change", "in A", "in B", "flows A", "flows B"], rows)


def _endpoint(endpoint: EndpointView | None) -> str:
    if endpoint is None:
        return '<span class="muted">not contacted</span>'
    owner = cell(endpoint.entity) if endpoint.entity else "no known organisation"
    return f"{badge(endpoint.category)} {owner}"

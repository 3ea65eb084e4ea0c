"""summary.html: the summary over many sessions as one self-contained page (page.py), with
the same sections as summary.md."""

from __future__ import annotations

from auditor.compare.across import AppTable, SessionsTable
from auditor.compare.render.page import badge, breakable, html_page, wide_table
from auditor.compare.render.summary_markdown import app_title, data_cell, sessions_cell
from auditor.compare.wording import traffic_text
from auditor.quantities import byte_size, counted
from auditor.report.render.text_safety import html_cell as cell

HOSTS_SHOWN = 5
MAX_ROWS = 1000


def render_summary_html(table: SessionsTable) -> str:
    """The whole summary.html text."""
    title = f"vcaudit summary of {counted(table.sessions, 'session')}"
    body = [f"<h1>{cell(title)}</h1>"]
    for app in table.apps:
        body += _app_section(app)
    return html_page(title, body)


def _app_section(app: AppTable) -> list[str]:
    sessions = [f"<tr><td class=\"host\">{cell(s.id or '')}</td><td>{cell(s.source or '')}</td>"
                f"<td>{cell(s.started or '')}</td><td>{traffic_text(s.totals)}</td>"
                f"<td class=\"host\">{breakable(s.folder or '')}</td></tr>" for s in app.sessions]
    rows = []
    for row in app.rows[:MAX_ROWS]:
        more = len(row.hosts) - HOSTS_SHOWN
        hosts = ", ".join(breakable(h) for h in row.hosts[:HOSTS_SHOWN])
        hosts += f" and {more} more" if more > 0 else ""
        vendor = ' <span class="muted">(the app\'s vendor)</span>' if row.first_party else ""
        rows.append(
            f"<tr><td>{cell(row.organisation)}{vendor}</td><td>{badge(row.category)}</td>"
            f'<td class="n">{sessions_cell(row)}</td><td class="host">{hosts}</td>'
            f'<td class="n">{row.flows}</td><td class="n">{byte_size(row.bytes_up)}</td>'
            f'<td class="n">{byte_size(row.bytes_down)}</td><td>{cell(data_cell(row))}</td>'
            "</tr>")
    if len(app.rows) > MAX_ROWS:
        rows.append(f'<tr><td colspan="8" class="muted">{len(app.rows) - MAX_ROWS} more rows '
                    "in summary.csv</td></tr>")
    return [
        f"<h2>{cell(app_title(app))}</h2>",
        wide_table(["session", "source", "started", "traffic", "folder"], sessions),
        wide_table(["organisation", "category", "sessions", "hosts", "flows", "sent",
                    "received", "data received"], rows),
    ]

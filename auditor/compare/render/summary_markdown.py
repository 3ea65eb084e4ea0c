"""summary.md: the summary over many sessions as a readable Markdown page, one section per
audited app: its sessions, then its organisations (how many sessions contacted each, hosts,
flows, bytes, data received). Everything from the reports is escaped as a table cell."""

from __future__ import annotations

from auditor.compare.across import AppTable, OrganisationRow, SessionsTable
from auditor.compare.wording import traffic_text
from auditor.quantities import byte_size, counted
from auditor.report.render.text_safety import markdown_cell as cell

HOSTS_SHOWN = 5
MAX_ROWS = 1000


def render_summary_markdown(table: SessionsTable) -> str:
    """The whole summary.md text."""
    parts = [f"# vcaudit summary of {counted(table.sessions, 'session')}", ""]
    for app in table.apps:
        parts += _app_section(app)
    return "\n".join(parts)


def app_title(app: AppTable) -> str:
    """`zoom: 3 sessions` (plain text: escape it where it is shown)."""
    return f"{app.app or 'app not detected'}: {counted(len(app.sessions), 'session')}"


def sessions_cell(row: OrganisationRow) -> str:
    """`2 of 3`."""
    return f"{row.sessions} of {row.app_sessions}"


def data_cell(row: OrganisationRow) -> str:
    """`advertising ID, device model (in 2 sessions)` (plain text)."""
    if not row.kinds:
        return ""
    return f"{', '.join(row.kinds)} (in {counted(row.sessions_with_data, 'session')})"


def _app_section(app: AppTable) -> list[str]:
    rows = [f"## {cell(app_title(app))}", "",
            "| session | source | started | traffic | folder |", "|---|---|---|---|---|"]
    for session in app.sessions:
        rows.append(f"| {cell(session.id or '')} | {cell(session.source or '')} | "
                    f"{cell(session.started or '')} | {traffic_text(session.totals)} | "
                    f"{cell(session.folder or '')} |")
    rows += ["", "| organisation | category | sessions | hosts | flows | sent | received | "
             "data received |", "|---|---|--:|---|--:|--:|--:|---|"]
    for row in app.rows[:MAX_ROWS]:
        more = len(row.hosts) - HOSTS_SHOWN
        hosts = ", ".join(cell(h) for h in row.hosts[:HOSTS_SHOWN])
        hosts += f" and {more} more" if more > 0 else ""
        owner = cell(row.organisation) + (" (the app's vendor)" if row.first_party else "")
        rows.append(f"| {owner} | {cell(row.category)} | {sessions_cell(row)} | {hosts} | "
                    f"{row.flows} | {byte_size(row.bytes_up)} | {byte_size(row.bytes_down)} | "
                    f"{cell(data_cell(row))} |")
    if len(app.rows) > MAX_ROWS:
        rows.append(f"\n{len(app.rows) - MAX_ROWS} more rows in summary.csv.")
    return [*rows, ""]

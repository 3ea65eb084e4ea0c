"""diff.md: a diff as a readable Markdown page: the two sessions, what changed in sentences,
bytes by category, every organisation before and after, and the endpoints that differ.

Everything from the reports (names, categories, kinds of data) is escaped as a table cell;
the sentences go through markdown_text, so only a vcaudit command in them is code.
"""

from __future__ import annotations

from auditor.compare.diff import Change, EndpointChange, OrganisationChange, ReportDiff
from auditor.compare.render.diff_json import DiffContext
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
from auditor.report.render.text_safety import markdown_cell as cell
from auditor.report.render.text_safety import markdown_text as text

HOSTS_SHOWN = 8
MAX_ROWS = 500


def render_diff_markdown(diff: ReportDiff, context: DiffContext) -> str:
    """The whole diff.md text."""
    parts = [
        "# vcaudit diff", "",
        *_sessions(diff, context),
        "## What changed", "",
        *[f"- {text(line)}" for line in change_lines(diff)], "",
        *_notes(diff),
        *_fail_on(context),
        *_categories(diff),
        *_organisations(diff),
        *_endpoints(diff),
    ]
    return "\n".join(parts)


def _sessions(diff: ReportDiff, context: DiffContext) -> list[str]:
    rows = []
    for label, role, session, folder, link in (
            ("A", "before", diff.before, context.before_folder, context.before_link),
            ("B", "after", diff.after, context.after_folder, context.after_link)):
        where = f" ([report]({link}/report.md))" if link else ""
        where = where or (f" (report: {cell(folder)}/report.md)" if folder else "")
        rows.append(f"- **{label}** ({role}): {text(session_text(session))}{where}")
    return [*rows, ""]


def _notes(diff: ReportDiff) -> list[str]:
    notes = note_lines(diff)
    if not notes:
        return []
    return ["## Keep in mind", "", *[f"- {text(note)}" for note in notes], ""]


def _fail_on(context: DiffContext) -> list[str]:
    if not context.conditions:
        return []
    rows = ["## --fail-on", "", f"Conditions: {cell(', '.join(context.conditions))}.", ""]
    rows += [f"- **held**: {text(line)}" for line in context.matched] or ["- none held"]
    return [*rows, ""]


def _categories(diff: ReportDiff) -> list[str]:
    rows = ["## Bytes by category", "",
            "| category | endpoints A | endpoints B | sent A | sent B | received A | "
            "received B |", "|---|--:|--:|--:|--:|--:|--:|"]
    for change in diff.categories:
        a, b = change.before, change.after
        if not (a.endpoints or b.endpoints):
            continue  # diff.json has every category
        rows.append(f"| {cell(change.category)} | {a.endpoints} | {b.endpoints} | "
                    f"{byte_size(a.bytes_up)} | {byte_size(b.bytes_up)} | "
                    f"{byte_size(a.bytes_down)} | {byte_size(b.bytes_down)} |")
    return [*rows, ""]


def _organisations(diff: ReportDiff) -> list[str]:
    rows = ["## Organisations", "",
            "| organisation | change | category | hosts | data received in A | "
            "data received in B | flows A | flows B | bytes A | bytes B |",
            "|---|---|---|---|---|---|--:|--:|--:|--:|"]
    for change in diff.organisations[:MAX_ROWS]:
        before, after = change.before, change.after
        rows.append(
            f"| {cell(change.name)} | {CHANGE_WORDS[change.change]} | {_categories_cell(change)} | "
            f"{_hosts_cell(change)} | {cell(', '.join(before.labels) if before else '')} | "
            f"{cell(', '.join(after.labels) if after else '')} | "
            f"{flow_count(before.traffic if before else None)} | "
            f"{flow_count(after.traffic if after else None)} | "
            f"{byte_total(before.traffic if before else None)} | "
            f"{byte_total(after.traffic if after else None)} |")
    if len(diff.organisations) > MAX_ROWS:
        rows.append(f"\n{len(diff.organisations) - MAX_ROWS} more organisations in diff.json.")
    return [*rows, ""]


def _categories_cell(change: OrganisationChange) -> str:
    now = cell(", ".join(change.latest.categories))
    if change.change is Change.CHANGED and (change.categories_added
                                            or change.categories_removed):
        was = ", ".join(change.before.categories if change.before else ())
        return f"{now} (was {cell(was)})"
    return now


def _hosts_cell(change: OrganisationChange) -> str:
    hosts = [cell(h) + (" (new)" if h in change.hosts_added and change.before else "")
             for h in change.latest.hosts]
    if change.after is not None:
        hosts += [f"{cell(h)} (no longer)" for h in change.hosts_removed]
    more = f" and {len(hosts) - HOSTS_SHOWN} more" if len(hosts) > HOSTS_SHOWN else ""
    return ", ".join(hosts[:HOSTS_SHOWN]) + more


def _endpoints(diff: ReportDiff) -> list[str]:
    if not diff.endpoints:
        return ["## Endpoints that differ", "", "None.", ""]
    rows = ["## Endpoints that differ", "",
            "| host | change | in A | in B | flows A | flows B |", "|---|---|---|---|--:|--:|"]
    for change in diff.endpoints[:MAX_ROWS]:
        rows.append(f"| {cell(change.host)} | {_endpoint_change(change)} | "
                    f"{_endpoint(change.before)} | {_endpoint(change.after)} | "
                    f"{flow_count(change.before.traffic if change.before else None)} | "
                    f"{flow_count(change.after.traffic if change.after else None)} |")
    if len(diff.endpoints) > MAX_ROWS:
        rows.append(f"\n{len(diff.endpoints) - MAX_ROWS} more endpoints in diff.json.")
    return [*rows, ""]


def _endpoint_change(change: EndpointChange) -> str:
    if change.change is Change.CHANGED:
        return "category or organisation changed"
    return CHANGE_WORDS[change.change]


def _endpoint(endpoint: EndpointView | None) -> str:
    if endpoint is None:
        return "not contacted"
    owner = cell(endpoint.entity) if endpoint.entity else "no known organisation"
    return f"{cell(endpoint.category)} ({owner})"

"""Every file a diff or a summary consists of, each with its formatter."""

from __future__ import annotations

import json
from enum import StrEnum

from auditor.compare.across import SessionsTable
from auditor.compare.diff import ReportDiff
from auditor.compare.render.diff_html import render_diff_html
from auditor.compare.render.diff_json import DiffContext, diff_document
from auditor.compare.render.diff_markdown import render_diff_markdown
from auditor.compare.render.summary_csv import render_summary_csv
from auditor.compare.render.summary_html import render_summary_html
from auditor.compare.render.summary_json import summary_document
from auditor.compare.render.summary_markdown import render_summary_markdown


class DiffFile(StrEnum):
    """The files `vcaudit diff` writes (diff.json is the folder's marker)."""

    JSON = "diff.json"
    MARKDOWN = "diff.md"
    HTML = "diff.html"


class SummaryFile(StrEnum):
    """The files `vcaudit summary` writes (summary.json is the folder's marker)."""

    JSON = "summary.json"
    MARKDOWN = "summary.md"
    HTML = "summary.html"
    CSV = "summary.csv"


def render_diff(kind: DiffFile, diff: ReportDiff, context: DiffContext) -> str:
    """The text of one diff file."""
    if kind is DiffFile.JSON:
        return json.dumps(diff_document(diff, context), indent=2, ensure_ascii=False) + "\n"
    if kind is DiffFile.MARKDOWN:
        return render_diff_markdown(diff, context)
    if kind is DiffFile.HTML:
        return render_diff_html(diff, context)
    raise ValueError(f"no formatter for {kind}")


def render_summary(kind: SummaryFile, table: SessionsTable) -> str:
    """The text of one summary file."""
    if kind is SummaryFile.JSON:
        return json.dumps(summary_document(table), indent=2, ensure_ascii=False) + "\n"
    if kind is SummaryFile.MARKDOWN:
        return render_summary_markdown(table)
    if kind is SummaryFile.HTML:
        return render_summary_html(table)
    if kind is SummaryFile.CSV:
        return render_summary_csv(table)
    raise ValueError(f"no formatter for {kind}")

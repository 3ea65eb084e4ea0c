"""Every file a report consists of, each with its formatter."""

from __future__ import annotations

import json
from enum import StrEnum

from auditor.records import FLOW_COLUMNS
from auditor.report.build import BuiltReport
from auditor.report.call_path import CALL_COLUMNS
from auditor.report.endpoint_totals import ENDPOINT_COLUMNS
from auditor.report.render.html_page import render_html
from auditor.report.render.markdown import render_markdown
from auditor.report.render.tables import csv_table


class ReportFile(StrEnum):
    """The report files of a session folder (flows.jsonl is the log they are built from)."""

    JSON = "report.json"
    ENDPOINTS_CSV = "endpoints.csv"
    FLOWS_CSV = "flows.csv"
    CALL_CSV = "call.csv"  # every media flow: where the call went (report.json's `call`)
    MARKDOWN = "report.md"
    HTML = "report.html"


def render(kind: ReportFile, report: BuiltReport) -> str:
    """The text of one report file."""
    if kind is ReportFile.JSON:
        return json.dumps(report.document, indent=2, ensure_ascii=False) + "\n"
    if kind is ReportFile.ENDPOINTS_CSV:
        return csv_table(ENDPOINT_COLUMNS, report.endpoint_rows)
    if kind is ReportFile.FLOWS_CSV:
        return csv_table(FLOW_COLUMNS, report.flow_rows())
    if kind is ReportFile.CALL_CSV:
        return csv_table(CALL_COLUMNS, report.call_rows)
    if kind is ReportFile.MARKDOWN:
        return render_markdown(report.document)
    if kind is ReportFile.HTML:
        return render_html(report.document, report.flow_rows)
    raise ValueError(f"no formatter for {kind}")

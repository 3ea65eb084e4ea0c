"""summary.csv: the summary's rows for spreadsheets and pandas, one per app, organisation and
category; list cells joined with ";" and text cells safe from formula injection, as the
session folders' CSV files are."""

from __future__ import annotations

import csv
import io

from auditor.compare.across import SessionsTable
from auditor.compare.render.summary_json import organisation_record
from auditor.report.render.text_safety import csv_cell

COLUMNS = ("app", "organisation", "known", "category", "first_party", "sessions",
           "app_sessions", "hosts", "flows", "bytes_up", "bytes_down", "kinds",
           "sessions_with_data")
LIST_SEPARATOR = ";"


def render_summary_csv(table: SessionsTable) -> str:
    """The whole summary.csv text (a header line even when there are no rows)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in table.rows:
        record = {"app": row.app, **organisation_record(row)}
        writer.writerow([_cell(record[column]) for column in COLUMNS])
    return out.getvalue()


def _cell(value: object) -> object:
    if value is None:
        return ""  # unknown: an empty cell
    if isinstance(value, bool):
        return str(value)  # True / False, as endpoints.csv writes them
    if isinstance(value, list):
        value = LIST_SEPARATOR.join(str(v) for v in value)
    return csv_cell(value) if isinstance(value, str) else value

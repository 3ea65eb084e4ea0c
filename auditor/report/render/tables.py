"""endpoints.csv and flows.csv: the report's tables for spreadsheets and pandas."""

from __future__ import annotations

from typing import Any

import pandas as pd

from auditor.report.render.text_safety import csv_cell

LIST_SEPARATOR = ";"


def render_csv(frame: pd.DataFrame) -> str:
    """A table as CSV: list cells joined with ';', text cells safe from formula injection."""
    return frame.map(_cell).to_csv(index=False, lineterminator="\n")


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        value = LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, str):
        return csv_cell(value)
    return value

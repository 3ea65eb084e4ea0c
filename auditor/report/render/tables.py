"""endpoints.csv, flows.csv and call.csv: the report's tables for spreadsheets and pandas."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from auditor.report.render.text_safety import csv_cell

LIST_SEPARATOR = ";"


def render_csv(frame: pd.DataFrame) -> str:
    """A table as CSV: list cells joined with ';', objects (a flow's media block) as compact
    JSON, text cells safe from formula injection."""
    return frame.map(_cell).to_csv(index=False, lineterminator="\n")


def _cell(value: Any) -> Any:
    if isinstance(value, dict):  # a flow's media block: compact JSON, unknown fields left out
        value = json.dumps({k: v for k, v in value.items() if v is not None},
                           separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        value = LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, str):
        return csv_cell(value)
    return value

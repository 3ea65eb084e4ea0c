"""endpoints.csv, flows.csv and call.csv: the report's tables for spreadsheets and pandas.

Written a row at a time (flows.csv while the flows stream by), so no table of a session is
held in memory, nor pandas imported for it; the text is what pandas' `to_csv` writes for the
typed table: list cells joined with ';', objects (a flow's media block) as compact JSON, text
cells safe from formula injection (text_safety.csv_cell), unknown values empty, whole numbers
without a decimal point, other numbers in their shortest exact form, minimal quoting, '\n'
line ends.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import IO, Any

from auditor.report.render.text_safety import csv_cell

LIST_SEPARATOR = ";"


def cell_text(value: Any) -> str:
    """One cell's text, before CSV quoting."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        text = _TEXT_CELLS.get(value)
        if text is None:
            if len(_TEXT_CELLS) >= MAX_CACHED_CELLS:
                _TEXT_CELLS.clear()
            text = _TEXT_CELLS[value] = csv_cell(value)
        return text
    if kind is int or kind is bool:
        return str(value)
    if kind is float:
        return "" if value != value else repr(value)  # NaN: unknown
    if isinstance(value, dict):  # a flow's media block: compact JSON, unknown fields left out
        value = json.dumps({k: v for k, v in value.items() if v is not None},
                           separators=(",", ":"), ensure_ascii=False)
    elif isinstance(value, (list, tuple)):
        value = LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, str):
        return cell_text(value)
    return str(value)


# Cells repeat (addresses, names, categories, evidence): each text is made safe once.
MAX_CACHED_CELLS = 1 << 16
_TEXT_CELLS: dict[str, str] = {}


class CsvRows:
    """A CSV table written to `handle` a row at a time, under a header of `columns`."""

    def __init__(self, handle: IO[str], columns: Sequence[str]) -> None:
        self._writer = csv.writer(handle, lineterminator="\n")
        self._columns = tuple(columns)
        self._writer.writerow(self._columns)

    def write(self, row: dict[str, Any]) -> None:
        """One row: the value of each column (missing ones unknown)."""
        self._writer.writerow([cell_text(row.get(column)) for column in self._columns])


def csv_table(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    """A whole table's CSV text."""
    out = io.StringIO()
    writer = CsvRows(out, columns)
    for row in rows:
        writer.write(row)
    return out.getvalue()

"""Making traffic-supplied text safe to embed in Markdown tables and CSV cells.

Everything in traffic is hostile: a host name or URL can carry Markdown syntax, HTML or a
spreadsheet formula. These functions neutralise them for the formats vcaudit writes.
"""

from __future__ import annotations

import re

# Characters that start emphasis, code, links, HTML or table cells in CommonMark/GFM.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def markdown_cell(value: object) -> str:
    """Text for one Markdown table cell: specials escaped, control characters removed."""
    if value is None:
        return ""
    text = _CONTROL.sub(" ", str(value))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def csv_cell(value: str) -> str:
    """A string cell that spreadsheets will not evaluate as a formula."""
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value

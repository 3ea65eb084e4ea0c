"""Making text safe to embed in Markdown, HTML and CSV.

Everything in traffic is hostile: a host name or URL can carry Markdown syntax, HTML or a
spreadsheet formula. These functions neutralise them for the formats vcaudit writes.

vcaudit's own sentences (coverage notes, evidence, verdicts) mark a command the reader can run
as a code span: "Run `vcaudit proxy` to see inside them." Such sentences also quote traffic
(host names, paths), so the markup is deliberately narrow: only a backtick-quoted vcaudit
command or option (`vcaudit lists update`, `--app`) becomes code; every other character,
backticks included, is escaped. Traffic text can at most produce such an inert code span.
"""

from __future__ import annotations

import re
from html import escape

# Characters that start emphasis, code, links, HTML or table cells in CommonMark/GFM.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A command or option in one of vcaudit's own sentences; the characters allowed inside are
# inert in both formats (no `|`, `<`, `&`, backtick or backslash).
CODE_SPAN = re.compile(r"`((?:vcaudit|mitmdump|--)[A-Za-z0-9 ._=/:,-]*)`")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def markdown_cell(value: object) -> str:
    """Text for Markdown (a table cell or any line): specials escaped, control characters
    removed. Use for values taken from traffic."""
    if value is None:
        return ""
    text = _CONTROL.sub(" ", str(value))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def markdown_text(value: object) -> str:
    """A vcaudit sentence for Markdown: its commands as code spans, everything else escaped
    as `markdown_cell` does (safe in table cells too)."""
    parts = _split_code(value)
    return "".join(f"`{text}`" if code else markdown_cell(text) for code, text in parts)


def html_text(value: object) -> str:
    """A vcaudit sentence for HTML: its commands in <code>, everything else escaped."""
    parts = _split_code(value)
    return "".join(f"<code>{escape(text)}</code>" if code else escape(text)
                   for code, text in parts)


def csv_cell(value: str) -> str:
    """A string cell that spreadsheets will not evaluate as a formula."""
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _split_code(value: object) -> list[tuple[bool, str]]:
    """The text as (is_code, text) pieces, control characters replaced by spaces."""
    if value is None:
        return []
    text = _CONTROL.sub(" ", str(value))
    parts: list[tuple[bool, str]] = []
    position = 0
    for match in CODE_SPAN.finditer(text):
        parts += [(False, text[position:match.start()]), (True, match.group(1))]
        position = match.end()
    parts.append((False, text[position:]))
    return [(code, piece) for code, piece in parts if piece]

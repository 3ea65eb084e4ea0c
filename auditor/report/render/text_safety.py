"""Making text safe to show in a terminal and to embed in Markdown, HTML and CSV.

Everything in traffic is hostile: a host name or URL can carry terminal escape sequences, a
newline that forges a line of output, bidirectional controls (U+202E) that make text read
differently from what it is, Markdown syntax, HTML or a spreadsheet formula. These functions
neutralise them for every place vcaudit writes text. Invisible characters (controls, bidi and
zero-width format characters) are never removed or replaced by a space but shown as escapes
(`\\x1b`, `\\u202e`), so what a reader sees is the name that was classified; report.json and the
logs keep the exact text.

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
# Characters that are invisible or act on the display instead of showing: C0 and C1 controls
# (escape sequences, newlines), DEL, the soft hyphen, bidirectional marks, embeddings,
# overrides and isolates, zero-width and other format characters, line and paragraph
# separators, the byte order mark, interlinear annotations and tag characters; and lone
# surrogates (bytes that were not UTF-8, as mitmproxy decodes them), which no terminal or file
# can encode.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e"
                        "\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
                        "\U000e0000-\U000e007f]")
# A command or option in one of vcaudit's own sentences; the characters allowed inside are
# inert in both formats (no `|`, `<`, `&`, backtick or backslash).
CODE_SPAN = re.compile(r"`((?:vcaudit|mitmdump|--)[A-Za-z0-9 ._=/:,-]*)`")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Where a spreadsheet may start a new cell inside one of ours: list cells are joined with ";",
# the separator that spreadsheets in many locales split CSV on (and "Text to Columns" too).
CELL_SEPARATOR = ";"
TERMINAL_NAME_LIMIT = 80  # characters of one name shown in a terminal line
TERMINAL_LINE_LIMIT = 400


def visible(value: object) -> str:
    """The text with every invisible or display-changing character shown as its Python-style
    escape (`\\x1b`, `\\n`, `\\u202e`); other text, backslashes included, unchanged."""
    if value is None:
        return ""
    return _INVISIBLE.sub(lambda match: ascii(match.group())[1:-1], str(value))


def terminal_text(value: object, limit: int = TERMINAL_NAME_LIMIT) -> str:
    """Text from traffic as a terminal line may show it: `visible`, and cut to `limit`
    characters (the cut marked with "...")."""
    text = visible(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def markdown_cell(value: object) -> str:
    """Text for Markdown (a table cell or any line): specials escaped, invisible characters
    shown as escapes. Use for values taken from traffic."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", visible(value))


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


def html_cell(value: object) -> str:
    """Text from traffic for HTML: `visible`, then escaped."""
    return escape(visible(value))


def csv_cell(value: str) -> str:
    """A string cell that spreadsheets will not evaluate as a formula, whole or split at its
    ";" separators: every piece that would start one is prefixed with "'". Invisible
    characters are shown as escapes (`visible`)."""
    pieces = visible(value).split(CELL_SEPARATOR)
    return CELL_SEPARATOR.join(_defused(piece) for piece in pieces)


def _defused(piece: str) -> str:
    start = len(piece) - len(piece.lstrip(" "))
    if piece[start:].startswith(FORMULA_PREFIXES):
        return piece[:start] + "'" + piece[start:]
    return piece


def _split_code(value: object) -> list[tuple[bool, str]]:
    """The text as (is_code, text) pieces, invisible characters shown as escapes."""
    if value is None:
        return []
    text = visible(value)
    parts: list[tuple[bool, str]] = []
    position = 0
    for match in CODE_SPAN.finditer(text):
        parts += [(False, text[position:match.start()]), (True, match.group(1))]
        position = match.end()
    parts.append((False, text[position:]))
    return [(code, piece) for code, piece in parts if piece]

"""Text safety: vcaudit's own commands become code; everything else, traffic above all, stays
inert text in Markdown, HTML and CSV."""

from __future__ import annotations

import re

import pytest

from auditor.report.render.text_safety import (
    TERMINAL_NAME_LIMIT,
    csv_cell,
    html_cell,
    html_text,
    markdown_cell,
    markdown_text,
    terminal_text,
    visible,
)


def test_commands_render_as_code() -> None:
    sentence = "Run `vcaudit proxy` to see inside them; or `vcaudit lists update --force`."
    assert markdown_text(sentence) == sentence  # no backslashes before the backticks
    assert html_text(sentence) == ("Run <code>vcaudit proxy</code> to see inside them; or "
                                   "<code>vcaudit lists update --force</code>.")
    assert html_text("use `--app` to name it") == "use <code>--app</code> to name it"


@pytest.mark.parametrize("hostile", [
    "`<img src=x onerror=alert(1)>`.example",
    "`rm -rf /`",
    "`vcaudit <b>x</b>`",
    "`vcaudit x|y`",  # a pipe would split a Markdown table cell
    "*bold* _em_ [link](http://t) <i>x</i>",
])
def test_traffic_text_never_becomes_markup(hostile: str) -> None:
    md = markdown_text(f"host {hostile} was pinned")
    unescaped = re.sub(r"\\.", "", md)  # what is left once every backslash escape is removed
    assert not set(unescaped) & set("`<>|*_[]"), md
    page = html_text(f"host {hostile} was pinned")
    assert "<code>" not in page and "<b>" not in page and "<img" not in page and "<i>" not in page


def test_markdown_cell_escapes_everything() -> None:
    assert markdown_cell("`vcaudit proxy`") == "\\`vcaudit proxy\\`"
    assert markdown_cell("a|b\nc") == "a\\|b\\\\nc"  # renders as a|b\nc
    assert markdown_cell(None) == ""
    assert markdown_text(None) == "" and html_text(None) == ""


def test_csv_cell_defuses_formulas() -> None:
    assert csv_cell("=1+1") == "'=1+1" and csv_cell("plain") == "plain"


def test_csv_cell_defuses_every_piece_a_spreadsheet_may_split_off() -> None:
    # The list cell: only its first element used to be checked.
    cell = csv_cell("ok.example.org;@sum(1);=1+1;+cmd|' /c calc'!a0; -2+3")
    assert cell == "ok.example.org;'@sum(1);'=1+1;'+cmd|' /c calc'!a0; '-2+3"
    for piece in cell.split(";"):
        assert not piece.lstrip(" ").startswith(("=", "+", "-", "@"))
    assert csv_cell("\t=1") == "\\t=1"  # a tab is shown, so nothing starts the formula


@pytest.mark.parametrize("hostile", [
    "\x1b]0;pwned\x07", "\x1b[2J", "a\x00b", "line\nverdict: forged", "cr\rx",
    "\u202egnp.exe", "zero\u200bwidth", "\x9b31m", "iso\u2066late\u2069", "bom\ufeff",
    "tag\U000e0041",
])
def test_invisible_characters_are_shown_escaped_everywhere(hostile: str) -> None:
    shown = visible(hostile)
    assert all(c.isprintable() for c in shown), shown
    for rendered in (terminal_text(hostile), csv_cell(hostile), markdown_cell(hostile),
                     markdown_text(hostile), html_cell(hostile), html_text(hostile)):
        assert all(c.isprintable() for c in rendered), rendered
        assert not set(rendered) & set(hostile) - set(shown), rendered


def test_visible_changes_nothing_else() -> None:
    text = "Zoom élève 日本 \\x1b ok"
    assert visible(text) == text
    assert visible("a\u202eb") == "a\\u202eb" and visible("\x1b") == "\\x1b"
    assert visible(None) == ""


def test_terminal_names_are_cut() -> None:
    name = "a" * 500 + ".example"
    shown = terminal_text(name)
    assert len(shown) == TERMINAL_NAME_LIMIT and shown.endswith("...")
    assert terminal_text("short.example") == "short.example"

"""Text safety: vcaudit's own commands become code; everything else, traffic above all, stays
inert text in Markdown, HTML and CSV."""

from __future__ import annotations

import re

import pytest

from auditor.report.render.text_safety import csv_cell, html_text, markdown_cell, markdown_text


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
    assert markdown_cell("a|b\nc") == "a\\|b c"
    assert markdown_cell(None) == ""
    assert markdown_text(None) == "" and html_text(None) == ""


def test_csv_cell_defuses_formulas() -> None:
    assert csv_cell("=1+1") == "'=1+1" and csv_cell("plain") == "plain"

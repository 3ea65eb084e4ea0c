"""The shell of diff.html and summary.html: one self-contained page, nothing loaded from the
network and no script. The Content-Security-Policy allows only the page's own style sheet, by
its hash, so even an injected `<style>` or `style=` attribute would not apply; everything from
a report is escaped anyway. Badges and bars take their colours from classes picked from fixed
tables, never from report text.
"""

from __future__ import annotations

from html import escape

from auditor.records import CATEGORY_ORDER
from auditor.report.render.page.shell import self_contained_page
from auditor.report.render.text_safety import html_cell

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5em auto;
max-width:72em;padding:0 1em;color:#222;background:#fff}
h1{font-size:1.45em}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ccc}
.wide{overflow-x:auto}table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.n{text-align:right;white-space:nowrap}
.host{overflow-wrap:break-word}.muted{color:#666}.change li{margin:.2em 0}
.badge{display:inline-block;padding:0 .4em;border-radius:3px;color:#fff;font-size:.85em;
white-space:nowrap;background:#555}
.ad-tech{background:#b03a2e}.analytics{background:#b9600f}.third-party{background:#7d3c98}
.unknown{background:#5d6d7e}.first-party{background:#21618c}.local{background:#1e8449}
.added{background:#9a5b00}.removed{background:#5d6d7e}.changed{background:#7d3c98}
.unchanged{background:#95a5a6}
svg.bars rect.a{fill:#808b96}svg.bars rect.b{fill:#21618c}
@media (prefers-color-scheme:dark){body{color:#ddd;background:#1b1b1b}th{background:#2a2a2a}
th,td{border-color:#444}.muted{color:#aaa}svg.bars rect.b{fill:#5dade2}}
@media print{body{margin:0;max-width:none}.wide{overflow:visible}
.badge{color:#000;border:1px solid #000;background:none}}
"""
BADGE_CLASSES = frozenset({*(c.value for c in CATEGORY_ORDER), "added", "removed", "changed",
                           "unchanged"})
BAR_WIDTH = 160
BAR_MIN = 2  # pixels: a category with any bytes stays visible next to a large one


def html_page(title: str, body: list[str]) -> str:
    """The whole page: `title` is plain text (escaped here), `body` HTML already escaped."""
    return self_contained_page(title, body, STYLE)


def badge(label: str, kind: str | None = None) -> str:
    """A coloured label; the colour only for a category or change vcaudit knows."""
    kind = kind if kind is not None else label
    css = f"badge {kind}" if kind in BADGE_CLASSES else "badge"
    return f'<span class="{css}">{html_cell(label)}</span>'


def breakable(name: str) -> str:
    """A host name or path for HTML: escaped, and allowed to wrap after its dots and slashes
    only, so a long name never breaks inside a label (nor shrinks its column to do so)."""
    return html_cell(name).replace(".", ".<wbr>").replace("/", "/<wbr>")


def wide_table(header: list[str], rows: list[str]) -> str:
    """A table that scrolls sideways on a narrow screen instead of overflowing the page."""
    cells = "".join(f"<th>{escape(h)}</th>" for h in header)
    return f'<div class="wide"><table><tr>{cells}</tr>{"".join(rows)}</table></div>'


def bar_pair(before: int, after: int, largest: int) -> str:
    """Two bars, A above B, scaled to `largest`; labelled by the table cells beside it."""
    def width(value: int) -> int:
        if value <= 0 or largest <= 0:
            return 0
        return max(BAR_MIN, round(BAR_WIDTH * value / largest))

    return (f'<svg class="bars" width="{BAR_WIDTH}" height="22" role="img" '
            f'aria-label="A {before} bytes, B {after} bytes" '
            'xmlns="http://www.w3.org/2000/svg">'
            f'<rect class="a" x="0" y="1" height="9" width="{width(before)}"/>'
            f'<rect class="b" x="0" y="12" height="9" width="{width(after)}"/></svg>')

"""Bar charts of report.html: bytes by category (and by country for the call), one row per
non-empty group.

Labels are HTML beside (or, on a narrow screen, above) each bar, so they wrap instead of being
clipped; the bars are SVG with widths in percent of their row, so they fit any width without
script. The scale is linear, but a group with any traffic is drawn at least `MIN_SHARE` of the
longest bar wide and its label gives the exact figure, so a 7.9 kB ad-tech category next to
megabytes of video stays visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from auditor.quantities import byte_size
from auditor.records import CATEGORY_ORDER
from auditor.report.render.page.fragments import CATEGORIES, badge
from auditor.report.render.sentences import category_counts
from auditor.report.render.text_safety import html_cell

MIN_SHARE = 0.03  # of the longest bar


@dataclass(frozen=True, slots=True)
class Bar:
    """One row of a chart: its label (HTML), bytes each way and the category colouring it."""

    label: str
    sent: int
    received: int
    category: str | None = None
    note: str = ""  # HTML after the figures, e.g. counts


def category_chart(summary: dict[str, object]) -> str:
    """Bytes each way per category, with endpoint and flow counts; empty categories left out."""
    categories = summary.get("categories")
    if not isinstance(categories, dict):
        return ""
    bars = []
    for category in CATEGORY_ORDER:
        numbers = categories.get(category.value)
        if not isinstance(numbers, dict) or not (numbers.get("endpoints") or numbers.get("flows")):
            continue
        bars.append(Bar(badge(category.value), int(numbers.get("bytes_up") or 0),
                        int(numbers.get("bytes_down") or 0), category.value,
                        escape(category_counts(numbers))))
    return bar_chart(bars, "Bytes by category")


def bar_chart(bars: list[Bar], title: str) -> str:
    """Rows of labelled horizontal bars (sent in full colour, received faded), with a legend
    (worded to hold in light and dark mode)."""
    if not bars:
        return '<p class="muted">No traffic.</p>'
    largest = max(bar.sent + bar.received for bar in bars) or 1
    total = sum(bar.sent + bar.received for bar in bars) or 1
    rows = []
    for bar in bars:
        both = bar.sent + bar.received
        share = f"{both / total:.1%}" if both * 1000 >= total else "<0.1%"
        note = f" · {bar.note}" if bar.note else ""
        category = f' data-category="{bar.category}"' if bar.category in CATEGORIES else ""
        rows.append(
            f'<div class="label"{category}>{bar.label} <span class="nowrap">{byte_size(both)}'
            f"</span> <span class=\"muted small\">({share}; {byte_size(bar.sent)} sent, "
            f"{byte_size(bar.received)} received{note})</span></div>"
            f"{_bar_svg(bar, largest)}")
    legend = ('<div class="legend"><span>full colour: sent by the device</span>'
              "<span>faded: received</span><span>bars shorter than "
              f"{MIN_SHARE:.0%} of the longest are drawn at {MIN_SHARE:.0%}</span></div>")
    return (f'<div class="bars" role="group" aria-label="{html_cell(title)}">'
            f'{"".join(rows)}</div>{legend}')


def _bar_svg(bar: Bar, largest: int) -> str:
    both = bar.sent + bar.received
    width = both / largest if both else 0.0
    if both and width < MIN_SHARE:
        width = MIN_SHARE
    sent = width * bar.sent / both if both else 0.0
    fill = f"f-{bar.category}" if bar.category in CATEGORIES else "f-media"
    return (f'<svg aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">'
            f'<rect class="{fill} recv" x="0" y="1" height="16" width="{width:.2%}"/>'
            f'<rect class="{fill} sent" x="0" y="1" height="16" width="{sent:.2%}"/></svg>')

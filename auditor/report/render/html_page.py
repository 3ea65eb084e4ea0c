"""report.html: the report as one self-contained page with charts.

No network: styles are inline, charts are inline SVG drawn here, and there is no script.
Everything that came from traffic is escaped, so a hostile host name or URL stays text, and
its invisible characters (controls, bidi overrides) are shown as escapes (text_safety).
"""

from __future__ import annotations

from html import escape
from typing import Any

from auditor.quantities import byte_size
from auditor.records import CATEGORY_ORDER
from auditor.report.render.sentences import category_counts, data_lines, traffic_line, verdict_lines
from auditor.report.render.text_safety import html_cell, html_text

CATEGORY_COLOURS = {
    "ad-tech": "#c0392b", "analytics": "#e67e22", "third-party": "#8e44ad",
    "unknown": "#7f8c8d", "first-party": "#2980b9", "local": "#27ae60",
}
STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;width:100%}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
td.n{text-align:right;white-space:nowrap}th{background:#f4f4f4}
.cat{display:inline-block;padding:0 .4em;border-radius:3px;color:#fff;font-size:.85em}
.verdict{font-weight:600}.muted{color:#666}code{font-size:.9em;word-break:break-all}
"""
BAR_WIDTH = 520
MAX_ROWS = 500


def render_html(report: dict[str, Any]) -> str:
    """The whole report.html text."""
    session, summary = report["session"], report["summary"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Nothing on this page may load anything from the network.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">",
        f"<title>vcaudit report {html_cell(session['id'])}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>vcaudit report {html_cell(session['id'])}</h1>",
        _session_block(session, summary),
        "<h2>Verdict</h2><ul>",
        *[f'<li class="verdict">{html_text(line)}</li>' for line in verdict_lines(report)],
        "</ul>",
        "<h2>Traffic by category</h2>",
        _category_chart(summary),
        _personal_data(report),
        "<h2>Endpoints</h2>",
        _endpoint_table(report["endpoints"]),
        "<h2>Coverage: what could not be seen</h2><ul>",
        *[f"<li>{html_text(note)}</li>" for note in report["coverage"].get("notes", [])],
        "</ul>",
        f'<p class="muted">Made by {escape(report["generator"]["name"])} '
        f'{escape(report["generator"]["version"])}.</p>',
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _badge(category: str) -> str:
    colour = CATEGORY_COLOURS.get(category, "#555")
    return f'<span class="cat" style="background:{colour}">{escape(category)}</span>'


def _session_block(session: dict[str, Any], summary: dict[str, Any]) -> str:
    app = session["app"] or "not detected"
    return (
        "<table>"
        f"<tr><th>Source</th><td>{html_cell(session['source'])}: "
        f"{html_cell(', '.join(session['inputs']))}</td></tr>"
        f"<tr><th>Audited app</th><td>{html_cell(app)} "
        f"<span class=\"muted\">({html_text(session['app_detection']['detail'])})</span>"
        f"</td></tr><tr><th>Time</th><td>{escape(session['started'] or '?')} to "
        f"{escape(session['ended'] or '?')}</td></tr>"
        f"<tr><th>Traffic</th><td>{escape(traffic_line(summary))}</td></tr></table>"
    )


def _category_chart(summary: dict[str, Any]) -> str:
    """Horizontal bars: bytes each way per category, with endpoint and flow counts."""
    rows = [(name, summary["categories"][name]) for name in CATEGORY_ORDER]
    largest = max((c["bytes_up"] + c["bytes_down"] for _, c in rows), default=0) or 1
    height = 26 * len(rows) + 10
    svg = [f'<svg role="img" aria-label="bytes by category" width="{BAR_WIDTH + 360}" '
           f'height="{height}" xmlns="http://www.w3.org/2000/svg" font-size="12">']
    for row, (name, numbers) in enumerate(rows):
        y = 8 + row * 26
        total = numbers["bytes_up"] + numbers["bytes_down"]
        width = round(BAR_WIDTH * total / largest)
        up = round(BAR_WIDTH * numbers["bytes_up"] / largest)
        colour = CATEGORY_COLOURS.get(name, "#555")
        svg += [
            f'<text x="0" y="{y + 13}">{escape(name)}</text>',
            f'<rect x="100" y="{y}" width="{width}" height="18" fill="{colour}" '
            'fill-opacity="0.45"/>',
            f'<rect x="100" y="{y}" width="{up}" height="18" fill="{colour}"/>',
            f'<text x="{106 + max(width, 0)}" y="{y + 13}">{byte_size(total)} '
            f"({byte_size(numbers['bytes_up'])} sent) · {category_counts(numbers)}</text>",
        ]
    svg.append("</svg>")
    legend = '<p class="muted">Dark: sent by the app; light: received.</p>'
    return "".join(svg) + legend


def _personal_data(report: dict[str, Any]) -> str:
    """The same sentences as report.md's section, then who received what."""
    out = ["<h2>What left the device</h2><ul>",
           *[f'<li class="verdict">{html_text(line)}</li>' for line in data_lines(report)],
           "</ul>"]
    rows = report.get("personal_data", {}).get("who_received_what") or []
    if rows:
        out.append("<table><tr><th>organisation</th><th>category</th><th>hosts</th>"
                   "<th>what it received</th></tr>")
        for row in rows:
            out.append(f"<tr><td>{html_cell(row['entity'])}</td><td>{_badge(row['category'])}</td>"
                       f"<td><code>{html_cell(', '.join(row['hosts']))}</code></td>"
                       f"<td>{html_cell(', '.join(row['kinds']))}</td></tr>")
        out.append("</table>")
    return "".join(out)


def _endpoint_table(endpoints: list[dict[str, Any]]) -> str:
    out = ["<table><tr><th>host</th><th>category</th><th>organisation</th><th>named by</th>"
           "<th>protocols</th><th>flows</th><th>sent</th><th>received</th><th>why</th></tr>"]
    for endpoint in endpoints[:MAX_ROWS]:
        why = "; ".join(e["detail"] for e in endpoint["evidence"][:3])  # may quote traffic
        out.append(
            f"<tr><td><code>{html_cell(endpoint['host'])}</code></td>"
            f"<td>{_badge(endpoint['category'])}</td>"
            f"<td>{html_cell(endpoint['entity'])}</td>"
            f"<td>{html_cell(', '.join(endpoint['host_sources']))}</td>"
            f"<td>{html_cell(', '.join(endpoint['protocols']))}</td>"
            f'<td class="n">{endpoint["flows"]}</td>'
            f'<td class="n">{byte_size(endpoint["bytes_up"] or 0)}</td>'
            f'<td class="n">{byte_size(endpoint["bytes_down"] or 0)}</td>'
            f'<td class="muted">{html_text(why)}</td></tr>')
    if len(endpoints) > MAX_ROWS:
        out.append(f'<tr><td colspan="9" class="muted">{len(endpoints) - MAX_ROWS} more in '
                   "endpoints.csv</td></tr>")
    out.append("</table>")
    return "".join(out)

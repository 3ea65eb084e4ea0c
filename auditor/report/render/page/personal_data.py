"""What left the device, in report.html: the sentences report.md and the terminal say, who
received which kinds of personal data, and the per-field table (receiver, kind, field path,
encoding, value as the report shows it: a short hash unless the user asked for values).
"""

from __future__ import annotations

from typing import Any

from auditor.report.render.page.fragments import badge, host, hosts
from auditor.report.render.sentences import data_lines
from auditor.report.render.text_safety import html_cell, html_text

PINNING = "certificate-pinning"
NOT_DATA = frozenset({PINNING, "p2p-exposure"})


def personal_data_section(report: dict[str, Any]) -> str:
    """The section's HTML (its heading is the page's)."""
    section = report.get("personal_data") or {}
    found = bool(section.get("verdicts"))
    css = ' class="strong"' if found else ""
    parts = ['<div class="verdict"><ul>',
             *[f"<li{css}>{html_text(line)}</li>" for line in data_lines(report)],
             "</ul></div>"]
    received = section.get("who_received_what") or []
    if received:
        rows = "".join(
            f'<tr data-category="{html_cell(r.get("category"))}">'
            f'<td class="lead" data-label="organisation">{html_cell(r.get("entity"))}</td>'
            f'<td data-label="category">{badge(r.get("category"))}</td>'
            f'<td class="wide" data-label="hosts">{hosts(r.get("hosts") or [])}</td>'
            f'<td class="wide" data-label="what it received">'
            f'{html_cell(", ".join(r.get("kinds") or []))}'
            "</td></tr>" for r in received)
        parts.append('<h3>Who received what</h3><div class="wrap"><table class="cards">'
                     "<thead><tr><th>organisation</th><th>category</th>"
                     '<th class="hostcol">hosts</th>'
                     f"<th>what it received</th></tr></thead><tbody>{rows}</tbody></table></div>")
    details = [f for f in report.get("findings") or []
               if f.get("places") and f.get("kind") not in NOT_DATA]
    if details:
        parts.append("<h3>Field by field</h3>" + _field_table(details, bool(
            section.get("values_shown"))))
    return "".join(parts)


def _field_table(findings: list[dict[str, Any]], values_shown: bool) -> str:
    values = "value" if values_shown else "value (redacted: a short hash)"
    rows = []
    for finding in findings:
        places = finding.get("places") or []
        paths = "".join(
            f"<li><code>{html_cell(p.get('path') or '')}</code> "
            f'<span class="muted small">in the {html_cell(p.get("location") or "?")}</span></li>'
            for p in places)
        encodings = sorted({str(p.get("encoding")) for p in places if p.get("encoding")})
        shown = "".join(f"<li><code>{html_cell(v)}</code></li>"
                        for v in (finding.get("values") or [])[:5])
        entity = finding.get("entity")
        receiver = host(finding.get("host")) + (
            f'<div class="small">{html_cell(entity)}</div>' if entity else "")
        rows.append(
            f'<tr data-category="{html_cell(finding.get("category"))}">'
            f'<td class="lead" data-label="receiver">{receiver}</td>'
            f'<td data-label="category">{badge(finding.get("category"))}</td>'
            f'<td data-label="data">{html_cell(finding.get("label") or finding.get("kind"))}</td>'
            f'<td class="wide" data-label="field path"><ul class="plain">{paths}</ul></td>'
            f'<td data-label="encoding">{html_cell(", ".join(encodings)) or "?"}</td>'
            f'<td class="wide" data-label="{values}"><ul class="plain">{shown}</ul></td>'
            f'<td class="n" data-label="flows">{len(finding.get("flow_ids") or [])}</td></tr>')
    return ('<div class="wrap"><table class="cards" id="fields-table"><thead><tr>'
            "<th class=\"hostcol\">receiver</th><th>category</th><th>data</th><th>field path</th>"
            f'<th>encoding</th><th>{values}</th><th class="n">flows</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')

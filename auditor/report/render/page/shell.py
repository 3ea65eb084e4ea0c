"""The shell of report.html: head, Content-Security-Policy and the one style sheet and script.

The policy allows nothing from anywhere (`default-src 'none'`) except the page's own style
sheet and script, each by its SHA-256 hash: an injected `<script>`, `<style>`, style attribute
or event handler would not run even if escaping ever failed. The script only adds sorting and
filtering; the page is complete without it.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from auditor.report.render.page.script import SCRIPT
from auditor.report.render.page.style import STYLE


def source_hash(text: str) -> str:
    """The CSP hash source of an inline element's text (`'sha256-...'`)."""
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def self_contained_page(title: str, body: list[str], style: str,
                        script: str | None = None) -> str:
    """A whole page with its style sheet (and script) inline, allowed by their hashes alone:
    `title` is plain text (escaped here), `body` HTML already escaped. report.html, diff.html
    and summary.html are such pages."""
    scripts = f" script-src {source_hash(script)};" if script is not None else ""
    policy = (f"default-src 'none'; style-src {source_hash(style)};{scripts} img-src data:; "
              "base-uri 'none'; form-action 'none'")
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="color-scheme" content="light dark">',
        f"<title>{escape(title)}</title>",
        f"<style>{style}</style></head><body>",
    ]
    tail = [f"<script>{script}</script>"] if script is not None else []
    return "\n".join([*head, *body, *tail, "</body></html>"]) + "\n"


def html_document(title: str, body: list[str]) -> str:
    """report.html: `title` is plain text (escaped here), `body` HTML already escaped."""
    return self_contained_page(title, body, STYLE, SCRIPT)

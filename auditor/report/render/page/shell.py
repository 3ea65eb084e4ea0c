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


CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src {source_hash(STYLE)}; script-src {source_hash(SCRIPT)}; "
    "img-src data:; base-uri 'none'; form-action 'none'")


def html_document(title: str, body: list[str]) -> str:
    """The whole page: `title` is plain text (escaped here), `body` HTML already escaped."""
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="color-scheme" content="light dark">',
        f"<title>{escape(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
    ]
    return "\n".join([*head, *body, f"<script>{SCRIPT}</script>", "</body></html>"]) + "\n"

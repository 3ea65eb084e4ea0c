"""The one-line verdicts shared by report.md and the terminal summary."""

from __future__ import annotations

from typing import Any


def verdict_lines(report: dict[str, Any]) -> list[str]:
    """One line per tracking category: which organisations were contacted, at which hosts."""
    lines = []
    for category in ("ad-tech", "analytics"):
        by_entity: dict[str, list[str]] = {}
        for endpoint in report["endpoints"]:
            if endpoint["category"] == category:
                by_entity.setdefault(endpoint["entity"] or "?", []).append(endpoint["host"])
        if by_entity:
            named = "; ".join(f"{entity} ({', '.join(hosts)})"
                              for entity, hosts in by_entity.items())
            lines.append(f"{category}: {named}")
    if not lines:
        lines.append("no analytics or ad-tech endpoint was contacted")
    unknown = report["summary"]["categories"]["unknown"]["endpoints"]
    if unknown:
        noun = "endpoint" if unknown == 1 else "endpoints"
        lines.append(f"unknown: {unknown} {noun} nothing is known about")
    return lines

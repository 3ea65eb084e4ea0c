"""Which conferencing app a session audits: named by the user, or detected from the traffic.

Detection counts flows to hosts and address ranges the catalog marks as specific to one app
(`app = "zoom"` on a rule) and picks the app with the most flows, then the most bytes. The
result always says how it was decided, so the report can state it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from auditor.classify.catalog import Catalog
from auditor.classify.rules import Entity
from auditor.errors import UsageError
from auditor.quantities import byte_size, counted
from auditor.records import Flow


class UnknownAppError(UsageError):
    """The user named an app the catalog does not know."""


@dataclass(frozen=True, slots=True)
class AppChoice:
    """The audited app, its vendor, and how vcaudit knows."""

    app: str | None
    entity: Entity | None
    how: str  # "option" | "detected" | "none"
    detail: str

    @property
    def entity_id(self) -> str | None:
        """The vendor's entity id, or None when no app is known."""
        return self.entity.id if self.entity else None


def choose_app(catalog: Catalog, flows: Iterable[Flow], requested: str | None) -> AppChoice:
    """The app named with --app (validated), else the one the traffic points to."""
    if requested:
        name = requested.strip().lower()
        entity = catalog.app_entity(name)
        if entity is None:
            known = ", ".join(sorted(catalog.apps()))
            raise UnknownAppError(f"unknown app {requested!r}; known apps: {known}")
        return AppChoice(name, entity, "option", f"named with --app {name}")
    return detect_app(catalog, flows)


def detect_app(catalog: Catalog, flows: Iterable[Flow]) -> AppChoice:
    """Detect the audited app from flows to app-specific hosts and ranges."""
    scores: dict[str, list[int]] = {}
    apps: dict[tuple[str | None, str | None], str | None] = {}  # by (host, server address)
    for flow in flows:
        endpoint = (flow.host, flow.server_ip)
        if endpoint in apps:
            app = apps[endpoint]
        else:
            app = apps[endpoint] = _app_of(catalog, flow)
        if app is not None:
            score = scores.setdefault(app, [0, 0])
            score[0] += 1
            score[1] += (flow.bytes_up or 0) + (flow.bytes_down or 0)
    if not scores:
        return AppChoice(None, None, "none",
                         "no traffic to hosts specific to a known conferencing app; "
                         "vendors' services count as third-party (use `--app` to name it)")
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    app, (count, volume) = ranked[0]
    detail = (f"detected from {counted(count, 'flow')} ({byte_size(volume)}) to hosts specific "
              f"to {app}")
    if len(ranked) > 1:
        others = ", ".join(f"{a}: {counted(s[0], 'flow')}" for a, s in ranked[1:4])
        detail += f" (also seen: {others})"
    return AppChoice(app, catalog.app_entity(app), "detected", detail)


def _app_of(catalog: Catalog, flow: Flow) -> str | None:
    if flow.host:
        match = catalog.match_host(flow.host)
        if match is not None:
            return match.rule.app
    network = catalog.match_address(flow.server_ip) if flow.server_ip else None
    return network.rule.app if network is not None else None

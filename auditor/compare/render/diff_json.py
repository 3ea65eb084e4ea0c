"""diff.json: a diff as one JSON document (schema `vcaudit.diff/1`), for pipelines and tools.

Keys (never renamed; more may be added):

    schema, generator: {name, version}
    before, after: {id, app, app_vendor, source, inputs, started, ended, report_version,
                    folder, traffic: {endpoints, flows, bytes_up, bytes_down}, readable_flows,
                    pinned}
    identical            no organisation, endpoint, category, data or pinning differs
    changes              the sentences of the diff (as in the terminal, diff.md, diff.html)
    notes                what to keep in mind reading it (other app, source, version, ...)
    organisations        every organisation: name, known, change, categories_before/_after,
                         first_party_before/_after, hosts_before/_after/_added/_removed,
                         kinds_before/_after/_added/_removed/_newly_outside (labels),
                         traffic_before/_after (null where not contacted), sentence
    endpoints            those that differ: host, change, before, after ({entity, category,
                         first_party, flows, bytes_up, bytes_down} or null)
    categories           {category: {before: traffic, after: traffic}}
    pinning              {before, after, added, removed}: hosts
    fail_on              {conditions, matched}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor import __version__
from auditor.compare.diff import Change, EndpointChange, OrganisationChange, ReportDiff
from auditor.compare.organisations import Organisation
from auditor.compare.view import EndpointView, SessionView, Traffic
from auditor.compare.wording import change_lines, note_lines, organisation_line

DIFF_SCHEMA = "vcaudit.diff/1"


@dataclass(frozen=True, slots=True)
class DiffContext:
    """What the files say besides the diff: where the two sessions are, and the --fail-on
    conditions asked for and those that held."""

    before_folder: str | None = None
    after_folder: str | None = None
    # The session folders analysed inside the diff's own folder, relative to it ("before"),
    # which diff.md and diff.html link to.
    before_link: str | None = None
    after_link: str | None = None
    conditions: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)


def diff_document(diff: ReportDiff, context: DiffContext | None = None) -> dict[str, Any]:
    """diff.json's content."""
    context = context or DiffContext()
    return {
        "schema": DIFF_SCHEMA,
        "generator": {"name": "vcaudit", "version": __version__},
        "before": _session(diff.before, context.before_folder),
        "after": _session(diff.after, context.after_folder),
        "identical": diff.identical,
        "changes": change_lines(diff) if not diff.identical else [],
        "notes": note_lines(diff),
        "organisations": [_organisation(change) for change in diff.organisations],
        "endpoints": [_endpoint_change(change) for change in diff.endpoints],
        "categories": {c.category: {"before": _traffic(c.before), "after": _traffic(c.after)}
                       for c in diff.categories},
        "pinning": {"before": list(diff.before.pinned), "after": list(diff.after.pinned),
                    "added": list(diff.pinned_added), "removed": list(diff.pinned_removed)},
        "fail_on": {"conditions": list(context.conditions), "matched": list(context.matched)},
    }


def _session(session: SessionView, folder: str | None) -> dict[str, Any]:
    return {
        "id": session.id, "app": session.app, "app_vendor": session.app_vendor,
        "source": session.source, "inputs": list(session.inputs), "started": session.started,
        "ended": session.ended, "report_version": session.version, "folder": folder,
        "traffic": _traffic(session.totals), "readable_flows": session.readable_flows,
        "pinned": list(session.pinned),
    }


def _organisation(change: OrganisationChange) -> dict[str, Any]:
    before, after = change.before, change.after
    return {
        "name": change.name, "known": change.known, "change": change.change.value,
        "categories_before": _field(before, "categories"),
        "categories_after": _field(after, "categories"),
        "first_party_before": before.first_party if before else None,
        "first_party_after": after.first_party if after else None,
        "hosts_before": _field(before, "hosts"), "hosts_after": _field(after, "hosts"),
        "hosts_added": list(change.hosts_added), "hosts_removed": list(change.hosts_removed),
        "kinds_before": _field(before, "labels"), "kinds_after": _field(after, "labels"),
        "kinds_added": list(change.kinds_added), "kinds_removed": list(change.kinds_removed),
        "kinds_newly_outside": list(change.kinds_newly_outside),
        "traffic_before": _traffic(before.traffic) if before else None,
        "traffic_after": _traffic(after.traffic) if after else None,
        "sentence": organisation_line(change) if change.change is not Change.UNCHANGED else None,
    }


def _field(organisation: Organisation | None, name: str) -> list[str]:
    return list(getattr(organisation, name)) if organisation is not None else []


def _endpoint_change(change: EndpointChange) -> dict[str, Any]:
    return {"host": change.host, "change": change.change.value,
            "before": _endpoint(change.before), "after": _endpoint(change.after)}


def _endpoint(endpoint: EndpointView | None) -> dict[str, Any] | None:
    if endpoint is None:
        return None
    return {"entity": endpoint.entity, "category": endpoint.category,
            "first_party": endpoint.first_party, "flows": endpoint.traffic.flows,
            "bytes_up": endpoint.traffic.bytes_up, "bytes_down": endpoint.traffic.bytes_down}


def _traffic(traffic: Traffic) -> dict[str, int]:
    return {"endpoints": traffic.endpoints, "flows": traffic.flows,
            "bytes_up": traffic.bytes_up, "bytes_down": traffic.bytes_down}

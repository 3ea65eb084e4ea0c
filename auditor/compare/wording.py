"""The sentences of a diff, written once so that the terminal, diff.md, diff.html and diff.json
say the same thing in the same words, e.g.

    Meta (graph.facebook.com, ad-tech): no longer contacted; advertising ID, device model,
    time zone, carrier no longer sent

The names in them come from traffic: callers that print to a terminal pass `name` to make each
one fit (terminal_text); Markdown and HTML escape the whole sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from auditor.compare.diff import Change, EndpointChange, OrganisationChange, ReportDiff
from auditor.compare.view import EndpointView, SessionView, Traffic
from auditor.quantities import byte_size, counted

Namer = Callable[[str], str]
HOSTS_NAMED = 3  # hosts named per organisation; the rest are counted
NO_DIFFERENCES = ("no differences in organisations, endpoints, categories, personal data or "
                  "pinning")
CHANGE_WORDS = {Change.ADDED: "newly contacted", Change.REMOVED: "no longer contacted",
                Change.CHANGED: "changed", Change.UNCHANGED: "unchanged"}
SOURCES = {"pcap": "packet capture", "proxy": "live proxy session", "har": "HAR file",
           "mitm": "mitmproxy flow file"}


def _plain(text: str) -> str:
    return text


def change_lines(diff: ReportDiff, name: Namer = _plain) -> list[str]:
    """What differs, one sentence each: organisations, endpoints that changed category or
    owner, pinning; or that nothing does."""
    lines = [organisation_line(change, name) for change in diff.changed_organisations]
    lines += [endpoint_line(change, name) for change in diff.endpoints
              if change.change is Change.CHANGED]
    if diff.pinned_added:
        lines.append("pinning: the client newly refused the proxy's certificate for "
                     f"{_hosts(diff.pinned_added, name, len(diff.pinned_added))}")
    if diff.pinned_removed:
        lines.append("pinning: the client no longer refused the proxy's certificate for "
                     f"{_hosts(diff.pinned_removed, name, len(diff.pinned_removed))}")
    return lines or [NO_DIFFERENCES]


def organisation_line(change: OrganisationChange, name: Namer = _plain) -> str:
    """`Meta (graph.facebook.com, ad-tech): no longer contacted; advertising ID, ...
    no longer sent`."""
    shown = change.latest
    categories = _and(shown.categories, name)
    who = f"{name(change.name)} ({_hosts(shown.hosts, name)}, {categories})"
    if not change.known:  # the name is the host itself
        who = f"{name(change.name)} ({categories})"
    labels = _list(shown.labels, name)
    if change.change is Change.REMOVED:
        parts = ["no longer contacted"] + ([f"{labels} no longer sent"] if labels else [])
    elif change.change is Change.ADDED:
        parts = ["newly contacted"] + ([f"{labels} newly sent"] if labels else [])
    elif change.change is Change.UNCHANGED:
        parts = ["unchanged"]
    else:
        parts = _changed_parts(change, name)
    return f"{who}: {'; '.join(parts)}"


def _changed_parts(change: OrganisationChange, name: Namer) -> list[str]:
    parts = []
    if change.categories_added or change.categories_removed:
        before = change.before.categories if change.before else ()
        parts.append(f"was {_and(before, name)}")
    if change.hosts_added:
        parts.append(f"newly contacts {_hosts(change.hosts_added, name)}")
    if change.hosts_removed:
        parts.append(f"no longer contacts {_hosts(change.hosts_removed, name)}")
    if change.kinds_added:
        parts.append(f"{_list(change.kinds_added, name)} newly sent")
    if change.kinds_removed:
        parts.append(f"{_list(change.kinds_removed, name)} no longer sent")
    outside = [k for k in change.kinds_newly_outside if k not in change.kinds_added]
    if outside:
        parts.append(f"{_list(outside, name)} now sent outside the first party")
    return parts


def endpoint_line(change: EndpointChange, name: Namer = _plain) -> str:
    """`log.zoom.us: now analytics (Zoom), was first-party (Zoom)`, or an endpoint added or
    removed."""
    if change.after is not None and change.before is not None:
        return (f"{name(change.host)}: now {_endpoint(change.after, name)}, was "
                f"{_endpoint(change.before, name)}")
    shown = change.after or change.before
    assert shown is not None  # one side always has it
    what = "newly contacted" if change.change is Change.ADDED else "no longer contacted"
    return f"{name(change.host)} ({_endpoint(shown, name)}): {what}"


def session_line(label: str, session: SessionView, name: Namer = _plain) -> str:
    """`A: zoom-desktop-call-20261102T140000Z, zoom, packet capture: 43 flows to 21
    endpoints, sent 335.1 kB, received 567.7 kB`."""
    return f"{label}: {session_text(session, name)}"


def session_text(session: SessionView, name: Namer = _plain) -> str:
    """A session in one line: its id, app, kind of source and traffic."""
    app = name(session.app) if session.app else "app not detected"
    source = SOURCES.get(session.source or "", name(session.source or "unknown source"))
    return (f"{name(session.id or 'session without id')}, {app}, {source}: "
            f"{traffic_text(session.totals)}")


def traffic_text(traffic: Traffic) -> str:
    """`43 flows to 21 endpoints, sent 335.1 kB, received 567.7 kB`."""
    return (f"{counted(traffic.flows, 'flow')} to {counted(traffic.endpoints, 'endpoint')}, "
            f"sent {byte_size(traffic.bytes_up)}, received {byte_size(traffic.bytes_down)}")


def flow_count(traffic: Traffic | None) -> str:
    """A table cell: the flows of one side, or "-" where it did not contact the host."""
    return str(traffic.flows) if traffic is not None else "-"


def byte_total(traffic: Traffic | None) -> str:
    """A table cell: bytes both ways of one side, or "-" where it did not contact the host."""
    return byte_size(traffic.bytes_up + traffic.bytes_down) if traffic is not None else "-"


def category_line(category: str, before: Traffic, after: Traffic, name: Namer = _plain) -> str:
    """`ad-tech: 7.9 kB -> 0 B, 1 -> 0 endpoints`."""
    return (f"{name(category)}: {byte_size(before.bytes_up + before.bytes_down)} -> "
            f"{byte_size(after.bytes_up + after.bytes_down)}, {before.endpoints} -> "
            f"{counted(after.endpoints, 'endpoint')}")


def note_lines(diff: ReportDiff, name: Namer = _plain) -> list[str]:
    """What to keep in mind when reading the diff: different apps, sources or vcaudit
    versions, and content that could not be searched for personal data."""
    a, b = diff.before, diff.after
    notes = []
    if a.app and b.app and a.app != b.app:
        notes.append(f"A's audited app is {name(a.app)}, B's is {name(b.app)}: each has its own "
                     "first party, so first-party organisations differ as expected")
    for label, session in (("A", a), ("B", b)):
        if not session.app:
            notes.append(f"{label}'s audited app was not detected: nothing in it is first-party")
    if a.source and b.source and a.source != b.source:
        notes.append(
            f"A is a {SOURCES.get(a.source, name(a.source))}, B a "
            f"{SOURCES.get(b.source, name(b.source))}: they see different things (a capture "
            "sees every flow but not inside encryption; a proxy, flow file or HAR file sees "
            "inside HTTPS)")
    if a.version and b.version and a.version != b.version:
        notes.append(f"the reports were written by vcaudit {name(a.version)} and "
                     f"{name(b.version)}: a category change may come from the catalog, not "
                     "the app")
    still = [c for c in diff.organisations if c.change is Change.CHANGED]
    if any(c.kinds_removed for c in still) and _unreadable(b):
        notes.append(f"B's content could be read in {_readable(b)}: data no longer seen may "
                     "still be sent inside the rest")
    if any(c.kinds_added for c in still) and _unreadable(a):
        notes.append(f"A's content could be read in {_readable(a)}: data newly seen may have "
                     "been sent before inside the rest")
    return notes


def _unreadable(session: SessionView) -> bool:
    return session.readable_flows is not None and session.readable_flows < session.totals.flows


def _readable(session: SessionView) -> str:
    return f"{session.readable_flows} of {counted(session.totals.flows, 'flow')}"


def _endpoint(endpoint: EndpointView, name: Namer) -> str:
    owner = name(endpoint.entity) if endpoint.entity else "no known organisation"
    vendor = ", the app's vendor" if endpoint.first_party else ""
    return f"{name(endpoint.category)} ({owner}{vendor})"


def _hosts(hosts: Iterable[str], name: Namer, limit: int = HOSTS_NAMED) -> str:
    """`a, b, c and 4 more`."""
    items = list(hosts)
    shown = ", ".join(name(h) for h in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _list(items: Iterable[str], name: Namer) -> str:
    return ", ".join(name(item) for item in items)


def _and(items: Iterable[str], name: Namer) -> str:
    """`first-party`, `analytics and first-party`, `a, b and c`."""
    shown = [name(item) for item in items] or ["no category"]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"

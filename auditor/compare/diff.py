"""Two sessions compared: `diff_reports(before, after)` over two report.json documents.

What changed between them, the way someone gating an app update asks: which organisations and
endpoints were contacted only before or only after, which changed category, which kinds of
personal data each organisation received before and after, bytes by category, and which hosts
started or stopped refusing the proxy's certificate (pinning). Byte and flow counts differ
between any two runs of the same call, so they are shown but are not "differences".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from auditor.compare.organisations import Organisation, OrganisationKey, organisations
from auditor.compare.view import (
    EndpointView,
    SessionView,
    Traffic,
    category_rank,
    kind_rank,
    read_view,
)


class Change(StrEnum):
    """How an organisation or endpoint differs between the two sessions."""

    ADDED = "added"  # contacted only in the later session
    REMOVED = "removed"  # contacted only in the earlier session
    CHANGED = "changed"  # in both, with other hosts, categories or data
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class OrganisationChange:
    """One organisation in the two sessions."""

    name: str
    known: bool
    change: Change
    before: Organisation | None
    after: Organisation | None
    hosts_added: tuple[str, ...]
    hosts_removed: tuple[str, ...]
    categories_added: tuple[str, ...]
    categories_removed: tuple[str, ...]
    kinds_added: tuple[str, ...]  # labels, in the reports' order
    kinds_removed: tuple[str, ...]
    kinds_newly_outside: tuple[str, ...]  # labels now received outside the first party only

    @property
    def latest(self) -> Organisation:
        """The organisation as the later session shows it, else as the earlier one did."""
        shown = self.after or self.before
        assert shown is not None  # one side always has it
        return shown


@dataclass(frozen=True, slots=True)
class EndpointChange:
    """An endpoint contacted in only one session, or classified differently in the two."""

    host: str
    change: Change
    before: EndpointView | None
    after: EndpointView | None


@dataclass(frozen=True, slots=True)
class CategoryChange:
    """One category's traffic in the two sessions."""

    category: str
    before: Traffic
    after: Traffic


@dataclass(frozen=True, slots=True)
class ReportDiff:
    """Everything that differs between two sessions (and their traffic side by side)."""

    before: SessionView
    after: SessionView
    organisations: tuple[OrganisationChange, ...]  # every organisation, unchanged ones too
    endpoints: tuple[EndpointChange, ...]  # only those that differ
    categories: tuple[CategoryChange, ...]
    pinned_added: tuple[str, ...]
    pinned_removed: tuple[str, ...]

    @property
    def changed_organisations(self) -> tuple[OrganisationChange, ...]:
        """The organisations that differ, in the order to read them."""
        return tuple(o for o in self.organisations if o.change is not Change.UNCHANGED)

    @property
    def identical(self) -> bool:
        """No organisation, endpoint, category, personal data or pinning differs."""
        return not (self.changed_organisations or self.endpoints or self.pinned_added
                    or self.pinned_removed)


def diff_reports(before: object, after: object) -> ReportDiff:
    """The differences between two report.json documents (`before` is A, `after` is B).
    Raises NotAReportError when either is not a vcaudit report."""
    return diff_views(read_view(before), read_view(after))


def diff_views(before: SessionView, after: SessionView) -> ReportDiff:
    """The differences between two sessions already read."""
    earlier = {o.key: o for o in organisations(before)}
    later = {o.key: o for o in organisations(after)}
    changes = [_organisation_change(key, earlier.get(key), later.get(key))
               for key in dict.fromkeys([*later, *earlier])]
    changes.sort(key=_reading_order)
    names = sorted(set(before.categories) | set(after.categories),
                   key=lambda c: (category_rank(c), c))
    return ReportDiff(
        before=before, after=after, organisations=tuple(changes),
        endpoints=_endpoint_changes(before.endpoints, after.endpoints),
        categories=tuple(CategoryChange(c, before.categories.get(c, Traffic()),
                                        after.categories.get(c, Traffic())) for c in names),
        pinned_added=tuple(h for h in after.pinned if h not in before.pinned),
        pinned_removed=tuple(h for h in before.pinned if h not in after.pinned))


def _organisation_change(key: OrganisationKey, before: Organisation | None,
                         after: Organisation | None) -> OrganisationChange:
    known, name = key
    old_hosts, new_hosts = (before.hosts if before else ()), (after.hosts if after else ())
    old_categories = before.categories if before else ()
    new_categories = after.categories if after else ()
    old_kinds, new_kinds = (before.kinds if before else {}), (after.kinds if after else {})
    old_outside = before.kinds_outside if before else {}
    kinds_added = _ordered({k: v for k, v in new_kinds.items() if k not in old_kinds})
    kinds_removed = _ordered({k: v for k, v in old_kinds.items() if k not in new_kinds})
    newly_outside = _ordered({k: v for k, v in (after.kinds_outside if after else {}).items()
                              if k not in old_outside})
    hosts_added = tuple(h for h in new_hosts if h not in old_hosts)
    hosts_removed = tuple(h for h in old_hosts if h not in new_hosts)
    categories_added = tuple(c for c in new_categories if c not in old_categories)
    categories_removed = tuple(c for c in old_categories if c not in new_categories)
    if before is None:
        change = Change.ADDED
    elif after is None:
        change = Change.REMOVED
    elif (hosts_added or hosts_removed or categories_added or categories_removed
          or kinds_added or kinds_removed or newly_outside):
        change = Change.CHANGED
    else:
        change = Change.UNCHANGED
    return OrganisationChange(name, known, change, before, after, hosts_added, hosts_removed,
                              categories_added, categories_removed, kinds_added, kinds_removed,
                              newly_outside)


def _ordered(kinds: dict[str, str]) -> tuple[str, ...]:
    """The labels of some kinds of data, in the reports' order."""
    return tuple(dict.fromkeys(kinds[k] for k in sorted(kinds, key=lambda k: (kind_rank(k), k))))


def _reading_order(change: OrganisationChange) -> tuple[int, int, str, str]:
    """Changes before the unchanged; within them, ad-tech first and local last."""
    rank = {Change.ADDED: 0, Change.REMOVED: 0, Change.CHANGED: 0, Change.UNCHANGED: 1}
    return (rank[change.change], category_rank(change.latest.categories[0]),
            change.name.lower(), change.name)


def _endpoint_changes(before: tuple[EndpointView, ...],
                      after: tuple[EndpointView, ...]) -> tuple[EndpointChange, ...]:
    earlier = {e.host: e for e in before}
    later = {e.host: e for e in after}
    changes = []
    for host in dict.fromkeys([*later, *earlier]):
        old, new = earlier.get(host), later.get(host)
        if old is None:
            changes.append(EndpointChange(host, Change.ADDED, None, new))
        elif new is None:
            changes.append(EndpointChange(host, Change.REMOVED, old, None))
        elif _classified_differently(old, new):
            changes.append(EndpointChange(host, Change.CHANGED, old, new))
    return tuple(sorted(changes, key=_endpoint_order))


def _classified_differently(old: EndpointView, new: EndpointView) -> bool:
    """Another category or organisation, or another first-party flag where both reports
    give one (older reports may not)."""
    flags = (old.first_party, new.first_party)
    return ((old.category, old.entity) != (new.category, new.entity)
            or (None not in flags and flags[0] != flags[1]))


def _endpoint_order(change: EndpointChange) -> tuple[int, str, str]:
    shown = change.after or change.before
    assert shown is not None  # one side always has it
    return (category_rank(shown.category), change.change.value, change.host)

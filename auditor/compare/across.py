"""Many sessions at once: `summarise_sessions(documents)` over report.json documents gives one
table per audited app, one row per organisation and category: how many of the app's sessions
contacted it, its hosts, flows and bytes over all of them, and the kinds of personal data it
received. A pure function, so `vcaudit summary` and `vcaudit batch` share it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from auditor.compare.organisations import Organisation, OrganisationKey, organisations
from auditor.compare.view import SessionView, Traffic, category_rank, kind_rank, read_view


@dataclass(frozen=True, slots=True)
class SessionEntry:
    """One session of the table."""

    id: str | None
    app: str | None
    source: str | None
    started: str | None
    totals: Traffic
    folder: str | None  # where its report is, as the caller named it


@dataclass(frozen=True, slots=True)
class OrganisationRow:
    """One organisation, in one category, over the sessions of one app."""

    app: str | None
    organisation: str
    known: bool  # False: no organisation is known, `organisation` is the host
    category: str
    first_party: bool
    sessions: int  # sessions of the app that contacted it
    app_sessions: int  # sessions of the app
    hosts: tuple[str, ...]  # every host of it seen in any of them, first seen first
    flows: int
    bytes_up: int
    bytes_down: int
    kinds: tuple[str, ...]  # kinds of personal data it received in any of them (labels)
    sessions_with_data: int  # sessions in which it received some


@dataclass(frozen=True, slots=True)
class AppTable:
    """The sessions of one audited app and their organisations."""

    app: str | None  # None: the app was not detected
    sessions: tuple[SessionEntry, ...]
    rows: tuple[OrganisationRow, ...]


@dataclass(frozen=True, slots=True)
class SessionsTable:
    """The whole summary: one table per app."""

    apps: tuple[AppTable, ...]

    @property
    def sessions(self) -> int:
        """How many sessions it covers."""
        return sum(len(app.sessions) for app in self.apps)

    @property
    def rows(self) -> tuple[OrganisationRow, ...]:
        """Every row, app by app."""
        return tuple(row for app in self.apps for row in app.rows)


def summarise_sessions(documents: Sequence[object],
                       folders: Sequence[str | None] | None = None) -> SessionsTable:
    """The table over report.json documents, or sessions already read from them
    (`folders`: where each came from, shown beside its session). Raises NotAReportError when
    a document is not a vcaudit report."""
    names = list(folders) if folders is not None else [None] * len(documents)
    if len(names) != len(documents):
        raise ValueError("give one folder name per document, or none")
    by_app: dict[str | None, list[tuple[SessionView, str | None]]] = {}
    for document, folder in zip(documents, names, strict=True):
        view = document if isinstance(document, SessionView) else read_view(document)
        by_app.setdefault(view.app, []).append((view, folder))
    ordered = sorted(by_app, key=lambda app: (app is None, app or ""))
    return SessionsTable(tuple(_app_table(app, by_app[app]) for app in ordered))


def _app_table(app: str | None, sessions: list[tuple[SessionView, str | None]]) -> AppTable:
    sessions.sort(key=lambda s: (s[0].started or "", s[0].id or "", s[1] or ""))
    groups: dict[tuple[OrganisationKey, str], list[Organisation]] = {}
    for view, _ in sessions:
        for organisation in organisations(view, by_category=True):
            groups.setdefault((organisation.key, organisation.categories[0]), []).append(
                organisation)
    rows = [_row(app, key, seen, len(sessions)) for key, seen in groups.items()]
    rows.sort(key=lambda r: (category_rank(r.category), -r.sessions,
                             -(r.bytes_up + r.bytes_down), r.organisation.lower(),
                             r.organisation))
    entries = tuple(SessionEntry(view.id, view.app, view.source, view.started, view.totals,
                                 folder) for view, folder in sessions)
    return AppTable(app, entries, tuple(rows))


def _row(app: str | None, key: tuple[OrganisationKey, str], seen: list[Organisation],
         app_sessions: int) -> OrganisationRow:
    (known, name), category = key
    received = [o for o in seen if o.received]
    return OrganisationRow(
        app=app, organisation=name, known=known, category=category,
        first_party=any(o.first_party for o in seen),
        sessions=sum(1 for o in seen if o.traffic.endpoints), app_sessions=app_sessions,
        hosts=tuple(dict.fromkeys(h for o in seen for h in o.hosts)),
        flows=sum(o.traffic.flows for o in seen),
        bytes_up=sum(o.traffic.bytes_up for o in seen),
        bytes_down=sum(o.traffic.bytes_down for o in seen),
        kinds=_labels(received), sessions_with_data=len(received))


def _labels(seen: list[Organisation]) -> tuple[str, ...]:
    """The kinds of data received in any session, in the reports' order."""
    kinds = {item.kind: item.label for organisation in seen for item in organisation.received}
    return tuple(dict.fromkeys(kinds[k] for k in sorted(kinds, key=lambda k: (kind_rank(k), k))))

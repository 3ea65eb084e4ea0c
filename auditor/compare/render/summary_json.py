"""summary.json: the summary over many sessions as one JSON document (schema
`vcaudit.summary/1`).

Keys (never renamed; more may be added):

    schema, generator: {name, version}, sessions (how many)
    apps: [{app, sessions: [{id, app, source, started, folder,
                             traffic: {endpoints, flows, bytes_up, bytes_down}}],
            organisations: [{organisation, known, category, first_party, sessions,
                             app_sessions, hosts, flows, bytes_up, bytes_down, kinds,
                             sessions_with_data}]}]
"""

from __future__ import annotations

from typing import Any

from auditor import __version__
from auditor.compare.across import OrganisationRow, SessionEntry, SessionsTable

SUMMARY_SCHEMA = "vcaudit.summary/1"


def summary_document(table: SessionsTable) -> dict[str, Any]:
    """summary.json's content."""
    return {
        "schema": SUMMARY_SCHEMA,
        "generator": {"name": "vcaudit", "version": __version__},
        "sessions": table.sessions,
        "apps": [{"app": app.app, "sessions": [_session(s) for s in app.sessions],
                  "organisations": [organisation_record(r) for r in app.rows]}
                 for app in table.apps],
    }


def organisation_record(row: OrganisationRow) -> dict[str, Any]:
    """One row as plain JSON values (summary.json; summary.csv adds the app)."""
    return {
        "organisation": row.organisation, "known": row.known, "category": row.category,
        "first_party": row.first_party, "sessions": row.sessions,
        "app_sessions": row.app_sessions, "hosts": list(row.hosts), "flows": row.flows,
        "bytes_up": row.bytes_up, "bytes_down": row.bytes_down, "kinds": list(row.kinds),
        "sessions_with_data": row.sessions_with_data,
    }


def _session(session: SessionEntry) -> dict[str, Any]:
    totals = session.totals
    return {"id": session.id, "app": session.app, "source": session.source,
            "started": session.started, "folder": session.folder,
            "traffic": {"endpoints": totals.endpoints, "flows": totals.flows,
                        "bytes_up": totals.bytes_up, "bytes_down": totals.bytes_down}}

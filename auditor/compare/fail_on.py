"""`vcaudit diff --fail-on`: conditions on a diff that make vcaudit exit 1, so that a release
pipeline can refuse an app update that starts talking to someone new.

  new-ad-tech, new-analytics,     an organisation is contacted in that category and was not
  new-third-party, new-unknown    before (an endpoint no organisation is known for counts by
                                  its host); more hosts of one already there do not count
  new-pii                         an organisation outside the first party (and the LAN)
                                  receives a kind of personal data it did not receive there
                                  before
  new-identity                    the same, for one of your own values (--identity)
  new-pinning                     the client refuses the proxy's certificate for a host it
                                  did not refuse before
"""

from __future__ import annotations

from auditor.compare.diff import OrganisationChange, ReportDiff
from auditor.compare.wording import Namer
from auditor.report.fail_conditions import parse_fail_on

CATEGORY_CONDITIONS = {f"new-{c}": c for c in ("ad-tech", "analytics", "third-party", "unknown")}
DIFF_CONDITIONS = (*CATEGORY_CONDITIONS, "new-pii", "new-identity", "new-pinning")
NAMED = 5  # organisations or hosts named per condition


def _plain(text: str) -> str:
    return text


def parse_diff_fail_on(spec: str | None) -> list[str]:
    """`new-ad-tech,new-pii` -> ["new-ad-tech", "new-pii"]; raises FailOnError (a usage
    error) for an unknown condition."""
    return parse_fail_on(spec, DIFF_CONDITIONS)


def matched_diff_conditions(diff: ReportDiff, conditions: list[str],
                            name: Namer = _plain) -> list[str]:
    """Each condition that holds, with what made it hold: `new-ad-tech: Meta
    (graph.facebook.com)`."""
    out = []
    for condition in conditions:
        if condition in CATEGORY_CONDITIONS:
            category = CATEGORY_CONDITIONS[condition]
            hits = [_named(diff, c, category, name) for c in diff.organisations
                    if c.after and category in c.categories_added]
        elif condition == "new-pinning":
            hits = [name(host) for host in diff.pinned_added]
        else:
            own = condition == "new-identity"
            hits = [f"{name(c.name)} now receives {', '.join(name(k) for k in kinds)}"
                    for c in diff.organisations if (kinds := _newly_outside(c, own))]
        if hits:
            more = f", and {len(hits) - NAMED} more" if len(hits) > NAMED else ""
            out.append(f"{condition}: {'; '.join(hits[:NAMED])}{more}")
    return out


def _named(diff: ReportDiff, change: OrganisationChange, category: str, name: Namer) -> str:
    """`Meta (graph.facebook.com)`: the organisation and its hosts in that category."""
    hosts = [e.host for e in diff.after.endpoints
             if change.known and e.entity == change.name and e.category == category]
    if not hosts:
        return name(change.name)
    more = f" and {len(hosts) - 3} more" if len(hosts) > 3 else ""
    return f"{name(change.name)} ({', '.join(name(h) for h in hosts[:3])}{more})"


def _newly_outside(change: OrganisationChange, own_values: bool) -> list[str]:
    """Labels of the kinds of data the organisation receives outside the first party now and
    did not there before (only the user's own values with `own_values`)."""
    before = change.before.kinds_outside if change.before else {}
    after = change.after.kinds_outside if change.after else {}
    return [label for kind, label in after.items()
            if kind not in before and (kind.startswith("user-") or not own_values)]

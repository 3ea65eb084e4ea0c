"""The sentences `call.verdicts` holds, which the terminal summary and report.md print as they
are: where the call's media went, and who learned the user's IP address.

  12 media flows via 3 Microsoft TURN relays (IE) and 2 Microsoft media servers (NL);
  directly to 1 peer (Vodafone Italia S.p.A., IT) and 1 local address

  your public IP address (Telecom Italia, IT) was exposed to 93.71.110.205 (Vodafone Italia
  S.p.A., IT), another participant reached directly, and you learned its address

Organisations and host names come from traffic and databases: the renderers escape them.
"""

from __future__ import annotations

from typing import Any

from auditor.quantities import counted, plural

MAX_GROUPS = 4
MAX_PEERS_NAMED = 3
ROLE_NOUNS = {"relay": ("TURN relay", "TURN relays"), "server": ("media server",
                                                                   "media servers")}


def call_verdicts(call: dict[str, Any], show_values: bool) -> list[str]:
    """At most two sentences: the media path, and the peers that learned the user's address
    (none when no media flow was seen)."""
    if not call["totals"]["media_flows"]:
        return []
    lines = [_path_line(call)]
    exposed = [p for p in call["peers"] if p["exposed"]]
    if exposed:
        lines.append(_exposure_line(exposed, show_values))
    return lines


def holder(party: dict[str, Any]) -> str:
    """`AS3269 Telecom Italia, IT`, `Vodafone Italia S.p.A., IT`, `unknown network`."""
    name = party.get("owner") or party.get("as_org") or "unknown network"
    if party.get("asn") is not None:
        name = f"AS{party['asn']} {name}"
    return f"{name}, {party['country']}" if party.get("country") else name


def _path_line(call: dict[str, Any]) -> str:
    groups: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    # TURN relays first, then media servers; each by bytes, as `call.relays` is sorted.
    for relay in sorted(call["relays"], key=lambda r: r["role"] != "relay"):
        groups.setdefault((relay["role"], relay["owner"]), []).append(relay)
    parts = []
    for (role, owner), members in list(groups.items())[:MAX_GROUPS]:
        nouns = ROLE_NOUNS[role]
        where = ", ".join(sorted({m["country"] for m in members if m["country"]}))
        noun = plural(len(members), *nouns)
        whose = f"{owner} {noun}" if owner else f"{noun} of an unknown network"
        parts.append(f"{len(members)} {whose} ({where or 'country unknown'})")
    if len(groups) > MAX_GROUPS:
        rest = sum(len(m) for m in list(groups.values())[MAX_GROUPS:])
        parts.append(f"{rest} more")
    line = counted(call["totals"]["media_flows"], "media flow")
    if parts:
        line += " via " + _joined(parts)
    reached = _peer_parts(call["peers"])
    if reached:
        line += ("; " if parts else ", ") + "directly to " + _joined(reached)
    through = call["totals"]["peers_through_relays"]
    if through:
        line += f"; {counted(through, 'peer')} reached only through a relay"
    return line


def _peer_parts(peers: list[dict[str, Any]]) -> list[str]:
    public = [p for p in peers if p["direct"] and p["scope"] == "public"]
    local = [p for p in peers if p["scope"] == "local"]
    parts = []
    if public:
        named = "; ".join(holder(p) for p in public[:MAX_PEERS_NAMED])
        more = len(public) - MAX_PEERS_NAMED
        parts.append(f"{counted(len(public), 'peer')} ({named}"
                     f"{f'; and {more} more' if more > 0 else ''})")
    if local:
        parts.append(counted(len(local), "local address", "local addresses"))
    return parts


def _exposure_line(exposed: list[dict[str, Any]], show_values: bool) -> str:
    yours = _your_address(exposed, show_values)
    if len(exposed) == 1:
        peer = exposed[0]
        return (f"{yours} was exposed to {peer['address']} ({holder(peer)}), another "
                "participant reached directly, and you learned its address")
    named = "; ".join(f"{p['address']} ({holder(p)})" for p in exposed[:MAX_PEERS_NAMED])
    more = len(exposed) - MAX_PEERS_NAMED
    return (f"{yours} was exposed to {len(exposed)} other participants reached directly, and "
            f"you learned theirs: {named}{f'; and {more} more' if more > 0 else ''}")


def _your_address(exposed: list[dict[str, Any]], show_values: bool) -> str:
    """`your public IP address 80.181.206.72 (Telecom Italia, IT)`; the address itself only
    with --show-values (reports hash it), its network and country always when known."""
    addresses = list(dict.fromkeys(a for p in exposed for a in p["your_addresses"]))
    first = next((p for p in exposed if p["your_addresses"]), None)
    noun = plural(len(addresses), "address", "addresses") if addresses else "address"
    text = f"your public IP {noun}"
    if show_values and addresses:
        text += " " + ", ".join(addresses)
    if first is not None and (first["your_as_org"] or first["your_country"]):
        where = ", ".join(x for x in (first["your_as_org"], first["your_country"]) if x)
        text += f" ({where})"
    return text


def _joined(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]

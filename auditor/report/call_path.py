"""Where the call went: report.json's `call` section, built from the session's media flows
(flows whose payloads showed STUN, TURN, DTLS, RTP/RTCP, SRTP/SRTCP, Zoom's or Discord's
framing, Agora's SD-RTN: `Flow.media`). A pure function of SessionData; call.csv is its
`media_flows` table (every media flow, where report.json keeps the largest MAX_MEDIA_FLOWS).

Each media flow's remote side plays one `role`, decided from evidence, the first that applies:

1. `relay`: TURN relaying was seen on the flow (an allocation, Send/Data indications or
   ChannelData): a TURN server; its REALM names the relay's operator.
2. `server`: the remote side spoke a framing only servers speak (Zoom's media-router framing,
   Discord's voice-server IP discovery and pings, Agora's SD-RTN hello).
3. `peer` with `remote_scope` `local`: a private, link-local or other non-public address (a
   device on the user's network, or an ICE host candidate): no public address is involved.
4. `server`: the address belongs to a known organisation (a name, a published range or the
   organisation's own AS: the classification names it), e.g. a vendor's media relay.
5. `server`: the address is in a hosting network (the catalog's `hosting` ASes: clouds,
   Azure, Google Cloud, i3D.net): most likely a media server the app rents there; a participant
   on a cloud machine or a VPN cannot be ruled out, and `role_reason` says so.
6. `server`: only plain STUN binding requests without ICE attributes: NAT discovery against a
   STUN server.
7. `peer`: a public address outside any known organisation's or hosting network, reached
   directly (ICE checks, STUN binding, RTP/SRTP, DTLS): another participant. Each side of such
   a flow learned the other's IP address: a `p2p-exposure` finding (findings.py).

Peers are also learned from TURN relays: the XOR-PEER-ADDRESS a client sent its media to
through a relay (`media.peer_addresses`). Such a peer saw the relay's address, not the user's.

`call` keys (unknown values are null, never 0 or ""):

- `totals`: `media_flows` (all of them), `media_flows_listed` (in `media_flows` below),
  `bytes_up`, `bytes_down` (sent and received by the user's side), `relays`, `servers` (distinct
  addresses in each role), `direct_peers` (public peers reached directly), `local_peers`,
  `peers_through_relays` (public peers reached only through a relay), `exposed_peers` (public
  peers that learned the user's address: the p2p-exposure findings)
- `verdicts`: at most two sentences, as the terminal and report.md show them: where media
  went (relays and servers by organisation and country, peers), and who learned the user's
  address
- `media_flows`: one per media flow (the MAX_MEDIA_FLOWS largest by bytes when there are more,
  in time order): `flow_id`, `started`, `ended` (ISO 8601 UTC), `duration_s` (seconds),
  `transport`, `local_ip`, `local_port` (the user's side), `remote_ip`, `remote_port`,
  `remote_scope` (`public` | `local`; null without an address), `host` (its name, if any),
  `protocol` (the flow's `app_proto`), `protocols` (every media protocol seen), `role`
  (`relay` | `server` | `peer`), `role_reason`, `owner` (the organisation the classification
  names, else the AS organisation), `owner_source` (`classification` | `as`), `category`,
  `entity`, `first_party`, `label`, `asn`, `as_org`, `country` (ISO 3166 alpha-2),
  `turn_realm`, `relayed_address`, `peer_addresses` (peers reached through this relay),
  `your_public_address` and `your_public_port` (the user's address as the remote side
  reported it: STUN XOR-MAPPED-ADDRESS or Discord's IP discovery; the address a short hash
  unless --show-values), `bytes_up`, `bytes_down`, `packets_up`, `packets_down`
- `relays`: the relays and media servers media went through, one per address, largest first:
  `address`, `ports`, `hosts`, `role` (`relay` if any flow to it relayed TURN, else `server`),
  `role_reason`, `owner`, `owner_source`, `category`, `entity`, `first_party`, `label`, `asn`,
  `as_org`, `country`, `turn_realm`, `flows`, `bytes_up`, `bytes_down`, `packets_up`,
  `packets_down`, `first_seen`, `last_seen`, `flow_ids`
- `peers`: other participants' addresses, one per address, exposed ones first: `address`,
  `scope` (`public` | `local`), `ports`, `direct` (reached without a relay), `through_relays`
  (the relays, `ip:port`, that carried media to it), `exposed` (a direct flow to a public
  address: it learned the user's IP address), `answered` (a direct flow got packets back; null
  without a direct flow), `owner`, `owner_source`, `category`, `entity`, `first_party`, `asn`,
  `as_org`, `country`, `your_addresses` (the user's public addresses it saw, short hashes
  unless --show-values), `your_addresses_from` (`peer`: its own STUN answers; `server`: a
  server's answer on the same local port; null: not in the capture), `your_as_org`,
  `your_country`, `flows`, `bytes_up`, `bytes_down`, `packets_up`, `packets_down` (direct
  flows), `first_seen`, `last_seen`, `flow_ids` (direct flows), `relay_flow_ids`
- `countries`: where the remote sides of media flows are, most bytes first: `country` (null:
  no database knows), `flows`, `bytes_up`, `bytes_down`, `roles` (`relay`, `server`, `peer`;
  a peer reached only through a relay adds its country with `peer` and no flows)
- `your_public_addresses`: the user's public addresses as remote sides reported them: `address`
  (a short hash unless --show-values), `ports`, `asn`, `as_org`, `country`, `seen_by` (remote
  addresses that reported it), `flow_ids`
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.audit import SessionData
from auditor.classify.address_owner import AddressOwner
from auditor.classify.asn_catalog import AsnKind
from auditor.names.addresses import AddressScope, address_scope
from auditor.records import Category, Classification, Flow, Media, split_address
from auditor.report.call_parties import (
    countries,
    peers,
    relays,
    shown_address,
    your_public_addresses,
)
from auditor.report.call_sentences import call_verdicts
from auditor.timefmt import iso_utc

if TYPE_CHECKING:
    import pandas as pd

RELAY, SERVER, PEER = "relay", "server", "peer"
PUBLIC, LOCAL = "public", "local"
MAX_MEDIA_FLOWS = 1000
# Framings that only a vendor's server speaks, and how the reason names them.
SERVER_FRAMINGS = {
    "zoom-media": "Zoom's media-router framing (UDP 8801-8810)",
    "discord-voice": "Discord's voice-server handshake (IP discovery, pings)",
    "sd-rtn": "Agora SD-RTN hello (Agora's real-time network)",
}
# How each kind of classification evidence says an address is an organisation's.
OWNED_BY = {"rule": "by its name", "cname": "by its name", "list": "by its name",
            "ip-range": "in its published range", "asn": "in its own network (AS)"}
# What a direct flow showed, named in the reason a remote side is a peer.
PEER_EVIDENCE = (("stun", "STUN binding"), ("dtls", "DTLS"), ("srtp", "SRTP"),
                 ("rtp", "RTP"), ("srtcp", "SRTCP"), ("rtcp", "RTCP"))
CALL_COLUMNS = ("flow_id", "started", "ended", "duration_s", "transport", "local_ip",
                "local_port", "remote_ip", "remote_port", "remote_scope", "host", "protocol",
                "protocols", "role", "role_reason", "owner", "owner_source", "category",
                "entity", "first_party", "label", "asn", "as_org", "country", "turn_realm",
                "relayed_address", "peer_addresses", "your_public_address", "your_public_port",
                "bytes_up", "bytes_down", "packets_up", "packets_down")
CALL_INTEGER_COLUMNS = ("local_port", "remote_port", "asn", "your_public_port", "bytes_up",
                        "bytes_down", "packets_up", "packets_down")


def media_role(flow: Flow, media: Media, verdict: Classification,
               owner: AddressOwner | None) -> tuple[str, str]:
    """The remote side's role in the call (`relay`, `server`, `peer`) and the reason, by the
    rules in this module's docstring."""
    if media.relay:
        realm = f", REALM {media.turn_realm}" if media.turn_realm else ""
        return RELAY, f"TURN relaying seen (allocation, relayed data or channels){realm}"
    for protocol, framing in SERVER_FRAMINGS.items():
        if protocol in media.protocols:
            return SERVER, framing
    if remote_scope(flow) == LOCAL:
        return PEER, ("a local address (a device on your network, or an ICE host candidate): "
                      "no public address is involved")
    if verdict.entity is not None and verdict.category not in (Category.UNKNOWN,
                                                              Category.LOCAL):
        how = OWNED_BY.get(verdict.evidence[0].kind, "by the catalog") \
            if verdict.evidence else "by the catalog"
        return SERVER, f"an address of {verdict.entity}, known {how}"
    if owner is not None and owner.entry is not None and owner.entry.kind is AsnKind.HOSTING:
        return SERVER, (f"hosted at {owner.entry.label}: most likely a media server rented "
                        "there (a participant on a cloud machine or VPN cannot be ruled out)")
    if set(media.protocols) <= {"stun"} and not media.ice:
        return SERVER, "plain STUN binding requests without ICE (NAT discovery): a STUN server"
    shown = [name for protocol, name in PEER_EVIDENCE if protocol in media.protocols]
    if media.ice:
        shown = ["ICE checks", *(s for s in shown if s != "STUN binding")]
    return PEER, ("another participant: a public address outside any known organisation's or "
                  f"hosting network, reached directly ({', '.join(shown) or 'media'})")


def remote_scope(flow: Flow) -> str | None:
    """`public` when the flow's remote side is a public address, `local` for any other
    address, None when the flow has no address (a proxied exchange known by name only)."""
    if not flow.server_ip:
        return None
    return PUBLIC if address_scope(flow.server_ip) is AddressScope.PUBLIC else LOCAL


def media_flow_record(flow: Flow, media: Media, verdict: Classification,
                      owner: AddressOwner | None, show_values: bool) -> dict[str, Any]:
    """One entry of `call.media_flows`."""
    role, reason = media_role(flow, media, verdict, owner)
    facts = owner.facts if owner is not None else None
    return {
        "flow_id": flow.flow_id,
        "started": iso_utc(flow.ts_start),
        "ended": iso_utc(flow.ts_end),
        "duration_s": round(max(flow.ts_end - flow.ts_start, 0.0), 3),
        "transport": flow.transport.value,
        "local_ip": flow.client_ip,
        "local_port": flow.client_port,
        "remote_ip": flow.server_ip,
        "remote_port": flow.server_port,
        "remote_scope": remote_scope(flow),
        "host": flow.host,
        "protocol": flow.app_proto,
        "protocols": list(media.protocols),
        "role": role,
        "role_reason": reason,
        **owner_fields(verdict, owner),
        "label": verdict.label,
        "asn": owner.asn if owner is not None else None,
        "as_org": facts.as_org if facts is not None else None,
        "country": facts.country if facts is not None else None,
        "turn_realm": media.turn_realm,
        "relayed_address": media.relayed_address,
        "peer_addresses": list(media.peer_addresses) if media.peer_addresses else None,
        **_your_address(media.mapped_address, show_values),
        "bytes_up": flow.bytes_up,
        "bytes_down": flow.bytes_down,
        "packets_up": flow.packets_up,
        "packets_down": flow.packets_down,
    }


def owner_fields(verdict: Classification | None, owner: AddressOwner | None) -> dict[str, Any]:
    """`owner` (the classification's organisation, else the AS organisation), `owner_source`,
    `category`, `entity`, `first_party`."""
    entity = verdict.entity if verdict is not None else None
    as_org = owner.facts.as_org if owner is not None else None
    return {
        "owner": entity or as_org,
        "owner_source": "classification" if entity else ("as" if as_org else None),
        "category": verdict.category.value if verdict is not None else None,
        "entity": entity,
        "first_party": verdict.first_party if verdict is not None else None,
    }


def media_flow_records(session: SessionData) -> list[dict[str, Any]]:
    """Every media flow of the session as a `call.media_flows` entry, in time order."""
    media_flows = sorted(((f, f.media) for f in session.flows if f.media is not None),
                         key=lambda pair: (pair[0].ts_start, pair[0].flow_id))
    return [media_flow_record(flow, media, session.classifications[flow.flow_id],
                              session.address_owners.get(flow.server_ip or ""),
                              session.show_values)
            for flow, media in media_flows]


def build_call(session: SessionData,
               records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """report.json's `call` section (keys in this module's docstring); `records` are the
    session's media flow records when already made (media_flow_records)."""
    if records is None:
        records = media_flow_records(session)
    found_peers = peers(session, records)
    found_relays = relays(records)
    listed = _listed(records)
    call: dict[str, Any] = {
        "totals": {
            "media_flows": len(records),
            "media_flows_listed": len(listed),
            "bytes_up": sum(r["bytes_up"] or 0 for r in records),
            "bytes_down": sum(r["bytes_down"] or 0 for r in records),
            "relays": sum(1 for r in found_relays if r["role"] == RELAY),
            "servers": sum(1 for r in found_relays if r["role"] == SERVER),
            "direct_peers": sum(1 for p in found_peers if p["direct"] and p["scope"] == PUBLIC),
            "local_peers": sum(1 for p in found_peers if p["scope"] == LOCAL),
            "peers_through_relays": sum(1 for p in found_peers
                                        if not p["direct"] and p["scope"] == PUBLIC),
            "exposed_peers": sum(1 for p in found_peers if p["exposed"]),
        },
        "verdicts": [],
        "media_flows": listed,
        "relays": found_relays,
        "peers": found_peers,
        "countries": countries(records, found_peers),
        "your_public_addresses": your_public_addresses(session, records),
    }
    call["verdicts"] = call_verdicts(call, session.show_values)
    return call


def call_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """call.csv's table as a DataFrame (pandas is imported only for it): one row per media
    flow, the columns of `call.media_flows`."""
    import pandas as pd

    frame = pd.DataFrame(records, columns=list(CALL_COLUMNS))
    return frame.astype(dict.fromkeys(CALL_INTEGER_COLUMNS, "Int64"))


def _your_address(mapped: str | None, show_values: bool) -> dict[str, Any]:
    if mapped is None:
        return {"your_public_address": None, "your_public_port": None}
    address, port = split_address(mapped)
    return {"your_public_address": shown_address(address, show_values),
            "your_public_port": port}


def _listed(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records report.json lists: all, or the largest MAX_MEDIA_FLOWS, in time order."""
    if len(records) <= MAX_MEDIA_FLOWS:
        return records
    largest = sorted(range(len(records)), key=lambda i: -((records[i]["bytes_up"] or 0)
                                                          + (records[i]["bytes_down"] or 0)))
    return [records[i] for i in sorted(largest[:MAX_MEDIA_FLOWS])]

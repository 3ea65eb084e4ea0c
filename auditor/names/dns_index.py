"""What the capture's own DNS says about addresses: which names resolved to each IP.

DNS responses become `DnsAnswer` records (following CNAME chains from the name the client
asked for to the record holding the address). A flow to an address with no SNI or Host is
then named from them: the most recent answer before the flow started is the one the app most
likely used; all names for the address are kept and the choice is explained.

When no answer came before the flow, the first one after its start is used, and the evidence
says when it came: while the flow ran, or after it ended. A name learned after the flow ended
is still applied (a capture often starts after the app resolved the name, and an address that
answered for a name later in the same capture most likely served it earlier too) but flagged,
because nothing shows the app knew that name when the flow ran.

Names only where they belong: answers from multicast DNS or LLMNR exchanges, and answers for
local-only names (under `.local`, or single-label names), name local addresses only
(names.addresses). They are kept as answers (dns.jsonl) but never name a public address: a
device's own mDNS name must not name a remote peer, nor may a LAN host's multicast answer
claim a public service's name.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from auditor.names.addresses import is_local_address
from auditor.protocols.dns import TYPE_CNAME, DnsMessage
from auditor.records import DnsAnswer, Flow, HostSource
from auditor.timefmt import iso_utc

MAX_CHAIN = 16


def answers_from_message(flow_id: str, ts: float, message: DnsMessage) -> list[DnsAnswer]:
    """The address answers of one DNS response, each with its CNAME chain."""
    cnames: dict[str, str] = {}
    addresses: dict[str, list[tuple[str, int]]] = {}
    for record in message.answers:
        if record.rtype == TYPE_CNAME:
            cnames.setdefault(record.name, record.value)
        else:
            addresses.setdefault(record.name, []).append((record.value, record.ttl))
    out: list[DnsAnswer] = []
    reached: set[str] = set()
    queries = [q for q, _qtype in message.questions] or list(addresses) + list(cnames)
    for query in dict.fromkeys(queries):
        chain = [query]
        while chain[-1] in cnames and len(chain) < MAX_CHAIN and cnames[chain[-1]] not in chain:
            chain.append(cnames[chain[-1]])
        for owner in chain:
            for address, ttl in addresses.get(owner, ()):
                out.append(DnsAnswer(flow_id, ts, query, tuple(chain[: chain.index(owner) + 1]),
                                     address, ttl))
                reached.add(owner)
    for owner, records in addresses.items():
        if owner not in reached:  # records no question led to (mDNS announcements)
            for address, ttl in records:
                out.append(DnsAnswer(flow_id, ts, owner, (owner,), address, ttl))
    return out


def is_local_only_name(name: str) -> bool:
    """A name that only a local resolver gives out: under `.local` (multicast DNS, RFC 6762)
    or a single label (LLMNR, NetBIOS, a router's host table)."""
    name = name.rstrip(".").lower()
    return "." not in name or name.endswith(".local")


class NameTiming(StrEnum):
    """When the answer that named a flow came, relative to the flow."""

    BEFORE = "before"  # at or before the flow's start: the name the app most likely used
    DURING = "during"  # after the start, while the flow ran
    AFTER_END = "after-end"  # after the flow ended: the name was not known while it ran


@dataclass(frozen=True, slots=True)
class DnsName:
    """The name chosen for an address, with every candidate and the reason for the choice."""

    name: str
    answer: DnsAnswer
    all_names: tuple[str, ...]
    evidence: str
    timing: NameTiming


class DnsIndex:
    """Answers by address, in time order; only answers that may name their address.

    `local_resolution_flows` are the flow ids of multicast DNS and LLMNR exchanges: their
    answers, like answers for local-only names, name local addresses only."""

    def __init__(self, answers: Iterable[DnsAnswer],
                 local_resolution_flows: Collection[str] = ()) -> None:
        by_address: dict[str, list[DnsAnswer]] = {}
        for answer in answers:
            if not _may_name(answer, local_resolution_flows):
                continue
            by_address.setdefault(answer.address, []).append(answer)
        for answers_of_ip in by_address.values():
            answers_of_ip.sort(key=lambda a: (a.ts, a.query))
        self._by_address = by_address
        self._times = {ip: [a.ts for a in lst] for ip, lst in by_address.items()}

    def names_for(self, address: str) -> tuple[str, ...]:
        """Every name the capture's DNS resolved to this address, first seen first."""
        return tuple(dict.fromkeys(a.query for a in self._by_address.get(address, ())))

    def chain_for(self, address: str, name: str) -> tuple[str, ...]:
        """The CNAME chain by which `name` led to this address (longest seen)."""
        chains = [a.chain for a in self._by_address.get(address, ()) if a.query == name]
        return max(chains, key=len, default=(name,))

    def name_at(self, address: str, ts: float, ts_end: float | None = None) -> DnsName | None:
        """The name for a flow to `address` that started at `ts` (and ended at `ts_end`, when
        known: a name first answered after that is flagged as learned after the flow)."""
        answers = self._by_address.get(address)
        if not answers:
            return None
        all_names = self.names_for(address)
        pos = bisect.bisect_right(self._times[address], ts)
        late = ""
        if pos > 0:
            chosen = answers[pos - 1]
            timing = NameTiming.BEFORE
            when = f"the DNS answer at {iso_utc(chosen.ts)}"
            why = "the most recent answer before the flow started"
        elif ts_end is not None and answers[0].ts > ts_end:
            chosen = answers[0]
            timing = NameTiming.AFTER_END
            when = (f"a DNS answer at {iso_utc(chosen.ts)}, after the flow ended "
                    f"(at {iso_utc(ts_end)})")
            why = "no answer came before or during the flow, so the first one after it"
            late = ("; learned only after the flow ended: the address answered for this name "
                    "later in the capture, which does not show the app knew it then")
        else:
            chosen = answers[0]
            timing = NameTiming.DURING
            when = f"a DNS answer at {iso_utc(chosen.ts)}, after the flow started"
            why = "no answer came before the flow, so the first one after it"
        evidence = f"IP {address} named {chosen.query} by {when} (DNS flow {chosen.flow_id})"
        if len(chosen.chain) > 1:
            evidence += f" via CNAME chain {' -> '.join(chosen.chain)}"
        if len(all_names) > 1:
            evidence += (f"; {len(all_names)} names resolved to this IP "
                         f"({', '.join(all_names)}): chose {why}")
        return DnsName(chosen.query, chosen, all_names, evidence + late, timing)

    def named(self, flow: Flow) -> Flow:
        """The flow named from DNS, if it carries no name of its own (else as it is)."""
        if flow.host is not None or flow.server_ip is None:
            return flow
        found = self.name_at(flow.server_ip, flow.ts_start, flow.ts_end)
        if found is None:
            return flow
        return replace(flow, host=found.name, host_source=HostSource.DNS,
                       dns_names=found.all_names, name_evidence=found.evidence)


def _may_name(answer: DnsAnswer, local_resolution_flows: Collection[str]) -> bool:
    """Whether an answer may name its address: a local-only answer names local addresses."""
    local_only = (answer.flow_id in local_resolution_flows or is_local_only_name(answer.query)
                  or (bool(answer.chain) and is_local_only_name(answer.chain[-1])))
    return not local_only or is_local_address(answer.address)

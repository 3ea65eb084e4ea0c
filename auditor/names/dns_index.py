"""What the capture's own DNS says about addresses: which names resolved to each IP.

DNS responses become `DnsAnswer` records (following CNAME chains from the name the client
asked for to the record holding the address). A flow to an address with no SNI or Host is
then named from them: the most recent answer before the flow started is the one the app most
likely used; all names for the address are kept and the choice is explained.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, replace

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


@dataclass(frozen=True, slots=True)
class DnsName:
    """The name chosen for an address, with every candidate and the reason for the choice."""

    name: str
    answer: DnsAnswer
    all_names: tuple[str, ...]
    evidence: str


class DnsIndex:
    """Answers by address, in time order."""

    def __init__(self, answers: Iterable[DnsAnswer]) -> None:
        by_address: dict[str, list[DnsAnswer]] = {}
        for answer in answers:
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

    def name_at(self, address: str, ts: float) -> DnsName | None:
        """The name for a flow to `address` that started at `ts`."""
        answers = self._by_address.get(address)
        if not answers:
            return None
        all_names = self.names_for(address)
        pos = bisect.bisect_right(self._times[address], ts)
        if pos > 0:
            chosen = answers[pos - 1]
            when = f"the DNS answer at {iso_utc(chosen.ts)}"
            why = "the most recent answer before the flow started"
        else:
            chosen = answers[0]
            when = f"a DNS answer at {iso_utc(chosen.ts)}, after the flow started"
            why = "no answer came before the flow, so the first one after it"
        evidence = f"IP {address} named {chosen.query} by {when} (DNS flow {chosen.flow_id})"
        if len(chosen.chain) > 1:
            evidence += f" via CNAME chain {' -> '.join(chosen.chain)}"
        if len(all_names) > 1:
            evidence += (f"; {len(all_names)} names resolved to this IP "
                         f"({', '.join(all_names)}): chose {why}")
        return DnsName(chosen.query, chosen, all_names, evidence)

    def named(self, flow: Flow) -> Flow:
        """The flow named from DNS, if it carries no name of its own (else as it is)."""
        if flow.host is not None or flow.server_ip is None:
            return flow
        found = self.name_at(flow.server_ip, flow.ts_start)
        if found is None:
            return flow
        return replace(flow, host=found.name, host_source=HostSource.DNS,
                       dns_names=found.all_names, name_evidence=found.evidence)

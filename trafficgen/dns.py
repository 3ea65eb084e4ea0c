"""DNS as a stub resolver and a recursive resolver exchange it: queries, answers with CNAME
chains and several addresses, NODATA and NXDOMAIN, and the lookups themselves as UDP flows."""

from __future__ import annotations

import random
from dataclasses import dataclass

from scapy.layers.dns import DNS, DNSQR, DNSRR, DNSRROPT, DNSRRSOA
from scapy.packet import Packet

from trafficgen.flows import Peer, UdpFlow, new_peer
from trafficgen.ip import PROTO_UDP, udp
from trafficgen.links import Link, sll2_loopback
from trafficgen.timeline import Timeline

CNAME = 5


@dataclass(frozen=True)
class Answer:
    """What the resolver returns for one name: CNAME chain, then addresses."""

    name: str
    cnames: tuple[str, ...] = ()
    v4: tuple[str, ...] = ()
    v6: tuple[str, ...] = ()
    ttl: int = 300
    zone: str = ""

    def records(self, qtype: str) -> list[Packet]:
        """The answer section for an A or AAAA query."""
        owner, out = self.name, list[Packet]()
        for target in self.cnames:
            out.append(DNSRR(rrname=owner, type="CNAME", ttl=self.ttl, rdata=target))
            owner = target
        for addr in self.v4 if qtype == "A" else self.v6:
            out.append(DNSRR(rrname=owner, type=qtype, ttl=self.ttl, rdata=addr))
        return out

    def soa(self) -> Packet:
        """The negative-answer SOA for the zone of the last name in the chain."""
        zone = self.zone or ".".join((self.cnames or (self.name,))[-1].split(".")[-2:])
        return DNSRRSOA(
            rrname=zone,
            ttl=60,
            mname=f"ns1.{zone}",
            rname=f"hostmaster.{zone}",
            serial=2026110201,
            refresh=7200,
            retry=3600,
            expire=1209600,
            minimum=60,
        )


def dns_query(name: str, qtype: str, ident: int = 0, edns_payload: int | None = None) -> Packet:
    """A recursive query for `name`, with an EDNS OPT record advertising `edns_payload` bytes
    when given."""
    extra = [DNSRROPT(rclass=edns_payload)] if edns_payload is not None else []
    return DNS(id=ident, rd=1, qd=[DNSQR(qname=name, qtype=qtype)], ar=extra)


def dns_response(
    query: Packet, answer: Answer, qtype: str, *, rcode: int = 0, minimal: bool = False
) -> bytes:
    """The resolver's response to `query`: the CNAME chain and addresses; without an address, a
    negative answer with the zone's SOA in the authority section; names compressed. `minimal`:
    the answer records alone, uncompressed (cheaper, for templates built in bulk)."""
    records = answer.records(qtype)
    has_data = any(r.type != CNAME for r in records)
    response = DNS(
        id=query.id,
        qr=1,
        rd=1,
        ra=1,
        rcode=rcode,
        qd=query.qd,
        an=records,
        ns=[] if has_data or minimal else [answer.soa()],
        ar=query.ar,
    )
    return bytes(response if minimal else response.compress())


@dataclass
class Resolver:
    """The client's stub lookups (one query type per random port) and the resolver's answers."""

    timeline: Timeline
    link: Link
    client_addr: str
    client_ttl: int
    server_addr: str
    server_ttl: int
    rng: random.Random
    edns_payload: int | None = None

    def lookup(
        self,
        t: float,
        answer: Answer,
        latency: float = 0.012,
        qtypes: tuple[str, ...] = ("A", "AAAA"),
    ) -> float:
        """Queries at `t`, answers `latency` later; returns the time of the last answer."""
        end = t
        for offset, qtype in enumerate(qtypes):
            flow = UdpFlow(
                self.timeline,
                self.link,
                new_peer(self.client_addr, self.client_ttl, self.rng),
                new_peer(self.server_addr, self.server_ttl, self.rng),
                self.rng.randrange(49152, 65536),
                53,
            )
            query = dns_query(answer.name, qtype, self.rng.randrange(0x10000), self.edns_payload)
            sent = t + offset * 0.00021
            flow.up(sent, bytes(query))
            answered = sent + latency + self.rng.uniform(0.0, 0.004)
            flow.down(answered, dns_response(query, answer, qtype))
            end = max(end, answered)
        return end


def stub_lookup(timeline: Timeline, upstream: Resolver, t: float, answer: Answer) -> float:
    """A Linux app asks systemd-resolved's stub (127.0.0.53, EDNS) over loopback for A and
    AAAA, and the stub asks `upstream`; with `tcpdump -i any` each loopback packet is seen
    twice. Returns when the app has both answers."""
    rng = upstream.rng
    app_port = rng.randrange(32768, 61000)
    stub = new_peer("127.0.0.53", 64, rng)
    app = new_peer("127.0.0.1", 64, rng)

    def loopback(at: float, src: Peer, dst: Peer, sport: int, dport: int, payload: bytes) -> None:
        datagram = udp(src.packed, dst.packed, sport, dport, payload, checksum=True)
        out, back = sll2_loopback(src.packet(dst, PROTO_UDP, datagram))
        timeline.add(at, out)
        timeline.add(at + 0.000004, back)

    queries = []
    for offset, qtype in enumerate(("A", "AAAA")):
        query = dns_query(answer.name, qtype, rng.randrange(0x10000), edns_payload=65494)
        queries.append(query)
        loopback(t + offset * 0.00006, app, stub, app_port, 53, bytes(query))
    end = upstream.lookup(t + 0.00031, answer, latency=0.0167)
    for offset, query in enumerate(queries):
        reply = dns_response(query, answer, "A" if offset == 0 else "AAAA")
        loopback(end + 0.00012 + offset * 0.00005, stub, app, 53, app_port, reply)
    return end + 0.0003


def lookup_templates(answer: Answer, qtype: str, rcode: int = 0) -> tuple[bytes, bytes]:
    """A query for `answer.name` and its minimal response, both with id 0: templates for
    lookups built in bulk, whose ids the caller replaces."""
    query = dns_query(answer.name, qtype)
    return bytes(query), dns_response(query, answer, qtype, rcode=rcode, minimal=True)

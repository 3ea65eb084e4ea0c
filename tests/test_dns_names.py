"""Names for addresses from the capture's own DNS: CNAME chains, and which answer names a flow
(the most recent before it, else the first after it, flagged when it came after the flow
ended), with the choice explained; local-only names (mDNS, LLMNR) never name public
addresses."""

from __future__ import annotations

from pathlib import Path

from scapy.layers.dns import DNS, DNSQR, DNSRR

from auditor.capture.reading import read_capture
from auditor.names.addresses import is_local_address
from auditor.names.dns_index import (
    MAX_CHAIN,
    DnsIndex,
    NameTiming,
    answers_from_message,
    is_local_only_name,
)
from auditor.protocols.dns import TYPE_A, TYPE_CNAME, DnsMessage, DnsRecord, parse_dns
from auditor.records import DnsAnswer, Flow, HostSource, Orientation, Transport
from auditor.timefmt import iso_utc

T0 = 1_762_092_000.0  # 2025-11-02T14:00:00Z


def message(questions: tuple[str, ...], *records: tuple[str, int, str],
            ttl: int = 60) -> DnsMessage:
    return DnsMessage(
        txid=1,
        is_response=True,
        rcode=0,
        questions=tuple((q, TYPE_A) for q in questions),
        answers=tuple(DnsRecord(name, rtype, ttl, value) for name, rtype, value in records),
    )


def answer(query: str, address: str, ts: float, flow_id: str = "F000001",
           chain: tuple[str, ...] | None = None) -> DnsAnswer:
    return DnsAnswer(flow_id, ts, query, chain or (query,), address, 60)


# --- answers_from_message -------------------------------------------------------------------


def test_query_cname_cname_a_chain_from_a_real_message() -> None:
    wire = bytes(DNS(id=5, qr=1, qd=DNSQR(qname="zoom.us"), an=[
        DNSRR(rrname="zoom.us", type="CNAME", ttl=30, rdata="zoom.us.edgekey.net"),
        DNSRR(rrname="zoom.us.edgekey.net", type="CNAME", ttl=30, rdata="e1234.a.akamaiedge.net"),
        DNSRR(rrname="e1234.a.akamaiedge.net", type="A", ttl=20, rdata="23.56.1.1"),
        DNSRR(rrname="e1234.a.akamaiedge.net", type="A", ttl=20, rdata="23.56.1.2"),
    ]).compress())
    answers = answers_from_message("F000007", T0, parse_dns(wire))
    chain = ("zoom.us", "zoom.us.edgekey.net", "e1234.a.akamaiedge.net")
    assert answers == [
        DnsAnswer("F000007", T0, "zoom.us", chain, "23.56.1.1", 20),
        DnsAnswer("F000007", T0, "zoom.us", chain, "23.56.1.2", 20),
    ]


def test_records_in_any_order_still_chain() -> None:
    msg = message(
        ("a.example",),
        ("c.example", TYPE_A, "10.0.0.3"),
        ("b.example", TYPE_CNAME, "c.example"),
        ("a.example", TYPE_CNAME, "b.example"),
    )
    (only,) = answers_from_message("F1", T0, msg)
    assert only.query == "a.example" and only.chain == ("a.example", "b.example", "c.example")
    assert only.address == "10.0.0.3"


def test_records_no_question_leads_to_are_kept_with_their_own_name() -> None:
    msg = message(
        ("a.example",),
        ("a.example", TYPE_A, "10.0.0.1"),
        ("stray.example", TYPE_A, "10.0.0.9"),
    )
    answers = answers_from_message("F1", T0, msg)
    assert [(a.query, a.chain, a.address) for a in answers] == [
        ("a.example", ("a.example",), "10.0.0.1"),
        ("stray.example", ("stray.example",), "10.0.0.9"),
    ]


def test_mdns_announcement_without_questions() -> None:
    msg = message(
        (),
        ("printer.local", TYPE_A, "192.168.1.40"),
        ("alias.local", TYPE_CNAME, "printer.local"),
    )
    answers = answers_from_message("F9", T0, msg)
    assert {(a.query, a.chain, a.address) for a in answers} == {
        ("printer.local", ("printer.local",), "192.168.1.40"),
        ("alias.local", ("alias.local", "printer.local"), "192.168.1.40"),
    }


def test_cname_loop_ends() -> None:
    msg = message(
        ("a.example",),
        ("a.example", TYPE_CNAME, "b.example"),
        ("b.example", TYPE_CNAME, "a.example"),
        ("b.example", TYPE_A, "10.0.0.2"),
    )
    (only,) = answers_from_message("F1", T0, msg)
    assert only.chain == ("a.example", "b.example") and only.address == "10.0.0.2"


def test_very_long_cname_chain_is_cut() -> None:
    names = [f"n{i}.example" for i in range(40)]
    records = [(names[i], TYPE_CNAME, names[i + 1]) for i in range(39)]
    msg = message((names[0],), *records, (names[-1], TYPE_A, "10.9.9.9"))
    answers = answers_from_message("F1", T0, msg)
    # The address is past MAX_CHAIN hops: it is kept, under its own name.
    assert [(a.query, a.chain) for a in answers] == [(names[-1], (names[-1],))]
    assert MAX_CHAIN < 40


def test_response_without_addresses_gives_nothing() -> None:
    msg = message(("a.example",), ("a.example", TYPE_CNAME, "b.example"))
    assert answers_from_message("F1", T0, msg) == []


# --- DnsIndex.name_at -----------------------------------------------------------------------


def test_single_answer_before_the_flow() -> None:
    index = DnsIndex([answer("zoom.us", "170.114.52.2", T0, "F000003")])
    name = index.name_at("170.114.52.2", T0 + 5)
    assert name is not None
    assert name.name == "zoom.us" and name.all_names == ("zoom.us",)
    assert name.evidence == (f"IP 170.114.52.2 named zoom.us by the DNS answer at {iso_utc(T0)} "
                             "(DNS flow F000003)")


def test_unknown_address() -> None:
    index = DnsIndex([answer("zoom.us", "170.114.52.2", T0)])
    assert index.name_at("10.0.0.1", T0) is None
    assert index.names_for("10.0.0.1") == ()


def test_most_recent_answer_before_the_flow_wins() -> None:
    index = DnsIndex([
        answer("old.example", "1.1.1.1", T0, "F1"),
        answer("new.example", "1.1.1.1", T0 + 10, "F2"),
        answer("later.example", "1.1.1.1", T0 + 100, "F3"),
    ])
    name = index.name_at("1.1.1.1", T0 + 50)
    assert name is not None and name.name == "new.example" and name.answer.flow_id == "F2"
    assert name.all_names == ("old.example", "new.example", "later.example")
    assert "3 names resolved to this IP (old.example, new.example, later.example)" in (
        name.evidence)
    assert "chose the most recent answer before the flow started" in name.evidence


def test_answer_at_the_same_instant_counts_as_before() -> None:
    index = DnsIndex([answer("a.example", "1.1.1.1", T0),
                      answer("b.example", "1.1.1.1", T0 + 1)])
    name = index.name_at("1.1.1.1", T0 + 1)
    assert name is not None and name.name == "b.example"


def test_first_later_answer_when_none_came_before() -> None:
    index = DnsIndex([
        answer("second.example", "2.2.2.2", T0 + 20, "F8"),
        answer("first.example", "2.2.2.2", T0 + 10, "F7"),
    ])
    name = index.name_at("2.2.2.2", T0)
    assert name is not None and name.name == "first.example" and name.answer.flow_id == "F7"
    assert f"a DNS answer at {iso_utc(T0 + 10)}, after the flow started" in name.evidence
    assert "no answer came before the flow, so the first one after it" in name.evidence


def test_single_later_answer_evidence_says_after() -> None:
    index = DnsIndex([answer("x.example", "3.3.3.3", T0 + 2, "F4")])
    name = index.name_at("3.3.3.3", T0)
    assert name is not None
    assert name.evidence == (f"IP 3.3.3.3 named x.example by a DNS answer at {iso_utc(T0 + 2)}, "
                             "after the flow started (DNS flow F4)")


def test_several_names_for_one_ip_are_all_kept() -> None:
    # A shared CDN address answered for three names; the flow started after the second.
    cdn = "151.101.1.1"
    index = DnsIndex([
        answer("zoom.us", cdn, T0, "F1", ("zoom.us", "zoom.map.fastly.net")),
        answer("st1.zoom.us", cdn, T0 + 1, "F2", ("st1.zoom.us", "zoom.map.fastly.net")),
        answer("zoom.us", cdn, T0 + 30, "F3", ("zoom.us", "zoom.map.fastly.net")),
        answer("cdn.example", cdn, T0 + 40, "F4"),
    ])
    name = index.name_at(cdn, T0 + 2)
    assert name is not None
    assert name.name == "st1.zoom.us"
    assert name.all_names == ("zoom.us", "st1.zoom.us", "cdn.example")
    assert index.names_for(cdn) == ("zoom.us", "st1.zoom.us", "cdn.example")
    assert "via CNAME chain st1.zoom.us -> zoom.map.fastly.net" in name.evidence
    assert "3 names resolved to this IP (zoom.us, st1.zoom.us, cdn.example)" in name.evidence
    later = index.name_at(cdn, T0 + 35)
    assert later is not None and later.name == "zoom.us" and later.answer.flow_id == "F3"


def test_chain_for_returns_the_longest_chain_seen() -> None:
    index = DnsIndex([
        answer("zoom.us", "9.9.9.9", T0, chain=("zoom.us",)),
        answer("zoom.us", "9.9.9.9", T0 + 1, chain=("zoom.us", "a.net", "b.net")),
        answer("zoom.us", "9.9.9.9", T0 + 2, chain=("zoom.us", "a.net")),
        answer("other.us", "9.9.9.9", T0 + 3, chain=("other.us", "x.net", "y.net", "z.net")),
    ])
    assert index.chain_for("9.9.9.9", "zoom.us") == ("zoom.us", "a.net", "b.net")
    assert index.chain_for("9.9.9.9", "unknown.us") == ("unknown.us",)
    assert index.chain_for("8.8.8.8", "zoom.us") == ("zoom.us",)


def test_index_from_messages_end_to_end() -> None:
    first = bytes(DNS(id=1, qr=1, qd=DNSQR(qname="api.zoom.us"), an=[
        DNSRR(rrname="api.zoom.us", type="CNAME", rdata="api.zoom.us.cdn.net"),
        DNSRR(rrname="api.zoom.us.cdn.net", type="A", rdata="52.1.1.1"),
    ]).compress())
    second = bytes(DNS(id=2, qr=1, qd=DNSQR(qname="log.zoom.us"), an=[
        DNSRR(rrname="log.zoom.us", type="A", rdata="52.1.1.1"),
    ]))
    answers = (answers_from_message("F1", T0, parse_dns(first))
               + answers_from_message("F2", T0 + 60, parse_dns(second)))
    index = DnsIndex(answers)
    early = index.name_at("52.1.1.1", T0 + 1)
    late = index.name_at("52.1.1.1", T0 + 61)
    assert early is not None and early.name == "api.zoom.us"
    assert "via CNAME chain api.zoom.us -> api.zoom.us.cdn.net" in early.evidence
    assert late is not None and late.name == "log.zoom.us" and "(DNS flow F2)" in late.evidence


# --- names only where they belong -----------------------------------------------------------


def test_an_mdns_name_names_local_addresses_only() -> None:
    # The capturing PC announces itself; a remote peer must never get its name.
    index = DnsIndex([
        answer("msedgewin10.local", "10.0.2.15", T0, "F9"),
        answer("msedgewin10.local", "fe80::c50d:519f:96a4:e108", T0, "F9"),
        answer("msedgewin10.local", "2a01:4f8::15", T0, "F9"),  # its global IPv6 address
    ])
    local = index.name_at("10.0.2.15", T0 + 1)
    assert local is not None and local.name == "msedgewin10.local"
    assert index.name_at("fe80::c50d:519f:96a4:e108", T0 + 1) is not None
    assert index.name_at("2a01:4f8::15", T0 + 1) is None
    assert index.names_for("2a01:4f8::15") == ()


def test_local_only_names() -> None:
    for name in ("msedgewin10.local", "MSEdgeWin10.LOCAL.", "wpad", "router.", "local"):
        assert is_local_only_name(name), name
    for name in ("zoom.us", "local.example.com", "localhost.example"):
        assert not is_local_only_name(name), name


def test_a_single_label_name_names_local_addresses_only() -> None:
    index = DnsIndex([answer("wpad", "52.1.1.1", T0), answer("router", "192.168.1.1", T0)])
    assert index.name_at("52.1.1.1", T0 + 1) is None
    found = index.name_at("192.168.1.1", T0 + 1)
    assert found is not None and found.name == "router"


def test_a_local_name_at_the_end_of_a_cname_chain_is_local_only() -> None:
    index = DnsIndex([answer("printer.example", "52.1.1.1", T0,
                             chain=("printer.example", "printer.local"))])
    assert index.name_at("52.1.1.1", T0 + 1) is None


def test_answers_of_multicast_and_llmnr_exchanges_name_local_addresses_only() -> None:
    # A LAN host's multicast answer claiming a public service's name is not believed...
    spoofed = answer("zoom.us", "170.114.52.2", T0, "F5")
    index = DnsIndex([spoofed, answer("nas.example", "192.168.1.9", T0, "F5")],
                     local_resolution_flows={"F5"})
    assert index.name_at("170.114.52.2", T0 + 1) is None
    nas = index.name_at("192.168.1.9", T0 + 1)
    assert nas is not None and nas.name == "nas.example"
    # ... while the same answer from ordinary DNS names the address.
    plain = DnsIndex([spoofed]).name_at("170.114.52.2", T0 + 1)
    assert plain is not None and plain.name == "zoom.us"


def test_when_the_answer_came_is_recorded() -> None:
    index = DnsIndex([answer("x.example", "3.3.3.3", T0 + 10, "F4")])
    before = index.name_at("3.3.3.3", T0 + 20, T0 + 30)
    during = index.name_at("3.3.3.3", T0, T0 + 30)
    after = index.name_at("3.3.3.3", T0, T0 + 5)
    unknown_end = index.name_at("3.3.3.3", T0)
    assert before is not None and before.timing is NameTiming.BEFORE
    assert during is not None and during.timing is NameTiming.DURING
    assert "after the flow started" in during.evidence
    assert unknown_end is not None and unknown_end.timing is NameTiming.DURING
    assert after is not None and after.timing is NameTiming.AFTER_END
    assert after.name == "x.example"  # applied, and flagged
    assert after.evidence == (
        f"IP 3.3.3.3 named x.example by a DNS answer at {iso_utc(T0 + 10)}, after the flow "
        f"ended (at {iso_utc(T0 + 5)}) (DNS flow F4); learned only after the flow ended: the "
        "address answered for this name later in the capture, which does not show the app "
        "knew it then")


def test_several_later_names_after_the_flow_ended() -> None:
    index = DnsIndex([answer("a.example", "4.4.4.4", T0 + 10, "F1"),
                      answer("b.example", "4.4.4.4", T0 + 20, "F2")])
    found = index.name_at("4.4.4.4", T0, T0 + 1)
    assert found is not None and found.name == "a.example"
    assert "chose no answer came before or during the flow, so the first one after it" in (
        found.evidence)
    assert found.evidence.endswith("which does not show the app knew it then")


def flow_to(server_ip: str, start: float, end: float, host: str | None = None) -> Flow:
    return Flow("P1", start, end, Transport.TCP, "192.168.1.23", 50000, server_ip, 443,
                orientation=Orientation.PROXY, host=host)


def test_named_proxied_flows_follow_the_same_rules() -> None:
    # What the live proxy does with the answers it saw (live/session.py calls named()).
    index = DnsIndex([answer("zoom.us", "170.114.52.2", T0 + 10, "D1"),
                      answer("box.local", "52.1.1.1", T0, "D2")])
    late = index.named(flow_to("170.114.52.2", T0, T0 + 5))
    assert (late.host, late.host_source) == ("zoom.us", HostSource.DNS)
    assert late.name_evidence is not None and "after the flow ended" in late.name_evidence
    assert index.named(flow_to("52.1.1.1", T0 + 1, T0 + 2)).host is None
    named = flow_to("170.114.52.2", T0 + 20, T0 + 30, host="web.zoom.us")
    assert index.named(named) is named


def test_gnutella_capture_never_names_a_remote_peer_with_a_local_name(
    shared_captures: Path,
) -> None:
    reading = read_capture(shared_captures / "media" / "pcap" / "gnutella.pcap")
    own = {a.address for a in reading.dns_answers if a.query == "msedgewin10.local"}
    assert "10.0.2.15" in own  # the answers are kept, in dns.jsonl
    local_named = [f for f in reading.flows if f.host and is_local_only_name(f.host)]
    assert all(is_local_address(f.server_ip or "") for f in local_named), local_named
    assert len(local_named) <= 2  # was 244: inbound peers made the PC their server
    assert all(f.server_ip == "10.0.2.15" for f in local_named)

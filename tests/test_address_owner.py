"""Who holds a public address: the bundled GeoLite2 data (read from geoip2fast's file without
geoip2fast), a user's .mmdb files (read by the real maxminddb), the catalog's [[asn]] entries,
the classification they give, and the report columns. Checked against geoip2fast's own lookup
and against nDPI's media flows in the shared captures."""

from __future__ import annotations

import csv
import ipaddress
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.audit import run_audit
from auditor.capture.reading import read_capture
from auditor.classify.address_database import (
    BUNDLED,
    AddressDatabaseError,
    AddressDatabases,
    public_address,
)
from auditor.classify.address_owner import address_owner, use_address_databases
from auditor.classify.catalog import Catalog, load_catalog
from auditor.classify.catalog_fields import CatalogError
from auditor.classify.endpoint import classify_endpoint
from auditor.classify.geoip2fast_data import MAX_IPV4
from auditor.cli.main import main
from auditor.records import Category, Flow, Transport
from auditor.report.build import build_report
from auditor.report.render.report_files import ReportFile, render

from .support.mmdb_writer import write_mmdb


def facts(catalog: Catalog, address: str):  # type: ignore[no-untyped-def]
    found = catalog.addresses.facts(address)
    assert found is not None, address
    return found


@pytest.mark.parametrize(("address", "holder"), [
    ("31.13.64.48", "FACEBOOK"),  # 31.13.64.0/18
    ("179.60.192.48", "FACEBOOK"),  # 179.60.192.0/22
    ("206.247.1.1", "ZOOM-VIDEO-COMM-AS"),  # 206.247.0.0/18
    ("52.114.252.21", "MICROSOFT-CORP-MSN-AS-BLOCK"),  # 52.114.0.0/15
    ("66.22.196.173", "i3D.net B.V"),  # Discord's voice servers, 66.22.196.0/22
    ("2a03:2880:f003:c07:face:b00c::2", "FACEBOOK"),
])
def test_bundled_database_names_the_holder_and_country(catalog: Catalog, address: str,
                                                       holder: str) -> None:
    found = facts(catalog, address)
    assert found.as_org == holder
    assert found.asn is None  # the bundled data holds names, not numbers
    assert found.country is not None and len(found.country) == 2 and found.country.isupper()
    assert ipaddress.ip_address(address) in ipaddress.ip_network(found.as_network)
    info = found.databases[0]
    assert "GeoLite2" in info.name and info.date is not None and info.date >= "2024-06-18"
    assert info.licence is not None and "CC BY-SA 4.0" in info.licence


@pytest.mark.parametrize("address", ["192.168.1.6", "10.0.0.1", "172.16.5.4", "100.64.0.1",
                                     "127.0.0.1", "169.254.1.1", "224.0.0.251",
                                     "255.255.255.255", "0.0.0.0", "fe80::1", "::1",
                                     "fd00::1", "ff02::fb", "not an address", ""])
def test_local_and_malformed_addresses_have_no_owner(catalog: Catalog, address: str) -> None:
    assert public_address(address) is None
    assert catalog.addresses.facts(address) is None
    assert address_owner(catalog, address) is None


def test_ipv4_mapped_ipv6_is_looked_up_as_ipv4(catalog: Catalog) -> None:
    assert facts(catalog, "::ffff:31.13.64.48").as_org == "FACEBOOK"


def test_reader_agrees_with_geoip2fast_where_geoip2fast_is_right(catalog: Catalog) -> None:
    """geoip2fast's own lookup runs in a subprocess (importing it changes the process's
    environment). With its IPv6 file it names an AS for IPv4 addresses outside that AS's
    network; there vcaudit, which checks the network, must say nothing."""
    rnd = random.Random(10)
    addresses = [str(ipaddress.IPv4Address(rnd.getrandbits(32))) for _ in range(3000)]
    addresses += [str(ipaddress.IPv6Address((0x2000 + rnd.getrandbits(12)) << 112
                                            | rnd.getrandbits(112))) for _ in range(1000)]
    code = ("import sys, json\nfrom geoip2fast import GeoIP2Fast\n"
            "g = GeoIP2Fast(geoip2fast_data_file='geoip2fast-asn-ipv6.dat.gz')\n"
            "out = [[r.country_code, r.asn_name, r.asn_cidr, r.is_private] for r in "
            "(g.lookup(a) for a in json.load(sys.stdin))]\nprint(json.dumps(out))\n")
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(addresses),
                          capture_output=True, text=True, check=True, timeout=120)
    theirs = json.loads(done.stdout)
    databases = AddressDatabases((BUNDLED,))
    compared = outside = 0
    for address, (country, as_name, as_cidr, private) in zip(addresses, theirs, strict=True):
        ip = ipaddress.ip_address(address)
        mine = BUNDLED.locate(ip)  # type: ignore[arg-type]
        assert mine is not None
        assert mine.country == (None if private or country in ("--", "") else country), address
        named = as_name not in ("", "<unknown>")
        if named and ip not in ipaddress.ip_network(as_cidr):
            outside += 1
            assert mine.as_org is None, address
            continue
        compared += 1
        assert mine.as_org == (as_name if named else None), address
        if named:
            assert mine.as_network == as_cidr
        if public_address(address) is not None and (mine.as_org or mine.country):
            assert databases.facts(address) is not None
    assert compared > 3000 and outside > 0
    assert int(ipaddress.ip_address(addresses[0])) <= MAX_IPV4


def test_teams_relay_is_first_party_microsoft(catalog: Catalog) -> None:
    verdict = classify_endpoint(catalog, None, "52.114.252.21", "microsoft")
    assert verdict.category is Category.FIRST_PARTY and verdict.entity == "Microsoft"


def test_vendor_as_makes_an_unnamed_address_the_vendors(catalog: Catalog) -> None:
    verdict = classify_endpoint(catalog, None, "31.13.64.48", "meta")  # a WhatsApp relay
    assert (verdict.category, verdict.entity, verdict.first_party) == (
        Category.FIRST_PARTY, "Meta", True)
    evidence = verdict.evidence[0]
    assert evidence.kind == "asn" and evidence.rule == "meta.network"
    assert evidence.matched == "AS32934" and "networks.toml" in (evidence.file or "")
    assert "GeoLite2" in evidence.detail and "2024" in evidence.detail
    elsewhere = classify_endpoint(catalog, None, "31.13.64.48", "zoom")
    assert (elsewhere.category, elsewhere.entity, elsewhere.first_party) == (
        Category.THIRD_PARTY, "Meta", False)


def test_hosting_as_names_the_host_never_the_tenant(catalog: Catalog) -> None:
    for address, app in (("66.22.196.173", "discord"), ("193.122.35.237", "zoom"),
                         ("35.214.238.161", "meet"), ("13.64.0.1", "teams")):
        verdict = classify_endpoint(catalog, None, address, app)
        assert verdict.category is Category.UNKNOWN, address
        assert verdict.entity is None and not verdict.first_party
        assert verdict.label is not None and verdict.label.startswith("hosted at ")
        asn = [e for e in verdict.evidence if e.kind == "asn"]
        assert len(asn) == 1 and "the tenant is not known" in asn[0].detail


def test_unlisted_as_is_named_in_the_evidence(catalog: Catalog) -> None:
    verdict = classify_endpoint(catalog, None, "93.71.110.205", "teams")  # a Teams peer
    assert verdict.category is Category.UNKNOWN and verdict.entity is None
    detail = next(e.detail for e in verdict.evidence if e.kind == "asn")
    assert "Vodafone Italia" in detail and "country IT" in detail
    assert "no catalog entry" in detail


def test_a_name_or_published_range_decides_before_the_as(catalog: Catalog) -> None:
    named = classify_endpoint(catalog, "zoom.us", "31.13.64.48", "zoom")
    assert named.entity == "Zoom" and all(e.kind != "asn" for e in named.evidence)
    ranged = classify_endpoint(catalog, None, "162.255.37.14", "zoom")
    assert ranged.first_party and all(e.kind != "asn" for e in ranged.evidence)


def test_user_mmdb_files_are_asked_first(tmp_path: Path) -> None:
    asn_file = write_mmdb(tmp_path / "asn.mmdb", {
        "31.13.64.0/18": {"autonomous_system_number": 32934,
                          "autonomous_system_organization": "Facebook, Inc."},
        "5.45.0.0/24": {"autonomous_system_number": 64500,
                            "autonomous_system_organization": "Example\x00 Net\n"},
    }, "GeoLite2-ASN", build_epoch=1_780_000_000)
    country_file = write_mmdb(tmp_path / "country.mmdb", {
        "31.13.64.0/18": {"country": "SE", "asn": "AS32934", "as_name": "ignored"},
        "2a03:2880::/32": {"registered_country": {"iso_code": "IE"}},
    }, "ipinfo country_asn")
    catalog = load_catalog()
    use_address_databases(catalog, [asn_file, country_file])
    found = facts(catalog, "31.13.64.48")
    assert (found.asn, found.as_org, found.country) == (32934, "Facebook, Inc.", "SE")
    assert [d.name for d in found.databases] == ["GeoLite2-ASN (asn.mmdb)",
                                                 "ipinfo country_asn (country.mmdb)"]
    assert found.databases[0].date == "2026-05-28" and found.databases[0].licence is None
    # Matched by number although the organisation name differs from the catalog's.
    verdict = classify_endpoint(catalog, None, "31.13.64.48", "meta")
    assert verdict.first_party and "AS32934" in verdict.evidence[0].detail
    cleaned = facts(catalog, "5.45.0.7")
    assert (cleaned.asn, cleaned.as_org) == (64500, "Example Net")  # control characters gone
    # The country the user's files lack comes from the bundled database, which is named too.
    assert cleaned.country is not None and "GeoLite2" in cleaned.databases[-1].name
    # What the user's files do not know, the bundled database still answers.
    assert facts(catalog, "66.22.196.173").as_org == "i3D.net B.V"
    assert facts(catalog, "2a03:2880::5").country == "IE"


def test_unreadable_mmdb_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.mmdb"
    bad.write_bytes(b"not a database")
    with pytest.raises(AddressDatabaseError, match=r"broken\.mmdb"):
        use_address_databases(load_catalog(), [bad])
    with pytest.raises(AddressDatabaseError, match=r"missing\.mmdb"):
        use_address_databases(load_catalog(), [tmp_path / "missing.mmdb"])


ASN_ENTRY = """[[asn]]
id = "{id}"
entity = "{entity}"
asns = {asns}
names = ["EXAMPLE-AS"]
kind = "{kind}"
label = "Example network"
source = "https://example.org/as"
date = "2026-12-04"
"""


def user_catalog(tmp_path: Path, text: str) -> Catalog:
    path = tmp_path / "user.toml"
    path.write_text(text)
    return load_catalog([path])


@pytest.mark.parametrize(("fields", "message"), [
    ({"asns": "[]"}, "'asns' must be a list of AS numbers"),
    ({"asns": "[0]"}, "'asns' must be a list of AS numbers"),
    ({"asns": '["AS1"]'}, "'asns' must be a list of AS numbers"),
    ({"kind": "owner"}, "kind must be one of vendor, hosting"),
    ({"entity": "nobody"}, "unknown entity 'nobody'"),
    ({"id": "bad id"}, "asn id must look like"),
    ({"asns": "[30103]"}, "AS30103 is already in entry 'zoom.network'"),
])
def test_bad_asn_entries_are_refused_with_file_and_line(tmp_path: Path, fields: dict[str, str],
                                                        message: str) -> None:
    values = {"id": "zoom.extra", "entity": "zoom", "asns": "[64500]", "kind": "vendor",
              **fields}
    entry = ASN_ENTRY.format(**values)
    if fields.get("asns") == "[30103]":  # a built-in AS taken by another built-in entry
        catalog = Catalog()
        builtin = (Path(__file__).parents[1] / "auditor/data/catalog").glob("*.toml")
        for file in sorted(builtin):
            catalog.add_file(file.read_text(), f"catalog/{file.name}")
        catalog.add_file(entry, "catalog/extra.toml")
        with pytest.raises(CatalogError, match=message):
            catalog.finish()
        return
    with pytest.raises(CatalogError, match=message) as info:
        user_catalog(tmp_path, entry)
    assert "user.toml" in str(info.value)


def test_a_users_entry_takes_over_a_builtin_as(tmp_path: Path) -> None:
    """A user who knows that i3D.net's AS carries only Discord's voice servers in their
    setting can say so; the built-in entry calls it hosting."""
    catalog = user_catalog(tmp_path, ASN_ENTRY.format(
        id="discord.voice", entity="discord", asns="[49544]", kind="vendor").replace(
        '"EXAMPLE-AS"', '"i3D.net B.V"'))
    verdict = classify_endpoint(catalog, None, "66.22.196.173", "discord")
    assert verdict.first_party and verdict.evidence[0].rule == "discord.voice"


def test_report_endpoints_carry_asn_org_and_country(catalog: Catalog) -> None:
    flows = [
        Flow("f1", 1.0, 2.0, Transport.UDP, "10.8.0.1", 53620, "31.13.73.48", 3478,
             bytes_up=500, bytes_down=500),
        Flow("f2", 1.0, 9.0, Transport.TCP, "10.8.0.1", 50000, "157.240.0.35", 443,
             host="web.whatsapp.com", bytes_up=100, bytes_down=100),
        Flow("f3", 2.0, 9.0, Transport.TCP, "10.8.0.1", 50001, "31.13.64.1", 443,
             host="web.whatsapp.com", bytes_up=9000, bytes_down=9000),
        Flow("f4", 1.0, 2.0, Transport.UDP, "10.8.0.1", 5353, "224.0.0.251", 5353),
        Flow("f5", 1.0, 2.0, Transport.UDP, "10.8.0.1", 4000, "66.22.196.173", 50004,
             bytes_up=10, bytes_down=10),
    ]
    session = run_audit(catalog, flows, [], session_id="t", source="pcap", inputs=[],
                        requested_app="whatsapp")
    built = build_report(session)
    endpoints = {e["host"]: e for e in built.document["endpoints"]}
    relay = endpoints["31.13.73.48"]
    assert (relay["asn"], relay["as_org"], relay["category"]) == (32934, "FACEBOOK",
                                                                 "first-party")
    assert relay["country"] == relay["countries"][0]
    web = endpoints["web.whatsapp.com"]  # two addresses: the one with most bytes decides
    assert web["as_org"] == "FACEBOOK"
    assert web["country"] == facts(catalog, "31.13.64.1").country
    assert web["countries"] == sorted({facts(catalog, "31.13.64.1").country,
                                       facts(catalog, "157.240.0.35").country})
    local = endpoints["224.0.0.251"]
    assert (local["asn"], local["as_org"], local["country"], local["countries"]) == (
        None, None, None, [])
    hosted = endpoints["66.22.196.173"]
    # The bundled data has no AS numbers: the catalog entry (one AS) supplies it.
    assert (hosted["asn"], hosted["as_org"]) == (49544, "i3D.net B.V")
    assert hosted["label"].startswith("hosted at i3D.net")
    databases = built.document["session"]["address_databases"]
    assert databases[0]["used"] and "GeoLite2" in databases[0]["name"]
    assert databases[0]["date"] and "CC BY-SA 4.0" in databases[0]["licence"]
    rows = list(csv.DictReader(render(ReportFile.ENDPOINTS_CSV, built).splitlines()))
    by_host = {r["host"]: r for r in rows}
    assert by_host["31.13.73.48"]["asn"] == "32934"  # an integer column, not 32934.0
    assert by_host["224.0.0.251"]["asn"] == "" and by_host["224.0.0.251"]["country"] == ""
    assert set(by_host["web.whatsapp.com"]["countries"].split(";")) == set(web["countries"])


def test_naming_a_host_does_not_load_the_database() -> None:
    code = ("from click.testing import CliRunner\nfrom auditor.cli.main import main\n"
            "from auditor.classify.address_database import BUNDLED\n"
            "import sys\nr = CliRunner().invoke(main, sys.argv[1:])\n"
            "assert r.exit_code == 0, r.output\nprint(BUNDLED.loaded)\n")
    for args, loaded in ((["classify", "zoom.us"], "False"),
                         (["classify", "93.71.110.205"], "True")):
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                              text=True, check=True, timeout=60)
        assert done.stdout.strip().splitlines()[-1] == loaded, args


VC_CAPTURES = ("zoom.pcap", "stun_zoom.pcapng", "teams.pcap", "stun_msteams_unidir.pcapng",
               "webex.pcap", "google_meet.pcapng", "skype-conference-call.pcap", "discord.pcap",
               "whatsapp_voice_and_message.pcap")
MEDIA_LABELS = {"STUN", "DTLS", "RTP", "RTCP", "SRTP", "Zoom", "Skype_TeamsCall",
                "WhatsAppCall", "Discord", "Webex", "SIP", "GoogleMeet"}


def test_ndpi_media_flows_have_an_owner(shared_captures: Path, catalog: Catalog) -> None:
    """Target: at least 90% of the UDP media flows nDPI labels in the VC captures have an
    owner: a name, a published range, or the AS of their public side."""
    media = owned = 0
    unowned = []
    for name in VC_CAPTURES:
        reference = shared_captures / "reference" / "ndpi-flows" / f"{name}.csv"
        with open(reference, newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r["proto"] == "UDP"
                    and set(r["ndpi_app"].split(".")) & MEDIA_LABELS
                    and not r["ndpi_app"].startswith(("DNS", "QUIC"))]
        if not rows:
            continue
        named = {}
        for flow in read_capture(shared_captures / "pcap" / name).flows:
            for key in ((flow.client_ip, flow.client_port, flow.server_ip, flow.server_port),
                        (flow.server_ip, flow.server_port, flow.client_ip, flow.client_port)):
                named[key] = flow.host
        for row in rows:
            media += 1
            public = [a for a in (row["src"], row["dst"]) if public_address(a) is not None]
            host = named.get((row["src"], int(row["sport"]), row["dst"], int(row["dport"])))
            if host or (public and (
                    classify_endpoint(catalog, None, public[0], None).entity
                    or address_owner(catalog, public[0]) is not None)):
                owned += 1
            else:
                unowned.append(f"{name} {row['ndpi_app']} {row['src']} -> {row['dst']}")
    assert media >= 60
    assert owned / media >= 0.9, unowned


def test_every_public_endpoint_of_the_vc_captures_has_a_country(shared_captures: Path,
                                                                tmp_path: Path) -> None:
    for name in VC_CAPTURES:
        out = tmp_path / name
        result = CliRunner().invoke(main, ["analyze", str(shared_captures / "pcap" / name),
                                           "--out", str(out), "--quiet"])
        assert result.exit_code == 0, result.stderr
        report = json.loads((out / "report.json").read_text())
        for endpoint in report["endpoints"]:
            public = [ip for ip in endpoint["ips"] if public_address(ip) is not None]
            if public:
                assert endpoint["country"] is not None, (name, endpoint["host"], public)
            else:
                assert endpoint["country"] is None and endpoint["asn"] is None

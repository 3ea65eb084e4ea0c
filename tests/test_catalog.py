"""The catalog loader: validation with precise messages, lookups, and the built-in data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auditor.classify.catalog import Catalog, CatalogError, load_catalog
from auditor.classify.endpoint import classify_endpoint
from auditor.classify.rules import Purpose
from auditor.records import Category

ENTITY = """
[[entity]]
id = "acme"
name = "Acme"
apps = ["acmemeet"]
"""


def rule(**overrides: object) -> str:
    fields: dict[str, object] = {
        "id": "acme.web", "entity": "acme", "purpose": "service", "label": "Acme web",
        "domains": ["acme.example"], "source": "https://acme.example/firewall",
        "date": "2026-01-01",
    }
    fields.update(overrides)
    lines = ["[[rule]]"]
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, list):
            lines.append(f"{key} = [{', '.join(repr(v).replace(chr(39), chr(34)) for v in value)}]")
        else:
            lines.append(f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


def load(text: str, name: str = "user.toml") -> Catalog:
    catalog = Catalog()
    catalog.add_file(text, name)
    return catalog.finish()


def test_a_valid_file_loads_and_matches_subdomains() -> None:
    catalog = load(ENTITY + rule(cidrs=["198.51.100.0/24", "2001:db8::/32"]))
    match = catalog.match_host("a.b.ACME.example.")
    assert match is not None and match.rule.id == "acme.web" and match.domain == "acme.example"
    assert catalog.match_host("notacme.example") is None
    assert catalog.match_address("198.51.100.7").network == "198.51.100.0/24"  # type: ignore[union-attr]
    assert catalog.match_address("2001:db8::5").rule.id == "acme.web"  # type: ignore[union-attr]
    assert catalog.match_address("198.51.101.1") is None
    assert catalog.app_entity("acmemeet").id == "acme"  # type: ignore[union-attr]


def test_longest_prefix_wins() -> None:
    text = ENTITY + rule(domains=[], cidrs=["10.0.0.0/8"]) + rule(
        id="acme.narrow", domains=[], cidrs=["10.1.0.0/16"])
    catalog = load(text)
    assert catalog.match_address("10.1.2.3").rule.id == "acme.narrow"  # type: ignore[union-attr]
    assert catalog.match_address("10.2.0.1").rule.id == "acme.web"  # type: ignore[union-attr]


def test_most_specific_domain_wins_and_purpose_breaks_ties() -> None:
    text = (ENTITY + rule() + rule(id="acme.telemetry", purpose="analytics",
                                   domains=["log.acme.example"])
            + rule(id="acme.ads", purpose="ad-tech", domains=["acme.example"]))
    catalog = load(text)
    assert catalog.match_host("log.acme.example").rule.id == "acme.telemetry"  # type: ignore[union-attr]
    # Same domain in two rules: ad-tech outranks service.
    assert catalog.match_host("www.acme.example").rule.purpose is Purpose.AD_TECH  # type: ignore[union-attr]


@pytest.mark.parametrize("bad, message", [
    (rule(purpose="tracking"), "purpose must be one of"),
    (rule(entity="nobody"), "unknown entity 'nobody'"),
    (rule(domains=["*.acme.example"]), "is not a lowercase domain"),
    (rule(domains=["Acme.example"]), "is not a lowercase domain"),
    (rule(domains=["https://acme.example/x"]), "is not a lowercase domain"),
    (rule(domains=["co.uk"]), "is a public suffix"),
    (rule(cidrs=["10.0.0.1/8"]), "is not a network"),
    (rule(domains=[]), "needs domains or cidrs"),
    (rule(date="yesterday"), "is not YYYY-MM-DD"),
    (rule(source=None), "'source' must be a non-empty string"),
    (rule(id="noentityprefix"), "must look like '<entity>.<name>'"),
    (rule(colour="blue"), "unknown keys ['colour']"),
])
def test_bad_rules_name_file_line_and_rule(bad: str, message: str) -> None:
    text = ENTITY + "\n" + bad
    with pytest.raises(CatalogError) as info:
        load(text, "my-rules.toml")
    text_of_error = str(info.value)
    assert message in text_of_error
    rule_id = re.search(r'^id = "(.*)"', bad, re.MULTILINE)
    if rule_id:
        line = text.splitlines().index(f'id = "{rule_id.group(1)}"') + 1
        assert text_of_error.startswith(f"my-rules.toml:{line}: rule '{rule_id.group(1)}'")


def test_duplicates_and_syntax_errors() -> None:
    with pytest.raises(CatalogError, match="already used"):
        load(ENTITY + rule() + rule())
    with pytest.raises(CatalogError, match="already defined"):
        load(ENTITY + ENTITY)
    with pytest.raises(CatalogError, match=r"user\.toml: not valid TOML"):
        load("[[rule]\nid=")


def test_user_file_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot be read"):
        load_catalog([tmp_path / "missing.toml"])


def test_user_file_adds_rules_to_the_builtin_catalog(tmp_path: Path) -> None:
    extra = tmp_path / "internal.toml"
    extra.write_text(ENTITY + rule(domains=["meet.corp.example"]))
    catalog = load_catalog([extra])
    assert catalog.match_host("x.meet.corp.example").rule.file == str(extra)  # type: ignore[union-attr]
    assert catalog.match_host("zoom.us") is not None


# --- the built-in data -------------------------------------------------------------------

DESIGN_APPS = ["zoom", "teams", "skype", "meet", "webex", "jitsi", "slack", "discord",
               "whatsapp", "goto", "bluejeans", "chime", "whereby", "signal", "telegram",
               "ringcentral"]


def test_builtin_catalog_knows_every_app_design_names(catalog: Catalog) -> None:
    apps = catalog.apps()
    assert set(DESIGN_APPS) <= set(apps)
    vendors = {apps[a].id for a in DESIGN_APPS}
    assert len(vendors) >= 12
    for app in DESIGN_APPS:
        vendor = apps[app].id
        assert any(r.entity == vendor and r.domains for r in catalog.rules.values()), app


def test_builtin_catalog_has_enough_trackers(catalog: Catalog) -> None:
    tracking_orgs = {r.entity for r in catalog.rules.values()
                     if r.purpose in (Purpose.ANALYTICS, Purpose.AD_TECH)}
    assert len(tracking_orgs) >= 80
    for host, purpose in [
        ("www.google-analytics.com", Purpose.ANALYTICS),
        ("www.googletagmanager.com", Purpose.ANALYTICS),
        ("app-measurement.com", Purpose.ANALYTICS),
        ("firebase-settings.crashlytics.com", Purpose.ANALYTICS),
        ("stats.g.doubleclick.net", Purpose.AD_TECH),
        ("graph.facebook.com", Purpose.AD_TECH),
        ("browser.events.data.microsoft.com", Purpose.ANALYTICS),
        ("mobile.pipe.aria.microsoft.com", Purpose.ANALYTICS),
        ("in.appcenter.ms", Purpose.ANALYTICS),
        ("api.segment.io", Purpose.ANALYTICS),
        ("api2.amplitude.com", Purpose.ANALYTICS),
        ("api-js.mixpanel.com", Purpose.ANALYTICS),
        ("o1.ingest.sentry.io", Purpose.ANALYTICS),
        ("sdk.iad-01.braze.com", Purpose.ANALYTICS),
        ("launches.appsflyer.com", Purpose.AD_TECH),
        ("app.adjust.com", Purpose.AD_TECH),
        ("api2.branch.io", Purpose.AD_TECH),
        ("bam.nr-data.net", Purpose.ANALYTICS),
        ("browser-intake-datadoghq.com", Purpose.ANALYTICS),
        ("static.hotjar.com", Purpose.ANALYTICS),
        ("rs.fullstory.com", Purpose.ANALYTICS),
        ("static.criteo.net", Purpose.AD_TECH),
        ("trc.taboola.com", Purpose.AD_TECH),
        ("px.ads.linkedin.com", Purpose.AD_TECH),
        ("analytics.tiktok.com", Purpose.AD_TECH),
        ("static.ads-twitter.com", Purpose.AD_TECH),
        ("aax.amazon-adsystem.com", Purpose.AD_TECH),
        ("dpm.demdex.net", Purpose.AD_TECH),
        ("pixel.quantserve.com", Purpose.AD_TECH),
    ]:
        match = catalog.match_host(host)
        assert match is not None, host
        assert match.rule.purpose is purpose, (host, match.rule.id)


def test_builtin_catalog_has_services_and_local_ranges(catalog: Catalog) -> None:
    for host in ("ocsp.digicert.com", "pool.ntp.org", "a1.akamaiedge.net", "cdn.cookielaw.org",
                 "widget.intercom.io", "hcaptcha.com"):
        match = catalog.match_host(host)
        assert match is not None and match.rule.purpose is Purpose.SERVICE, host
    for address in ("192.168.1.1", "10.0.0.1", "172.16.5.5", "169.254.1.1", "224.0.0.251",
                    "239.255.255.250", "255.255.255.255", "fe80::1", "ff02::fb", "fd00::1"):
        match = catalog.match_address(address)
        assert match is not None and match.rule.purpose is Purpose.LOCAL, address


def test_vendors_publish_ranges(catalog: Catalog) -> None:
    zoom = catalog.match_address("109.94.160.99")
    teams = catalog.match_address("52.113.194.132")
    assert zoom is not None and zoom.rule.entity == "zoom"
    assert teams is not None and teams.rule.entity == "microsoft" and teams.rule.app == "teams"


def test_every_builtin_rule_is_sourced(catalog: Catalog) -> None:
    for rule_ in catalog.rules.values():
        assert rule_.source.startswith(("https://", "http://")), rule_.id
        assert rule_.line is not None and rule_.file.startswith("catalog/"), rule_.id


# --- user files override the built-in data ------------------------------------------------

def test_user_rule_wins_over_builtin_rule_for_the_same_domain(tmp_path: Path) -> None:
    # The built-in catalog says googletagmanager.com is analytics; a user who self-hosts a
    # tag gateway under that name can say otherwise, and their rule decides.
    extra = tmp_path / "mine.toml"
    extra.write_text(ENTITY + rule(id="acme.gtm-proxy", domains=["googletagmanager.com"]))
    catalog = load_catalog([extra])
    match = catalog.match_host("www.googletagmanager.com")
    assert match is not None and match.rule.id == "acme.gtm-proxy" and match.rule.user
    # A more specific built-in rule still decides below the user's domain.
    extra.write_text(ENTITY + rule(id="acme.zoom", domains=["zoom.us"]))
    catalog = load_catalog([extra])
    assert catalog.match_host("us05web.zoom.us").rule.id == "acme.zoom"  # type: ignore[union-attr]
    assert catalog.match_host("log.zoom.us").rule.id == "zoom.log"  # type: ignore[union-attr]


def test_user_rule_can_make_an_internal_host_first_party_of_a_vendor(tmp_path: Path) -> None:
    from auditor.classify.endpoint import classify_endpoint
    from auditor.records import Category

    extra = tmp_path / "internal.toml"
    extra.write_text(rule(id="zoom.onprem-connector", entity="zoom",
                          domains=["zoom-mc.corp.example"], cidrs=["10.20.0.0/16"]))
    catalog = load_catalog([extra])
    verdict = classify_endpoint(catalog, "zoom-mc.corp.example", "10.20.1.2", "zoom")
    assert verdict.category is Category.FIRST_PARTY and verdict.entity == "Zoom"
    assert verdict.evidence[0].rule == "zoom.onprem-connector"
    assert verdict.evidence[0].file and verdict.evidence[0].file.startswith(str(extra))
    # The user's network also beats the built-in local range of the same size or wider.
    assert catalog.match_address("10.20.1.2").rule.id == "zoom.onprem-connector"  # type: ignore[union-attr]


def test_user_network_replaces_an_identical_builtin_network(tmp_path: Path) -> None:
    extra = tmp_path / "net.toml"
    extra.write_text(ENTITY + rule(id="acme.lab", domains=[], cidrs=["170.114.0.0/16"]))
    catalog = load_catalog([extra])
    assert catalog.match_address("170.114.1.1").rule.id == "acme.lab"  # type: ignore[union-attr]
    assert load_catalog().match_address("170.114.1.1").rule.entity == "zoom"  # type: ignore[union-attr]


COUNTRY_RULE = """[[rule]]
id = "acme.tracker"
entity = "acme"
purpose = "analytics"
label = "Acme beacons under its country domains"
domains = ["beacon.acme.*", "acme.com"]
source = "https://acme.example/docs"
date = "2026-12-04"

[[entity]]
id = "acme"
name = "Acme"
"""


@pytest.mark.parametrize(("host", "matched"), [
    ("beacon.acme.fr", "beacon.acme.*"),
    ("eu.beacon.acme.co.uk", "beacon.acme.*"),
    ("beacon.acme.com.tr", "beacon.acme.*"),
    ("beacon.acme.com", "acme.com"),  # .com is no country's: the exact domain decides
    ("beacon.notacme.fr", None),
    ("beacon.acme.evil.com", None),
    ("beacon.acme.github.io", None),  # a private suffix: github.io's site, not Acme's
    ("beacon.acme.xyz", None),  # a generic suffix
    ("acme.fr", None),
    ("beacon.acme.fr.evil.net", None),
])
def test_a_country_wildcard_matches_only_country_code_suffixes(tmp_path: Path, host: str,
                                                               matched: str | None) -> None:
    path = tmp_path / "user.toml"
    path.write_text(COUNTRY_RULE)
    catalog = load_catalog([path])
    found = catalog.match_host(host)
    assert (found.domain if found else None) == matched
    verdict = classify_endpoint(catalog, host, None, None)
    assert (verdict.category is Category.ANALYTICS) == (matched is not None)


def test_exact_domain_beats_the_country_wildcard_at_the_same_depth(catalog: Catalog) -> None:
    # google.* is Google's service, adservice.google.* its ad host; deeper wins, then exact.
    assert catalog.match_host("adservice.google.fr").rule.id == "google.ads"  # type: ignore[union-attr]
    assert catalog.match_host("www.google.fr").rule.id == "google.general"  # type: ignore[union-attr]
    assert catalog.match_host("mc.yandex.ru").domain == "mc.yandex.*"  # type: ignore[union-attr]


def test_name_lookup_keeps_country_forms_apart_under_one_parent(catalog: Catalog) -> None:
    """Names under the same parent share a cached answer unless the name itself is named,
    which includes its `name.*` form: `notgoogle.fr` first must not hide `google.fr`."""
    lookup = catalog.name_lookup(())
    assert lookup.matches("notgoogle.fr")[0] is None
    found = lookup.matches("google.fr")[0]
    assert found is not None and found.domain == "google.*"
    assert lookup.matches("metrika.yandex.kz")[0].domain == "metrika.yandex.*"  # type: ignore[union-attr]
    assert lookup.matches("other.yandex.kz")[0] is None


@pytest.mark.parametrize("domain", ["*.acme.com", "acme.*.com", "*", ".*", "Acme.*"])
def test_other_wildcards_are_refused(tmp_path: Path, domain: str) -> None:
    path = tmp_path / "user.toml"
    path.write_text(COUNTRY_RULE.replace('"beacon.acme.*"', f'"{domain}"'))
    with pytest.raises(CatalogError, match="not a lowercase domain name"):
        load_catalog([path])

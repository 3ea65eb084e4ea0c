"""`vcaudit lists update/show`, the config file, the cache, `--lists`, and vendor ranges,
against a loopback server serving small lists in the real formats."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from auditor.classify.catalog import load_catalog
from auditor.classify.list_attach import attach_lists
from auditor.cli.errors import EXIT_CATALOG, EXIT_FETCH_FAILED, EXIT_OUTPUT
from auditor.cli.main import main
from auditor.lists.config import load_config

from .conftest import SAMPLES
from .support.list_server import ServedFiles, serve
from .support.tracker_lists import EASYLIST, EASYPRIVACY, HOSTS, disconnect_services

ZOOM_TXT = b"3.7.35.0/25\n198.18.40.0/24\n2407:30c0::/32\n"
ZOOM_PHONE_TXT = b"8.5.128.0/24\n"
M365 = json.dumps([
    {"id": 11, "serviceArea": "Skype", "serviceAreaDisplayName": "Skype for Business Online "
     "and Microsoft Teams", "ips": ["52.112.0.0/14", "198.18.99.0/24"], "udpPorts": "3478-3481",
     "category": "Optimize", "expressRoute": True, "required": True},
    {"id": 12, "serviceArea": "Skype", "urls": ["*.lync.com", "*.teams.microsoft.com"],
     "ips": ["52.112.0.0/14"], "tcpPorts": "443", "category": "Allow", "required": True},
    {"id": 1, "serviceArea": "Exchange", "urls": ["outlook.office.com"],
     "ips": ["13.107.6.152/31"], "tcpPorts": "80,443", "category": "Optimize"},
    {"id": 46, "serviceArea": "Common", "urls": ["*.events.data.microsoft.com"],
     "tcpPorts": "443", "category": "Default"},
]).encode()

FILES = {
    "/easylist.txt": EASYLIST.encode(),
    "/easyprivacy.txt": EASYPRIVACY.encode(),
    "/hosts": HOSTS.encode(),
    "/services.json": json.dumps(disconnect_services()).encode(),
    "/tr/domains.json": json.dumps([{"domain": "1rx.io", "owner": {"name": "RhythmOne"},
                                     "categories": ["Advertising"]}]).encode(),
    "/zoom/Zoom.txt": ZOOM_TXT,
    "/zoom/ZoomPhone.txt": ZOOM_PHONE_TXT,
    "/m365/endpoints": M365,
    "/portal.html": b"<html><body>Please log in to the hotel Wi-Fi</body></html>",
}


def config_text(base: str, use: str = '"easylist", "easyprivacy"') -> str:
    return f"""
[lists]
use = [{use}]

[list.easylist]
url = "{base}/easylist.txt"

[list.easyprivacy]
url = "{base}/easyprivacy.txt"

[list.disconnect]
url = "{base}/services.json"

[list.tracker-radar]
url = "{base}/tr/domains.json"

[list.corp-hosts]
title = "Corporate blocklist"
format = "hosts"
category = "ad-tech"
url = "{base}/hosts"
licence = "proprietary (internal use)"

[ranges]
use = ["zoom", "microsoft365"]

[range.zoom]
urls = ["{base}/zoom/Zoom.txt", "{base}/zoom/ZoomPhone.txt"]

[range.microsoft365]
urls = ["{base}/m365/endpoints?clientrequestid={{clientrequestid}}"]
"""


@pytest.fixture
def served() -> Iterator[ServedFiles]:
    with serve(FILES) as files:
        yield files


@pytest.fixture
def config(tmp_path: Path, served: ServedFiles, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(config_text(served.base))
    monkeypatch.setenv("VCAUDIT_CONFIG", str(path))
    return path


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def test_update_downloads_into_the_cache_then_asks_conditionally(
        config: Path, served: ServedFiles) -> None:
    first = run("lists", "update")
    assert first.exit_code == 0, first.stderr
    assert "easylist: updated" in first.stdout and "microsoft365: updated" in first.stdout
    cache = Path(__import__("os").environ["VCAUDIT_CACHE"])
    meta = json.loads((cache / "lists" / "easylist.meta.json").read_text())
    assert meta["url"].endswith("/easylist.txt") and meta["etag"] and meta["fetched"]
    assert (cache / "lists" / "easylist.data").read_text() == EASYLIST
    assert sorted(p.name for p in (cache / "ranges").glob("*.data")) == [
        "microsoft365-0.data", "zoom-0.data", "zoom-1.data"]
    second = run("lists", "update", "easylist", "zoom")
    assert second.exit_code == 0 and "easylist: unchanged" in second.stdout
    assert [s for p, s in served.requests if p == "/easylist.txt"] == ["200", "304"]


def test_show_lists_what_is_loaded(config: Path) -> None:
    assert run("lists", "update").exit_code == 0
    shown = run("lists", "show", "--json")
    rows = {r["name"]: r for r in map(json.loads, shown.stdout.splitlines())}
    assert rows["easylist"]["in_use"] and rows["easylist"]["version"] == "202611281200"
    assert rows["easylist"]["entries"] == 15 and rows["easylist"]["licence"].startswith("GPL")
    assert rows["easylist"]["fetched"]
    assert not rows["disconnect"]["in_use"] and rows["disconnect"]["fetched"] is None
    assert rows["disconnect"]["licence"] == "CC-BY-NC-SA-4.0"
    assert rows["zoom"]["kind"] == "ranges" and rows["zoom"]["files"] == "2 of 2"
    text = run("lists", "show")
    assert text.exit_code == 0 and "list easyprivacy (EasyPrivacy): in use" in text.stdout


def test_offline_keeps_what_it_has(config: Path, served: ServedFiles, tmp_path: Path) -> None:
    assert run("lists", "update", "easylist").exit_code == 0
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    config.write_text(config_text(dead))
    offline = run("lists", "update", "easylist", "easyprivacy", "--timeout", "2")
    assert offline.exit_code == EXIT_FETCH_FAILED
    assert "cannot reach 127.0.0.1" in offline.stderr and "(offline?)" in offline.stderr
    assert "keeping the copy fetched" in offline.stderr  # easylist
    assert "no copy yet: audits run without it" in offline.stderr  # easyprivacy
    assert "Traceback" not in offline.output
    # The audit uses what it has, and says what it lacks.
    out = tmp_path / "s"
    audit = run("analyze", SAMPLES / "zoom-desktop-call.pcapng", "--out", out, "-q")
    assert audit.exit_code == 0, audit.stderr
    report = json.loads((out / "report.json").read_text())
    assert [x["name"] for x in report["session"]["lists"]] == ["easylist"]
    assert any("easyprivacy" in n and "vcaudit lists update" in n
               for n in report["coverage"]["notes"])


def test_a_captive_portal_page_never_replaces_a_list(config: Path, served: ServedFiles) -> None:
    assert run("lists", "update", "easylist").exit_code == 0
    served.files["/easylist.txt"] = FILES["/portal.html"]
    result = run("lists", "update", "easylist")
    assert result.exit_code == EXIT_FETCH_FAILED and "not a valid list" in result.stderr
    cache = Path(__import__("os").environ["VCAUDIT_CACHE"])
    assert (cache / "lists" / "easylist.data").read_text() == EASYLIST


def test_audit_report_shows_lists_and_list_evidence(config: Path, tmp_path: Path) -> None:
    assert run("lists", "update").exit_code == 0
    assert run("lists", "update", "corp-hosts").exit_code == 0  # named: not in `use`
    out = tmp_path / "s"
    result = run("analyze", SAMPLES / "zoom-desktop-call.pcapng", "--out", out, "-q",
                 "--lists", "easylist,easyprivacy,corp-hosts")
    assert result.exit_code == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    lists = {x["name"]: x for x in report["session"]["lists"]}
    assert set(lists) == {"easylist", "easyprivacy", "corp-hosts"}
    assert lists["easyprivacy"]["version"] == "202611281730"
    assert lists["corp-hosts"]["licence"] == "proprietary (internal use)"
    assert lists["easylist"]["entries"] == 15 and lists["easylist"]["fetched"]
    endpoints = {e["host"]: e for e in report["endpoints"]}
    log = endpoints["log.zoom.us"]
    assert log["category"] == "analytics" and log["first_party"]
    listed = [e for e in log["evidence"] if e["kind"] == "list"]
    assert listed and listed[0]["rule"] == "||log.zoom.us^"
    assert listed[0]["tracker_list"]["title"] == "EasyPrivacy"
    # The hosts file lists zoom.us (same domain as the catalog's rule): reported, not decisive.
    web = endpoints["zoom.us"]
    assert web["category"] == "first-party"
    assert any(e["kind"] == "conflict" and "Corporate blocklist" in e["detail"]
               for e in web["evidence"])
    # Vendor ranges fetched by `lists update` are part of the catalog, with their source.
    assert any(f.startswith("ranges/zoom: ") for f in report["session"]["catalog"])


def test_lists_none_and_unknown_names(config: Path, tmp_path: Path) -> None:
    assert run("lists", "update").exit_code == 0
    out = tmp_path / "s"
    assert run("analyze", SAMPLES / "zoom-desktop-call.pcapng", "--out", out, "-q",
               "--lists", "none").exit_code == 0
    assert json.loads((out / "report.json").read_text())["session"]["lists"] == []
    bad = run("classify", "zoom.us", "--lists", "easylist,nosuchlist")
    assert bad.exit_code == EXIT_CATALOG and "unknown list nosuchlist" in bad.stderr


def test_classify_with_lists_and_urls(config: Path) -> None:
    assert run("lists", "update").exit_code == 0
    result = run("classify", "--json", "--lists", "easylist,easyprivacy", "--app", "meet",
                 "meet.google.com", "https://cdn.shop.example/pixel.gif?u=1")
    meet, pixel = (json.loads(line) for line in result.stdout.splitlines())
    assert meet["category"] == "first-party"
    assert any(e["kind"] == "conflict" and "||google.com^" in e["detail"]
               for e in meet["evidence"])
    assert pixel["category"] == "analytics" and pixel["evidence"][0]["rule"] == "/pixel.gif?"


def test_vendor_ranges_become_rules_with_source_and_date(config: Path) -> None:
    assert run("lists", "update", "zoom", "microsoft365").exit_code == 0
    catalog = attach_lists(load_catalog(), load_config(), "none")
    fresh = catalog.match_address("198.18.40.7")  # only in the fetched Zoom.txt
    assert fresh is not None and fresh.rule.entity == "zoom" and fresh.rule.app == "zoom"
    assert fresh.rule.source.endswith("/zoom/Zoom.txt") and fresh.rule.date
    teams = catalog.match_address("198.18.99.1")  # only in the fetched Skype service area
    assert teams is not None and teams.rule.app == "teams"
    assert teams.rule.id == "microsoft.published-microsoft365-skype"
    # Host names of the vendor's list are not taken: telemetry stays telemetry.
    assert catalog.match_host("x.events.data.microsoft.com").rule.purpose.value == (  # type: ignore[union-attr]
        "analytics")
    result = run("classify", "198.18.40.7", "--json")
    evidence = json.loads(result.stdout)["evidence"][0]
    assert evidence["kind"] == "ip-range" and evidence["source"].endswith("/zoom/Zoom.txt")


@pytest.mark.parametrize("text, message", [
    ("[list.x]\nformat = 'abp'\nurl = 'http://x'\nlicence = 'MIT'\n", "needs category"),
    ("[list.x]\nformat = 'csv'\nurl = 'http://x'\nlicence = 'MIT'\n", "format must be one of"),
    ("[list.x]\nformat = 'hosts'\ncategory = 'ad-tech'\nurl = 'http://x'\n",
     "'licence' is required"),
    ("[lists]\nuse = ['nope']\n", "names unknown nope"),
    ("[list.x]\nformat = 'hosts'\ncategory = 'ads'\nurl = 'http://x'\nlicence = 'MIT'\n",
     "needs category"),
    ("colour = 'blue'\n", "unknown top-level keys"),
    ("[list.easylist]\nurl = \n", "cannot be read as TOML"),
])
def test_bad_config_names_file_and_entry(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    result = run("classify", "zoom.us", "--config", path)
    assert result.exit_code == EXIT_CATALOG, result.output
    assert message in result.stderr and str(path) in result.stderr


def test_a_local_list_file_is_read_in_place(tmp_path: Path) -> None:
    hosts = tmp_path / "my.hosts"
    hosts.write_text("0.0.0.0 beacon.internal-tracker.example\n")
    config = tmp_path / "c.toml"
    config.write_text(f"""
[list.mine]
title = "My blocklist"
format = "hosts"
category = "analytics"
path = "{hosts.name}"
licence = "mine"
""")
    result = run("classify", "--config", config, "--lists", "mine", "--json",
                 "beacon.internal-tracker.example")
    verdict = json.loads(result.stdout)
    assert verdict["category"] == "analytics"
    assert verdict["evidence"][0]["tracker_list"]["fetched"] is None
    assert run("lists", "update", "mine", "--config", config).exit_code == 0


def test_addon_option_vcaudit_lists(config: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from mitmproxy import exceptions
    from mitmproxy.test import taddons

    from auditor.live.addon import VcauditAddon

    monkeypatch.chdir(tmp_path)
    assert run("lists", "update").exit_code == 0
    addon = VcauditAddon()
    with taddons.context(addon) as tctx:
        with pytest.raises(exceptions.OptionsError, match="unknown list nosuch"):
            tctx.configure(addon, vcaudit_out=str(tmp_path / "a"), vcaudit_lists="nosuch")
        tctx.configure(addon, vcaudit_out=str(tmp_path / "b"), vcaudit_refresh=0,
                       vcaudit_lists="easyprivacy")
        assert addon.session is not None
        assert [t.info.ref.name for t in addon.session.catalog.lists] == ["easyprivacy"]


def test_a_missing_config_file_is_one_line_and_exit_4(tmp_path: Path) -> None:
    for command in (["lists", "show"], ["lists", "update"]):
        result = CliRunner().invoke(main, [*command, "--config", str(tmp_path / "no.toml")])
        assert result.exit_code == EXIT_CATALOG, result.output
        assert result.stderr.strip().splitlines() == [
            f"vcaudit: error: {tmp_path / 'no.toml'}: config file not found"]


@pytest.mark.parametrize("where", ["a-file", "under-a-file"])
def test_update_with_an_unwritable_cache(config: Path, served: ServedFiles, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """A cache that cannot be written is one line and exit 5, before any download (root
    writes anywhere, so a file stands where the cache folder should be)."""
    blocker = tmp_path / "cache"
    blocker.write_text("")
    cache = blocker if where == "a-file" else blocker / "vcaudit"
    monkeypatch.setenv("VCAUDIT_CACHE", str(cache))
    result = run("lists", "update")
    assert result.exit_code == EXIT_OUTPUT, result.stderr
    line, = result.stderr.splitlines()
    assert line.startswith(f"vcaudit: error: cannot write the lists cache in {cache}: ")
    assert "VCAUDIT_CACHE" in line and "internal error" not in line
    assert result.stdout == "" and served.requests == []
    shown = run("lists", "show")  # reading a cache that is not there is fine
    assert shown.exit_code == 0 and f"cache: {cache}" in shown.stdout

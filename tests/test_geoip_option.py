"""--geoip FILE on the commands (and vcaudit_geoip on the addon): the user's .mmdb files are
asked first for an address's AS and country; a file that cannot be used is exit 4, one line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from mitmproxy import exceptions
from mitmproxy.test import taddons

from auditor.cli.errors import EXIT_CATALOG
from auditor.cli.main import main
from auditor.live.addon import VcauditAddon

from .support.mmdb_writer import write_mmdb

ADDRESS = "5.45.0.7"


def user_database(tmp_path: Path) -> Path:
    return write_mmdb(tmp_path / "asn.mmdb", {
        "5.45.0.0/24": {"autonomous_system_number": 64500,
                        "autonomous_system_organization": "Example Carrier"},
    }, "GeoLite2-ASN", build_epoch=1_780_000_000)


def test_classify_asks_the_users_database_first(tmp_path: Path) -> None:
    database = user_database(tmp_path)
    plain = CliRunner().invoke(main, ["classify", "--json", ADDRESS])
    assert plain.exit_code == 0, plain.stderr
    assert "Example Carrier" not in plain.output
    result = CliRunner().invoke(main, ["classify", "--json", "--geoip", str(database), ADDRESS])
    assert result.exit_code == 0, result.stderr
    evidence = " ".join(e["detail"] for e in json.loads(result.output)["evidence"])
    assert "AS64500" in evidence and "Example Carrier" in evidence and "asn.mmdb" in evidence


def test_a_bad_database_is_exit_4_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.mmdb"
    bad.write_bytes(b"not a database")
    for args in (["classify", "--geoip", str(bad), ADDRESS],
                 ["analyze", "--geoip", str(bad), "--out", str(tmp_path / "s"),
                  str(Path(__file__).parents[1] / "captures" / "teams-linux-any.pcap")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == EXIT_CATALOG, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "broken.mmdb" in lines[0] and "Traceback" not in lines[0]
    assert not (tmp_path / "s").exists()


def test_the_addon_option(tmp_path: Path) -> None:
    database = user_database(tmp_path)
    addon = VcauditAddon()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, vcaudit_out=str(tmp_path / "a"), vcaudit_refresh=0,
                       vcaudit_geoip=[str(database)])
        assert addon.session is not None
        facts = addon.session.catalog.addresses.facts(ADDRESS)
        assert facts is not None and facts.asn == 64500
        try:
            tctx.configure(addon, vcaudit_geoip=[str(tmp_path / "missing.mmdb")])
        except exceptions.OptionsError as exc:
            assert "missing.mmdb" in str(exc)
        else:
            raise AssertionError("a missing database was accepted")

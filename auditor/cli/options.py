"""The options several `vcaudit` commands share (--app, --out, --rules, the personal-data
scan's options, --fail-on, ...), defined once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

# Paths are checked by the code that opens them, not by click, so that a bad one is one line
# with the exit code of what it names (README, auditor/cli/errors.py).
rules_option = click.option(
    "--rules", "rules", multiple=True, type=click.Path(path_type=Path),
    help="Extra catalog file (TOML, same format as the built-in data); repeatable.",
)
out_option = click.option(
    "--out", type=click.Path(path_type=Path), metavar="DIR",
    help="Session folder to write: a new or empty folder (default: a new folder under "
         "./vcaudit-reports/).")
force_option = click.option(
    "--force", is_flag=True,
    help="Replace the session in an existing --out session folder (its other files are "
         "kept); a folder that holds no vcaudit session is never overwritten.")
identity_option = click.option(
    "--identity", "identities", multiple=True, metavar="KIND=VALUE",
    help="A value of yours to look for in what the app sends, in any encoding or hash "
         "(email=alice@example.com, phone=+4915112345678, name='Alice Example'); repeatable.")
identity_file_option = click.option(
    "--identity-file", type=click.Path(path_type=Path),
    help="A file of KIND=VALUE lines (or TOML) with values of yours to look for.")
sdk_fields_option = click.option(
    "--sdk-fields", type=click.Path(path_type=Path),
    help="An extra SDK field file (format of auditor/data/sdk_fields.toml) describing more "
         "SDKs' request fields.")


def scan_options[F: Callable[..., Any]](command: F) -> F:
    """--identity, --identity-file and --sdk-fields: what the personal-data scan looks for
    (on the commands that scan: analyze and proxy)."""
    for option in (sdk_fields_option, identity_file_option, identity_option):
        command = option(command)
    return command


show_values_option = click.option(
    "--show-values", is_flag=True,
    help="Show found personal data and secrets in URLs in reports (default: a short hash "
         "per value).")
fail_on_option = click.option(
    "--fail-on", metavar="CONDITIONS",
    help="Exit 1 when the report shows these, comma-separated: ad-tech, analytics, "
         "third-party, unknown (contacted), <category>-pii, pii, identity, pinning, p2p "
         "(media went directly to another participant).")
app_option = click.option(
    "--app", metavar="NAME", help="The audited app (zoom, teams, meet, ...); detected if omitted.",
)

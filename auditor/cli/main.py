"""The `vcaudit` command group: one entry point whose commands live in their own modules.
Exit codes and error handling: auditor/cli/errors.py (and the README).

A command's module is imported when that command runs (or when --help lists them all): what
one command needs is not loaded for another, and `vcaudit analyze` starts reading a large
capture before the modules that classify and report are loaded (auditor/session/offline.py).
"""

from __future__ import annotations

import importlib

import click

from auditor import __version__
from auditor.cli.errors import OneLineUsageGroup

# Each command's name and where it is defined (module, attribute).
COMMANDS = {
    "analyze": ("auditor.cli.audit_commands", "analyze"),
    "proxy": ("auditor.cli.audit_commands", "proxy"),
    "report": ("auditor.cli.audit_commands", "report"),
    "batch": ("auditor.cli.batch_command", "batch"),
    "diff": ("auditor.cli.diff_command", "diff"),
    "summary": ("auditor.cli.summary_command", "summary"),
    "classify": ("auditor.cli.classify_command", "classify"),
    "lists": ("auditor.cli.lists", "lists_group"),
}


class CommandsOnDemand(OneLineUsageGroup):
    """The group of COMMANDS, each imported when it is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, sorted (as click lists them)."""
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command of this name, imported now; None for an unknown name."""
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        module, attribute = where
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=CommandsOnDemand,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vcaudit")
def main() -> None:
    """vcaudit: show what a video-conferencing app really talks to, with evidence."""


if __name__ == "__main__":  # pragma: no cover
    main()

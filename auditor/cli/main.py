"""The `vcaudit` command group: one entry point whose commands live in their own modules.
Exit codes and error handling: auditor/cli/errors.py (and the README).
"""

from __future__ import annotations

import click

from auditor import __version__
from auditor.cli.audit_commands import analyze, proxy, report
from auditor.cli.batch_command import batch
from auditor.cli.classify_command import classify
from auditor.cli.diff_command import diff
from auditor.cli.errors import OneLineUsageGroup
from auditor.cli.lists import lists_group
from auditor.cli.summary_command import summary


@click.group(cls=OneLineUsageGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vcaudit")
def main() -> None:
    """vcaudit: show what a video-conferencing app really talks to, with evidence."""


for command in (analyze, proxy, report, batch, diff, summary, classify, lists_group):
    main.add_command(command)

if __name__ == "__main__":  # pragma: no cover
    main()

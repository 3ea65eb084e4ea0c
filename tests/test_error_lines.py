"""An error line quotes what the user gave or what traffic said; invisible characters in it are
shown escaped, so it stays one line and cannot move the terminal's cursor."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from auditor.cli.errors import EXIT_INPUT
from auditor.cli.main import main


def test_an_error_about_a_hostile_path_is_one_escaped_line(tmp_path: Path) -> None:
    name = tmp_path / "call\x1b[2J\nverdict: all clear\u202e.pcap"
    result = CliRunner().invoke(main, ["analyze", str(name)])
    assert result.exit_code == EXIT_INPUT
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vcaudit: error: ")
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert "\\x1b[2J\\nverdict: all clear\\u202e" in lines[0]

"""`vcaudit --help`, `--version` and `classify` must not import what they do not use: pandas,
scapy and mitmproxy cost seconds of start-up (bench/startup.py measures the time; this checks
the cause, in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SAMPLES

HEAVY = ("pandas", "scapy", "mitmproxy", "numpy")

PROBE = """
import contextlib, io, json, sys
from auditor.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main({args!r})
    except SystemExit:
        pass
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}})))
"""


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["classify", "zoom.us"],
                                  ["classify", "--list-apps"], ["analyze", "--help"],
                                  ["lists", "show"]])
def test_light_commands_do_not_import_heavy_libraries(args: list[str]) -> None:
    result = subprocess.run([sys.executable, "-c", PROBE.format(args=args)],
                            capture_output=True, text=True, timeout=60, check=True)
    loaded = set(json.loads(result.stdout.splitlines()[-1]))
    assert "auditor" in loaded
    assert not loaded & set(HEAVY), f"vcaudit {' '.join(args)} imported {loaded & set(HEAVY)}"


def test_the_probe_sees_heavy_imports(tmp_path: Path) -> None:
    """The check above can fail: a command that reads a capture does import scapy."""
    capture = SAMPLES / "teams-linux-any.pcap"
    probe = PROBE.format(args=["analyze", str(capture), "--out", str(tmp_path / "s"), "-q"])
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120, check=True)
    assert "scapy" in json.loads(result.stdout.splitlines()[-1])

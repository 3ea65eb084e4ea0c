"""The checks a reviewer runs first, as tests so that CI runs them: the dependency contracts
(import-linter: stages depend one way, no circles, no mitmproxy or scapy in the core), ruff
and mypy. They read the checkout's sources and the pyproject.toml beside them."""

from __future__ import annotations

import importlib
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import auditor

from .conftest import REPO


def tool(name: str) -> str:
    """The tool beside this Python (the test environment's), or a skip."""
    path = Path(sys.executable).with_name(name)
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install '.[test]')")
    return found


def test_import_contracts_hold() -> None:
    """Layers, forbidden imports and acyclic packages, as pyproject.toml states them, on the
    `auditor` package this test run imports (under ./dev.sh test: the installed wheel)."""
    result = subprocess.run([tool("lint-imports"), "--config", str(REPO / "pyproject.toml"),
                             "--no-cache"], capture_output=True, text=True, cwd=REPO,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_ruff_is_clean() -> None:
    result = subprocess.run([tool("ruff"), "check", "--no-cache", "auditor", "tests", "bench",
                             "captures", "addons", "trafficgen"], capture_output=True, text=True,
                            cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]


def test_mypy_is_clean(tmp_path: Path) -> None:
    result = subprocess.run([tool("mypy"), "--cache-dir", str(tmp_path / "mypy-cache")],
                            capture_output=True, text=True, cwd=REPO, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]


def test_every_module_and_package_says_what_it_is_for() -> None:
    missing = []
    for info in pkgutil.walk_packages(auditor.__path__, "auditor."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        if not (module.__doc__ or "").strip():
            missing.append(info.name)
    assert not missing, f"modules without a docstring: {missing}"

"""`vcaudit analyze` writes exactly the expected session folder, byte for byte, for the bundled
samples (captures/expected/sessions/) and the real captures beside the checkout (their digests
in captures/expected/shared-sessions.json). Changes for speed or memory must leave every
report file as it was; a deliberate change regenerates them with captures/update_expected.py."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import SAMPLES, script_module


def load_updater() -> ModuleType:
    return script_module(SAMPLES / "update_expected.py")


UPDATER = load_updater()


def first_difference(expected: bytes, actual: bytes) -> str:
    """The first line that differs, for a readable failure."""
    for number, (want, got) in enumerate(zip(expected.splitlines(), actual.splitlines(),
                                             strict=False), start=1):
        if want != got:
            return f"line {number}:\n  expected {want[:300]!r}\n  written  {got[:300]!r}"
    return (f"same lines up to the shorter file: {len(expected.splitlines())} lines "
            f"expected, {len(actual.splitlines())} written")


@pytest.mark.parametrize("name", UPDATER.SAMPLES)
def test_sample_session_folder_is_byte_identical(name: str) -> None:
    expected_folder = UPDATER.SESSIONS / name
    expected = {p.name: p.read_bytes() for p in sorted(expected_folder.iterdir())}
    written = UPDATER.session_files(SAMPLES / name)
    assert sorted(written) == sorted(expected)
    for file_name, data in expected.items():
        assert written[file_name] == data, (
            f"{name}: {file_name} differs; {first_difference(data, written[file_name])}")


def test_shared_capture_session_folders_are_byte_identical(shared_captures: Path) -> None:
    table = json.loads(UPDATER.SHARED_DIGESTS.read_text())
    captures = UPDATER.shared_captures()
    assert sorted(UPDATER.shared_key(c) for c in captures) == sorted(table)
    changed = []
    for capture in captures:
        written = UPDATER.digests(UPDATER.session_files(capture))
        expected = table[UPDATER.shared_key(capture)]
        assert sorted(written) == sorted(expected), capture.name
        changed += [f"{capture.name}: {name}" for name in expected
                    if written[name] != expected[name]]
    assert not changed, f"session files changed: {changed}"


def test_a_changed_byte_is_caught(tmp_path: Path) -> None:
    expected = b'{"a": 1}\n{"b": 2}\n'
    assert "line 2" in first_difference(expected, b'{"a": 1}\n{"b": 3}\n')
    assert UPDATER.digests({"x": expected}) != UPDATER.digests({"x": expected + b" "})

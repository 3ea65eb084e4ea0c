"""Session folders: creating one (owner-only, never over another session), and reading one back
as `vcaudit report` does."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from auditor.errors import InputError
from auditor.session.folder import (
    FLOW_LOG,
    SESSION_FILES,
    SessionFolderError,
    create_session_folder,
    read_session_folder,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_created_folder_is_owner_only(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        folder = create_session_folder(tmp_path / "a" / "s", "x")
    finally:
        os.umask(old)
    assert folder == tmp_path / "a" / "s" and mode(folder) == 0o700


def test_an_existing_folder_keeps_its_mode(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    os.chmod(folder, 0o755)
    assert create_session_folder(folder, "x") == folder
    assert mode(folder) == 0o755


@pytest.mark.parametrize("name", sorted(SESSION_FILES))
def test_a_folder_holding_session_files_is_refused(tmp_path: Path, name: str) -> None:
    """The last guard (the addon's vcaudit_out included): never append to or overwrite a
    session, nor a user's report.md."""
    (tmp_path / name).write_text("earlier\n")
    with pytest.raises(SessionFolderError, match=f"already holds a vcaudit session \\({name}"):
        create_session_folder(tmp_path, "x")
    assert (tmp_path / name).read_text() == "earlier\n"


def test_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("")
    with pytest.raises(SessionFolderError, match="exists and is not a folder"):
        create_session_folder(tmp_path / "out", "x")


def test_default_folders_are_never_shared(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = create_session_folder(None, "zoom/2025 call")
    second = create_session_folder(None, "zoom/2025 call")
    assert first == Path("vcaudit-reports/zoom-2025-call")
    assert second == Path("vcaudit-reports/zoom-2025-call-2")
    assert mode(first) == mode(second) == 0o700


def test_default_parent_that_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vcaudit-reports").write_text("not a folder")
    with pytest.raises(SessionFolderError, match="cannot create session folder"):
        create_session_folder(None, "x")


def test_reading_what_is_not_a_session_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope: no such folder$"):
        read_session_folder(tmp_path / "nope")
    (tmp_path / "flows.jsonl").write_text("")
    with pytest.raises(InputError, match=r"flows\.jsonl: not a folder"):
        read_session_folder(tmp_path / "flows.jsonl")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match=f"no {FLOW_LOG} here"):
        read_session_folder(empty)
    log_folder = tmp_path / "odd"
    (log_folder / FLOW_LOG).mkdir(parents=True)
    with pytest.raises(InputError, match=f"no {FLOW_LOG} here"):
        read_session_folder(log_folder)

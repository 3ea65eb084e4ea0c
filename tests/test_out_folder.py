"""The --out folder: what may take a new session, creating and replacing it, and nothing left
behind when writing fails."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.session.folder import FLOW_LOG, SESSION_META, SessionFolderError
from auditor.session.out_folder import access_warning, check_out_folder, new_session


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """umask 0: what a folder vcaudit creates gets does not come from the umask."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def old_session(folder: Path) -> Path:
    """A folder holding an earlier session, plus a file of the user's."""
    folder.mkdir(mode=0o750)
    os.chmod(folder, 0o750)
    (folder / FLOW_LOG).write_text('{"flow_id": "F000001", "host": "teams.microsoft.com"}\n')
    (folder / SESSION_META).write_text('{"id": "teams"}\n')
    (folder / "anomalies.jsonl").write_text('{"kind": "old"}\n')
    (folder / "notes.txt").write_text("my notes on the Teams call\n")
    return folder


# --- check_out_folder -----------------------------------------------------------------------


def test_new_and_empty_folders_are_accepted(tmp_path: Path) -> None:
    check_out_folder(tmp_path / "new" / "deeper")
    (tmp_path / "empty").mkdir()
    check_out_folder(tmp_path / "empty")
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_a_file_is_not_a_session_folder(tmp_path: Path) -> None:
    (tmp_path / "report.txt").write_text("x")
    with pytest.raises(SessionFolderError, match=r"report\.txt: exists and is not a folder"):
        check_out_folder(tmp_path / "report.txt")
    with pytest.raises(SessionFolderError, match=r"cannot create session folder .*report\.txt "
                                                 "is not a folder"):
        check_out_folder(tmp_path / "report.txt" / "session")


def test_a_folder_with_files_is_refused_without_force(tmp_path: Path) -> None:
    folder = old_session(tmp_path / "s")
    with pytest.raises(SessionFolderError, match=r"not empty; .*--force"):
        check_out_folder(folder)
    check_out_folder(folder, replace=True)


def test_force_never_replaces_a_folder_that_holds_no_session(tmp_path: Path) -> None:
    docs = tmp_path / "mydocs"
    docs.mkdir()
    (docs / "report.md").write_text("my own report\n")
    for replace in (False, True):
        with pytest.raises(SessionFolderError, match="mydocs"):
            check_out_folder(docs, replace)
    with pytest.raises(SessionFolderError, match="not a vcaudit session folder"):
        check_out_folder(docs, replace=True)


# --- new_session ----------------------------------------------------------------------------


def test_a_new_folder_is_private_whatever_the_umask(tmp_path: Path,
                                                    permissive_umask: None) -> None:
    with new_session(tmp_path / "a" / "s", "x") as target:
        assert target.folder == target.work == tmp_path / "a" / "s"
        (target.work / FLOW_LOG).write_text("")
    assert mode(tmp_path / "a" / "s") == 0o700 and target.warning is None


def test_a_failed_write_removes_the_folders_it_created(tmp_path: Path) -> None:
    (tmp_path / "kept").mkdir()
    with pytest.raises(RuntimeError), new_session(tmp_path / "kept" / "a" / "s", "x") as target:
        (target.work / FLOW_LOG).write_text("{}\n")
        raise RuntimeError("the report could not be built")
    assert list((tmp_path / "kept").iterdir()) == []  # a/ and a/s/ are gone, kept/ stays


def test_default_folder_and_its_parent_are_removed_on_failure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(KeyboardInterrupt), new_session(None, "zoom-20250101T000000Z") as target:
        assert target.folder == Path("vcaudit-reports/zoom-20250101T000000Z")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_an_existing_empty_folder_keeps_its_mode_with_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o755)
    with new_session(folder, "x") as target:
        assert target.work.parent == folder and target.work != folder  # staged inside
        (target.work / FLOW_LOG).write_text("{}\n")
    assert sorted(p.name for p in folder.iterdir()) == [FLOW_LOG]
    assert mode(folder) == 0o755
    assert target.warning is not None and "mode 0755" in target.warning
    assert "chmod 700" in target.warning and "\n" not in target.warning


def test_replacing_a_session_keeps_the_users_other_files(tmp_path: Path) -> None:
    folder = old_session(tmp_path / "s")
    with new_session(folder, "x", replace=True) as target:
        (target.work / FLOW_LOG).write_text('{"flow_id": "F000001", "host": "zoom.us"}\n')
        (target.work / SESSION_META).write_text('{"id": "zoom"}\n')
        assert "teams" in (folder / FLOW_LOG).read_text()  # the old one stays until the end
    assert "zoom.us" in (folder / FLOW_LOG).read_text()
    assert "teams" not in (folder / FLOW_LOG).read_text()
    assert not (folder / "anomalies.jsonl").exists()  # the old session's, not rewritten
    assert sorted(p.name for p in folder.iterdir()) == [FLOW_LOG, "notes.txt", SESSION_META]
    assert mode(folder) == 0o750


def test_a_failed_replacement_leaves_the_old_session(tmp_path: Path) -> None:
    folder = old_session(tmp_path / "s")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(OSError), new_session(folder, "x", replace=True) as target:
        (target.work / FLOW_LOG).write_text("half a session\n")
        raise OSError("disk full")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_new_session_checks_the_folder_too(tmp_path: Path) -> None:
    folder = old_session(tmp_path / "s")
    with pytest.raises(SessionFolderError, match="not empty"), new_session(folder, "x"):
        pytest.fail("a non-empty folder was accepted")


@pytest.mark.parametrize("folder_mode, warned", [(0o700, False), (0o750, True),
                                                 (0o711, True), (0o704, True), (0o720, False)])
def test_access_warning_when_others_can_get_in(tmp_path: Path, folder_mode: int,
                                               warned: bool) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    os.chmod(folder, folder_mode)
    assert (access_warning(folder) is not None) is warned

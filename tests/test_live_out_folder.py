"""The addon's vcaudit_out as `--out` is for the CLI: a folder holding anything is refused
unless vcaudit_force replaces the session in it; an existing folder keeps its mode and its
other files; a session created and discarded while options settle leaves nothing behind."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons

from auditor.live.addon import VcauditAddon


def old_session(folder: Path) -> Path:
    folder.mkdir()
    (folder / "flows.jsonl").write_text(json.dumps({"flow_id": "old"}) + "\n")
    (folder / "session.json").write_text("{}")
    (folder / "notes.txt").write_text("mine")
    return folder


def test_a_used_folder_is_refused_without_force(tmp_path: Path) -> None:
    folder = old_session(tmp_path / "s")
    addon = VcauditAddon()
    with taddons.context(addon) as tctx, pytest.raises(exceptions.OptionsError, match="--force"):
        tctx.configure(addon, vcaudit_out=str(folder), vcaudit_refresh=0)
    assert (folder / "flows.jsonl").read_text().startswith('{"flow_id": "old"}')


def test_force_replaces_the_session_and_keeps_other_files(tmp_path: Path) -> None:
    folder = old_session(tmp_path / "s")
    addon = VcauditAddon()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, vcaudit_out=str(folder), vcaudit_force=True, vcaudit_refresh=0)
        assert addon.session is not None and addon.session.folder == folder
    assert (folder / "notes.txt").read_text() == "mine"
    assert "old" not in (folder / "flows.jsonl").read_text()


def test_force_never_takes_a_folder_of_other_files(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "report.md").write_text("my own report")
    addon = VcauditAddon()
    with taddons.context(addon) as tctx, pytest.raises(exceptions.OptionsError,
                                                       match="not a vcaudit session"):
        tctx.configure(addon, vcaudit_out=str(folder), vcaudit_force=True)
    assert (folder / "report.md").read_text() == "my own report"


def test_options_set_one_by_one_reuse_an_existing_empty_folder(tmp_path: Path) -> None:
    """mitmproxy may configure the addon several times before it runs: each discarded
    session removes its own files, so the next one is not refused."""
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    addon = VcauditAddon()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, vcaudit_out=str(folder), vcaudit_refresh=0)
        tctx.configure(addon, vcaudit_app="zoom")
        assert addon.session is not None and addon.session.requested_app == "zoom"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755

"""`vcaudit proxy`: mitmdump with the vcaudit addon, then the session's summary.

With --force, the session in the `--out` folder is set aside (into a hidden folder inside it)
while mitmproxy starts: it is deleted once the proxy runs, and put back if mitmproxy refuses
to start, so a typo in mitmproxy's arguments never costs the previous session.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from mitmproxy.tools import cmdline
from mitmproxy.tools.dump import DumpMaster
from mitmproxy.tools.main import run

from auditor.live.addon import VcauditAddon
from auditor.session.folder import SESSION_FILES, SessionFolderError, create_session_folder


class VcauditMaster(DumpMaster):
    """mitmdump's master with the vcaudit addon loaded where a script (-s) would be: before
    mitmproxy's NextLayer, so pinned hosts are relayed as counted TCP (see pinning.py)."""

    def __init__(self, options: Any, replaced: Path | None = None, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        self.vcaudit = VcauditAddon()
        self.vcaudit.out_checked_by_caller = True  # run_proxy's caller checked --out
        self.addons.add(self.vcaudit)
        chain = self.addons.chain
        chain.insert(chain.index(self.addons.get("nextlayer")), chain.pop())
        if replaced is not None:
            self.addons.add(DropReplacedSession(replaced))


class DropReplacedSession:
    """Deletes the session set aside by --force once the proxy is running."""

    def __init__(self, aside: Path) -> None:
        self.aside = aside

    def running(self) -> None:
        """The new session is recording: the old one is gone for good."""
        shutil.rmtree(self.aside, ignore_errors=True)


def default_folder() -> Path:
    """A new session folder under ./vcaudit-reports/."""
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    return create_session_folder(None, f"proxy-{stamp}")


def run_proxy(out: Path | None, app: str | None, mitmproxy_args: Sequence[str],
              settings: Sequence[str] = (), replace: bool = False) -> Path:
    """Run the proxy until it is stopped; return the session folder. `settings` are extra
    `vcaudit_*=value` options; `replace`: replace the session in `out` (--force, checked by
    the caller with out_folder.check_out_folder)."""
    created = out is None or not out.exists()
    folder = out if out is not None else default_folder()
    aside = _set_aside(folder) if replace and not created else None
    args = ["--set", f"vcaudit_out={folder}", "--set", "vcaudit_trim_messages=true"]
    if app:
        args += ["--set", f"vcaudit_app={app}"]
    for setting in settings:
        args += ["--set", setting]
    master = cast("type[VcauditMaster]", functools.partial(VcauditMaster, replaced=aside))
    try:
        stopped = run(master, cmdline.mitmdump, [*args, *mitmproxy_args])
    except SystemExit as exc:
        if exc.code not in (0, None):  # mitmproxy refused to start: leave things as they were
            if created:
                _remove_if_unused(folder, parent_too=out is None)
            elif _recorded_nothing(folder):
                _restore(folder, aside)
        raise
    finally:
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
    session = stopped.vcaudit.session
    if session is not None and session.write_failure is not None:
        raise SessionFolderError(
            f"the session folder could not be written ({session.write_failure}): the proxy "
            f"stopped relaying; {session.unrecorded_flows} flows were not recorded, "
            f"{session.flow_count} are in {folder}")
    return folder


def _set_aside(folder: Path) -> Path | None:
    """Move the session files out of the way of a new session; None if there are none."""
    present = [name for name in SESSION_FILES if (folder / name).exists()]
    if not present:
        return None
    try:
        aside = Path(tempfile.mkdtemp(prefix=".vcaudit-replaced-", dir=folder))
        for name in present:
            os.replace(folder / name, aside / name)
    except OSError as exc:
        raise SessionFolderError(f"cannot replace the session in {folder}: "
                                 f"{exc.strerror or exc}") from exc
    return aside


def _restore(folder: Path, aside: Path | None) -> None:
    """An existing folder as it was before a session that never started: without the new
    session's empty files, with the session set aside put back."""
    with contextlib.suppress(OSError):
        for name in SESSION_FILES:
            (folder / name).unlink(missing_ok=True)
        if aside is not None and aside.exists():
            for entry in aside.iterdir():
                os.replace(entry, folder / entry.name)


def _recorded_nothing(folder: Path) -> bool:
    """Whether a session folder holds no records (empty logs and session.json only)."""
    try:
        return not any(e.is_dir() or (e.suffix == ".jsonl" and e.stat().st_size)
                       for e in folder.iterdir() if e.name in SESSION_FILES)
    except OSError:
        return False


def _remove_if_unused(folder: Path, parent_too: bool) -> None:
    """Remove a session folder that recorded nothing (and ./vcaudit-reports/ if it is empty
    then)."""
    try:
        entries = list(folder.iterdir())
        if any(e.name not in SESSION_FILES for e in entries) or not _recorded_nothing(folder):
            return
        for entry in entries:
            entry.unlink()
        folder.rmdir()
        if parent_too and not any(folder.parent.iterdir()):
            folder.parent.rmdir()
    except OSError:
        pass  # best effort: a folder that stays behind is harmless

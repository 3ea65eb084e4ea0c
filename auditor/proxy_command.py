"""`vcaudit proxy`: mitmdump with the vcaudit addon, then the session's summary."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mitmproxy.tools import cmdline
from mitmproxy.tools.dump import DumpMaster
from mitmproxy.tools.main import run

from auditor.live_addon import VcauditAddon
from auditor.session_folder import create_session_folder


class VcauditMaster(DumpMaster):
    """mitmdump's master with the vcaudit addon loaded."""

    def __init__(self, options: Any, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        self.addons.add(VcauditAddon())


def default_folder() -> Path:
    """A new session folder under ./vcaudit-reports/."""
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    return create_session_folder(None, f"proxy-{stamp}")


def run_proxy(out: Path | None, app: str | None, mitmproxy_args: Sequence[str],
              settings: Sequence[str] = ()) -> Path:
    """Run the proxy until it is stopped; return the session folder. `settings` are extra
    `vcaudit_*=value` options."""
    created = out is None or not out.exists()
    folder = out if out is not None else default_folder()
    args = ["--set", f"vcaudit_out={folder}", "--set", "vcaudit_trim_messages=true"]
    if app:
        args += ["--set", f"vcaudit_app={app}"]
    for setting in settings:
        args += ["--set", setting]
    try:
        run(VcauditMaster, cmdline.mitmdump, [*args, *mitmproxy_args])
    except SystemExit as exc:
        if exc.code not in (0, None) and created:
            _remove_if_unused(folder)  # mitmproxy refused to start: leave nothing behind
        raise
    return folder


def _remove_if_unused(folder: Path) -> None:
    """Remove a session folder that recorded nothing (empty logs and session.json only)."""
    try:
        entries = list(folder.iterdir())
        if any(e.is_dir() or (e.suffix == ".jsonl" and e.stat().st_size) for e in entries):
            return
        for entry in entries:
            entry.unlink()
        folder.rmdir()
        if not any(folder.parent.iterdir()):
            folder.parent.rmdir()
    except OSError:
        pass  # best effort: a folder that stays behind is harmless


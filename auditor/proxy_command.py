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
    folder = out if out is not None else default_folder()
    args = ["--set", f"vcaudit_out={folder}", "--set", "vcaudit_trim_messages=true"]
    if app:
        args += ["--set", f"vcaudit_app={app}"]
    for setting in settings:
        args += ["--set", setting]
    run(VcauditMaster, cmdline.mitmdump, [*args, *mitmproxy_args])
    return folder


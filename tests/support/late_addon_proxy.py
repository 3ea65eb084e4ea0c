"""mitmdump with vcaudit's addon added after all of mitmproxy's own addons, as a program that
embeds mitmproxy might add it: mitmproxy's NextLayer then decides before vcaudit does.

    python tests/support/late_addon_proxy.py MITMDUMP_ARGS...
"""

from __future__ import annotations

import sys
from typing import Any

from mitmproxy.tools import cmdline
from mitmproxy.tools.dump import DumpMaster
from mitmproxy.tools.main import run

from auditor.live.addon import VcauditAddon


class LateAddonMaster(DumpMaster):
    """mitmdump's master with the vcaudit addon appended last."""

    def __init__(self, options: Any, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        self.addons.add(VcauditAddon())


if __name__ == "__main__":
    run(LateAddonMaster, cmdline.mitmdump, sys.argv[1:])

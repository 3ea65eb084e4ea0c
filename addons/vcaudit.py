"""vcaudit's mitmproxy addon: record every flow of a live call into an audit session.

    mitmdump -s addons/vcaudit.py --set vcaudit_app=zoom --set vcaudit_out=my-call

Works in mitmdump, mitmweb and mitmproxy, in any mode (regular, local:<app>, wireguard,
transparent). Options: vcaudit_out, vcaudit_app, vcaudit_refresh, vcaudit_rules,
vcaudit_passthrough_pinned, vcaudit_trim_messages (see `mitmdump -s addons/vcaudit.py
--options`). All the logic lives in the `auditor` package.
"""

import sys
from pathlib import Path

try:
    from auditor.live.addon import VcauditAddon
except ImportError:  # a mitmproxy without vcaudit installed, run from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from auditor.live.addon import VcauditAddon

addons = [VcauditAddon()]

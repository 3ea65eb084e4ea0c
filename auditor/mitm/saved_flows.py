"""Offline audits of mitmproxy flow files (`mitmdump -w`) and browser HAR exports.

The flows are replayed through the live addon's hooks into a session, so a saved file and a
live proxy produce the same records and the same report.
"""

from __future__ import annotations

from dataclasses import replace as replace_fields
from datetime import UTC, datetime
from pathlib import Path

from mitmproxy import dns, exceptions, http, tcp, udp
from mitmproxy.io import FlowReader

from auditor.classify.catalog import Catalog
from auditor.input_format import InputError
from auditor.live.addon import VcauditAddon
from auditor.live.session import LiveSession
from auditor.personal_data.scan import ScanContext
from auditor.session.offline import AuditOutcome
from auditor.session.out_folder import new_session


def analyze_flow_files(catalog: Catalog, paths: list[Path], source: str, *,
                       out: Path | None, app: str | None, scan: ScanContext | None = None,
                       show_values: bool = False, replace: bool = False) -> AuditOutcome:
    """Audit flow files into one session folder (`out` and `replace` as for
    offline_audit.analyze_files). Raises InputError for an unreadable file; nothing is left
    behind then."""
    started = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    with new_session(out, f"{source}-{started}", replace) as target:
        session = LiveSession(catalog, target.work, app, source,
                              ", ".join(str(p) for p in paths), show_values)
        addon = VcauditAddon()
        addon.session = session
        if scan is not None:
            addon.scan_context = scan
        try:
            for path in paths:
                _replay(addon, path)
        finally:
            session.close()
        outcome = session.write_report(final=True)
    warnings = [target.warning] if target.warning else []
    return replace_fields(outcome, folder=target.folder, warnings=warnings + outcome.warnings)


def _replay(addon: VcauditAddon, path: Path) -> None:
    try:
        with open(path, "rb") as handle:
            for flow in FlowReader(handle).stream():
                _replay_one(addon, flow)
    except exceptions.FlowReadException as exc:
        raise InputError(f"{path}: not a readable mitmproxy flow file or HAR ({exc})") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def _replay_one(addon: VcauditAddon, flow: object) -> None:
    """Call the hooks mitmproxy would have called for this flow, in order."""
    if isinstance(flow, http.HTTPFlow):
        if flow.websocket is not None:
            for ws_message in flow.websocket.messages:
                addon.count_message(flow, ws_message.from_client, ws_message.content)
            addon.websocket_end(flow)
        elif flow.response is not None:
            addon.response(flow)
        else:
            addon.error(flow)
    elif isinstance(flow, (tcp.TCPFlow, udp.UDPFlow)):
        for message in flow.messages:
            addon.count_message(flow, message.from_client, message.content)
        if isinstance(flow, tcp.TCPFlow):
            addon.tcp_end(flow)
        else:
            addon.udp_end(flow)
    elif isinstance(flow, dns.DNSFlow):
        addon.dns_response(flow)

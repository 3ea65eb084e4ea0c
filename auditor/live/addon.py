"""The mitmproxy addon: records every flow a proxied app makes into a live audit session.

Options (all `--set vcaudit_*=...`): `vcaudit_out` session folder (new or empty),
`vcaudit_force` replace the session in an existing `vcaudit_out` session folder, `vcaudit_app`
audited app, `vcaudit_refresh` seconds between report refreshes (0: only at shutdown),
`vcaudit_lists` standard lists to use (names, or none), `vcaudit_rules` extra catalog files,
`vcaudit_passthrough_pinned` relay hosts that refused the proxy's certificate untouched from
then on, `vcaudit_trim_messages` drop raw TCP/UDP/WebSocket message contents once counted, so
memory stays flat on long calls (`vcaudit proxy` turns it on; never while flows are saved with
-w). Relayed connections to pinned hosts are always trimmed: plain
mitmproxy would not keep them at all.

Every attempt is recorded, failed ones too: an exchange that failed (`error`), a CONNECT the
proxy could not complete (`http_connect_error`), and a client connection that ended without
any flow although the proxy tried to reach a server for it (see `connections`).
Pinning and passthrough are in `pinning`.

A failure inside a hook is logged as an anomaly of the session and never reaches the traffic.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mitmproxy import connection, ctx, dns, exceptions, http, tcp, tls, udp
from mitmproxy.addonmanager import Loader
from mitmproxy.proxy import layer

from auditor.classify.address_owner import use_address_databases
from auditor.classify.catalog import load_catalog
from auditor.classify.list_attach import attach_lists
from auditor.errors import ConfigError, OutputError, UsageError
from auditor.lists.config import load_config
from auditor.live.connections import ConnectionAttempts
from auditor.live.hook_guard import guarded
from auditor.live.pinning import PinnedHosts
from auditor.live.scan_worker import BackgroundScanner
from auditor.live.session import LiveSession
from auditor.mitm.flow_records import (
    connect_failure_record,
    connection_record,
    dns_flow_records,
    http_flow_record,
    media_read,
    pinned_handshake_record,
    request_data,
    stream_flow_record,
    stream_media,
)
from auditor.mitm.stream_counts import StreamCounts
from auditor.personal_data.identities import load_identity_file, parse_identity
from auditor.personal_data.scan import ScanContext, scan_request
from auditor.personal_data.sdk_fields import load_sdks
from auditor.quantities import counted
from auditor.records import Flow, Visibility
from auditor.report.render.text_safety import terminal_text
from auditor.session.folder import SESSION_FILES
from auditor.session.out_folder import access_warning, check_out_folder, is_session_folder

logger = logging.getLogger("vcaudit")


@dataclass(slots=True)
class FlowNotes:
    """What the addon tracks about a flow while it runs. Kept beside the flow, not in its
    metadata, so saved flow files stay as mitmproxy wrote them."""

    recorded: bool = False
    counts: StreamCounts = field(default_factory=StreamCounts)
    passthrough: bool = False
    passthrough_sni: str | None = None


class VcauditAddon:
    """Records HTTP(S), WebSocket, raw TCP/UDP, DNS and pinned-TLS flows, and failed
    attempts."""

    def __init__(self) -> None:
        self.session: LiveSession | None = None
        self.refresh_seconds = 30
        self.trim_messages = False
        self.scan_context: ScanContext | None = ScanContext.build([])
        self.pinned = PinnedHosts()
        self.connections = ConnectionAttempts(self._record, self.note_failure)
        self.addons = [self.connections]  # mitmproxy calls a sub-addon's hooks after ours
        self._refresher: asyncio.Task[None] | None = None
        self._notes: weakref.WeakKeyDictionary[Any, FlowNotes] = weakref.WeakKeyDictionary()
        self._running = False
        self.fail_open = False
        # Set by `vcaudit proxy`, which checks --out (and sets an old session aside for
        # --force) itself before mitmproxy starts.
        self.out_checked_by_caller = False
        self.closed_for_traffic = False  # the folder cannot be written: relay nothing more
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scanner: BackgroundScanner | None = None  # live: scans run off the event loop

    # --- options and life cycle -----------------------------------------------------------

    def load(self, loader: Loader) -> None:
        """Register the vcaudit_* options."""
        loader.add_option("vcaudit_out", str, "",
                          "Session folder (default: a new folder under ./vcaudit-reports/).")
        loader.add_option("vcaudit_force", bool, False,
                          "Replace the session in an existing vcaudit_out session folder (its "
                          "other files are kept); a folder of other files is never used.")
        loader.add_option("vcaudit_app", str, "",
                          "Audited app, e.g. zoom, teams, meet (default: detected).")
        loader.add_option("vcaudit_refresh", int, 30,
                          "Seconds between report refreshes while running; 0: at exit only.")
        loader.add_option("vcaudit_rules", Sequence[str], [],
                          "Extra catalog files in vcaudit's TOML format.")
        loader.add_option("vcaudit_geoip", Sequence[str], [],
                          "MaxMind DB (.mmdb) files to ask first for an address's AS and "
                          "country (the bundled GeoLite2 data answers the rest).")
        loader.add_option("vcaudit_lists", str, "",
                          "Standard lists to use: comma-separated names, or none "
                          "(default: the config file's; see `vcaudit lists show`).")
        loader.add_option("vcaudit_passthrough_pinned", bool, True,
                          "Relay hosts whose TLS handshake the client refused, untouched.")
        loader.add_option("vcaudit_identity", Sequence[str], [],
                          "Your own values to look for in what the app sends, as KIND=VALUE "
                          "(email=alice@example.com, phone=+4915112345678, name=Alice Example).")
        loader.add_option("vcaudit_identity_file", str, "",
                          "A file of KIND=VALUE lines (or TOML) with your own values.")
        loader.add_option("vcaudit_scan", bool, True,
                          "Scan requests for personal data.")
        loader.add_option("vcaudit_sdk_fields", str, "",
                          "An extra SDK field file (format of auditor/data/sdk_fields.toml).")
        loader.add_option("vcaudit_show_values", bool, False,
                          "Show found values in reports instead of their short hashes.")
        loader.add_option("vcaudit_fail_open", bool, False,
                          "Keep relaying traffic when the session folder cannot be written "
                          "(that traffic is then not recorded). Default: stop relaying and "
                          "shut down.")
        loader.add_option("vcaudit_trim_messages", bool, False,
                          "Drop raw TCP/UDP/WebSocket message contents once counted "
                          "(not while saving flows with -w).")

    def configure(self, updated: set[str]) -> None:
        """Validate options; create the session on start-up."""
        if ctx.options.vcaudit_refresh < 0:
            raise exceptions.OptionsError("vcaudit_refresh must be 0 or more seconds")
        self.refresh_seconds = ctx.options.vcaudit_refresh
        self.pinned.enabled = ctx.options.vcaudit_passthrough_pinned
        self.trim_messages = ctx.options.vcaudit_trim_messages and not _saving_flows()
        self.fail_open = ctx.options.vcaudit_fail_open
        try:
            identities = [parse_identity(spec) for spec in ctx.options.vcaudit_identity]
            if ctx.options.vcaudit_identity_file:
                identities += load_identity_file(Path(ctx.options.vcaudit_identity_file))
            extra = ctx.options.vcaudit_sdk_fields
            sdks = load_sdks(Path(extra) if extra else None)
        except UsageError as exc:
            raise exceptions.OptionsError(f"vcaudit: {exc}") from exc
        self.scan_context = (ScanContext.build(identities, sdks) if ctx.options.vcaudit_scan
                             else None)
        if self.session is not None:
            self.session.show_values = ctx.options.vcaudit_show_values
        fixed = {"vcaudit_out", "vcaudit_app", "vcaudit_rules", "vcaudit_lists", "vcaudit_geoip",
                 "vcaudit_force"} & updated
        if self.session is not None:
            if not fixed:
                return
            if self._running:
                raise exceptions.OptionsError(
                    f"{', '.join(sorted(fixed))} cannot change while a session is running")
            self.session.discard()  # options set before start-up replace the defaults
            self.session = None
        try:
            catalog = attach_lists(load_catalog([Path(p) for p in ctx.options.vcaudit_rules]),
                                   load_config(), ctx.options.vcaudit_lists or None)
            if ctx.options.vcaudit_geoip:
                use_address_databases(catalog, [Path(p) for p in ctx.options.vcaudit_geoip])
            out = Path(ctx.options.vcaudit_out) if ctx.options.vcaudit_out else None
            if out is not None and not self.out_checked_by_caller:
                _make_room(out, ctx.options.vcaudit_force)
            app = ctx.options.vcaudit_app.strip() or None
            self.session = LiveSession(catalog, out, app, "proxy", _describe_mode(),
                                       ctx.options.vcaudit_show_values)
            self.session.on_write_failure = self._write_failed
        except (ConfigError, UsageError, OutputError) as exc:
            raise exceptions.OptionsError(f"vcaudit: {exc}") from exc

    def running(self) -> None:
        """Say where the session goes and start refreshing the report."""
        self._running = True
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:  # a test context calls `running` without a loop
            self._loop = None
        if self.session is None:
            return
        folder = self.session.folder
        warning = None if self.session.folder_was_new else access_warning(folder)
        privacy = warning or "decrypted traffic: readable by you only"
        logger.warning(f"vcaudit: recording this session in {folder} ({privacy})")
        logger.warning(f"vcaudit: point the app at this proxy ({_describe_mode()}); "
                       "stop with Ctrl-C to write the final report")
        self._scanner = BackgroundScanner(
            lambda exc: self.note_failure("scan", exc if isinstance(exc, Exception)
                                          else RuntimeError(str(exc)), ()))
        if self.refresh_seconds > 0 and self._loop is not None:
            self._refresher = self._loop.create_task(self._refresh_loop())

    async def done(self) -> None:
        """Write the final report when the proxy stops (Ctrl-C, SIGTERM, quit)."""
        if self._refresher is not None:
            self._refresher.cancel()
        session = self.session
        if session is None:
            return
        self._record_open_streams()
        self.connections.record_unfinished()
        if self._scanner is not None:
            await asyncio.to_thread(self._scanner.drain)  # findings of the last requests
        session.close()
        if session.write_failure is not None:
            lost = counted(session.unrecorded_flows, "flow")
            kept = counted(session.flow_count, "flow")
            logger.error(f"vcaudit: {lost} could not be recorded ({session.write_failure}); "
                         f"{session.folder} holds the {kept} recorded before")
        try:
            outcome = await asyncio.to_thread(session.write_report, True)
        except Exception as exc:  # noqa: BLE001 - the log is safe; say why the report is not
            logger.error(f"vcaudit: could not write the report: {exc}; "
                         f"run `vcaudit report {session.folder}`")
            return
        flows = counted(outcome.report.document["summary"]["flows"], "flow")
        logger.warning(f"vcaudit: {flows}; report in {session.folder / 'report.md'}")

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            if self.session is None:
                continue
            try:
                await asyncio.to_thread(self.session.write_report)
            except Exception as exc:  # noqa: BLE001 - next refresh or shutdown tries again
                self.note_failure("refresh", exc, ())

    def _write_failed(self, reason: str) -> None:
        """The session folder cannot be written (called once, from any thread). Unless
        vcaudit_fail_open, relay nothing more, since it could not be recorded, and shut down."""
        if self.fail_open:
            logger.error(f"vcaudit: cannot write the session: {reason}. vcaudit_fail_open is "
                         "set: traffic keeps flowing but is NOT recorded from now on")
            return
        self.closed_for_traffic = True
        logger.error(f"vcaudit: cannot write the session: {reason}. Stopping: traffic that "
                     "cannot be recorded is not relayed (new connections are refused) and the "
                     "proxy shuts down; vcaudit_fail_open=true would keep relaying it")
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(ctx.master.shutdown)

    @guarded
    def client_connected(self, client: connection.Client) -> None:
        """Refuse new connections once the session cannot be recorded (fail closed)."""
        if self.closed_for_traffic:
            client.error = "vcaudit: the session folder cannot be written"

    @guarded
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """Stop requests on open connections too once the session cannot be recorded."""
        if self.closed_for_traffic and flow.killable:
            flow.kill()

    def note_failure(self, where: str, exc: Exception, args: tuple[Any, ...]) -> None:
        """Turn an addon failure into an anomaly of the session (and a log line)."""
        flow_id = getattr(args[0], "id", None) if args else None
        logger.warning(f"vcaudit: {where} failed: {type(exc).__name__}: {exc}")
        if self.session is not None:
            try:
                self.session.record_anomaly(f"addon-{where}-failed",
                                            f"{type(exc).__name__}: {exc}", flow_id)
            except Exception:
                logger.exception("vcaudit: cannot record an anomaly")

    # --- HTTP and WebSocket ----------------------------------------------------------------

    @guarded
    def response(self, flow: http.HTTPFlow) -> None:
        """A completed exchange (WebSocket upgrades are recorded when the socket closes)."""
        if flow.websocket is None:
            self._record_http(flow)

    @guarded
    def error(self, flow: http.HTTPFlow) -> None:
        """A failed exchange: upstream unreachable, client aborted, protocol error."""
        if flow.websocket is None:
            self._record_http(flow)

    @guarded
    def http_connect_error(self, flow: http.HTTPFlow) -> None:
        """A CONNECT the proxy answered with an error: the server could not be reached."""
        notes = self.notes(flow)
        if not notes.recorded:
            notes.recorded = True
            self._record(connect_failure_record(flow), flow.client_conn)

    @guarded
    def websocket_message(self, flow: http.HTTPFlow) -> None:
        """Count a WebSocket message."""
        assert flow.websocket is not None
        message = flow.websocket.messages[-1]
        self.count_message(flow, message.from_client, message.content)
        if self.trim_messages:
            del flow.websocket.messages[:-1]

    @guarded
    def websocket_end(self, flow: http.HTTPFlow) -> None:
        """Record a closed WebSocket connection with its message counts."""
        notes = self.notes(flow)
        if not notes.recorded:
            notes.recorded = True
            record = http_flow_record(flow, ws_counts=notes.counts.as_tuple())
            self._record(record, flow.client_conn)
            self._scan(flow, record)

    def _record_http(self, flow: http.HTTPFlow) -> None:
        notes = self.notes(flow)
        if notes.recorded:
            return
        notes.recorded = True
        record = http_flow_record(flow)
        if not self._record(record, flow.client_conn) and self.closed_for_traffic:
            if flow.killable:
                flow.kill()  # a response the session could not record is not delivered
            return
        self._scan(flow, record)

    def _scan(self, flow: http.HTTPFlow, record: Flow) -> None:
        """Look for personal data in what the client sent, bounded by the scan limits; live,
        on the scan worker, so the flow and every other connection go on meanwhile."""
        session, context = self.session, self.scan_context
        if session is None or context is None or flow.request is None:
            return
        request = request_data(flow.request)  # a snapshot: the flow may change afterwards

        def scan() -> None:
            outcome = scan_request(record.flow_id, record.host, request, context,
                                   record.client_ip)
            session.record_findings(outcome.findings)
            if outcome.partial:
                session.record_anomaly("body-partially-scanned", "; ".join(outcome.partial),
                                       record.flow_id)

        if self._scanner is None:
            scan()
        elif not self._scanner.submit(scan):
            session.record_anomaly("body-not-scanned", "the scan queue was full",
                                   record.flow_id)

    # --- pinning and passthrough (see pinning.py) ---------------------------------------

    @guarded
    def tls_failed_client(self, data: tls.TlsData) -> None:
        """The client aborted the handshake with the proxy: it does not accept our certificate
        (certificate pinning, or the CA is not installed). Record it; relay that host from now
        on so the app keeps working."""
        client, server = data.context.client, data.context.server
        self._record(pinned_handshake_record(str(uuid.uuid4()), client, server,
                                             data.conn.error), client)
        key = self.pinned.refused(client.sni, server.address)
        if key:
            logger.warning(f"vcaudit: the client refused the proxy's certificate for "
                           f"{terminal_text(key)}; "
                           "relaying it untouched from now on (recorded as pinned)")

    @guarded
    def next_layer(self, nextlayer: layer.NextLayer) -> None:
        """Relay connections to pinned hosts as raw TCP that is counted but not decrypted."""
        self.pinned.choose_layer(nextlayer)

    @guarded
    def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        """A pinned host that `next_layer` did not relay: relay it untouched here, and record
        the connection (mitmproxy does not report what it relays this way: no byte counts)."""
        if self.pinned.ignore(data):
            client, server = data.context.client, data.context.server
            self._record(connection_record(str(uuid.uuid4()), client, server, error=None,
                                           visibility=Visibility.PINNED), client)

    # --- raw TCP and UDP -------------------------------------------------------------------

    @guarded
    def tcp_start(self, flow: tcp.TCPFlow) -> None:
        """Note a passed-through pinned host on its flow; read any other flow's first
        messages for media protocols (TURN over TCP, RFC 4571 framing)."""
        relayed, sni = self.pinned.take_relayed(flow.client_conn.id)
        notes = self.notes(flow)
        if relayed:
            notes.passthrough = True
            notes.passthrough_sni = sni
        else:
            notes.counts.media = stream_media(flow)

    @guarded
    def tcp_message(self, flow: tcp.TCPFlow) -> None:
        """Count a relayed TCP read."""
        message = flow.messages[-1]
        self.count_message(flow, message.from_client, message.content)
        if self.trim_messages or self.notes(flow).passthrough:
            del flow.messages[:-1]

    @guarded
    def tcp_end(self, flow: tcp.TCPFlow) -> None:
        """Record a closed TCP connection."""
        self._record_stream(flow)

    @guarded
    def tcp_error(self, flow: tcp.TCPFlow) -> None:
        """Record a TCP connection that failed."""
        self._record_stream(flow)

    @guarded
    def udp_start(self, flow: udp.UDPFlow) -> None:
        """Read the flow's first datagrams for media protocols (STUN, DTLS, RTP, ...)."""
        self.notes(flow).counts.media = stream_media(flow)

    @guarded
    def udp_message(self, flow: udp.UDPFlow) -> None:
        """Count a relayed datagram (the first ones are read for media as they are counted)."""
        message = flow.messages[-1]
        self.count_message(flow, message.from_client, message.content)
        if self.trim_messages or self.notes(flow).passthrough:
            del flow.messages[:-1]

    @guarded
    def udp_end(self, flow: udp.UDPFlow) -> None:
        """Record a finished UDP flow (media, STUN, ...)."""
        self._record_stream(flow)

    @guarded
    def udp_error(self, flow: udp.UDPFlow) -> None:
        """Record a UDP flow that failed."""
        self._record_stream(flow)

    def _record_stream(self, flow: tcp.TCPFlow | udp.UDPFlow) -> None:
        notes = self.notes(flow)
        if notes.recorded:
            return
        notes.recorded = True
        media = media_read(flow, notes.counts)
        self._record(stream_flow_record(flow, notes.counts, media, sni=notes.passthrough_sni,
                                        pinned=notes.passthrough), flow.client_conn)
        if media is not None and self.session is not None:
            for kind, detail in media.anomalies:
                self.session.record_anomaly(kind, detail, flow.id)

    def _record_open_streams(self) -> None:
        """At shutdown, record raw TCP/UDP flows still open (media streams), as they are."""
        for flow, notes in list(self._notes.items()):
            if not notes.recorded and isinstance(flow, (tcp.TCPFlow, udp.UDPFlow)):
                try:
                    self._record_stream(flow)
                except Exception as exc:  # noqa: BLE001 - keep recording the others
                    self.note_failure("shutdown", exc, (flow,))

    # --- DNS -------------------------------------------------------------------------------

    @guarded
    def dns_response(self, flow: dns.DNSFlow) -> None:
        """Record a DNS exchange and remember its answers to name later flows."""
        self._record_dns(flow)

    @guarded
    def dns_error(self, flow: dns.DNSFlow) -> None:
        """Record a DNS exchange that failed."""
        self._record_dns(flow)

    def _record_dns(self, flow: dns.DNSFlow) -> None:
        notes = self.notes(flow)
        if self.session is None or notes.recorded:
            return
        notes.recorded = True
        record, answers = dns_flow_records(flow)
        self.session.record_dns(answers)
        self._record(record, flow.client_conn)

    # --- shared ----------------------------------------------------------------------------

    def _record(self, record: Flow, client: connection.Client | None = None) -> bool:
        """Record a flow (of the given client connection, which then needs no flow of its
        own); say whether it is in the session's log."""
        if client is not None:
            self.connections.recorded(client)
        return self.session is not None and self.session.record_flow(record)

    def notes(self, flow: Any) -> FlowNotes:
        """The addon's notes on a flow, created on first use."""
        notes = self._notes.get(flow)
        if notes is None:
            notes = self._notes[flow] = FlowNotes()
        return notes

    def count_message(self, flow: Any, from_client: bool, content: bytes | str) -> None:
        """Count one relayed message on its flow (and note whether the stream starts like
        TLS), so the message itself need not be kept."""
        self.notes(flow).counts.add(from_client, content)


def _make_room(out: Path, force: bool) -> None:
    """Refuse a vcaudit_out that cannot take a new session (as `--out` is refused); with
    vcaudit_force, clear the vcaudit session in it (and nothing else) first."""
    check_out_folder(out, force)
    if force and out.is_dir() and is_session_folder(out):
        for name in SESSION_FILES:
            (out / name).unlink(missing_ok=True)
        logger.warning(f"vcaudit: replacing the session in {out} (vcaudit_force)")


def _saving_flows() -> bool:
    """Whether mitmproxy saves flows to a file (-w): their messages must then stay."""
    try:
        return bool(ctx.options.save_stream_file)
    except AttributeError:  # the saving addon is not loaded
        return False


def _describe_mode() -> str:
    try:
        modes = ", ".join(ctx.options.mode)
        port = ctx.options.listen_port
    except AttributeError:
        return "mitmproxy"
    listen = f", port {port}" if port else ""
    return f"mitmproxy mode {modes}{listen}"

"""The live proxy: vcaudit's mitmproxy addon (addon) and what it keeps while a call runs
(session: the append-only logs and report refreshes; pinning: hosts relayed untouched;
connections: attempts that ended without a flow; scan_worker: personal-data scans off the event
loop), and `vcaudit proxy` (proxy_command).

May import: auditor.session, auditor.mitm and everything below them. Nothing imports it but
the CLI and addons/vcaudit.py.
"""

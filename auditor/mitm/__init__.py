"""Source: mitmproxy flow objects. Turns HTTP, WebSocket, TCP, UDP and DNS flows into Flow
records (flow_records), for the live addon and for saved flow files and HAR exports
(saved_flows), so both produce the same records.

Raw TCP and UDP streams are read for media protocols by auditor.media, as a capture's flows are.

May import: mitmproxy, auditor.media, auditor.protocols, auditor.names, auditor.personal_data and
the bottom modules. Not auditor.live, the session or the CLI.
"""

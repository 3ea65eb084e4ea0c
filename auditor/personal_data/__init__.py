"""Personal data in what an app sent: where to look (decoded requests), what to look for
(identities the user supplies, identifiers and device facts), and SDK field meanings.

Pure functions over bytes and records: the proxy addon and the capture reader hand requests
in; findings come out. No I/O, no mitmproxy or scapy here.
"""

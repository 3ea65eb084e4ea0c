"""The media plane of one flow, read from its payloads whatever the source: STUN and TURN, DTLS,
RTP and RTCP, Zoom's framing, Agora's and Discord's hellos, in datagrams (sniffer) or in TCP
streams (tcp_frames); what they showed, as the flow's `Media` block, its `app_proto` label and
what that label lets one see (observations); and the reader of a relayed stream whose client
side is known (stream: the live proxy's raw TCP and UDP messages, and those of saved flow
files).

A capture's flow inspector (auditor.capture) and the mitmproxy sources (auditor.mitm) both feed
it, so a media flow gets the same `app_proto`, `visibility` and `media` from a capture, a live
proxy or a flow file.

May import: auditor.protocols and the bottom modules (records). No scapy, no mitmproxy, no I/O.
"""

"""Synthetic network traffic for vcaudit's sample captures and benchmarks, built byte by byte.

Not part of the installed `auditor` package: `captures/generate_samples.py` and
`bench/make_capture.py` import it from the checkout (each puts the repository's root on
`sys.path`), and each of them only describes its scenario: who talks to whom, when, and how much.

Headers are packed with `struct`; scapy's layers build only the payloads whose encoding is
intricate (TLS hellos, DNS, DHCP, neighbour discovery, NetBIOS), once per message.

Everything here is deterministic: randomness comes from the `random.Random` a caller passes in
(`timeline.Seeds` makes one per label), times are whole microseconds, and nothing reads the
clock or the host. The same calls give the same bytes.

Two ways to lay traffic out, on the same packet builders:

- `flows`: timed conversations added to a `timeline.Timeline` (UDP, TCP with real
  acknowledgements and MSS-sized segments, checksums computed), for small exact captures;
  `tls.run_tls`, `dns.Resolver`, `stun.stun_binding` and `media.play_media` run on them.
- `streams`: lazy generators of Ethernet frames (checksums left zero), planned ahead by a
  `plan.SessionPlan` and merged in time order, for captures of a million packets that must be
  written in seconds.

Modules, from the bottom up:

| module | what it builds |
|---|---|
| `timeline` | seeded generators, frames placed in time, the merge of lazy streams |
| `addresses` | MAC and IP addresses as bytes, hosts, pools of fresh addresses |
| `ip` | IPv4/IPv6 headers, UDP, TCP (with options), ICMP and ICMPv6, checksums |
| `links` | Ethernet (padded as received) and Linux SLL2 (`tcpdump -i any`) framing |
| `flows` | timed UDP and TCP conversations between two peers |
| `tls` | TLS records, Chromium/OpenSSL-style and compact ClientHellos, server flights |
| `quic` | a QUIC v1 client Initial, really encrypted (RFC 9001) |
| `dns` | queries and answers with CNAME chains and NODATA SOA, a stub resolver |
| `stun`, `media` | STUN binding messages, RTP-like media streams |
| `http` | HTTP/1.1 messages and DER OCSP requests and responses |
| `lan` | ARP, DHCP, IPv6 neighbour discovery, mDNS, SSDP, NetBIOS, LLDP |
| `streams` | lazily generated DNS, TCP/TLS, QUIC, ICE and media sessions for large captures |
| `expected` | the flows a generated capture should give a reader, and its manifest |
| `plan` | a large capture planned ahead: its activities, expected flows and DNS answers |
| `writers` | classic pcap and pcapng files |
"""

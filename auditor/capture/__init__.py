"""Source: pcap and pcapng files. Reads records (reader), decodes link, IP and transport
headers (headers), keeps one entry per conversation (flow_table), looks at the first payloads of
each flow for names and protocols (inspector, tcp_prefix; media flows go to auditor.media) and
turns it all into Flow records, DNS answers and personal-data findings (reading).

May import: auditor.media, auditor.protocols, auditor.names, auditor.personal_data, and the
bottom modules (records, input_format, timefmt, quantities). Not the other sources, the session
or the CLI.
"""

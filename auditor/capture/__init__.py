"""Source: pcap and pcapng files. Reads records (reader; read_buffer gives it an uncompressed
file through mapped windows, gzip_stream a compressed one), decodes link, IP and transport
headers (headers), keeps one entry per conversation (flow_table; a classic pcap's records of
open flows are counted straight from the file by record_taker), looks at the first payloads of
each flow for names and protocols (inspector, tcp_prefix; media flows go to auditor.media) and
turns it all into Flow records, DNS answers and personal-data findings (reading). Ended flows
wait on disk (flow_facts, flow_spill); a large capture is read by a forked process
(background_read).

May import: auditor.media, auditor.protocols, auditor.names, auditor.personal_data, and the
bottom modules (records, input_format, timefmt, quantities). Not the other sources, the session
or the CLI.
"""

"""Session folders: creating and checking them (folder, out_folder), and the two offline jobs as
functions, `analyze` (files in, session folder out: offline, which reads them with inputs and
audits and writes them with session_audit) and `report` (session folder in, report files out:
session_audit); the session's files written in one pass over its flows (session_pass, with
flow_files); the session's tables as Parquet files for analysis (parquet_tables, their file
names in table_files).

May import: the sources' readers (auditor.capture, auditor.mitm), auditor.report,
auditor.audit and below. Not auditor.live or the CLI.
"""

"""Session folders: creating and checking them (folder, out_folder), and the two offline jobs as
functions, `analyze` (files in, session folder out) and `report` (session folder in, report
files out), in offline; the session's tables as Parquet files for analysis (parquet_tables,
their file names in table_files).

May import: the sources' readers (auditor.capture, auditor.mitm), auditor.report,
auditor.audit and below. Not auditor.live or the CLI.
"""

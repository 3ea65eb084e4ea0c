"""Reports of a session: report.json's sections built from SessionData with pandas (build,
coverage, findings), --fail-on conditions on a report (fail_conditions), and the files that
render it (render: Markdown, HTML, CSV).

May import: auditor.audit and below. No I/O of its own: auditor.session writes the files.
"""

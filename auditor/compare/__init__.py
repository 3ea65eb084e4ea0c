"""Comparing sessions through their report.json documents: two at a time (`vcaudit diff`:
diff, wording, fail_on) and many at once (`vcaudit summary`: across), and the files that show
the results (render: JSON, Markdown, HTML, CSV).

Everything here is a pure function of report documents as any version of vcaudit wrote them:
view reads a document tolerantly (missing keys and odd values become "unknown" or empty, never
an exception), organisations groups its endpoints and findings by organisation. No I/O: the
command line reads report.json and writes the files; `vcaudit batch` can reuse `across` on the
documents it has in memory.

May import: auditor.report (kinds of data, the text-safety and wording helpers) and below.
Not the sources, the session folder or the command line.
"""

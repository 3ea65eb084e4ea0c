"""The files that show a comparison: diff.json, diff.md and diff.html for two sessions (diff_*),
summary.json, summary.md, summary.html and summary.csv for many (summary_*), each listed in
an enum with its formatter (files). The HTML pages share one self-contained shell (page).
Everything that came from a report is escaped (auditor.report.render.text_safety).
"""

"""The parts of report.html, one module per purpose: the page shell and its Content-Security-
Policy (shell), the style sheet (style) and the small optional script (script), inline
fragments every section uses (fragments: category badges, host names that wrap at dots only,
addresses, byte cells), the session clock (clock: offsets from the start, gaps compressed), the
category bars (charts), the timeline (timeline: its scale in time_scale, each row's traffic in
tracks), organisations (organisations), the endpoint and flow tables (tables), what left the
device (personal_data) and where the call went (call). What the page needs from the flows is
read in two passes of only the columns it uses (flow_digest). html_page.py puts them together.

Nothing here loads anything: styles and the script are inline and allowed by their hashes,
charts are inline SVG. Everything from traffic is escaped (text_safety).
"""

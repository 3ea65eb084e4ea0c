"""What `vcaudit` prints in the terminal: a progress line on long reads and the summary
(endpoints by category, verdicts, personal data, where the call's media went, coverage).

Host names, organisations and data verdicts come from traffic (a DNS answer, an SNI, a flow
file) and may carry escape sequences, newlines or bidi overrides: every line is printed
through `visible` (invisible characters shown as escapes, so no line can be forged or the
terminal driven), and each name is cut to TERMINAL_NAME_LIMIT characters.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from auditor.quantities import byte_size, counted, plural
from auditor.records import CATEGORY_ORDER, TRACKER_CATEGORIES
from auditor.report.render.sentences import data_lines, traffic_line, verdict_lines
from auditor.report.render.text_safety import TERMINAL_LINE_LIMIT, terminal_text, visible

if TYPE_CHECKING:
    from auditor.capture.reader import ProgressCallback

SHOW_AFTER_SECONDS = 2.0
PLAIN_LINE_EVERY_SECONDS = 10.0
NAMED_PER_CATEGORY = 6


class ProgressLine:
    """Shows reading progress on stderr once a capture takes more than a couple of seconds:
    a self-updating line on a terminal, an occasional plain line otherwise."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._started = time.monotonic()
        self._last_plain = float("-inf")  # the first plain line comes as soon as shown
        self._drawn = False
        self._tty = sys.stderr.isatty()

    def for_file(self, path: Path) -> ProgressCallback | None:
        """A callback reporting progress through one file: how far, how fast (packets per
        second) and about how long is left."""
        if not self.enabled:
            return None
        self._started = time.monotonic()
        self._last_plain = float("-inf")

        def report(position: int, size: int, packets: int = 0) -> None:
            elapsed = time.monotonic() - self._started
            if elapsed < SHOW_AFTER_SECONDS or size <= 0:
                return
            percent = min(100.0, 100.0 * position / size)
            text = (f"reading {path.name}: {percent:5.1f}% of {byte_size(size)}, "
                    f"{elapsed:.0f} s")
            if packets:
                text += f", {packets / elapsed:,.0f} packets/s"
            if 0 < position < size:
                text += f", about {_duration(elapsed * (size - position) / position)} left"
            if self._tty:
                click.echo(f"\r{text}\033[K", err=True, nl=False)
                self._drawn = True
            elif elapsed - self._last_plain >= PLAIN_LINE_EVERY_SECONDS:
                click.echo(text, err=True)
                self._last_plain = elapsed

        return report

    def clear(self) -> None:
        """End the progress line so the next output starts on a fresh line."""
        if self._drawn:
            click.echo("\r\033[K", err=True, nl=False)
            self._drawn = False


def _duration(seconds: float) -> str:
    """`45 s`, `3 min 20 s`, `1 h 5 min`."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def print_summary(document: dict[str, Any], folder: Path) -> None:
    """The end-of-audit summary: endpoints by category, trackers named, where the report is."""
    document = _shown(document)
    session, summary = document["session"], document["summary"]
    app = session["app"]
    app_text = f"{app} ({session['app_detection']['how']})" if app else "not detected"
    _echo(f"vcaudit: {traffic_line(summary)}; audited app: {app_text}")
    for category in CATEGORY_ORDER:
        count = summary["categories"][category]["endpoints"]
        if not count:
            continue
        named = ""
        if category in TRACKER_CATEGORIES:
            hosts = [e for e in document["endpoints"] if e["category"] == category]
            shown = ", ".join(f"{e['host']} ({e['entity']})" if e["entity"] else e["host"]
                              for e in hosts[:NAMED_PER_CATEGORY])
            more = len(hosts) - NAMED_PER_CATEGORY
            named = f"  {shown}" + (f", and {more} more" if more > 0 else "")
        _echo(f"  {category:<12} {count:>4} {plural(count, 'endpoint'):<9}{named}".rstrip())
    for line in verdict_lines(document):
        _echo(f"verdict: {line}")
    for line in data_lines(document):
        _echo(f"data: {line}")
    for line in document.get("call", {}).get("verdicts", []):
        _echo(f"call: {terminal_text(line, TERMINAL_LINE_LIMIT)}")
    coverage = document["coverage"]
    anomalies = coverage.get("anomalies", {}).get("total", 0)
    _echo(f"coverage: {counted(coverage['flows_without_name']['flows'], 'flow')} without "
          f"a name, {coverage['encrypted_flows']['flows']} encrypted, "
          f"{counted(anomalies, 'anomaly', 'anomalies')} skipped")
    _echo(f"report: {folder / 'report.md'} (also report.html, report.json, endpoints.csv, "
          "flows.csv, call.csv, flows.jsonl)")


def _shown(document: dict[str, Any]) -> dict[str, Any]:
    """The report with the traffic text the summary names (hosts, organisations, data
    verdicts) made fit for a terminal line: invisible characters escaped, names cut."""
    endpoints = [{**e, "host": terminal_text(e["host"]),
                  "entity": terminal_text(e["entity"]) if e["entity"] else e["entity"]}
                 for e in document["endpoints"]]
    personal = dict(document.get("personal_data", {}))
    if personal.get("verdicts"):
        personal["verdicts"] = [terminal_text(line, TERMINAL_LINE_LIMIT)
                                for line in personal["verdicts"]]
    return {**document, "endpoints": endpoints, "personal_data": personal}


def _echo(line: str) -> None:
    """Print one summary line; whatever traffic text it holds cannot act on the terminal or
    start a line of its own."""
    click.echo(visible(line))

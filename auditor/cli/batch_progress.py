"""The progress bar of `vcaudit batch`, over files, on stderr: a self-updating bar on a
terminal (`[#####-----] 12/20 captures, 1 failed, 0:35, about 0:20 left`), an occasional plain
line otherwise (logs, CI). Lines about single captures (failures, warnings) are printed above
it with `note`, which clears the bar first so the two never share a line.
"""

from __future__ import annotations

import sys
import time

import click

from auditor.quantities import plural

BAR_WIDTH = 24
PLAIN_LINE_EVERY_SECONDS = 10.0


class BatchProgress:
    """Progress over a batch's captures, as they finish."""

    def __init__(self, total: int, enabled: bool = True) -> None:
        self.total = total
        self.enabled = enabled
        self.done = 0
        self.failed = 0
        self._started = time.monotonic()
        self._tty = sys.stderr.isatty()
        self._drawn = False
        self._last_plain = time.monotonic()

    def start(self) -> None:
        """Show the empty bar (on a terminal)."""
        if self.enabled and self._tty:
            self._draw()

    def advance(self, failed: bool) -> None:
        """One more capture finished."""
        self.done += 1
        self.failed += int(failed)
        if not self.enabled:
            return
        now = time.monotonic()
        if self._tty:
            self._draw()
        elif now - self._last_plain >= PLAIN_LINE_EVERY_SECONDS and self.done < self.total:
            click.echo(self.text(), err=True)
            self._last_plain = now

    def note(self, line: str) -> None:
        """Print one line above the bar (always, even when the bar is off)."""
        self.clear()
        click.echo(line, err=True)
        if self.enabled and self._tty and self.done < self.total:
            self._draw()

    def clear(self) -> None:
        """Remove the bar so the next output starts on a fresh line."""
        if self._drawn:
            click.echo("\r\033[K", err=True, nl=False)
            self._drawn = False

    def text(self) -> str:
        """The progress as one line of text."""
        elapsed = time.monotonic() - self._started
        failed = f", {self.failed} failed" if self.failed else ""
        left = ""
        if 0 < self.done < self.total:
            left = f", about {_clock(elapsed / self.done * (self.total - self.done))} left"
        return (f"{self.done}/{self.total} {plural(self.total, 'capture')}{failed}, "
                f"{_clock(elapsed)}{left}")

    def _draw(self) -> None:
        filled = BAR_WIDTH * self.done // self.total if self.total else BAR_WIDTH
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        click.echo(f"\r\033[K[{bar}] {self.text()}", err=True, nl=False)
        self._drawn = True


def _clock(seconds: float) -> str:
    """0:35, 12:04, 1:02:03."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"

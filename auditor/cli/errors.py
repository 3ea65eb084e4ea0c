"""How the command line fails: documented exit codes, and one stderr line per expected
error instead of a traceback (shared by every `vcaudit` command).

Exit codes (also in the README):
  0  the audit ran and its report was written
  1  the report was written and a --fail-on condition holds
  2  usage error (bad option or argument, a bad --identity, --identity-file or --sdk-fields)
  3  an input cannot be used (missing, unreadable, a folder, empty, not a capture, not a
     session folder)
  4  a catalog, rules or lists config file is invalid (or missing, or unreadable)
  5  an output cannot be written: the session folder (or --out is a file, or a folder that is
     not empty without --force), or the lists cache
  6  `vcaudit lists update`: some downloads failed
  7  `vcaudit batch`: some inputs failed (one line each); the other sessions were written
  70 internal error (a bug in vcaudit: please report it)

Each path an option names is judged by that option's code: a --rules or --config that is
missing or a folder is 4, an --identity-file is 2, an input capture is 3, --out is 5.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import IO, Any, NoReturn

import click

from auditor.errors import ConfigError, InputError, OutputError, UsageError
from auditor.report.render.text_safety import visible

EXIT_OK = 0
EXIT_FAIL_ON = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_CATALOG = 4
EXIT_OUTPUT = 5
EXIT_FETCH_FAILED = 6
EXIT_BATCH_FAILED = 7
EXIT_INTERNAL = 70


def fail(message: str, code: int) -> NoReturn:
    """Print one error line on stderr and exit with `code`. The message may quote a name
    from traffic or a path: invisible characters are shown escaped, so it stays one line."""
    click.echo(f"vcaudit: error: {visible(message)}", err=True)
    sys.exit(code)


class OneLineUsageGroup(click.Group):
    """A click group whose usage errors (of its own options and of every command under it)
    are one `vcaudit: error:` line pointing at --help, instead of click's usage block."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        """Parse the group's own options."""
        with _one_line_usage():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        """Parse and run the command."""
        with _one_line_usage():
            return super().invoke(ctx)


class _OneLineUsageError(click.UsageError):
    def show(self, file: IO[Any] | None = None) -> None:
        hint = f" (see `{self.ctx.command_path} --help`)" if self.ctx is not None else ""
        click.echo(f"vcaudit: error: {self.format_message()}{hint}", err=True)


@contextmanager
def _one_line_usage() -> Iterator[None]:
    try:
        yield
    except _OneLineUsageError:
        raise
    except click.UsageError as exc:
        raise _OneLineUsageError(" ".join(exc.format_message().split()), exc.ctx) from exc


def errors_as_exit_codes[F: Callable[..., Any]](command: F) -> F:
    """Turn expected failures into one stderr line and a documented exit code."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            fail(str(exc), EXIT_INPUT)
        except UsageError as exc:
            fail(str(exc), EXIT_USAGE)
        except ConfigError as exc:
            fail(str(exc), EXIT_CATALOG)
        except OutputError as exc:
            fail(str(exc), EXIT_OUTPUT)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            # The reader of our output went away (`vcaudit ... | head`): the work is done.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_OK)
        except Exception as exc:  # noqa: BLE001 - the last line of defence, never a traceback
            fail(f"internal error: {type(exc).__name__}: {exc} (please report this)",
                  EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]



"""How the command line fails: documented exit codes, and one stderr line per expected
error instead of a traceback (shared by every `vcaudit` command).

Exit codes (also in the README):
  0  the audit ran and its report was written
  1  the report was written and a --fail-on condition holds
  2  usage error (bad option or argument)
  3  an input file cannot be used (unreadable, not a capture, not a session folder)
  4  a catalog, rules or lists config file is invalid
  5  the session folder cannot be written
  6  `vcaudit lists update`: some downloads failed
  70 internal error (a bug in vcaudit: please report it)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn

import click

from auditor.app_detection import UnknownAppError
from auditor.capture_format import InputError
from auditor.catalog import CatalogError
from auditor.fail_conditions import FailOnError
from auditor.personal_data.identities import IdentityError
from auditor.personal_data.sdk_fields import SdkFieldsError
from auditor.session_folder import SessionFolderError

EXIT_OK = 0
EXIT_FAIL_ON = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_CATALOG = 4
EXIT_OUTPUT = 5
EXIT_FETCH_FAILED = 6
EXIT_INTERNAL = 70

def fail(message: str, code: int) -> NoReturn:
    click.echo(f"vcaudit: error: {message}", err=True)
    sys.exit(code)


def errors_as_exit_codes[F: Callable[..., Any]](command: F) -> F:
    """Turn expected failures into one stderr line and a documented exit code."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            fail(str(exc), EXIT_INPUT)
        except (UnknownAppError, FailOnError, IdentityError, SdkFieldsError) as exc:
            fail(str(exc), EXIT_USAGE)
        except CatalogError as exc:
            fail(str(exc), EXIT_CATALOG)
        except SessionFolderError as exc:
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



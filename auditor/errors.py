"""The failures a user can cause, by what they concern. Each interface reports them its own
way: the command line as one stderr line and an exit code per kind (auditor.cli.errors), the
mitmproxy addon as an OptionsError at start-up. Modules raise a subclass of their own that
names the thing (CatalogError, IdentityError, ...); this module is only the kinds, so that an
interface can tell them apart without importing the modules that raise them.
"""

from __future__ import annotations


class UsageError(ValueError):
    """A bad option or argument value: an unknown app, a bad --identity or --fail-on, an
    identity or SDK field file that cannot be used."""


class InputError(Exception):
    """An input cannot be used: missing, unreadable, empty, not a capture, not a session."""


class ConfigError(ValueError):
    """A catalog, rules or lists configuration file is missing, unreadable or invalid; the
    message names the file, line and rule or entry."""


class OutputError(Exception):
    """Something vcaudit must write cannot be written: the session folder, the lists cache."""

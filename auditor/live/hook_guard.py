"""Addon hooks that never break the traffic: a failure inside a hook is handed to the addon's
`note_failure` (which makes it an anomaly of the session) instead of reaching mitmproxy."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol


class NotesFailures(Protocol):
    """An addon that can record a failure of one of its hooks."""

    def note_failure(self, where: str, exc: Exception, args: tuple[Any, ...]) -> None:
        """Record that hook `where` failed with `exc` on `args`."""


def guarded[F: Callable[..., Any]](hook: F) -> F:
    """Run a hook so that any failure becomes an anomaly instead of breaking the flow."""

    @functools.wraps(hook)
    def wrapper(self: NotesFailures, *args: Any) -> Any:
        try:
            return hook(self, *args)
        except Exception as exc:  # noqa: BLE001 - the user's traffic must never suffer
            self.note_failure(hook.__name__, exc, args)
            return None

    return wrapper  # type: ignore[return-value]

"""What the live tests share: real clients (curl, i.e. OpenSSL, and httpx, i.e. Python's
ssl) through the proxy, and reading a session's flows while the proxy runs."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

CURL = shutil.which("curl")
needs_curl = pytest.mark.skipif(CURL is None, reason="curl is not installed")


def curl(proxy_url: str | None, url: str, *options: str, timeout: float = 10
         ) -> subprocess.CompletedProcess[str]:
    """curl through the proxy (HTTP CONNECT for https URLs), or straight to `url` (a reverse
    proxy) when proxy_url is None; never raises on failure."""
    assert CURL is not None
    via = ["-x", proxy_url] if proxy_url else ["--noproxy", "*"]
    return subprocess.run([CURL, "-sS", "-m", str(timeout), *via, *options, url],
                          capture_output=True, text=True, timeout=timeout + 10)


def python_get(proxy_url: str, url: str, verify: ssl.SSLContext | bool) -> httpx.Response:
    """One GET with httpx through the proxy."""
    with httpx.Client(proxy=proxy_url, verify=verify, timeout=10) as client:
        return client.get(url)


def flows_of(session: Path) -> list[dict[str, Any]]:
    """The flows recorded so far."""
    path = session / "flows.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def wait_for(predicate: Callable[[], object], timeout: float = 15) -> None:
    """Wait until `predicate()` is true, or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")

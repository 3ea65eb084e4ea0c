"""Downloading lists and vendor ranges into the cache, politely and safely.

Conditional requests (If-None-Match / If-Modified-Since from the last download) so an
unchanged list costs one small answer; a timeout; the body is checked (parsed) before it
replaces the cached copy, so a captive portal's page or a cut download never replaces a good
list; a failure leaves the old copy in place and says why in one line.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor import __version__
from auditor.errors import OutputError

USER_AGENT = f"vcaudit/{__version__} (+list update)"
CHUNK = 1 << 16


class CacheError(OutputError):
    """The cache cannot be written (a download failing is a FetchResult, not this)."""


def cache_error(folder: Path, exc: OSError) -> CacheError:
    """The one line saying the cache at `folder` cannot be written, and how to move it."""
    return CacheError(f"cannot write the lists cache in {folder}: {exc.strerror or exc} "
                      "($VCAUDIT_CACHE or $XDG_CACHE_HOME choose where it is)")


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What happened to one download."""

    name: str
    url: str
    status: str  # "updated" | "unchanged" | "failed"
    detail: str


def read_meta(data_path: Path) -> dict[str, Any]:
    """The metadata stored beside a cached file (empty when there is none)."""
    try:
        meta = json.loads(meta_path(data_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def meta_path(data_path: Path) -> Path:
    """`lists/easylist.data` -> `lists/easylist.meta.json`."""
    return data_path.with_suffix(".meta.json")


def now_iso() -> str:
    """The current time as ISO 8601 UTC, to the second."""
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fetch(name: str, url: str, target: Path, timeout: float,
          convert: Callable[[Path], bytes]) -> FetchResult:
    """Download `url` into `target` if it changed. `convert` reads the downloaded file and
    returns what to keep (raising ValueError when it is not a valid list)."""
    meta = read_meta(target)
    have = target.is_file()
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if have and meta.get("url") == url:
        if meta.get("etag"):
            request.add_header("If-None-Match", meta["etag"])
        if meta.get("last_modified"):
            request.add_header("If-Modified-Since", meta["last_modified"])
    kept = (f"keeping the copy fetched {meta.get('fetched', '?')}" if have
            else "no copy yet: audits run without it")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=target.parent, prefix=".download-",  # noqa: SIM115
                                             delete=False)
    except OSError as exc:
        raise cache_error(target.parent, exc) from exc
    temporary = Path(handle.name)
    try:
        try:
            with handle, urllib.request.urlopen(request, timeout=timeout) as response:
                _save(response, handle, target.parent)
                headers = response.headers
        except urllib.error.HTTPError as exc:
            if exc.code == 304 and have:
                _write_meta(target, {**meta, "checked": now_iso()})
                return FetchResult(name, url, "unchanged",
                                   f"not modified since {meta.get('fetched', '?')}")
            return FetchResult(name, url, "failed", f"HTTP {exc.code} {exc.reason}; {kept}")
        except OSError as exc:  # URLError, timeouts, refused connections, DNS failures
            reason = getattr(exc, "reason", exc)
            return FetchResult(name, url, "failed",
                               f"cannot reach {_host(url)}: {reason} (offline?); {kept}")
        try:
            body = convert(temporary)
        except ValueError as exc:
            return FetchResult(name, url, "failed", f"the download is not a valid list "
                                                    f"({exc}); {kept}")
        stamp = now_iso()
        _replace(target, body)
        _write_meta(target, {
            "url": url, "fetched": stamp, "checked": stamp,
            "etag": headers.get("ETag"), "last_modified": headers.get("Last-Modified"),
            "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest(),
        })
        return FetchResult(name, url, "updated", f"{len(body)} bytes")
    finally:
        temporary.unlink(missing_ok=True)


def _save(response: Any, handle: Any, folder: Path) -> None:
    """Copy a response into the cache's temporary file: a failed read is the network's (an
    OSError), a failed write the cache's (CacheError)."""
    while chunk := response.read(CHUNK):
        try:
            handle.write(chunk)
        except OSError as exc:
            raise cache_error(folder, exc) from exc


def _replace(target: Path, body: bytes) -> None:
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_bytes(body)
        os.replace(partial, target)
    except OSError as exc:
        raise cache_error(target.parent, exc) from exc


def _write_meta(target: Path, meta: dict[str, Any]) -> None:
    partial = target.with_name(f".{target.name}.meta.partial")
    try:
        partial.write_text(json.dumps(meta, indent=1), encoding="utf-8")
        os.replace(partial, meta_path(target))
    except OSError as exc:
        raise cache_error(target.parent, exc) from exc


def _host(url: str) -> str:
    return url.split("/")[2] if "://" in url else url

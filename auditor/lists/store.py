"""The cache of downloaded lists and vendor ranges: updating it, and loading it for an audit.

Layout under the cache directory (config.cache_dir()):
  lists/<name>.data        the list as downloaded (Tracker Radar: its domain records, compacted)
  lists/<name>.meta.json   url, fetched, checked, etag, last_modified, bytes, sha256
  ranges/<name>-<n>.data   each range file of a vendor, with its .meta.json
A list configured with a `path` is read in place and never downloaded.
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import tarfile
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.lists.abp import AbpList
from auditor.lists.config import ListConfig, ListConfigError, ListSource, RangeSource, cache_dir
from auditor.lists.domains import (
    ListFormatError,
    hosts_header,
    parse_disconnect,
    parse_hosts,
    parse_tracker_radar,
)
from auditor.lists.fetch import FetchResult, cache_error, fetch, read_meta
from auditor.lists.model import TrackerList
from auditor.lists.vendor_ranges import RangeFormatError, cidr_text_ranges, m365_ranges
from auditor.records import Category, ListRef


def list_path(source: ListSource) -> Path:
    """Where a list is read from: its local path, or its cached download."""
    return source.path if source.path is not None else cache_dir() / "lists" / f"{source.name}.data"


def range_paths(source: RangeSource) -> list[Path]:
    """The cached files of a vendor's range source, one per URL."""
    return [cache_dir() / "ranges" / f"{source.name}-{n}.data" for n in range(len(source.urls))]


def writable_cache() -> Path:
    """The cache folder, created if needed. Raises CacheError when it cannot be written, so
    `vcaudit lists update` says so once before downloading anything."""
    folder = cache_dir()
    try:
        for sub in ("lists", "ranges"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder / "lists"):
            pass
    except OSError as exc:
        raise cache_error(folder, exc) from exc
    return folder


def update(config: ListConfig, names: Iterable[str], timeout: float) -> list[FetchResult]:
    """Download the named lists and range sources (conditional requests)."""
    results = []
    for name in names:
        if name in config.lists:
            source = config.lists[name]
            if source.path is not None or source.url is None:
                results.append(FetchResult(name, str(source.path), "unchanged",
                                           "a local file, read in place"))
                continue
            results.append(fetch(name, source.url, list_path(source), timeout,
                                 functools.partial(_checked_list, source)))
        elif name in config.ranges:
            ranges = config.ranges[name]
            for url, path in zip(ranges.urls, range_paths(ranges), strict=True):
                concrete = url.replace("{clientrequestid}", str(uuid.uuid4()))
                results.append(fetch(name, concrete, path, timeout,
                                     functools.partial(_checked_ranges, ranges)))
        else:
            raise ListConfigError(f"unknown list or range source {name!r}; known: "
                                  f"{', '.join(sorted([*config.lists, *config.ranges]))}")
    return results


def load_list(source: ListSource) -> TrackerList:
    """Parse a list from its cached download or local path. Raises OSError when it is
    missing, ListFormatError when it cannot be parsed."""
    path = list_path(source)
    meta = read_meta(path) if source.path is None else {}
    fetched = meta.get("fetched") if source.path is None else None
    if source.format == "tracker-radar":
        records = list(_tracker_radar_records(path, source.region))
        return parse_tracker_radar(records, _ref(source, None, fetched), source.url or str(path))
    text = path.read_text(encoding="utf-8", errors="replace")
    if source.format == "abp":
        return AbpList(text, _ref(source, _mtime(path, source), fetched),
                       source.url or str(path), source.category or Category.AD_TECH)
    if source.format == "hosts":
        header = hosts_header(text)
        return parse_hosts(text, _ref(source, header.get("version") or _mtime(path, source),
                                      fetched),
                           source.url or str(path), source.category or Category.AD_TECH)
    return parse_disconnect(text, _ref(source, _mtime(path, source), fetched),
                            source.url or str(path))


def _checked_list(source: ListSource, downloaded: Path) -> bytes:
    """Validate a downloaded list (raise ValueError if it is not one); what to keep."""
    if source.format == "tracker-radar":
        records = list(_tracker_radar_records(downloaded, source.region))
        parse_tracker_radar(records, _ref(source, None, None), None)
        return json.dumps(records, separators=(",", ":")).encode()
    body = downloaded.read_bytes()
    text = body.decode("utf-8", errors="replace")
    if text.lstrip()[:1] == "<":
        raise ListFormatError("an HTML or XML page, not a list")
    if source.format == "abp":
        if AbpList(text, _ref(source, None, None), None, Category.AD_TECH).info.entries == 0:
            raise ListFormatError("no network rules")
    elif source.format == "hosts":
        parse_hosts(text, _ref(source, None, None), None, Category.AD_TECH)
    else:
        parse_disconnect(text, _ref(source, None, None), None)
    return body


def _checked_ranges(source: RangeSource, downloaded: Path) -> bytes:
    body = downloaded.read_bytes()
    text = body.decode("utf-8", errors="replace")
    try:
        m365_ranges(text) if source.format == "m365-endpoints" else cidr_text_ranges(text)
    except RangeFormatError as exc:
        raise ValueError(str(exc)) from exc
    return body


def _tracker_radar_records(path: Path, region: str | None) -> Iterator[dict[str, Any]]:
    """Domain records from a Tracker Radar checkout (folder), its archive (.tar.gz), one
    domain file, a blocklist with a "trackers" map, or vcaudit's compacted cache."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if _wanted(str(p), region))
        for file in files:
            yield from _records(json.loads(file.read_text(encoding="utf-8")))
        return
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(raw))) as archive:
            for member in archive:
                if member.isfile() and member.name.endswith(".json") and _wanted(
                        member.name, region):
                    handle = archive.extractfile(member)
                    if handle is not None:
                        yield from _records(json.loads(handle.read()))
        return
    try:
        yield from _records(json.loads(raw))
    except ValueError as exc:
        raise ListFormatError(f"not Tracker Radar JSON ({exc})") from exc


def _wanted(name: str, region: str | None) -> bool:
    parts = name.replace("\\", "/").split("/")
    if "domains" not in parts:
        return False
    below = parts[parts.index("domains") + 1:]
    return len(below) == 1 or (region is not None and below[0] == region)


def _records(value: Any) -> Iterator[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("trackers"), dict):
            items_ = item["trackers"].values()
        else:
            items_ = [item]
        for record in items_:
            if isinstance(record, dict) and isinstance(record.get("domain"), str):
                owner = record.get("owner")
                owner = owner if isinstance(owner, dict) else {}
                yield {"domain": record["domain"],
                       "owner": {k: owner[k] for k in ("name", "displayName") if k in owner},
                       "categories": record.get("categories") or []}


def _ref(source: ListSource, version: str | None, fetched: str | None) -> ListRef:
    return ListRef(name=source.name, title=source.title, version=version, fetched=fetched,
                   licence=source.licence)


def _mtime(path: Path, source: ListSource) -> str | None:
    """A local file's modification date stands in for a version it does not state."""
    if source.path is None:
        return None
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).strftime("%Y-%m-%d")
    except OSError:
        return None

"""What the fields of known SDK requests mean, from the data file `auditor/data/sdk_fields.toml`
(format described at its top). An SDK matches by host (domain or subdomain) and URL path; its
field patterns then name the kind of data each field carries and what it means."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from auditor.errors import UsageError
from auditor.personal_data.detectors import Detection, is_placeholder_id
from auditor.personal_data.request_fields import Field

DATA_FILE = "sdk_fields.toml"
_ID_KINDS = frozenset({"advertising-id", "device-id", "user-id"})


class SdkFieldsError(UsageError):
    """The SDK field file is malformed; the message names the file and entry."""


@dataclass(frozen=True, slots=True)
class FieldMeaning:
    """One field of an SDK's requests."""

    pattern: re.Pattern[str]
    kind: str
    meaning: str


@dataclass(frozen=True, slots=True)
class Sdk:
    """An SDK's request format: where it sends, and what its fields mean."""

    id: str
    name: str
    hosts: tuple[str, ...]
    path: re.Pattern[str]
    source: str
    fields: tuple[FieldMeaning, ...]

    def matches(self, host: str | None, url_path: str) -> bool:
        """Whether a request to this host and path is one of this SDK's."""
        if not host:
            return False
        host = host.lower().rstrip(".")
        return any(host == h or host.endswith("." + h) for h in self.hosts) and bool(
            self.path.search(url_path))

    def describe(self, fields: list[Field]) -> list[Detection]:
        """The fields this SDK's documentation gives a meaning to."""
        out = []
        for field in fields:
            if field.location not in ("body", "query"):
                continue
            for meaning in self.fields:
                if meaning.pattern.fullmatch(field.path) and field.value.strip():
                    if meaning.kind in _ID_KINDS and is_placeholder_id(field.value):
                        break  # e.g. the all-zero IDFA of limited ad tracking: nothing sent
                    out.append(Detection(meaning.kind, field, field.value,
                                         f"{self.name}: {meaning.meaning}", self.id))
                    break
        return out


def path_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a field path pattern: `[*]` any index, `*` one key, `**` any prefix (ending
    where a key starts: `**user.email` matches `line[2].user.email`, not `superuser.email`)."""
    out = ""
    position = 0
    while position < len(pattern):
        if pattern.startswith("**", position):
            position += 2
            key_follows = position < len(pattern) and pattern[position] not in "[."
            out += r"(?:.*\.)?" if key_follows else ".*"
        elif pattern.startswith("[*]", position):
            out += r"\[\d+\]"
            position += 3
        elif pattern[position] == "*":
            out += r"[^.\[\]]+"
            position += 1
        else:
            out += re.escape(pattern[position])
            position += 1
    return re.compile(out)


def load_sdks(extra: Path | None = None) -> tuple[Sdk, ...]:
    """The built-in SDK formats, plus those of an extra file."""
    sdks = list(_builtin())
    if extra is not None:
        try:
            sdks += _parse(extra.read_text(encoding="utf-8"), str(extra))
        except (OSError, UnicodeDecodeError) as exc:
            raise SdkFieldsError(f"{extra}: cannot be read ({exc})") from exc
    return tuple(sdks)


@cache
def _builtin() -> tuple[Sdk, ...]:
    text = resources.files("auditor.data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    return tuple(_parse(text, DATA_FILE))


def _parse(text: str, name: str) -> list[Sdk]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SdkFieldsError(f"{name}: not valid TOML: {exc}") from exc
    out = []
    for entry in data.get("sdk", []):
        try:
            out.append(Sdk(
                id=entry["id"], name=entry["name"], hosts=tuple(entry["hosts"]),
                path=re.compile(entry["path"]), source=entry["source"],
                fields=tuple(FieldMeaning(path_pattern(f["path"]), f["kind"], f["meaning"])
                             for f in entry.get("field", [])),
            ))
        except (KeyError, TypeError, re.error) as exc:
            raise SdkFieldsError(f"{name}: sdk {entry.get('id', '?')!r}: {exc!r}") from exc
    return out

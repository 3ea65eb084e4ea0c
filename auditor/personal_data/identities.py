"""Values the user supplies (their email, name, phone, ...) and every form in which an app or
an SDK may send them: as-is (any case), URL-encoded, base64, hex, and as MD5, SHA-1 and SHA-256
hashes of the normalised value, which is how ad-tech sends "hashed" emails and phones.

Normalisation follows the ad platforms' matching rules: an email is trimmed and lower-cased;
a phone is its digits with the country code (E.164 without '+'); a name is trimmed and
lower-cased, and its first and last words are hashed on their own too (first/last name).
"""

from __future__ import annotations

import base64
import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

from auditor.errors import UsageError

_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,30}$")
MIN_PLAIN_LENGTH = 3


class IdentityError(UsageError):
    """An identity option or file entry is malformed; the message says which."""


@dataclass(frozen=True, slots=True)
class Identity:
    """One value of the user's, e.g. kind "email", value "alice@example.com"."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Needle:
    """A form of an identity to look for, lower-cased, with how it is encoded."""

    text: str
    identity: Identity
    encoding: str  # "plain" | "url" | "base64" | "hex" | "md5" | "sha1" | "sha256"


def parse_identity(spec: str) -> Identity:
    """`kind=value`, e.g. `email=alice@example.com` or `name=Alice Example`."""
    kind, sep, value = spec.partition("=")
    kind, value = kind.strip().lower(), value.strip()
    if not sep or not _KIND.match(kind) or not value:
        raise IdentityError(f"identity {spec!r} is not KIND=VALUE (e.g. email=alice@example.com)")
    if len(value) < MIN_PLAIN_LENGTH:
        raise IdentityError(f"identity {spec!r} is too short to search for safely")
    return Identity(kind, value)


def load_identity_file(path: Path) -> list[Identity]:
    """Identities from a file: TOML (`email = "..."`, or lists of values) or `kind=value`
    lines. Raises IdentityError naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise IdentityError(f"{path}: cannot be read ({exc})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        data = None
    out: list[Identity] = []
    if data is not None:
        for kind, values in data.items():
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, int) and not isinstance(value, bool):
                    value = str(value)  # `phone=+4915112345678` reads as a TOML integer
                if not isinstance(value, str):
                    raise IdentityError(f"{path}: {kind} must be a string or list of strings")
                out.append(_checked(f"{kind}={value}", f"{path}: {kind}"))
        return out
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(_checked(line, f"{path}:{number}"))
    return out


def _checked(spec: str, where: str) -> Identity:
    try:
        return parse_identity(spec)
    except IdentityError as exc:
        raise IdentityError(f"{where}: {exc}") from exc


def normalised(identity: Identity) -> str:
    """The form ad platforms hash: see the module docstring."""
    value = identity.value.strip()
    if identity.kind in ("phone", "tel", "mobile"):
        return re.sub(r"\D", "", value)
    return value.lower()


def needles(identities: list[Identity]) -> list[Needle]:
    """Every form of every identity worth searching for."""
    out: dict[str, Needle] = {}

    def add(text: str, identity: Identity, encoding: str) -> None:
        text = text.lower()
        if len(text) >= MIN_PLAIN_LENGTH and text not in out:
            out[text] = Needle(text, identity, encoding)

    for identity in identities:
        raw, norm = identity.value.strip(), normalised(identity)
        for form in {raw, norm}:
            add(form, identity, "plain")
            add(quote(form, safe=""), identity, "url")
            add(quote_plus(form, safe=""), identity, "url")
            add(base64.b64encode(form.encode()).decode().rstrip("="), identity, "base64")
            add(form.encode().hex(), identity, "hex")
        hashed = [norm]
        if identity.kind in ("phone", "tel", "mobile"):
            hashed.append("+" + norm)
        if identity.kind == "name" and " " in norm:
            words = norm.split()
            hashed += [words[0], words[-1]]
        for form in hashed:
            for algorithm in ("md5", "sha1", "sha256"):
                add(hashlib.new(algorithm, form.encode()).hexdigest(), identity, algorithm)
    # Longest first, so a hash is reported as such rather than as a shorter coincidence.
    return sorted(out.values(), key=lambda n: -len(n.text))


HASH_ENCODINGS = frozenset({"md5", "sha1", "sha256"})
_HEX_RUN = re.compile(r"[0-9a-f]{32,}")


class NeedleMatcher:
    """Finds needles in text fast: hashes by looking up the hex runs of the text in a set,
    the other forms by substring search; at most one needle per identity per text."""

    def __init__(self, needle_list: tuple[Needle, ...] | list[Needle]) -> None:
        self._hashes = {n.text: n for n in needle_list if n.encoding in HASH_ENCODINGS}
        self._others = [n for n in needle_list if n.encoding not in HASH_ENCODINGS]

    def find(self, text: str) -> list[Needle]:
        """The needles in `text` (case-insensitive), hashes first, one per identity."""
        lowered = text.lower()
        found: list[Needle] = []
        taken: set[int] = set()
        if self._hashes and len(lowered) >= 32:
            for run in _HEX_RUN.findall(lowered):
                # A hash is a token of its own; check the run, and its ends for a hash glued
                # to other hex (e.g. a salt), without sliding over every offset.
                for candidate in {run, run[:64], run[-64:], run[:40], run[-40:], run[:32],
                                  run[-32:]}:
                    needle = self._hashes.get(candidate)
                    if needle is not None and id(needle.identity) not in taken:
                        taken.add(id(needle.identity))
                        found.append(needle)
        for needle in self._others:
            if needle.text in lowered and id(needle.identity) not in taken:
                taken.add(id(needle.identity))
                found.append(needle)
        return found

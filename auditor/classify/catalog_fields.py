"""Checking the fields of catalog entries ([[entity]], [[rule]], [[asn]]): every failure is a
CatalogError whose message names the file, line and entry (docs/catalog-format.md)."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from auditor.errors import ConfigError
from auditor.names.domains import is_icann_public_suffix

ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
RULE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9._-]*$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9-]{1,63}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A domain written `name.*` matches `name.` under any country-code public suffix
# (docs/catalog-format.md); the wildcard stands for the suffix, never for a label of its own.
ANY_COUNTRY_SUFFIX = ".*"


class CatalogError(ConfigError):
    """A catalog file is unreadable or has a bad entry; the message names file, line, rule."""


def where(name: str, text: str, item_id: object, kind: str) -> str:
    """`file:line: rule 'id'`, as every message about an entry starts."""
    line = line_of(text, item_id) if isinstance(item_id, str) else None
    label = f"{kind} {item_id!r}" if item_id is not None else f"{kind} without id"
    return f"{name}:{line}: {label}" if line else f"{name}: {label}"


def line_of(text: str, item_id: str) -> int | None:
    """The line of the `id = "..."` that defines an entry."""
    match = re.search(rf'^\s*id\s*=\s*"{re.escape(item_id)}"', text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def check_keys(raw: dict[str, Any], allowed: set[str], where_: str) -> None:
    """Refuse keys the format does not have (a typo would otherwise be ignored)."""
    unknown = set(raw) - allowed
    if unknown:
        raise CatalogError(f"{where_}: unknown keys {sorted(unknown)}")


def required_str(raw: dict[str, Any], key: str, where_: str) -> str:
    """A key that must hold a non-empty string."""
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where_}: '{key}' must be a non-empty string")
    return value


def str_list(raw: dict[str, Any], key: str, where_: str) -> list[str]:
    """A key that may hold a list of strings (absent: empty)."""
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(f"{where_}: '{key}' must be a list of strings")
    return value


def check_date(raw: dict[str, Any], where_: str) -> str:
    """The entry's `date`, as YYYY-MM-DD."""
    date = required_str(raw, "date", where_)
    if not DATE.match(date):
        raise CatalogError(f"{where_}: date {date!r} is not YYYY-MM-DD")
    return date


def check_domain(domain: str, where_: str) -> str:
    """A lowercase domain (covering its subdomains), or `name.*` for `name` under every
    country-code suffix; never a public suffix, which would match everything."""
    bare = domain.removesuffix(ANY_COUNTRY_SUFFIX)
    if domain != domain.lower() or not _DOMAIN.match(bare) or "*" in bare:
        raise CatalogError(f"{where_}: {domain!r} is not a lowercase domain name "
                           "(no scheme, port, path or wildcard but a final '.*')")
    # `name.*` stands below a public suffix by construction (`google.*` matches google.fr
    # even though .google is a top-level domain of its own), so only exact domains are checked.
    if "." in domain and bare == domain and is_icann_public_suffix(domain):
        raise CatalogError(f"{where_}: {domain!r} is a public suffix and would match everything")
    return domain


def check_cidr(cidr: str, where_: str) -> str:
    """An IPv4 or IPv6 network written without host bits."""
    try:
        ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        raise CatalogError(f"{where_}: {cidr!r} is not a network: {exc}") from exc
    return cidr

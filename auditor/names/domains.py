"""Host names and addresses: normalising them, telling them apart, and registrable domains.

Registrable domains ("eTLD+1") come from the public suffix list bundled in the
`publicsuffixlist` package, so nothing is fetched at run time.
"""

from __future__ import annotations

import ipaddress
from functools import cache, lru_cache

from publicsuffixlist import PublicSuffixList


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


@cache
def _icann_psl() -> PublicSuffixList:
    return PublicSuffixList(only_icann=True)


def normalise_host(name: str) -> str:
    """The form a name is compared in: lowercase, without the one trailing dot of a fully
    qualified name, and an IPv6 address without the brackets of a URL (`[2001:db8::1]`).

    Nothing else is removed: a name with spaces, brackets, control characters or several
    trailing dots stays as it is (and matches no rule), so that the name classified, the
    name in the evidence and the name shown are the same."""
    text = name.lower()
    if text.startswith("[") and text.endswith("]") and ":" in text:
        inner = text[1:-1]
        if is_ip_address(inner):
            return inner
    return text[:-1] if text.endswith(".") else text


def is_ip_address(text: str) -> bool:
    """Whether `text` is an IPv4 or IPv6 address rather than a name."""
    if text and ":" not in text and not text[-1].isdigit():
        return False  # a name ends in a letter (its top-level domain): skip the slow parse
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def registrable_domain(host: str) -> str | None:
    """The registrable domain of a host name (`a.b.zoom.us` -> `zoom.us`), using the public
    suffix list's ICANN and private sections; None for addresses and bare suffixes."""
    if not host or is_ip_address(host):
        return None
    return _psl().privatesuffix(host)


def is_icann_public_suffix(domain: str) -> bool:
    """Whether a domain is itself a public suffix in the ICANN section (`com`, `co.uk`)."""
    return bool(_icann_psl().is_public(domain))


def name_suffixes(host: str) -> tuple[str, ...]:
    """The host and each parent domain, most specific first: a.b.c -> (a.b.c, b.c, c).
    Computed by slicing after each dot (the same strings as splitting on dots and joining)."""
    suffixes = [host]
    dot = host.find(".")
    while dot >= 0:
        host = host[dot + 1:]
        suffixes.append(host)
        dot = host.find(".")
    return tuple(suffixes)


@lru_cache(maxsize=4096)
def domain_suffixes(host: str) -> tuple[str, ...]:
    """name_suffixes(host), cached for callers that look up the same name several times.
    Classification computes a name's suffixes once for the catalog and every list
    (name_lookup.py), so a stream of new names does not churn this cache."""
    return name_suffixes(host)

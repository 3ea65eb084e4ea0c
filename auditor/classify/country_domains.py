"""Catalog domains written `name.*`: one organisation's name under every country-code suffix.

Trackers run the same host under their country domains (`adservice.google.fr`,
`adservice.google.co.uk`, `mc.yandex.kz`, `metrika.yandex.com.tr`). A rule domain
`adservice.google.*` matches them: the `*` stands for the name's whole public suffix (from the
public suffix list's ICANN section), and only when that suffix is a country's (its last label
is a two-letter country code). So `google.fr` and `google.co.uk` are `google.*`, while
`notgoogle.fr` (another registrable domain), `google.evil.com` (suffix `com`), `google.github.io`
(registrable domain `github.io`) and `google.xyz` (a generic suffix) are not.

A name's suffixes become, most specific first, each suffix followed by its `*` form:
`adservice.google.fr`, `adservice.google.*`, `google.fr`, `google.*`, `fr`; so a rule for the
exact domain beats the `*` rule at the same depth, and a deeper `*` rule beats a shallower
exact one.
"""

from __future__ import annotations

from functools import lru_cache

from auditor.names.domains import is_icann_public_suffix

ANY_COUNTRY = "*"


@lru_cache(maxsize=4096)
def country_suffix(name: str) -> str | None:
    """The name's public suffix when it is a country-code one (`fr`, `co.uk`, `com.tr`), and
    the name is below it; else None."""
    labels = name.split(".")
    for start in range(1, len(labels)):
        suffix = ".".join(labels[start:])
        if is_icann_public_suffix(suffix):
            top = labels[-1]
            return suffix if len(top) == 2 and top.isascii() and top.isalpha() else None
    return None


def country_form(name: str) -> str | None:
    """`adservice.google.*` for `adservice.google.fr`; None when the name is not under a
    country-code suffix."""
    suffix = country_suffix(name)
    return name[:-len(suffix)] + ANY_COUNTRY if suffix else None


def with_country_forms(name: str, suffixes: tuple[str, ...]) -> tuple[str, ...]:
    """The name's suffixes (most specific first) with each one's `*` form after it."""
    suffix = country_suffix(name)
    if suffix is None:
        return suffixes
    out: list[str] = []
    cut = len(suffix)
    for each in suffixes:
        out.append(each)
        if len(each) > cut + 1 and each.endswith("." + suffix):
            out.append(each[:-cut] + ANY_COUNTRY)
    return tuple(out)

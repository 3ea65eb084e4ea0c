"""A flow as the session's files write it: its flows.jsonl line (every Flow field as JSON
values, then its classification) and its flows.csv row (the same, URL and error secrets
redacted unless the session shows values). Each is made once per flow.
"""

from __future__ import annotations

import dataclasses
from operator import attrgetter
from typing import Any

from auditor.personal_data.url_secrets import redact_secrets
from auditor.records import FLOW_FIELDS, Classification, Flow, Media

REDACTED_COLUMNS = ("url", "error")  # text that can quote a URL's secrets
_MEDIA_FIELDS = tuple(f.name for f in dataclasses.fields(Media))
_flow_values = attrgetter(*FLOW_FIELDS)
_media_values = attrgetter(*_MEDIA_FIELDS)
_ENUM_FIELDS = frozenset({"transport", "orientation", "host_source", "visibility"})
_LIST_FIELDS = frozenset({"alpn", "dns_names", "vlan"})


def flow_dict(flow: Flow) -> dict[str, Any]:
    """The flow as plain JSON values, as records.record_to_dict gives it: enums as their
    strings, tuples as lists, the media block as an object."""
    out = dict(zip(FLOW_FIELDS, _flow_values(flow), strict=True))
    for name in _ENUM_FIELDS:
        value = out[name]
        if value is not None:
            out[name] = value.value
    for name in _LIST_FIELDS:
        value = out[name]
        if value is not None:
            out[name] = list(value)
    media = out["media"]
    if media is not None:
        block = dict(zip(_MEDIA_FIELDS, _media_values(media), strict=True))
        for key, value in block.items():
            if isinstance(value, tuple):
                block[key] = list(value)
        out["media"] = block
    return out


def flow_line(flow: Flow, verdict: Classification | None) -> dict[str, Any]:
    """The flow's flows.jsonl line: its fields, then its category, entity and first-party
    flag when it is classified."""
    line = flow_dict(flow)
    if verdict is not None:
        line["category"] = verdict.category.value
        line["entity"] = verdict.entity
        line["first_party"] = verdict.first_party
    return line


def shared_row(line: dict[str, Any], show_values: bool) -> dict[str, Any]:
    """The flows.csv row of a flow's line: secrets and e-mail addresses in its URL and error
    redacted (short hashes), unless the session shows values."""
    if show_values:
        return line
    for column in REDACTED_COLUMNS:
        if line[column]:
            line = {**line, column: redact_secrets(line[column])}
    return line

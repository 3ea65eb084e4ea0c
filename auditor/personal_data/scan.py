"""Scanning one request (or a flow's DNS names) for personal data: the user's own values,
recognised identifiers and device facts, and SDK fields with known meanings."""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.personal_data.detectors import Detection, detect
from auditor.personal_data.identities import Identity, Needle, NeedleMatcher, needles
from auditor.personal_data.limits import DEFAULT_LIMITS, ScanLimits
from auditor.personal_data.request_fields import Field, RequestData, request_fields, split_url
from auditor.personal_data.sdk_fields import Sdk, load_sdks
from auditor.records import Finding


@dataclass(frozen=True, slots=True)
class ScanContext:
    """What every scan of a session shares."""

    needles: tuple[Needle, ...] = ()
    sdks: tuple[Sdk, ...] = ()
    limits: ScanLimits = DEFAULT_LIMITS
    matcher: NeedleMatcher = field(init=False, repr=False, compare=False)  # from `needles`

    def __post_init__(self) -> None:
        object.__setattr__(self, "matcher", NeedleMatcher(self.needles))

    @classmethod
    def build(cls, identities: list[Identity], sdks: tuple[Sdk, ...] | None = None,
              limits: ScanLimits = DEFAULT_LIMITS) -> ScanContext:
        """A context for these identities (and the built-in SDK formats by default)."""
        return cls(tuple(needles(identities)), load_sdks() if sdks is None else sdks, limits)


@dataclass(slots=True)
class ScanOutcome:
    """The findings of one scan, and whether the scan was complete."""

    findings: list[Finding] = field(default_factory=list)
    scanned_bytes: int = 0
    partial: list[str] = field(default_factory=list)


def scan_request(flow_id: str, host: str | None, request: RequestData, context: ScanContext,
                 client_ip: str | None = None) -> ScanOutcome:
    """Everything personal in one request."""
    fields = request_fields(request, context.limits)
    url_path = split_url(request.url)[0] if request.url else ""
    detections: list[Detection] = []
    for sdk in context.sdks:
        if sdk.matches(host, url_path):
            detections += sdk.describe(fields.items)
            break
    client_ips = frozenset({client_ip}) if client_ip else frozenset()
    detections += detect(fields.items, client_ips)
    outcome = ScanOutcome(scanned_bytes=fields.scanned_bytes, partial=list(fields.partial))
    outcome.findings = _findings(flow_id, detections, fields.items, context)
    return outcome


def scan_names(flow_id: str, names: list[str], context: ScanContext) -> list[Finding]:
    """The user's values hidden in DNS query names (data sent out through DNS labels)."""
    fields = [Field("dns", name, None, name, "plain") for name in names]
    return _findings(flow_id, [], fields, context)


def _findings(flow_id: str, detections: list[Detection], fields: list[Field],
              context: ScanContext) -> list[Finding]:
    out: dict[tuple[str, str, str], Finding] = {}
    for detection in detections:
        f = detection.field
        # One value of one kind counts once per part of the request: the SDK's precise field
        # (listed first) wins over the same value seen in its enclosing text.
        key = (detection.kind, f.location, detection.value)
        if key not in out:  # the SDK's meaning, listed first, wins over the generic reason
            out[key] = Finding(flow_id, detection.kind, f.location, f.path, f.encoding,
                               detection.value, detection.why, detection.sdk)
    if context.needles:
        for f in fields:
            for needle in context.matcher.find(f.value):
                kind = f"user-{needle.identity.kind}"
                encoding = f.encoding if needle.encoding == "plain" else (
                    f"{f.encoding}>{needle.encoding}")
                key = (kind, f.location, needle.identity.value)
                out.setdefault(key, Finding(
                    flow_id, kind, f.location, f.path, encoding, needle.identity.value,
                    f"your {needle.identity.kind} ({needle.encoding})", None))
    return list(out.values())


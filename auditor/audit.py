"""One audit session: flows from any source, the audited app, and a classification per flow.

This is the pure core between the sources (pcap reader, proxy addon, flow files) and the
report: no I/O. Every source hands over flows and DNS answers; classification, the audited
app and the per-flow evidence are decided here the same way for all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from auditor.classify.address_owner import AddressOwner, address_owners
from auditor.classify.app_detection import AppChoice, choose_app
from auditor.classify.catalog import Catalog
from auditor.classify.endpoint import classify_endpoint
from auditor.classify.request_context import request_of
from auditor.lists.model import describe_lists
from auditor.records import (
    Classification,
    DnsAnswer,
    Evidence,
    Finding,
    Flow,
    HostSource,
    split_address,
)


@dataclass(slots=True)
class SessionData:
    """Everything a report is built from."""

    session_id: str
    source: str  # "pcap" | "proxy" | "har" | "mitm"
    inputs: list[str]
    app: AppChoice
    flows: Sequence[Flow]  # in report order; a capture's are read from disk as needed
    dns_answers: list[DnsAnswer]
    classifications: Mapping[str, Classification]  # by flow id
    coverage: dict[str, Any] = field(default_factory=dict)  # source-specific counters
    catalog_files: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # personal data, per flow
    # Names whose owners received data through DNS labels, classified like endpoints.
    name_classifications: dict[str, Classification] = field(default_factory=dict)
    show_values: bool = False  # reports show found values instead of their short hashes
    lists: list[dict[str, Any]] = field(default_factory=list)  # standard lists used
    list_notes: list[str] = field(default_factory=list)  # e.g. a list not downloaded yet
    # Who holds each public server address (AS, country), and the databases asked.
    address_owners: dict[str, AddressOwner] = field(default_factory=dict)
    address_databases: list[dict[str, Any]] = field(default_factory=list)


def cname_chains(answers: list[DnsAnswer]) -> dict[str, tuple[str, ...]]:
    """For each name the capture resolved, the longest CNAME chain seen from it."""
    chains: dict[str, tuple[str, ...]] = {}
    for answer in answers:
        if len(answer.chain) > len(chains.get(answer.query, ())):
            chains[answer.query] = answer.chain
    return chains


class FlowClassifier:
    """Classifies flows one at a time, once per distinct endpoint (and, when filter lists are
    loaded, per distinct HTTP request: they match full URLs); the same Classification object
    for every flow of a key."""

    def __init__(self, catalog: Catalog, answers: list[DnsAnswer], app: AppChoice) -> None:
        self._catalog = catalog
        self._chains = cname_chains(answers)
        self._app = app
        self._cache: dict[tuple[str | None, str | None, tuple[str, ...], str | None,
                                str | None], Classification] = {}

    def __call__(self, flow: Flow) -> Classification:
        """The flow's classification."""
        catalog = self._catalog
        chain = self._chains.get(flow.host, ()) if flow.host else ()
        request = request_of(flow) if catalog.lists and flow.url else None
        key = (flow.host, flow.server_ip, chain, request.url if request else None,
               request.request_type if request else None)
        result = self._cache.get(key)
        if result is None:
            result = classify_endpoint(catalog, flow.host, flow.server_ip, self._app.entity_id,
                                       chain, request=request)
            self._cache[key] = result
        return result


def classify_flows(
    catalog: Catalog, flows: Iterable[Flow], answers: list[DnsAnswer], app: AppChoice
) -> dict[str, Classification]:
    """A classification for every flow (FlowClassifier)."""
    classify = FlowClassifier(catalog, answers, app)
    return {flow.flow_id: classify(flow) for flow in flows}


def run_audit(
    catalog: Catalog,
    flows: list[Flow],
    answers: list[DnsAnswer],
    *,
    session_id: str,
    source: str,
    inputs: list[str],
    requested_app: str | None,
    coverage: dict[str, Any] | None = None,
    findings: list[Finding] | None = None,
    show_values: bool = False,
) -> SessionData:
    """Decide the audited app and classify every flow. Raises UnknownAppError for a bad
    --app value."""
    app = choose_app(catalog, flows, requested_app)
    classifications = classify_flows(catalog, flows, answers, app)
    flows = [named_by_range(flow, classifications[flow.flow_id]) for flow in flows]
    session = session_data(catalog, app, flows, classifications, answers,
                           session_id=session_id, source=source, inputs=inputs,
                           coverage=coverage, findings=findings, show_values=show_values)
    add_address_owners(session, catalog, owned_addresses(flows))
    return session


def session_data(
    catalog: Catalog,
    app: AppChoice,
    flows: Sequence[Flow],
    classifications: Mapping[str, Classification],
    answers: list[DnsAnswer],
    *,
    session_id: str,
    source: str,
    inputs: list[str],
    coverage: dict[str, Any] | None = None,
    findings: list[Finding] | None = None,
    show_values: bool = False,
) -> SessionData:
    """A session of classified flows (named by range), without its address owners: a caller
    may only know every address once it has gone through the flows (add_address_owners)."""
    return SessionData(
        session_id=session_id,
        source=source,
        inputs=inputs,
        app=app,
        flows=flows,
        dns_answers=answers,
        classifications=classifications,
        coverage=coverage or {},
        catalog_files=list(catalog.files),
        findings=findings or [],
        show_values=show_values,
        name_classifications=name_verdicts(catalog, findings or [], app),
        lists=describe_lists(catalog.lists),
        list_notes=list(catalog.list_notes),
    )


def add_address_owners(session: SessionData, catalog: Catalog,
                       addresses: Iterable[str | None]) -> None:
    """Who holds each of `addresses` (AS, country), and which databases were asked: those
    say whether they were used, so they are described once the owners are known."""
    session.address_owners = address_owners(catalog, addresses)
    session.address_databases = catalog.addresses.describe()


def name_verdicts(catalog: Catalog, findings: list[Finding],
                  app: AppChoice) -> dict[str, Classification]:
    """The names that received data through DNS labels, classified like endpoints."""
    return {f.path: classify_endpoint(catalog, f.path, None, app.entity_id)
            for f in findings if f.location == "dns"}


def owned_addresses(flows: Iterable[Flow]) -> Iterator[str | None]:
    """The addresses whose owners a report names: every server address, and those media
    blocks name (peers reached through a TURN relay, the client's own public address as a
    server saw it)."""
    for flow in flows:
        yield flow.server_ip
        media = flow.media
        if media is not None:
            for text in (media.mapped_address, *(media.peer_addresses or ())):
                if text:
                    yield split_address(text)[0]


def named_by_range(flow: Flow, verdict: Classification) -> Flow:
    """A flow known by no name but covered by a published range says so in `host_source`."""
    if flow.host_source is not HostSource.NONE:
        return flow
    for evidence in verdict.evidence:
        if evidence.kind == "ip-range":
            return replace(flow, host_source=HostSource.IP_RANGE, name_evidence=evidence.detail)
    return flow


def name_evidence(flow: Flow) -> Evidence | None:
    """How a flow's host name was learned, as evidence."""
    if flow.name_evidence is None:
        return None
    return Evidence(kind="name", detail=flow.name_evidence)

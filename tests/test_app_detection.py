"""Choosing the audited app: named with --app, or detected from the traffic."""

from __future__ import annotations

import pytest

from auditor.classify.app_detection import UnknownAppError, choose_app
from auditor.classify.catalog import Catalog
from auditor.records import Flow, HostSource, Transport


def flow(n: int, host: str | None, server_ip: str, size: int = 1000) -> Flow:
    return Flow(flow_id=f"F{n}", ts_start=float(n), ts_end=float(n) + 1, transport=Transport.TCP,
                client_ip="192.168.1.23", client_port=50000 + n, server_ip=server_ip,
                server_port=443, host=host,
                host_source=HostSource.SNI if host else HostSource.NONE, bytes_up=size)


def test_named_app_is_validated_and_case_insensitive(catalog: Catalog) -> None:
    choice = choose_app(catalog, [], "Zoom")
    assert choice.app == "zoom" and choice.entity_id == "zoom" and choice.how == "option"
    with pytest.raises(UnknownAppError, match=r"known apps: .*zoom"):
        choose_app(catalog, [], "zooom")


def test_detects_the_app_with_most_app_specific_flows(catalog: Catalog) -> None:
    flows = [flow(1, "zoom.us", "170.114.52.2"), flow(2, "us05web.zoom.us", "170.114.10.87"),
             flow(3, None, "206.247.41.10"),  # Zoom media range, no name
             flow(4, "teams.microsoft.com", "52.113.194.132", size=10**6),
             flow(5, "www.googletagmanager.com", "142.250.185.104")]
    choice = choose_app(catalog, flows, None)
    assert choice.app == "zoom" and choice.how == "detected"
    assert "3 flows" in choice.detail and "teams: 1 flow)" in choice.detail


def test_no_app_when_nothing_points_to_one(catalog: Catalog) -> None:
    choice = choose_app(catalog, [flow(1, "updates.example.net", "203.0.113.50")], None)
    assert choice.app is None and choice.entity is None and choice.how == "none"

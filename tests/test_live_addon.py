"""The addon's hooks with mitmproxy's own test context and flows (taddons + tflow)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import exceptions
from mitmproxy.proxy.server_hooks import ServerConnectionHookData
from mitmproxy.test import taddons, tflow, tutils

from auditor.live.addon import VcauditAddon
from auditor.session.folder import read_session_folder


def lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Adding the addon creates a default session under ./vcaudit-reports until options say
    otherwise: keep that out of the repository."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def addon_in(tmp_path: Path) -> Any:
    addon = VcauditAddon()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, vcaudit_out=str(tmp_path / "s"), vcaudit_refresh=0)
        yield addon, tctx, tmp_path / "s"


def test_http_flow_is_logged_at_once(addon_in: Any) -> None:
    addon, _, folder = addon_in
    flow = tflow.tflow(resp=True)
    flow.request.host = "graph.facebook.com"
    flow.request.headers["host"] = "graph.facebook.com"
    addon.response(flow)
    addon.response(flow)  # a hook called twice for one flow records it once
    logged = lines(folder / "flows.jsonl")
    assert len(logged) == 1
    assert logged[0]["host"] == "graph.facebook.com" and logged[0]["category"] == "ad-tech"
    assert logged[0]["flow_id"] == flow.id and logged[0]["status"] == 200


def test_a_failing_hook_becomes_an_anomaly_not_an_exception(addon_in: Any) -> None:
    addon, _, folder = addon_in
    broken = tflow.tflow(resp=True)
    broken.request = None  # type: ignore[assignment]
    addon.response(broken)  # must not raise
    anomalies = lines(folder / "anomalies.jsonl")
    assert len(anomalies) == 1 and anomalies[0]["kind"] == "addon-response-failed"
    assert anomalies[0]["flow_id"] == broken.id
    report_folder = read_session_folder(folder)
    assert report_folder.anomalies[0].kind == "addon-response-failed"


def test_dns_answers_name_later_udp_flows(addon_in: Any) -> None:
    addon, _, folder = addon_in
    dns_flow = tflow.tdnsflow(resp=True)  # dns.google -> 8.8.8.8, 8.8.4.4
    addon.dns_response(dns_flow)
    udp = tflow.tudpflow()
    udp.server_conn.peername = ("8.8.8.8", 8801)
    udp.client_conn.timestamp_start = dns_flow.response.timestamp + 1  # type: ignore[union-attr]
    for message in udp.messages:
        addon.count_message(udp, message.from_client, message.content)
    addon.udp_end(udp)
    answers = lines(folder / "dns.jsonl")
    assert {a["address"] for a in answers} == {"8.8.8.8", "8.8.4.4"}
    logged = {f["flow_id"]: f for f in lines(folder / "flows.jsonl")}
    assert logged[dns_flow.id]["app_proto"] == "dns"
    media = logged[udp.id]
    assert media["host"] == "dns.google" and media["host_source"] == "dns"
    assert media["transport"] == "udp" and media["messages_up"] >= 1
    assert "DNS answer" in media["name_evidence"]


def test_bad_options_are_refused(tmp_path: Path) -> None:
    addon = VcauditAddon()
    with taddons.context(addon) as tctx:
        with pytest.raises(exceptions.OptionsError, match="vcaudit_refresh"):
            tctx.configure(addon, vcaudit_refresh=-5)
        with pytest.raises(exceptions.OptionsError, match="unknown app"):
            tctx.configure(addon, vcaudit_out=str(tmp_path / "a"), vcaudit_app="nope")
        bad_rules = tmp_path / "rules.toml"
        bad_rules.write_text("[[rule]]\nid = 'x'\n")
        with pytest.raises(exceptions.OptionsError, match=r"rules\.toml"):
            tctx.configure(addon, vcaudit_out=str(tmp_path / "b"), vcaudit_rules=[str(bad_rules)])
        tctx.configure(addon, vcaudit_out=str(tmp_path / "c"), vcaudit_refresh=0)
        addon.running()
        with pytest.raises(exceptions.OptionsError, match="cannot change"):
            tctx.configure(addon, vcaudit_app="teams")


def test_trimming_keeps_counts_and_only_the_last_message(tmp_path: Path) -> None:
    addon = VcauditAddon()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, vcaudit_out=str(tmp_path / "s"), vcaudit_refresh=0,
                       vcaudit_trim_messages=True)
        flow = tflow.ttcpflow()
        sizes = [len(m.content) for m in flow.messages]
        kept = list(flow.messages)
        flow.messages.clear()
        for message in kept:
            flow.messages.append(message)
            addon.tcp_message(flow)
        assert len(flow.messages) == 1
        addon.tcp_end(flow)
    logged = lines(tmp_path / "s" / "flows.jsonl")[0]
    assert logged["bytes_up"] + logged["bytes_down"] == sum(sizes)
    assert logged["messages_up"] + logged["messages_down"] == len(sizes)


def test_a_refused_connect_is_recorded_once_without_the_proxys_answer(addon_in: Any) -> None:
    addon, _, folder = addon_in
    flow = tflow.tflow(resp=tutils.tresp(status_code=502))
    flow.request.method = "CONNECT"
    flow.request.host = "graph.facebook.com"
    flow.server_conn.error = "[Errno 111] Connect call failed"
    addon.http_connect_error(flow)
    addon.error(flow)  # whatever else reports this flow, it is one attempt
    (logged,) = lines(folder / "flows.jsonl")
    assert logged["method"] == "CONNECT" and logged["host"] == "graph.facebook.com"
    assert logged["error"] == "[Errno 111] Connect call failed"
    assert logged["status"] is None and logged["bytes_down"] is None  # the proxy's 502
    assert logged["category"] == "ad-tech"


def test_a_connection_that_left_no_flow_is_recorded_when_it_closes(addon_in: Any) -> None:
    addon, _, folder = addon_in
    failed, served = tflow.tclient_conn(), tflow.tclient_conn()
    failed.sni, failed.tls, failed.timestamp_tls_setup = "graph.facebook.com", True, None
    unreachable = tflow.tserver_conn()
    unreachable.error = "connection refused"
    addon.connections.client_connected(failed)
    addon.connections.server_connect_error(ServerConnectionHookData(unreachable, failed))
    addon.connections.client_connected(served)
    addon.connections.server_connected(ServerConnectionHookData(tflow.tserver_conn(), served))
    exchange = tflow.tflow(resp=True, client_conn=served)
    addon.response(exchange)
    for client in (failed, served):
        addon.connections.client_disconnected(client)
    logged = lines(folder / "flows.jsonl")
    assert [f["flow_id"] for f in logged[:1]] == [exchange.id] and len(logged) == 2
    attempt = logged[1]
    assert attempt["host"] == "graph.facebook.com" and attempt["host_source"] == "sni"
    assert attempt["error"] == "connection refused" and attempt["app_proto"] == "tls"
    assert attempt["visibility"] == "encrypted" and attempt["bytes_up"] is None


def test_a_body_cut_short_has_no_byte_count(addon_in: Any) -> None:
    addon, _, folder = addon_in
    flow = tflow.tflow(resp=True, err=True)
    flow.response.headers["content-length"] = "1000"  # type: ignore[union-attr]
    flow.response.raw_content = None  # type: ignore[union-attr]
    addon.error(flow)
    (logged,) = lines(folder / "flows.jsonl")
    assert logged["status"] == 200 and logged["bytes_down"] is None
    assert logged["bytes_up"] > 0 and logged["error"]

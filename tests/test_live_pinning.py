"""Pinned hosts relayed untouched (auditor/live_pinning.py), end to end: a real mitmdump or
`vcaudit proxy`, real clients that do not trust the proxy's CA (curl with OpenSSL, httpx with
Python's ssl), and a loopback HTTPS upstream whose certificate its own CA signed.

A client's first connection to a host fails (the proxy presents its own certificate); every
later one must reach the real server, end to end, and be recorded as a `pinned` flow with its
SNI and byte counts."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mitmproxy import connection

from auditor.live.pinning import PinnedHosts, pin_key

from .support.certs import ServerCert, make_server_cert
from .support.clients import curl, flows_of, needs_curl, python_get, wait_for
from .support.proxy_process import Launcher, MitmdumpProcess
from .support.split_hello import https_get_in_pieces
from .support.upstream import UpstreamServer

PINNED = "pinned.zoom.us"
REFUSED_LOG = "relaying it untouched from now on"


@pytest.fixture(scope="module")
def upstream_cert(tmp_path_factory: pytest.TempPathFactory) -> ServerCert:
    return make_server_cert(tmp_path_factory.mktemp("certs"), [PINNED, "zoom.us"])


@pytest.fixture(scope="module")
def upstream(upstream_cert: ServerCert) -> Iterator[UpstreamServer]:
    with UpstreamServer(upstream_cert) as server:
        yield server


def own_ca(cert: ServerCert) -> ssl.SSLContext:
    """What a pinning app trusts: the upstream's own CA, not mitmproxy's."""
    return ssl.create_default_context(cafile=str(cert.ca_pem))


def fetch(client: str, proxy: MitmdumpProcess, url: str, cert: ServerCert) -> dict[str, Any]:
    """GET url with the given client trusting only the upstream's CA; the JSON the upstream
    echoes, or {"failed": reason}."""
    if client == "curl":
        result = curl(proxy.url, url, "--cacert", str(cert.ca_pem))
        if result.returncode:
            return {"failed": result.stderr}
        return dict(json.loads(result.stdout))
    try:
        return dict(python_get(proxy.url, url, own_ca(cert)).json())
    except httpx.ConnectError as exc:
        return {"failed": str(exc)}


def relayed_flows(proxy: MitmdumpProcess, host: str | None) -> list[dict[str, Any]]:
    return [f for f in flows_of(proxy.session)
            if f["visibility"] == "pinned" and f["sni"] == host and not f["error"]]


@needs_curl
@pytest.mark.parametrize("launcher", ["script", "vcaudit-proxy"])
@pytest.mark.parametrize("client", ["curl", "python"])
def test_later_connections_to_a_pinned_host_reach_it_and_are_counted(
        tmp_path: Path, upstream: UpstreamServer, upstream_cert: ServerCert,
        launcher: Launcher, client: str) -> None:
    proxy = MitmdumpProcess(tmp_path, tmp_path / "session", upstream.port, 0,
                            ["--set", "vcaudit_refresh=0"], launcher=launcher)
    with proxy:
        first = fetch(client, proxy, f"https://{PINNED}/first", upstream_cert)
        # The proxy's own certificate, which this client does not trust.
        assert "failed" in first and "local issuer certificate" in first["failed"], first
        for n in (2, 3):
            answer = fetch(client, proxy, f"https://{PINNED}/attempt/{n}", upstream_cert)
            assert answer == {"host": PINNED, "path": f"/attempt/{n}", "received": 0}
        wait_for(lambda: len(relayed_flows(proxy, PINNED)) == 2)
        proxy.stop()
    flows = flows_of(proxy.session)
    assert len(flows) == 3 and len({f["flow_id"] for f in flows}) == 3
    refused = [f for f in flows if f["error"]]
    assert len(refused) == 1 and "refused the proxy's certificate" in refused[0]["error"]
    assert refused[0]["visibility"] == "pinned" and refused[0]["sni"] == PINNED
    for relayed in relayed_flows(proxy, PINNED):
        assert relayed["host"] == PINNED and relayed["host_source"] == "sni"
        assert relayed["app_proto"] == "tls" and relayed["url"] is None
        # A ClientHello and a request up; the server's certificate chain and answer down.
        assert relayed["bytes_up"] > 300 and relayed["bytes_down"] > 1000
        assert relayed["messages_up"] >= 2 and relayed["messages_down"] >= 1
        assert relayed["category"] == "first-party"
    assert proxy.output().count(REFUSED_LOG) == 1


@needs_curl
def test_a_client_without_sni_is_keyed_by_the_server_address(
        tmp_path: Path, upstream: UpstreamServer, upstream_cert: ServerCert) -> None:
    proxy = MitmdumpProcess(tmp_path, tmp_path / "session", upstream.port, 0,
                            ["--set", "vcaudit_refresh=0"])
    with proxy:
        # curl sends no SNI for an address.
        assert curl(proxy.url, "https://127.0.0.1/one", "--cacert",
                    str(upstream_cert.ca_pem)).returncode == 60
        second = curl(proxy.url, "https://127.0.0.1/two", "--cacert", str(upstream_cert.ca_pem))
        assert second.returncode == 0 and json.loads(second.stdout)["path"] == "/two"
        wait_for(lambda: len(relayed_flows(proxy, None)) == 1)
        proxy.stop()
    relayed = relayed_flows(proxy, None)[0]
    assert relayed["server_ip"] == "127.0.0.1" and relayed["bytes_down"] > 0
    assert "certificate for 127.0.0.1; relaying" in proxy.output()


def test_a_client_hello_in_pieces_is_waited_for(
        tmp_path: Path, upstream: UpstreamServer, upstream_cert: ServerCert) -> None:
    """The tunnel goes to an address, so only the SNI can match, and the SNI is in the part of
    the ClientHello that arrives later: the decision must wait for it."""
    proxy = MitmdumpProcess(tmp_path, tmp_path / "session", upstream.port, 0,
                            ["--set", "vcaudit_refresh=0"])
    with proxy:
        assert "failed" in fetch("python", proxy, f"https://{PINNED}/first", upstream_cert)
        response = https_get_in_pieces(proxy.port, "127.0.0.1", PINNED, own_ca(upstream_cert),
                                       "/in-pieces")
        assert response.startswith(b"HTTP/1.1 200") and b'"/in-pieces"' in response
        wait_for(lambda: len(relayed_flows(proxy, PINNED)) == 1)
        proxy.stop()
    relayed = relayed_flows(proxy, PINNED)[0]
    assert relayed["bytes_up"] > 300 and relayed["bytes_down"] > 1000  # counted


@needs_curl
def test_when_mitmproxy_chose_the_layer_first_the_host_is_still_relayed(
        tmp_path: Path, upstream: UpstreamServer, upstream_cert: ServerCert) -> None:
    """vcaudit added after mitmproxy's NextLayer (a program embedding mitmproxy): the
    tls_clienthello hook relays the host untouched; mitmproxy reports no bytes for it."""
    proxy = MitmdumpProcess(tmp_path, tmp_path / "session", upstream.port, 0,
                            ["--set", "vcaudit_refresh=0"], launcher="late-addon")
    with proxy:
        assert "failed" in fetch("curl", proxy, f"https://{PINNED}/first", upstream_cert)
        for client in ("curl", "python"):
            answer = fetch(client, proxy, f"https://{PINNED}/{client}", upstream_cert)
            assert answer.get("path") == f"/{client}", answer
        wait_for(lambda: len(relayed_flows(proxy, PINNED)) == 2)
        proxy.stop()
    flows = flows_of(proxy.session)
    assert len(flows) == 3  # the refusal and two relayed connections, each once
    for relayed in relayed_flows(proxy, PINNED):
        assert relayed["host"] == PINNED and relayed["app_proto"] == "tls"
        assert relayed["bytes_up"] is None and relayed["bytes_down"] is None


def test_pin_keys() -> None:
    assert pin_key("Pinned.Zoom.US.", ("10.0.0.1", 443)) == "pinned.zoom.us"
    assert pin_key(None, ("10.0.0.1", 443)) == "10.0.0.1"
    assert pin_key(None, None) is None
    hosts = PinnedHosts()
    assert hosts.refused(PINNED, None) == PINNED
    assert hosts.refused(PINNED, ("10.0.0.1", 443)) is None  # already relayed: said once
    assert PINNED in hosts and "10.0.0.1" not in hosts
    hosts.enabled = False
    assert hosts.refused(None, ("10.0.0.2", 443)) is None and "10.0.0.2" not in hosts
    assert hosts.take_relayed(connection.Client(peername=("1.2.3.4", 5),
                                                sockname=("0.0.0.0", 0)).id) == (False, None)

"""Failed proxied requests leave a trace (auditor/live_connections.py, the addon's `error` and
`http_connect_error` hooks): a real mitmdump, real clients (curl, httpx), and loopback
servers that refuse, hang up or answer badly. Each attempt is exactly one flow, named,
classified, with its error."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .support.certs import ServerCert, make_server_cert
from .support.clients import curl, flows_of, needs_curl, python_get, wait_for
from .support.faulty_upstream import FaultyUpstream, Mode, closed_port
from .support.proxy_process import MitmdumpProcess
from .support.upstream import free_port

TRACKER = "graph.facebook.com"


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> ServerCert:
    return make_server_cert(tmp_path_factory.mktemp("certs"), [TRACKER])


@pytest.fixture
def faulty(cert: ServerCert, request: pytest.FixtureRequest) -> Iterator[FaultyUpstream]:
    mode: Mode = request.param
    with FaultyUpstream(mode, cert) as server:
        yield server


def proxy_to(tmp_path: Path, port: int, *extra: str) -> MitmdumpProcess:
    return MitmdumpProcess(tmp_path, tmp_path / "session", port, port,
                           ["--set", "vcaudit_refresh=0", *extra])


def trusting(proxy: MitmdumpProcess) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(proxy.ca_pem))


def recorded(proxy: MitmdumpProcess, count: int) -> list[dict[str, Any]]:
    """Stop the proxy once `count` flows are in; they must be all it records, each once."""
    wait_for(lambda: len(flows_of(proxy.session)) >= count)
    proxy.stop()
    flows = flows_of(proxy.session)
    assert len(flows) == count and len({f["flow_id"] for f in flows}) == count, flows
    return flows


def assert_tracker_attempt(flow: dict[str, Any]) -> None:
    assert flow["host"] == TRACKER and flow["category"] == "ad-tech"
    assert flow["entity"] == "Meta" and flow["error"]
    assert flow["status"] is None and flow["bytes_down"] is None


@needs_curl
def test_a_refused_connect_is_a_flow(tmp_path: Path) -> None:
    """The default (eager) strategy connects when the client sends CONNECT: the client gets
    502 for its CONNECT and never sends a request."""
    proxy = proxy_to(tmp_path, closed_port())
    with proxy:
        result = curl(proxy.url, f"https://{TRACKER}/curl", "--cacert", str(proxy.ca_pem))
        assert result.returncode == 56 and "502" in result.stderr
        with pytest.raises(httpx.ProxyError, match="502"):
            python_get(proxy.url, f"https://{TRACKER}/python", trusting(proxy))
        flows = recorded(proxy, 2)
    for flow in flows:
        assert_tracker_attempt(flow)
        assert flow["method"] == "CONNECT" and flow["url"] == f"{TRACKER}:443"
        assert flow["host_source"] == "http-host" and flow["visibility"] == "plaintext"
        assert "Connect call failed" in flow["error"] or "refused" in flow["error"].lower()
        assert flow["bytes_up"] > 0  # the CONNECT request


@needs_curl
def test_a_name_that_does_not_resolve_is_a_flow(tmp_path: Path) -> None:
    proxy = proxy_to(tmp_path, 0)  # no redirect: the proxy looks the name up itself
    with proxy:
        result = curl(proxy.url, "https://tracker.invalid/", "--cacert", str(proxy.ca_pem))
        assert result.returncode == 56
        (flow,) = recorded(proxy, 1)
    assert flow["host"] == "tracker.invalid" and flow["method"] == "CONNECT"
    assert flow["error"] and flow["category"] == "unknown"


@needs_curl
@pytest.mark.parametrize("http", ["--http1.1", "--http2"])
def test_an_unreachable_server_behind_a_decrypted_request_is_a_flow(
        tmp_path: Path, http: str) -> None:
    """Lazy strategy: the proxy completes TLS with the client and fails on the request."""
    proxy = proxy_to(tmp_path, closed_port(), "--set", "connection_strategy=lazy")
    with proxy:
        result = curl(proxy.url, f"https://{TRACKER}/lazy", http, "--cacert", str(proxy.ca_pem))
        assert result.returncode == 0 and "502 Bad Gateway" in result.stdout
        (flow,) = recorded(proxy, 1)
    assert_tracker_attempt(flow)
    assert flow["method"] == "GET" and flow["url"] == f"https://{TRACKER}/lazy"
    assert flow["http_version"] == ("HTTP/2.0" if http == "--http2" else "HTTP/1.1")
    assert flow["visibility"] == "intercepted" and flow["bytes_up"] > 0


@needs_curl
@pytest.mark.parametrize(("faulty", "message"), [
    ("not-tls", "does not speak TLS"),
    ("no-response", "server closed connection"),
    ("cut-body", "peer closed connection without sending complete message body"),
], indirect=["faulty"])
@pytest.mark.parametrize("http", ["--http1.1", "--http2"])
def test_a_server_that_fails_the_exchange_is_a_flow(
        tmp_path: Path, faulty: FaultyUpstream, message: str, http: str) -> None:
    proxy = proxy_to(tmp_path, faulty.port)
    with proxy:
        result = curl(proxy.url, f"https://{TRACKER}/x", http, "--cacert", str(proxy.ca_pem))
        assert "502 Bad Gateway" in result.stdout, result
        (flow,) = recorded(proxy, 1)
    assert flow["host"] == TRACKER and flow["category"] == "ad-tech"
    assert flow["method"] == "GET" and message in flow["error"]
    if faulty.mode == "cut-body":
        assert flow["status"] == 200  # the head arrived; the body's size is not known
    else:
        assert flow["status"] is None
    assert flow["bytes_down"] is None


@needs_curl
@pytest.mark.parametrize("faulty", ["close"], indirect=True)
def test_a_server_that_hangs_up_before_the_handshake_is_a_flow(
        tmp_path: Path, faulty: FaultyUpstream) -> None:
    """The server accepts the connection and closes it before TLS. mitmproxy 12 then stalls
    the tunnel (the client times out and no flow hook runs): the connection is recorded when
    it ends or, at the latest, when the proxy stops."""
    proxy = proxy_to(tmp_path, faulty.port)
    with proxy:
        result = curl(proxy.url, f"https://{TRACKER}/x", "--cacert", str(proxy.ca_pem),
                      timeout=3)
        assert result.returncode != 0 or "502" in result.stdout
        proxy.stop()
    (flow,) = flows_of(proxy.session)  # named from the SNI, or from the request if it got one
    assert flow["host"] == TRACKER and flow["category"] == "ad-tech" and flow["error"]


@needs_curl
def test_a_connection_that_fails_before_any_flow_is_a_flow(tmp_path: Path) -> None:
    """Reverse mode, like WireGuard and local capture, opens the server connection before
    any layer makes a flow: an unreachable server just closes the client."""
    port = free_port()
    proxy = proxy_to(tmp_path, closed_port(), "--mode", f"reverse:https://{TRACKER}@{port}")
    with proxy:
        result = curl(None, f"https://{TRACKER}:{port}/x", "--resolve",
                      f"{TRACKER}:{port}:127.0.0.1", "--cacert", str(proxy.ca_pem))
        assert result.returncode != 0
        (flow,) = recorded(proxy, 1)
    assert_tracker_attempt(flow)
    assert flow["method"] is None and flow["bytes_up"] is None
    assert "Connect call failed" in flow["error"] or "refused" in flow["error"].lower()


def test_a_plain_http_request_to_an_unreachable_server_is_one_flow(tmp_path: Path) -> None:
    proxy = proxy_to(tmp_path, closed_port())
    with proxy:
        assert python_get(proxy.url, f"http://{TRACKER}/plain", False).status_code == 502
        (flow,) = recorded(proxy, 1)
    assert_tracker_attempt(flow)
    assert flow["url"] == f"http://{TRACKER}/plain" and flow["visibility"] == "plaintext"

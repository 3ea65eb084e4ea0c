"""mitmproxy flows into Flow records (mitm/flow_records.py), with mitmproxy's own test flows:
proxied flows say how they were oriented, and an address in the Host header is not a name."""

from __future__ import annotations

from mitmproxy.test import tflow

from auditor.mitm.flow_records import connection_record, dns_flow_records, http_flow_record
from auditor.records import HostSource, Orientation


def test_every_proxied_record_is_oriented_by_the_proxy() -> None:
    http = http_flow_record(tflow.tflow(resp=True))
    dns_record, _answers = dns_flow_records(tflow.tdnsflow(resp=True))
    flow = tflow.tflow()
    connection = connection_record("C1", flow.client_conn, flow.server_conn, error=None)
    for record in (http, dns_record, connection):
        assert record.orientation is Orientation.PROXY
        assert record.client_ip == "127.0.0.1"


def test_an_address_in_the_host_header_is_kept_but_is_not_the_name() -> None:
    flow = tflow.tflow(resp=True)
    flow.client_conn.sni = None
    flow.request.host = "203.0.113.9"
    flow.request.headers["Host"] = "203.0.113.9:8080"
    record = http_flow_record(flow)
    assert (record.host, record.host_source) == (None, HostSource.NONE)
    assert record.http_host == "203.0.113.9:8080"  # the header as sent
    assert record.server_ip == "192.168.0.1"  # the address the proxy connected to


def test_the_sni_names_a_request_to_an_address() -> None:
    flow = tflow.tflow(resp=True)
    flow.client_conn.sni = "zoom.us"
    flow.request.host = "170.114.52.2"
    flow.request.headers["Host"] = "170.114.52.2"
    record = http_flow_record(flow)
    assert (record.host, record.host_source) == ("zoom.us", HostSource.SNI)


def test_an_address_asked_for_without_a_connection_is_the_server_address() -> None:
    # A HAR entry without serverIPAddress: the URL's address is all there is.
    flow = tflow.tflow(resp=True)
    flow.client_conn.sni = None
    flow.server_conn.peername = None
    flow.server_conn.address = None
    flow.request.host = "198.51.100.7"
    record = http_flow_record(flow)
    assert (record.server_ip, record.host) == ("198.51.100.7", None)


def test_a_name_asked_for_is_the_name_not_the_address() -> None:
    flow = tflow.tflow(resp=True)
    flow.client_conn.sni = None
    flow.server_conn.peername = None
    flow.server_conn.address = None
    flow.request.host = "log.zoom.us"
    record = http_flow_record(flow)
    assert (record.server_ip, record.host, record.host_source) == (
        None, "log.zoom.us", HostSource.HTTP_HOST)

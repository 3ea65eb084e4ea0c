"""Address scopes (names/addresses.py): what is public, private, a group or this host, from
text and from packed bytes as the capture reader holds them."""

from __future__ import annotations

import ipaddress

import pytest

from auditor.names.addresses import AddressScope, address_scope, is_local_address

CASES = [
    ("52.114.252.21", AddressScope.PUBLIC),
    ("66.22.196.173", AddressScope.PUBLIC),
    ("198.51.100.7", AddressScope.PUBLIC),  # documentation ranges are not private networks
    ("2603:1063::1", AddressScope.PUBLIC),
    ("10.0.2.15", AddressScope.PRIVATE),
    ("172.31.255.254", AddressScope.PRIVATE),
    ("172.32.0.1", AddressScope.PUBLIC),  # just outside 172.16.0.0/12
    ("192.168.1.6", AddressScope.PRIVATE),
    ("100.64.0.1", AddressScope.PRIVATE),  # carrier-grade NAT
    ("100.128.0.1", AddressScope.PUBLIC),  # just outside 100.64.0.0/10
    ("169.254.1.1", AddressScope.PRIVATE),
    ("fd00::1", AddressScope.PRIVATE),
    ("fe80::c50d:519f:96a4:e108", AddressScope.PRIVATE),
    ("::ffff:192.168.1.6", AddressScope.PRIVATE),  # IPv4-mapped, as dual-stack sockets give
    ("::ffff:52.114.252.21", AddressScope.PUBLIC),
    ("224.0.0.251", AddressScope.GROUP),
    ("239.255.255.250", AddressScope.GROUP),
    ("255.255.255.255", AddressScope.GROUP),
    ("ff02::1:2", AddressScope.GROUP),
    ("127.0.0.1", AddressScope.HOST),
    ("0.0.0.0", AddressScope.HOST),
    ("::1", AddressScope.HOST),
    ("::", AddressScope.HOST),
]


@pytest.mark.parametrize(("text", "scope"), CASES)
def test_scope_from_text_and_packed_bytes(text: str, scope: AddressScope) -> None:
    assert address_scope(text) is scope
    assert address_scope(ipaddress.ip_address(text).packed) is scope
    assert is_local_address(text) is (scope is not AddressScope.PUBLIC)


@pytest.mark.parametrize("junk", ["", "msedgewin10.local", "999.1.1.1", b"\x01\x02\x03",
                                  "1.2.3.4:80", "[::1]"])
def test_what_is_not_an_address_has_no_scope(junk: str | bytes) -> None:
    assert address_scope(junk) is None
    assert not is_local_address(junk)

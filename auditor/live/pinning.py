"""Certificate pinning in a live session: once a client refuses the proxy's certificate for a
host, later connections to that host are relayed untouched, so the app keeps working, and
recorded as `pinned` flows.

A host is keyed by the SNI of the refused handshake, or by the server address when the client
sent no SNI; later connections are keyed the same way from their own ClientHello. Two hooks
relay them, because which one sees a connection first depends on the addon order:

- `next_layer` (`choose_layer`) relays a match as raw TCP that vcaudit counts (bytes and
  reads each way). A ClientHello that arrives in pieces (a post-quantum key share makes it
  larger than one TCP segment) is waited for, so the SNI is always known. mitmproxy's own
  NextLayer addon decides as soon as it sees the first TLS byte and vcaudit does not undo
  another addon's choice, so this needs vcaudit to be asked first: it is when loaded as a
  script (`-s addons/vcaudit.py`, scripts come before NextLayer) and in `vcaudit proxy`.
- `tls_clienthello` (`ignore`) catches what `next_layer` could not decide: mitmproxy's
  documented `ignore_connection` relays the connection untouched. mitmproxy relays ignored
  connections without flow hooks, so such a connection is recorded without byte counts.
"""

from __future__ import annotations

from mitmproxy import connection, tls
from mitmproxy.net.tls import starts_like_tls_record
from mitmproxy.proxy import layer, layers
from mitmproxy.proxy.layers.tls import parse_client_hello

from auditor.names.domains import normalise_host

# A ClientHello claiming more than this is left to mitmproxy instead of being waited for.
MAX_HELLO_WAIT = 1 << 16


def pin_key(sni: str | None, address: connection.Address | None) -> str | None:
    """The key a connection's host is pinned under: its SNI, else the server address."""
    if sni:
        return normalise_host(sni) or None
    if address:
        return normalise_host(str(address[0])) or None
    return None


class PinnedHosts:
    """The hosts whose certificate the client refused, and the connections relayed for them."""

    def __init__(self) -> None:
        self.enabled = True
        self._keys: set[str] = set()
        self._relayed: dict[str, str | None] = {}  # client connection id -> SNI

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def refused(self, sni: str | None, address: connection.Address | None) -> str | None:
        """Note a refused handshake; the key, if it is newly relayed from now on."""
        key = pin_key(sni, address)
        if key is None or not self.enabled or key in self._keys:
            return None
        self._keys.add(key)
        return key

    def choose_layer(self, nextlayer: layer.NextLayer) -> None:
        """next_layer: relay a connection to a pinned host as raw TCP (counted), waiting for
        a ClientHello that has not fully arrived yet."""
        if not self._keys or nextlayer.layer is not None:
            return
        context = nextlayer.context
        if context.client.transport_protocol != "tcp":
            return
        data: bytes = nextlayer.data_client()  # type: ignore[no-untyped-call]
        if not starts_like_tls_record(data):
            return
        try:
            hello = parse_client_hello(data)
        except ValueError:  # not a ClientHello mitmproxy can read: mitmproxy decides
            return
        if hello is None:
            if len(data) < MAX_HELLO_WAIT:
                nextlayer.layer = _wait_for_more_data(nextlayer)
            return
        if pin_key(hello.sni, context.server.address) in self._keys:
            self._relayed[context.client.id] = hello.sni
            nextlayer.layer = layers.TCPLayer(context)

    def ignore(self, data: tls.ClientHelloData) -> bool:
        """tls_clienthello: relay a pinned host untouched (uncounted) if `next_layer` did not;
        whether this connection is relayed."""
        if not self._keys or data.ignore_connection:
            return False
        if pin_key(data.client_hello.sni, data.context.server.address) not in self._keys:
            return False
        data.ignore_connection = True
        return True

    def take_relayed(self, client_id: str) -> tuple[bool, str | None]:
        """Whether `choose_layer` relayed this client connection, and its SNI (once)."""
        if client_id not in self._relayed:
            return False, None
        return True, self._relayed.pop(client_id)


def _wait_for_more_data(nextlayer: layer.NextLayer) -> layer.NextLayer:
    """A fresh NextLayer that takes over the events seen so far and asks every addon again
    when more data arrives. Handing the events over (rather than letting the old layer replay
    them) is what keeps the question from being asked again with the same data at once."""
    waiting = layer.NextLayer(nextlayer.context)
    waiting.events, nextlayer.events = nextlayer.events, []
    return waiting

"""Test-only mitmproxy addon: send every upstream connection to a loopback port (port 80 to
the plain HTTP one), keeping the client's SNI and Host (graph.facebook.com, zoom.us, ...)."""

from __future__ import annotations

from mitmproxy import ctx
from mitmproxy.addonmanager import Loader
from mitmproxy.proxy.server_hooks import ServerConnectionHookData


class RedirectToLoopback:
    """Rewrites the address of upstream connections to 127.0.0.1:test_upstream_port."""

    def load(self, loader: Loader) -> None:
        loader.add_option("test_upstream_port", int, 0, "Loopback port of the TLS upstream.")
        loader.add_option("test_upstream_plain_port", int, 0,
                          "Loopback port of the plain HTTP upstream (for port 80).")

    def server_connect(self, data: ServerConnectionHookData) -> None:
        if data.server.address is None:
            return
        plain = data.server.address[1] == 80 and ctx.options.test_upstream_plain_port
        port = ctx.options.test_upstream_plain_port if plain else ctx.options.test_upstream_port
        if port:
            data.server.address = ("127.0.0.1", port)


addons = [RedirectToLoopback()]

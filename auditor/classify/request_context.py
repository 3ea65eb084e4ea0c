"""An HTTP flow as a filter list sees a request: URL, host, resource type, first-party context.

Proxied exchanges carry the full URL, the method and the content types. The resource type
(webRequest's names: script, image, xmlhttprequest, ...) comes from the response's content
type; a WebSocket is `websocket`. An app has no page that makes its requests, so its
first-party context is its vendor: a request to a host the catalog gives to the audited app's
vendor is first-party, any other third-party (decided in classify.py).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from auditor.lists.model import RequestContext
from auditor.records import Flow

_BY_CONTENT_TYPE = (
    (("javascript", "ecmascript"), "script"),
    (("text/css",), "stylesheet"),
    (("image/",), "image"),
    (("font/", "application/font", "woff"), "font"),
    (("audio/", "video/", "mpegurl", "dash+xml"), "media"),
    (("text/html", "xhtml"), "subdocument"),
    (("json", "xml", "text/plain", "protobuf", "grpc", "form-urlencoded", "octet-stream"),
     "xmlhttprequest"),
)


def request_type(content_type: str | None, app_proto: str | None, method: str | None) -> str:
    """The webRequest resource type of an exchange."""
    if app_proto == "websocket":
        return "websocket"
    kind = (content_type or "").lower()
    for needles, name in _BY_CONTENT_TYPE:
        if any(n in kind for n in needles):
            return name
    return "ping" if method == "POST" and not kind else "other"


def request_of(flow: Flow) -> RequestContext | None:
    """The request a flow made, for URL matching; None for flows without a URL."""
    if not flow.url:
        return None
    try:
        parts = urlsplit(flow.url)
    except ValueError:
        return None
    host = (parts.hostname or flow.host or "").lower()
    if not host or parts.scheme not in ("http", "https", "ws", "wss"):
        return None
    content_type = flow.response_content_type or flow.request_content_type
    return RequestContext(url=flow.url, host=host,
                          request_type=request_type(content_type, flow.app_proto, flow.method),
                          source_host=None, third_party=None)

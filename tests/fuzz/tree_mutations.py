"""Mutations of structured flow files: a HAR file's JSON, a mitmproxy flow file's tnetstring
values. A node anywhere in the tree gets the wrong type, a hostile string (terminal escapes,
bidi overrides, markup, formula starts, huge), an absurd number or time, a deep nesting, a
compressed body that expands a thousandfold, or disappears or repeats; the tree is written
back (tnetstring lengths then tweaked too, one time in four).
"""

from __future__ import annotations

import copy
import functools
import gzip
import io
import json
import random
from typing import Any

from byte_mutations import GENERIC, tweak_decimal

HOSTILE_TEXT = (
    "\x1b]0;pwned\x07", "\x1b[2J\x1b[H", "a\x00b", "line\nverdict: forged", "\u202egro.elgoog",
    "<script>alert(1)</script>", "=1+1", "@sum(1);=cmd|' /c calc'!a0", "ok.example.org;+1",
    "[::1]", "http://[::1", "xn--", "\ud800", "é" * 300, "a" * 70_000, "", " ", "..", "%00",
    "jane@example.org", "https://user:pw@host.example/?token=abc&email=a%40b.c",
    "9999-12-31T23:59:59Z", "+275760-09-13T00:00:00Z", "2026-13-45T99:99:99", "1e308",
    "0000-00-00", "-1", "NaN",
)
NUMBERS = (0, -1, 1, 65535, 65536, 70000, 2**31, 2**63 - 1, -(2**63), 2**64, 10**30,
           1e308, -1e308, 1.5, 253402300800, 4102444800000, -62135596800)
ENCODINGS = (b"gzip", b"deflate", b"br", b"zstd", b"identity", b"gzip, gzip", b"x-bogus")


@functools.cache
def bomb(size: int = 50 << 20) -> bytes:
    """A gzip body of `size` zero bytes (about a thousandth of that compressed)."""
    return gzip.compress(b"\x00" * size, compresslevel=9, mtime=0)


def _nodes(tree: Any, limit: int = 20_000) -> list[tuple[Any, Any]]:
    """(container, key) of every node below the root, breadth first, at most `limit`."""
    found: list[tuple[Any, Any]] = []
    queue = [tree]
    while queue and len(found) < limit:
        node = queue.pop(0)
        keys = list(node) if isinstance(node, dict) else (
            range(len(node)) if isinstance(node, list) else [])
        for key in keys:
            found.append((node, key))
            child = node[key]
            if isinstance(child, (dict, list)):
                queue.append(child)
    return found


def _hostile_value(rng: random.Random, old: Any, as_bytes: bool) -> Any:
    choice = rng.randrange(8)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice(NUMBERS)
    if choice == 2:
        return rng.choice((True, False, [], {}, [old, old], {"x": old}))
    text = rng.choice(HOSTILE_TEXT)
    if isinstance(old, str) and rng.random() < 0.4:
        text = old + text if rng.random() < 0.5 else text + old
    if as_bytes or isinstance(old, bytes):
        return text.encode("utf-8", "surrogatepass")
    return text


def mutate_tree(rng: random.Random, tree: Any, as_bytes: bool) -> str:
    """Change the tree in place; return what was done."""
    nodes = _nodes(tree)
    if not nodes:
        return "tree: empty"
    container, key = rng.choice(nodes)
    old = container[key]
    choice = rng.randrange(10)
    if choice == 0 and isinstance(container, dict):
        del container[key]
        return f"delete {key!r}"
    if choice == 1 and isinstance(container, list):
        container.insert(key, copy.deepcopy(old))
        return f"duplicate item {key}"
    if choice == 2:
        nested: Any = old
        depth = rng.choice((20, 100, 1000))
        for _ in range(depth):
            nested = [nested] if rng.random() < 0.5 else {"a": nested}
        container[key] = nested
        return f"nest {key!r} {depth} deep"
    if choice == 3 and isinstance(old, (int, float)) and not isinstance(old, bool):
        container[key] = rng.choice(NUMBERS)
        return f"number {key!r} = {container[key]!r}"
    if choice == 4 and isinstance(container, list) and len(container) > 0:
        times = rng.choice((10, 1000))
        container.extend([container[key]] * times)
        return f"repeat item {key} x{times}"
    container[key] = _hostile_value(rng, old, as_bytes)
    return f"set {key!r} = {str(container[key])[:40]!r}"


def mutate_har(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """A HAR file with one to three tree mutations, or a byte-level one, or both."""
    try:
        tree = json.loads(data)
    except ValueError:
        tree = None
    if tree is None or rng.random() < 0.2:
        return rng.choice((*GENERIC, tweak_decimal))(rng, data, donors)
    done = []
    if rng.random() < 0.15:
        done.append(_har_bomb(rng, tree))
    for _ in range(rng.randint(1, 3)):
        done.append(mutate_tree(rng, tree, as_bytes=False))
    try:
        text = json.dumps(tree, ensure_ascii=rng.random() < 0.5)
    except (ValueError, RecursionError) as exc:
        return data, f"tree not writable ({type(exc).__name__})"
    return text.encode("utf-8", "surrogatepass"), "; ".join(done)


def _har_bomb(rng: random.Random, tree: Any) -> str:
    """A body that is a gzip bomb, given base64 as browsers export binary bodies."""
    import base64

    log = tree.get("log") if isinstance(tree, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list) or not entries or not isinstance(entries[0], dict):
        return "bomb: no entry"
    entry = rng.choice(entries)
    response = entry.get("response")
    if not isinstance(response, dict):
        return "bomb: no response"
    response["content"] = {"size": 50 << 20, "mimeType": "application/json",
                           "encoding": "base64", "text": base64.b64encode(bomb()).decode()}
    response["headers"] = [{"name": "content-encoding", "value": "gzip"}]
    return "response body: 50 MB gzip bomb"


def _load_all(data: bytes) -> list[Any]:
    from mitmproxy.io import tnetstring

    handle, values = io.BytesIO(data), []
    while handle.tell() < len(data):
        values.append(tnetstring.load(handle))
    return values


def mutate_mitm(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """A flow file with tree mutations of its flows, or its length prefixes and type tags
    damaged, or a generic byte mutation."""
    from mitmproxy.io import tnetstring

    try:
        flows = _load_all(data)
    except Exception:  # noqa: BLE001 - an already damaged file gets byte mutations
        flows = []
    if not flows or rng.random() < 0.25:
        return rng.choice((*GENERIC, tweak_decimal, tweak_decimal))(rng, data, donors)
    done = []
    flow = rng.choice(flows)
    if rng.random() < 0.15 and isinstance(flow, dict):
        done.append(_mitm_bomb(rng, flow))
    for _ in range(rng.randint(1, 3)):
        done.append(mutate_tree(rng, flow, as_bytes=rng.random() < 0.5))
    try:
        out = b"".join(tnetstring.dumps(value) for value in flows)
    except (ValueError, TypeError, RecursionError) as exc:
        return data, f"tree not writable ({type(exc).__name__})"
    if rng.random() < 0.25:
        out, what = tweak_decimal(rng, out, donors)
        done.append(what)
    return out, "; ".join(done)


def _mitm_bomb(rng: random.Random, flow: dict[Any, Any]) -> str:
    """A request or response body that is a compression bomb, with its content-encoding."""
    part = flow.get("request" if rng.random() < 0.5 else "response")
    if not isinstance(part, dict):
        return "bomb: no message"
    encoding = rng.choice(ENCODINGS)
    part["content"] = bomb() if encoding.startswith(b"gzip") else rng.randbytes(64)
    part["headers"] = [[b"content-encoding", encoding],
                       [b"content-type", b"application/json"]]
    return f"body: bomb, content-encoding {encoding.decode()}"

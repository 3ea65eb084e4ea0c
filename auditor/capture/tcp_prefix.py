"""Reassembly of the first bytes of one direction of a TCP connection.

Names live at the start of a stream (a TLS ClientHello, an HTTP request head), and a
ClientHello with post-quantum key shares spans several segments. This keeps segments by
sequence number, ignores retransmissions, tolerates out-of-order arrival, and yields the
contiguous prefix. It holds at most `limit` bytes, so a hostile stream cannot grow it.
"""

from __future__ import annotations

SEQ_MODULO = 1 << 32


class StreamPrefix:
    """The first `limit` bytes of a TCP byte stream, in order."""

    __slots__ = ("_prefix", "_segments", "_stored", "base", "limit")

    def __init__(self, limit: int = 16384, base: int | None = None) -> None:
        self.base = base
        self.limit = limit
        self._segments: dict[int, bytes] = {}
        self._prefix = b""
        self._stored = 0

    def set_initial_sequence(self, syn_seq: int) -> None:
        """Anchor the stream at the byte after a SYN's sequence number."""
        if self.base is None:
            self.base = (syn_seq + 1) % SEQ_MODULO

    def add(self, seq: int, payload: bytes) -> bytes | None:
        """Add a segment; return the contiguous prefix when it grew, else None."""
        if not payload:
            return None
        if self.base is None:
            self.base = seq
        rel = (seq - self.base) % SEQ_MODULO
        if rel >= self.limit:  # beyond the prefix, or before the anchor (wrapped around)
            return None
        have = len(self._prefix)
        if rel < have:  # a retransmission: keep only what the prefix does not hold yet
            payload = payload[have - rel :]
            rel = have
        old = self._segments.get(rel, b"")
        # `_stored` is what is held (prefix and waiting segments); it never exceeds `limit`.
        room = max(0, min(self.limit - rel, self.limit - self._stored + len(old)))
        payload = payload[:room]
        if len(payload) <= len(old):
            return None  # a retransmission, or no room left
        self._segments[rel] = payload
        self._stored += len(payload) - len(old)
        return self._extend()

    def _extend(self) -> bytes | None:
        grown = False
        while True:
            have = len(self._prefix)
            best = None
            for rel, seg in self._segments.items():
                if rel <= have < rel + len(seg):
                    best = seg[have - rel :]
                    break
            if best is None:
                break
            self._prefix += best
            grown = True
        if grown:
            covered = len(self._prefix)
            self._segments = {r: s for r, s in self._segments.items() if r + len(s) > covered}
            self._stored = covered + sum(len(s) for s in self._segments.values())
            return self._prefix
        return None

    @property
    def prefix(self) -> bytes:
        """The contiguous bytes gathered so far."""
        return self._prefix

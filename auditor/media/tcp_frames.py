"""Media over TCP: STUN and TURN messages back to back (TURN over TCP, RFC 8656), or STUN and
RTP/RTCP each behind a 2-byte length (RFC 4571 framing, used by ICE-TCP of RFC 6544).

The source (a capture's flow inspector, a relayed stream's `StreamMedia`) hands over each
direction's stream prefix as it grows; complete messages go one by one to a `MediaSniffer` as
if they were datagrams. Only the first MAX_FRAMES of each direction are read: enough to name
the protocol, its STUN attributes and RTP streams.
"""

from __future__ import annotations

from auditor.media.sniffer import MediaHooks, MediaSniffer
from auditor.protocols.rtp import RTP_HEADER_LENGTH
from auditor.protocols.stun import HEADER_LENGTH, looks_like_stun, message_length

MAX_FRAMES = 8  # messages read per direction
MAX_FRAME = 1500  # an RFC 4571 frame longer than a datagram is not media


class TcpMediaFrames:
    """Splits both directions of one TCP flow into STUN messages or RFC 4571 frames."""

    __slots__ = ("_frames", "_framing", "_hooks", "_offsets", "sniffer")

    def __init__(self, hooks: MediaHooks) -> None:
        self._hooks = hooks
        self._framing: list[str | None] = [None, None]  # "stun" | "rfc4571" per direction
        self._offsets = [0, 0]
        self._frames = [0, 0]
        self.sniffer: MediaSniffer | None = None

    @property
    def recognised(self) -> bool:
        """Whether a media protocol was recognised in either direction."""
        return self.sniffer is not None and bool(self.sniffer.seen.protocols)

    def feed(self, direction: int, prefix: bytes) -> bool:
        """The direction's stream from its start, as far as it is known; True while more of
        it is wanted (a frame is incomplete, or fewer than MAX_FRAMES were read)."""
        framing = self._framing[direction]
        if framing is None:
            framing = self._framing[direction] = _framing(prefix)
            if framing is None:
                return False
        pos = self._offsets[direction]
        while self._frames[direction] < MAX_FRAMES:
            if framing == "stun":
                length = message_length(prefix[pos:])
                start = pos
            else:
                length = (int.from_bytes(prefix[pos : pos + 2], "big")
                          if pos + 2 <= len(prefix) else None)
                start = pos + 2
            if length is None or start + length > len(prefix):
                return True  # wait for the rest of the frame
            if framing == "rfc4571" and (length > MAX_FRAME or length < 2):
                return False
            self._frame(direction, prefix[start : start + length])
            pos = start + length
            self._offsets[direction] = pos
            self._frames[direction] += 1
            if self.sniffer is None:
                return False
        return False

    def _frame(self, direction: int, frame: bytes) -> None:
        sniffer = self.sniffer
        if sniffer is None:
            sniffer = self.sniffer = MediaSniffer(self._hooks, zoom_sfu=False)
        if not sniffer.finished and not sniffer.counting:
            sniffer.feed(direction, frame)
        if sniffer.finished and not sniffer.seen.protocols:
            self.sniffer = None


def _framing(prefix: bytes) -> str | None:
    """How a stream carries media, judged from its first bytes."""
    if len(prefix) >= HEADER_LENGTH and prefix[0] <= 3:
        length = message_length(prefix)
        if length is not None and looks_like_stun(prefix[:length]):
            return "stun"
    if len(prefix) >= 2 + RTP_HEADER_LENGTH:
        length = int.from_bytes(prefix[0:2], "big")
        inner = prefix[2 : 2 + length]
        if 2 <= length <= MAX_FRAME and (looks_like_stun(inner) or 128 <= inner[0] <= 191):
            return "rfc4571"
    return None

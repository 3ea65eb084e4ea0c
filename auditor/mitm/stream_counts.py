"""What is counted of a relayed stream (WebSocket messages, raw TCP reads, UDP datagrams), so
the messages themselves need not be kept: the same counting for the live addon and for saved
flow files. A raw TCP or UDP stream's first messages are also read for media protocols on the
way (auditor.media): as they come when its transport and ports are known (live), or kept, cut
to what that reading needs, until they are (saved files)."""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.media.stream import MessageHead, StreamMedia


@dataclass(slots=True)
class StreamCounts:
    """Messages and bytes each way, whether the stream began like TLS, and its media reader."""

    messages_up: int = 0
    messages_down: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    starts_like_tls: bool | None = None
    media: StreamMedia | MessageHead | None = field(default=None, compare=False, repr=False)

    def add(self, from_client: bool, content: bytes | str) -> None:
        """Count one message (and read it for media while that is wanted)."""
        if self.starts_like_tls is None:
            self.starts_like_tls = content[:1] in (b"\x16", "\x16")
        if from_client:
            self.messages_up += 1
            self.bytes_up += len(content)
        else:
            self.messages_down += 1
            self.bytes_down += len(content)
        media = self.media
        if media is not None and media.wanted and isinstance(content, bytes):
            media.add(from_client, content)

    def as_tuple(self) -> tuple[int, int, int, int]:
        """(messages up, messages down, bytes up, bytes down), as the record makers take them."""
        return self.messages_up, self.messages_down, self.bytes_up, self.bytes_down

"""Mutations that know nothing of the format: bit flips, interesting byte values, truncation,
splices with another seed, duplicated and deleted blocks, length-like numbers changed.

Each mutation takes a seeded random generator, the input and the other seeds of its family
(for splices), and returns the new bytes with a short description for the crash record.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

Mutation = Callable[[random.Random, bytes, list[bytes]], tuple[bytes, str]]
INTERESTING_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0x0A, 0x1B, 0x3A, 0x7B, 0x2C)
INTERESTING_NUMBERS = (0, 1, 2, 3, 4, 7, 8, 12, 16, 64, 127, 128, 255, 256, 1000, 4096,
                       65535, 65536, 262144, 262145, 1 << 24, 2**31 - 1, 2**31, 2**32 - 1)


def _place(rng: random.Random, data: bytes) -> int:
    """An offset, more often near the start where headers and length fields are."""
    if not data:
        return 0
    if rng.random() < 0.5:
        return rng.randrange(min(len(data), 256))
    return rng.randrange(len(data))


def flip_bits(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """Flip one to eight bits at random places."""
    if not data:
        return data, "flip: empty"
    buffer = bytearray(data)
    count = rng.randint(1, 8)
    for _ in range(count):
        at = _place(rng, buffer)
        buffer[at] ^= 1 << rng.randrange(8)
    return bytes(buffer), f"flip {count} bits"


def set_bytes(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """Overwrite one to four bytes with values that parsers treat specially."""
    if not data:
        return data, "set: empty"
    buffer = bytearray(data)
    at = _place(rng, buffer)
    for offset in range(rng.randint(1, 4)):
        if at + offset < len(buffer):
            buffer[at + offset] = rng.choice(INTERESTING_BYTES)
    return bytes(buffer), f"set bytes at {at}"


def set_number(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """Overwrite 2 or 4 bytes with a length-like number, either byte order."""
    if len(data) < 4:
        return data, "number: short"
    width = rng.choice((2, 4))
    value = rng.choice(INTERESTING_NUMBERS) % (1 << (8 * width))
    at = _place(rng, data[:-width] or data)
    packed = value.to_bytes(width, rng.choice(("little", "big")))
    return data[:at] + packed + data[at + width:], f"number {value} at {at}"


def truncate(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """Cut the input short, anywhere."""
    if not data:
        return data, "truncate: empty"
    at = rng.randrange(len(data))
    return data[:at], f"truncate at {at}"


def delete_block(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """Remove a run of bytes."""
    if len(data) < 2:
        return data, "delete: short"
    at = rng.randrange(len(data))
    size = rng.randint(1, min(1024, len(data) - at))
    return data[:at] + data[at + size:], f"delete {size} at {at}"


def duplicate_block(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """Repeat a run of bytes once or several times."""
    if not data:
        return data, "duplicate: empty"
    at = rng.randrange(len(data))
    size = rng.randint(1, min(4096, len(data) - at))
    times = rng.choice((1, 1, 2, 16))
    return (data[:at + size] + data[at:at + size] * times + data[at + size:],
            f"duplicate {size} at {at} x{times}")


def insert_random(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """Insert a few random bytes."""
    at = rng.randrange(len(data) + 1)
    size = rng.randint(1, 64)
    return data[:at] + rng.randbytes(size) + data[at:], f"insert {size} at {at}"


def splice(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """The head of this input followed by the tail of another of its family."""
    donor = rng.choice(donors) if donors else data
    if not data or not donor:
        return data, "splice: empty"
    cut, cut_donor = rng.randrange(len(data)), rng.randrange(len(donor))
    return data[:cut] + donor[cut_donor:], f"splice at {cut} with donor from {cut_donor}"


_DIGITS = re.compile(rb"\d{1,12}")


def tweak_decimal(rng: random.Random, data: bytes, donors: list[bytes]) -> tuple[bytes, str]:
    """Change a decimal number in text (a tnetstring length prefix, a JSON number)."""
    numbers = [m for m, _ in zip(_DIGITS.finditer(data), range(4096), strict=False)]
    if not numbers:
        return data, "decimal: none"
    match = rng.choice(numbers)
    value = int(match.group())
    new = rng.choice((0, value + 1, max(value - 1, 0), value * 2, value + 4096, 99999999999,
                      10**12 - 1, rng.randrange(1 << 20)))
    return (data[:match.start()] + str(new).encode() + data[match.end():],
            f"decimal {value} -> {new} at {match.start()}")


GENERIC: tuple[Mutation, ...] = (flip_bits, set_bytes, set_number, truncate, delete_block,
                                 duplicate_block, insert_random, splice)

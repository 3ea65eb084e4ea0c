"""A large capture planned in advance: its activities (lazy frame streams), the flows they open
and the DNS answers that name addresses, so that the expected result is known before a single
frame is built."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from trafficgen.addresses import Host
from trafficgen.expected import ExpectedFlow, name_from_dns
from trafficgen.timeline import Activity, Frame, Seeds, merge


class SessionPlan:
    """Activities, expected flows and DNS answers of one generated session."""

    def __init__(self, seeds: Seeds) -> None:
        self.seeds = seeds
        self.activities: list[Activity] = []
        self.flows: list[ExpectedFlow] = []
        self.answers: dict[str, list[tuple[int, str]]] = {}  # address -> (µs, name asked)
        self._counter = 0

    def next_rng(self, label: str) -> tuple[random.Random, str]:
        """A planning generator for the next activity, and the seed of its frames' generator
        (each pass over the frames starts a fresh generator from it)."""
        self._counter += 1
        key = f"{label}:{self._counter}"
        return self.seeds.rng(key), self.seeds.key(f"{key}:frames")

    def add(self, start: int, kind: str, make: Callable[[], Iterator[Frame]]) -> None:
        """An activity whose frames `make` generates, the first at `start` (µs)."""
        self.activities.append(Activity(start, kind, make))

    def flow(self, kind: str, transport: str, client: Host, cport: int | None, server: Host,
             sport: int | None, t: int, host_name: str | None = None,
             source: str = "none") -> None:
        """A flow the capture should show, named by `source` (or by DNS later)."""
        self.flows.append(ExpectedFlow(kind, transport, client.text, cport, server.text, sport,
                                       t, host_name, source))

    def answered(self, address: str, t: int, name: str) -> None:
        """`name` was answered with `address` at `t`."""
        self.answers.setdefault(address, []).append((t, name))

    def name_flows(self) -> None:
        """Name the flows without a name of their own from the DNS answers."""
        name_from_dns(self.flows, self.answers)

    def frames(self, counts: dict[str, int]) -> Iterator[Frame]:
        """Every frame of the session, in time order, counted by kind into `counts`."""
        return merge(self.activities, counts)

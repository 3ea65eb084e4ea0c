"""A session's flows from its captures, in report order (start time, then flow id), read
from the captures' flow stores as they are needed, each classified and named by a published
range on the way (what run_audit does to a list of flows).

Captures keep their flows on disk (capture.flow_spill.FlowStore), in the order of their first
packets; only the order is worked out here, from their start times (two numbers per flow in
memory), so a session of any size is walked through with flat memory.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Iterator, Mapping, Sequence
from typing import overload

from auditor.audit import FlowClassifier, named_by_range
from auditor.capture.flow_spill import FlowStore
from auditor.records import Classification, Flow


def time_order(store: FlowStore) -> Sequence[int]:
    """The positions of a store's flows sorted by (start time, flow id)."""
    starts = store.starts
    count = len(starts)
    if all(starts[i] <= starts[i + 1] for i in range(count - 1)):
        order: Sequence[int] = range(count)
    else:
        order = array("q", sorted(range(count), key=starts.__getitem__))
    return _ties_by_id(store, order)


def _ties_by_id(store: FlowStore, order: Sequence[int]) -> Sequence[int]:
    """`order` with flows that start at the same time sorted by flow id (as text: F1000000
    comes before F999999)."""
    starts = store.starts
    fixed: array[int] | None = None
    run = 0
    for i in range(1, len(order) + 1):
        if i < len(order) and starts[order[i]] == starts[order[run]]:
            continue
        if i - run > 1:
            tied = [order[j] for j in range(run, i)]
            by_id = sorted(tied, key=store.flow_id)
            if by_id != tied:
                if fixed is None:
                    fixed = array("q", order)
                fixed[run:i] = array("q", by_id)
        run = i
    return fixed if fixed is not None else order


class SessionFlows(Sequence[Flow]):
    """The flows of a session's captures in report order, classified and named by range."""

    def __init__(self, stores: list[FlowStore], classify: FlowClassifier) -> None:
        self._stores = stores
        self._orders = [time_order(store) for store in stores]
        self._classify = classify
        self._positions: list[tuple[int, int]] | None = None
        self.last: tuple[str, Classification] | None = None  # the flow last given, its verdict

    def __len__(self) -> int:
        return sum(len(store) for store in self._stores)

    def classified(self) -> Iterator[tuple[Flow, Classification]]:
        """Every flow, named by range, with its classification, in report order."""
        classify = self._classify
        for flow in self._raw():
            verdict = classify(flow)
            flow = named_by_range(flow, verdict)
            self.last = (flow.flow_id, verdict)
            yield flow, verdict

    def __iter__(self) -> Iterator[Flow]:
        for flow, _verdict in self.classified():
            yield flow

    def _raw(self) -> Iterator[Flow]:
        streams = [self._in_order(k) for k in range(len(self._stores))]
        if len(streams) == 1:
            yield from streams[0]
        else:
            yield from heapq.merge(*streams, key=lambda f: (f.ts_start, f.flow_id))

    def _in_order(self, k: int) -> Iterator[Flow]:
        store, order = self._stores[k], self._orders[k]
        if isinstance(order, range):
            yield from store
        else:
            for position in order:
                yield store[position]

    @overload
    def __getitem__(self, position: int) -> Flow: ...

    @overload
    def __getitem__(self, position: slice) -> list[Flow]: ...

    def __getitem__(self, position: int | slice) -> Flow | list[Flow]:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        if self._positions is None:
            self._positions = self._merged_positions()
        store, at = self._positions[position]
        flow = self._stores[store][at]
        verdict = self._classify(flow)
        return named_by_range(flow, verdict)

    def _merged_positions(self) -> list[tuple[int, int]]:
        keyed = [((self._stores[k].starts[at], self._stores[k].flow_id(at)), k, at)
                 for k, order in enumerate(self._orders) for at in order]
        return [(k, at) for _key, k, at in sorted(keyed)]

    def first(self) -> Flow | None:
        """The first flow in report order (as read: not yet named by range), or None."""
        firsts = []
        for store, order in zip(self._stores, self._orders, strict=True):
            if len(order):
                flow = store[order[0]]
                firsts.append(((flow.ts_start, flow.flow_id), flow))
        return min(firsts, key=lambda item: item[0])[1] if firsts else None

    def verdict(self, flow_id: str) -> Classification:
        """The classification of the flow with this id; KeyError if there is none."""
        last = self.last
        if last is not None and last[0] == flow_id:
            return last[1]
        number = flow_id.rpartition("-")[2].lstrip("F")  # F000123, or F2-000123
        if number.isdigit():
            for store in self._stores:
                at = store.position(int(number))
                if at is not None and store.flow_id(at) == flow_id:
                    return self._classify(store[at])
        raise KeyError(flow_id)


class SessionVerdicts(Mapping[str, Classification]):
    """The classification of each flow of a SessionFlows, by flow id, worked out on demand."""

    def __init__(self, flows: SessionFlows) -> None:
        self._flows = flows

    def __getitem__(self, flow_id: str) -> Classification:
        return self._flows.verdict(flow_id)

    def __iter__(self) -> Iterator[str]:
        for flow in self._flows:
            yield flow.flow_id

    def __len__(self) -> int:
        return len(self._flows)

"""How well the classifier labels a set of hosts whose true category is known.

Pure: rows in, counts out. Used by tests/test_accuracy.py (with small synthetic lists) and
bench/accuracy.py (with real EasyList and EasyPrivacy), on tests/data/labelled_hosts.csv.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from auditor.classify.catalog import Catalog
from auditor.classify.endpoint import classify_endpoint
from auditor.lists.model import TrackerList
from auditor.records import Category

TRACKING = (Category.ANALYTICS, Category.AD_TECH)


@dataclass(frozen=True, slots=True)
class LabelledHost:
    """A host, the category it really has in a session of `app`, and why."""

    host: str
    expected: Category
    entity: str | None
    app: str
    why: str


@dataclass(frozen=True, slots=True)
class Scored:
    """One host's expected and predicted category."""

    row: LabelledHost
    predicted: Category
    entity: str | None


def read_labelled(path: Path) -> list[LabelledHost]:
    """The labelled set (CSV: host, expected_category, expected_entity, app, why)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [LabelledHost(r["host"], Category(r["expected_category"]),
                             r["expected_entity"] or None, r["app"], r["why"])
                for r in csv.DictReader(handle)]


def score(catalog: Catalog, rows: Iterable[LabelledHost],
          lists: Sequence[TrackerList] = ()) -> list[Scored]:
    """Classify every labelled host (by name alone, as a TLS SNI would give it)."""
    out = []
    for row in rows:
        vendor = catalog.app_entity(row.app)
        verdict = classify_endpoint(catalog, row.host, None, vendor.id if vendor else None,
                                    lists=lists)
        out.append(Scored(row, verdict.category, verdict.entity))
    return out


def precision_recall(scored: list[Scored]) -> dict[str, dict[str, float | int]]:
    """Per category: true positives, predicted, expected, precision and recall."""
    table: dict[str, dict[str, float | int]] = {}
    for category in Category:
        if category is Category.LOCAL:
            continue
        predicted = sum(1 for s in scored if s.predicted is category)
        expected = sum(1 for s in scored if s.row.expected is category)
        hits = sum(1 for s in scored if s.predicted is category and s.row.expected is category)
        table[category.value] = {
            "expected": expected, "predicted": predicted, "correct": hits,
            "precision": hits / predicted if predicted else 1.0,
            "recall": hits / expected if expected else 1.0,
        }
    return table


def first_party_labelled_tracking(scored: list[Scored]) -> list[Scored]:
    """The invariant's violations: a vendor's first-party host labelled analytics or ad-tech
    (the vendor's own telemetry hosts are labelled analytics in the set, so they never
    appear here)."""
    return [s for s in scored
            if s.row.expected is Category.FIRST_PARTY and s.predicted in TRACKING]


def format_table(table: dict[str, dict[str, float | int]]) -> str:
    """The precision/recall table as Markdown."""
    lines = ["| category | expected | predicted | correct | precision | recall |",
             "|---|---:|---:|---:|---:|---:|"]
    for category, row in table.items():
        lines.append(f"| {category} | {row['expected']} | {row['predicted']} | "
                     f"{row['correct']} | {row['precision']:.2f} | {row['recall']:.2f} |")
    return "\n".join(lines)

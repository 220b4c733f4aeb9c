"""Closing the loop: which visits of the previous plan were done (拜访完成率). Pure.

A planned visit counts as done when the visit records hold a visit to that customer, of that
kind (its keyword, if the kind has one), dated on or after the day the plan was made and no
later than today. Only planned dates up to today are counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ..facts.visits import VisitRecord


@dataclass
class PlannedOutcome:
    key: str
    owner: str
    klass: str
    kind: str
    planned: date
    done_on: date | None


@dataclass
class Completion:
    since: date  # the day the previous plan was made
    visits: list[PlannedOutcome]

    def rates(self) -> list[tuple[str, str, int, int, float]]:
        """(owner, class, planned, done, rate) per owner and class, then per owner ('' class)."""
        counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for visit in self.visits:
            for key in ((visit.owner, visit.klass), (visit.owner, "")):
                counts[key][0] += 1
                counts[key][1] += visit.done_on is not None
        return [(owner, klass, n, done, done / n) for (owner, klass), (n, done) in sorted(counts.items()) if n]

    def as_json(self) -> dict:
        return {
            "since": self.since.isoformat(),
            "rates": [
                {"owner": o, "class": k, "planned": n, "done": d, "rate": round(r, 4)} for o, k, n, d, r in self.rates()
            ],
        }


def completion(
    previous: tuple[date, list[tuple[str, str, str, str, str, date]]],
    keys: list[str],
    records: Sequence[list[VisitRecord]],
    today: date,
) -> Completion:
    made, planned = previous
    row_of = {key: i for i, key in enumerate(keys)}
    used: set[tuple[int, int]] = set()  # (customer row, record number): one visit completes one plan entry
    outcomes = []
    for key, owner, klass, kind, keyword, day in sorted(planned, key=lambda p: p[5]):
        if day > today:
            continue
        row = row_of.get(key)
        done = None
        if row is not None:
            for n, (_, d, text) in sorted(enumerate(records[row]), key=lambda x: x[1][1]):
                if (row, n) not in used and made <= d <= today and (not keyword or keyword in text):
                    used.add((row, n))
                    done = d
                    break
        outcomes.append(PlannedOutcome(key, owner, klass, kind, day, done))
    return Completion(made, outcomes)

"""Business volume by month, from the monthly-business sheet. Pure, and without pandas: the
risk rules and the share policy need a few sums, and a job that needs no frame (classify)
then never imports pandas. ``Facts.volumes`` and ``Facts.month_totals`` are these sums as
pandas objects, for the report and for analysts."""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from ..model import MONTHLY, Ledger
from ..relations import CustomerIndex

__all__ = ["MonthlyVolumes", "monthly_volumes"]

_NONE = math.nan  # a customer's month without a figure, in ``MonthlyVolumes.sums``


@dataclass
class MonthlyVolumes:
    """The monthly sheet's rows that have a month and a volume, summed. ``totals``: each month
    with figures (its first day) → the volume of all its rows, known customer or not, oldest
    first. ``rows``: the customer rows with a figure, in order; their sums are one flat array
    (a row's ``len(months)`` months side by side, NaN where it has none), 8 bytes a month
    instead of a dict per customer. Sums are ``math.fsum``: exact, in any order of the rows."""

    totals: dict[date, float] = field(default_factory=dict)
    months: list[date] = field(default_factory=list)  # the months of ``sums``, oldest first
    rows: list[int] = field(default_factory=list)
    sums: array = field(default_factory=lambda: array("d"))
    _at: dict[int, int] = field(default_factory=dict)  # customer row → its first index in ``sums``
    _column: dict[date, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._column = {month: j for j, month in enumerate(self.months)}

    def months_up_to(self, day: date) -> list[date]:
        """The months with figures up to ``day``, oldest first."""
        return self.months[: bisect_right(self.months, day)]

    def get(self, row: int, month: date) -> float | None:
        """Customer ``row``'s volume in ``month``, or None when it has no figure that month."""
        at = self._at.get(row)
        column = self._column.get(month)
        if at is None or column is None:
            return None
        value = self.sums[at + column]
        return None if value != value else value

    def by_customer(self) -> Iterator[tuple[int, dict[date, float]]]:
        """(customer row, month → volume) for each customer with a figure, in row order."""
        width = len(self.months)
        for row in self.rows:
            at = self._at[row]
            yield row, {m: v for m, v in zip(self.months, self.sums[at : at + width], strict=True) if v == v}


def monthly_volumes(ledger: Ledger, index: CustomerIndex) -> MonthlyVolumes:
    """The sums of the monthly sheet's rows that have a month and a volume (empty without the
    sheet or either column)."""
    sheet = ledger.tables.get(MONTHLY)
    if sheet is None or not (sheet.has("month") and sheet.has("volume")):
        return MonthlyVolumes()
    matched, months_of, volumes = [row for row, _ in index.match(sheet)], sheet.column("month"), sheet.column("volume")
    by_month: dict[date, list[float]] = defaultdict(list)
    known: set[int] = set()
    for row, month, volume in zip(matched, months_of, volumes, strict=True):
        if month is not None and volume is not None:
            by_month[month].append(volume)
            if row is not None:
                known.add(row)
    months = sorted(by_month)
    column = {month: j for j, month in enumerate(months)}
    width = len(months)
    rows = sorted(known)
    at = {row: n * width for n, row in enumerate(rows)}
    sums = array("d", [_NONE]) * (len(rows) * width)
    repeated: dict[int, list[float]] = {}  # a cell with two figures or more: all of them, for fsum
    for row, month, volume in zip(matched, months_of, volumes, strict=True):
        if row is None or month is None or volume is None:
            continue
        k = at[row] + column[month]
        if sums[k] != sums[k]:
            sums[k] = volume
        else:
            repeated.setdefault(k, [sums[k]]).append(volume)
    for k, figures in repeated.items():
        sums[k] = math.fsum(figures)
    totals = {month: math.fsum(by_month[month]) for month in months}
    return MonthlyVolumes(totals, months, rows, sums, at)

"""Business volume by month, from the monthly-business sheet. Pure, and without pandas: the
risk rules and the share policy need a few sums, and a job that needs no frame (classify)
then never imports pandas. ``Facts.volumes`` and ``Facts.month_totals`` are these sums as
pandas objects, for the report and for analysts."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from ..model import MONTHLY, Ledger
from ..relations import CustomerIndex

__all__ = ["MonthlyVolumes", "monthly_volumes"]


@dataclass
class MonthlyVolumes:
    """``totals``: each month with figures (its first day) → the volume of all its rows, known
    customer or not, oldest month first; ``by_customer``: customer row → month → the volume of
    the rows naming that customer. Sums are ``math.fsum``: exact, in any order of the rows."""

    totals: dict[date, float] = field(default_factory=dict)
    by_customer: dict[int, dict[date, float]] = field(default_factory=dict)

    def months_up_to(self, day: date) -> list[date]:
        """The months with figures up to ``day``, oldest first."""
        months = list(self.totals)
        return months[: bisect_right(months, day)]


def monthly_volumes(ledger: Ledger, index: CustomerIndex) -> MonthlyVolumes:
    """The sums of the monthly sheet's rows that have a month and a volume (empty without the
    sheet or either column)."""
    sheet = ledger.tables.get(MONTHLY)
    if sheet is None or not (sheet.has("month") and sheet.has("volume")):
        return MonthlyVolumes()
    by_month: dict[date, list[float]] = defaultdict(list)
    by_customer: dict[int, dict[date, list[float]]] = defaultdict(lambda: defaultdict(list))
    for (row, _), month, volume in zip(index.match(sheet), sheet.column("month"), sheet.column("volume"), strict=True):
        if month is None or volume is None:
            continue
        by_month[month].append(volume)
        if row is not None:
            by_customer[row][month].append(volume)
    return MonthlyVolumes(
        {month: math.fsum(by_month[month]) for month in sorted(by_month)},
        {
            row: {month: math.fsum(figures) for month, figures in sorted(months.items())}
            for row, months in sorted(by_customer.items())
        },
    )

"""When each customer is due for each kind of visit. Pure functions: ``today`` is a parameter.

A customer's cadences come from the 拜访周期 sheet for its class (a strategic customer takes the
战略 rows instead). The last visit of a kind is the latest visit record whose purpose or
content holds the kind's keyword; kinds without a keyword count any visit and the ledger's
last-visit column. A customer never visited is due today.
"""

from __future__ import annotations

import calendar
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

from ..config import Cadence, Rules
from ..model import VISITS, Ledger, Sheet
from ..relations import STRATEGIC, CustomerIndex, VisitRecord, last_contacts, visit_text

__all__ = [
    "ByCustomer",
    "Due",
    "VisitRecord",
    "VisitsByCustomer",
    "add_months",
    "cadences_for",
    "contact_due",
    "due_visits",
    "last_contacts",
    "next_steps",
    "occurrences",
    "visit_records",
]


@dataclass(slots=True)
class Due:
    """One customer's next visit of one kind: the 拜访周期 row (kind, way, cadence, keyword, who
    goes, purpose, content) and the dates. Four slots: a 300k-row ledger has 600k of them."""

    row: int  # customer row index in the table
    last: date | None
    due: date
    cadence: Cadence

    @property
    def kind(self) -> str:
        return self.cadence.kind

    @property
    def way(self) -> str:
        return self.cadence.way

    @property
    def months(self) -> float:
        return self.cadence.months

    @property
    def keyword(self) -> str:
        return self.cadence.keyword

    def overdue_days(self, today: date) -> int:
        return max((today - self.due).days, 0)


def add_months(day: date, months: float) -> date:
    """``day`` plus ``months``; the 31st of a month without one becomes its last day (1-31 + 1
    month = 2-28, or 2-29 in a leap year). A fractional cadence counts 30.44 days a month."""
    if months != int(months):
        return day + timedelta(days=round(months * 30.44))
    total = day.month - 1 + int(months)
    year, month = day.year + total // 12, total % 12 + 1
    if day.day <= 28:  # every month has a 28th: the common case needs no calendar
        return date(year, month, day.day)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


STRATEGIC_CLASSES = (STRATEGIC, "战略合作伙伴")  # a strategic class, typed or computed
POTENTIAL = "潜在"  # 002: potential customers are followed up too


def cadences_for(klass: str | None, strategic: bool, rules: Rules) -> list[Cadence]:
    """The 拜访周期 rows of a class; a customer flagged strategic, or of a strategic class
    (战略, 战略合作伙伴), takes the 战略 rows (高层拜访, 技术交流, 质量交流 …: 002)."""
    if strategic or klass in STRATEGIC_CLASSES:
        rows = [c for c in rules.cadences if c.klass == STRATEGIC]
        if rows:
            return rows
    return [c for c in rules.cadences if klass and c.klass == klass]


def _grouped(rows: list[int], customers: int) -> tuple[array, array]:
    """Where each customer's items start, and the items' positions in ``rows`` grouped by
    customer, each customer's in their order (a counting sort: stable, no list per customer)."""
    counts = [0] * (customers + 1)
    for row in rows:
        counts[row + 1] += 1
    starts = array("q", accumulate(counts))
    free = array("q", starts)
    order = array("q", bytes(8 * len(rows)))
    for k, row in enumerate(rows):
        order[free[row]] = k
        free[row] += 1
    return starts, order


class ByCustomer(Sequence[list[VisitRecord]]):
    """Visit records grouped by customer row, ``by[i]`` customer ``i``'s in their order, without
    a list per customer (600k of them at 300k rows): one flat list sorted by row (a counting sort,
    stable) and where each row's records start."""

    __slots__ = ("_flat", "_starts")

    def __init__(self, records: Iterable[VisitRecord], customers: int) -> None:
        records = records if isinstance(records, list) else list(records)
        self._starts, order = _grouped([record[0] for record in records], customers)
        self._flat = [records[k] for k in order]  # row i's records: flat[starts[i]:starts[i + 1]]

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __getitem__(self, i: int) -> list[VisitRecord]:  # type: ignore[override]  # no slices
        if not 0 <= i < len(self._starts) - 1:
            raise IndexError(i)
        return self._flat[self._starts[i] : self._starts[i + 1]]


class VisitsByCustomer(Sequence[list[VisitRecord]]):
    """Per customer row, its visit records up to today, made when asked for (a cadence with a
    keyword asks for a strategic customer's, the plan for the customers it planned): the visit
    sheet's rows grouped by customer in one array (a counting sort, stable), not a record and
    a text for each of the sheet's 150k rows."""

    __slots__ = ("_days", "_purposes", "_contents", "_ways", "_rows", "_starts")

    def __init__(self, visits: Sheet | None, index: CustomerIndex, today: date, customers: int) -> None:
        kept: list[tuple[int, int]] = []  # (customer row, visit row)
        self._days = self._purposes = self._contents = self._ways = []
        if visits is not None:
            self._days = visits.column("visit_date")
            self._purposes, self._contents, self._ways = (visits.column(k) for k in ("purpose", "content", "way"))
            for j, ((row, _), day) in enumerate(zip(index.match(visits), self._days, strict=True)):
                if row is not None and day is not None and day <= today:
                    kept.append((row, j))
        self._starts, order = _grouped([row for row, _ in kept], customers)
        self._rows = array("q", (kept[k][1] for k in order))  # customer i's: rows[starts[i]:starts[i + 1]]

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __getitem__(self, i: int) -> list[VisitRecord]:  # type: ignore[override]  # no slices
        if not 0 <= i < len(self._starts) - 1:
            raise IndexError(i)
        days, purposes, contents, ways = self._days, self._purposes, self._contents, self._ways
        return [
            (i, days[j], visit_text(purposes[j], contents[j], ways[j]))
            for j in self._rows[self._starts[i] : self._starts[i + 1]]
        ]


def visit_records(ledger: Ledger, index: CustomerIndex, today: date) -> VisitsByCustomer:
    """Per customer row: its visit records up to today, in the sheet's order."""
    return VisitsByCustomer(ledger.tables.get(VISITS), index, today, len(ledger.customer_sheet))


def due_visits(
    ledger: Ledger,
    rules: Rules,
    classes: list[str | None],
    today: date,
    last_contact: Sequence[date | None],
    records: Callable[[int], Sequence[VisitRecord]],
    *,
    keywords: bool = True,
) -> Iterator[Due]:
    """Every (customer, kind of visit) with a cadence, and when it is next due, in row order
    (one at a time: a month's figures count them without keeping them). ``last_contact``: per
    row, the latest contact that a cadence without a keyword counts (any visit record, and the
    ledger's last-visit date when it is not in the future); ``records(i)``: row ``i``'s visit
    records, asked for only by a cadence with a keyword (a strategic customer's 高层拜访 …).
    ``keywords=False``: only the cadences without a keyword (the routine contact)."""
    customers = ledger.customer_sheet
    strategic = customers.column("strategic")
    since = customers.column("since")  # 建档日期: a new customer's first follow-up counts from it
    status = customers.column("status")
    chosen: dict[tuple[str | None, bool], list[Cadence]] = {}  # the cadences of a class, found once
    later: dict[tuple[date, float], date] = {}  # the few hundred due days, one object each
    for i, klass in enumerate(classes):
        if klass is None and status[i] == POTENTIAL:  # 客户状态 潜在 and no class: the 潜在 rows
            klass = POTENTIAL
        key = (klass, bool(strategic[i]))
        cadences = chosen.get(key)
        if cadences is None:
            cadences = chosen[key] = cadences_for(*key, rules)
        for cadence in cadences:
            if cadence.keyword:
                if not keywords:
                    continue
                last = max((d for _, d, text in records(i) if cadence.keyword in text), default=None)
            else:
                last = last_contact[i]
            if last is not None:
                due = later.get((last, cadence.months))
                if due is None:
                    due = later[(last, cadence.months)] = add_months(last, cadence.months)
            elif cadence.first_days is not None and since[i] is not None:
                due = since[i] + timedelta(days=int(cadence.first_days))  # 建档 + N days
            else:
                due = today  # never visited: due now
            yield Due(i, last, due, cadence)


def next_steps(ledger: Ledger, index: CustomerIndex, today: date) -> list[str | None]:
    """Per customer row: the 下一步 of its latest visit record that has one (up to today), which
    the next visit's content carries (004: 制定下一步跟进措施)."""
    found: list[tuple[date, str] | None] = [None] * len(ledger.customer_sheet)
    visits = ledger.tables.get(VISITS)
    if visits is None or not visits.has("next_step"):
        return [None] * len(found)
    for (row, _), day, step in zip(
        index.match(visits), visits.column("visit_date"), visits.column("next_step"), strict=True
    ):
        if row is None or day is None or not step or day > today:
            continue
        if found[row] is None or day >= found[row][0]:
            found[row] = (day, step)
    return [f[1] if f else None for f in found]


def contact_due(dues: Iterable[Due], customers: int) -> list[Due | None]:
    """Per customer row: the routine contact among its dues — a cadence without a keyword, which
    any visit or the ledger's last-visit date counts for (the earliest due when several)."""
    found: list[Due | None] = [None] * customers
    for due in dues:
        if due.keyword:
            continue
        current = found[due.row]
        if current is None or due.due < current.due:
            found[due.row] = due
    return found


def occurrences(dues: Iterable[Due], start: date, end: date) -> Iterator[tuple[Due, date]]:
    """Each due visit and its repeats within [start, end): a monthly cadence gives one a month."""
    for due in dues:
        first = max(due.due, start)
        day, n = first, 0
        while day < end:
            yield due, day
            n += 1
            day = add_months(first, due.months * n)  # from the first date: 01-31, 02-28, 03-31 …

"""Place due visits on working days within each owner's capacity. Pure and deterministic.

Visits are placed most important first (strategic, then class, then days overdue), each on
the first working day from its due date where its owner has room (visits a day, and on-site
visits a week). An on-site visit goes, where it can, to a day of the same week on which the
owner already visits that city. A visit that finds no room before the period ends is
overflow: flagged, never dropped. Free days are found with a "next free day" union-find, so
a heavily overbooked owner costs no more than a light one.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..calendar import WorkCalendar
from ..config import Rules
from ..i18n import label
from .visits import Due, occurrences

CLASS_ORDER = ["战略", "战略合作伙伴", "A", "重点", "重点客户", "B", "主要", "C", "一般", "一般客户", "D", "潜在"]
ON_SITE = "实地"


@dataclass
class Visit:
    due: Due
    owner: str
    city: str
    klass: str | None
    strategic: bool
    earliest: date  # when this occurrence is due (not before the period starts)
    date: date | None = None  # None: no room before the period ends (overflow)
    moved: bool = False  # placed later than its first possible working day

    @property
    def on_site(self) -> bool:
        return self.due.way == ON_SITE


class _NextFree:
    """find(i): the smallest j ≥ i not yet full (j may be ``size``: none left)."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size + 1))

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def close(self, i: int) -> None:
        self.parent[i] = i + 1


def place(visits: list[Visit], workdays: list[date], rules: Rules) -> None:
    """Give each visit a date (or leave it as overflow). Mutates ``visits``."""
    if not workdays:
        return
    monday = workdays[0].toordinal() - workdays[0].weekday()
    week_of = [(d.toordinal() - monday) // 7 for d in workdays]
    weeks = week_of[-1] + 1
    first_of_week = [len(workdays)] * (weeks + 1)
    for i in range(len(workdays) - 1, -1, -1):
        first_of_week[week_of[i]] = i
    for w in range(weeks - 1, -1, -1):  # a week without working days starts where the next one does
        first_of_week[w] = min(first_of_week[w], first_of_week[w + 1])
    owners: dict[str, _OwnerBook] = {}
    order = sorted(range(len(visits)), key=lambda n: _priority(visits[n]))
    for n in order:
        visit = visits[n]
        book = owners.get(visit.owner)
        if book is None:
            (per_day, per_week), _ = rules.capacity_of(visit.owner)
            book = owners[visit.owner] = _OwnerBook(len(workdays), weeks, per_day, per_week)
        first = bisect_left(workdays, visit.earliest)
        on_site = visit.due.way == ON_SITE
        found = book.place(first, on_site, visit.city if on_site else "", week_of, first_of_week)
        if found is not None:
            visit.date = workdays[found]
            # moved for lack of room, not for joining a same-city day
            visit.moved = found > first and found != book.grouped


_RANK = {klass: n for n, klass in enumerate(CLASS_ORDER)}


def _priority(visit: Visit) -> tuple:
    rank = 0 if visit.strategic else _RANK.get(visit.klass or "", 99)
    overdue = (visit.earliest - visit.due.due).days
    return (rank, -overdue, visit.earliest, visit.due.row, visit.due.kind)


class _OwnerBook:
    def __init__(self, days: int, weeks: int, per_day: int, per_week: int) -> None:
        self.count = [0] * days
        self.onsite = [0] * (weeks + 1)
        self.per_day, self.per_week = per_day, per_week
        self.free_day = _NextFree(days)
        self.free_week = _NextFree(weeks)
        self.cities: dict[tuple[str, int], list[int]] = {}
        self.grouped = -1  # the day the last visit joined for its city
        self.days = days
        if per_week == 0:
            for w in range(weeks):
                self.free_week.close(w)

    def place(self, first: int, on_site: bool, city: str, week_of: list[int], first_of_week: list[int]) -> int | None:
        i = self.free_day.find(first) if first < self.days else self.days
        self.grouped = -1
        if i < self.days and on_site and city:
            for j in self.cities.get((city, week_of[i]), ()):  # a day this week already in that city
                if j >= first and self.count[j] < self.per_day:
                    i = self.grouped = j
                    break
        while i < self.days:
            if on_site:
                week = week_of[i]
                if self.onsite[week] >= self.per_week:
                    next_week = self.free_week.find(week)
                    if next_week >= len(first_of_week) - 1:
                        return None
                    i = self.free_day.find(max(first_of_week[next_week], i + 1))
                    continue
            self._take(i, on_site, city, week_of)
            return i
        return None

    def _take(self, i: int, on_site: bool, city: str, week_of: list[int]) -> None:
        self.count[i] += 1
        if self.count[i] >= self.per_day:
            self.free_day.close(i)
        if on_site:
            week = week_of[i]
            self.onsite[week] += 1
            if self.onsite[week] >= self.per_week:
                self.free_week.close(week)
            if city:
                days = self.cities.setdefault((city, week), [])
                if i not in days:
                    days.append(i)
                    days.sort()


def schedule_visits(facts: Any, start: date, end: date) -> tuple[list[Visit], list[Visit], WorkCalendar]:
    """The visits of [start, end) placed on working days within each owner's capacity: every
    occurrence of the facts' due visits in the period, in date order (overflow last), the ones
    already due before today (the first occurrence of each), and the working calendar used.
    The plan workbook and the visit reminders both come from this, so they say the same."""
    ledger, rules, today = facts.ledger, facts.settings.rules, facts.today
    customers = ledger.customer_sheet
    owners, cities = customers.column("owner"), customers.column("city")
    nobody = label("owner.none", facts.settings.lang)
    visits = [
        Visit(
            due,
            owners[due.row] or nobody,
            cities[due.row] or "",
            facts.classes.effective(due.row, facts.strategic[due.row]),
            facts.strategic[due.row],
            day,
        )
        for due, day in occurrences(facts.dues, start, end)
    ]
    work = WorkCalendar(rules.holidays)
    place(visits, work.workdays(start, end), rules)
    visits.sort(key=lambda v: (v.date or date.max, v.owner, v.due.row, v.due.kind))
    overdue = sorted(
        (v for v in visits if v.due.due < today and v.earliest == max(v.due.due, start)),
        key=lambda v: (-v.due.overdue_days(today), v.owner, v.due.row),
    )
    return visits, overdue, work

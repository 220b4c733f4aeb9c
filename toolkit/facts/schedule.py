"""Place due visits on working days within each visitor's capacity. Pure and deterministic.

Who goes is the 拜访周期 row's role: the account manager (the customer's owner), or one of
the people 拜访能力 lists for the role (高层, 技术, 质量 …: 002), with the account manager along
where the row says so; a role nobody is listed for is planned under the role's own name.
Visits are placed most important first (strategic, then class, then days overdue), each on
the first working day from its due date where everybody going has room (visits a day, and
on-site visits a week); of a role's people, the one free first goes. An on-site visit goes,
where it can, to a day of the same week on which its visitor already visits that city. A
visit that finds no room before the period ends is overflow: flagged, never dropped. Free
days are found with a "next free day" union-find, so a heavily overbooked visitor costs no
more than a light one.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..calendar import WorkCalendar
from ..config import OWNER_ROLE, Rules
from ..i18n import joined, label, rule_word, sentences
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
    visitors: tuple[str, ...] = ()  # who goes, the one leading first (set by ``place``)
    purpose: str = ""  # 拜访目的: the 拜访周期 row's, else the kind
    content: str = ""  # 拜访内容: the row's, and the last visit's 下一步

    @property
    def role(self) -> str:
        return self.due.cadence.role

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
    books: dict[str, _OwnerBook] = {}

    def book_of(person: str, role: str) -> _OwnerBook:
        book = books.get(person)
        if book is None:
            (per_day, per_week), _ = rules.capacity_of(person, role)
            book = books[person] = _OwnerBook(len(workdays), weeks, per_day, per_week)
        return book

    order = sorted(range(len(visits)), key=lambda n: _priority(visits[n]))
    for n in order:
        visit = visits[n]
        first = bisect_left(workdays, visit.earliest)
        on_site = visit.due.way == ON_SITE
        city = visit.city if on_site else ""
        role = visit.role
        best: tuple[int, int, tuple[str, ...], int] | None = None
        for rank, crew in enumerate(crews(visit, rules)):
            booked = [(p, role if n == 0 else OWNER_ROLE) for n, p in enumerate(crew) if _booked(p, role, rules)]
            found = _first_day([book_of(p, r) for p, r in booked], first, len(workdays), on_site, city, week_of,
                               first_of_week)  # fmt: skip
            if found is not None and (best is None or found < best[0]):
                lead = books.get(booked[0][0]) if booked else None  # its same-city day, if this is one
                best = (found, rank, crew, lead.grouped if lead is not None else -1)
            if not visit.visitors:
                visit.visitors = crew  # overflow still says who would go
        if best is None:
            continue
        found, _, crew, grouped = best
        visit.visitors = crew
        for person in crew:
            if _booked(person, role, rules):
                books[person].take(found, on_site, city, week_of)
        visit.date = workdays[found]
        visit.moved = found > first and found != grouped  # moved for lack of room, not for a same-city day


def _booked(person: str, role: str, rules: Rules) -> bool:
    """Whether ``person`` has a capacity to fill: everybody but a role nobody is named for
    (unless 拜访能力 gives that role a "*" row of its own, which it then shares)."""
    return person != role or role == OWNER_ROLE or role in rules.role_capacity


def crews(visit: Visit, rules: Rules) -> list[tuple[str, ...]]:
    """Who could go on ``visit``: the owner for an account manager's visit, else each person of
    the row's role (or the role's own name when 拜访能力 lists nobody), with the owner along
    where the row says so."""
    cadence = visit.due.cadence
    if cadence.role == OWNER_ROLE:
        return [(visit.owner,)]
    people = rules.roles.get(cadence.role) or [cadence.role]
    return [(p, visit.owner) if cadence.with_owner and p != visit.owner else (p,) for p in people]


def _first_day(
    books: list[_OwnerBook], first: int, days: int, on_site: bool, city: str, week_of, first_of_week
) -> int | None:
    """The first day from ``first`` on which every book has room (each probed from the latest
    day another one offered, until they agree); with no book, ``first`` itself."""
    if not books:
        return first if first < days else None
    day = first
    while True:
        offers = [b.probe(day, on_site, city, week_of, first_of_week) for b in books]
        if any(o is None for o in offers):
            return None
        latest = max(offers)  # type: ignore[type-var]
        if all(o == latest for o in offers):
            return latest
        day = latest


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

    def probe(self, first: int, on_site: bool, city: str, week_of: list[int], first_of_week: list[int]) -> int | None:
        """The first day from ``first`` with room (a day of the week already in ``city``
        first), or None; nothing is booked (``take`` books it)."""
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
            return i
        return None

    def take(self, i: int, on_site: bool, city: str, week_of: list[int]) -> None:
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
    ledger, rules, today, lang = facts.ledger, facts.settings.rules, facts.today, facts.settings.lang
    customers = ledger.customer_sheet
    owners, cities = customers.column("owner"), customers.column("city")
    nobody = label("owner.none", lang)
    steps = facts.next_steps
    visits = [
        Visit(
            due,
            owners[due.row] or nobody,
            cities[due.row] or "",
            facts.classes.effective(due.row, facts.strategic[due.row]),
            facts.strategic[due.row],
            day,
            purpose=due.cadence.purpose or due.kind,
            content=visit_content(due.cadence.content, steps[due.row], lang),
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


def visit_content(content: str, next_step: str | None, lang: str) -> str:
    """A visit's content: the 拜访周期 row's, then the last visit's 下一步 (004)."""
    if not next_step:
        return content
    carried = label("plan.last_next_step", lang, step=next_step)
    return sentences([content, carried], lang) if content else carried


def visitors_text(v: Visit, lang: str, *, besides: str | None = None) -> str:
    """Who goes: 李总（高层）、张伟 — a person of another role with the role beside the name; a
    role nobody is named for in 拜访能力 says so. ``besides``: leave that person out (the
    owner a reminder is for: who goes with them)."""
    if not v.visitors:
        return "" if besides == v.owner else v.owner
    role = v.role
    names = []
    for n, person in enumerate(v.visitors):
        if person == besides:
            continue
        if n == 0 and person == role:  # nobody listed for the role
            names.append(label("plan.role_unnamed", lang, role=rule_word(role, lang)))
        elif n == 0 and role != OWNER_ROLE:
            names.append(label("plan.person_role", lang, person=person, role=rule_word(role, lang)))
        else:
            names.append(person)
    return joined(names, lang)

"""The monthly KPIs, computed from a read ledger. Pure functions: the month is a parameter.

A KPI that the ledger cannot support (no monthly-business sheet, no complaints sheet, no
建档日期 column …) is ``None`` and its reason goes to ``missing``: the report then says what is
missing instead of showing a zero as if it were a fact.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..facts.visits import ByCustomer, VisitRecord, add_months, due_visits, occurrences
from ..model import COMPLAINTS, MONTHLY, VISITS
from ..relations import latest_contacts


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    return first, add_months(first, 1)


@dataclass
class MonthFigures:
    """The figures of one month; None where the ledger holds no data for them."""

    month: date
    new_customers: int | None = None
    lost_customers: int | None = None  # business the month before, none this month
    volume: float | None = None
    new_business: float | None = None
    visits_planned: int | None = None
    visits_done: int | None = None
    visits_recorded: int | None = None
    complaints: int | None = None
    complaints_on_time: int | None = None
    complaints_resolved: int | None = None
    complaints_kept: int | None = None  # resolved by the promised time
    has_previous: bool = False  # the monthly sheet holds rows for the month before
    has_last_year: bool = False  # … and for the same month a year before

    @property
    def visit_rate(self) -> float | None:
        return _ratio(self.visits_done, self.visits_planned)

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.complaints_on_time, self.complaints)

    @property
    def resolved_rate(self) -> float | None:
        return _ratio(self.complaints_resolved, self.complaints)

    @property
    def kept_rate(self) -> float | None:
        return _ratio(self.complaints_kept, self.complaints)


def _ratio(part: int | None, whole: int | None) -> float | None:
    return part / whole if part is not None and whole else None


@dataclass
class CustomerMonth:
    """One customer's business and service in the month (the 重点客户 table)."""

    volume: float | None = None
    previous: float | None = None
    year_to_date: float | None = None
    new_business: float | None = None
    last_year: float | None = None  # the same month a year before (业务波动 同比)
    problems: dict[str, int] = field(default_factory=dict)  # complaint category → count
    complaints: int = 0
    serious: int = 0  # of them, 严重抱怨
    visits: int = 0
    senior_visits: int = 0  # of them, 高层拜访 (002: management visits strategic customers)


@dataclass
class VisitsByOwner:
    planned: int = 0
    done: int = 0
    recorded: int = 0


def month_figures(
    facts: Any,
    month: date,
    reply_hours: float,
    missing: list[str] | None = None,
    details: bool = True,
    key_rows: set[int] | None = None,
    promise_hours: float = 24.0,
    only: set[int] | None = None,
) -> tuple[MonthFigures, dict[int, CustomerMonth], dict[str, VisitsByOwner]]:
    """The figures of ``month``, per customer, and visits per owner (``details=False``: the
    month's totals only, as for the previous-month column). ``facts``: the ledger's facts (its
    classes, complaint states and customer matches). ``promise_hours``: the handling time a
    complaint without a promise of its own is held to. ``only``: the customer rows counted (one
    owner's, for that owner's report); a business row, complaint or visit of another customer,
    or of none, is left out."""
    ledger, rules, index, classes = facts.ledger, facts.settings.rules, facts.index, facts.classes.final
    first, end = month_bounds(month)
    figures = MonthFigures(first)
    per_customer: dict[int, CustomerMonth] = defaultdict(CustomerMonth)
    owners = ledger.customer_sheet.column("owner")
    by_owner: dict[str, VisitsByOwner] = defaultdict(VisitsByOwner)
    note = missing.append if missing is not None else (lambda _: None)
    # per-customer figures only for the customers the 重点客户 table lists (all, if not given)
    listed = (lambda r: r in key_rows) if key_rows is not None else (lambda r: True)  # noqa: E731

    customers = ledger.customer_sheet
    if customers.has("since"):
        figures.new_customers = sum(
            1
            for i, d in enumerate(customers.column("since"))
            if d is not None and first <= d < end and (only is None or i in only)
        )
    else:
        note("new_customers")

    monthly = ledger.tables.get(MONTHLY)
    if monthly is not None and monthly.has("month") and monthly.has("volume"):
        import pandas as pd

        business = facts.business  # rows with a month and a volume, their customer row or <NA>
        if only is not None:
            business = business[business["customer"].isin(list(only))]
        this = business[business["month"] == pd.Timestamp(first)]
        before = business[business["month"] == pd.Timestamp(add_months(first, -1))]
        has_rows, previous_rows = not this.empty, not before.empty
        figures.volume = float(this["volume"].sum())
        figures.new_business = float(this["new_business"].sum()) if monthly.has("new_business") else None
        this_month = set(this.loc[this["volume"] > 0, "customer"].dropna().astype(int))
        last_month = set(before.loc[before["volume"] > 0, "customer"].dropna().astype(int))
        if details:
            year = business[
                (business["month"] >= pd.Timestamp(first.replace(month=1))) & (business["month"] <= pd.Timestamp(first))
            ]
            a_year_ago = business[business["month"] == pd.Timestamp(add_months(first, -12))]
            figures.has_last_year = not a_year_ago.empty
            figures.has_previous = previous_rows
            for frame, attribute in (
                (this, "volume"),
                (before, "previous"),
                (year, "year_to_date"),
                (a_year_ago, "last_year"),
            ):
                for row, volume in frame.groupby("customer")["volume"].sum().items():
                    if listed(int(row)):
                        setattr(per_customer[int(row)], attribute, float(volume))
            for row, amount in this.dropna(subset=["new_business"]).groupby("customer")["new_business"].sum().items():
                if listed(int(row)):
                    per_customer[int(row)].new_business = float(amount)
        if not has_rows:
            figures.volume = figures.new_business = None
            note("volume_month")
        elif previous_rows:
            figures.lost_customers = len(last_month - this_month)
    else:
        note("monthly_sheet")

    complaints = ledger.tables.get(COMPLAINTS)
    if complaints is not None and complaints.has("received"):
        figures.complaints = figures.complaints_on_time = figures.complaints_resolved = figures.complaints_kept = 0
        for state in facts.complaints:
            got = state.received
            if got is None or not (first <= got.date() < end) or (only is not None and state.customer not in only):
                continue
            figures.complaints += 1
            figures.complaints_on_time += state.replied_within(reply_hours)
            figures.complaints_resolved += state.resolved
            figures.complaints_kept += state.kept_promise(promise_hours)
            row = state.customer
            if row is not None and details and listed(row):
                per_customer[row].complaints += 1
                per_customer[row].serious += state.serious
                problems = per_customer[row].problems
                kind = problem_kind(state.category)
                problems[kind] = problems.get(kind, 0) + 1
    else:
        note("complaints_sheet")

    visits = ledger.tables.get(VISITS)
    if visits is not None and visits.has("visit_date"):
        earlier: list[VisitRecord] = []
        during: list[VisitRecord] = []
        recorded = 0
        for record in index.visits(visits):
            row, day, text = record
            if only is not None and row not in only:
                continue
            if day < first:
                earlier.append(record)
            elif day < end:
                during.append(record)
                recorded += 1
                if details and listed(row):
                    per_customer[row].visits += 1
                    per_customer[row].senior_visits += "高层" in text
                by_owner[owners[row] or ""].recorded += 1
        figures.visits_recorded = recorded
        # the last contact before the month, as the month's cadences count it
        latest = latest_contacts(customers.column("last_visit"), ((row, day) for row, day, _ in earlier), first)
        dues = due_visits(ledger, rules, classes, first, latest, ByCustomer(earlier, len(customers)).__getitem__)
        del earlier
        during_by_row = ByCustomer(during, len(customers))
        planned = done = 0
        for due, _ in occurrences(dues, first, end):
            if only is not None and due.row not in only:
                continue
            planned += 1
            hit = any(not due.keyword or due.keyword in text for _, _, text in during_by_row[due.row])
            done += hit
            owner = owners[due.row] or ""
            by_owner[owner].planned += 1
            by_owner[owner].done += hit
        figures.visits_planned, figures.visits_done = planned, done
    else:
        note("visits_sheet")
    return figures, dict(per_customer), dict(by_owner)


@dataclass
class ComplaintCounts:
    """The complaints of one month, handler or owner, and how they were handled (004's
    appraisal: 投诉处理及时率, 问题解决率, and the promised times kept)."""

    complaints: int = 0
    on_time: int = 0  # first reply within the reply limit (24 h)
    kept: int = 0  # resolved by the promised time
    resolved: int = 0
    serious: int = 0
    promised: int = 0  # of them, with a promise in the ledger (the rest: the rules' limit)

    def add(self, state: Any, reply_hours: float, promise_hours: float) -> None:
        self.complaints += 1
        self.on_time += state.replied_within(reply_hours)
        self.kept += state.kept_promise(promise_hours)
        self.resolved += state.resolved
        self.serious += state.serious
        self.promised += state.promised_by is not None

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.on_time, self.complaints)

    @property
    def kept_rate(self) -> float | None:
        return _ratio(self.kept, self.complaints)

    @property
    def resolved_rate(self) -> float | None:
        return _ratio(self.resolved, self.complaints)

    def as_json(self) -> dict[str, Any]:
        return {
            "complaints": self.complaints,
            "answered_on_time": self.on_time,
            "on_time_rate": self.on_time_rate,
            "resolved": self.resolved,
            "resolved_rate": self.resolved_rate,
            "kept_promise": self.kept,
            "kept_rate": self.kept_rate,
            "serious": self.serious,
        }


@dataclass
class ComplaintRates:
    """The complaint rates of the report: per month (the twelve up to the report's), and per
    handler and per owner within the report's month."""

    by_month: list[tuple[date, ComplaintCounts]]
    by_handler: dict[str, ComplaintCounts]
    by_owner: dict[str, ComplaintCounts]

    def as_json(self) -> dict[str, Any]:
        return {
            "by_month": {f"{m:%Y-%m}": c.as_json() for m, c in self.by_month},
            "by_handler": {k: c.as_json() for k, c in self.by_handler.items()},
            "by_owner": {k: c.as_json() for k, c in self.by_owner.items()},
        }


def complaint_rates(
    states: list[Any], month: date, reply_hours: float, promise_hours: float, months: int = 12
) -> ComplaintRates:
    """Every complaint received in the ``months`` months up to ``month`` counted by the month
    it came in, and those of ``month`` by handler (处理人, else the owner) and by owner."""
    first = add_months(month.replace(day=1), -(months - 1))
    end = month_bounds(month)[1]
    by_month = {add_months(first, n): ComplaintCounts() for n in range(months)}
    by_handler: dict[str, ComplaintCounts] = defaultdict(ComplaintCounts)
    by_owner: dict[str, ComplaintCounts] = defaultdict(ComplaintCounts)
    for state in states:
        got = state.received.date() if state.received else None
        if got is None or not (first <= got < end):
            continue
        by_month[got.replace(day=1)].add(state, reply_hours, promise_hours)
        if got >= month.replace(day=1):
            by_handler[state.handler or state.owner].add(state, reply_hours, promise_hours)
            by_owner[state.owner].add(state, reply_hours, promise_hours)
    return ComplaintRates(list(by_month.items()), dict(sorted(by_handler.items())), dict(sorted(by_owner.items())))


PROBLEM_KINDS = ("质量", "交付", "服务")


def problem_kind(category: str | None) -> str:
    """质量问题, 产品质量 → 质量; 交货延迟 → 交付 …; anything else → 其他."""
    text = category or ""
    for kind in PROBLEM_KINDS:
        if kind in text:
            return kind
    if "交货" in text or "发货" in text or "延迟" in text:
        return "交付"
    return "其他"


def volume_by_month(
    facts: Any, last: date, months: int = 12, only: set[int] | None = None
) -> list[tuple[date, float | None]]:
    """Business volume of each of the ``months`` months up to ``last``; None for a month with no
    figures. ``only``: of those customer rows alone."""
    found = facts.month_totals
    if only is not None:
        business = facts.business
        found = business[business["customer"].isin(list(only))].groupby("month")["volume"].sum()
    totals = {m.date(): float(v) for m, v in found.items()}
    wanted = [add_months(last.replace(day=1), -n) for n in range(months - 1, -1, -1)]
    return [(m, totals.get(m)) for m in wanted]

"""The facts several jobs need, computed once from a ledger, the settings and the as-of date.

``derive(ledger, settings, today=...)`` returns a ``Facts``: each customer's class (typed, else
computed by the workspace policy, with the reason), last contact and next due date per visit
kind, each complaint's state, business volume by month and customer, the satisfaction score
(the survey store's latest return when it has one), and — on first use — the data findings
and risk tags. Validate, classify, plan, report, remind and survey take a ``Facts`` and never
compute these again, so they cannot disagree. Pure: nothing here reads the clock.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cached_property
from typing import Any, overload

from ..config import Settings
from ..errors import InputError
from ..i18n import joined, label
from ..model import MONTHLY, Finding, Ledger
from ..relations import STRATEGIC, CustomerIndex
from .classes import POLICIES, Computed, compute, percent, policy_classes, wan
from .complaints import ComplaintState, complaint_limits, complaint_states, resolved_by_text
from .risks import Tag, highest_level
from .visits import (
    Due,
    VisitRecord,
    VisitsByCustomer,
    add_months,
    cadences_for,
    contact_due,
    due_visits,
    last_contacts,
    next_steps,
    visit_records,
)
from .volumes import MonthlyVolumes, monthly_volumes

__all__ = [
    "POLICIES",
    "Classes",
    "Classified",
    "CustomerClass",
    "CustomerClasses",
    "ComplaintState",
    "complaint_limits",
    "Computed",
    "Due",
    "Facts",
    "add_months",
    "cadences_for",
    "derive",
    "load_facts",
    "percent",
    "policy_classes",
    "resolved_by_text",
    "wan",
]


@dataclass
class Classes:
    """Every customer's class under one policy: the final class (a class typed by hand wins when
    it is one of the policy's), the computed one, whether the typed one overrode it, the reason."""

    policy: str
    order: list[str]  # the policy's classes, best first
    final: list[str | None]
    computed: list[Computed]
    override: list[bool]
    reason: list[str]
    error: InputError | None = None  # the ledger lacks what the policy reads: typed classes only

    def effective(self, i: int, strategic: bool) -> str | None:
        """The class whose cadence applies: a customer flagged strategic (战略客户 = 是) is 战略."""
        return STRATEGIC if strategic else self.final[i]


def classes_of(facts: Facts, policy: str) -> Classes:
    ledger, settings = facts.ledger, facts.settings
    table = ledger.customer_sheet
    lang = settings.lang
    order = policy_classes(policy, settings.rules) if policy in POLICIES else []
    try:
        computed = compute(policy, facts)
    except InputError as error:
        reason = label("reason.typed_only", lang, policy=policy, error=error.message)
        n = len(table)
        typed = [klass or None for klass in table.column("class")]
        return Classes(policy, order, typed, [Computed(None, reason)] * n, [False] * n, [reason] * n, error)
    final, override, reasons = [], [], []
    prefixes: dict[tuple[object, object], str] = {}  # the same few wordings, built once
    notes: dict[tuple[str, object], str] = {}
    for typed, found in zip(table.column("class"), computed, strict=True):
        if typed and typed in order:
            if typed == found.klass:
                final.append(typed), override.append(False), reasons.append(found.reason)
                continue
            prefix = prefixes.get((typed, found.klass))
            if prefix is None:
                prefix = label("reason.override", lang, hand=typed, computed=found.klass or "-") + "；"
                prefixes[(typed, found.klass)] = prefix
            final.append(typed), override.append(True), reasons.append(prefix + found.reason)
        elif typed and found.klass is None:  # the policy computes nothing here: the typed class stands
            final.append(typed), override.append(False)
            reasons.append(found.reason + _note(notes, "reason.hand_kept", typed, policy, lang))
        elif typed:
            final.append(found.klass), override.append(False)
            reasons.append(found.reason + _note(notes, "reason.hand_not_policy", typed, policy, lang))
        else:
            final.append(found.klass), override.append(False), reasons.append(found.reason)
    return Classes(policy, order, final, computed, override, reasons)


def _note(notes: dict[tuple[str, object], str], key: str, typed: object, policy: str, lang: str) -> str:
    """What a reason adds about the class typed by hand: one wording per typed class, made once."""
    found = notes.get((key, typed))
    if found is None:
        found = notes[(key, typed)] = label(key, lang, hand=typed, policy=policy)
    return found


@dataclass(slots=True)
class CustomerClass:
    """One customer's class, with the reason and its risk tags (what classify and report show)."""

    row: int  # 1-based Excel row
    key: str  # the customer's identity across runs: its ID, else its normalised name
    customer_id: str
    name: str
    owner: str
    klass: str | None
    computed: str | None
    override: bool
    reason: str
    tags: Sequence[Tag]
    share: float | None = None

    @property
    def level(self) -> str | None:
        return highest_level(self.tags)


class CustomerClasses(Sequence[CustomerClass]):
    """Every customer's ``CustomerClass``, each made when it is asked for from the columns and
    facts it shows (300k of them held at once are 40 MB, and a report walks them a few times).
    ``klasses`` is the final class of each customer, for counting without making them."""

    __slots__ = ("_table", "_keys", "_classes", "_tags", "klasses")

    def __init__(self, table: Any, keys: list[str], classes: Classes, tags: list[Sequence[Tag]]) -> None:
        self._table, self._keys, self._classes, self._tags = table, keys, classes, tags
        self.klasses = classes.final

    def __len__(self) -> int:
        return len(self.klasses)

    @overload
    def __getitem__(self, i: int) -> CustomerClass: ...
    @overload
    def __getitem__(self, i: slice) -> list[CustomerClass]: ...
    def __getitem__(self, i: int | slice) -> CustomerClass | list[CustomerClass]:
        n = len(self.klasses)
        if isinstance(i, slice):
            return list(self._made(range(*i.indices(n))))
        if not -n <= i < n:
            raise IndexError(i)
        return next(self._made(range(i % n, i % n + 1)))

    def __iter__(self) -> Iterator[CustomerClass]:
        return self._made(range(len(self.klasses)))

    def _made(self, rows: range) -> Iterator[CustomerClass]:
        table, found, keys, tags = self._table, self._classes, self._keys, self._tags
        ids, names, owners = table.column("customer_id"), table.column("name"), table.column("owner")
        numbers, computed, final = table.rows, found.computed, found.final
        for i in rows:
            made = computed[i]
            yield CustomerClass(
                numbers[i],
                keys[i],
                ids[i] or "",
                names[i] or "",
                owners[i] or "",
                final[i],
                made.klass,
                found.override[i],
                found.reason[i],
                tags[i],
                made.share,
            )


@dataclass
class Classified:
    """Every customer of a ledger classified under one policy, with its tags."""

    ledger: Ledger
    policy: str
    classes: list[str]  # the policy's classes, best first
    customers: Sequence[CustomerClass]  # a list, or the ``CustomerClasses`` made on demand
    index: CustomerIndex | None = None

    @property
    def final_classes(self) -> Sequence[str | None]:
        """Each customer's final class, in row order (read from the facts, without making the
        customers, when they are made on demand)."""
        if isinstance(self.customers, CustomerClasses):
            return self.customers.klasses
        return [c.klass for c in self.customers]

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(k for k in self.final_classes if k)
        ordered = {k: found.pop(k) for k in self.classes if k in found}
        ordered.update(found)  # classes typed by hand outside the policy's list
        return ordered


class Facts:
    """The derived facts of one ledger as of ``today`` (see the module's docstring).

    Each fact is computed on first use and then kept: a job asks only for what it needs, and the
    daily run (``crm run``) hands one ``Facts`` to every job so each is computed once.
    """

    def __init__(
        self,
        ledger: Ledger,
        settings: Settings,
        *,
        today: date,
        now: datetime | None = None,
        policy: str | None = None,
        scores: dict[str, Any] | Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.ledger, self.settings, self.today = ledger, settings, today
        self.now = now or datetime.combine(today, time(23, 59, 59))
        self.policy = policy or settings.policy
        self._load_scores = scores if callable(scores) else (lambda: scores or {})

    @cached_property
    def _scores(self) -> dict[str, Any]:
        """The survey store's latest score per customer key, read on first use (only the jobs
        that need a satisfaction score open the store)."""
        return self._load_scores()

    @cached_property
    def index(self) -> CustomerIndex:
        return CustomerIndex(self.ledger.customer_sheet)

    @cached_property
    def classes(self) -> Classes:
        return classes_of(self, self.policy)

    @cached_property
    def strategic(self) -> list[bool]:
        return [bool(v) for v in self.ledger.customer_sheet.column("strategic")]

    @cached_property
    def visit_records(self) -> VisitsByCustomer:
        """Per customer row: its visit records up to today, (row, date, purpose + content + way),
        made when a row is asked for."""
        return visit_records(self.ledger, self.index, self.today)

    @cached_property
    def next_steps(self) -> list[str | None]:
        """Per customer row: the 下一步 of its latest visit record that has one."""
        return next_steps(self.ledger, self.index, self.today)

    @cached_property
    def last_contact(self) -> list[date | None]:
        """Per customer row: the latest of the ledger's last-visit date and the visit records."""
        return last_contacts(self.ledger, self.index, self.today)

    @cached_property
    def dues(self) -> list[Due]:
        """Every (customer, kind of visit) with a cadence, and when it is next due."""
        rules, classes = self.settings.rules, self.classes.final
        return list(due_visits(self.ledger, rules, classes, self.today, self.last_contact, self._records))

    def _records(self, i: int) -> list[VisitRecord]:
        """Customer ``i``'s visit records, grouped on the first ask (a cadence with a keyword)."""
        return self.visit_records[i]

    @cached_property
    def contact_due(self) -> list[Due | None]:
        """Per customer row: its routine contact (the cadence that any visit counts for), or None
        when its class has no cadence. Overdue means ``due < today``: one rule for every job.
        Taken from ``dues`` once they are made; before, only the routine cadences are walked
        (``crm validate`` asks for no visit of a kind, so none of a customer's records)."""
        if "dues" in self.__dict__:
            return contact_due(self.dues, len(self.ledger.customer_sheet))
        rules, classes = self.settings.rules, self.classes.final
        routine = due_visits(self.ledger, rules, classes, self.today, self.last_contact, self._records, keywords=False)
        return contact_due(routine, len(self.ledger.customer_sheet))

    @cached_property
    def complaints(self) -> list[ComplaintState]:
        return complaint_states(self.ledger, self.index)

    @cached_property
    def business(self) -> Any:
        """The monthly sheet's rows with a month and a volume: customer row (<NA> when the row
        names no known customer), month, volume, new business; an empty frame without the sheet."""
        import pandas as pd

        sheet = self.ledger.tables.get(MONTHLY)
        if sheet is None or not (sheet.has("month") and sheet.has("volume")):
            return pd.DataFrame({"customer": [], "month": [], "volume": [], "new_business": []})
        frame = pd.DataFrame(
            {
                "customer": pd.array([m for m, _ in self.index.match(sheet)], dtype="Int64"),
                "month": sheet.frame["month"].array,
                "volume": sheet.frame["volume"].array,
                "new_business": sheet.frame["new_business"].array,
            }
        )
        return frame[frame["month"].notna() & frame["volume"].notna()]

    @cached_property
    def monthly_volumes(self) -> MonthlyVolumes:
        """The monthly sheet's volumes summed by month (every row) and by customer row and
        month (the rows naming a known customer), without pandas (``facts.volumes``)."""
        return monthly_volumes(self.ledger, self.index)

    @cached_property
    def volumes(self) -> Any:
        """Business volume by customer row (index) and month (columns), a pandas DataFrame of
        sums; <NA> where a customer has no figure that month. Rows naming no known customer
        are left out here and counted in ``month_totals``. Empty without a monthly sheet.
        The sums are ``monthly_volumes``'."""
        import numpy as np
        import pandas as pd

        found = self.monthly_volumes
        if not found.rows:
            return pd.DataFrame()
        grid = np.frombuffer(found.sums, dtype=np.float64).reshape(len(found.rows), len(found.months))
        kept = [j for j in range(len(found.months)) if not np.isnan(grid[:, j]).all()]  # a month of known customers
        columns = {n: pd.array(grid[:, j], dtype="Float64") for n, j in enumerate(kept)}  # NaN: <NA>
        frame = pd.DataFrame(columns, index=pd.Index(found.rows, dtype="Int64", name="customer"))
        months = [pd.Timestamp(found.months[j]) for j in kept]
        frame.columns = pd.DatetimeIndex(months, name="month").as_unit("us")
        return frame

    @cached_property
    def month_totals(self) -> Any:
        """Business volume of every month with figures, all rows counted (a pandas Series by
        month, oldest first; the sums are ``monthly_volumes``')."""
        import pandas as pd

        totals = self.monthly_volumes.totals
        index = pd.DatetimeIndex([pd.Timestamp(month) for month in totals], name="month").as_unit("us")
        return pd.Series(pd.array(list(totals.values()), dtype="Float64"), index=index, name="volume")

    def months_up_to(self, day: date) -> list[date]:
        """The months with business figures up to ``day``, oldest first."""
        return self.monthly_volumes.months_up_to(day)

    @cached_property
    def satisfaction(self) -> list[float | None]:
        """Per customer row: the latest returned survey's score, else the 满意度 typed in the ledger."""
        values = list(self.ledger.customer_sheet.column("satisfaction"))
        for i, key in enumerate(self.index.keys):
            found = self._scores.get(key)
            if found is not None and found.score is not None:
                values[i] = round(found.score, 2)
        return values

    @cached_property
    def satisfaction_note(self) -> str:
        """Said aloud when survey returns replaced typed scores, else ''."""
        used = {
            found.campaign
            for key in self.index.keys
            if (found := self._scores.get(key)) is not None and found.score is not None
        }
        if not used:
            return ""
        count = sum(1 for key in self.index.keys if key in self._scores)
        return label(
            "survey.scores_used", self.settings.lang, count=count, campaigns=joined(sorted(used), self.settings.lang)
        )

    @property
    def has_satisfaction(self) -> bool:
        return self.ledger.customer_sheet.has("satisfaction") or any(
            (found := self._scores.get(key)) is not None and found.score is not None for key in self.index.keys
        )

    def findings(self, *, wording: bool = True) -> list[Finding]:
        """The data findings of the ledger as of ``today`` (``toolkit.findings`` codes), in
        sheet-then-row order; ``wording=False``: without their messages, for counting."""
        from .checks import check_ledger

        cache = self.__dict__.setdefault("_findings", {})
        if True in cache:  # the worded findings serve a count too
            return cache[True]
        if wording not in cache:
            cache[wording] = check_ledger(self, wording=wording)
        return cache[wording]

    def risk_tags(self, previous_satisfaction: list[float | None] | None = None) -> list[Sequence[Tag]]:
        """Each customer's risk tags (风险规则); ``previous_satisfaction`` per row, for 满意度下降."""
        from .risks import risk_tags

        return risk_tags(self, previous_satisfaction or [None] * len(self.ledger.customer_sheet))

    def classified(self, previous_satisfaction: list[float | None] | None = None) -> Classified:
        """Every customer's class, reason and risk tags (``previous_satisfaction``: see
        ``risk_tags``); the customers made one at a time as they are walked (``CustomerClasses``)."""
        customers = CustomerClasses(
            self.ledger.customer_sheet, self.index.keys, self.classes, self.risk_tags(previous_satisfaction)
        )
        return Classified(self.ledger, self.policy, self.classes.order, customers, self.index)

    def for_policy(self, policy: str) -> Facts:
        """The same facts under another policy: what does not depend on the class is shared."""
        if policy == self.policy:
            return self
        other = Facts(
            self.ledger, self.settings, today=self.today, now=self.now, policy=policy, scores=self._shared_scores
        )
        return self._share(other, ("visit_records", "last_contact"))

    def as_of(self, day: date) -> Facts:
        """The same ledger's facts as of another day (the monthly report's month end): what does
        not depend on the date is shared, nothing is read again."""
        if day == self.today:
            return self
        same_classes = ("classes",) if self.policy != "share" else ()  # only the share policy counts months up to today
        return self._share(
            Facts(self.ledger, self.settings, today=day, policy=self.policy, scores=self._shared_scores), same_classes
        )

    def forget(self, *names: str) -> None:
        """Drop the facts ``names`` (computed again if asked for): a job done with them, on a big
        ledger, gives their memory back before it writes."""
        for name in names:
            self.__dict__.pop(name, None)

    def _shared_scores(self) -> dict[str, Any]:
        return self._scores

    def _share(self, other: Facts, more: tuple[str, ...]) -> Facts:
        shared = ("index", "strategic", "complaints", "business", "monthly_volumes", "volumes", "month_totals")
        for name in (*shared, "satisfaction", *more):
            if name in self.__dict__:
                other.__dict__[name] = self.__dict__[name]
        return other

    def compute_all(self) -> Facts:
        """Compute every shared fact now (for the benchmark and the daily run's progress)."""
        for name in (
            "classes",
            "last_contact",
            "dues",
            "contact_due",
            "complaints",
            "monthly_volumes",
            "volumes",
            "month_totals",
            "satisfaction",
        ):
            getattr(self, name)
        return self


def derive(
    ledger: Ledger,
    settings: Settings,
    *,
    today: date,
    now: datetime | None = None,
    policy: str | None = None,
    ledger_path: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    scores: dict[str, Any] | None = None,
) -> Facts:
    """The facts of ``ledger`` as of ``today``. The satisfaction scores come from ``scores`` when
    given, else from the workspace's survey store for ``ledger_path`` (none when no survey ran)."""
    if scores is None:
        from ..surveydata.scores import latest_scores

        def scores() -> dict[str, Any]:
            return latest_scores(settings, ledger_path or ledger.path, out_dir=out_dir)

    return Facts(ledger, settings, today=today, now=now, policy=policy, scores=scores)


def load_facts(
    ledger_path: str | os.PathLike[str],
    settings: Settings,
    *,
    today: date,
    now: datetime | None = None,
    policy: str | None = None,
    password: str | None = None,
    out_dir: str | os.PathLike[str] | None = None,
) -> Facts:
    """Read the ledger at ``ledger_path`` (the workspace's column names applied) and derive its facts."""
    from ..ledger import read_ledger

    ledger = read_ledger(ledger_path, settings, password=password)
    return derive(ledger, settings, today=today, now=now, policy=policy, ledger_path=ledger_path, out_dir=out_dir)

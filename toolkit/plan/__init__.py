"""``crm plan``: turn class cadences and the visit history into a dated visit schedule on
Chinese working days, within each owner's capacity, with an overview, a month calendar and an
.ics file per owner."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ..calendar import WorkCalendar
from ..config import Settings, load_settings
from ..errors import InputError
from ..facts import Facts, load_facts
from ..facts.schedule import Visit, schedule_visits
from ..facts.visits import add_months
from ..i18n import joined, label
from ..jsonrows import put_rows
from ..model import VISITS, Ledger
from ..relations import CustomerIndex
from .completion import Completion, completion

__all__ = ["PlanResult", "Visit", "add_months", "plan"]


@dataclass
class PlanResult:
    ledger: Ledger
    start: date
    end: date  # exclusive
    today: date
    visits: list[Visit]  # planned and overflow, in date order
    overdue: list[Visit]  # the first occurrence of every visit already due before today
    calendar: WorkCalendar
    notes: list[str] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    completion: Completion | None = None  # how the previous plan went
    owner_specific: set[str] = field(default_factory=set)  # notes about particular owners only

    @property
    def planned(self) -> list[Visit]:
        return [v for v in self.visits if v.date is not None]

    @property
    def overflow(self) -> list[Visit]:
        return [v for v in self.visits if v.date is None]

    def as_json(self, limit: int | None = None) -> dict[str, Any]:
        """The JSON of ``crm plan``; ``limit`` cuts the visits, overdue and overflow lists (``jsonrows``)."""
        customers = self.ledger.customer_sheet
        names = customers.column("name")

        def visit(v: Visit) -> dict[str, Any]:
            return {
                "date": v.date.isoformat() if v.date else None,
                "owner": v.owner,
                "customer": names[v.due.row] or "",
                "row": customers.rows[v.due.row],
                "kind": v.due.kind,
                "way": v.due.way,
                "visitors": list(v.visitors),
                "role": v.role,
                "purpose": v.purpose,
                "content": v.content,
                "due": v.earliest.isoformat(),
                "moved": v.moved,
                "estimate": bool(v.date and self.calendar.is_estimate(v.date)),
            }

        def late(v: Visit) -> dict[str, Any]:
            return {
                "customer": names[v.due.row] or "",
                "owner": v.owner,
                "kind": v.due.kind,
                "due": v.due.due.isoformat(),
                "days_overdue": v.due.overdue_days(self.today),
            }

        data = {
            "job": "plan",
            "ledger": self.ledger.path,
            "start": self.start.isoformat(),
            "end": (self.end - timedelta(days=1)).isoformat(),
        }
        put_rows(data, "visits", self.planned, visit, limit)
        put_rows(data, "overdue", self.overdue, late, limit)
        put_rows(data, "overflow", self.overflow, visit, limit)
        data["notes"] = self.notes
        data["completion"] = self.completion.as_json() if self.completion else None
        data["outputs"] = [str(p) for p in self.outputs]
        return data


def period_end(start: date, months: int | None, weeks: int | None) -> date:
    if weeks:
        return start + timedelta(weeks=weeks)
    return add_months(start, months or 1)


def plan(
    ledger_path: str | os.PathLike[str],
    settings: Settings | None = None,
    *,
    today: date,
    start: date | None = None,
    months: int | None = None,
    weeks: int | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    split: bool = False,
    password: str | None = None,
    write: bool = True,
    record: bool = True,
    facts: Facts | None = None,
) -> PlanResult:
    """Plan visits from ``start`` (default ``today``) for ``months`` or ``weeks`` (default one month).

    Problems that leave the rest plannable (unknown customers in the visit records, owners
    without a capacity row, a period in the past, days only estimated) are returned as
    ``notes``. ``facts``: the ledger's facts as of ``today`` when the caller has them (``crm
    run``), else the ledger is read. Raises ``InputError`` only when nothing can be planned.
    """
    settings = settings or load_settings()
    lang = settings.lang
    start = start or today
    end = period_end(start, months, weeks)
    notes: list[str] = []
    if end <= today:  # a period in the past: plan the same length from today, and say so
        notes.append(
            label(
                "plan.note_past",
                settings.lang,
                start=start.isoformat(),
                end=(end - timedelta(days=1)).isoformat(),
                today=today.isoformat(),
            )
        )
        start, end = today, today + (end - start)
    elif start < today:  # partly past: visits are not planned on days gone by
        notes.append(label("plan.note_partly_past", settings.lang, start=start.isoformat(), today=today.isoformat()))
        start = today
    if facts is None:
        facts = load_facts(ledger_path, settings, today=today, password=password, out_dir=out_dir)
    ledger = facts.ledger
    customers = ledger.customer_sheet
    index = facts.index
    classes = facts.classes.final
    if facts.classes.error is not None:
        notes.append(label("plan.note_no_policy", lang, policy=facts.policy, error=facts.classes.error.message))
    records = facts.visit_records
    dues = facts.dues
    with_cadence = {d.row for d in dues}
    skipped = [i for i in range(len(customers)) if i not in with_cadence]
    if skipped:
        unknown = sorted({str(classes[i]) for i in skipped if classes[i]})
        notes.append(
            label("plan.note_skipped", settings.lang, count=len(skipped), classes=joined(unknown, settings.lang) or "-")
        )
    if not dues:
        raise InputError(
            "nothing to plan: no customer has a class with a visit cadence",
            file=ledger.path,
            sheet=customers.sheet,
            hint="fill in 客户分类 (A/B/C/D, 重点 …) or run with a workspace whose policy can classify the ledger",
        )
    visits, overdue, work = schedule_visits(facts, start, end)
    specific: set[str] = set()
    _notes(ledger, index, settings, visits, start, end, today, work, notes, specific)
    result = PlanResult(ledger, start, end, today, visits, overdue, work, notes, owner_specific=specific)
    folder = settings.output_folder(out_dir) if write else None  # checked before anything is recorded
    if record:
        result.completion = _close_the_loop(ledger_path, settings, out_dir, index, records, visits, today)
    if folder is not None:
        from .report import write_outputs

        result.outputs.extend(
            write_outputs(
                result,
                folder,
                Path(ledger_path).stem,
                settings=settings,
                company=settings.company,
                split=split,
            )
        )
    return result


def _close_the_loop(
    ledger_path, settings: Settings, out_dir, index: CustomerIndex, records, visits: list[Visit], today: date
) -> Completion | None:
    """Score the previous plan of this ledger against the visit records, then store this one."""
    from ..state import StateStore, state_path

    ledger_key = settings.ledger_key(ledger_path)
    keys = index.keys
    with StateStore(state_path(settings, out_dir)) as store:
        previous = store.last_plan(ledger_key, today)
        found = completion(previous, keys, records, today) if previous else None
        store.record_plan(
            ledger_key,
            today,
            (
                (keys[v.due.row], v.owner, v.klass or "", v.due.kind, v.due.keyword, v.date)
                for v in visits
                if v.date is not None
            ),
        )
    return found


def _notes(ledger, index, settings, visits, start, end, today, work, notes, specific: set[str]) -> None:
    """Append the notes of the plan; the ones about particular owners also go to ``specific``."""
    lang = settings.lang
    visit_table = ledger.tables.get(VISITS)
    if visit_table is not None:
        unknown = sum(1 for _, problem in index.match(visit_table) if problem)
        unreadable = len(visit_table.bad.get("visit_date", {}))
        if unknown:
            notes.append(label("plan.note_unknown", lang, count=unknown))
        if unreadable:
            notes.append(label("plan.note_bad_dates", lang, count=unreadable))
    estimated = sorted({v.date.year for v in visits if v.date and work.is_estimate(v.date)})
    if estimated:
        notes.append(label("plan.note_estimate", lang, years=joined(estimated, lang)))
    defaults = sorted(o for o in {v.owner for v in visits} if settings.rules.capacity_of(o)[1])
    if defaults:
        (per_day, per_week), _ = settings.rules.capacity_of(defaults[0])
        specific.add(
            label("plan.note_default_capacity", lang, owners=joined(defaults, lang), per_day=per_day, per_week=per_week)
        )
    overflow = sum(1 for v in visits if v.date is None)
    if overflow:
        specific.add(label("plan.note_overflow", lang, count=overflow))
    notes.extend(sorted(specific, key=lambda n: n != label("plan.note_overflow", lang, count=overflow)))


def owner_notes(result: PlanResult, settings: Settings, owner: str) -> list[str]:
    """The notes of a --split workbook: the ones about everybody, and this owner's own."""
    lang = settings.lang
    notes = [n for n in result.notes if n not in result.owner_specific]
    mine = [v for v in result.visits if v.owner == owner]
    if mine and settings.rules.capacity_of(owner)[1]:
        (per_day, per_week), _ = settings.rules.capacity_of(owner)
        notes.append(label("plan.note_default_capacity", lang, owners=owner, per_day=per_day, per_week=per_week))
    overflow = sum(1 for v in mine if v.date is None)
    if overflow:
        notes.append(label("plan.note_overflow", lang, count=overflow))
    return notes

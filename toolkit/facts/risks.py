"""Risk tags per customer, from the 风险规则 sheet of the rules workbook. Pure functions:
``now`` and the previous run's satisfaction scores are parameters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..config import RiskRule
from ..i18n import joined, label, rule_word, typed_word
from ..model import COMPLAINTS, MONTHLY
from .classes import percent, wan
from .visits import add_months

LEVEL_ORDER = {"severe": 0, "warning": 1, "info": 2}
# the risks the shipped rules workbook names: an English workbook says them in English
_SHIPPED = {
    "low_credit",
    "overdue_payment",
    "no_contact",
    "satisfaction_low",
    "satisfaction_falling",
    "complaint_open",
    "complaint_unanswered",
    "volume_drop",
}


@dataclass(frozen=True, slots=True)
class Tag:
    code: str
    level: str  # info | warning | severe
    reason: str  # the title, the separator and what was found
    title: str = ""  # the rule's name in the report's language (信用等级低)

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "level": self.level, "reason": self.reason}


def risk_tags(facts: Any, previous_satisfaction: list[float | None]) -> list[Sequence[Tag]]:
    """The tags of every customer row, from the facts (final classes, contact dues, complaint
    states, volumes, satisfaction); ``previous_satisfaction`` is the previous run's score per row.
    The rows without a tag share one empty tuple."""
    ledger, rules, lang, now = facts.ledger, facts.settings.rules, facts.settings.lang, facts.now
    customers = ledger.customer_sheet
    tags: dict[int, list[Tag]] = {}

    def rule(code: str) -> RiskRule | None:
        found = rules.risks.get(code)
        return found if found is not None and found.enabled else None

    sep = label("reason.sep", lang)
    titles: dict[str, str] = {}  # each rule's title, worked out once

    def add(i: int, found: RiskRule, key: str, **details: object) -> None:
        title = titles.get(found.code)
        if title is None:
            # the rules workbook names the risks in Chinese; an English workbook uses its own words
            # for the shipped ones (a risk the workbook renamed or added keeps the workbook's name)
            shipped = lang == "en" and found.code in _SHIPPED
            title = titles[found.code] = label(f"risk_title.{found.code}", lang) if shipped else found.title
        tags.setdefault(i, []).append(Tag(found.code, found.level, title + sep + label(key, lang, **details), title))

    if (found := rule("low_credit")) and customers.has("credit_rating"):
        listed = set(found.threshold) if isinstance(found.threshold, list) else set()
        shown = (
            joined((typed_word(t, lang) for t in found.threshold), lang) if isinstance(found.threshold, list) else ""
        )
        for i, rating in enumerate(customers.column("credit_rating")):
            if rating in listed:
                add(i, found, "risk.low_credit", rating=typed_word(rating, lang), listed=shown)

    if (found := rule("overdue_payment")) and (customers.has("overdue_amount") or customers.has("overdue_days")):
        limit = float(found.threshold) * 1e4  # type: ignore[arg-type]
        amounts, days = customers.column("overdue_amount"), customers.column("overdue_days")
        for i in range(len(customers)):
            amount, late = amounts[i] or 0.0, days[i] or 0.0
            if amount > limit or late > 0:
                extra = label("risk.overdue_days", lang, days=f"{late:g}") if late else ""
                add(i, found, "risk.overdue_payment", amount=wan(amount, lang), days=extra)

    if found := rule("no_contact"):
        _no_contact(facts, found, add)

    scores = facts.satisfaction
    if (found := rule("satisfaction_low")) and facts.has_satisfaction:
        for i, score in enumerate(scores):
            if score is not None and score < float(found.threshold):  # type: ignore[arg-type]
                add(i, found, "risk.satisfaction_low", score=f"{score:g}", threshold=f"{found.threshold:g}")

    if (found := rule("satisfaction_falling")) and facts.has_satisfaction:
        for i, (score, before) in enumerate(zip(scores, previous_satisfaction, strict=True)):
            if score is not None and before is not None and before - score > float(found.threshold):  # type: ignore[arg-type]
                add(
                    i,
                    found,
                    "risk.satisfaction_falling",
                    before=f"{before:g}",
                    after=f"{score:g}",
                    drop=f"{round(before - score, 2):g}",
                    threshold=f"{found.threshold:g}",
                )

    _complaints(facts, now, rule("complaint_unanswered"), rule("complaint_open"), add)

    if (found := rule("volume_drop")) and MONTHLY in ledger.tables:
        _volume_drop(facts, found, add)

    for row in tags.values():
        row.sort(key=lambda t: LEVEL_ORDER[t.level])
    return [tags.get(i, _UNTAGGED) for i in range(len(customers))]


_UNTAGGED: tuple[Tag, ...] = ()


def _no_contact(facts: Any, found: RiskRule, add) -> None:
    """Past the routine contact's due date, stretched by the rule's factor (1 倍: the cadence itself)."""
    ledger, today = facts.ledger, facts.today
    customers = ledger.customer_sheet
    if not (customers.has("last_visit") or "visits" in ledger.tables):
        return
    factor = float(found.threshold)  # type: ignore[arg-type]
    for i, due in enumerate(facts.contact_due):
        if due is None:
            continue
        klass = rule_word(facts.classes.effective(i, facts.strategic[i]), facts.settings.lang)  # 战略 → Strategic in en
        if due.last is None:
            add(i, found, "risk.never_contacted", klass=klass)
            continue
        months = due.months * factor
        deadline = due.due if factor == 1 else add_months(due.last, months)
        if deadline < today:
            add(
                i,
                found,
                "risk.no_contact",
                klass=klass,
                days=(today - due.last).days,
                last=due.last.isoformat(),
                months=f"{months:g}",
                due=deadline.isoformat(),
            )


def _complaints(facts: Any, now: datetime, unanswered, still_open, add) -> None:
    sheet = facts.ledger.tables.get(COMPLAINTS)
    if sheet is None or not sheet.has("received") or not (unanswered or still_open):
        return
    for state in facts.complaints:
        hours = state.open_hours(now)
        if state.customer is None or hours is None:
            continue
        limit = float(unanswered.threshold) if unanswered else 0.0
        if unanswered and state.replied is None and hours > limit:
            found, key = unanswered, "risk.complaint_unanswered"
        elif still_open and now > state.due_by(float(still_open.threshold)):  # the promised time, else the rule's
            found, key = still_open, "risk.complaint_open"
            limit = (state.due_by(float(still_open.threshold)) - state.received).total_seconds() / 3600
        else:
            continue
        add(
            state.customer,
            found,
            key,
            complaint=state.complaint_id or f"{sheet.sheet}!{state.row}",
            received=state.received.strftime("%Y-%m-%d %H:%M"),
            hours=int(hours),
            limit=f"{limit:g}",
        )


def _volume_drop(facts: Any, found: RiskRule, add) -> None:
    """The latest month with figures against the month before, per customer, from the facts'
    monthly volumes (a customer without a figure in either month: unknown, not a drop)."""
    months = facts.months_up_to(facts.today)
    if len(months) < 2:
        return
    before, last = months[-2], months[-1]
    threshold, lang = float(found.threshold), facts.settings.lang  # type: ignore[arg-type]
    monthly = facts.monthly_volumes
    for row in monthly.rows:
        earlier, now_volume = monthly.get(row, before), monthly.get(row, last)
        if earlier is None or now_volume is None or not earlier > 0:
            continue
        drop = (earlier - now_volume) / earlier * 100
        if drop > threshold:
            add(
                row,
                found,
                "risk.volume_drop",
                prev_month=f"{before:%Y-%m}",
                before=wan(earlier, lang),
                month=f"{last:%Y-%m}",
                after=wan(now_volume, lang),
                drop=percent(drop),
                threshold=percent(found.threshold),
            )


def highest_level(tags: Sequence[Tag]) -> str | None:
    return min((t.level for t in tags), key=LEVEL_ORDER.__getitem__) if tags else None

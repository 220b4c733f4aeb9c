"""``crm report``: the monthly status workbook managers open (概览, 重点客户, 风险预警, 拜访, 投诉,
数据质量), and the group roll-up over every subsidiary's ledger."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from ..config import Settings, load_settings
from ..errors import InputError, ToolkitError
from ..facts import Classified, ComplaintState, Facts, complaint_limits, load_facts
from ..i18n import label
from ..model import Finding
from ..relations import CustomerIndex
from ..state import StateStore, state_path
from ..xlsx import file_part
from .kpis import (
    ComplaintRates,
    CustomerMonth,
    MonthFigures,
    VisitsByOwner,
    complaint_rates,
    month_bounds,
    month_figures,
    volume_by_month,
)

__all__ = ["GroupResult", "ReportResult", "parse_month", "report", "report_group"]

KEY_CLASSES = {"战略", "战略合作伙伴", "A", "重点", "重点客户"}


def parse_month(text: str) -> date:
    try:
        year, month = (int(part) for part in text.replace("/", "-").split("-")[:2])
        if not 1990 <= year <= 2200:
            raise ValueError(year)
        return date(year, month, 1)
    except (ValueError, TypeError):
        raise InputError(f"--month '{text}' is not a month", hint="write it as YYYY-MM, e.g. 2026-11") from None


@dataclass
class ReportResult:
    month: date
    classified: Classified
    findings: list[Finding]
    this: MonthFigures
    previous: MonthFigures
    per_customer: dict[int, CustomerMonth]
    by_owner: dict[str, VisitsByOwner]
    volumes: list[tuple[date, float | None]]
    previous_classes: tuple[str, dict[str, int], float | None] | None
    missing: list[str]
    index: CustomerIndex
    present: list[bool]  # customers that existed by the end of the month (建档日期 not later)
    reply_hours: float = 24.0
    subsidiary: str = ""
    outputs: list[Path] = field(default_factory=list)

    satisfaction_scores: list[float | None] = field(default_factory=list)
    complaints: list[ComplaintState] = field(default_factory=list)
    promise_hours: float = 24.0  # what a complaint without a promise of its own is held to
    made: datetime = datetime(2000, 1, 1)  # when the report was made: a promise due by then and not kept is late
    complaint_rates: ComplaintRates | None = None  # None without a complaints sheet
    owner: str | None = None  # an owner's own report (--split): only their customers' rows
    rows: set[int] | None = None  # … these customer rows; None: every customer
    owner_reports: dict[str, ReportResult] = field(default_factory=dict)  # --split: each owner's, written

    def shows(self, row: int) -> bool:
        """Whether customer ``row`` belongs in this report (every one, but in an owner's own)."""
        return self.rows is None or row in self.rows

    @property
    def customers(self) -> Sequence[Any]:
        """The classified customers this report is about."""
        everyone = self.classified.customers
        return everyone if self.rows is None else [c for i, c in enumerate(everyone) if i in self.rows]

    @property
    def class_counts(self) -> dict[str, int]:
        """Customers per class, the policy's order first (of the customers this report is about)."""
        found = self._classes(self.shows)
        return {k: found[k] for k in self.classified.counts if found.get(k)}

    def _classes(self, counted: Callable[[int], bool]) -> Counter[str]:
        """The customers per final class among the rows ``counted``."""
        return Counter(k for i, k in enumerate(self.classified.final_classes) if k and counted(i))

    @property
    def satisfaction(self) -> float | None:
        scores = [s for s in self.satisfaction_scores if s is not None]
        return sum(scores) / len(scores) if scores else None

    def kpis(self) -> dict[str, Any]:
        """name → value this month (None where the ledger holds no data)."""
        t = self.this
        errors = sum(1 for f in self.findings if f.severity == "error")
        present = self.present
        values: dict[str, Any] = {"customers": sum(1 for i, here in enumerate(present) if here and self.shows(i))}
        counts = self._classes(lambda i: present[i] and self.shows(i))
        values.update({f"class:{k}": counts[k] for k in self.classified.counts if counts.get(k)})
        values.update(
            {
                "new_customers": t.new_customers,
                "lost_customers": t.lost_customers,
                "volume": t.volume,
                "volume_change": _change(t.volume, self.previous.volume),
                "new_business": t.new_business,
                "visits_planned": t.visits_planned,
                "visits_done": t.visits_done,
                "visit_rate": t.visit_rate,
                "complaints": t.complaints,
                "complaints_on_time": t.complaints_on_time,
                "on_time_rate": t.on_time_rate,
                "complaints_resolved": t.complaints_resolved,
                "resolved_rate": t.resolved_rate,
                "complaints_kept": t.complaints_kept,
                "kept_rate": t.kept_rate,
                "satisfaction": self.satisfaction,
                "data_errors": errors,
                "data_warnings": len(self.findings) - errors,
            }
        )
        return values

    def as_json(self, limit: int | None = None) -> dict[str, Any]:
        """The JSON of ``crm report`` (no long lists: ``limit`` is for ``crm run``'s sake)."""
        return {
            "job": "report",
            "ledger": self.classified.ledger.path,
            "month": f"{self.month:%Y-%m}",
            "kpis": self.kpis(),
            "complaint_rates": self.complaint_rates.as_json() if self.complaint_rates else None,
            "missing": self.missing,
            "outputs": [str(p) for p in self.outputs],
        }


def _change(now: float | None, before: float | None) -> float | None:
    return (now - before) / before if now is not None and before not in (None, 0) else None


def report(
    ledger_path: str | os.PathLike[str],
    settings: Settings | None = None,
    *,
    month: date,
    out_dir: str | os.PathLike[str] | None = None,
    password: str | None = None,
    write: bool = True,
    subsidiary: str = "",
    today: date | None = None,
    facts: Facts | None = None,
    split: bool = False,
) -> ReportResult:
    """The monthly report of ``month`` for one ledger, made ``today``: the classes, risks and
    figures are as of the month's last day, the data problems the ones open today. ``split``:
    also one workbook per owner, with only that owner's customers (``for_owner``).
    ``facts``: the ledger's facts as of ``today`` when the caller has them (``crm run``), else
    the ledger is read. Raises ``InputError`` when the ledger cannot be read."""
    settings = settings or load_settings()
    first, end = month_bounds(month)
    as_of = end - timedelta(days=1)
    made = max(today or date.today(), as_of)
    if facts is None:
        facts = load_facts(ledger_path, settings, today=made, password=password, out_dir=out_dir)
    findings = (facts if facts.today >= as_of else facts.as_of(as_of)).findings(wording=False)
    given, facts = facts, facts.as_of(as_of)  # the month as it stood at its end
    classified = facts.classified()
    if facts is not given:  # derived here: the due dates and visit records only the risk tags needed go
        facts.forget("dues", "contact_due", "visit_records", "last_contact")
    del given
    ledger = facts.ledger
    index = facts.index
    hours, promise = complaint_limits(settings.rules)
    missing: list[str] = []
    key_rows = key_customers(facts, range(len(ledger.customer_sheet)))
    this, per_customer, by_owner = month_figures(facts, first, hours, missing, key_rows=key_rows, promise_hours=promise)
    previous, _, _ = month_figures(facts, first - timedelta(days=1), hours, details=False, promise_hours=promise)
    if previous.volume is None and this.volume is not None:
        missing.append("volume_previous")
    path = state_path(settings, out_dir)
    previous_classes = None
    if path.exists():
        with StateStore(path) as store:
            previous_first = (first - timedelta(days=1)).replace(day=1)
            previous_classes = store.classes_between(
                settings.ledger_key(ledger_path), classified.policy, previous_first, first
            )
    if previous_classes is None:
        missing.append("classes_previous")
    if not facts.has_satisfaction:
        missing.append("satisfaction")
    result = ReportResult(
        first,
        classified,
        findings,
        this,
        previous,
        per_customer,
        by_owner,
        volume_by_month(facts, first),
        previous_classes,
        missing,
        index,
        [since is None or since < end for since in ledger.customer_sheet.column("since")],
        hours,
        subsidiary,
        satisfaction_scores=facts.satisfaction,
        complaints=facts.complaints,
        promise_hours=promise,
        made=datetime.combine(made, datetime.min.time()),
        complaint_rates=None if this.complaints is None else complaint_rates(facts.complaints, first, hours, promise),
    )
    if write:
        from ..mail import add_sent_log_sheet
        from .workbook import write_report

        name = f"{Path(ledger_path).stem}_{label('report.file', settings.lang)}_{first:%Y%m}.xlsx"
        sent_log = partial(add_sent_log_sheet, settings=settings, month=first, out_dir=out_dir)
        folder = settings.output_folder(out_dir)
        result.outputs.append(
            write_report(folder / name, result, lang=settings.lang, company=settings.company, more_sheets=[sent_log])
        )
        if split:
            for owner in owners_of(facts):
                mine = for_owner(result, facts, owner)
                target = folder / f"{Path(name).stem}_{file_part(owner)}.xlsx"
                # no 发送记录: it lists every owner's messages
                mine.outputs.append(write_report(target, mine, lang=settings.lang, company=settings.company))
                result.outputs.append(mine.outputs[0])
                result.owner_reports[owner] = mine
    return result


def key_customers(facts: Facts, rows) -> set[int]:
    """Of customer ``rows``, the ones 重点客户 lists: strategic (flagged or by class) and key."""
    classes = facts.classes.final
    return {i for i in rows if facts.strategic[i] or classes[i] in KEY_CLASSES}


def owners_of(facts: Facts) -> list[str]:
    """The ledger's owners (未填负责人 for the customers without one), sorted."""
    nobody = label("owner.none", facts.settings.lang)
    return sorted({o or nobody for o in facts.ledger.customer_sheet.column("owner")})


def for_owner(result: ReportResult, facts: Facts, owner: str) -> ReportResult:
    """``result`` for ``owner``'s customers alone (002/004: each owner sees only their own): the
    figures counted again over their rows, the lists cut to them. Last month's class mix is not
    kept per owner, so it is left out (and said)."""
    from dataclasses import replace

    nobody = label("owner.none", facts.settings.lang)
    rows = {i for i, o in enumerate(facts.ledger.customer_sheet.column("owner")) if (o or nobody) == owner}
    first = result.month
    missing = [m for m in result.missing if m != "classes_previous"] + ["owner_classes_previous"]
    this, per_customer, by_owner = month_figures(
        facts,
        first,
        result.reply_hours,
        [],
        key_rows=key_customers(facts, rows),
        promise_hours=result.promise_hours,
        only=rows,
    )
    previous, _, _ = month_figures(
        facts,
        first - timedelta(days=1),
        result.reply_hours,
        details=False,
        promise_hours=result.promise_hours,
        only=rows,
    )
    complaints = [s for s in result.complaints if s.customer in rows]
    return replace(
        result,
        findings=[f for f in result.findings if (f.owner or nobody) == owner],
        this=this,
        previous=previous,
        per_customer=per_customer,
        by_owner={k: v for k, v in by_owner.items() if (k or nobody) == owner},
        volumes=volume_by_month(facts, first, only=rows),
        previous_classes=None,
        missing=missing,
        outputs=[],
        owner_reports={},
        satisfaction_scores=[s if i in rows else None for i, s in enumerate(result.satisfaction_scores)],
        complaints=complaints,
        complaint_rates=None
        if result.complaint_rates is None
        else complaint_rates(complaints, first, result.reply_hours, result.promise_hours),
        owner=owner,
        rows=rows,
    )


@dataclass
class GroupResult:
    month: date
    reports: list[ReportResult]
    failures: list[tuple[str, str]]  # (file, why)
    outputs: list[Path] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "job": "report",
            "month": f"{self.month:%Y-%m}",
            "subsidiaries": {r.subsidiary: {"kpis": r.kpis(), "missing": r.missing} for r in self.reports},
            "kpis": self.totals(),
            "failed": [{"file": f, "reason": why} for f, why in self.failures],
            "missing": sorted({m for r in self.reports for m in r.missing}),
            "outputs": [str(p) for p in self.outputs],
        }

    def incomplete(self) -> dict[str, list[str]]:
        """KPI → the subsidiaries without data for it: their totals are partial."""
        gaps: dict[str, list[str]] = {}
        for r in self.reports:
            for key, value in r.kpis().items():
                if value is None:
                    gaps.setdefault(key, []).append(r.subsidiary)
        return gaps

    def totals(self) -> dict[str, Any]:
        """Counts and amounts added up; rates recomputed from the sums, never averaged."""
        total: dict[str, Any] = {}
        for r in self.reports:
            for key, value in r.kpis().items():
                if key.endswith(("_rate", "_change")) or key == "satisfaction":
                    continue
                if value is not None:
                    total[key] = (total.get(key) or 0) + value
        for rate, (part, whole) in {
            "visit_rate": ("visits_done", "visits_planned"),
            "on_time_rate": ("complaints_on_time", "complaints"),
            "resolved_rate": ("complaints_resolved", "complaints"),
            "kept_rate": ("complaints_kept", "complaints"),
        }.items():
            total[rate] = total[part] / total[whole] if total.get(whole) else None
        scores = [s for r in self.reports for s in r.satisfaction_scores if s is not None]
        total["satisfaction"] = sum(scores) / len(scores) if scores else None
        return total


def report_group(
    folder: str | os.PathLike[str],
    settings: Settings | None = None,
    *,
    month: date,
    out_dir: str | os.PathLike[str] | None = None,
    password: str | None = None,
    today: date | None = None,
) -> GroupResult:
    """Every subsidiary ledger in ``folder``, side by side. A ledger that cannot be read is
    listed with the reason; it never stops the roll-up."""
    from ..workspace import group_ledgers

    settings = settings or load_settings()
    reports, failures = [], []
    for path, name in group_ledgers(folder, settings):
        try:
            reports.append(
                report(path, settings, month=month, write=False, subsidiary=name, password=password, today=today)
            )
        except ToolkitError as error:
            failures.append((path.name, str(error)))
    result = GroupResult(month_bounds(month)[0], reports, failures)
    from .workbook import write_group

    name = f"{label('report.group_file', settings.lang)}_{result.month:%Y%m}.xlsx"
    # a subsidiary's ledger protected by the password: the roll-up of its figures is protected alike
    protected = next((r.classified.ledger.password for r in reports if r.classified.ledger.password), None)
    result.outputs.append(
        write_group(
            settings.output_folder(out_dir) / name,
            result,
            lang=settings.lang,
            company=settings.company,
            password=protected,
        )
    )
    return result

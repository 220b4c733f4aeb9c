"""The schedule workbook (overview, calendar per owner, full list, overdue, overflow), one
workbook per owner with --split, and an .ics file per owner."""

from __future__ import annotations

import calendar as month_calendar
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ..facts.schedule import Visit, visitors_text
from ..i18n import label, rule_word
from ..ics import write_ics
from ..xlsx import Book, file_part, sheet_name, text_lines

_DAY_WIDTH = 22  # a calendar day's column
_DAY_LINE = 13.5  # points a line of its 9 pt text takes

if TYPE_CHECKING:
    from ..config import Settings
    from . import PlanResult


def write_outputs(
    result: PlanResult, out_dir: Path, stem: str, *, settings: Settings, company: str, split: bool
) -> list[Path]:
    from . import owner_notes

    lang = settings.lang
    out_dir.mkdir(parents=True, exist_ok=True)
    tag = f"{result.start:%Y%m%d}-{result.end - timedelta(days=1):%Y%m%d}"
    base = f"{stem}_{label('plan.file', lang)}_{tag}"
    outputs = [_workbook(out_dir / f"{base}.xlsx", result, result.visits, lang, company, None, result.notes)]
    by_owner: dict[str, list[Visit]] = defaultdict(list)
    for visit in result.visits:
        by_owner[visit.owner].append(visit)
    calendars = by_visitor(result.visits)  # each person's own: the visits they go on
    for name in sorted(set(by_owner) | set(calendars)):
        if split and name in by_owner:
            notes = owner_notes(result, settings, name)
            path = out_dir / f"{base}_{file_part(name)}.xlsx"
            outputs.append(_workbook(path, result, by_owner[name], lang, company, name, notes))
        if name in calendars:
            path = out_dir / f"{base}_{file_part(name)}.ics"
            outputs.append(write_ics(path, result.ledger, result.today, name, calendars[name], lang))
    return outputs


def by_visitor(visits: list[Visit]) -> dict[str, list[Visit]]:
    """Each person who goes on visits (the owner where nobody else is named) and their visits."""
    found: dict[str, list[Visit]] = defaultdict(list)
    for v in visits:
        for person in v.visitors or (v.owner,):
            found[person].append(v)
    return found


def _workbook(
    path: Path, result: PlanResult, visits: list[Visit], lang: str, company: str, only: str | None, notes: list[str]
) -> Path:
    """The schedule workbook of ``visits``; ``only`` names the owner of a --split workbook."""
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    book = Book(
        str(path), title=f"{company} {L('plan.title')}".strip(), company=company, password=result.ledger.password
    )
    owners = sorted({v.owner for v in visits})
    _overview(book, result, visits, owners, lang, notes)
    _list(book, result, [v for v in visits if v.date is not None], L("sheet.plan_list"), lang, with_date=True)
    overdue_keys = {id(v) for v in result.overdue}
    _overdue(book, result, [v for v in visits if id(v) in overdue_keys], lang)
    _list(book, result, [v for v in visits if v.date is None], L("sheet.plan_overflow"), lang, with_date=False)
    if result.completion is not None:
        _completion(book, result, only, lang)
    dated = by_visitor([v for v in visits if v.date])  # grouped once: a pass per person was people × visits
    for person in sorted(dated):
        _calendar(book, result, dated[person], person, lang)
    book.close()
    return path


def _overview(
    book: Book, result: PlanResult, visits: list[Visit], owners: list[str], lang: str, notes: list[str]
) -> None:
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    sheet = book.add_sheet(L("sheet.plan_overview"))
    book.write_title(sheet, 0, book.title)
    end = result.end - timedelta(days=1)
    sheet.write_string(1, 0, L("plan.period"), book.formats["bold"])
    sheet.write_string(1, 1, f"{result.start.isoformat()} — {end.isoformat()}", book.formats["text"])
    row = 2
    for note in notes:
        row += 1
        sheet.write_string(row, 0, L("plan.notes"), book.formats["bold"])
        sheet.write_string(row, 1, note, book.formats["text"])
    row += 2
    headers = [L(k) for k in ("col.owner", "col.due_visits", "col.planned", "col.overdue", "col.overflow")]
    for c, text in enumerate(headers):
        sheet.write_string(row, c, text, book.formats["header"])
    # counted in one pass each, not one pass an owner (200 owners × 20k visits)
    overdue = Counter(v.owner for v in result.overdue)
    due, placed = Counter(v.owner for v in visits), Counter(v.owner for v in visits if v.date)
    for owner in owners:
        row += 1
        values = [owner, due[owner], placed[owner], overdue.get(owner, 0), due[owner] - placed[owner]]
        for c, value in enumerate(values):
            book.write_cell(sheet, row, c, value)
    row += 2
    sheet.write_string(row, 0, L("plan.load"), book.formats["bold"])
    row += 1
    load: dict[date, Counter[str]] = defaultdict(Counter)  # per person going: their capacity is what fills
    for v in visits:
        if v.date:
            for person in v.visitors or (v.owner,):
                load[v.date - timedelta(days=v.date.weekday())][person] += 1
    people = sorted({p for week in load.values() for p in week})
    for c, text in enumerate([L("col.week"), *people]):
        sheet.write_string(row, c, text, book.formats["header"])
    for week in sorted(load):
        row += 1
        book.write_cell(sheet, row, 0, week)
        for c, person in enumerate(people, start=1):
            book.write_cell(sheet, row, c, load[week].get(person, 0))
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, max(len(people), 4), 12)
    book.print_setup(sheet, repeat_row=None, landscape=True)


def _row(result: PlanResult, v: Visit, lang: str, with_date: bool) -> list:
    customers = result.ledger.customer_sheet
    i = v.due.row
    yes = label("yes", lang)
    weekdays = label("plan.weekdays", lang).split()
    columns = [customers.column(k)[i] for k in ("customer_id", "name")]
    contact = [customers.column(k)[i] for k in ("contact", "phone", "city", "address")]
    kind = rule_word(v.due.kind, lang)
    common = [v.owner, *columns, rule_word(v.klass, lang), kind, rule_word(v.due.way, lang), visitors_text(v, lang),
              rule_word(v.purpose, lang), v.content or None, *contact, v.due.last, v.earliest]  # fmt: skip
    if with_date:
        assert v.date is not None
        flags = [yes if v.moved else "", yes if result.calendar.is_estimate(v.date) else ""]
        return [v.date, weekdays[v.date.weekday()], *common, None, *flags]
    return [*common, label("plan.overflow_reason", lang)]


def _list(book: Book, result: PlanResult, visits: list[Visit], name: str, lang: str, *, with_date: bool) -> None:
    L = lambda key: label(key, lang)  # noqa: E731
    sheet = book.add_sheet(name)
    common = [
        "col.owner",
        "col.customer_id",
        "col.customer",
        "col.class",
        "col.kind",
        "col.way",
        "col.visitors",
        "col.purpose",
        "col.visit_content",
        "col.contact",
        "col.phone",
        "col.city",
        "col.address",
        "col.last_visit",
        "col.due",
    ]
    keys = (
        ["col.date", "col.weekday", *common, "col.confirmed", "col.moved", "col.estimate"]
        if with_date
        else [*common, "col.detail"]
    )
    rows = (_row(result, v, lang, with_date) for v in visits)
    count = book.table(sheet, [L(k) for k in keys], rows, max_width=30)
    if with_date and count:  # the customer's confirmation of the visit (004), for the owner to fill in
        col = keys.index("col.confirmed")
        choices = [L("plan.confirm_yes"), L("plan.confirm_pending"), L("plan.confirm_moved")]
        sheet.data_validation(1, col, count, col, {"validate": "list", "source": choices})


def _overdue(book: Book, result: PlanResult, visits: list[Visit], lang: str) -> None:
    L = lambda key: label(key, lang)  # noqa: E731
    sheet = book.add_sheet(L("sheet.plan_overdue"))
    names, ids = result.ledger.customer_sheet.column("name"), result.ledger.customer_sheet.column("customer_id")
    keys = [
        "col.owner",
        "col.customer_id",
        "col.customer",
        "col.class",
        "col.kind",
        "col.last_visit",
        "col.due",
        "col.days_overdue",
    ]
    rows = (
        [
            v.owner,
            ids[v.due.row],
            names[v.due.row],
            rule_word(v.klass, lang),
            rule_word(v.due.kind, lang),
            v.due.last,
            v.due.due,
            v.due.overdue_days(result.today),
        ]
        for v in visits
    )
    book.table(sheet, [L(k) for k in keys], rows, max_widths=[10, 12, 30, 8, 12, 12, 12, 10])


def _completion(book: Book, result: PlanResult, only: str | None, lang: str) -> None:
    """How the previous plan went: completion rate per owner and class, then every planned visit."""
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    done = result.completion
    assert done is not None
    sheet = book.add_sheet(L("sheet.plan_completion"))
    sheet.write_string(0, 0, L("plan.completion_since", since=done.since.isoformat()), book.formats["bold"])
    headers = [L(k) for k in ("col.owner", "col.class", "col.planned", "col.done", "col.rate")]
    for c, text in enumerate(headers):
        sheet.write_string(1, c, text, book.formats["header"])
    row = 1
    for owner, klass, planned, finished, rate in done.rates():
        if only is not None and owner != only:
            continue
        row += 1
        for c, value in enumerate((owner, klass or L("col.total"), planned, finished)):
            book.write_cell(sheet, row, c, value, "bold" if not klass and c == 1 else None)
        sheet.write_number(row, 4, rate, book.formats["percent"])
    sheet.set_column(0, 4, 12)
    book.print_setup(sheet, repeat_row=1, landscape=False)


def _calendar(book: Book, result: PlanResult, visits: list[Visit], owner: str, lang: str) -> None:
    """A month grid per month of the period: one cell a day, the customers of that day in it."""
    sheet = book.add_sheet(sheet_name(f"{label('sheet.plan_calendar', lang)}-{owner}", book.names))
    names = result.ledger.customer_sheet.column("name")
    by_day: dict[date, list[str]] = defaultdict(list)
    for v in visits:
        assert v.date is not None
        by_day[v.date].append(
            f"{names[v.due.row] or ''}（{v.due.kind}）"
            if lang == "zh"
            else f"{names[v.due.row] or ''} ({rule_word(v.due.kind, lang)})"
        )
    fmt = book.workbook.add_format(
        {"font_name": "等线", "font_size": 9, "text_wrap": True, "valign": "top", "border": 1}
    )
    off = book.workbook.add_format(
        {
            "font_name": "等线",
            "font_size": 9,
            "text_wrap": True,
            "valign": "top",
            "border": 1,
            "bg_color": "#EDEDED",
            "font_color": "#808080",
        }
    )
    row = 0
    month = result.start.replace(day=1)
    last_day = result.end - timedelta(days=1)
    while month <= last_day:
        book.write_title(sheet, row, f"{owner}  " + label("plan.month", lang, year=month.year, month=month.month))
        row += 1
        for c, text in enumerate(label("plan.weekdays", lang).split()):
            sheet.write_string(row, c, text, book.formats["header"])
        row += 1
        for week in month_calendar.Calendar().monthdatescalendar(month.year, month.month):
            tallest = 1
            for c, day in enumerate(week):
                if day.month != month.month:
                    sheet.write_blank(row, c, None, off)
                    continue
                workday, estimate, holiday = result.calendar.day(day)
                in_period = result.start <= day <= last_day
                lines = [f"{day.day}" + (f" {holiday}" if holiday else "") + (" *" if estimate and holiday else "")]
                entries = by_day.get(day, [])
                lines += entries[:4] + ([label("plan.more", lang, count=len(entries) - 4)] if len(entries) > 4 else [])
                sheet.write_string(row, c, "\n".join(lines), fmt if workday and in_period else off)
                tallest = max(tallest, text_lines("\n".join(lines), _DAY_WIDTH))
            sheet.set_row(row, max(tallest, 3) * _DAY_LINE)  # every visit of the busiest day shows
            row += 1
        row += 1
        month = (month + timedelta(days=32)).replace(day=1)
    sheet.set_column(0, 6, _DAY_WIDTH)
    book.print_setup(sheet, repeat_row=None, landscape=True)

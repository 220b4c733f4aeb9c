"""The monthly report workbook and the group roll-up workbook."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..facts.visits import add_months
from ..i18n import joined, label, sentences
from ..model import COMPLAINTS
from ..sheets import write_risk_sheet
from ..xlsx import Book, display_width
from .kpis import CustomerMonth, month_bounds

if TYPE_CHECKING:
    from . import GroupResult, ReportResult

# key, kind: how a KPI is shown (count, amount in 万元, rate, score)
KPI_ROWS = [
    ("customers", "count"),
    ("new_customers", "count"),
    ("lost_customers", "count"),
    ("volume", "amount"),
    ("new_business", "amount"),
    ("visits_planned", "count"),
    ("visits_done", "count"),
    ("visit_rate", "rate"),
    ("complaints", "count"),
    ("complaints_on_time", "count"),
    ("on_time_rate", "rate"),
    ("complaints_resolved", "count"),
    ("resolved_rate", "rate"),
    ("complaints_kept", "count"),
    ("kept_rate", "rate"),
    ("satisfaction", "score"),
    ("data_errors", "count"),
    ("data_warnings", "count"),
]
# which way a KPI should move: +1 up is good, -1 up is bad, 0 neither (more visits planned is
# not better or worse in itself); the change is coloured green or red by it
_BETTER = {
    "customers": 1,
    "new_customers": 1,
    "lost_customers": -1,
    "volume": 1,
    "new_business": 1,
    "visits_planned": 0,
    "visits_done": 1,
    "visit_rate": 1,
    "complaints": -1,
    "complaints_on_time": 1,
    "on_time_rate": 1,
    "complaints_resolved": 1,
    "resolved_rate": 1,
    "complaints_kept": 1,
    "kept_rate": 1,
    "satisfaction": 1,
    "data_errors": -1,
    "data_warnings": -1,
}
# why last month shows 无数据 where the ledger itself does not say
_NO_PREVIOUS = {
    "customers": "missing.classes_previous",
    "satisfaction": "missing.satisfaction_previous",
    "data_errors": "missing.quality_previous",
    "data_warnings": "missing.quality_previous",
}
_MISSING_FOR = {
    "new_customers": ["new_customers"],
    "lost_customers": ["monthly_sheet", "volume_month"],
    "volume": ["monthly_sheet", "volume_month"],
    "new_business": ["monthly_sheet", "volume_month"],
    "visits_planned": ["visits_sheet"],
    "visits_done": ["visits_sheet"],
    "visit_rate": ["visits_sheet"],
    "complaints": ["complaints_sheet"],
    "complaints_on_time": ["complaints_sheet"],
    "on_time_rate": ["complaints_sheet"],
    "complaints_resolved": ["complaints_sheet"],
    "resolved_rate": ["complaints_sheet"],
    "complaints_kept": ["complaints_sheet"],
    "kept_rate": ["complaints_sheet"],
    "satisfaction": ["satisfaction"],
}


def _formats(book: Book, lang: str = "zh") -> dict[str, Any]:
    base = {"font_name": "等线", "font_size": 10, "border": 1}
    add = book.workbook.add_format
    points = label("report.points", lang).replace('"', "")  # 个百分点 / pp
    formats = {
        "count": add({**base, "num_format": "#,##0"}),
        "amount": add({**base, "num_format": "#,##0.0"}),
        "rate": add({**base, "num_format": "0.0%"}),
        "score": add({**base, "num_format": "0.00"}),
        "text": add(base),
        "missing": add({**base, "font_color": "#808080", "italic": True}),
    }
    # a change: of a count or an amount in percent, of a rate in percentage points (a rate of
    # 10.6 % becoming 10.9 % is +0.3 个百分点, not +2.8 %), of a score in points; green where
    # it is for the better, red where it is for the worse, black where it is neither
    shapes = {"percent": "0.0%", "points": f'0.0"{points}"', "score": "0.00"}
    for name, shape in shapes.items():
        for tone, colour in (("good", "#00875A"), ("bad", "#C00000"), ("plain", "#000000")):
            formats[f"change.{name}.{tone}"] = add(
                {**base, "num_format": f"+{shape};-{shape};{shape}", "font_color": colour}
            )
    return formats


def _change_cell(sheet, row: int, col: int, kind: str, now: Any, before: Any, better: int, formats) -> None:
    """The change from last month, in the unit a manager reads (see ``_formats``)."""
    if now is None or before is None or (kind in ("count", "amount") and not before):
        sheet.write_blank(row, col, None, formats["text"])
        return
    change, shape = {
        "rate": ((now - before) * 100, "points"),
        "score": (now - before, "score"),
    }.get(kind, ((now - before) / before if before else 0.0, "percent"))
    tone = "plain" if not better or not change else "good" if change * better > 0 else "bad"
    sheet.write_number(row, col, change, formats[f"change.{shape}.{tone}"])


def _kpi_cell(sheet, row: int, col: int, kind: str, value: Any, formats: dict[str, Any], lang: str) -> None:
    """A KPI value in its format, or 无数据 in grey where the ledger holds no data for it."""
    if value is None:
        sheet.write_string(row, col, label("report.no_data", lang), formats["missing"])
    else:
        sheet.write_number(row, col, _value(kind, value), formats[kind])


def _swing(now: float | None, before: float | None) -> float | None:
    """The change from ``before`` as a fraction; None where there is nothing to compare with."""
    return (now - before) / before if now is not None and before else None


def _value(kind: str, value: Any) -> Any:
    return value / 1e4 if kind == "amount" and value is not None else value


def write_report(
    path: Path, result: ReportResult, *, lang: str, company: str, more_sheets: Sequence[Callable[[Book], object]] = ()
) -> Path:
    """The monthly workbook; ``more_sheets`` add theirs after the report's own (the 发送记录 sheet)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    month_text = L("report.month", year=result.month.year, month=result.month.month)
    whose = f" {L('report.owners_own', owner=result.owner)}" if result.owner is not None else ""
    book = Book(
        str(path),
        title=f"{company} {month_text} {L('report.title')}{whose}".strip(),
        company=company,
        password=result.classified.ledger.password,
    )
    formats = _formats(book, lang)
    _overview(book, result, formats, lang)
    _key_customers(book, result, formats, lang)
    _risks(book, result, lang)
    _visits(book, result, lang)
    _complaints(book, result, lang)
    _serious_complaints(book, result, lang)
    _complaint_rates(book, result, formats, lang)
    _quality(book, result, lang)
    for add_sheet in more_sheets:
        add_sheet(book)
    book.close()
    return path


def _kpi_rows(result: ReportResult, lang: str) -> list[tuple[str, str, Any, Any, str]]:
    """(label, kind, this month, last month, note) in display order."""
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    this, before = result.kpis(), result.previous
    previous_values = {
        "new_customers": before.new_customers,
        "lost_customers": before.lost_customers,
        "volume": before.volume,
        "new_business": before.new_business,
        "visits_planned": before.visits_planned,
        "visits_done": before.visits_done,
        "visit_rate": before.visit_rate,
        "complaints": before.complaints,
        "complaints_on_time": before.complaints_on_time,
        "on_time_rate": before.on_time_rate,
        "complaints_resolved": before.complaints_resolved,
        "resolved_rate": before.resolved_rate,
        "complaints_kept": before.complaints_kept,
        "kept_rate": before.kept_rate,
    }
    old_classes = result.previous_classes[1] if result.previous_classes else None
    if result.previous_classes:
        previous_values["customers"] = sum(result.previous_classes[1].values())
        previous_values["satisfaction"] = result.previous_classes[2]
    rows = []
    sep = "；" if lang == "zh" else "; "
    for key, kind in KPI_ROWS:
        notes = [L(f"missing.{m}") for m in _MISSING_FOR.get(key, []) if m in result.missing]
        now, before = this.get(key), previous_values.get(key)
        if (now is None or before is None) and not notes and key in _NO_PREVIOUS:
            why = _NO_PREVIOUS[key]
            if result.owner is not None and why == "missing.classes_previous":
                why = "missing.owner_classes_previous"
            notes.append(L(why))  # never a 无数据 without its reason
        rows.append((L(f"kpi.{key}"), kind, now, before, sep.join(notes), _BETTER.get(key, 0)))
        if key == "customers":
            for klass, n in result.class_counts.items():
                rows.append(
                    (
                        L("kpi.class", klass=klass),
                        "count",
                        n,
                        old_classes.get(klass, 0) if old_classes else None,
                        ""
                        if old_classes
                        else L("missing.owner_classes_previous" if result.owner else "missing.classes_previous"),
                        0,
                    )
                )
    return rows


def _overview(book: Book, result: ReportResult, formats: dict[str, Any], lang: str) -> None:
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    sheet = book.add_sheet(L("sheet.report_overview"))
    book.write_title(sheet, 0, book.title)
    sheet.write_string(1, 0, f"{L('summary.ledger')}: {result.classified.ledger.path}", book.formats["text"])
    headers = [L(k) for k in ("col.kpi", "col.this_month", "col.last_month", "col.change", "col.detail")]
    row = 3
    for c, text in enumerate(headers):
        sheet.write_string(row, c, text, book.formats["header"])
    names = [headers[0]]
    for name, kind, now, before, note, better in _kpi_rows(result, lang):
        row += 1
        names.append(name)
        sheet.write_string(row, 0, name, formats["text"])
        for c, value in ((1, now), (2, before)):
            _kpi_cell(sheet, row, c, kind, value, formats, lang)
        _change_cell(sheet, row, 3, kind, now, before, better, formats)
        sheet.write_string(row, 4, note, formats["text"])
    # the last 12 months of business, for the chart
    row += 2
    sheet.write_string(row, 0, L("report.volume_12"), book.formats["bold"])
    row += 1
    sheet.write_string(row, 0, L("col.month"), book.formats["header"])
    sheet.write_string(row, 1, L("kpi.volume"), book.formats["header"])
    first = row + 1
    for month, volume in result.volumes:
        row += 1
        sheet.write_string(row, 0, f"{month:%Y-%m}", formats["text"])
        if volume is None:
            sheet.write_string(row, 1, L("report.no_data"), formats["missing"])
        else:
            sheet.write_number(row, 1, volume / 1e4, formats["amount"])
    name = book.names[-1]
    chart = book.workbook.add_chart({"type": "column"})
    chart.add_series(
        {"name": L("kpi.volume"), "categories": [name, first, 0, row, 0], "values": [name, first, 1, row, 1]}
    )
    chart.set_title({"name": L("report.volume_12")})
    chart.set_legend({"none": True})
    chart.set_y_axis({"min": 0})  # from zero: a 2 % change looks like one
    chart.set_size({"width": 520, "height": 260})
    sheet.insert_chart(3, 6, chart)
    classes = result.class_counts
    if classes:
        row += 2
        sheet.write_string(row, 0, L("summary.by_class"), book.formats["bold"])
        start = row + 1
        for klass, n in classes.items():
            row += 1
            sheet.write_string(row, 0, klass, formats["text"])
            sheet.write_number(row, 1, n, formats["count"])
        pie = book.workbook.add_chart({"type": "pie"})
        pie.add_series(
            {
                "name": L("summary.by_class"),
                "categories": [name, start, 0, row, 0],
                "values": [name, start, 1, row, 1],
                "data_labels": {"percentage": True, "category": True},
            }
        )
        pie.set_title({"name": L("summary.by_class")})
        pie.set_size({"width": 360, "height": 260})
        sheet.insert_chart(17, 6, pie)
    if result.by_owner:
        bar = book.workbook.add_chart({"type": "bar"})
        visits_sheet = L("sheet.report_visits")
        count = len(result.by_owner)
        for col, series in ((1, L("col.planned")), (2, L("col.done"))):
            bar.add_series(
                {
                    "name": series,
                    "categories": [visits_sheet, 1, 0, count, 0],
                    "values": [visits_sheet, 1, col, count, col],
                }
            )
        bar.set_title({"name": L("report.visits_by_owner")})
        bar.set_size({"width": 520, "height": 260})
        sheet.insert_chart(31, 6, bar)
    sheet.set_column(0, 0, max(26, max(map(display_width, names)) + 2))  # every KPI's name whole
    sheet.set_column(1, 3, max(12, display_width(L("kpi.volume")) + 2))
    sheet.set_column(4, 4, 44)
    sheet.freeze_panes(4, 0)
    book.print_setup(sheet, repeat_row=3, landscape=True)


def _key_customers(book: Book, result: ReportResult, formats: dict[str, Any], lang: str) -> None:
    """附件一 of policy 002, per strategic and key customer: business this month with its swing
    against last month and the same month a year before, new business, quality / delivery /
    service problems, what may affect the cooperation, visits by who made them, and a column
    for the owner's measures. A customer with no business rows in a month that has them did
    no business (0), never a blank; a month the sheet holds no rows for is 无数据."""
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    sheet = book.add_sheet(L("sheet.report_key"))
    table = result.classified.ledger.customer_sheet
    strategic = table.column("strategic")
    this = result.this
    has_month = this.volume is not None
    has_new = has_month and this.new_business is not None
    no_complaints = "complaints_sheet" in result.missing
    complaint_sheet = result.classified.ledger.tables.get(COMPLAINTS)
    has_severity = complaint_sheet is not None and complaint_sheet.has("severity")
    no_visits = "visits_sheet" in result.missing
    yes = L("report.yes")
    categories = ["质量", "交付", "服务"]

    def amount(value: float | None, known: bool) -> float | None:
        return _value("amount", value if value is not None else 0.0) if known else None

    def rows() -> Iterator[list[Any]]:  # one at a time, into the sheet (66k rows at 300k customers)
        for i, customer in enumerate(result.classified.customers):
            if not result.shows(i):
                continue
            is_strategic = bool(strategic[i]) or customer.klass in ("战略", "战略合作伙伴")
            if not (is_strategic or customer.klass in ("A", "重点", "重点客户")):
                continue
            cm = result.per_customer.get(i) or CustomerMonth()
            volume = amount(cm.volume, has_month)
            previous = amount(cm.previous, has_month and this.has_previous)
            last_year = amount(cm.last_year, has_month and this.has_last_year)
            problems = cm.problems
            yield [
                customer.customer_id,
                customer.name,
                customer.owner,
                customer.klass,
                yes if is_strategic else "",
                volume,
                previous,
                _swing(volume, previous),
                last_year,
                _swing(volume, last_year),
                amount(cm.year_to_date, has_month),
                amount(cm.new_business, has_new),
                *[None if no_complaints else problems.get(c, 0) for c in categories],
                None if no_complaints or not has_severity else cm.serious,
                None if no_complaints else cm.complaints - (cm.serious if has_severity else 0),
                None if no_visits else cm.senior_visits,
                None if no_visits else cm.visits - cm.senior_visits,
                sentences((t.reason for t in customer.tags), lang),
                "",  # 措施 / 跟进: the owner's to fill in
            ]

    headers = [
        L(k)
        for k in (
            "col.customer_id",
            "col.customer",
            "col.owner",
            "col.class",
            "col.strategic",
            "col.volume",
            "col.volume_last",
            "col.change",
            "col.volume_last_year",
            "col.change_year",
            "col.ytd",
            "col.new_business",
            "col.quality",
            "col.delivery",
            "col.service",
            "col.serious",
            "col.other_complaints" if has_severity else "col.complaints",
            "col.senior_visits",
            "col.owner_visits",
            "col.risks",
            "col.measures",
        )
    ]
    count = book.table(
        sheet,
        headers,
        rows(),
        max_widths=[12, 30, 10, 8, 6, 12, 12, 10, 12, 10, 12, 12, 8, 8, 8, 8, 8, 8, 8, 50, 30],
        column_formats={5: "amount", 6: "amount", 7: "change", 8: "amount", 9: "change", 10: "amount", 11: "amount"},
        wrap_columns=(19, 20),
    )
    # under the table, why a column is empty: never a blank that looks like a bug
    why = []
    if count and has_month and not this.has_previous:
        why.append(L("report.no_previous_rows", month=f"{add_months(result.month, -1):%Y-%m}"))
    if count and has_month and not this.has_last_year:
        why.append(L("report.no_last_year_rows", month=f"{add_months(result.month, -12):%Y-%m}"))
    if count and not has_severity and not no_complaints:
        why.append(L("report.no_severity"))
    for n, text in enumerate(why):
        sheet.write_string(count + 2 + n, 0, text, book.formats["text"])
    if count and has_severity:
        serious = {"type": "cell", "criteria": ">", "value": 0, "format": book.formats["error"]}
        sheet.conditional_format(1, 15, count, 15, serious)
    for col in (7, 9):  # a fall against last month or last year stands out
        if count:
            falling = {"type": "cell", "criteria": "<", "value": 0, "format": book.formats["error"]}
            sheet.conditional_format(1, col, count, col, falling)


def _risks(book: Book, result: ReportResult, lang: str) -> None:
    write_risk_sheet(book, label("sheet.report_risks", lang), result.customers, lang)


def _visits(book: Book, result: ReportResult, lang: str) -> None:
    L = lambda key: label(key, lang)  # noqa: E731
    sheet = book.add_sheet(L("sheet.report_visits"))
    rows = (
        [owner or L("owner.none"), v.planned, v.done, (v.done / v.planned) if v.planned else None, v.recorded]
        for owner, v in sorted(result.by_owner.items())
    )
    headers = [L(k) for k in ("col.owner", "col.planned", "col.done", "col.rate", "col.recorded")]
    book.table(sheet, headers, rows, max_width=16, column_formats={3: "percent"})


_COMPLAINT_COLUMNS = (
    "col.complaint",
    "col.customer",
    "col.category",
    "col.complaint_severity",
    "col.received",
    "col.replied",
    "col.hours",
    "col.on_time",
    "col.stage",
    "col.promised_by",
    "col.kept",
    "col.resolved",
    "col.handler",
    "col.opinion",
)
_COMPLAINT_WIDTHS = [10, 30, 8, 8, 16, 16, 8, 10, 8, 16, 10, 8, 10, 30]


def _complaint_row(state: Any, result: ReportResult, names: list[Any], typed_names: list[Any], lang: str) -> list:
    """One complaint as the 投诉 and 严重投诉 sheets show it."""
    L = lambda key: label(key, lang)  # noqa: E731
    hours = state.reply_hours
    wrong = hours is not None and hours < 0  # a reply dated before the complaint: a data error
    if state.customer is not None:
        customer = names[state.customer]
    else:  # what the row says, and that the ledger does not have it
        customer = f"{typed_names[state.position] or ''}{L('report.unknown_customer')}".strip()
    due = state.due_by(result.promise_hours)
    if state.kept_promise(result.promise_hours):
        kept = L("yes")
    elif state.resolved and state.done_on is None:
        kept = L("report.no_done_date")
    elif due is not None and (state.resolved or result.made >= due):
        kept = L("no")
    else:
        kept = L("report.not_due") if due is not None else None
    return [
        state.complaint_id or None,
        customer,
        state.category or None,
        L("report.serious") if state.serious else None,
        state.received,
        state.replied,
        round(hours, 2) if hours is not None and not wrong else None,
        L("report.bad_dates") if wrong else L("yes") if state.replied_within(result.reply_hours) else L("no"),
        L(f"stage.{state.stage}"),
        due,
        kept,
        L("yes") if state.resolved else L("no"),
        state.handler or None,
        state.feedback or None,
    ]


def _complaint_table(book: Book, sheet, result: ReportResult, states: list[Any], lang: str) -> int:
    L = lambda key: label(key, lang)  # noqa: E731
    ledger = result.classified.ledger
    names, typed_names = ledger.customer_sheet.column("name"), ledger.tables[COMPLAINTS].column("customer")
    rows = (_complaint_row(s, result, names, typed_names, lang) for s in states)
    count = book.table(sheet, [L(k) for k in _COMPLAINT_COLUMNS], rows, max_widths=_COMPLAINT_WIDTHS)
    if count:
        for col in (_COMPLAINT_COLUMNS.index("col.on_time"), _COMPLAINT_COLUMNS.index("col.kept")):
            sheet.conditional_format(
                1,
                col,
                count,
                col,
                {"type": "cell", "criteria": "==", "value": f'"{L("no")}"', "format": book.formats["error"]},
            )
    return count


def _month_complaints(result: ReportResult) -> list[Any]:
    first, end = month_bounds(result.month)
    return [s for s in result.complaints if s.received is not None and first <= s.received.date() < end]


def _complaints(book: Book, result: ReportResult, lang: str) -> None:
    L = lambda key: label(key, lang)  # noqa: E731
    sheet = book.add_sheet(L("sheet.report_complaints"))
    if "complaints_sheet" in result.missing:  # say so here too, not just on 概览
        sheet.write_string(0, 0, L("missing.complaints_sheet"), book.formats["bold"])
        sheet.set_column(0, 0, 40)
        return
    _complaint_table(book, sheet, result, _month_complaints(result), lang)


def _serious_complaints(book: Book, result: ReportResult, lang: str) -> None:
    """002 lists 严重抱怨 on their own: the month's serious complaints and the serious ones
    still open from before."""
    if "complaints_sheet" in result.missing:
        return
    L = lambda key: label(key, lang)  # noqa: E731
    sheet = book.add_sheet(L("sheet.report_serious"))
    if not result.classified.ledger.tables[COMPLAINTS].has("severity"):
        sheet.write_string(0, 0, L("report.no_severity"), book.formats["bold"])
        sheet.set_column(0, 0, 90)
        return
    first, end = month_bounds(result.month)
    states = [
        s
        for s in result.complaints
        if s.serious
        and s.received is not None
        and s.received.date() < end
        and (s.received.date() >= first or not s.resolved)
    ]
    if not _complaint_table(book, sheet, result, states, lang):
        sheet.write_string(1, 0, L("report.no_serious"), book.formats["text"])


def _complaint_rates(book: Book, result: ReportResult, formats: dict[str, Any], lang: str) -> None:
    """004's appraisal figures: timeliness, the promised times kept and the resolution rate,
    per month (twelve), per handler and per owner (the report's month)."""
    rates = result.complaint_rates
    if rates is None:
        return
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    sheet = book.add_sheet(L("sheet.report_complaint_rates"))
    book.write_title(sheet, 0, L("report.complaint_rates_title"))
    note = L("report.promise_note", hours=f"{result.promise_hours:g}", reply=f"{result.reply_hours:g}")
    headers = [
        L(k)
        for k in (
            "col.complaints",
            "kpi.complaints_on_time",
            "kpi.on_time_rate",
            "kpi.complaints_resolved",
            "kpi.resolved_rate",
            "kpi.complaints_kept",
            "kpi.kept_rate",
            "col.serious",
        )
    ]
    month_text = f"{result.month:%Y-%m}"
    row = 3
    sections = (
        (L("col.month"), [(f"{m:%Y-%m}", c) for m, c in rates.by_month]),
        (L("col.handler"), [(k or L("owner.none"), c) for k, c in rates.by_handler.items()]),
        (L("col.owner"), [(k or L("owner.none"), c) for k, c in rates.by_owner.items()]),
    )
    for n, (name, entries) in enumerate(sections):
        if n:
            sheet.write_string(row, 0, L("report.rates_of_month", month=month_text, by=name), book.formats["bold"])
            row += 1
        for c, text in enumerate([name, *headers]):
            sheet.write_string(row, c, text, book.formats["header"])
        if not entries:
            row += 1
            sheet.write_string(row, 0, L("report.no_complaints"), formats["text"])
        for key, counts in entries:
            row += 1
            sheet.write_string(row, 0, key, formats["text"])
            values = (
                ("count", counts.complaints),
                ("count", counts.on_time),
                ("rate", counts.on_time_rate),
                ("count", counts.resolved),
                ("rate", counts.resolved_rate),
                ("count", counts.kept),
                ("rate", counts.kept_rate),
                ("count", counts.serious),
            )
            for c, (kind, value) in enumerate(values, start=1):
                if value is None:  # a rate of no complaints
                    sheet.write_string(row, c, "—", formats["text"])
                else:
                    sheet.write_number(row, c, value, formats[kind])
        row += 2
    widths = [16] + [max(10, display_width(h) + 2) for h in headers]  # a header on one line
    for c, width in enumerate(widths):
        sheet.set_column(c, c, width)
    book.write_note(sheet, 1, len(headers), note, sum(widths))
    sheet.freeze_panes(3, 1)
    book.print_setup(sheet, repeat_row=3, landscape=True)


def _quality(book: Book, result: ReportResult, lang: str) -> None:
    L = lambda key: label(key, lang)  # noqa: E731
    sheet = book.add_sheet(L("sheet.report_quality"))
    counts: dict[str, list[int]] = {}
    for finding in result.findings:
        entry = counts.setdefault(finding.owner or L("owner.none"), [0, 0])
        entry[0 if finding.severity == "error" else 1] += 1
    rows = ([owner, e, w, e + w] for owner, (e, w) in sorted(counts.items(), key=lambda x: -sum(x[1])))
    headers = [L("col.owner"), L("summary.errors"), L("summary.warnings"), L("col.total")]
    book.table(sheet, headers, rows, max_width=16)


def write_group(path: Path, result: GroupResult, *, lang: str, company: str, password: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    month_text = L("report.month", year=result.month.year, month=result.month.month)
    book = Book(
        str(path),
        title=f"{company} {month_text} {L('report.group_title')}".strip(),
        company=company,
        password=password,
    )
    formats = _formats(book, lang)
    sheet = book.add_sheet(L("sheet.group_overview"))
    book.write_title(sheet, 0, book.title)
    names = [r.subsidiary for r in result.reports]
    headers = [L("col.kpi"), *names, L("col.total"), L("col.detail")]
    gaps = result.incomplete()
    for c, text in enumerate(headers):
        sheet.write_string(2, c, text, book.formats["header"])
    totals = result.totals()
    keys = [(k, kind) for k, kind in KPI_ROWS]
    classes = sorted({k for r in result.reports for k in r.kpis() if k.startswith("class:")})
    keys[1:1] = [(k, "count") for k in classes]
    for n, (key, kind) in enumerate(keys, start=3):
        name = L("kpi.class", klass=key[6:]) if key.startswith("class:") else L(f"kpi.{key}")
        sheet.write_string(n, 0, name, formats["text"])
        for c, value in enumerate([r.kpis().get(key) for r in result.reports] + [totals.get(key)], start=1):
            _kpi_cell(sheet, n, c, kind, value, formats, lang)
        if key in gaps and totals.get(key) is not None:
            sheet.write_string(
                n, len(names) + 2, L("report.partial_total", names=joined(gaps[key], lang)), formats["text"]
            )
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, len(names) + 1, 14)
    sheet.set_column(len(names) + 2, len(names) + 2, 40)
    sheet.freeze_panes(3, 1)
    book.print_setup(sheet, repeat_row=2, landscape=True)
    for r in result.reports:
        sub = book.add_sheet(r.subsidiary)
        book.write_title(sub, 0, f"{r.subsidiary}  {month_text}")
        for c, text in enumerate([L(k) for k in ("col.kpi", "col.this_month", "col.last_month", "col.detail")]):
            sub.write_string(2, c, text, book.formats["header"])
        for n, (name, kind, now, before, note, _) in enumerate(_kpi_rows(r, lang), start=3):
            sub.write_string(n, 0, name, formats["text"])
            for c, value in ((1, now), (2, before)):
                _kpi_cell(sub, n, c, kind, value, formats, lang)
            sub.write_string(n, 3, note, formats["text"])
        sub.set_column(0, 0, 26)
        sub.set_column(1, 2, 12)
        sub.set_column(3, 3, 44)
        book.print_setup(sub, repeat_row=2, landscape=True)
    failed = book.add_sheet(L("sheet.group_failed"))
    book.table(failed, [L("col.file"), L("col.reason")], ([f, why] for f, why in result.failures), max_width=90)
    book.close()
    return path


__all__ = ["write_group", "write_report"]

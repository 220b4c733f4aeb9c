"""The classification workbook: summary with a chart, every customer with class and reasons,
the risks by severity, and what changed since the last run."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..facts.risks import LEVEL_ORDER
from ..i18n import joined, label
from ..sheets import colour_levels, write_risk_sheet
from ..xlsx import Book, display_width

if TYPE_CHECKING:
    from . import ClassificationResult


def write_report(path: Path, result: ClassificationResult, *, today: date, lang: str, company: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Book(
        str(path),
        title=f"{company} {label('classify.title', lang)}".strip(),
        company=company,
        password=result.ledger.password,
    )
    _summary(book, result, today, lang)
    _customers(book, result, lang)
    _risks(book, result, lang)
    _changes(book, result, lang)
    book.close()
    return path


def _summary(book: Book, result: ClassificationResult, today: date, lang: str) -> None:
    L = lambda key: label(key, lang)  # noqa: E731
    sheet = book.add_sheet(L("sheet.summary"))
    book.write_title(sheet, 0, book.title)
    customers = result.customers
    overrides = sum(1 for c in customers if c.override)
    facts = [
        (L("summary.ledger"), result.ledger.path),
        (L("summary.policy"), result.policy),
        (L("summary.today"), today),
        (L("summary.generated"), datetime.now().replace(microsecond=0)),
        (L("summary.customers"), len(customers)),
        (L("summary.classified"), sum(1 for c in customers if c.klass)),
        (L("summary.unclassified"), sum(1 for c in customers if not c.klass)),
        (L("summary.overrides"), overrides),
        (L("summary.previous"), result.previous.recorded if result.previous else L("summary.first_run")),
    ]
    row = 2
    for name, value in facts:
        sheet.write_string(row, 0, name, book.formats["bold"])
        book.write_cell(sheet, row, 1, value)
        row += 1
    # counts by class, with a chart over them
    row += 1
    sheet.write_string(row, 0, L("summary.by_class"), book.formats["bold"])
    row += 1
    first = row + 1
    for c, text in enumerate((L("col.class"), L("col.count"), L("col.share"))):
        sheet.write_string(row, c, text, book.formats["header"])
    counts = result.counts
    total = max(len(customers), 1)
    for klass, n in counts.items():
        row += 1
        book.write_cell(sheet, row, 0, klass)
        book.write_cell(sheet, row, 1, n)
        sheet.write_number(row, 2, n / total, book.formats["percent"])
    if counts:
        chart = book.workbook.add_chart({"type": "column"})
        name = book.names[-1]
        chart.add_series(
            {
                "name": L("summary.by_class"),
                "categories": [name, first, 0, row, 0],
                "values": [name, first, 1, row, 1],
                "data_labels": {"value": True},
            }
        )
        chart.set_title({"name": L("summary.by_class")})
        chart.set_legend({"none": True})
        chart.set_size({"width": 480, "height": 288})
        sheet.insert_chart(2, 4, chart)
    # owner × class
    row += 2
    sheet.write_string(row, 0, L("summary.owner_class"), book.formats["bold"])
    row += 1
    classes = list(counts)
    header = [L("col.owner"), *classes, L("col.total")]
    for c, text in enumerate(header):
        sheet.write_string(row, c, text, book.formats["header"])
    by_owner: dict[str, Counter[str]] = {}
    for customer in customers:
        by_owner.setdefault(customer.owner or L("owner.none"), Counter())[customer.klass or ""] += 1
    for owner in sorted(by_owner, key=lambda o: -sum(by_owner[o].values())):
        row += 1
        book.write_cell(sheet, row, 0, owner)
        for c, klass in enumerate(classes, start=1):
            book.write_cell(sheet, row, c, by_owner[owner].get(klass, 0))
        book.write_cell(sheet, row, len(classes) + 1, sum(by_owner[owner].values()))
    # risk tags by level
    row += 2
    sheet.write_string(row, 0, L("summary.risk_levels"), book.formats["bold"])
    levels = Counter(t.level for c in customers for t in c.tags)
    for level in sorted(levels, key=LEVEL_ORDER.__getitem__):
        row += 1
        book.write_cell(sheet, row, 0, L(f"level.{level}"))
        book.write_cell(sheet, row, 1, levels[level])
    sheet.set_column(0, 0, max(22, *(display_width(name) + 2 for name, _ in facts)))  # the labels whole, en too
    sheet.set_column(1, 1, 40)
    sheet.set_column(2, 3 + len(classes), 10)
    book.print_setup(sheet, repeat_row=None, landscape=True)


def _customers(book: Book, result: ClassificationResult, lang: str) -> None:
    L = lambda key: label(key, lang)  # noqa: E731
    sheet = book.add_sheet(L("sheet.classes"))
    headers = [
        L(k)
        for k in (
            "col.customer_id",
            "col.customer",
            "col.owner",
            "col.class",
            "col.computed",
            "col.override",
            "col.reason",
            "col.risk_level",
            "col.risks",
            "col.row",
        )
    ]
    yes, no = L("yes"), L("no")
    levels = {level: L(f"level.{level}") for level in LEVEL_ORDER}
    rows = (
        [
            c.customer_id,
            c.name,
            c.owner,
            c.klass,
            c.computed,
            yes if c.override else no,
            c.reason,
            levels[c.level] if c.tags else "",
            joined((t.title for t in c.tags), lang) if c.tags else "",  # the reasons: on 风险
            c.row,
        ]
        for c in result.customers
    )
    count = book.table(sheet, headers, rows, max_widths=[12, 30, 10, 8, 8, 8, 60, 8, 30, 8])
    colour_levels(book, sheet, count, 7, lang)
    if count:
        sheet.conditional_format(
            1, 5, count, 5, {"type": "cell", "criteria": "==", "value": f'"{yes}"', "format": book.formats["warning"]}
        )


def _risks(book: Book, result: ClassificationResult, lang: str) -> None:
    write_risk_sheet(book, label("sheet.risks", lang), result.customers, lang)


def _changes(book: Book, result: ClassificationResult, lang: str) -> None:
    L = lambda key: label(key, lang)  # noqa: E731
    sheet = book.add_sheet(L("sheet.changes"))
    if result.previous is None:
        sheet.write_string(0, 0, L("summary.first_run"), book.formats["bold"])
        sheet.set_column(0, 0, 40)
        book.print_setup(sheet, repeat_row=None)  # printed like every other sheet, header and footer
        return
    headers = [L(k) for k in ("col.change", "col.customer", "col.owner", "col.before", "col.after", "col.detail")]
    sep = label("reason.sep", lang)

    def shown(change, value: str) -> str:  # a risk code → its title, as the reason starts with it
        return change.detail.split(sep, 1)[0] if value and change.kind in ("new_risk", "risk_cleared") else value

    rows = (
        [L(f"change.{c.kind}"), c.name, c.owner, shown(c, c.before), shown(c, c.after), c.detail]
        for c in result.changes
    )
    book.table(sheet, headers, rows, max_widths=[10, 30, 10, 22, 22, 70])

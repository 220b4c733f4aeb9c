"""The validation workbook: summary, the issues a person works through, one sheet per owner."""

from __future__ import annotations

import os
from collections import Counter
from datetime import date, datetime
from pathlib import Path

from ..findings import CODES
from ..i18n import joined, label
from ..model import FIELDS_BY_TABLE, TABLE_LABELS, Finding, Ledger, field_label
from ..xlsx import Book, Link, display_width


def write_report(
    path: Path, ledger: Ledger, findings: list[Finding], *, today: date, lang: str, company: str = ""
) -> Path:
    """Write the validation workbook to ``path`` and return it: each finding once, on 问题清单
    (filtered by 负责人 for one person's). ``findings`` may be one owner's (``--split``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    L = lambda key: label(key, lang)  # noqa: E731
    book = Book(str(path), title=f"{company} {L('validate.title')}".strip(), company=company, password=ledger.password)
    link_base = _link_target(path, Path(ledger.path))
    _summary(book, ledger, findings, today, lang)
    _issues(book, book.add_sheet(L("sheet.issues")), findings, lang, link_base, _as_typed(ledger))
    _tables(book, ledger, lang)
    book.close()
    return path


def _link_target(report: Path, ledger: Path) -> str | None:
    if ledger.suffix.lower() == ".csv":
        return None
    try:
        return os.path.relpath(ledger.resolve(), report.parent.resolve())
    except ValueError:  # another drive on Windows
        return str(ledger.resolve())


def _summary(book: Book, ledger: Ledger, findings: list[Finding], today: date, lang: str) -> None:
    L = lambda key: label(key, lang)  # noqa: E731
    sheet = book.add_sheet(L("sheet.summary"))
    book.write_title(sheet, 0, book.title)
    severities = Counter(f.severity for f in findings)
    facts = [
        (L("summary.ledger"), ledger.path),
        (L("summary.generated"), datetime.now().replace(microsecond=0)),
        (L("summary.today"), today),
        (L("summary.customers"), len(ledger.customer_sheet)),
        (L("summary.errors"), severities.get("error", 0)),
        (L("summary.warnings"), severities.get("warning", 0)),
    ]
    for n, (name, value) in enumerate(facts, start=2):
        sheet.write_string(n, 0, name, book.formats["bold"])
        book.write_cell(sheet, n, 1, value)
    sheet.write_string(len(facts) + 2, 0, L("summary.how"), book.formats["text"])
    row = len(facts) + 4
    sheet.write_string(row, 0, L("summary.by_rule"), book.formats["bold"])
    rule_counts = Counter((f.code, f.severity) for f in findings)
    # 规则 | 级别 | 数量 | 代码: the counts in the narrow columns, where the owners' counts go below
    rule_rows = [
        (CODES[code].title(lang), L(f"severity.{sev}"), n, code)
        for (code, sev), n in sorted(rule_counts.items(), key=lambda x: (x[0][1], -x[1]))
    ]
    if not rule_rows:
        sheet.write_string(row + 1, 0, L("summary.none"))
    for r, values in enumerate([(L("col.rule"), L("col.severity"), L("col.count"), L("col.code")), *rule_rows]):
        for c, value in enumerate(values):
            book.write_cell(sheet, row + 1 + r, c, value, "header" if r == 0 else None)
    row += len(rule_rows) + 3
    sheet.write_string(row, 0, L("summary.by_owner"), book.formats["bold"])
    owner_counts: dict[str, Counter[str]] = {}
    for (owner, sev), n in Counter((f.owner, f.severity) for f in findings).items():
        owner_counts.setdefault(owner or L("owner.none"), Counter())[sev] += n
    owner_rows = [
        (o, c["error"], c["warning"], c["error"] + c["warning"])
        for o, c in sorted(owner_counts.items(), key=lambda x: -sum(x[1].values()))
    ]
    header = (L("col.owner"), L("summary.errors"), L("summary.warnings"), L("col.total"))
    for r, cells in enumerate([header, *owner_rows]):
        for c, value in enumerate(cells):
            book.write_cell(sheet, row + 1 + r, c, value, "header" if r == 0 else None)
    names = [x[0] for x in rule_rows + owner_rows] + [name for name, _ in facts]
    widths = [
        max([14, *(display_width(str(x)) + 2 for x in names)]),
        max([12, display_width(L("summary.warnings")) + 2, display_width(L("col.severity")) + 2]),
        max([10, display_width(L("summary.warnings")) + 2]),
        max([12, *(len(x[3]) + 2 for x in rule_rows), display_width(L("col.total")) + 2]),
    ]
    for c, width in enumerate(widths):
        sheet.set_column(c, c, min(width, 40))
    book.print_setup(sheet, repeat_row=None, landscape=False)


def _issues(
    book: Book, sheet, findings: list[Finding], lang: str, link_base: str | None, as_typed=lambda f: f.value
) -> None:
    L = lambda key: label(key, lang)  # noqa: E731
    headers = [
        L(k)
        for k in (
            "col.severity",
            "col.sheet",
            "col.cell",
            "col.field",
            "col.value",
            "col.message",
            "col.hint",
            "col.owner",
            "col.group",
            "col.code",
        )
    ]
    severity = {sev: L(f"severity.{sev}") for sev in ("error", "warning")}

    def row(f: Finding) -> list:
        cell = f.cell
        where = Link(cell, link_base, _location(f.sheet, cell)) if link_base and f.row and cell else cell
        return [severity[f.severity], f.sheet, where, f.label or f.field, _value(as_typed(f)), f.message, f.hint,
                f.owner, f.group, f.code]  # fmt: skip

    rows = map(row, findings)
    count = book.table(sheet, headers, rows, max_widths=[8, 12, 8, 14, 24, 44, 40, 10, 22, 20], wrap_columns=(5, 6))
    if count:
        for sev, fmt in (("error", "error"), ("warning", "warning")):
            sheet.conditional_format(
                1,
                0,
                count,
                0,
                {"type": "cell", "criteria": "==", "value": f'"{L("severity." + sev)}"', "format": book.formats[fmt]},
            )


def _location(sheet: str, cell: str) -> str:
    quoted = sheet.replace("'", "''")
    return f"'{quoted}'!{cell}"


def _as_typed(ledger: Ledger):
    """A finding's value as the ledger shows it: a share as 130%, not 130.00 (an amount is already
    in its column's unit: −35 in a 业务量(万元) column)."""
    by_sheet = {table.sheet: (kind, table) for kind, table in ledger.tables.items()}

    def shown(finding: Finding):
        value = finding.value
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return value
        kind, table = by_sheet.get(finding.sheet, (None, None))
        field = FIELDS_BY_TABLE.get(kind, {}).get(finding.field) if kind else None
        if field is None:
            return value
        if field.kind == "percent":
            return f"{value:g}%"
        return value

    return shown


def _value(value):
    if value is None or isinstance(value, (str, int, float, date)):
        return value
    return str(value)


def _tables(book: Book, ledger: Ledger, lang: str) -> None:
    L = lambda key: label(key, lang)  # noqa: E731
    sheet = book.add_sheet(L("sheet.tables"))
    headers = [L(k) for k in ("col.table", "col.sheet", "col.header_row", "col.rows", "col.columns", "col.unmapped")]
    rows = []
    for kind, table in ledger.tables.items():
        columns = joined(
            (f"{c.letter}={c.header}→{field_label(kind, k, lang)}" for k, c in table.columns.items()), lang
        )
        rows.append(
            [
                TABLE_LABELS[lang][kind],
                table.sheet,
                joined(table.header_rows, lang),
                len(table),
                columns,
                joined(table.unmapped_headers, lang),
            ]
        )
    book.table(sheet, headers, rows, max_width=80)

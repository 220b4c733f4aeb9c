"""Sheets that the workbooks of several jobs share: the list of risk tags, with its level colours."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from operator import attrgetter
from typing import Any

from .facts.risks import LEVEL_ORDER
from .i18n import label
from .xlsx import Book

_LEVEL_FORMAT = {"severe": "error", "warning": "warning", "info": None}


def write_risk_sheet(book: Book, name: str, customers: Iterable[Any], lang: str) -> None:
    """One row per risk tag, 严重 first: level, customer, owner, class, risk, reason, ledger row.
    Shared by the classification workbook and the monthly report."""
    L = lambda key: label(key, lang)  # noqa: E731
    sheet = book.add_sheet(name)
    keys = (
        "col.risk_level",
        "col.customer_id",
        "col.customer",
        "col.owner",
        "col.class",
        "col.risk",
        "col.detail",
        "col.row",
    )
    # 严重 first, then by owner and customer: the tagged customers sorted once (two stable sorts,
    # no key tuples), walked once per level, never a (tag, customer) pair per tag in memory
    tagged = [c for c in customers if c.tags]
    tagged.sort(key=attrgetter("name"))
    tagged.sort(key=attrgetter("owner"))

    def rows() -> Iterator[list[Any]]:
        for level in sorted(LEVEL_ORDER, key=LEVEL_ORDER.__getitem__):
            shown = L(f"level.{level}")
            for c in tagged:
                for t in c.tags:
                    if t.level == level:
                        yield [shown, c.customer_id, c.name, c.owner, c.klass, t.title, t.reason, c.row]

    count = book.table(sheet, [L(k) for k in keys], rows(), max_widths=[8, 12, 30, 10, 8, 20, 70, 8])
    colour_levels(book, sheet, count, 0, lang)


def colour_levels(book: Book, sheet, count: int, column: int, lang: str) -> None:
    if not count:
        return
    for level, fmt in _LEVEL_FORMAT.items():
        if fmt:
            sheet.conditional_format(
                1,
                column,
                count,
                column,
                {
                    "type": "cell",
                    "criteria": "==",
                    "value": f'"{label("level." + level, lang)}"',
                    "format": book.formats[fmt],
                },
            )

"""Shared conventions for the workbooks the toolkit writes (XlsxWriter).

Every generated sheet looks the same way in Excel, WPS and LibreOffice: a bold frozen
header row with a filter, column widths measured in display width (a Chinese character is
two), and a print setup (landscape, fit to one page wide, header row repeated, page numbers).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import xlsxwriter

FONT = "等线"
WIDTH_SAMPLE = (
    2000  # rows measured for column widths  # Excel's default CJK font; WPS and LibreOffice substitute a CJK font
)
_INVALID_SHEET_CHARS = str.maketrans({c: "_" for c in "[]:*?/\\"})


def display_width(value: Any) -> int:
    """How many columns a value takes on screen: East Asian wide characters count two."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    text = value if isinstance(value, str) else f"{value:,.2f}" if isinstance(value, float) else str(value)
    if text.isascii() and "\n" not in text:
        return len(text)
    longest = 0
    for line in text.splitlines() or [""]:
        longest = max(longest, sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line))
    return longest


def sheet_name(name: str, taken: Iterable[str] = ()) -> str:
    """A valid, unique sheet name (≤ 31 characters, none of []:*?/\\)."""
    base = (name.translate(_INVALID_SHEET_CHARS).strip("'") or "Sheet")[:31]
    taken_lower = {t.lower() for t in taken}
    candidate, n = base, 2
    while candidate.lower() in taken_lower:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    return candidate


class Book:
    """A thin wrapper that gives every sheet the house formats."""

    def __init__(self, path: str, *, title: str = "", company: str = "", constant_memory: bool = False) -> None:
        """``constant_memory`` streams rows to disk (for sheets of 100k rows): each sheet must then
        be written top to bottom, with no cell written after a later row."""
        options = {
            "strings_to_urls": False,
            "strings_to_formulas": False,
            "default_date_format": "yyyy-mm-dd",
            "constant_memory": constant_memory,
        }
        self.workbook = xlsxwriter.Workbook(path, options)
        self.workbook.set_properties({"title": title, "company": company, "author": "crm toolkit"})
        self.title = title
        base = {"font_name": FONT, "font_size": 10, "valign": "top"}
        self.formats = {
            "text": self.workbook.add_format({**base, "text_wrap": False}),
            "wrap": self.workbook.add_format({**base, "text_wrap": True}),
            "header": self.workbook.add_format(
                {**base, "bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
            ),
            "title": self.workbook.add_format({**base, "bold": True, "font_size": 14}),
            "date": self.workbook.add_format({**base, "num_format": "yyyy-mm-dd"}),
            "datetime": self.workbook.add_format({**base, "num_format": "yyyy-mm-dd hh:mm"}),
            "int": self.workbook.add_format({**base, "num_format": "#,##0"}),
            "number": self.workbook.add_format({**base, "num_format": "#,##0.00"}),
            "percent": self.workbook.add_format({**base, "num_format": "0.0%"}),
            "change": self.workbook.add_format({**base, "num_format": "+0.0%;[Red]-0.0%"}),
            "amount": self.workbook.add_format({**base, "num_format": "#,##0.0"}),
            "link": self.workbook.add_format({**base, "font_color": "#0563C1", "underline": 1}),
            "error": self.workbook.add_format({**base, "bg_color": "#F8CBAD"}),
            "warning": self.workbook.add_format({**base, "bg_color": "#FFF2CC"}),
            "bold": self.workbook.add_format({**base, "bold": True}),
        }
        self.names: list[str] = []

    def add_sheet(self, name: str):
        name = sheet_name(name, self.names)
        self.names.append(name)
        return self.workbook.add_worksheet(name)

    def write_cell(self, sheet, row: int, col: int, value: Any, fmt: str | None = None) -> None:
        formats = self.formats
        if value is None:
            sheet.write_blank(row, col, None, formats[fmt or "text"])
        elif isinstance(value, datetime):
            sheet.write_datetime(row, col, value, formats[fmt or "datetime"])
        elif isinstance(value, date):
            sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), formats[fmt or "date"])
        elif isinstance(value, bool):
            sheet.write_boolean(row, col, value, formats[fmt or "text"])
        elif isinstance(value, int):
            sheet.write_number(row, col, value, formats[fmt or "int"])
        elif isinstance(value, float):
            sheet.write_number(row, col, value, formats[fmt or "number"])
        else:
            sheet.write_string(row, col, str(value), formats[fmt or "text"])

    def table(
        self,
        sheet,
        headers: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        start_row: int = 0,
        row_formats: Sequence[str | None] | None = None,
        max_width: int = 60,
        max_widths: Sequence[int] | None = None,
        wrap_columns: Sequence[int] = (),
        column_formats: dict[int, str] | None = None,
        landscape: bool = True,
    ) -> int:
        """Write a header and rows with the house setup; return the number of data rows.

        Column widths are measured over the first ``WIDTH_SAMPLE`` rows, which is what a reader
        sees first; strings take a direct path (most cells of a big sheet are text)."""
        widths = [display_width(h) for h in headers]
        for col, header in enumerate(headers):
            sheet.write_string(start_row, col, header, self.formats["header"])
        count = 0
        text, wrap = self.formats["text"], self.formats["wrap"]
        write_string, write_number = sheet.write_string, sheet.write_number
        chosen = column_formats or {}
        float_formats = [self.formats[chosen.get(col) or "number"] for col in range(len(headers))]
        int_formats = [self.formats[chosen.get(col) or "int"] for col in range(len(headers))]
        for count, row in enumerate(rows, start=1):
            fmt = row_formats[count - 1] if row_formats else None
            r = start_row + count
            measure = count <= WIDTH_SAMPLE
            for col, value in enumerate(row):
                if fmt is None and value.__class__ is str:
                    if value:
                        write_string(r, col, value, wrap if col in wrap_columns else text)
                elif value is None and fmt is None:
                    continue  # an empty cell: nothing to write
                elif fmt is None and value.__class__ is float:
                    write_number(r, col, value, float_formats[col])
                elif fmt is None and value.__class__ is int:
                    write_number(r, col, value, int_formats[col])
                else:
                    self.write_cell(sheet, r, col, value, fmt or (column_formats or {}).get(col))
                if measure:
                    width = display_width(value)
                    if width > widths[col]:
                        widths[col] = width
        for col, width in enumerate(widths):
            cap = max_widths[col] if max_widths and col < len(max_widths) else max_width
            sheet.set_column(col, col, min(max(width + 2, 6), cap))
        sheet.freeze_panes(start_row + 1, 0)
        if headers:
            sheet.autofilter(start_row, 0, start_row + max(count, 1), len(headers) - 1)
        self.print_setup(sheet, repeat_row=start_row, landscape=landscape)
        return count

    def print_setup(self, sheet, *, repeat_row: int | None = 0, landscape: bool = True) -> None:
        if landscape:
            sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.fit_to_pages(1, 0)
        if repeat_row is not None:
            sheet.repeat_rows(repeat_row)
        header_text = self.title.replace("&", "&&")
        sheet.set_header(f'&L&"{FONT},Bold"{header_text}&R&D')
        sheet.set_footer("&C&P / &N")
        sheet.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)

    def close(self) -> None:
        self.workbook.close()

"""Shared conventions for the workbooks the toolkit writes (XlsxWriter, and streamed list sheets).

Every generated sheet looks the same way in Excel, WPS and LibreOffice: a bold frozen
header row with a filter, column widths measured in display width (a Chinese character is
two), and a print setup (landscape, fit to one page wide, header row repeated, page numbers).
"""

from __future__ import annotations

import io
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from itertools import chain, islice
from pathlib import Path
from typing import Any

import xlsxwriter

from .rows import LINE_HEIGHT, Link, RowWriter, StreamedRows, Styles, estimated_width, splice, text_lines

__all__ = [
    "LINE_HEIGHT",
    "Book",
    "Link",
    "display_width",
    "estimated_width",
    "file_part",
    "sheet_name",
    "text_lines",
]

FONT = "等线"  # Excel's default CJK font; WPS and LibreOffice substitute a CJK font
WIDTH_SAMPLE = 2000  # rows measured for column widths
TITLE_HEIGHT = 24  # points: a 14 pt title
_INVALID_SHEET_CHARS = str.maketrans({c: "_" for c in "[]:*?/\\"})
_INVALID_FILE_CHARS = str.maketrans({c: "_" for c in '\\/:*?"<>|'})


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


def encrypt(path: Path, password: str) -> None:
    """Encrypt the workbook at ``path`` in place with ``password`` (Excel's agile encryption,
    as msoffcrypto-tool writes it): written beside under a temporary name, then renamed."""
    import os

    from msoffcrypto.format.ooxml import OOXMLFile

    partial = path.with_name(f".{path.name}.locked")
    try:
        with path.open("rb") as plain, partial.open("wb") as out:
            OOXMLFile(plain).encrypt(password, out)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def file_part(name: str) -> str:
    """``name`` made safe as part of a file name on Windows too (an owner's --split workbook)."""
    return name.translate(_INVALID_FILE_CHARS)


class Book:
    """A workbook with the house formats. List sheets (``table``) are streamed as sheet XML
    (``rows.py``); everything else goes through XlsxWriter. Nothing is at ``path`` until
    ``close``, and then a whole workbook is."""

    def __init__(self, path: str, *, title: str = "", company: str = "", password: str | None = None) -> None:
        self.path = Path(path)
        self.password = password  # a workbook made from a protected ledger is protected alike
        self._package = io.BytesIO()
        options = {
            "strings_to_urls": False,
            "strings_to_formulas": False,
            "default_date_format": "yyyy-mm-dd",
            "in_memory": True,
        }
        self.workbook = xlsxwriter.Workbook(self._package, options)
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
            "signed": self.workbook.add_format({**base, "num_format": "+0.0;-0.0;0.0"}),  # an NPS: +8.2
            "change": self.workbook.add_format({**base, "num_format": "+0.0%;[Red]-0.0%"}),
            "amount": self.workbook.add_format({**base, "num_format": "#,##0.0"}),
            "link": self.workbook.add_format({**base, "font_color": "#0563C1", "underline": 1}),
            "error": self.workbook.add_format({**base, "bg_color": "#F8CBAD"}),
            "warning": self.workbook.add_format({**base, "bg_color": "#FFF2CC"}),
            "bold": self.workbook.add_format({**base, "bold": True}),
        }
        # the style index each format will have in styles.xml, fixed now so that streamed rows
        # can name it (XlsxWriter numbers a format on its first use and keeps that number)
        self._xf = {name: fmt._get_xf_index() for name, fmt in self.formats.items()}
        self._streamed: dict[int, StreamedRows] = {}
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self.names: list[str] = []

    def add_sheet(self, name: str):
        """A new sheet, already with the house print setup (a table or the caller may change it)."""
        name = sheet_name(name, self.names)
        self.names.append(name)
        sheet = self.workbook.add_worksheet(name)
        self.print_setup(sheet, repeat_row=None)
        return sheet

    def write_title(self, sheet, row: int, text: str, col: int = 0) -> None:
        """A sheet's 14 pt title, in a row tall enough for it (left as it is, a 15 pt row would
        let the title run into the row under it)."""
        sheet.set_row(row, TITLE_HEIGHT)
        sheet.write_string(row, col, text, self.formats["title"])

    def write_note(self, sheet, row: int, last_col: int, text: str, width: float) -> None:
        """A note merged over columns A to ``last_col`` (together ``width`` wide), wrapped, in a
        row as tall as its lines."""
        sheet.merge_range(row, 0, row, last_col, text, self.formats["wrap"])
        sheet.set_row(row, text_lines(text, width) * LINE_HEIGHT)

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

        The rows are streamed (one sheet holds at most one table; XlsxWriter may write cells
        above it). A cell is a str, int, float, bool, date, datetime, ``Link`` or None; numbers
        take ``column_formats`` (a format name by column), a row of ``row_formats`` one format
        for all its cells. Column widths are measured over the first ``WIDTH_SAMPLE`` rows,
        which is what a reader sees first."""
        width = len(headers)
        xf, chosen = self._xf, column_formats or {}
        styles = Styles(
            text=xf["text"],
            wrap=xf["wrap"],
            header=xf["header"],
            date=xf["date"],
            datetime=xf["datetime"],
            link=xf["link"],
            integer=[xf[chosen.get(col) or "int"] for col in range(width)],
            number=[xf[chosen.get(col) or "number"] for col in range(width)],
        )
        number = sheet.index + 1  # XlsxWriter's xl/worksheets/sheet<number>.xml (no chartsheets here)
        if number in self._streamed:
            raise RuntimeError(f"sheet {sheet.name}: one table a sheet")
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="crm-xlsx-")
        rows = iter(rows)
        sample = list(islice(rows, WIDTH_SAMPLE))  # the widths come from the rows a reader sees first
        shown = [display_width(h) for h in headers]
        for row in sample:
            for col, value in enumerate(row):
                size = display_width(value.text if value.__class__ is Link else value)
                if size > shown[col]:
                    shown[col] = size
        caps = [max_widths[c] if max_widths and c < len(max_widths) else max_width for c in range(width)]
        widths = [min(max(size + 2, 6), cap) for size, cap in zip(shown, caps, strict=True)]
        # a column whose text is wider than it may be wraps, and each row is as tall as its text
        wrapped = set(wrap_columns) | {c for c in range(width) if shown[c] + 2 > caps[c]}
        path = Path(self._scratch.name) / f"sheet{number}.xml"
        writer = RowWriter(path, start_row, width, styles, sorted(wrapped), widths)
        writer.header(headers)
        count = 0
        for count, row in enumerate(chain(sample, rows), start=1):
            fmt = row_formats[count - 1] if row_formats else None
            writer.row(row, xf[fmt] if fmt else None)
        self._streamed[number] = writer.close()
        for col, size in enumerate(widths):
            sheet.set_column(col, col, size)
        sheet.freeze_panes(start_row + 1, 0)
        if headers:
            sheet.autofilter(start_row, 0, start_row + max(count, 1), width - 1)
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
        """Write the workbook to its path: XlsxWriter's package, with the streamed rows put in."""
        self.workbook.close()
        try:
            if self._streamed:
                with zipfile.ZipFile(self._package) as package:
                    splice(package, self._streamed, self.path)
            else:
                self.path.write_bytes(self._package.getvalue())
        finally:
            if self._scratch is not None:
                self._scratch.cleanup()
        if self.password:
            encrypt(self.path, self.password)

"""The rows of a list sheet, written as sheet XML straight to a file, and put into the workbook.

XlsxWriter costs 7–10 µs a cell; a 100k-row sheet of ten columns is then ten seconds. A list
sheet's rows are instead written here as ``<row>`` elements to a temporary file (inline strings,
the workbook's own style indices, about 1 µs a cell), while XlsxWriter writes everything else
of the sheet (widths, freeze, filter, print setup, conditional formats, charts) and the small
sheets. At close, ``splice`` copies XlsxWriter's package and puts each streamed sheet's rows
into its ``<sheetData>``, with its hyperlinks.
"""

from __future__ import annotations

import math
import numbers
import os
import re
import shutil
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, NamedTuple

from ..ledger.headers import column_letter

MAX_LINKS = 65_530  # Excel keeps at most this many hyperlinks in one worksheet
MAX_TEXT = 32_767  # Excel's longest cell text
_EPOCH = date(1899, 12, 30).toordinal()  # Excel's day 0 in the 1900 date system
_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # plus outer spaces: see _plain
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ROW = re.compile(rb'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', re.S)
_REL_HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"


class Link(NamedTuple):
    """A cell that opens a place: ``target`` is a file (relative to the workbook, or absolute)
    and ``location`` a place in it (``'客户台账'!B5``); either may be empty."""

    text: str
    target: str
    location: str = ""


def _text(value: str) -> str:
    """XML text of a cell string: escaped, control characters as Excel writes them (_x0001_),
    and kept with its outer spaces."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    return value


def _plain(value: str) -> bool:
    """Text that goes into the XML as it is: nothing to escape, no outer spaces, not too long
    (``strip`` hands back the string itself when it has nothing to strip)."""
    return _ESCAPE.search(value) is None and value.strip() is value and len(value) <= MAX_TEXT


def _inline(ref: str, style: int, value: str) -> str:
    if len(value) > MAX_TEXT:
        value = value[:MAX_TEXT]
    if _plain(value):
        return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t>{value}</t></is></c>'
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{_text(value)}</t></is></c>'


def serial(value: date) -> float:
    """An Excel date serial (1900 system) of a date or a naive datetime."""
    days = value.toordinal() - _EPOCH
    if isinstance(value, datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return days + seconds / 86400
    return days


@dataclass
class Styles:
    """The xf indices a streamed table writes with, by kind of value."""

    text: int
    wrap: int
    header: int
    date: int
    datetime: int
    link: int
    integer: Sequence[int]  # by column
    number: Sequence[int]  # by column


@dataclass
class StreamedRows:
    """One sheet's streamed block: rows ``first``…``last`` (1-based), ``width`` columns."""

    path: Path
    first: int
    last: int = 0
    width: int = 0
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (cell, target, location)


LINE_HEIGHT = 15.0  # points a line of the house's 10 pt text takes, in Excel, WPS and LibreOffice
MAX_ROW_HEIGHT = 409.0  # Excel's tallest row


def estimated_width(text: str) -> int:
    """Display width from the UTF-8 length (a 3-byte character, Chinese, counts two): exact for
    Chinese and ASCII, never short, and fast over 100,000 texts (``display_width`` is exact)."""
    longest = max(text.split("\n"), key=len) if "\n" in text else text
    return (len(longest.encode()) + len(longest) + 1) // 2


def text_lines(text: str, width: float) -> int:
    """How many lines ``text`` takes in a wrapping cell ``width`` characters wide (a Chinese
    character is two; estimated from the UTF-8 length, which never counts one short). English
    wraps at spaces and loses part of a line each time: it gets a little less room."""
    usable = max(width - 1.0, 1.0)
    if "\n" in text:
        return sum(text_lines(part, width) for part in text.split("\n"))
    if len(text) * 2 <= usable:
        return 1
    shown = estimated_width(text)
    if " " in text and text.isascii():
        usable = max(usable * 0.85, 1.0)
    return max(1, math.ceil(shown / usable))


class RowWriter:
    """Writes a header and rows as ``<row>`` XML to ``path``. Given the columns' ``widths``, a
    row whose text needs more than one line gets the height for it, and a text too wide for a
    column that does not wrap wraps in its own cell."""

    def __init__(
        self,
        path: Path,
        first_row: int,
        width: int,
        styles: Styles,
        wrap_columns: Sequence[int] = (),
        widths: Sequence[float] | None = None,
    ) -> None:
        self.out: IO[str] = open(path, "w", encoding="utf-8", newline="")
        self.block = StreamedRows(path, first_row + 1, first_row, width)
        self.styles = styles
        self.letters = [column_letter(c) for c in range(width)]
        self.text_styles = [styles.wrap if c in wrap_columns else styles.text for c in range(width)]
        self.wraps = [c in wrap_columns for c in range(width)]
        # a text up to this long fits its column on one line whatever its characters
        self.widths = list(widths) if widths is not None else None
        self.one_line = [max(int((w - 1) // 2), 0) for w in widths] if widths is not None else None
        self.buffer: list[str] = []

    def header(self, values: Sequence[str]) -> None:
        self.row(values, self.styles.header, header=True)

    def row(self, values: Iterable[Any], row_style: int | None = None, *, header: bool = False) -> None:
        """One row: each value by its type (str, int, float, bool, date, datetime, Link, None);
        ``row_style`` styles every cell of it, blanks included."""
        self.block.last += 1
        number = str(self.block.last)
        styles, letters, text_styles, special = self.styles, self.letters, self.text_styles, _ESCAPE.search
        widths, one_line, wraps = self.widths, self.one_line, self.wraps
        lines = 1
        parts = ["<row>"]  # replaced once the row's height is known
        append = parts.append
        for col, value in enumerate(values):
            cls = value.__class__
            if cls is str:
                if value:
                    style = row_style if row_style is not None else text_styles[col]
                    if widths is not None and (
                        (len(value) > one_line[col] and (len(value) >= widths[col] - 1 or not value.isascii()))
                        or "\n" in value
                    ):  # only a text that may not fit is measured: most fit at a glance
                        needed = text_lines(value, widths[col])
                        if needed > 1:
                            if not (wraps[col] or header) and row_style is None:
                                style = styles.wrap  # too wide for a column that does not wrap
                            if needed > lines and (wraps[col] or header or row_style is None):
                                lines = needed
                    if special(value) is None and value.strip() is value and len(value) <= MAX_TEXT:  # as _plain
                        append(f'<c r="{letters[col]}{number}" s="{style}" t="inlineStr"><is><t>{value}</t></is></c>')
                    else:
                        append(_inline(letters[col] + number, style, value))
                elif row_style is not None:
                    append(f'<c r="{letters[col]}{number}" s="{row_style}"/>')
            elif value is None:
                if row_style is not None:
                    append(f'<c r="{letters[col]}{number}" s="{row_style}"/>')
            elif cls is float or cls is int:
                if cls is float and not math.isfinite(value):
                    if row_style is not None:
                        append(f'<c r="{letters[col]}{number}" s="{row_style}"/>')
                    continue
                style = row_style if row_style is not None else (styles.number if cls is float else styles.integer)[col]
                append(f'<c r="{letters[col]}{number}" s="{style}"><v>{value!r}</v></c>')
            else:
                append(self._other(letters[col] + number, col, value, row_style))
        append("</row>")
        if lines > 1:
            height = min(lines * LINE_HEIGHT, MAX_ROW_HEIGHT)
            parts[0] = f'<row r="{number}" ht="{height:g}" customHeight="1">'
        else:
            parts[0] = f'<row r="{number}">'
        self.buffer.append("".join(parts))
        if len(self.buffer) >= 1000:
            self.out.write("".join(self.buffer))
            self.buffer.clear()

    def _other(self, ref: str, col: int, value: Any, row_style: int | None) -> str:
        styles = self.styles
        blank = f'<c r="{ref}" s="{row_style}"/>' if row_style is not None else ""
        if isinstance(value, Link):
            return self._link(ref, value, row_style)
        if isinstance(value, bool):
            return (
                f'<c r="{ref}" s="{row_style if row_style is not None else styles.text}" t="b"><v>{int(value)}</v></c>'
            )
        try:
            if value != value:  # NaN, NaT
                return blank
        except TypeError:  # pandas' NA
            return blank
        if isinstance(value, datetime):
            style = row_style if row_style is not None else styles.datetime
            return f'<c r="{ref}" s="{style}"><v>{serial(value)!r}</v></c>'
        if isinstance(value, date):
            style = row_style if row_style is not None else styles.date
            return f'<c r="{ref}" s="{style}"><v>{serial(value)}</v></c>'
        if isinstance(value, numbers.Real):  # numpy's and Decimal's numbers
            if isinstance(value, numbers.Integral):
                style = row_style if row_style is not None else styles.integer[col]
                return f'<c r="{ref}" s="{style}"><v>{int(value)}</v></c>'
            number = float(value)
            if not math.isfinite(number):
                return blank
            style = row_style if row_style is not None else styles.number[col]
            return f'<c r="{ref}" s="{style}"><v>{number!r}</v></c>'
        return _inline(ref, row_style if row_style is not None else styles.text, str(value))

    def _link(self, ref: str, link: Link, row_style: int | None) -> str:
        """A hyperlink while the sheet has room for one; past Excel's limit a HYPERLINK formula,
        which opens the same place and has no limit (or plain text, if too long for a formula)."""
        style = row_style if row_style is not None else self.styles.link
        if len(self.block.links) < MAX_LINKS:
            self.block.links.append((ref, link.target, link.location))
            return _inline(ref, style, link.text)
        address = f"{link.target}#{link.location}" if link.location else link.target
        if len(address) > 255 or len(link.text) > 255:  # Excel's longest string in a formula
            return _inline(ref, self.styles.text, link.text)
        quoted, text = address.replace('"', '""'), link.text.replace('"', '""')
        formula = _text(f'HYPERLINK("{quoted}","{text}")')
        return f'<c r="{ref}" s="{style}" t="str"><f>{formula}</f><v>{_text(link.text)}</v></c>'

    def close(self) -> StreamedRows:
        self.out.write("".join(self.buffer))
        self.buffer.clear()
        self.out.close()
        return self.block


def _external(target: str) -> str:
    """A file link's relationship target as Excel writes it (XlsxWriter's rule): a relative
    path with backslashes, an absolute one as a file:/// URL."""
    path = target.replace("/", "\\")
    if path.startswith(".\\"):
        path = path[2:]
    if re.match(r"^(\\\\|[A-Za-z]:\\|\\)", path):
        return "file:///" + path
    return path


def _attr(value: str) -> str:
    if not ("&" in value or "<" in value or ">" in value or '"' in value):
        return value
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _hyperlinks(block: StreamedRows) -> tuple[bytes, list[str]]:
    """The sheet's ``<hyperlinks>`` element and the relationships it needs (one a link, as
    Excel writes them; most links of a sheet name the same file)."""
    elements, relations = [], []
    targets: dict[str, str] = {}
    for n, (ref, target, location) in enumerate(block.links, start=1):
        where = f' location="{_attr(location)}"' if location else ""
        if target:
            external = targets.get(target)
            if external is None:
                external = targets[target] = _attr(_external(target))
            elements.append(f'<hyperlink ref="{ref}" r:id="rIdL{n}"{where}/>')
            relations.append(
                f'<Relationship Id="rIdL{n}" Type="{_REL_HYPERLINK}" Target="{external}" TargetMode="External"/>'
            )
        else:
            elements.append(f'<hyperlink ref="{ref}"{where} display="{_attr(location)}"/>')
    return ("<hyperlinks>" + "".join(elements) + "</hyperlinks>").encode(), relations


def _split_sheet(xml: bytes) -> tuple[bytes, list[tuple[int, bytes]], bytes]:
    """XlsxWriter's sheet XML as (before <sheetData>, its rows by number, after </sheetData>)."""
    empty = xml.find(b"<sheetData/>")
    if empty >= 0:
        return xml[:empty], [], xml[empty + len(b"<sheetData/>") :]
    start = xml.index(b"<sheetData>")
    end = xml.index(b"</sheetData>")
    rows = [(int(m.group(1)), m.group(0)) for m in _ROW.finditer(xml, start, end)]
    return xml[:start], rows, xml[end + len(b"</sheetData>") :]


def _dimension(head: bytes, block: StreamedRows, rows: list[tuple[int, bytes]]) -> bytes:
    last_row = max([block.last, *(n for n, _ in rows)])
    found = re.search(rb'<dimension ref="([A-Z]+\d+)(?::([A-Z]+)(\d+))?"/>', head)
    if found is None:
        return head
    letters = found.group(2) or re.match(rb"[A-Z]+", found.group(1)).group()
    theirs = 0
    for ch in letters.decode():
        theirs = theirs * 26 + ord(ch) - 64
    last_col = column_letter(max(theirs, block.width) - 1)
    return head[: found.start()] + f'<dimension ref="A1:{last_col}{last_row}"/>'.encode() + head[found.end() :]


def _with_hyperlinks(tail: bytes, element: bytes, name: str) -> bytes:
    if b"<hyperlinks>" in tail:
        raise RuntimeError(f"{name}: a streamed sheet's links must all be streamed")
    for anchor in (b"<printOptions", b"<pageMargins", b"<pageSetup", b"<headerFooter", b"<drawing", b"</worksheet>"):
        at = tail.find(anchor)
        if at >= 0:
            return tail[:at] + element + tail[at:]
    raise RuntimeError(f"{name}: no place for hyperlinks")


def _rels_with(existing: bytes | None, relations: list[str]) -> bytes:
    added = "".join(relations).encode()
    if existing is None:
        return (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + added
            + b"</Relationships>"
        )
    at = existing.rindex(b"</Relationships>")
    return existing[:at] + added + existing[at:]


def splice(package: zipfile.ZipFile, blocks: dict[int, StreamedRows], path: Path) -> None:
    """Write ``path``: XlsxWriter's ``package`` with each streamed block (keyed by the
    worksheet's 1-based number) put into its sheet's XML. Written to a temporary name first,
    so a failure leaves no half workbook under the real name."""
    partial = path.with_name(f".{path.name}.partial")
    names = set(package.namelist())
    links = {number: _hyperlinks(block) for number, block in blocks.items() if block.links}
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
            for info in package.infolist():
                data = package.read(info)
                number = _sheet_number(info.filename)
                block = blocks.get(number) if number else None
                rels = _rels_number(info.filename)
                if block is not None:
                    _write_sheet(out, info.filename, data, block, links.get(number, (b"", []))[0])
                elif rels in links:
                    out.writestr(info.filename, _rels_with(data, links[rels][1]))
                else:
                    out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
            for number, (_, relations) in links.items():
                name = f"xl/worksheets/_rels/sheet{number}.xml.rels"
                if name not in names:
                    out.writestr(name, _rels_with(None, relations))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _sheet_number(name: str) -> int | None:
    found = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", name)
    return int(found.group(1)) if found else None


def _rels_number(name: str) -> int | None:
    found = re.fullmatch(r"xl/worksheets/_rels/sheet(\d+)\.xml\.rels", name)
    return int(found.group(1)) if found else None


def _write_sheet(out: zipfile.ZipFile, name: str, xml: bytes, block: StreamedRows, hyperlinks: bytes) -> None:
    head, rows, tail = _split_sheet(xml)
    inside = [n for n, _ in rows if block.first <= n <= block.last]
    if inside:
        raise RuntimeError(f"{name}: row {inside[0]} was written both by XlsxWriter and as a streamed row")
    if hyperlinks:
        tail = _with_hyperlinks(tail, hyperlinks, name)
    with out.open(name, "w", force_zip64=True) as sheet:
        sheet.write(_dimension(head, block, rows))
        sheet.write(b"<sheetData>")
        for _, row in (r for r in rows if r[0] < block.first):
            sheet.write(row)
        with open(block.path, "rb") as streamed:
            shutil.copyfileobj(streamed, sheet, 1 << 20)
        for _, row in (r for r in rows if r[0] > block.last):
            sheet.write(row)
        sheet.write(b"</sheetData>")
        sheet.write(tail)

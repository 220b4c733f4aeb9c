"""Where a workbook's cells show a formula error (#N/A, #REF!, #DIV/0! …).

python-calamine hands an error cell over as an empty string, indistinguishable from a blank.
The ledger must never guess a value, so the error cells are found here, from the file itself:
in an .xlsx/.xlsm the cells typed ``t="e"`` in each worksheet's XML, in a legacy .xls the
FORMULA and BOOLERR records whose result is an error, in a CSV the cells that are exactly one
of Excel's error texts (what Excel writes for an error cell when it saves CSV).

Every function returns, per sheet, ``{(row, column): "#DIV/0!"}`` with 0-based positions. An
.xlsx number cell of exactly 60 is listed too, as ``LEAP_DAY``: in a date column it is Excel's
1900-02-29, which never was (calamine reads it as 1900-02-28); elsewhere it is just 60.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Iterable
from posixpath import join, normpath
from typing import BinaryIO
from xml.etree import ElementTree

from .headers import column_index

EXCEL_ERRORS = (
    "#N/A",
    "#REF!",
    "#DIV/0!",
    "#NUM!",
    "#NULL!",
    "#NAME?",
    "#VALUE!",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
)
_BIFF_ERRORS = {
    0x00: "#NULL!",
    0x07: "#DIV/0!",
    0x0F: "#VALUE!",
    0x17: "#REF!",
    0x1D: "#NAME?",
    0x24: "#NUM!",
    0x2A: "#N/A",
}
_BLOCK = 1 << 16  # 64 KB of sheet XML a block: searched while still in the processor's cache (4 MB: 1.09× the time)
_LIBREOFFICE_ERROR = re.compile(r"Err:[0-9]{3}")  # what LibreOffice shows (and saves to CSV) for some errors
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DOC_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"

Errors = dict[tuple[int, int], str]


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → the worksheet's part in the package (xl/worksheets/sheet1.xml)."""
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_RELS}Relationship")}
    parts = {}
    for sheet in book.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_DOC_RELS}id"), "")
        if target:
            parts[sheet.get("name", "")] = (
                target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
            )
    return parts


def scan_worksheet(stream: BinaryIO) -> Errors:
    """The error cells of one worksheet's XML, read a block at a time: only the few cells
    typed ``t="e"`` are looked at closely."""
    found: Errors = {}
    carry = b""
    while True:
        block = stream.read(_BLOCK)
        data = carry + block
        if not block:
            _errors_in(data, found)
            return found
        cut = data.rfind(b"<c ")  # the last cell may go on in the next block
        if cut <= 0:
            carry = data
            continue
        _errors_in(data[:cut], found)
        carry = data[cut:]


LEAP_DAY = "1900-02-29"  # Excel's serial 60: a day that never was, which calamine shows as 1900-02-28


def _errors_in(data: bytes, found: Errors) -> None:
    at = data.find(b"<v>60</v>")
    while at != -1:  # a number cell holding exactly 60: in a date column, Excel's 1900-02-29
        start = data.rfind(b"<c ", 0, at)
        head = data[start : data.find(b">", start) + 1] if start != -1 else b""
        ref = _CELL_REF.search(head)
        if ref is not None and b" t=" not in head:
            found[(int(ref.group(2)) - 1, column_index(ref.group(1).decode()))] = LEAP_DAY
        at = data.find(b"<v>60</v>", at + 9)
    for marker in (b't="e"', b"t='e'"):
        at = data.find(marker)
        while at != -1:
            start = data.rfind(b"<c ", 0, at)
            end = data.find(b"</c>", at)
            cell = data[start : end if end != -1 else len(data)]
            ref = _CELL_REF.search(cell)
            value = _VALUE.search(cell)
            if ref is not None and value is not None and start != -1:
                text = value.group(1).decode("utf-8", "replace")
                found[(int(ref.group(2)) - 1, column_index(ref.group(1).decode()))] = text
            at = data.find(marker, at + 5)


def scan_xlsx(file: str | bytes, names: Iterable[str]) -> dict[str, Errors]:
    """The error cells of the named sheets of an .xlsx/.xlsm (a path, or the decrypted bytes)."""
    out: dict[str, Errors] = {}
    with zipfile.ZipFile(io.BytesIO(file) if isinstance(file, bytes) else file) as archive:
        parts = sheet_parts(archive)
        for name in names:
            part = parts.get(name)
            if part is None:
                continue
            try:
                with archive.open(part) as stream:
                    out[name] = scan_worksheet(stream)
            except KeyError:
                continue
    return out


def scan_csv(rows: list[list[str]]) -> Errors:
    return {
        (r, c): cell.strip()
        for r, row in enumerate(rows)
        for c, cell in enumerate(row)
        if (cell[:1] == "#" and cell.strip() in EXCEL_ERRORS) or _LIBREOFFICE_ERROR.fullmatch(cell.strip())
    }


def scan_xls(data: bytes) -> dict[str, Errors]:
    """The error cells of every sheet of a legacy .xls (BIFF8), from its Workbook stream."""
    import olefile  # msoffcrypto-tool's own dependency

    try:
        with olefile.OleFileIO(data) as ole:
            name = next((n for n in ("Workbook", "Book") if ole.exists(n)), None)
            if name is None:
                return {}
            stream = ole.openstream(name).read()
    except OSError:
        return {}
    sheets: list[tuple[int, str]] = []
    at = 0
    size = len(stream)
    while at + 4 <= size:  # the workbook globals: each sheet's name and where its records start
        kind, length = struct.unpack_from("<HH", stream, at)
        body = stream[at + 4 : at + 4 + length]
        if kind == 0x0085 and len(body) >= 8:
            offset, count, wide = struct.unpack_from("<I", body)[0], body[6], body[7] & 1
            text = body[8 : 8 + count * (2 if wide else 1)]
            sheets.append((offset, text.decode("utf-16-le" if wide else "latin-1", "replace")))
        elif kind == 0x000A:  # EOF of the globals
            break
        at += 4 + length
    out: dict[str, Errors] = {}
    for offset, sheet in sheets:
        found: Errors = {}
        at = offset
        while at + 4 <= size:
            kind, length = struct.unpack_from("<HH", stream, at)
            body = stream[at + 4 : at + 4 + length]
            if kind == 0x0006 and len(body) >= 14 and body[12:14] == b"\xff\xff" and body[6] == 2:
                row, column = struct.unpack_from("<HH", body)
                found[(row, column)] = _BIFF_ERRORS.get(body[8], "#VALUE!")
            elif kind == 0x0205 and len(body) >= 8 and body[7] == 1:
                row, column = struct.unpack_from("<HH", body)
                found[(row, column)] = _BIFF_ERRORS.get(body[6], "#VALUE!")
            elif kind == 0x000A:
                break
            at += 4 + length
        out[sheet] = found
    return out

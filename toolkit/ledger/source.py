"""Open a ledger file of any supported kind and hand out its sheets as rows of cell values.

This is the only module that knows about file formats: .xlsx/.xlsm/.xls through
python-calamine (fast, no styles needed), password-protected workbooks through
msoffcrypto-tool, and .csv in UTF-8, UTF-8 with BOM, GBK/GB18030 or a Western code page.
Every failure becomes one ``InputError`` naming the file and the fix. The cells that show a
formula error, which calamine reads as blank, are found by ``cell_errors`` beside the parse.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import sys
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import InputError
from .cell_errors import Errors, scan_csv, scan_xls, scan_xlsx, sheet_parts
from .headers import column_index

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")
PASSWORD_ENV = "CRM_LEDGER_PASSWORD"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class RawSheet:
    """One sheet: its rows (absolute, 0-based), merged ranges and visibility. A workbook's
    sheet may still be being parsed in another thread: its cells wait for it."""

    name: str
    visible: bool
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    _rows: list[list[Any]] | None = None  # CSV keeps its rows; workbooks stream them
    _sheet: Any = None
    _pending: Future[Any] | None = None
    _start: Callable[[], Future[Any]] | None = None  # a parse not yet begun (``Source.in_parsed_order``)
    cells: int = 0  # how many cells its parse will hold, as the file says (0: not known)
    _errors: Errors | Future[dict[str, Errors]] | None = None

    @property
    def errors(self) -> Errors:
        """The cells showing a formula error: {(row, column): "#REF!"}, 0-based."""
        if isinstance(self._errors, Future):
            self._errors = self._errors.result().get(self.name, {})
        return self._errors or {}

    @property
    def parsing(self) -> bool:
        """Still being parsed in another thread."""
        return self._pending is not None and not self._pending.done()

    def _begin(self) -> None:
        if self._start is not None:
            self._pending, self._start = self._start(), None

    def _parsed(self) -> Any:
        self._begin()
        if self._pending is not None:
            sheet, self._pending = self._pending.result(), None  # a parse error is raised here
            self._sheet = sheet
            self.merged = list(getattr(sheet, "merged_cell_ranges", None) or [])
        return self._sheet

    def head(self, n: int) -> list[list[Any]]:
        if self._rows is not None:
            return self._rows[:n]
        rows = []
        for i, row in enumerate(self.iter_rows()):
            if i >= n:
                break
            rows.append(row)
        return rows

    def release(self) -> None:
        """Forget the sheet's cells (read, or not needed): the parsed sheet is the reader's
        largest object while it holds it."""
        self._rows, self._sheet = [], None

    def iter_rows(self) -> Iterator[list[Any]]:
        if self._rows is not None:
            yield from self._rows
            return
        parsed = self._parsed()
        start = parsed.start
        pad = [""] * start[1] if start and start[1] else None
        for row in parsed.iter_rows():
            yield pad + row if pad else row


@dataclass
class Source:
    path: Path
    sheets: list[RawSheet]
    date1904: bool = False
    notes: list[str] = field(default_factory=list)
    password: str | None = field(default=None, repr=False)  # the one that opened it, if it was protected
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False)  # the parses not yet begun go to it

    def in_parsed_order(self) -> Iterator[RawSheet]:
        """The sheets as their parsing ends, each with its merged ranges known, the reader
        releasing each before it asks for the next. Parses begin while the cells they will
        hold fit in ``PARSE_BUDGET_CELLS``, the largest sheet first (one begins whatever its
        size when none is held): a 300k-row ledger's customer sheet is parsed alone, a 100k-row
        ledger's four sheets at once. What a released sheet held goes back to the system."""
        for sheet in self.sheets:
            if sheet._pending is None and sheet._start is None:
                yield sheet
        while True:
            self._begin_within_budget()
            pending = {sheet._pending: sheet for sheet in self.sheets if sheet._pending is not None}
            if not pending:
                break
            sheet = pending[next(as_completed(pending))]
            sheet._parsed()
            yield sheet
            if sheet.cells >= _TRIM_CELLS:
                give_back_freed_memory()
        if self._pool is not None:
            self._pool.shutdown(wait=False)  # its threads end with their last sheet

    def _begin_within_budget(self) -> None:
        held = sum(sheet.cells for sheet in self.sheets if sheet._pending is not None)
        budget = PARSE_BUDGET_CELLS if self._pool is not None else 0  # one processor: one at a time
        waiting = sorted((s for s in self.sheets if s._start is not None), key=lambda s: -s.cells)
        for sheet in waiting:
            if held and held + sheet.cells > budget:
                continue
            held += sheet.cells
            sheet._begin()
            if self._pool is None:
                return


# parsed cells take about 90 bytes each at the parse's peak, 55 once parsed: parses held at
# once stay under some 700 MB (a 100k-row ledger's four sheets fit, a 300k-row one's do not)
PARSE_BUDGET_CELLS = 8_000_000
_TRIM_CELLS = 500_000


def owner_file(path: Path) -> Path | None:
    """Excel's lock file ``~$name.xlsx`` beside a workbook that is open, if there is one."""
    for candidate in (path.with_name("~$" + path.name), path.with_name("~$" + path.name[2:])):
        if candidate.exists() and candidate != path:
            return candidate
    return None


def _who_has_it_open(lock: Path) -> str:
    try:
        data = lock.read_bytes()[:162]
        size = data[0]
        name = data[1 : 1 + size].decode("latin-1").strip()
        if len(data) > 56:
            wide = data[56 : 56 + 2 * data[54]].decode("utf-16-le", "ignore").strip("\x00 ")
            name = wide or name
        return name
    except (OSError, IndexError):
        return ""


def check_ledger_path(path: Path) -> None:
    """Raise ``InputError`` saying what ``path`` is when it is not a file to read: missing, a
    folder, or a symbolic link that leads nowhere or round in a loop."""
    if path.is_symlink() and not path.exists():
        try:
            path.resolve(strict=True)
        except RuntimeError:  # Python 3.11/3.12 say a loop this way
            why = "is a symbolic link that points round in a loop"
        except OSError as error:
            why = "is a symbolic link that points round in a loop" if error.errno == 40 else "is a broken symbolic link"
        else:
            why = "is a broken symbolic link"
        raise InputError(
            why,
            file=path,
            hint=f"point it at the ledger ({os.readlink(path)} is not one), or give the ledger's own path",
        )
    if not path.exists():
        raise InputError("file not found", file=path, hint="check the path (quote it if it has spaces)")
    if path.is_dir():
        raise InputError(
            "is a folder, not a ledger file", file=path, hint="give the path of an .xlsx, .xlsm, .xls or .csv file"
        )


def open_source(path: str | os.PathLike[str], password: str | None = None) -> Source:
    """Open ``path`` for reading. Raises ``InputError`` with the fix when it cannot."""
    path = Path(path)
    check_ledger_path(path)
    try:
        return _open(path, password)
    except InputError as error:
        lock = owner_file(path)
        if lock is not None:
            who = _who_has_it_open(lock)
            error.hint = (error.hint or "") + (
                f"; the workbook is open in Excel{' by ' + who if who else ''} ({lock.name} beside it):"
                " close it there and try again"
            )
        raise


def _open(path: Path, password: str | None) -> Source:
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        magic = handle.read(8)
    if not magic:
        raise InputError(
            "the file is empty (0 bytes)", file=path, hint="save the ledger again from Excel, or pick another file"
        )
    is_workbook = magic[:4] == _ZIP_MAGIC or magic == _OLE_MAGIC
    if not is_workbook and (suffix == ".csv" or (suffix not in SPREADSHEET_SUFFIXES and _looks_like_text(path))):
        return _open_csv(path)
    if suffix not in SPREADSHEET_SUFFIXES and magic[:4] != _ZIP_MAGIC and magic != _OLE_MAGIC:
        raise InputError("is not a spreadsheet", file=path, hint="give an .xlsx, .xlsm, .xls or .csv file")
    data: bytes | None = None
    if magic == _OLE_MAGIC:
        data = _decrypt_if_needed(path, password)
    elif magic[:4] != _ZIP_MAGIC:
        raise InputError(
            f"is not a spreadsheet although it is named {suffix}",
            file=path,
            hint="open it in Excel and save it as .xlsx",
        )
    source = _open_workbook(path, data)
    if data is not None:  # it was protected: its outputs will be too
        source.password = password or os.environ.get(PASSWORD_ENV)
    return source


def _looks_like_text(path: Path) -> bool:
    with path.open("rb") as handle:
        chunk = handle.read(4096)
    return b"\x00" not in chunk and (b"," in chunk or b"\t" in chunk)


def _decrypt_if_needed(path: Path, password: str | None) -> bytes | None:
    import msoffcrypto
    from msoffcrypto.exceptions import DecryptionError, FileFormatError, InvalidKeyError

    try:
        with path.open("rb") as handle:
            office = msoffcrypto.OfficeFile(handle)
            if not office.is_encrypted():
                return None
            password = password or os.environ.get(PASSWORD_ENV)
            if not password:
                raise InputError(
                    "the workbook is password-protected",
                    file=path,
                    hint=f"give its password with --password or the {PASSWORD_ENV} environment variable",
                )
            office.load_key(password=password)
            out = io.BytesIO()
            office.decrypt(out)
            return out.getvalue()
    except (InvalidKeyError, DecryptionError) as error:
        raise InputError(
            "the password does not open this workbook",
            file=path,
            hint=f"check the password given with --password or {PASSWORD_ENV}",
        ) from error
    except FileFormatError:
        return None  # a plain legacy .xls: calamine reads it


def _open_workbook(path: Path, data: bytes | None) -> Source:
    """Every sheet parsed in threads, two at a time where there are two processors
    (python-calamine releases the GIL while it parses), as many at once as fit in the budget
    of cells (``Source.in_parsed_order``): a parsed sheet is the reader's largest object while
    it is held, and two big ones at once were most of a 300k-row ledger's peak. The scan for
    error cells runs beside them from the start."""
    from python_calamine import CalamineWorkbook

    def book() -> Any:
        return (
            CalamineWorkbook.from_filelike(io.BytesIO(data))
            if data is not None
            else CalamineWorkbook.from_path(str(path))
        )

    try:
        metadata = [m for m in book().sheets_metadata if not str(m.typ).endswith("ChartSheet")]
    except Exception as error:  # calamine raises its own error types for damaged files
        raise InputError(
            f"cannot be opened as a workbook, it looks damaged or truncated ({_short(error)})",
            file=path,
            hint="open it in Excel or WPS and save it again, or restore a backup",
        ) from error

    def parse(name: str) -> Any:
        try:
            return book().get_sheet_by_name(name)  # a workbook object a thread: they are not shared
        except Exception as error:
            raise InputError(
                f"sheet cannot be read, the file looks damaged ({_short(error)})",
                file=path,
                sheet=name,
                hint="open it in Excel or WPS and save it again",
            ) from error

    names = [m.name for m in metadata]
    with path.open("rb") as handle:
        zipped = (data[:4] if data is not None else handle.read(4)) == _ZIP_MAGIC

    def errors(wanted: list[str] = names) -> dict[str, Errors]:
        try:
            if zipped:
                return scan_xlsx(data if data is not None else str(path), wanted)
            return scan_xls(data if data is not None else path.read_bytes())
        except (OSError, zipfile.BadZipFile, ValueError):
            return {}  # calamine has read it: a file this scan cannot walk just shows no error cells

    workers = min(len(metadata), os.cpu_count() or 1, 4)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="parse") if workers > 1 else None
    sizes = _sheet_cells(path, data, names)
    sheets = [
        RawSheet(
            m.name,
            str(m.visible).endswith(".Visible"),
            _start=partial(pool.submit, parse, m.name) if pool else partial(_parsed_now, parse, m.name),
            cells=sizes.get(m.name, 0),
        )
        for m in metadata
    ]
    if pool is None:
        found = errors()
        for sheet in sheets:
            sheet._errors = found.get(sheet.name, {})
        return Source(path, sheets, date1904=_is_1904(path, data))
    # the scan for error cells walks the XML a block at a time (little memory): it takes the
    # other core while a large sheet is parsed and read alone
    scanner = ThreadPoolExecutor(1, thread_name_prefix="scan")
    scan = scanner.submit(errors, names)
    scanner.shutdown(wait=False)
    for sheet in sheets:
        sheet._errors = scan
    return Source(path, sheets, date1904=_is_1904(path, data), _pool=pool)


def _parsed_now(parse: Callable[[str], Any], name: str) -> Future[Any]:
    done: Future[Any] = Future()
    try:
        done.set_result(parse(name))
    except InputError as error:
        done.set_exception(error)
    return done


_DIMENSION = re.compile(rb'<dimension ref="([A-Z]{1,3})([0-9]{1,7})(?::([A-Z]{1,3})([0-9]{1,7}))?"')


def _sheet_cells(path: Path, data: bytes | None, names: list[str]) -> dict[str, int]:
    """Per sheet of an .xlsx/.xlsm, the cells its parse will hold: rows × columns of the
    ``<dimension>`` the file records, else a guess from the size of its XML. Nothing for an
    .xls, whose sheets hold at most 65,536 rows."""
    found: dict[str, int] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data) if data is not None else path) as archive:
            parts = sheet_parts(archive)
            for name in names:
                part = parts.get(name)
                if part is None:
                    continue
                with archive.open(part) as stream:
                    dimension = _DIMENSION.search(stream.read(4096))
                if dimension is not None and dimension[3]:
                    rows = int(dimension[4]) - int(dimension[2]) + 1
                    columns = column_index(dimension[3].decode()) - column_index(dimension[1].decode()) + 1
                    found[name] = max(rows, 1) * max(columns, 1)
                else:
                    found[name] = archive.getinfo(part).file_size // 40
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return {}
    return found


def give_back_freed_memory() -> None:
    """Hand the memory of a released parsed sheet back to the system. Its millions of cells were
    small blocks of the C heap, which glibc keeps for later C allocations; Python's objects
    come from its own arenas and would never reuse them, so the process would go on holding
    the sheet's size. A no-op where the C library has no ``malloc_trim`` (Windows, macOS, musl)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with suppress(OSError, AttributeError):  # a C library without malloc_trim (musl) keeps it
            ctypes.CDLL(None).malloc_trim(0)


def _short(error: Exception) -> str:
    return " ".join(str(error).split())[:120] or type(error).__name__


def _is_1904(path: Path, data: bytes | None) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data) if data is not None else path) as archive:
            workbook = archive.read("xl/workbook.xml")[:4000].decode("utf-8", "ignore")
    except (zipfile.BadZipFile, KeyError, OSError):
        return False
    return bool(re.search(r'date1904="(1|true)"', workbook))


def decode_text(raw: bytes) -> tuple[str, str]:
    """Bytes of a CSV → (text, encoding): UTF-8 (with or without BOM), GB18030, else detected."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", "replace"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    wide = _utf16_without_bom(raw)
    if wide is not None:
        return raw.decode(wide, "replace"), wide
    with suppress(UnicodeDecodeError):
        return raw.decode("utf-8"), "utf-8"
    for encoding in ("gb18030", "big5"):  # Simplified, then Traditional Chinese
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        non_ascii = [c for c in text if ord(c) > 127]
        cjk = sum(
            1 for c in non_ascii if "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef"
        )
        if non_ascii and cjk / len(non_ascii) > 0.9:
            return text, encoding
    return raw.decode("cp1252", "replace"), "cp1252"  # Western exports (Salesforce, Excel on Windows)


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 saved without its byte-order mark: the ASCII of a CSV (commas, line ends, digits)
    then has a NUL beside every byte, all on the odd bytes (little-endian) or all on the even."""
    head = raw[:8192]
    odd, even = head[1::2].count(0), head[::2].count(0)
    if len(head) < 4:
        return None
    for encoding, zeros, others in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if zeros >= 0.2 * len(head) / 2 and others == 0:
            try:
                codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            except UnicodeDecodeError:
                continue
            return encoding
    return None


def _open_csv(path: Path) -> Source:
    text, encoding = decode_text(path.read_bytes())
    notes = [] if encoding.startswith("utf-8") else [f"{path.name}: read as {encoding}"]
    if "\x00" in text:  # NUL bytes (a damaged export, a file padded by a tool): no cell holds them
        notes.append(f"{path.name}: {text.count(chr(0))} NUL bytes removed")
        text = text.replace("\x00", "")
    dialect: Any = csv.excel
    first_line = text[:20].splitlines()[0] if text else ""
    if first_line.lower().startswith("sep=") and len(first_line) == 5:  # Excel's "sep=;" line
        dialect = type("ExcelSep", (csv.excel,), {"delimiter": first_line[4]})
        text = text.split("\n", 1)[1] if "\n" in text else ""
    else:
        try:
            dialect = csv.Sniffer().sniff(text[:20000], delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel  # no clear delimiter: plain commas
    try:
        rows = [row for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error as error:
        raise InputError(
            f"cannot be read as CSV ({error})", file=path, hint="open it in Excel and save it as .xlsx or as CSV UTF-8"
        ) from error
    if not any(any(cell.strip() for cell in row) for row in rows):
        raise InputError("the CSV file holds no data", file=path, hint="pick the exported file again")
    return Source(path, [RawSheet(path.stem, True, _rows=rows, _errors=scan_csv(rows))], notes=notes)

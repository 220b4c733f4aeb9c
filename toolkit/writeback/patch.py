"""Write the toolkit's columns back into a ledger without losing anything.

An .xlsx/.xlsm file is a zip of XML parts. openpyxl rebuilds every part from its own model
and drops what it does not model, so it is never used to save a ledger. Instead only the
customer sheet's part is rewritten, by patching its text: the toolkit's cells are added to,
or replaced in, the rows that need them, as inline strings, so ``sharedStrings.xml`` stays as
it is. ``styles.xml`` gains one date style the first time a date column is written (and keeps
it). Every other part (other sheets, drawings, charts, comments, tables, VBA, custom XML …)
is copied byte for byte.

The safe replace: a timestamped backup first (copied under a temporary name, synced, renamed),
the new file written beside the ledger under a temporary name, read back and synced, then an
atomic ``os.replace``. When the ledger is open (an
Excel ``~$`` owner file or a LibreOffice ``.~lock`` file beside it, or the replace is refused),
the result is written beside the ledger instead and the ledger is left untouched.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import socket
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from html import escape, unescape
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

from ..errors import InputError, ToolkitError
from ..ledger.headers import column_index, column_letter
from ..xlsx import LINE_HEIGHT, estimated_width, text_lines

WRITABLE_SUFFIXES = (".xlsx", ".xlsm")
TMP_SUFFIX = ".crm-tmp"
_DATE_FORMAT = "yyyy-mm-dd"
_EXCEL_EPOCH = date(1899, 12, 30)
_MAX_CELL_TEXT = 32767  # Excel's limit

_ROW = re.compile(rb"<row\b[^>]*?(?:/>|>.*?</row>)", re.S)
_ROW_OPEN = re.compile(rb"<row\b[^>]*>")
_CELL = re.compile(rb"<c\s[^>]*?(?:/>|>.*?</c>)", re.S)
_REF = re.compile(rb'\sr="([A-Z]{1,3})(\d+)"')
_ROW_NUMBER = re.compile(rb'\sr="(\d+)"')
_STYLE = re.compile(rb'\ss="(\d+)"')
_SPANS = re.compile(rb'\sspans="(\d+):(\d+)"')
_HEIGHT = re.compile(rb'\sht="([\d.]+)"')
_CUSTOM_HEIGHT = re.compile(rb'\scustomHeight="(1|true)"')
_DIMENSION = re.compile(rb'<dimension\s+ref="([^"]*)"\s*/>')
_MAX_COLUMNS = 16384  # A … XFD
_AUTOFILTER = re.compile(rb'<autoFilter\s+ref="\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)"')
_WIDEST = 60  # a written column as wide as its longest text, up to this
_MERGE = re.compile(rb'<mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_TEXT = re.compile(rb"<t(?:\s[^>]*)?>(.*?)</t>", re.S)
_VALUE = re.compile(rb"<v>(.*?)</v>", re.S)
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_OUR_FORMULA = re.compile(  # what a previous --mark wrote, whatever another program did to the attributes
    rb"<formula>ISNUMBER\(SEARCH\((?:&quot;|\")"
    + "【".encode()
    + rb"[^<]*?"
    + "】".encode()
    + rb'(?:&quot;|"),\$[A-Z]+\d+\)\)</formula>'
)
_AFTER_MARKS = {  # the worksheet elements that follow <conditionalFormatting>, in schema order
    b"dataValidations",
    b"hyperlinks",
    b"printOptions",
    b"pageMargins",
    b"pageSetup",
    b"headerFooter",
    b"rowBreaks",
    b"colBreaks",
    b"customProperties",
    b"cellWatches",
    b"ignoredErrors",
    b"smartTags",
    b"drawing",
    b"legacyDrawing",
    b"legacyDrawingHF",
    b"drawingHF",
    b"picture",
    b"oleObjects",
    b"controls",
    b"webPublishItems",
    b"tableParts",
    b"extLst",
}
_TAG = re.compile(rb"<(/?)([A-Za-z_][\w.:-]*)[^>]*?(/?)>")
_MARK_DXF = (
    b'<dxf><font><color rgb="FF9C0006"/></font>'
    b'<fill><patternFill patternType="solid"><bgColor rgb="FFFFC7CE"/></patternFill></fill></dxf>'
)
Chunk = bytes | memoryview
_REL_NS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)


@dataclass
class WriteColumn:
    """One column the toolkit writes: its header and a value per 1-based Excel row (None clears)."""

    key: str
    header: str
    values: dict[int, str | date | None]
    width: float = 14


@dataclass
class Highlight:
    """Fill the cells of one of the user's columns whose row's check text mentions ``token``.

    Written as a conditional format over the column: none of the user's cells is restyled, and a
    fill goes away by itself once the check column no longer names the problem.
    """

    column: str  # the user's column letter, e.g. "D"
    token: str  # e.g. "【联系电话】", as the check column's text writes it
    first_row: int
    last_row: int
    check_key: str = "check"  # the WriteColumn whose text is searched


@dataclass
class CellChange:
    sheet: str
    cell: str
    old: str
    new: str

    def as_json(self) -> dict[str, str]:
        return {"sheet": self.sheet, "cell": self.cell, "old": self.old, "new": self.new}


@dataclass
class WriteBackResult:
    ledger: Path
    written: Path | None  # the ledger itself, or the file beside it; None for a dry run
    changes: list[CellChange]
    columns: dict[str, str]  # header → column letter
    backup: Path | None = None
    beside_reason: str = ""  # why the result went beside the ledger instead of into it
    lock_file: str = ""  # the owner/lock file that showed the ledger is open
    dry_run: bool = False
    live: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def into_ledger(self) -> bool:
        """The results went into the ledger itself (given by a relative path or a link, maybe)."""
        if self.written is None:
            return False
        return self.written == self.ledger or self.written.resolve() == self.ledger.resolve()

    def as_json(self) -> dict[str, Any]:
        return {
            "ledger": str(self.ledger),
            "written": str(self.written) if self.written else None,
            "into_ledger": self.into_ledger,
            "backup": str(self.backup) if self.backup else None,
            "beside_reason": self.beside_reason,
            "dry_run": self.dry_run,
            "live": self.live,
            "columns": self.columns,
            "changed_cells": len(self.changes),
            "changes": [c.as_json() for c in self.changes] if self.dry_run else [],  # the preview lists every cell
        }


def exact_header(text: Any) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip() if text is not None else ""


def write_back(
    ledger: str | os.PathLike[str],
    sheet: str,
    header_row: int,
    labels: list[str],
    columns: list[WriteColumn],
    *,
    backup_dir: Path,
    keep_days: float = 30,
    dry_run: bool = False,
    live: bool = False,
    expected_stat: tuple[int, int] | None = None,
    beside_suffix: str = " (系统结果)",
    now: datetime | None = None,
    highlights: list[Highlight] | None = None,
) -> WriteBackResult:
    """Write ``columns`` into ``sheet`` of the ledger, to the right of the user's columns or into
    the columns already headed with the same text (a second run updates them in place).

    ``expected_stat`` (mtime_ns, size) of the ledger when the values were computed: if the file
    changed since, nothing is written (its rows may have moved). Raises ``InputError`` for a file
    that cannot be patched safely (not .xlsx/.xlsm, encrypted, a formula or a merged range where
    a value would go), before anything is written. ``highlights`` mark the user's bad cells (a
    light-red fill through conditional formats that follow the check column); a run with
    highlights replaces the marks of the previous one.
    """
    given = Path(ledger)
    path = Path(os.path.realpath(given))  # a link to the ledger: write the ledger, not over the link
    now = now or datetime.now()
    if live:
        if highlights is not None:
            raise InputError("--mark cannot be used with --live", hint="run without --live to mark the bad cells")
        return _write_live(path, sheet, header_row, labels, columns, dry_run=dry_run)
    _check_writable(path, expected_stat)
    patch = _Patch.build(path, sheet, header_row, labels, columns, highlights)
    result = WriteBackResult(path, None, patch.changes, patch.letters, dry_run=dry_run)
    if dry_run:
        return result
    _remove_stale_temporaries(path)
    _remove_stale_temporaries(_beside(path, beside_suffix))
    if not patch.changes and not patch.new_headers and not patch.marks_changed:
        return result
    lock = open_by(path)
    if lock or not os.access(path, os.W_OK):
        result.lock_file = lock.name if lock else ""
        result.beside_reason = (
            f"it is open in Excel, WPS or LibreOffice (lock file {lock.name})" if lock else "the ledger is read-only"
        )
        result.written = _write_beside(path, patch, beside_suffix)
        return result
    result.backup = backup(path, backup_dir, keep_days, now)
    tmp = _temporary(path)
    try:
        patch.write(tmp)
        _read_back(tmp, patch)
        shutil.copymode(path, tmp)
        _fsync(tmp)
        _check_writable(path, expected_stat)  # not changed while we were writing
        os.replace(tmp, path)
    except PermissionError as error:  # Windows: the file is open in Excel (a sharing violation)
        tmp.unlink(missing_ok=True)
        result.beside_reason = f"the ledger could not be replaced ({error.strerror or error})"
        result.written = _write_beside(path, patch, beside_suffix)
        return result
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    result.written = given
    return result


def open_by(path: Path) -> Path | None:
    """The owner file of Excel/WPS (~$…) or the lock file of LibreOffice beside the ledger, if any."""
    owners = [
        path.with_name("~$" + path.name),
        path.with_name("~$" + path.name[2:]),
        path.with_name(".~lock." + path.name + "#"),
    ]
    for owner in owners:
        if owner.exists():
            return owner
    return None


def backup(path: Path, folder: Path, keep_days: float, now: datetime) -> Path:
    """Copy the ledger to ``folder`` as '<stem> <YYYYmmdd-HHMMSS><suffix>'; drop its backups over ``keep_days`` old."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{path.stem} {now:%Y%m%d-%H%M%S}{path.suffix}"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{path.stem} {now:%Y%m%d-%H%M%S}-{n}{path.suffix}"
    partial = target.with_name(f".{target.name}.partial")  # a copy cut short never looks like a backup
    try:
        shutil.copy2(path, partial)
        _fsync(partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    limit = now - timedelta(days=keep_days)
    stamp = re.compile(re.escape(path.stem) + r" (\d{8}-\d{6})(?:-\d+)?" + re.escape(path.suffix) + "$")
    for old in folder.iterdir():
        found = stamp.match(old.name)
        if found and old != target and datetime.strptime(found.group(1), "%Y%m%d-%H%M%S") < limit:
            old.unlink()
        elif old.name.startswith(f".{path.stem} ") and old.name.endswith(".partial"):
            old.unlink(missing_ok=True)  # what a run killed during its copy left
    return target


def _fsync(path: Path) -> None:
    """Make the file's bytes reach the disk before it is renamed into place."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def check_suffix(path: Path) -> None:
    """Refuse, with one line, a ledger write-back cannot patch (.xls, .csv, …)."""
    if path.suffix.lower() not in WRITABLE_SUFFIXES:
        raise InputError(
            f"write-back works on .xlsx and .xlsm ledgers, not {path.suffix or 'this file'}",
            file=path,
            hint="save the ledger as .xlsx in Excel, or use the generated workbook instead",
        )


def _check_writable(path: Path, expected_stat: tuple[int, int] | None) -> None:
    if not path.is_file():
        raise InputError("file not found", file=path, hint="check the path (quote it if it has spaces)")
    check_suffix(path)
    if not zipfile.is_zipfile(path):
        raise InputError(
            "write-back cannot open this ledger: it is password-protected or not a real .xlsx",
            file=path,
            hint="remove the password (File ▸ Info ▸ Protect Workbook) for write-back, or use the generated workbook",
        )
    if expected_stat is not None:
        stat = path.stat()
        if (stat.st_mtime_ns, stat.st_size) != expected_stat:
            raise InputError(
                "the ledger was saved by someone while the job ran; nothing was written",
                file=path,
                hint="run the job again",
            )


def _temporary(path: Path) -> Path:
    """Where the new file is written before it replaces ``path``: beside it, named per run."""
    return path.with_name(f"{path.name}.{socket.gethostname()}-{os.getpid()}{TMP_SUFFIX}")


def _remove_stale_temporaries(path: Path) -> None:
    """A run killed before its replace leaves its temporary file (the ledger itself is intact):
    removed once its process is gone (POSIX, same host) or it is an hour old."""
    stamp = re.compile(re.escape(path.name) + r"\.(.+)-(\d+)" + re.escape(TMP_SUFFIX) + "$")
    host = socket.gethostname()
    for leftover in path.parent.glob(f"{glob.escape(path.name)}.*{TMP_SUFFIX}"):
        found = stamp.match(leftover.name)
        if not found:
            continue
        try:
            old = time.time() - leftover.stat().st_mtime > 3600
        except OSError:
            continue
        if old or (os.name == "posix" and found.group(1) == host and not _alive(int(found.group(2)))):
            leftover.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # POSIX only: signal 0 asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _beside(path: Path, suffix: str) -> Path:
    return path.with_name(f"{path.stem}{suffix}{path.suffix}")


def _write_beside(path: Path, patch: _Patch, suffix: str) -> Path:
    target = _beside(path, suffix)
    tmp = _temporary(target)
    try:
        patch.write(tmp)
        _read_back(tmp, patch)
        os.replace(tmp, target)
    except PermissionError as error:
        tmp.unlink(missing_ok=True)
        raise ToolkitError(
            f"{target}: cannot be written either ({error.strerror or error}) — close it and run again"
        ) from error
    return target


def _read_back(tmp: Path, patch: _Patch) -> None:
    """The temporary file is a readable zip whose every part checks out, the patched ones as written."""
    with zipfile.ZipFile(tmp) as zf:
        bad = zf.testzip()
        if bad is not None:
            raise ToolkitError(f"{tmp}: the written file failed its check ({bad}); the ledger was not changed")
        for name, chunks in patch.parts.items():
            crc = 0
            for chunk in chunks:
                crc = zlib.crc32(chunk, crc)
            if zf.getinfo(name).CRC != crc:
                raise ToolkitError(f"{tmp}: {name} was not written as intended; the ledger was not changed")


def _well_formed(name: str, chunks: list[Chunk], path: Path) -> None:
    parser = expat.ParserCreate()
    try:
        for chunk in chunks:
            parser.Parse(bytes(chunk), False)
        parser.Parse(b"", True)
    except expat.ExpatError as error:  # a bug of ours: never write it
        raise ToolkitError(
            f"{path}: patching {name} gave malformed XML ({error}); the ledger was not changed"
        ) from error


def _sheet_part(zf: zipfile.ZipFile, sheet: str, path: Path) -> str:
    """The zip part name of the worksheet called ``sheet``."""

    def rels(part: str) -> dict[str, str]:
        folder, _, name = part.rpartition("/")
        rel_part = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
        root = ElementTree.fromstring(zf.read(rel_part))
        targets = {}
        for rel in root:
            target = rel.get("Target", "")
            if target.startswith("/"):
                target = target[1:]
            elif folder:
                target = f"{folder}/{target}"
            targets[rel.get("Id", "")] = os.path.normpath(target).replace("\\", "/")
        return targets

    try:
        workbook = next(t for t in rels("").values() if t.endswith(".xml") and "workbook" in t.lower())
        root = ElementTree.fromstring(zf.read(workbook))
        targets = rels(workbook)
        for element in root.iter():
            if element.tag.rsplit("}", 1)[-1] == "sheet" and element.get("name") == sheet:
                rid = next((element.get(f"{{{ns}}}id") for ns in _REL_NS if element.get(f"{{{ns}}}id")), None)
                if rid in targets:
                    return targets[rid]
    except (KeyError, StopIteration, ElementTree.ParseError) as error:
        raise InputError(
            f"write-back cannot find its way through this workbook ({error})",
            file=path,
            hint="open it in Excel and save it again as .xlsx",
        ) from error
    raise InputError("write-back cannot find this sheet in the workbook", file=path, sheet=sheet)


class _Patch:
    """The new bytes of the parts that change, computed without writing anything."""

    def __init__(self, source: Path, parts: dict[str, list[Chunk]], changes: list[CellChange], letters, new_headers):
        self.source = source
        self.parts = parts
        self.changes = changes
        self.letters: dict[str, str] = letters
        self.new_headers: list[str] = new_headers
        self.marks_changed = False

    @classmethod
    def build(
        cls,
        path: Path,
        sheet: str,
        header_row: int,
        labels: list[str],
        columns: list[WriteColumn],
        highlights: list[Highlight] | None = None,
    ) -> _Patch:
        with zipfile.ZipFile(path) as zf:
            part = _sheet_part(zf, sheet, path)
            xml = zf.read(part)
            styles_part = "xl/styles.xml" if "xl/styles.xml" in zf.namelist() else ""
            styles = zf.read(styles_part) if styles_part else b""
            shared = _SharedStrings(zf)
            sheet_patch = _SheetPatch(path, sheet, xml, header_row, labels, columns, shared)
            needs_date = any(isinstance(v, date) for c in columns for v in c.values.values())
            parts: dict[str, list[Chunk]] = {}
            if needs_date:
                if not styles_part:
                    raise InputError(
                        "the workbook has no styles part", file=path, hint="open it in Excel and save it again"
                    )
                styles, date_style = _date_style(styles)
                parts[styles_part] = [styles]
                sheet_patch.date_style = date_style
            if highlights is not None:
                if not styles_part:
                    raise InputError(
                        "the workbook has no styles part", file=path, hint="open it in Excel and save it again"
                    )
                styles, sheet_patch.mark_style = _mark_style(styles)
                parts[styles_part] = [styles]
                sheet_patch.highlights = highlights
            if styles_part and sheet_patch.needs_wrap():
                styles, sheet_patch.wrap_style = _wrap_style(styles)
                parts[styles_part] = [styles]
            parts[part] = sheet_patch.apply()
        for name, chunks in parts.items():
            _well_formed(name, chunks, path)
        patch = cls(path, parts, sheet_patch.changes, sheet_patch.letters, sheet_patch.new_headers)
        patch.marks_changed = sheet_patch.marks_changed
        return patch

    def write(self, target: Path) -> None:
        """Copy the source zip to ``target``: the same entries in the same order, patched parts replaced."""
        with zipfile.ZipFile(self.source) as zin, zipfile.ZipFile(target, "w", compresslevel=1) as zout:
            for info in zin.infolist():
                copy = zipfile.ZipInfo(info.filename, info.date_time)
                copy.compress_type = info.compress_type
                copy.external_attr = info.external_attr
                copy.create_system = info.create_system
                copy.comment = info.comment
                if info.filename in self.parts:  # streamed: the patched sheet is never joined into one copy
                    with zout.open(copy, "w", force_zip64=True) as stream:
                        for chunk in self.parts[info.filename]:
                            stream.write(chunk)
                else:
                    zout.writestr(copy, zin.read(info), compresslevel=6)
            zout.comment = zin.comment


class _SharedStrings:
    """The workbook's shared strings, parsed only if an old value must be shown."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self._zf = zf
        self._strings: list[str] | None = None

    def __getitem__(self, index: int) -> str:
        if self._strings is None:
            self._strings = []
            name = next((n for n in self._zf.namelist() if n.lower().endswith("sharedstrings.xml")), None)
            if name:
                root = ElementTree.fromstring(self._zf.read(name))
                for si in root:
                    self._strings.append("".join(t.text or "" for t in si.iter() if t.tag.endswith("}t")))
        return self._strings[index] if 0 <= index < len(self._strings) else ""


class _SheetPatch:
    def __init__(self, path, sheet, xml: bytes, header_row: int, labels, columns: list[WriteColumn], shared):
        self.path, self.sheet, self.xml, self.shared = path, sheet, xml, shared
        self.header_row = header_row
        self.columns = columns
        self.date_style: int | None = None
        self.wrap_style: int | None = None  # set when a text is wider than its column (``needs_wrap``)
        self.mark_style = 0
        self.highlights: list[Highlight] | None = None
        self.marks_changed = False
        self.changes: list[CellChange] = []
        if b"<sheetData" not in xml:
            raise InputError(
                "write-back cannot patch this sheet (its XML uses a form the toolkit does not write into)",
                file=path,
                sheet=sheet,
                hint="open the ledger in Excel and save it again as .xlsx",
            )
        existing = {exact_header(text): i for i, text in enumerate(labels) if exact_header(text)}
        last = max(len(labels) - 1, self._last_used_column(len(labels) - 1))
        if last + sum(1 for c in columns if exact_header(c.header) not in existing) >= _MAX_COLUMNS:
            raise InputError(
                f"no room for the new columns: the sheet holds cells up to column {column_letter(last)},"
                " Excel's last column is XFD",
                file=path,
                sheet=sheet,
                hint="delete the unused columns at the right of the sheet in Excel (or give the new columns'"
                " headers to empty columns of the ledger), then run again",
            )
        self.targets: list[tuple[int, WriteColumn]] = []
        self.new_headers: list[str] = []
        for column in columns:
            if exact_header(column.header) in existing:
                self.targets.append((existing[exact_header(column.header)], column))
            else:
                last += 1
                self.targets.append((last, column))
                self.new_headers.append(column.header)
        self.targets.sort(key=lambda t: t[0])
        self.letters = {c.header: column_letter(i) for i, c in self.targets}
        self.widths = {i: _width_for(c) for i, c in self.targets}
        self._check_merges()

    def needs_wrap(self) -> bool:
        """Whether a text written is wider than its column (it then wraps, in a row as tall as it needs)."""
        return any(
            isinstance(v, str) and text_lines(v, self.widths[i]) > 1 for i, c in self.targets for v in c.values.values()
        )

    def _lines(self, writes) -> int:
        """The lines the tallest of the row's written texts takes in its column."""
        return max(
            (text_lines(v, self.widths[i]) for i, _, v, is_header in writes if isinstance(v, str) and not is_header),
            default=1,
        )

    def _tall_enough(self, tag: bytes, lines: int) -> bytes:
        """The row tag with a height for ``lines`` lines of the toolkit's wrapped text; a row the
        user gave a height of their own keeps it, and none is ever made lower."""
        if lines <= 1 or self.wrap_style is None or _CUSTOM_HEIGHT.search(tag):
            return tag
        needed = lines * LINE_HEIGHT
        height = _HEIGHT.search(tag)
        if height is not None:
            if float(height.group(1)) >= needed:
                return tag
            tag = tag[: height.start()] + tag[height.end() :]
        at = tag.index(b"<row") + 4
        return tag[:at] + b' ht="%g" customHeight="1"' % needed + tag[at:]

    def _text_style(self, index: int, value: Any) -> bytes:
        if self.wrap_style is not None and isinstance(value, str) and text_lines(value, self.widths[index]) > 1:
            return b' s="%d"' % self.wrap_style
        return b""

    def _last_used_column(self, header_end: int) -> int:
        """The last column holding a cell or a merge. The sheet's ``<dimension>`` says so when
        it ends at the header's end; a dimension claiming more (A1:XFD1048576, as some tools
        write) is checked against the cells themselves."""
        found = _DIMENSION.search(self.xml)
        claimed = None
        if found:
            letters = re.match(rb"[A-Z]+", found.group(1).split(b":")[-1])
            claimed = column_index(letters.group().decode()) if letters else None
        if claimed is not None and claimed <= header_end:
            last = claimed
        else:
            last = -1
            for ref in _REF.finditer(self.xml, self.xml.find(b"<sheetData")):
                last = max(last, column_index(ref.group(1).decode()))
        for merge in _MERGE.finditer(self.xml):
            last = max(last, column_index(merge.group(3).decode()))
        return last

    def _check_merges(self) -> None:
        rows = [self.header_row, *(r for _, c in self.targets for r in c.values)]
        low, high = min(rows), max(rows)
        for merge in _MERGE.finditer(self.xml):
            c1, r1, c2, r2 = (merge.group(i).decode() for i in (1, 2, 3, 4))
            for index, column in self.targets:
                inside = column_index(c1) <= index <= column_index(c2) and int(r1) <= high and int(r2) >= low
                if inside and (int(r2) > int(r1) or c1 != c2):
                    raise InputError(
                        f"column {column_letter(index)} ({column.header}) crosses the merged cells {c1}{r1}:{c2}{r2}",
                        file=self.path,
                        sheet=self.sheet,
                        hint="unmerge them or rename that column, then run again",
                    )

    def apply(self) -> list[Chunk]:
        touched: dict[int, list[tuple[int, str, Any, bool]]] = {}  # row → (column, letter, value, is header)
        for index, column in self.targets:
            letter = column_letter(index)
            touched.setdefault(self.header_row, []).append((index, letter, column.header, True))
            for row, value in column.values.items():
                touched.setdefault(row, []).append((index, letter, value, False))
        header_style = self._header_style()
        xml = self.xml
        view = memoryview(xml)
        data_start = xml.index(b"<sheetData")
        last = max(i for i, _ in self.targets)
        out: list[Chunk] = [self._add_widths(self._widen_dimension(xml[:data_start], last))]
        position = data_start
        seen: set[int] = set()
        for match in _ROW_OPEN.finditer(xml, data_start):
            number = _ROW_NUMBER.search(match.group())
            if number is None:
                raise InputError(
                    "write-back cannot patch this sheet: its rows carry no numbers",
                    file=self.path,
                    sheet=self.sheet,
                    hint="open the ledger in Excel and save it again as .xlsx",
                )
            row = int(number.group(1))
            if row not in touched:
                continue
            seen.add(row)
            tag = match.group()
            if tag.endswith(b"/>"):
                end = close = match.end()
            else:
                close = xml.index(b"</row>", match.end())
                end = close + 6
            appended = (
                None if close == end else self._append_only(xml, match.end(), close, row, touched[row], header_style)
            )
            if appended is None:
                out.append(view[position : match.start()])
                out.append(self._patch_row(xml[match.start() : end], row, touched[row], header_style))
                position = end
                continue
            new_tag = self._tall_enough(
                self._widen_spans(tag, max(w[0] for w in touched[row]) + 1), self._lines(touched[row])
            )
            if new_tag is not tag:
                out.append(view[position : match.start()])
                out.append(new_tag)
                position = match.end()
            out.append(view[position:close])
            out.append(appended)
            position = close
            if len(seen) == len(touched):
                break
        missing = sorted(set(touched) - seen)
        if missing:  # rows the sheet does not hold (cannot happen for rows the reader read)
            raise InputError(
                f"write-back: row {missing[0]} is not in the sheet",
                file=self.path,
                sheet=self.sheet,
                hint="run the job again on the saved ledger",
            )
        tail = self._marks(xml[position:]) if self.highlights is not None else view[position:]
        out.append(self._widen_filter(bytes(tail)))
        return out

    def _widen_filter(self, tail: bytes) -> bytes:
        """The sheet's filter over the header row, carried on over the toolkit's columns when it
        ends where they begin (a filter elsewhere on the sheet is left as it is)."""
        found = _AUTOFILTER.search(tail)
        if found is None:
            return tail
        c1, r1, c2, r2 = found.group(1).decode(), int(found.group(2)), found.group(3).decode(), found.group(4)
        first, last = min(i for i, _ in self.targets), max(i for i, _ in self.targets)
        if r1 != self.header_row or column_index(c2) + 1 < first or column_index(c2) >= last:
            return tail
        ref = f"{c1}{r1}:{column_letter(last)}{r2.decode()}".encode()
        return tail[: found.start(1)] + ref + tail[found.end(4) :]

    def _marks(self, tail: bytes) -> bytes:
        """The part after the rows with the toolkit's conditional formats replaced by ``highlights``."""
        check = {c.key: column_letter(i) for i, c in self.targets}
        start = tail.index(b"</sheetData>") + len(b"</sheetData>")
        elements = _top_level(tail, start)
        kept = tail
        for name, begin, end in reversed(elements):  # drop the marks a previous run wrote
            if name == b"conditionalFormatting" and _is_our_mark(tail[begin:end]):
                kept = kept[:begin] + kept[end:]
        elements = _top_level(kept, start)
        priority = max([0, *(int(p) for p in re.findall(rb'priority="(\d+)"', kept))])
        blocks = []
        for n, mark in enumerate(self.highlights or [], start=1):
            if mark.check_key not in check:
                continue
            token = escape(mark.token.replace('"', '""'), quote=False).encode()
            blocks.append(
                b'<conditionalFormatting sqref="%s%d:%s%d"><cfRule type="expression" dxfId="%d" priority="%d">'
                b'<formula>ISNUMBER(SEARCH("%s",$%s%d))</formula></cfRule></conditionalFormatting>'
                % (
                    mark.column.encode(),
                    mark.first_row,
                    mark.column.encode(),
                    mark.last_row,
                    self.mark_style,
                    priority + n,
                    token,
                    check[mark.check_key].encode(),
                    mark.first_row,
                )
            )
        formats = [end for name, _, end in elements if name == b"conditionalFormatting"]
        if formats:  # after the user's own conditional formats
            at = formats[-1]
        else:  # else where the schema puts them: before the first element that follows them
            at = next((begin for name, begin, _ in elements if name in _AFTER_MARKS), kept.rfind(b"</worksheet>"))
        new = kept[:at] + b"".join(blocks) + kept[at:]
        self.marks_changed = new != tail
        return new

    def _header_style(self) -> bytes:
        """The style of the user's last header cell, so the new headers look like theirs."""
        for match in _ROW.finditer(self.xml, self.xml.index(b"<sheetData")):
            number = _ROW_NUMBER.search(match.group(), 0, match.group().index(b">") + 1)
            if number and int(number.group(1)) == self.header_row:
                cells = _CELL.findall(match.group())
                if cells:
                    style = _STYLE.search(cells[-1], 0, cells[-1].index(b">") + 1)
                    return style.group() if style else b""
                break
        return b""

    def _patch_row(self, row_xml: bytes, row: int, writes, header_style: bytes) -> bytes:
        tag_end = row_xml.index(b">")
        self_closing = row_xml[tag_end - 1 : tag_end] == b"/"
        open_tag = row_xml[: tag_end - 1] + b">" if self_closing else row_xml[: tag_end + 1]
        body = b"" if self_closing else row_xml[tag_end + 1 : -len(b"</row>")]
        cells = [(self._cell_column(c, row), c) for c in _CELL.findall(body)] if body else []
        if _CELL.sub(b"", body).strip(b" \r\n\t"):
            raise InputError(
                f"write-back cannot patch row {row}: it holds more than cells",
                file=self.path,
                sheet=self.sheet,
                hint="open the ledger in Excel and save it again as .xlsx",
            )
        by_column = dict(cells)
        if len(by_column) != len(cells):
            raise InputError(f"row {row} holds two cells in one column", file=self.path, sheet=self.sheet)
        for index, letter, value, is_header in writes:
            ref = f"{letter}{row}"
            if is_header and value not in self.new_headers:
                continue  # the column is already headed so
            old_xml = by_column.get(index)
            if old_xml is not None and b"<f" in old_xml:
                raise InputError(
                    f"cell {ref} holds a formula; write-back does not overwrite formulas",
                    file=self.path,
                    sheet=self.sheet,
                    hint=f"rename the column '{self._header_of(index)}' or move the formula, then run again",
                )
            old = self._old_value(old_xml, isinstance(value, date)) if old_xml is not None else ""
            new = _display(value)
            if old == new:
                continue
            if not is_header:
                self.changes.append(CellChange(self.sheet, ref, old, new))
            new_xml = self._cell(ref, value, header_style if is_header else self._text_style(index, value))
            if new_xml is None:
                by_column.pop(index, None)
            else:
                by_column[index] = new_xml
        ordered = b"".join(by_column[i] for i in sorted(by_column))
        if by_column:
            open_tag = self._widen_spans(open_tag, max(by_column) + 1)
        return self._tall_enough(open_tag, self._lines(writes)) + ordered + b"</row>"

    @staticmethod
    def _widen_spans(tag: bytes, last: int) -> bytes:
        """The row tag with its spans (an optional hint of the columns used) covering ``last``."""
        spans = _SPANS.search(tag)
        if spans and int(spans.group(2)) < last:
            return tag[: spans.start()] + b' spans="%s:%d"' % (spans.group(1), last) + tag[spans.end() :]
        return tag

    def _append_only(self, xml: bytes, start: int, close: int, row: int, writes, header_style: bytes) -> bytes | None:
        """The new cells, when they all go to the right of the last cell of the row between
        ``start`` and ``close`` in ``xml`` (the common case: no cell is parsed, nothing copied);
        None when the row needs the careful path."""
        first = min(w[0] for w in writes)
        last_cell = xml.rfind(b"<c", start, close)
        if last_cell >= 0:
            if xml[last_cell + 2 : last_cell + 3] not in (b" ", b"\t", b"\r", b"\n"):
                return None
            if xml.find(b"<extLst", last_cell, close) >= 0:
                return None
            ref = _REF.search(xml, last_cell, xml.find(b">", last_cell) + 1)
            if ref is None or column_index(ref.group(1).decode()) >= first:
                return None
        elif xml[start:close].strip(b" \r\n\t"):
            return None
        new = []
        for index, letter, value, is_header in sorted(writes, key=lambda w: w[0]):
            if is_header and value not in self.new_headers:
                continue
            ref_text = f"{letter}{row}"
            cell = self._cell(ref_text, value, header_style if is_header else self._text_style(index, value))
            if cell is not None:
                new.append(cell)
                if not is_header:
                    self.changes.append(CellChange(self.sheet, ref_text, "", _display(value)))
        return b"".join(new)

    def _header_of(self, index: int) -> str:
        return next((c.header for i, c in self.targets if i == index), column_letter(index))

    def _cell_column(self, cell: bytes, row: int) -> int:
        ref = _REF.search(cell, 0, cell.index(b">") + 1)
        if ref is None:
            raise InputError(
                f"write-back cannot patch row {row}: a cell carries no reference",
                file=self.path,
                sheet=self.sheet,
                hint="open the ledger in Excel and save it again as .xlsx",
            )
        return column_index(ref.group(1).decode())

    def _old_value(self, cell: bytes, as_date: bool = False) -> str:
        head = cell[: cell.index(b">") + 1]
        if b't="inlineStr"' in head:
            return "".join(unescape(t.decode()) for t in _TEXT.findall(cell))
        value = _VALUE.search(cell)
        if value is None:
            return ""
        text = unescape(value.group(1).decode())
        if b't="s"' in head:
            return self.shared[int(text)] if text.isdigit() else ""
        style = _STYLE.search(head)
        if as_date or self.date_style is not None and style and int(style.group(1)) == self.date_style:
            try:
                return (_EXCEL_EPOCH + timedelta(days=float(text))).isoformat()
            except (ValueError, OverflowError):
                return text
        return text

    def _cell(self, ref: str, value: Any, style: bytes) -> bytes | None:
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            serial = (value - _EXCEL_EPOCH).days
            return b'<c r="%s" s="%d"><v>%d</v></c>' % (ref.encode(), self.date_style or 0, serial)
        return b'<c r="%s"%s t="inlineStr"><is>%s</is></c>' % (ref.encode(), style, _inline_text(str(value)))

    def _widen_dimension(self, xml: bytes, last: int) -> bytes:  # on the part before <sheetData>
        found = _DIMENSION.search(xml)
        if not found:
            return xml
        ref = found.group(1).decode()
        first, _, end = ref.partition(":")
        end = end or first
        letters = re.match(r"[A-Z]+", end)
        digits = re.search(r"\d+$", end)
        if not letters or not digits or column_index(letters.group()) >= last:
            return xml
        start = first if ":" in ref else first
        new = f"{start}:{column_letter(last)}{digits.group()}".encode()
        return xml[: found.start(1)] + new + xml[found.end(1) :]

    def _add_widths(self, xml: bytes) -> bytes:
        """A width for each new column (where no <col> covers it yet), so its text can be read."""
        cols = re.search(rb"<cols>(.*?)</cols>", xml, re.S)
        existing: list[tuple[int, int, bytes]] = []  # (min, max, the element as written)
        if cols:
            for element in re.findall(rb"<col\b[^>]*?/>|<col\b[^>]*?>.*?</col>", cols.group(1), re.S):
                low, high = re.search(rb'\smin="(\d+)"', element), re.search(rb'\smax="(\d+)"', element)
                if low is None or high is None:
                    return xml  # not a form to add to safely: leave the widths alone
                existing.append((int(low.group(1)), int(high.group(1)), element))
        added = [
            (
                index + 1,
                index + 1,
                b'<col min="%d" max="%d" width="%.2f" customWidth="1"/>' % (index + 1, index + 1, _width_for(c)),
            )
            for index, c in self.targets
            if not any(lo <= index + 1 <= hi for lo, hi, _ in existing)
        ]
        if not added:
            return xml
        body = b"".join(element for *_, element in sorted(existing + added, key=lambda e: e[0]))
        if cols:
            return xml[: cols.start(1)] + body + xml[cols.end(1) :]
        return xml + b"<cols>" + body + b"</cols>"  # xml is the part before <sheetData>, cols go last in it


def _width_for(column: WriteColumn) -> float:
    """As wide as the column's longest text (a Chinese character counts two), at least the width
    it asks for, at most ``_WIDEST``: the full text of a longer one is in its cell and the job's
    workbook."""
    longest = max((estimated_width(v) for v in column.values.values() if isinstance(v, str)), default=0)
    return float(max(column.width, min(longest + 2, _WIDEST)))


@lru_cache(maxsize=4096)
def _inline_text(value: str) -> bytes:
    """<t>…</t> of an inline string: control characters dropped, escaped, within Excel's cell limit."""
    text = _ILLEGAL_XML.sub("", value)[:_MAX_CELL_TEXT]
    space = b' xml:space="preserve"' if text != text.strip() or "\n" in text else b""
    return b"<t%s>%s</t>" % (space, escape(text, quote=False).encode())


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return _ILLEGAL_XML.sub("", str(value))[:_MAX_CELL_TEXT]


def _date_style(styles: bytes) -> tuple[bytes, int]:
    """styles.xml with a plain 'yyyy-mm-dd' cell style (reused when a previous write-back added it)."""
    code = _DATE_FORMAT.encode()
    fmt_id = None
    for m in re.finditer(rb"<numFmt\b[^>]*>", styles):
        attrs = dict(re.findall(rb'\s(\w+)="([^"]*)"', m.group()))
        if attrs.get(b"formatCode", b"").replace(b"\\", b"").lower() == code and attrs.get(b"numFmtId", b"").isdigit():
            fmt_id = int(attrs[b"numFmtId"])
    if fmt_id is None:
        ids = [int(x) for x in re.findall(rb'numFmtId="(\d+)"', styles)]
        fmt_id = max([163, *ids]) + 1
        entry = b'<numFmt numFmtId="%d" formatCode="%s"/>' % (fmt_id, code)
        numfmts = re.search(rb"<numFmts\b[^>]*?(/?)>", styles)
        if numfmts and numfmts.group(1):  # <numFmts count="0"/>
            styles = (
                styles[: numfmts.start()] + b'<numFmts count="1">' + entry + b"</numFmts>" + styles[numfmts.end() :]
            )
        elif numfmts:
            end = styles.index(b"</numFmts>", numfmts.end())
            styles = styles[:end] + entry + styles[end:]
            count = re.search(rb'\scount="(\d+)"', numfmts.group())
            if count:  # optional; kept right when present
                at = numfmts.start() + count.start(1)
                styles = styles[:at] + str(int(count.group(1)) + 1).encode() + styles[numfmts.start() + count.end(1) :]
        else:
            root = re.search(rb"<styleSheet\b[^>]*>", styles)
            if root is None:
                raise InputError(
                    "write-back cannot read the workbook's styles", hint="open it in Excel and save it again"
                )
            styles = styles[: root.end()] + b'<numFmts count="1">' + entry + b"</numFmts>" + styles[root.end() :]
    xfs = re.search(rb'<cellXfs\b[^>]*?count="(\d+)"[^>]*>(.*?)</cellXfs>', styles, re.S)
    if xfs is None:
        raise InputError("write-back cannot read the workbook's cell styles", hint="open it in Excel and save it again")
    entries = re.findall(rb"<xf\b[^>]*?(?:/>|>.*?</xf>)", xfs.group(2), re.S)
    wanted = b'<xf numFmtId="%d" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' % fmt_id

    def plain_date(xf: bytes) -> bool:  # this format, no font, fill or border of its own (any attribute order)
        attrs = dict(re.findall(rb'\s(\w+)="([^"]*)"', xf[: xf.find(b">") + 1]))
        plain = all(attrs.get(k, b"0") == b"0" for k in (b"fontId", b"fillId", b"borderId"))
        return attrs.get(b"numFmtId") == str(fmt_id).encode() and plain and b"<alignment" not in xf

    reuse = next((i for i, xf in enumerate(entries) if plain_date(xf)), None)
    if reuse is not None:
        return styles, reuse
    styles = styles[: xfs.end(2)] + wanted + styles[xfs.end(2) :]
    styles = styles[: xfs.start(1)] + str(len(entries) + 1).encode() + styles[xfs.end(1) :]
    return styles, len(entries)


_WRAP_XF = (
    b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    b'<alignment vertical="top" wrapText="1"/></xf>'
)


def _wrap_style(styles: bytes) -> tuple[bytes, int]:
    """styles.xml with a wrapping cell style for the toolkit's long texts (reused when present)."""
    xfs = re.search(rb'<cellXfs\b[^>]*?count="(\d+)"[^>]*>(.*?)</cellXfs>', styles, re.S)
    if xfs is None:
        raise InputError("write-back cannot read the workbook's cell styles", hint="open it in Excel and save it again")
    entries = re.findall(rb"<xf\b[^>]*?(?:/>|>.*?</xf>)", xfs.group(2), re.S)
    if _WRAP_XF in entries:
        return styles, entries.index(_WRAP_XF)
    styles = styles[: xfs.end(2)] + _WRAP_XF + styles[xfs.end(2) :]
    styles = styles[: xfs.start(1)] + str(len(entries) + 1).encode() + styles[xfs.end(1) :]
    return styles, len(entries)


def _top_level(xml: bytes, start: int) -> list[tuple[bytes, int, int]]:
    """(name, start, end) of each element at the top level of ``xml`` from ``start`` (the
    worksheet's children after sheetData); nested ones such as a data bar's extLst are not."""
    found: list[tuple[bytes, int, int]] = []
    depth, opened, name = 0, 0, b""
    for tag in _TAG.finditer(xml, start):
        closing, tag_name, empty = tag.group(1), tag.group(2), tag.group(3)
        if tag.group().startswith((b"<?", b"<!")):
            continue
        if closing:
            depth -= 1
            if depth == 0:
                found.append((name, opened, tag.end()))
            elif depth < 0:  # </worksheet>
                break
        elif empty:
            if depth == 0:
                found.append((tag_name, tag.start(), tag.end()))
        else:
            if depth == 0:
                name, opened = tag_name, tag.start()
            depth += 1
    return found


def _is_our_mark(block: bytes) -> bool:
    """A <conditionalFormatting> whose every rule is a mark of the toolkit's."""
    rules = re.findall(rb"<cfRule\b.*?</cfRule>", block, re.S)
    return bool(rules) and all(_OUR_FORMULA.search(rule) for rule in rules)


def _mark_style(styles: bytes) -> tuple[bytes, int]:
    """styles.xml with the light-red differential style of the marks (reused when present)."""
    dxfs = re.search(rb"<dxfs\b[^>]*?(?:/>|>(.*?)</dxfs>)", styles, re.S)
    if dxfs is None:
        at = min(
            i for i in (styles.find(t) for t in (b"<tableStyles", b"<colors", b"<extLst", b"</styleSheet>")) if i >= 0
        )
        return styles[:at] + b'<dxfs count="1">' + _MARK_DXF + b"</dxfs>" + styles[at:], 0
    entries = re.findall(rb"<dxf\b[^>]*?(?:/>|>.*?</dxf>)", dxfs.group(1) or b"", re.S)
    if _MARK_DXF in entries:
        return styles, entries.index(_MARK_DXF)
    body = b"".join(entries) + _MARK_DXF
    return styles[: dxfs.start()] + b'<dxfs count="%d">' % (len(entries) + 1) + body + b"</dxfs>" + styles[
        dxfs.end() :
    ], len(entries)


def _write_live(
    path: Path, sheet: str, header_row: int, labels: list[str], columns: list[WriteColumn], *, dry_run: bool = False
) -> WriteBackResult:
    """Write the columns into the workbook open in Excel, through xlwings (Windows/macOS with Excel)."""
    try:
        import xlwings  # type: ignore[import-not-found]

        books = list(xlwings.books)
    except Exception as error:  # ImportError, or xlwings without a running Excel
        raise InputError(
            f"--live needs Excel running on Windows or macOS and the xlwings extra ({type(error).__name__})",
            file=path,
            hint="install it with: pip install 'crm-ledger-toolkit[excel]' — or run without --live",
        ) from None
    target = path.resolve()
    book = next((b for b in books if Path(b.fullname).resolve() == target), None)
    if book is None:
        raise InputError(
            "--live: this ledger is not open in Excel", file=path, hint="open it in Excel first, or run without --live"
        )
    ws = book.sheets[sheet]
    existing = {exact_header(text): i for i, text in enumerate(labels) if exact_header(text)}
    last = max(len(labels) - 1, ws.used_range.last_cell.column - 1)
    changes: list[CellChange] = []
    letters: dict[str, str] = {}
    for column in columns:
        index = existing.get(exact_header(column.header))
        if index is None:
            last += 1
            index = last
            if not dry_run:
                ws.range((header_row, index + 1)).value = column.header
        letters[column.header] = column_letter(index)
        for row, value in sorted(column.values.items()):
            cell = ws.range((row, index + 1))
            old = _display(cell.value)
            if old != _display(value):
                if not dry_run:
                    cell.value = value
                changes.append(CellChange(sheet, f"{column_letter(index)}{row}", old, _display(value)))
    return WriteBackResult(path, None if dry_run else path, changes, letters, live=True, dry_run=dry_run)

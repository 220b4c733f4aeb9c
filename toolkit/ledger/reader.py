"""Read a ledger into typed tables: customers, visits, complaints and monthly business.

Sheets are recognised by their headers, not by their position or name. Each value is
coerced by its field's kind; a value that cannot be read is kept in ``Sheet.bad`` with its
raw content so validation can report it with its sheet, row and column.
"""

from __future__ import annotations

import gc
import os
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from itertools import accumulate, islice
from typing import Any

from ..errors import InputError
from ..model import CUSTOMERS, FIELDS_BY_TABLE, TABLES, FormulaError, Ledger, Sheet
from .cell_errors import LEAP_DAY
from .coerce import _DIRTY, Coerced, coercer, parse_id, parse_text
from .headers import HeaderMatch, expected_headers, find_header
from .source import RawSheet, open_source

_TOTAL_ROW = {"合计", "小计", "总计", "合 计", "total", "subtotal", "grand total", "總計", "合計"}
_SHEET_HINTS = {
    CUSTOMERS: ("客户", "客戶", "台账", "台帳", "customer", "account"),
    "visits": ("拜访", "回访", "走访", "visit"),
    "complaints": ("投诉", "投訴", "complaint"),
    "monthly": ("月度", "月报", "业务量", "monthly"),
}


def read_ledger(
    path: str | os.PathLike[str],
    settings: Any = None,
    *,
    column_overrides: Mapping[str, Mapping[str, str]] | None = None,
    password: str | None = None,
) -> Ledger:
    """Read ``path`` (.xlsx, .xlsm, .xls, .csv) and return its sheets as pandas frames.

    ``settings`` (``toolkit.load_settings(workspace)``) applies the workspace's own column names
    (``[columns.*]`` in crm.toml, the 列名 sheet); ``column_overrides`` maps, per table, more
    headers as they appear in the ledger to a field key (``{"customers": {"甲方单位": "name"}}``).
    The frames are built when first asked for (``ledger.customers``), and pandas is imported
    only then: validate, classify and plan work from the columns and never import it.
    Raises ``InputError`` when the file cannot be read or holds no sheet with a customer header
    (the message lists the headers seen).
    """
    collecting = gc.isenabled()
    gc.disable()  # millions of new cells and no cycle among them: the collector's passes only cost time
    try:
        return _read(path, settings, column_overrides, password)
    finally:
        if collecting:
            gc.enable()


def _read(
    path: str | os.PathLike[str],
    settings: Any,
    column_overrides: Mapping[str, Mapping[str, str]] | None,
    password: str | None,
) -> Ledger:
    source = open_source(path, password)
    overrides: dict[str, dict[str, str]] = {}
    for extra in (settings.overrides_for_reader() if settings is not None else None, column_overrides):
        for table, names in (extra or {}).items():
            overrides.setdefault(table, {}).update(names)
    heads: dict[str, list[list[Any]]] = {}
    order = {id(sheet): n for n, sheet in enumerate(source.sheets)}
    # each role's best sheet so far: (score, -sheet position, what was read). A sheet plays the
    # one role it fits best, so it can be read as soon as it is parsed; a sheet beaten for its
    # role by a better one (or, on a tie, an earlier one) is dropped.
    best: dict[str, tuple[int, int, Sheet, RawSheet]] = {}
    keys: dict[str, str | None] = {}  # the customers' IDs and names, one string each for every sheet naming them
    for sheet in source.in_parsed_order():
        head = sheet.head(40)
        heads[sheet.name] = head
        role = _best_role(sheet, head, overrides)
        if role is not None:
            table, score, found = role
            rank = (score, -order[id(sheet)])
            if table not in best or rank > best[table][:2]:
                best[table] = (*rank, _read_table(sheet, found, source.date1904, keys), sheet)
        sheet.release()  # read, or playing no role: the parsed sheet goes
    if CUSTOMERS not in best:
        raise _no_header_error(source.path, source.sheets, heads)
    tables = {table: best[table][2] for table in TABLES if table in best}
    for table in tables:  # last: each sheet's error scan has had the time the others took to read
        read, raw = best[table][2], best[table][3]
        if raw.errors:
            _mark_formula_errors(raw.errors, read)
    notes = list(source.notes)
    for table, read in tables.items():
        notes.append(f"{read.sheet}: {table}, header row {read.header_rows[-1]}, {len(read)} rows")
    ledger = Ledger(str(source.path), tables, [s.name for s in source.sheets], notes, source.date1904)
    ledger.password = source.password
    return ledger


def _best_role(
    sheet: RawSheet, head: list[list[Any]], overrides: dict[str, dict[str, str]]
) -> tuple[str, int, HeaderMatch] | None:
    """The table this sheet fits best (the first of TABLES on a tie), its score and header:
    a sheet named for its role scores 2 more, a hidden sheet 100 less."""
    chosen = None
    for table in TABLES:
        found = find_header(table, head, sheet.merged, overrides.get(table))
        if found:
            bonus = 2 if any(h in sheet.name.lower() for h in _SHEET_HINTS[table]) else 0
            score = found.score + bonus + (0 if sheet.visible else -100)
            if chosen is None or score > chosen[1]:
                chosen = (table, score, found)
    return chosen


def _no_header_error(path, sheets: list[RawSheet], heads: dict[str, list[list[Any]]]) -> InputError:
    seen: list[str] = []
    for sheet in sheets:
        for row in heads.get(sheet.name, [])[:15]:
            cells = [str(c).strip() for c in row if str(c or "").strip()]
            if len(cells) >= 2 and any(not _is_number(c) for c in cells):
                seen = [f"{sheet.name}: " + ", ".join(cells[:8])]
                break
        if seen:
            break
    expected = " + ".join(expected_headers(CUSTOMERS))
    if not any(heads.values()) or not any(any(str(c).strip() for c in r) for h in heads.values() for r in h):
        return InputError("the workbook holds no data", file=path, hint="pick the ledger that has your customers in it")
    return InputError(
        "no sheet has a recognisable customer header row"
        + (f"; headers seen: {seen[0]}" if seen else "; no header-like row was seen"),
        file=path,
        hint=f"expected a column such as {expected} (or Company Name / Customer ID); "
        "name yours in the workspace config under [columns.customers]",
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


# rows coerced a chunk at a time: 256 rows' cells (a few thousand objects, well under a
# megabyte) are still in the processor's cache when their columns are walked; 8192-row chunks
# (about 20 MB of objects) made every column's pass wait on memory (measured: the read took
# 0.91× the time and 0.94× the processor at 100k rows, farm-bench, 7 pairs)
_CHUNK = 256
# the values a column has had when it is first judged mostly distinct (its repeats no longer
# shared or remembered): 600 owners make over half of the first 1,000 rows of a 300k ledger,
# but repeat over 8,192
_SAMPLE = 8192
_EXCEL_LEAP_DAY_AS_READ = (date(1900, 2, 28), datetime(1900, 2, 28))
_NONE = type(None)
_TEXT_OR_BLANK = {str, _NONE}
_BLANK_IS_NONE: dict[str, str | None] = {"": None}  # looked up, never written: a trimmed cell or None


_KEYS = ("name", "customer", "customer_id")


def _read_table(sheet: RawSheet, found: HeaderMatch, date1904: bool, keys: dict[str, str | None]) -> Sheet:
    """``keys``: the strings of the customer IDs and names read so far, in any sheet; a visit
    or a month naming a customer shares the customer row's string instead of holding its own."""
    fields = FIELDS_BY_TABLE[found.table]
    columns = [
        _ColumnReader(
            key,
            column.index,
            coercer(fields[key].kind, unit=column.unit, date1904=date1904),
            fields[key].kind == "percent",
            column.extra,
            column.unit if fields[key].kind == "amount" else None,
            keys if key in _KEYS else None,
        )
        for key, column in found.columns.items()
    ]
    key_columns = [c.index for k, c in found.columns.items() if k in _KEYS]
    markers = _TOTAL_ROW | {label.strip().lower() for label in found.labels if label}
    initials = {m[:1] for m in markers if m} | {m[:1] for m in _NOTE_MARKS} | {" ", "\u3000"}
    initials |= {c.upper() for c in initials}  # markers are lower-cased; cells are not
    lead_initials = _LEAD_INITIALS | {" ", "\u3000"}  # leading cells worth a closer look
    mapped_indexes = [i for c in found.columns.values() for i in (c.index, *c.extra)]
    need = max(mapped_indexes) + 1
    padding = [""] * need
    rows = _RowNumbers()
    chunk: list[list[Any]] = []
    start = found.data_start
    # a value merged down over several rows (an owner for a block of customers) fills each of them
    merged_down: dict[int, list[tuple[int, int, int]]] = {}
    for (r1, c1), (r2, c2) in sheet.merged:
        if r1 >= start and r2 > r1:
            merged_down.setdefault(r1, []).append((c1, c2, r2))
    fills: dict[int, list[tuple[int, Any]]] = {}
    for number, row in enumerate(islice(sheet.iter_rows(), start, None), start):
        if len(row) < need:
            row = row + padding[: need - len(row)]
        if merged_down:
            row = _fill_merged_down(row, number, merged_down, fills)
        for i in mapped_indexes:
            if row[i] != "" and row[i] is not None:
                break
        else:
            if sum(1 for cell in row if cell not in ("", None)) <= 1:
                continue  # blank, or a note beside the ledger's columns
        lead = row[0]
        suspect = lead.__class__ is str and lead[:1] in lead_initials
        if not suspect:
            for k in key_columns:
                cell = row[k]
                if cell.__class__ is str and cell[:1] in initials:
                    suspect = True
                    break
        if suspect and _not_a_record(row, key_columns, markers, initials):
            continue
        rows.append(number + 1)
        chunk.append(row)
        if len(chunk) == _CHUNK:
            _take_chunk(columns, chunk, rows.count - len(chunk))
            chunk = []
    _take_chunk(columns, chunk, rows.count - len(chunk))
    values = {c.key: c.values for c in columns}
    _scale_percent_fractions(found, values, {c.key: c.typed_numbers for c in columns if c.percent})
    return Sheet(
        found.table,
        sheet.name,
        tuple(r + 1 for r in found.header_rows),
        found.columns,
        rows.done(),
        values,
        bad={c.key: c.bad for c in columns if c.bad},
        unmapped_headers=found.unmapped,
        labels=found.labels,
    )


class _RowNumbers:
    """The 1-based Excel rows of a table's records as they are found: a ``range`` while they
    follow each other (a ledger without blank or note rows between its records, the common
    case: no int object per row), a list from the first gap on."""

    def __init__(self) -> None:
        self.first, self.count = 0, 0
        self.listed: list[int] | None = None

    def append(self, number: int) -> None:
        if self.listed is not None:
            self.listed.append(number)
        elif not self.count:
            self.first = number
        elif number != self.first + self.count:
            self.listed = [*range(self.first, self.first + self.count), number]
        self.count += 1

    def done(self) -> Sequence[int]:
        return self.listed if self.listed is not None else range(self.first, self.first + self.count)


def _take_chunk(columns: list[_ColumnReader], chunk: list[list[Any]], base: int) -> None:
    """Each column's cells of a chunk of rows, the chunk transposed once (in C, not per column)."""
    if not chunk:
        return
    by_index = list(zip(*chunk, strict=False))  # rows differ in width, all wide enough
    for column in columns:
        if column.extra:
            column.take([_combined(row, column.index, column.extra) for row in chunk], base)
        else:
            column.take(by_index[column.index], base)


class _ColumnReader:
    """Coerces one column, a chunk of rows at a time; remembers repeated values while that pays."""

    def __init__(
        self,
        key: str,
        index: int,
        coerce: Callable[[Any], Coerced],
        percent: bool,
        extra: tuple[int, ...] = (),
        amount_unit: float | None = None,
        keys: dict[str, str | None] | None = None,
    ) -> None:
        self.key, self.index, self.coerce, self.percent = key, index, coerce, percent
        self.extra = extra
        self.amount_unit = amount_unit  # an amount column: numbers need only the header's unit
        self.plain_text = coerce is parse_text or coerce is parse_id  # always readable: a fast path
        self.values: list[Any] = []
        self.bad: dict[int, Any] = {}
        self.typed_numbers: set[int] = set()
        self.cache: dict[Any, Coerced] | None = {}
        # a text column's strings, one object per value; the keys (IDs, names) are shared by
        # every sheet, the other columns' strings while they repeat
        self.shared: dict[str, str | None] | None = keys if keys is not None else {}
        if self.shared is not None:
            self.shared.setdefault("", None)  # a blank cell, trimmed to '', is read as None
        self.always_shared = keys is not None

    def _take_text(self, cells: Sequence[Any]) -> None:
        """Text and IDs: a clean string is kept as it is (trimmed); anything else goes through
        the coercer. Never unreadable, so no bookkeeping of bad cells. A chunk of strings and
        blanks is checked in one pass over its joined text: only the cells the dirty pattern
        finds (full-width or stray spaces) go through the coercer. The cells are trimmed and
        shared by ``map`` over C functions (``str.strip``, a dict's ``setdefault``)."""
        coerce = self.coerce
        try:
            joined = "\x00".join(cells)  # all strings (calamine reads an empty cell as ''): the common case
            texts = cells
        except TypeError:
            kinds = set(map(type, cells))
            if not kinds <= _TEXT_OR_BLANK:
                self.values.extend(None if c is None or c == "" else coerce(c)[0] for c in cells)
                return
            texts = ["" if c is None else c for c in cells]
            joined = "\x00".join(texts)
        stripped = list(map(str.strip, texts))
        # a column of repeated values (owners, cities): one string each; '' (a blank) is None
        if self.shared is not None:
            out: list[Any] = list(map(self.shared.setdefault, stripped, stripped))
        else:
            out = list(map(_BLANK_IS_NONE.get, stripped, stripped))
        found = _DIRTY.search(joined)
        if found is not None:
            ends = list(accumulate(len(t) + 1 for t in texts))  # where each cell's text ends, separator included
            for match in _DIRTY.finditer(joined, found.start()):
                i = bisect_right(ends, match.start())
                if i < len(texts) and texts[i]:
                    out[i] = coerce(texts[i])[0]
        self.values.extend(out)
        if (
            self.shared is not None
            and not self.always_shared
            and len(self.shared) > 0.5 * len(self.values)
            and len(self.values) >= _SAMPLE
        ):
            self.shared = None  # mostly distinct (addresses, notes): sharing only costs time

    def take(self, cells: Sequence[Any], base: int) -> None:
        """Coerce the column's ``cells`` of one chunk, the first of them row ``base`` of the table."""
        if self.plain_text and not self.extra:
            self._take_text(cells)
            return
        coerce, cache, out, bad = self.coerce, self.cache, self.values, self.bad
        append = out.append
        percent, typed_numbers = self.percent, self.typed_numbers
        unit = self.amount_unit
        j = base - 1
        for raw in cells:
            j += 1
            if unit is not None and raw.__class__ is float:  # the common case of an amount column
                append(raw * unit)
                continue
            if raw == "" or raw is None:
                append(None)
                continue
            if cache is not None:
                hit = cache.get(raw)
                if hit is None:
                    hit = coerce(raw)
                    if raw.__class__ is not bool:  # True == 1.0: keep booleans out of the cache
                        cache[raw] = hit
            else:
                hit = coerce(raw)
            append(hit[0])
            if not hit[1]:
                bad[j] = raw
            elif percent and isinstance(raw, (int, float)):
                typed_numbers.add(j)
        if cache is not None and len(cache) > 0.5 * len(out) and len(out) >= _SAMPLE:
            self.cache = None  # mostly distinct values (names, phones): caching only costs memory


def _mark_formula_errors(errors: dict[tuple[int, int], str], read: Sheet) -> None:
    """A cell showing #REF!, #N/A … came through as blank: its value is unreadable instead
    (``Sheet.bad``), so it is reported as a formula error and never counted as empty."""
    by_index = {i: key for key, column in read.columns.items() for i in (column.index, *column.extra)}
    rows = read.rows
    for (r, c), text in errors.items():
        key = by_index.get(c)
        j = bisect_left(rows, r + 1)
        if key is None or j == len(rows) or rows[j] != r + 1:
            continue  # a header, a skipped row or an unmapped column
        values = read.column(key)
        if text == LEAP_DAY:  # serial 60 in a date column: a date Excel shows but that never was
            if values[j] in _EXCEL_LEAP_DAY_AS_READ:
                read.bad.setdefault(key, {})[j], values[j] = LEAP_DAY, None
            continue
        read.bad.setdefault(key, {})[j] = FormulaError(text)
        if c == read.columns[key].index and not read.columns[key].extra:
            values[j] = None


def _fill_merged_down(
    row: list[Any],
    number: int,
    merged_down: dict[int, list[tuple[int, int, int]]],
    fills: dict[int, list[tuple[int, Any]]],
) -> list[Any]:
    for c1, c2, r2 in merged_down.get(number, ()):
        value = row[c1] if c1 < len(row) else ""
        for r in range(number, r2 + 1):
            fills.setdefault(r, []).extend((c, value) for c in range(c1, c2 + 1) if (r, c) != (number, c1))
    pending = fills.pop(number, None)
    if pending:
        row = list(row)
        for c, value in pending:
            if c >= len(row):
                row.extend([""] * (c + 1 - len(row)))
            if row[c] in ("", None):
                row[c] = value
    return row


def _combined(row: list[Any], index: int, extra: tuple[int, ...]) -> Any:
    """The cells of several columns feeding one field (手机, 座机), joined with '; '."""
    cells = [row[i] for i in (index, *extra) if row[i] not in ("", None)]
    if len(cells) <= 1:
        return cells[0] if cells else ""
    return "; ".join(str(int(c)) if isinstance(c, float) and c.is_integer() else str(c) for c in cells)


_NOTE_MARKS = ("注", "备注", "说明", "註", "note", "*", "※", "制表", "填表")
# the first cell of a footer line, whatever else the line holds
_FOOTER_MARKS = (
    "注：",
    "注:",
    "备注：",
    "备注:",
    "说明：",
    "说明:",
    "填表人",
    "制表人",
    "审核人",
    "审批人",
    "复核人",
    "制表：",
    "制表:",
    "填表日期",
    "prepared by",
    "checked by",
)


_LEAD_INITIALS = {m[0] for m in (*_TOTAL_ROW, *_FOOTER_MARKS)} | {m[0].upper() for m in (*_TOTAL_ROW, *_FOOTER_MARKS)}


def _not_a_record(row: list[Any], key_columns: list[int], markers: set[str], initials: set[str]) -> bool:
    """A totals row (合计 in any leading cell), a repeated header, a footer line (填表人：…)
    or a one-cell note under the data. ``initials`` are the first characters of ``markers``
    and note marks: a cell starting otherwise is looked at no further (the common case)."""
    width = len(row)
    for cell in row[:3]:
        if cell not in ("", None):
            if cell.__class__ is str and cell.lstrip()[:1] in _LEAD_INITIALS:
                text = cell.strip().lower()
                if text in _TOTAL_ROW or text.startswith(_FOOTER_MARKS):
                    return True
            break
    for index in key_columns:
        cell = row[index] if index < width else None
        if cell.__class__ is str and cell and cell.lstrip()[:1].lower() in initials:
            text = cell.strip().lower()
            if text in markers:
                return True
            if text.startswith(_NOTE_MARKS):
                return sum(1 for c in row if c not in ("", None)) == 1
    return False


def _scale_percent_fractions(
    found: HeaderMatch, values: dict[str, list[Any]], typed_numbers: dict[str, set[int]]
) -> None:
    """A share column of Excel percent cells holds 0.05 for 5 %. The numbers typed in the column
    (not '5%' text) are taken as fractions and scaled once when the header names no unit,
    nearly all are within ±1 and together they make at most 100 % (shares of one company's
    business cannot add up to more); otherwise they are percent points as typed (0.5 = 0.5 %)."""
    for key, indexes in typed_numbers.items():
        header = found.columns[key].header
        if not indexes or "%" in header or "％" in header:
            continue
        column = values[key]
        within = sum(1 for i in indexes if abs(column[i]) <= 1.0)
        if within >= 0.9 * len(indexes) and sum(column[i] for i in indexes) <= 1.05:
            for i in indexes:
                column[i] *= 100

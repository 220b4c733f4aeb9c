"""Find the header row of a sheet and map its columns to the toolkit's fields.

Pure functions over the first rows of a sheet and its merged ranges: no file access.
Handles title rows above the header, merged group headers and two-row headers, headers in
Simplified or Traditional Chinese or English, required-field markers (``客户名称*``) and a
unit in brackets (``年销售额(万元)``), and column names a workspace maps by hand.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..model import ANCHORS, FIELDS, FIELDS_BY_TABLE, TABLES, Column
from .coerce import unit_factor

HEADER_SCAN_ROWS = 30

# Traditional → Simplified for the characters that occur in ledger headers. Headers only:
# the data itself is never converted.
_TRAD = str.maketrans(
    "戶稱話電額銷聯繫業務訪問級類別區負責員經歷錄訴處滿號碼郵網營規評價據資檔購買實際"
    "貨單總計產開發紀記錄簡體歲齡齊時間週報數當點單純擊態狀圖標誌證書帳賬齊潛願絡設與屬"
    "現達這們個對為於從來說結機構關係劃進計劃項範條約審專區縣鎮鄉號樓層務價"
    "後覆決內佔動撥幣寫圍優質題議見饋採備註稅額與應舊總類續絡聯標識倉儲運輸貿",
    "户称话电额销联系业务访问级类别区负责员经历录诉处满号码邮网营规评价据资档购买实际"
    "货单总计产开发纪记录简体岁龄齐时间周报数当点单纯击态状图标志证书帐账齐潜愿络设与属"
    "现达这们个对为于从来说结机构关系划进计划项范条约审专区县镇乡号楼层务价"
    "后复决内占动拨币写围优质题议见馈采备注税额与应旧总类续络联标识仓储运输贸",
)
_UNIT_IN_BRACKETS = re.compile(r"[(\[（【]\s*([^()\[\]（）【】]*?)\s*[)\]）】]\s*$")
_UNIT_AFTER_SLASH = re.compile(r"[/／]\s*(万元|元|亿元|千元|万|亿|%)$")


def normalize_header(value: Any) -> tuple[str, str]:
    """'年銷售額（萬元）*' → ('年销售额', '万元'): folded for matching, plus the unit if any."""
    if value is None:
        return "", ""
    text = unicodedata.normalize("NFKC", str(value)).translate(_TRAD).replace("萬", "万")
    text = text.strip().rstrip("*:：").strip()
    unit = ""
    found = _UNIT_IN_BRACKETS.search(text) or _UNIT_AFTER_SLASH.search(text)
    if found:
        unit, text = found.group(1).strip(), text[: found.start()]
    text = re.sub(r"[\s_\-.]+", "", text).lower().strip("*")
    return text, unit


IGNORED = "-"  # an override to this key: the column is the toolkit's own (written back), never read


def _exact(label: Any) -> str:
    return unicodedata.normalize("NFKC", str(label)).strip() if label is not None else ""


def _alias_index(table: str, overrides: Mapping[str, str]) -> dict[str, tuple[str, int]]:
    """normalised header → (field key, priority); lower priority number wins.

    Headers overridden to ``IGNORED`` are kept by their exact text under the key ``"=" + text``:
    '客户分类(系统)' must be skipped while '客户分类' (the same after normalising) is read.
    """
    index: dict[str, tuple[str, int]] = {}
    for header, key in overrides.items():
        if key == IGNORED:
            index["=" + _exact(header)] = (IGNORED, -2)
        elif key in FIELDS_BY_TABLE[table]:
            index[normalize_header(header)[0]] = (key, -1)
    for field in FIELDS:
        if field.table != table:
            continue
        for rank, alias in enumerate(field.aliases):
            norm = normalize_header(alias)[0]
            if norm and norm not in index:
                index[norm] = (field.key, rank)
    return index


@dataclass
class HeaderMatch:
    table: str
    score: int
    header_rows: tuple[int, ...]  # 0-based rows that make up the header
    columns: dict[str, Column]
    unmapped: list[str]
    labels: list[str]  # the header text per column, as seen

    @property
    def data_start(self) -> int:
        return self.header_rows[-1] + 1


def column_index(letters: str) -> int:
    """'A' → 0, 'AB' → 27: the inverse of ``column_letter``."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _fill_merged(rows: list[list[Any]], merged: Sequence[tuple[tuple[int, int], tuple[int, int]]]) -> list[list[Any]]:
    """Copy each merged range's top-left value into the header cells it covers."""
    filled = [list(r) for r in rows]
    for (r1, c1), (r2, c2) in merged:
        if r1 >= len(filled):
            continue
        value = filled[r1][c1] if c1 < len(filled[r1]) else ""
        for r in range(r1, min(r2, len(filled) - 1) + 1):
            row = filled[r]
            if len(row) <= c2:
                row.extend([""] * (c2 + 1 - len(row)))
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1):
                    row[c] = value
    return filled


MULTI_COLUMN_FIELDS = {"phone", "email"}  # several columns are combined, not dropped


def _map(labels: Sequence[Any], index: dict[str, tuple[str, int]]):
    best: dict[str, tuple[int, int, str, str]] = {}  # key → (priority, column, header, unit)
    extra: dict[str, list[int]] = {}
    unmapped = []
    for col, label in enumerate(labels):
        norm, unit = normalize_header(label)
        if not norm or "=" + _exact(label) in index:
            continue
        hit = index.get(norm)
        if hit is None:
            unmapped.append(str(label).strip())
            continue
        key, priority = hit
        if key in best and key in MULTI_COLUMN_FIELDS:
            extra.setdefault(key, []).append(col)
        elif key not in best or priority < best[key][0]:
            if key in best:
                unmapped.append(best[key][2])
            best[key] = (priority, col, str(label).strip(), unit)
        else:
            unmapped.append(str(label).strip())
    return best, unmapped, extra


def _score(table: str, keys: Sequence[str]) -> int:
    present = set(keys)
    for group in ANCHORS[table]:
        if not present & set(group):
            return 0
    fields = FIELDS_BY_TABLE[table]
    return sum(fields[k].weight for k in present)


def find_header(
    table: str,
    head: list[list[Any]],
    merged: Sequence[tuple[tuple[int, int], tuple[int, int]]],
    overrides: Mapping[str, str] | None = None,
) -> HeaderMatch | None:
    """The best header for ``table`` among the first rows of a sheet, or None."""
    index = _alias_index(table, overrides or {})
    rows = _fill_merged(head[:HEADER_SCAN_ROWS], merged)
    header_merges = {r1 for (r1, c1), (r2, c2) in merged if r1 < HEADER_SCAN_ROWS and (r2 > r1 or c2 > c1)}
    best: HeaderMatch | None = None
    for r, row in enumerate(rows):
        candidates: list[tuple[tuple[int, ...], list[Any]]] = [((r,), list(row))]
        if r in header_merges and r + 1 < len(rows):
            below = rows[r + 1]
            width = max(len(row), len(below))
            combined = []
            for c in range(width):
                top = row[c] if c < len(row) else ""
                low = below[c] if c < len(below) else ""
                top_s, low_s = str(top or "").strip(), str(low or "").strip()
                if top_s and low_s and low_s != top_s and normalize_header(top_s + low_s)[0] in index:
                    combined.append(top_s + low_s)
                elif low_s and low_s != top_s and normalize_header(low_s)[0] in index:
                    combined.append(low_s)
                else:
                    combined.append(top_s if top_s else low_s)
            candidates.append(((r, r + 1), combined))
        for rows_used, labels in candidates:
            mapped, unmapped, extra = _map(labels, index)
            score = _score(table, list(mapped))
            if score == 0:
                continue
            if (
                best is None
                or score > best.score
                or (
                    score == best.score
                    and len(rows_used) < len(best.header_rows)
                    and rows_used[-1] <= best.header_rows[-1]
                )
            ):
                columns = {
                    key: Column(key, column_letter(col), col, header, _unit(unit), tuple(extra.get(key, ())))
                    for key, (_, col, header, unit) in mapped.items()
                }
                best = HeaderMatch(table, score, rows_used, columns, unmapped, [str(x).strip() for x in labels])
    return best


def _unit(unit: str) -> float:
    if unit in ("%", "％"):
        return 1.0
    return unit_factor(unit) or 1.0


def expected_headers(table: str, lang: str = "zh") -> list[str]:
    """The headers that make a sheet ``table``, for error messages."""
    out = []
    for group in ANCHORS[table]:
        names = [FIELDS_BY_TABLE[table][k].label(lang) for k in group]
        out.append(" / ".join(names))
    return out


__all__ = ["HeaderMatch", "column_letter", "expected_headers", "find_header", "normalize_header", "TABLES"]

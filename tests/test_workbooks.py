"""Every kind of workbook the toolkit writes, read back by two readers and by LibreOffice.

The demo writes the validation, classification, plan, monthly-report and survey-results
workbooks and the outbox index; a reminder dry run adds its preview and `crm validate --lang
en --split` an English workbook and the per-owner ones. Their list sheets are streamed as sheet
XML (toolkit/xlsx/rows.py), the rest written by XlsxWriter: openpyxl and python-calamine must
read the same value in every cell of every sheet, and LibreOffice must open each one and keep
those values when it saves it again.
"""

from __future__ import annotations

import math
import subprocess
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from conftest import run_crm, soffice
from python_calamine import CalamineWorkbook

from toolkit.demo import run_demo

TODAY = date(2026, 11, 26)


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("workbooks") / "ws"
    run_demo(folder, TODAY)
    preview = run_crm("remind", "visits", "--dry-run", "-w", str(folder), "--today", TODAY.isoformat())
    assert preview.returncode == 0, preview.stderr
    english = run_crm("validate", "-w", str(folder), "--lang", "en", "--split", "--out", str(folder / "out" / "en"),
                      "--today", TODAY.isoformat())  # fmt: skip
    assert english.returncode == 0, english.stderr
    today = ["--today", TODAY.isoformat()]
    en = ["-w", str(folder), "--lang", "en", "--out", str(folder / "out" / "en")]
    for args in (["run", "classify", "plan", "report"], ["survey", "results", "--campaign", "2026Q4"]):
        done = run_crm(*args, *en, *today)
        assert done.returncode == 0, (args, done.stderr)
    found = sorted(p for p in folder.rglob("*.xlsx") if p.parts[-2] in ("out", "en", "outbox") or "预览" in p.name)
    kinds = {p.name.split("_")[1] if "_" in p.name else p.stem for p in found}
    assert {"校验结果", "客户分类", "拜访计划", "月度报告", "2026Q4", "validation", "发件箱索引"} <= kinds, kinds
    return found


def _cell(value):
    """A value as both readers can agree on it: numbers as float, dates as datetime, blank as None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return round(float(value), 9)
    if isinstance(value, datetime):
        return value.replace(microsecond=0)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return value


def _grid(rows) -> dict[tuple[int, int], object]:
    return {(r, c): v for r, row in enumerate(rows) for c, value in enumerate(row) if (v := _cell(value)) is not None}


def calamine_cells(path: Path) -> dict[str, dict[tuple[int, int], object]]:
    book = CalamineWorkbook.from_path(str(path))
    out = {}
    for name in book.sheet_names:
        sheet = book.get_sheet_by_name(name)
        top, left = sheet.start or (0, 0)
        out[name] = {(r + top, c + left): v for (r, c), v in _grid(sheet.to_python()).items()}
    return out


def openpyxl_cells(path: Path) -> dict[str, dict[tuple[int, int], object]]:
    book = openpyxl.load_workbook(path)
    return {sheet.title: _grid(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def _same(a: dict, b: dict, where: str) -> None:
    assert a.keys() == b.keys(), f"{where}: cells only in one: {sorted(set(a) ^ set(b))[:5]}"
    for key, value in a.items():
        other = b[key]
        if isinstance(value, float) and isinstance(other, float):
            assert math.isclose(value, other, rel_tol=1e-9, abs_tol=1e-9), f"{where} {key}: {value} ≠ {other}"
        else:
            assert value == other, f"{where} {key}: {value!r} ≠ {other!r}"


def test_two_readers_read_the_same_cells(workbooks):
    for path in workbooks:
        by_calamine, by_openpyxl = calamine_cells(path), openpyxl_cells(path)
        assert by_calamine.keys() == by_openpyxl.keys()
        assert any(by_calamine.values()), path.name  # read, not empty
        for name in by_calamine:
            _same(by_openpyxl[name], by_calamine[name], f"{path.name} · {name}")


def test_every_list_sheet_has_its_header_frozen_and_filtered(workbooks):
    seen = 0
    for path in workbooks:
        for sheet in openpyxl.load_workbook(path).worksheets:
            if sheet.auto_filter.ref:  # a list sheet
                seen += 1
                header_row = int(sheet.auto_filter.ref.split(":")[0].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
                assert sheet.freeze_panes == f"A{header_row + 1}", (path.name, sheet.title)
                assert sheet.print_title_rows, (path.name, sheet.title)
                assert sheet.page_setup.fitToWidth in (1, None) and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert seen >= 15


def test_every_sheet_prints_with_the_title_and_page_numbers(workbooks):
    for path in workbooks:
        for sheet in openpyxl.load_workbook(path).worksheets:
            where = (path.name, sheet.title)
            assert sheet.oddHeader.left.text and "&D" in (sheet.oddHeader.right.text or ""), where
            assert "&P" in (sheet.oddFooter.center.text or ""), where
            assert sheet.page_setup.paperSize == 9 and sheet.sheet_properties.pageSetUpPr.fitToPage, where


@pytest.mark.libreoffice
def test_libreoffice_opens_each_and_keeps_its_values(workbooks, tmp_path):
    office = soffice()
    if office is None:
        pytest.skip("LibreOffice (soffice) is not installed; .ci/run installs it")
    out = tmp_path / "lo"
    for n, path in enumerate(workbooks):  # names repeat across folders: one output folder each
        subprocess.run(
            [office, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to", "xlsx",
             "--outdir", str(out / str(n)), str(path)],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip
        saved = calamine_cells(out / str(n) / path.name)
        original = calamine_cells(path)
        assert list(saved) == list(original), path.name
        for name in original:
            _same(original[name], saved[name], f"LibreOffice {path.name} · {name}")


def _exact_width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _layout_problems(path: Path) -> list[str]:
    """Every text cell that a reader would see cut: wider than its column (and than the empty
    cells beside it), or wrapped in a row too low for its lines; a title taller than its row."""
    from openpyxl.utils import column_index_from_string

    problems = []
    for sheet in openpyxl.load_workbook(path).worksheets:
        default = sheet.sheet_format.defaultColWidth or 8.43
        widths: dict[int, float] = {}
        for letter, dim in sheet.column_dimensions.items():
            low, high = dim.min or column_index_from_string(letter), dim.max or column_index_from_string(letter)
            for c in range(low, high + 1):
                widths[c] = dim.width or default
        merged = {(m.min_row, m.min_col): m for m in sheet.merged_cells.ranges}
        inside = {(r, c) for m in sheet.merged_cells.ranges for r in range(m.min_row, m.max_row + 1)
                  for c in range(m.min_col, m.max_col + 1)}  # fmt: skip
        for row in sheet.iter_rows():
            for cell in row:
                if not isinstance(cell.value, str) or not cell.value.strip() or cell.data_type == "f":
                    continue
                r, c = cell.row, cell.column
                span = merged.get((r, c))
                columns = range(c, (span.max_col if span else c) + 1)
                width = sum(widths.get(k, default) for k in columns)
                height = sum(sheet.row_dimensions[k].height or 15 for k in range(r, (span.max_row if span else r) + 1))
                size = cell.font.sz or 11
                lines = cell.value.split("\n")
                where = f"{path.name} · {sheet.title}!{cell.coordinate}"
                if cell.alignment.wrap_text:
                    needed = sum(max(1, math.ceil(_exact_width(t) / max(width - 1, 1))) for t in lines)
                    if height < needed * size * 1.25:
                        problems.append(f"{where}: {needed} lines in a {height} pt row: {cell.value[:40]!r}")
                    continue
                if len(lines) > 1:
                    problems.append(f"{where}: line breaks in a cell that does not wrap")
                    continue
                if height < size * 1.25:
                    problems.append(f"{where}: {size} pt text in a {height} pt row")
                room, k = width, columns[-1] + 1
                while (
                    _exact_width(cell.value) > room - 1
                    and not span
                    and cell.alignment.horizontal in (None, "left", "general")
                ):
                    neighbour = sheet.cell(r, k)
                    if neighbour.value not in (None, "") or (r, k) in inside or k > c + 30:
                        break
                    room += widths.get(k, default)
                    k += 1
                if _exact_width(cell.value) > room - 1:
                    problems.append(f"{where}: {_exact_width(cell.value)} wide in {width:.0f}: {cell.value[:40]!r}")
    return problems


def test_every_text_cell_fits_its_column_or_wraps_in_a_row_tall_enough(workbooks):
    """What the issue on managers' workbooks asked for, kept checked: in Excel, WPS and
    LibreOffice no text is cut and no title runs into the row below it (a Chinese character
    counts two; text may run on over empty cells to its right, as the programs draw it)."""
    problems = [p for path in workbooks for p in _layout_problems(path)]
    assert not problems, f"{len(problems)} cut texts, e.g.:\n" + "\n".join(problems[:40])


def _texts(path: Path):
    for sheet in openpyxl.load_workbook(path).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.data_type != "f":
                    yield f"{path.name} · {sheet.title}!{cell.coordinate}", cell.value


def test_no_chinese_workbook_holds_english_words_but_names_and_codes(workbooks):
    """Addresses, paths, commands, the finding codes, ratings and the survey's abbreviations are
    English by nature; any other English word in a zh workbook is a label that leaked."""
    import re

    from toolkit.findings import CODES

    allowed = re.compile(
        r"\S+@\S+|\S*[/\\]\S*|\S+\.(xlsx|xlsm|csv|eml|ics)\b|\bcrm( [a-z]+)?\b|--[a-z-]+"
        r"|\b(" + "|".join(CODES) + r")\b|\b[A-D]{1,4}\b|\b(NPS|CSAT|ID|abcd|sales|share|q\d+|nps|example)\b"
    )
    leaks = []
    for path in workbooks:
        if path.parent.name == "en":
            continue
        for where, text in _texts(path):
            rest = allowed.sub(" ", text)
            words = re.findall(r"[A-Za-z]{3,}", rest)
            if words:
                leaks.append(f"{where}: {words[:3]} in {text[:60]!r}")
    assert not leaks, f"{len(leaks)} English words in Chinese workbooks:\n" + "\n".join(leaks[:30])


def test_no_english_workbook_holds_a_chinese_label_of_the_toolkits_own(workbooks):
    from toolkit.i18n import LABELS

    own = {text for text in LABELS["zh"].values() if "{" not in text and any("\u4e00" <= c <= "\u9fff" for c in text)}
    english = [p for p in workbooks if p.parent.name == "en"]
    assert len({p.name.split("_")[1] for p in english}) >= 5  # validation, classes, plan, report, survey
    leaks = [f"{where}: {text!r}" for path in english for where, text in _texts(path) if text.strip() in own]
    assert not leaks, "\n".join(leaks[:30])

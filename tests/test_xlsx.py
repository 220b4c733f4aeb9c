"""The streamed list sheets (toolkit/xlsx/rows.py), read back with openpyxl, python-calamine
and LibreOffice: values, number formats, styles, links and sheet settings."""

from __future__ import annotations

import math
import subprocess
import zipfile
from datetime import date, datetime
from xml.etree import ElementTree

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import soffice
from python_calamine import CalamineWorkbook

from toolkit.xlsx import Book, Link
from toolkit.xlsx.rows import MAX_LINKS, MAX_TEXT

ROWS = [
    [
        "A & <B> 公司",
        3,
        2.5,
        date(2026, 11, 26),
        datetime(2026, 11, 26, 14, 30),
        True,
        Link("B5", "台账.xlsx", "'客户台账'!B5"),
    ],
    [" 前后有空格 ", -7, float("nan"), None, None, False, ""],
    ["bell\x07tab\tline\nend", np.int64(12), np.float64(0.25), pd.NA, pd.NaT, None, Link("内部", "", "'汇总'!A1")],
    ["x" * (MAX_TEXT + 10), 10**12, 1e-7, date(1900, 3, 1), datetime(2026, 1, 1), None, None],
]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HEADERS = ["名称", "整数", "小数", "日期", "时间", "布尔", "链接"]


@pytest.fixture(scope="module")
def book_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("xlsx") / "streamed.xlsx"
    book = Book(str(path), title="测试 & 标题", company="某公司")
    summary = book.add_sheet("汇总")
    summary.write_string(0, 0, "小表由 XlsxWriter 写", book.formats["title"])
    sheet = book.add_sheet("清单")
    sheet.write_string(0, 0, "表上方的标题", book.formats["title"])  # XlsxWriter's cell above the table
    count = book.table(
        sheet,
        HEADERS,
        iter(ROWS),
        start_row=2,
        row_formats=[None, "error", None, None],
        column_formats={2: "percent"},
        wrap_columns=(0,),
    )
    assert count == len(ROWS)
    sheet.conditional_format(3, 0, 3 + count, 0, {"type": "no_blanks", "format": book.formats["warning"]})
    book.close()
    return path


def test_values_read_back_with_openpyxl(book_path):
    sheet = openpyxl.load_workbook(book_path)["清单"]
    assert sheet["A1"].value == "表上方的标题"
    assert [c.value for c in sheet[3]] == HEADERS
    first = [c.value for c in sheet[4]]
    assert first[:6] == ["A & <B> 公司", 3, 2.5, datetime(2026, 11, 26), datetime(2026, 11, 26, 14, 30), True]
    assert first[6] == "B5"
    second = [c.value for c in sheet[5]]
    assert second[:3] == [" 前后有空格 ", -7, None] and second[5] is False
    third = [c.value for c in sheet[6]]
    # a control character is written as Excel writes it (_x0007_); Excel, calamine and LibreOffice
    # read it back as the character, openpyxl leaves an inline string's escape as it is
    assert third[0] == "bell_x0007_tab\tline\nend"
    assert third[1:3] == [12, 0.25] and type(third[1]) is int and third[3] is None and third[4] is None
    fourth = [c.value for c in sheet[7]]
    assert len(fourth[0]) == MAX_TEXT and fourth[1] == 10**12 and math.isclose(fourth[2], 1e-7)
    assert fourth[3] == datetime(1900, 3, 1)


def test_formats_styles_and_settings(book_path):
    book = openpyxl.load_workbook(book_path)
    sheet = book["清单"]
    assert sheet["B4"].number_format == "#,##0" and sheet["C4"].number_format == "0.0%"
    assert sheet["D4"].number_format == "yyyy-mm-dd" and sheet["E4"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet["A3"].font.b and sheet["A3"].fill.fgColor.rgb.endswith("DDEBF7")
    assert sheet["A4"].alignment.wrap_text and not sheet["B4"].alignment.wrap_text
    assert sheet["A4"].font.name == "等线"
    # a row format colours every cell of the row, blanks included
    assert all(sheet.cell(5, c).fill.fgColor.rgb.endswith("F8CBAD") for c in range(1, 8))
    assert sheet.freeze_panes == "A4"
    assert sheet.auto_filter.ref == "A3:G7"
    assert sheet.print_title_rows.replace("$", "") == "3:3"
    assert sheet.page_setup.orientation == "landscape" and "测试 && 标题" in sheet.oddHeader.left.text
    assert sheet.column_dimensions["A"].width > 50  # measured, capped at max_width
    assert sheet.conditional_formatting  # XlsxWriter's part of the sheet is kept
    assert sheet.dimensions == "A1:G7"


def test_links(book_path):
    sheet = openpyxl.load_workbook(book_path)["清单"]
    external = sheet["G4"].hyperlink
    assert external.target == "台账.xlsx" and external.location == "'客户台账'!B5"
    assert sheet["G4"].font.u == "single"
    internal = sheet["G6"].hyperlink
    assert internal.location == "'汇总'!A1" and not internal.target


def test_values_read_back_with_calamine(book_path):
    rows = CalamineWorkbook.from_path(str(book_path)).get_sheet_by_name("清单").to_python()
    assert rows[2] == HEADERS
    assert rows[3][:3] == ["A & <B> 公司", 3, 2.5] and rows[3][6] == "B5"
    assert rows[3][3] == date(2026, 11, 26) and rows[3][4] == datetime(2026, 11, 26, 14, 30)
    assert rows[5][0] == "bell\x07tab\tline\nend"


def test_past_excels_link_limit_the_rest_are_formulas(tmp_path):
    path = tmp_path / "links.xlsx"
    book = Book(str(path))
    n = MAX_LINKS + 5
    book.table(
        book.add_sheet("问题清单"), ["单元格"], ([Link(f"B{i}", "台账.xlsx", f"'客户台账'!B{i}")] for i in range(n))
    )
    book.close()
    # (openpyxl takes minutes over 65k hyperlinks: the links are read from the sheet's XML)
    with zipfile.ZipFile(path) as package:
        xml = ElementTree.fromstring(package.read("xl/worksheets/sheet1.xml"))
        rels = ElementTree.fromstring(package.read("xl/worksheets/_rels/sheet1.xml.rels"))
    links = xml.findall(f"{{{MAIN}}}hyperlinks/{{{MAIN}}}hyperlink")
    assert len(links) == MAX_LINKS
    assert links[0].get("ref") == "A2" and links[0].get("location") == "'客户台账'!B0"
    targets = {r.get("Id"): r.get("Target") for r in rels}
    assert targets[links[-1].get(f"{{{RELS}}}id")] == "台账.xlsx"
    rows = list(openpyxl.load_workbook(path, read_only=True)["问题清单"].values)
    assert rows[n] == (f'=HYPERLINK("台账.xlsx#\'客户台账\'!B{n - 1}","B{n - 1}")',)
    assert rows[MAX_LINKS] == (f"B{MAX_LINKS - 1}",)  # the last real link's cell holds its text
    # a reader that takes cached values sees the text
    assert CalamineWorkbook.from_path(str(path)).get_sheet_by_name("问题清单").to_python()[n][0] == f"B{n - 1}"


def test_a_failed_write_leaves_nothing_under_the_name(tmp_path):
    path = tmp_path / "half.xlsx"
    book = Book(str(path))
    sheet = book.add_sheet("清单")
    book.table(sheet, ["a"], [["x"]])
    sheet.write_string(1, 0, "overwrites a streamed row")  # a programming error, caught at close
    with pytest.raises(RuntimeError, match="both by XlsxWriter and as a streamed row"):
        book.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.libreoffice
def test_libreoffice_reads_the_streamed_sheet(book_path, tmp_path):
    office = soffice()
    if office is None:
        pytest.skip("LibreOffice (soffice) is not installed; .ci/run installs it")
    subprocess.run(
        [office, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "xlsx",
         "--outdir", str(tmp_path), str(book_path)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    sheet = openpyxl.load_workbook(tmp_path / book_path.name)["清单"]
    assert [c.value for c in sheet[3]] == HEADERS
    assert sheet["A4"].value == "A & <B> 公司" and sheet["B4"].value == 3 and sheet["C4"].number_format == "0.0%"
    assert sheet["D4"].value == datetime(2026, 11, 26)
    assert sheet["G4"].hyperlink is not None

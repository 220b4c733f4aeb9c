"""Cells and files a reader must not misread: formula errors, 1904 dates, NUL bytes, UTF-16."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from conftest import libreoffice_convert, run_crm

from toolkit.ledger import read_ledger
from toolkit.model import FormulaError

ERRORS = ["#N/A", "#REF!", "#DIV/0!", "#NUM!", "#NULL!", "#NAME?", "#VALUE!"]
HEADER = ["客户名称", "联系人", "联系电话", "客户经理", "年销售额", "最近拜访日期"]


def ledger_with_error_cells(path: Path) -> Path:
    """One customer per Excel error in 年销售额 (cells typed as errors, as Excel saves them),
    and one whose 客户名称 is #REF!."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "客户台账"
    sheet.append(HEADER)
    for n, error in enumerate(ERRORS):
        sheet.append([f"客户{n}", "张三", "13800138000", "王五", error, "2026-10-01"])
    sheet.append(["#REF!", "张三", "13800138000", "王五", 1000000, "2026-10-01"])
    book.save(path)
    assert sheet["E2"].data_type == "e"  # openpyxl writes them as error cells, t="e"
    return path


def test_every_formula_error_is_its_own_finding_with_cell_and_error(tmp_path):
    ledger = ledger_with_error_cells(tmp_path / "台账.xlsx")
    result = run_crm("validate", str(ledger), "--json", "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    issues = json.loads(result.stdout)["issues"]
    errors = [i for i in issues if i["code"] == "formula_error"]
    assert [(i["column"], i["row"], i["value"]) for i in errors] == [
        *(("E", n + 2, error) for n, error in enumerate(ERRORS)),
        ("A", 9, "#REF!"),
    ]
    assert errors[2]["message"] == "年销售额（E4）显示公式错误 #DIV/0!，值无法读取"
    assert errors[-1]["message"].startswith("客户名称（A9）显示公式错误 #REF!")
    # never read as blank: no 为空 finding for the name, no other finding on those cells
    assert not [i for i in issues if i["code"] != "formula_error"], issues


def test_a_formula_error_in_annual_sales_is_unreadable_not_unfilled(tmp_path):
    ledger = ledger_with_error_cells(tmp_path / "台账.xlsx")
    result = run_crm("classify", str(ledger), "--policy", "sales", "--json", "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    reasons = [c["reason"] for c in json.loads(result.stdout)["customers"]]
    assert reasons[2] == "年销售额无法读取（E4 为「#DIV/0!」），无法按销售额分类"
    assert not any("未填年销售额" in r for r in reasons[:7])


def test_formula_errors_are_found_in_xls_and_in_csv_saved_from_a_spreadsheet(tmp_path):
    """The real files a spreadsheet program makes: formulas that evaluate to errors, saved by
    LibreOffice as .xls (BIFF records) and as CSV (the error's text)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "客户台账"
    sheet.append(HEADER)
    formulas = ["=NA()", "=#REF!+1", "=1/0", '="a"+1', "=FOOBAR()"]
    for n, formula in enumerate(formulas):
        sheet.append([f"客户{n}", "张三", "13800138000", "王五", formula, "2026-10-01"])
    source = tmp_path / "formulas.xlsx"
    book.save(source)
    xls = libreoffice_convert(source, "xls", tmp_path)
    csv = libreoffice_convert(xls, "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path)
    for path in (xls, csv):
        bad = read_ledger(path).customer_sheet.bad["annual_sales"]
        assert set(bad) == {0, 1, 2, 3, 4}, (path, bad)
        assert all(isinstance(v, FormulaError) for v in bad.values())
        assert set(bad.values()) <= set(ERRORS) and bad[2] == "#DIV/0!" and bad[0] == "#N/A", (path, bad)
    assert read_ledger(xls).customer_sheet.bad["annual_sales"][1] == "#REF!"  # each as the BIFF record says
    xlsx = libreoffice_convert(xls, "xlsx", tmp_path)  # recalculated and saved with cached errors
    assert read_ledger(xlsx).customer_sheet.bad["annual_sales"][2] == "#DIV/0!"


def test_a_1904_workbook_with_a_serial_past_9999_is_an_unreadable_date(tmp_path):
    import xlsxwriter

    path = tmp_path / "mac.xlsx"
    book = xlsxwriter.Workbook(path, {"date_1904": True})
    sheet = book.add_worksheet("客户台账")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, HEADER)
    for n, serial in enumerate([44000, 2957003, 2958465]):
        sheet.write_row(n + 1, 0, [f"客户{n}", "张三", "13800138000", "王五", 100])
        sheet.write_number(n + 1, 5, serial, day)
    book.close()
    result = run_crm("validate", str(path), "--json", "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    issues = json.loads(result.stdout)["issues"]
    found = [(i["code"], i["row"]) for i in issues if i["field"] == "last_visit"]
    assert found == [("future_date", 3), ("bad_date", 4)]  # 9999-12-31 is a date, only in the future
    visits = read_ledger(path).customer_sheet.column("last_visit")
    assert str(visits[0]) == "2024-06-19" and str(visits[1]) == "9999-12-31" and visits[2] is None


def test_excel_serial_60_is_the_leap_day_excel_invented_and_is_reported(tmp_path):
    """Serials typed as plain numbers in a date column: Excel shows 1 as 1900-01-01, 59 as
    1900-02-28, 60 as a 1900-02-29 that never was, 61 as 1900-03-01."""
    from conftest import make_xlsx

    rows = [HEADER] + [[f"客户{s}", "张三", "13800138000", "王五", 100, s] for s in (1, 59, 60, 61)]
    path = make_xlsx(tmp_path / "serials.xlsx", {"客户台账": rows})
    table = read_ledger(path).customer_sheet
    assert [str(v) for v in table.column("last_visit")] == ["1900-01-01", "1900-02-28", "None", "1900-03-01"]
    assert table.bad["last_visit"] == {2: 60}


CSV_TEXT = "客户名称,联系人,联系电话,客户经理\r\n华为技术,张三,13800138000,王五\r\n中兴通讯,李四,13900139000,王五\r\n"


def test_nul_bytes_in_a_csv_are_dropped_and_said(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"\x00" + CSV_TEXT.encode() + b"\x00" * 300)
    ledger = read_ledger(path)
    assert ledger.customer_sheet.column("name") == ["华为技术", "中兴通讯"]  # the header found, no NUL customer
    assert "nul.csv: 301 NUL bytes removed" in ledger.notes


def test_utf16_csv_without_a_byte_order_mark_is_read(tmp_path):
    for encoding in ("utf-16-le", "utf-16-be"):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(CSV_TEXT.encode(encoding))
        ledger = read_ledger(path)
        assert ledger.customer_sheet.column("phone") == ["13800138000", "13900139000"], encoding
        assert f"{path.name}: read as {encoding}" in ledger.notes


def test_a_date_cell_of_serial_60_is_reported_not_shown_as_the_28th(tmp_path):
    """Excel shows a date-formatted 60 as 1900-02-29; python-calamine reads it as 1900-02-28.
    A real 1900-02-28 (serial 59) stays as it is."""
    import xlsxwriter

    path = tmp_path / "leap.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("客户台账")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, HEADER)
    for n, serial in enumerate([59, 60]):
        sheet.write_row(n + 1, 0, [f"客户{n}", "张三", "13800138000", "王五", 60])  # 年销售额 60: just a number
        sheet.write_number(n + 1, 5, serial, day)
    book.close()
    table = read_ledger(path).customer_sheet
    assert [str(v) for v in table.column("last_visit")] == ["1900-02-28", "None"]
    assert table.bad["last_visit"] == {1: "1900-02-29"} and "annual_sales" not in table.bad
    assert table.column("annual_sales") == [60.0, 60.0]

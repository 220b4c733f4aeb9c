"""--write-back: the toolkit's columns go into the ledger and nothing else in the file changes."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
import xlsxwriter

from tests.conftest import ROOT, libreoffice_convert, run_crm
from toolkit.config import load_settings
from toolkit.errors import InputError
from toolkit.ledger.headers import column_index
from toolkit.writeback import patch as mechanics
from toolkit.writeback.patch import WriteColumn, write_back

TODAY = "2026-11-26"
NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
SHEET_PART = "xl/worksheets/sheet1.xml"
VBA = ROOT / "tests" / "data" / "vbaProject.bin"
SALES = [2600, 800, 120, 3100, 450, 980, 60, 2050, 700, 150]


def _png() -> bytes:
    """A 2×2 red PNG, made here so the fixture needs no image file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def rich_ledger(path: Path) -> Path:
    """A ledger with everything people put in theirs: title row, merged cells, number formats,
    formulas, drop-downs (one from another sheet), conditional formats with data bars and icon
    sets, a comment, a hyperlink, an image, a chart, a table, a defined name, hidden and protected
    sheets, frozen panes, an autofilter — and, for .xlsm, a VBA project."""
    import io

    book = xlsxwriter.Workbook(str(path))
    title = book.add_format({"bold": True, "font_size": 14, "align": "center"})
    money = book.add_format({"num_format": "#,##0.00"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    ws = book.add_worksheet("客户台账")
    ws.merge_range("A1:I1", "2026 年客户台账（示例公司）", title)
    headers = [
        "客户编号",
        "客户名称",
        "联系人",
        "联系电话",
        "客户经理",
        "客户分类",
        "年销售额(万元)",
        "含税销售额",
        "最近拜访日期",
    ]
    rows = []
    for n, sales in enumerate(SALES, start=1):
        rows.append(
            [
                f"C{n:03d}",
                f"测试{n}号机械有限公司",
                "王五",
                f"1381234{n:04d}",
                "张伟" if n % 2 else "李娜",
                None,
                sales,
                None,
                None,
            ]
        )
    ws.add_table(
        1,
        0,
        1 + len(rows),
        len(headers) - 1,
        {"name": "客户表", "columns": [{"header": h} for h in headers], "style": "Table Style Medium 2"},
    )
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row[:5]):
            ws.write_string(r, c, value)
        ws.write_number(r, 6, row[6], money)
        ws.write_formula(r, 7, f"=G{r + 1}*1.13", money, row[6] * 1.13)
        ws.write_datetime(r, 8, __import__("datetime").datetime(2026, 9, r), day)
    ws.data_validation(2, 5, 1 + len(rows), 5, {"validate": "list", "source": ["重点", "主要", "一般"]})
    ws.data_validation(2, 4, 1 + len(rows), 4, {"validate": "list", "source": "=经理!$A$1:$A$2"})
    ws.conditional_format(2, 6, 1 + len(rows), 6, {"type": "data_bar", "bar_color": "#63BE7B"})
    ws.conditional_format(
        2, 7, 1 + len(rows), 7, {"type": "icon_set", "icon_style": "3_traffic_lights", "icons_only": False}
    )
    ws.conditional_format(2, 6, 1 + len(rows), 6, {"type": "cell", "criteria": ">", "value": 2000, "format": title})
    ws.write_comment(2, 1, "老客户，2019 年起合作")
    ws.write_url(2, 9, "https://example.cn/客户/C001", string="官网")
    ws.insert_image(14, 1, "logo.png", {"image_data": io.BytesIO(_png())})
    ws.freeze_panes(2, 0)
    ws.set_column(0, 8, 14)
    chart = book.add_chart({"type": "column"})
    chart.add_series({"categories": "=客户台账!$B$3:$B$12", "values": "=客户台账!$G$3:$G$12", "name": "年销售额"})
    ws.insert_chart(14, 4, chart)
    book.define_name("销售合计", "=SUM(客户台账!$G$3:$G$12)")
    managers = book.add_worksheet("经理")
    managers.write_column(0, 0, ["张伟", "李娜"])
    managers.hide()
    locked = book.add_worksheet("说明")
    locked.write(0, 0, "本表受保护")
    locked.protect("secret")
    details = book.add_worksheet("明细")
    details.write_row(0, 0, ["月份", "金额"])
    details.write_row(1, 0, ["2026-10", 12])
    details.autofilter(0, 0, 1, 1)
    details.freeze_panes(1, 0)
    if path.suffix == ".xlsm":
        book.add_vba_project(str(VBA))
    book.close()
    return path


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def sheet_part(path: Path, name: str = "客户台账") -> str:
    return mechanics._sheet_part(zipfile.ZipFile(path), name, path)


def cells(xml: bytes) -> dict[str, bytes]:
    """cell reference → the cell's XML, from a worksheet part."""
    root = ElementTree.fromstring(xml)
    return {c.get("r"): ElementTree.tostring(c) for c in root.iter(f"{NS}c")}


def without_cells(xml: bytes) -> bytes:
    """The worksheet part with its sheetData, dimension and cols taken out (what write-back may touch)."""
    root = ElementTree.fromstring(xml)
    for tag in ("sheetData", "dimension", "cols"):
        for element in root.findall(f"{NS}{tag}"):
            root.remove(element)
    return ElementTree.tostring(root)


def values(path: Path) -> dict[str, dict[str, object]]:
    book = openpyxl.load_workbook(path)
    return {
        ws.title: {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None} for ws in book
    }


def classify_back(ledger: Path, *extra: str, cwd: Path | None = None):
    return run_crm("classify", str(ledger), "--policy", "sales", "--write-back", "--today", TODAY, *extra, cwd=cwd)


@pytest.fixture(params=[".xlsx", ".xlsm"])
def ledger(request, tmp_path) -> Path:
    return rich_ledger(tmp_path / f"客户台账{request.param}")


def test_write_back_keeps_every_other_part_byte_for_byte(ledger, tmp_path):
    before = parts(ledger)
    done = classify_back(ledger, "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    after = parts(ledger)
    part = sheet_part(ledger)
    assert list(after) == list(before)  # same parts, same order
    changed = {name for name in before if before[name] != after[name]}
    assert changed <= {part, "xl/styles.xml"} and part in changed
    if ledger.suffix == ".xlsm":
        assert after["xl/vbaProject.bin"] == VBA.read_bytes()


def test_touched_sheet_differs_only_in_the_new_columns(ledger, tmp_path):
    before = parts(ledger)
    assert classify_back(ledger, "--out", str(tmp_path / "out")).returncode == 0
    after = parts(ledger)
    part = sheet_part(ledger)
    old, new = cells(before[part]), cells(after[part])
    added = {ref: xml for ref, xml in new.items() if ref not in old}
    assert {ref for ref in old if old[ref] != new.get(ref)} == set()  # no user cell changed or lost
    assert {ref.rstrip("0123456789") for ref in added} == {"K", "L", "M"}  # J holds the hyperlink
    assert without_cells(before[part]) == without_cells(after[part])  # merges, validation, CF, table links …
    root = ElementTree.fromstring(after[part])
    assert root.find(f"{NS}dimension").get("ref").endswith(":M12")
    widths = {int(c.get("min")) for c in root.iter(f"{NS}col")}
    assert {11, 12, 13} <= widths


def test_ledger_reads_back_with_the_user_cells_unchanged_and_the_new_columns(ledger, tmp_path):
    before = values(ledger)
    assert classify_back(ledger, "--out", str(tmp_path / "out")).returncode == 0
    after = values(ledger)
    for sheet, cells_before in before.items():
        for ref, value in cells_before.items():
            assert after[sheet][ref] == value, (sheet, ref)
    sheet = after["客户台账"]
    assert (sheet["K2"], sheet["L2"], sheet["M2"]) == ("客户分类(系统)", "分类依据", "风险等级")
    expected = ["重点" if s >= 2000 else "主要" if s >= 500 else "一般" for s in SALES]
    assert [sheet[f"K{r}"] for r in range(3, 13)] == expected
    assert "2,600" in sheet["L3"] and "2,000" in sheet["L3"]  # the reason names the figure and the threshold


def test_second_run_updates_in_place_and_never_duplicates(tmp_path):
    ledger = rich_ledger(tmp_path / "台账.xlsx")
    assert classify_back(ledger, "--out", str(tmp_path / "out")).returncode == 0
    once = ledger.read_bytes()
    again = classify_back(ledger, "--out", str(tmp_path / "out"), "--json")
    assert again.returncode == 0, again.stderr
    assert __import__("json").loads(again.stdout)["write_back"]["changed_cells"] == 0
    assert ledger.read_bytes() == once  # nothing to change: the file is not rewritten
    headers = [c.value for c in openpyxl.load_workbook(ledger)["客户台账"][2]]
    assert headers.count("客户分类(系统)") == 1


def test_written_columns_are_not_read_back_as_the_users_class(tmp_path):
    """客户分类(系统) normalises like 客户分类: the reader must skip it, or next run's class would be 'typed'."""
    ledger = rich_ledger(tmp_path / "台账.xlsx")
    assert classify_back(ledger, "--out", str(tmp_path / "out")).returncode == 0
    done = run_crm(
        "classify", str(ledger), "--policy", "sales", "--today", TODAY, "--json", "--out", str(tmp_path / "o")
    )
    customers = __import__("json").loads(done.stdout)["customers"]
    assert not any(c["override"] for c in customers)


def test_validate_and_plan_write_their_columns_beside_the_others(tmp_path):
    ledger = rich_ledger(tmp_path / "台账.xlsx")
    workspace = tmp_path / "ws"
    assert run_crm("init", str(workspace)).returncode == 0
    config = workspace / "crm.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('name = "abcd"', 'name = "sales"'), encoding="utf-8")
    out = str(tmp_path / "out")
    assert classify_back(ledger, "--out", out).returncode == 0
    checked = run_crm("validate", str(ledger), "--write-back", "--today", TODAY, "--out", out)
    assert checked.returncode == 0, checked.stderr
    planned = run_crm(
        "plan", str(ledger), "--write-back", "--today", TODAY, "--months", "3", "--workspace", str(workspace)
    )
    assert planned.returncode == 0, planned.stderr
    sheet = openpyxl.load_workbook(ledger)["客户台账"]
    assert (sheet["N2"].value, sheet["O2"].value) == ("校验结果", "下次拜访")
    assert all(sheet[f"N{r}"].value for r in range(3, 13))
    visit = sheet["O3"].value
    assert visit is not None and visit.date() >= date(2026, 11, 26)
    assert sheet["O3"].number_format == "yyyy-mm-dd"


def test_dry_run_lists_the_cells_and_writes_nothing(tmp_path):
    ledger = rich_ledger(tmp_path / "台账.xlsx")
    before = ledger.read_bytes()
    done = classify_back(ledger, "--dry-run", "--json", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    report = __import__("json").loads(done.stdout)["write_back"]
    assert report["dry_run"] and report["written"] is None
    assert {"sheet": "客户台账", "cell": "K3", "old": "", "new": "重点"} in report["changes"]
    assert ledger.read_bytes() == before
    assert not (tmp_path / "out" / "backups").exists()


def test_backup_first_and_old_backups_dropped(tmp_path):
    ledger = rich_ledger(tmp_path / "台账.xlsx")
    original = ledger.read_bytes()
    backups = tmp_path / "out" / "backups"
    backups.mkdir(parents=True)
    (backups / "台账 20250101-080000.xlsx").write_bytes(b"old")
    (backups / "台账 20261120-080000.xlsx").write_bytes(b"recent")
    assert classify_back(ledger, "--out", str(tmp_path / "out")).returncode == 0
    kept = sorted(p.name for p in backups.iterdir())
    assert "台账 20250101-080000.xlsx" not in kept and "台账 20261120-080000.xlsx" in kept
    new = [p for p in backups.iterdir() if p.read_bytes() == original]
    assert len(new) == 1


def test_open_in_excel_leaves_the_ledger_untouched_and_writes_beside(tmp_path):
    ledger = rich_ledger(tmp_path / "台账.xlsx")
    (tmp_path / "~$台账.xlsx").write_bytes(b"owner")
    before = ledger.read_bytes()
    done = classify_back(ledger, "--out", str(tmp_path / "out"))
    assert done.returncode == 0
    assert ledger.read_bytes() == before
    beside = tmp_path / "台账 (系统结果).xlsx"
    assert "~$台账.xlsx" in done.stderr and str(beside) in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert openpyxl.load_workbook(beside)["客户台账"]["K3"].value == "重点"


def test_replace_refused_with_a_sharing_violation_leaves_the_ledger_untouched(tmp_path, monkeypatch):
    ledger = rich_ledger(tmp_path / "台账.xlsx")
    before = ledger.read_bytes()
    real_replace = os.replace

    def refuse(source, target):
        if Path(target) == ledger:
            raise PermissionError(13, "The process cannot access the file because it is being used by another process")
        real_replace(source, target)

    monkeypatch.setattr(mechanics.os, "replace", refuse)
    column = WriteColumn("class", "客户分类(系统)", {3: "重点"})
    result = write_back(ledger, "客户台账", 2, [], [column], backup_dir=tmp_path / "backups")
    assert ledger.read_bytes() == before
    assert result.written == tmp_path / "台账 (系统结果).xlsx" and "being used" in result.beside_reason
    assert not list(tmp_path.glob("*.crm-tmp"))


def test_killed_between_writing_and_replacing_leaves_the_original_intact(tmp_path):
    ledger = rich_ledger(tmp_path / "台账.xlsx")
    before = ledger.read_bytes()
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from toolkit.writeback import patch as writeback
        from toolkit.writeback.patch import WriteColumn, write_back
        real_replace = os.replace

        def killed_at_the_ledger(source, target):
            if Path(target) == Path({str(ledger)!r}):
                os.kill(os.getpid(), signal.SIGKILL)
            real_replace(source, target)  # the backup's own rename goes through

        writeback.os.replace = killed_at_the_ledger
        write_back(Path({str(ledger)!r}), "客户台账", 2, [], [WriteColumn("class", "客户分类(系统)", {{3: "重点"}})],
                   backup_dir=Path({str(tmp_path / "backups")!r}))
        """
    )
    killed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True)
    assert killed.returncode == -9
    assert ledger.read_bytes() == before
    assert list(tmp_path.glob("台账.xlsx.*.crm-tmp"))  # what the killed run left
    assert classify_back(ledger, "--out", str(tmp_path / "out")).returncode == 0  # the next run goes through
    assert not list(tmp_path.glob("*.crm-tmp"))
    assert openpyxl.load_workbook(ledger)["客户台账"]["K3"].value == "重点"


def test_a_formula_where_a_value_would_go_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "台账.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("客户")
    ws.write_row(0, 0, ["客户名称", "客户经理", "年销售额", "客户分类(系统)"])
    ws.write_row(1, 0, ["甲公司", "张伟", 2500])
    ws.write_formula(1, 3, '=IF(C2>2000,"重点","一般")', None, "重点")
    book.close()
    before = path.read_bytes()
    done = classify_back(path, "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "D2" in done.stderr and "formula" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert path.read_bytes() == before


@pytest.mark.parametrize("suffix", [".csv", ".xls"])
def test_write_back_into_csv_or_xls_is_refused_with_one_line(tmp_path, suffix):
    path = tmp_path / f"台账{suffix}"
    path.write_text("客户名称,客户经理,年销售额\n甲公司,张伟,2500\n", encoding="utf-8")  # refused by its name first
    done = run_crm("validate", str(path), "--write-back", "--today", TODAY, "--out", str(tmp_path / "out"))
    assert done.returncode == 2, done.stderr
    assert ".xlsx" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()  # refused before the job ran: no validation workbook either


def test_live_without_excel_fails_with_one_line(tmp_path):
    ledger = rich_ledger(tmp_path / "台账.xlsx")
    done = classify_back(ledger, "--live", "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "--live" in done.stderr and "xlwings" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_live_write_back_through_fake_xlwings_no_excel_here(tmp_path, monkeypatch):
    """There is no Excel on this machine: a stand-in for xlwings' books/sheets/range API checks
    that --live writes the same cells through it and leaves the file alone."""
    import types

    class Range:
        def __init__(self, grid, row, col):
            self.grid, self.key = grid, (row, col)

        @property
        def value(self):
            return self.grid.get(self.key)

        @value.setter
        def value(self, v):
            self.grid[self.key] = v

    class Sheet:
        def __init__(self):
            self.grid = {(2, c + 1): h for c, h in enumerate(["客户名称", "客户经理", "年销售额"])}
            self.used_range = types.SimpleNamespace(last_cell=types.SimpleNamespace(column=3))

        def range(self, cell):
            return Range(self.grid, *cell)

    sheet = Sheet()
    ledger = tmp_path / "台账.xlsx"
    ledger.write_bytes(b"not read in live mode")
    book = types.SimpleNamespace(fullname=str(ledger), sheets={"客户": sheet})
    monkeypatch.setitem(sys.modules, "xlwings", types.SimpleNamespace(books=[book]))
    column = WriteColumn("class", "客户分类(系统)", {3: "重点", 4: "一般"})
    result = write_back(
        ledger, "客户", 2, ["客户名称", "客户经理", "年销售额"], [column], backup_dir=tmp_path, live=True
    )
    assert sheet.grid[(2, 4)] == "客户分类(系统)" and sheet.grid[(3, 4)] == "重点" and sheet.grid[(4, 4)] == "一般"
    assert result.live and len(result.changes) == 2
    assert ledger.read_bytes() == b"not read in live mode"


def test_password_protected_ledger_is_refused(tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 600)  # an OLE container, as encrypted .xlsx files are
    with pytest.raises(InputError, match="password"):
        write_back(path, "客户", 1, [], [WriteColumn("k", "x", {2: "y"})], backup_dir=tmp_path)


@pytest.mark.libreoffice
@pytest.mark.slow
def test_libreoffice_saved_ledger_takes_the_write_back_and_converts_cleanly(tmp_path):
    saved = libreoffice_convert(rich_ledger(tmp_path / "台账.xlsx"), "xlsx", tmp_path)
    before = parts(saved)
    done = classify_back(saved, "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    after = parts(saved)
    part = sheet_part(saved)
    assert {n for n in before if before[n] != after[n]} <= {part, "xl/styles.xml"}
    old, new = cells(before[part]), cells(after[part])
    assert all(new[ref] == xml for ref, xml in old.items())
    headers = {c.value: c.column_letter for c in openpyxl.load_workbook(saved)["客户台账"][2] if c.value}
    assert "客户分类(系统)" in headers
    # and LibreOffice opens the patched file: save it again and read the column back
    (tmp_path / "second").mkdir()
    again = openpyxl.load_workbook(libreoffice_convert(saved, "xlsx", tmp_path / "second"))["客户台账"]
    assert again[f"{headers['客户分类(系统)']}3"].value == "重点"


@pytest.mark.libreoffice
def test_patched_rich_ledger_converts_in_libreoffice(tmp_path):
    ledger = rich_ledger(tmp_path / "台账.xlsx")
    assert classify_back(ledger, "--out", str(tmp_path / "out")).returncode == 0
    (tmp_path / "lo").mkdir()
    converted = openpyxl.load_workbook(libreoffice_convert(ledger, "xlsx", tmp_path / "lo"))
    sheet = converted["客户台账"]
    assert (sheet["K2"].value, sheet["K3"].value, sheet["B3"].value) == (
        "客户分类(系统)",
        "重点",
        "测试1号机械有限公司",
    )
    assert sheet["H3"].value == "=G3*1.13" and converted.sheetnames == ["客户台账", "经理", "说明", "明细"]


def test_write_back_settings_name_the_columns(tmp_path):
    settings = load_settings()
    assert settings.rules.writeback_columns()["class"] == "客户分类(系统)"
    assert settings.overrides_for_reader()["customers"]["客户分类(系统)"] == "-"


def test_demo_writes_back_and_the_jobs_read_the_ledger_as_before(tmp_path):
    demo = run_crm("demo", str(tmp_path / "demo"), "--today", TODAY, "--json")
    assert demo.returncode == 0, demo.stderr
    report = __import__("json").loads(demo.stdout)
    written = report["jobs"]["write_back"]
    assert set(written["columns"]) == {"客户分类(系统)", "分类依据", "风险等级", "校验结果", "下次拜访"}
    first = report["jobs"]["validate"]
    again = run_crm("validate", "--workspace", str(tmp_path / "demo"), "--today", TODAY, "--json")
    second = __import__("json").loads(again.stdout)
    assert (second["errors"], second["warnings"]) == (
        first["errors"],
        first["warnings"],
    )  # the new columns are not input
    sheet = openpyxl.load_workbook(Path(report["ledger"]), read_only=True)["客户台账"]
    header = next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))
    assert header.count("客户分类(系统)") == 1


def test_a_column_of_the_same_name_in_the_middle_is_updated_in_place(tmp_path):
    path = tmp_path / "台账.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("客户")
    ws.write_row(0, 0, ["客户名称", "风险等级", "客户经理"])
    ws.write_row(1, 0, ["甲公司", "旧值", "张伟"])
    ws.write_row(2, 0, ["乙公司", "", "李娜"])
    book.close()
    column = WriteColumn("risk", "风险等级", {2: "严重", 3: "提示"})
    preview = write_back(
        path, "客户", 1, ["客户名称", "风险等级", "客户经理"], [column], backup_dir=tmp_path / "b", dry_run=True
    )
    assert [(c.cell, c.old, c.new) for c in preview.changes] == [("B2", "旧值", "严重"), ("B3", "", "提示")]
    write_back(path, "客户", 1, ["客户名称", "风险等级", "客户经理"], [column], backup_dir=tmp_path / "b")
    sheet = openpyxl.load_workbook(path)["客户"]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["客户名称", "风险等级", "客户经理"],
        ["甲公司", "严重", "张伟"],
        ["乙公司", "提示", "李娜"],
    ]
    row2 = ElementTree.fromstring(parts(path)[SHEET_PART]).find(f"{NS}sheetData")[1]
    assert [c.get("r") for c in row2] == ["A2", "B2", "C2"]  # cells stay in column order


def test_a_later_run_changes_and_clears_its_own_cells(tmp_path):
    ledger = rich_ledger(tmp_path / "台账.xlsx")
    first = WriteColumn("class", "客户分类(系统)", {3: "重点", 4: "一般"})
    write_back(ledger, "客户台账", 2, [], [first], backup_dir=tmp_path / "b")
    labels = [c.value or "" for c in openpyxl.load_workbook(ledger)["客户台账"][2]]
    second = WriteColumn("class", "客户分类(系统)", {3: "主要", 4: None})
    result = write_back(ledger, "客户台账", 2, labels, [second], backup_dir=tmp_path / "b")
    assert [(c.cell, c.old, c.new) for c in result.changes] == [("K3", "重点", "主要"), ("K4", "一般", "")]
    sheet = openpyxl.load_workbook(ledger)["客户台账"]
    assert (sheet["K3"].value, sheet["K4"].value, sheet["K2"].value) == ("主要", None, "客户分类(系统)")
    assert [c.value for c in sheet[2]].count("客户分类(系统)") == 1


def _marked_ledger(path: Path) -> Path:
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("客户")
    ws.write_row(0, 0, ["客户编号", "客户名称", "联系人", "联系电话", "电子邮箱", "客户经理"])
    ws.write_row(1, 0, ["C001", "甲科技有限公司", "王五", "13812345678", "a@example.cn", "张伟"])
    ws.write_row(2, 0, ["C002", "乙贸易有限公司", "赵六", "1381234", "b@example.cn", "张伟"])
    ws.write_row(3, 0, ["C003", "丙物流有限公司", "孙七", "13912345678", "c@@example", "李娜"])
    book.close()
    return path


@pytest.mark.libreoffice
def test_mark_fills_exactly_the_bad_cells_and_a_rerun_does_not_add_marks(tmp_path):
    ledger = _marked_ledger(tmp_path / "台账.xlsx")
    args = ("validate", str(ledger), "--write-back", "--mark", "--today", TODAY, "--out", str(tmp_path / "out"))
    assert run_crm(*args).returncode == 0
    sheet = openpyxl.load_workbook(ledger)["客户"]
    assert sheet["G1"].value == "校验结果" and sheet["G2"].value == "通过"
    assert "【联系电话】" in sheet["G3"].value and "【电子邮箱】" in sheet["G4"].value
    once = parts(ledger)[SHEET_PART].count(b"<conditionalFormatting")
    assert run_crm(*args).returncode == 0
    assert parts(ledger)[SHEET_PART].count(b"<conditionalFormatting") == once == 2
    # LibreOffice evaluates the conditional formats: the two bad cells, and only they, are filled
    (tmp_path / "lo").mkdir()
    html = libreoffice_convert(ledger, "html", tmp_path / "lo").read_text(encoding="utf-8", errors="replace")
    filled = re.findall(r'bgcolor="#FFC7CE"><font[^>]*>([^<]*)<', html, flags=re.I)
    assert sorted(filled) == ["1381234", "c@@example"]


SCHEMA_ORDER = [  # the worksheet's children, in the order the file format requires
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr", "sheetProtection",
    "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate", "customSheetViews", "mergeCells",
    "phoneticPr", "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions", "pageMargins",
    "pageSetup", "headerFooter", "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors",
    "smartTags", "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
    "webPublishItems", "tableParts", "extLst",
]  # fmt: skip


def assert_valid_layout(xml: bytes) -> None:
    """The worksheet's children in schema order, <col>s sorted and apart, no rule nested in a rule."""
    root = ElementTree.fromstring(xml)
    names = [child.tag.replace(NS, "") for child in root]
    positions = [SCHEMA_ORDER.index(n) for n in names]
    assert positions == sorted(positions), names
    cols = [(int(c.get("min")), int(c.get("max"))) for c in root.iter(f"{NS}col")]
    assert all(a[1] < b[0] for a, b in zip(cols, cols[1:], strict=False)), cols
    for rule in root.iter(f"{NS}cfRule"):
        assert rule.find(f".//{NS}conditionalFormatting") is None


@pytest.mark.libreoffice
def test_marks_and_widths_keep_the_sheet_valid_in_a_libreoffice_saved_ledger(tmp_path):
    """LibreOffice (like Excel) writes data bars with an extLst inside the rule, and <col> with max before min."""
    saved = libreoffice_convert(rich_ledger(tmp_path / "台账.xlsx"), "xlsx", tmp_path)
    args = ("validate", str(saved), "--write-back", "--mark", "--today", TODAY, "--out", str(tmp_path / "out"))
    assert run_crm(*args).returncode == 0
    part = sheet_part(saved)
    assert_valid_layout(parts(saved)[part])
    # saved again by LibreOffice (attributes reordered), marked again: no second set of marks
    (tmp_path / "again").mkdir()
    resaved = libreoffice_convert(saved, "xlsx", tmp_path / "again")
    marks = parts(resaved)[sheet_part(resaved)].count(b"ISNUMBER(SEARCH(")
    assert (
        run_crm(
            "validate", str(resaved), "--write-back", "--mark", "--today", TODAY, "--out", str(tmp_path / "o2")
        ).returncode
        == 0
    )
    after = parts(resaved)[sheet_part(resaved)]
    assert after.count(b"ISNUMBER(SEARCH(") == marks
    assert_valid_layout(after)


def test_write_back_layout_is_valid_with_data_bars_and_unsorted_widths(tmp_path):
    path = tmp_path / "台账.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("客户")
    ws.write_row(0, 0, ["客户名称", "客户经理", "年销售额", "联系电话"])
    ws.write_row(1, 0, ["甲公司", "张伟", 2500, "123"])
    ws.write_row(2, 0, ["乙公司", "李娜", 300, "13812345678"])
    ws.conditional_format("C2:C3", {"type": "data_bar", "data_bar_2010": True})
    ws.set_column(0, 0, 20)
    ws.set_column(6, 9, 12)  # a width range beyond the columns the toolkit adds first
    book.close()
    assert classify_back(path, "--out", str(tmp_path / "out")).returncode == 0
    args = ("validate", str(path), "--write-back", "--mark", "--today", TODAY, "--out", str(tmp_path / "out"))
    assert run_crm(*args).returncode == 0
    assert_valid_layout(parts(path)[SHEET_PART])
    assert openpyxl.load_workbook(path)["客户"]["H1"].value == "校验结果"


def test_a_linked_ledger_is_written_through_the_link(tmp_path):
    (tmp_path / "share").mkdir()
    real = rich_ledger(tmp_path / "share" / "台账.xlsx")
    link = tmp_path / "台账.xlsx"
    link.symlink_to(real)
    assert classify_back(link, "--out", str(tmp_path / "out")).returncode == 0
    assert link.is_symlink()
    assert openpyxl.load_workbook(real)["客户台账"]["K3"].value == "重点"


def test_a_read_only_ledger_is_left_alone_and_the_result_goes_beside(tmp_path, monkeypatch):
    """Read-only as the OS reports it (the tests may run as root, who may write anything)."""
    ledger = rich_ledger(tmp_path / "台账.xlsx")
    before = ledger.read_bytes()
    real_access = os.access
    monkeypatch.setattr(mechanics.os, "access", lambda p, mode: False if Path(p) == ledger else real_access(p, mode))
    column = WriteColumn("class", "客户分类(系统)", {3: "重点"})
    result = write_back(ledger, "客户台账", 2, [], [column], backup_dir=tmp_path / "b")
    assert ledger.read_bytes() == before and result.beside_reason == "the ledger is read-only"
    assert openpyxl.load_workbook(tmp_path / "台账 (系统结果).xlsx")["客户台账"]["K3"].value == "重点"


def test_live_dry_run_through_fake_xlwings_no_excel_here_writes_nothing(tmp_path, monkeypatch):
    import types

    grid = {(1, 1): "客户名称"}
    sheet = types.SimpleNamespace(
        range=lambda cell: types.SimpleNamespace(value=grid.get(cell)),
        used_range=types.SimpleNamespace(last_cell=types.SimpleNamespace(column=1)),
    )
    ledger = tmp_path / "台账.xlsx"
    ledger.write_bytes(b"x")
    book = types.SimpleNamespace(fullname=str(ledger), sheets={"客户": sheet})
    monkeypatch.setitem(sys.modules, "xlwings", types.SimpleNamespace(books=[book]))
    column = WriteColumn("class", "客户分类(系统)", {2: "重点"})
    result = write_back(ledger, "客户", 1, ["客户名称"], [column], backup_dir=tmp_path, live=True, dry_run=True)
    assert [(c.cell, c.new) for c in result.changes] == [("B2", "重点")] and result.written is None
    assert grid == {(1, 1): "客户名称"}


def test_write_back_through_a_relative_path_or_a_link_says_it_wrote_the_ledger(tmp_path):
    """The ledger given as a relative path or through a symbolic link is written and backed up:
    the summary and the JSON say so (they compared the given path with the resolved one)."""
    import json

    for case in ("relative", "link"):
        for mode in ("--json", "text"):
            folder = tmp_path / case / mode.strip("-")
            folder.mkdir(parents=True)
            ledger = rich_ledger(folder / "客户台账.xlsx")
            given, cwd = Path(ledger.name), folder
            if case == "link":
                given, cwd = folder / "link.xlsx", None
                given.symlink_to(ledger.name)
            before = ledger.read_bytes()
            done = classify_back(given, "--out", str(folder / "out"), *([mode] if mode == "--json" else []), cwd=cwd)
            assert done.returncode == 0, done.stderr
            assert ledger.read_bytes() != before and (case != "link" or given.is_symlink())
            if mode == "--json":
                written = json.loads(done.stdout)["write_back"]
                assert written["into_ledger"] is True and written["backup"], written
            else:
                assert "台账未改动" not in done.stdout + done.stderr and "已写回台账" in done.stdout, done.stderr


def _rewrite_part(path: Path, part: str, change) -> None:
    contents = parts(path)
    contents[part] = change(contents[part])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in contents.items():
            zf.writestr(name, data)


def test_a_dimension_claiming_every_column_puts_new_columns_after_the_last_cell(tmp_path):
    ledger = rich_ledger(tmp_path / "台账.xlsx")
    part = sheet_part(ledger)
    _rewrite_part(ledger, part, lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', xml))
    assert classify_back(ledger, "--out", str(tmp_path / "out")).returncode == 0
    sheet = openpyxl.load_workbook(ledger)["客户台账"]
    assert sheet["K3"].value == "重点"  # beside the ledger's own columns, not at XFE
    assert max(column_index(ref.rstrip("0123456789")) for ref in cells(parts(ledger)[part])) < 16384


def test_no_room_after_the_last_column_is_refused_with_one_line(tmp_path):
    ledger = rich_ledger(tmp_path / "台账.xlsx")
    part = sheet_part(ledger)
    before = None

    def cell_at_xfd(xml: bytes) -> bytes:
        return re.sub(
            rb"(<row [^>]*\br=\"5\"[^>]*>.*?)</row>",
            rb'\1<c r="XFD5" t="inlineStr"><is><t>x</t></is></c></row>',
            xml,
            count=1,
            flags=re.S,
        )

    _rewrite_part(ledger, part, cell_at_xfd)
    before = ledger.read_bytes()
    done = classify_back(ledger, "--out", str(tmp_path / "out"))
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip()
    assert len(line.splitlines()) == 1 and "no room for the new columns" in line and "XFD" in line
    assert "客户台账" in line and ledger.read_bytes() == before


def test_killed_during_the_backup_copy_leaves_no_truncated_backup(tmp_path):
    ledger = rich_ledger(tmp_path / "台账.xlsx")
    backups = tmp_path / "backups"
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from toolkit.writeback import patch as writeback
        from toolkit.writeback.patch import WriteColumn, write_back

        def half_then_killed(source, target):
            data = Path(source).read_bytes()
            Path(target).write_bytes(data[: len(data) // 2])
            os.kill(os.getpid(), signal.SIGKILL)

        writeback.shutil.copy2 = half_then_killed
        write_back(Path({str(ledger)!r}), "客户台账", 2, [], [WriteColumn("class", "客户分类(系统)", {{3: "重点"}})],
                   backup_dir=Path({str(backups)!r}))
        """
    )
    killed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True)
    assert killed.returncode == -9
    left = sorted(p.name for p in backups.iterdir())
    assert len(left) == 1 and left[0].startswith(".台账 ") and left[0].endswith(".partial")  # never a backup's name
    assert classify_back(ledger, "--out", str(tmp_path / "out"), cwd=tmp_path).returncode == 0
    column = WriteColumn("class", "客户分类(系统)", {3: "一般"})
    result = write_back(ledger, "客户台账", 2, [], [column], backup_dir=backups)
    kept = sorted(p.name for p in backups.iterdir())
    assert kept == [result.backup.name] and zipfile.is_zipfile(result.backup)  # the partial copy is gone


def test_the_ledgers_filter_takes_in_the_new_columns_and_their_widths_fit_their_text(tmp_path):
    """A filter over the header row is carried on over the written columns (so they can be
    filtered like the rest); each written column is as wide as its longest text, up to 60."""
    path = tmp_path / "台账.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "客户台账"
    sheet.append(["客户名称", "联系人", "联系电话", "客户经理", "年销售额"])
    for n, sales in enumerate(SALES):
        sheet.append([f"测试{n}号科技有限公司", "王五", f"1381234{n:04d}", "张伟", sales * 10000])
    sheet.auto_filter.ref = f"A1:E{len(SALES) + 1}"
    book.save(path)
    assert classify_back(path, "--out", str(tmp_path / "out")).returncode == 0
    after = openpyxl.load_workbook(path)["客户台账"]
    headers = [c.value for c in after[1]]
    assert headers[5:] == ["客户分类(系统)", "分类依据", "风险等级"]
    assert after.auto_filter.ref == f"A1:H{len(SALES) + 1}"
    reasons = [after.cell(row, 7).value for row in range(2, len(SALES) + 2)]
    longest = max(sum(2 if "\u4e00" <= ch <= "\u9fff" or ch in "：，≥＜" else 1 for ch in r) for r in reasons)
    assert min(longest + 2, 60) <= after.column_dimensions["G"].width <= 62


def test_a_text_wider_than_its_column_wraps_in_a_row_as_tall_as_it_needs(tmp_path):
    """分类依据 and 校验结果 run to 135 characters, wider than the 60 a column may take: such a
    cell wraps, and its row is made as tall as its lines (never lower; a height the user set
    stays). A short text, and every cell of the user's, keep their style."""
    from toolkit.xlsx import LINE_HEIGHT, text_lines

    path = tmp_path / "台账.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "客户台账"
    sheet.append(["客户名称", "联系人", "联系电话", "客户经理", "客户分类"])
    sheet.append(["甲科技有限公司", "王五", "13812340001", "张伟", "A"])
    sheet.append(["乙科技有限公司", "赵六", "13812340002", "张伟", "B"])
    sheet.append(["丙科技有限公司", "钱七", "13812340003", "张伟", "C"])
    sheet.row_dimensions[4].height = 50  # the user's own height
    book.save(path)
    long = "很长的分类依据，" * 12  # 96 characters, 192 wide
    columns = [WriteColumn("reason", "分类依据", {2: long, 3: "短", 4: long}, 40)]
    labels = ["客户名称", "联系人", "联系电话", "客户经理", "客户分类"]
    write_back(path, "客户台账", 1, labels, columns, backup_dir=tmp_path / "backups")
    after = openpyxl.load_workbook(path)["客户台账"]
    width = after.column_dimensions["F"].width
    assert width == 60 and after["F2"].value == long
    assert after["F2"].alignment.wrap_text and after["F4"].alignment.wrap_text
    assert not after["F3"].alignment.wrap_text  # fits: left as it is
    assert after.row_dimensions[2].height == text_lines(long, 60) * LINE_HEIGHT >= 4 * LINE_HEIGHT
    assert after.row_dimensions[3].height is None  # nothing to wrap: the row as it was
    assert after.row_dimensions[4].height == 50  # the user's height wins
    assert not after["A2"].alignment.wrap_text  # the user's cells keep their style
    again = parts(path)
    write_back(path, "客户台账", 1, [*labels, "分类依据"], columns, backup_dir=tmp_path / "backups")
    assert parts(path)[sheet_part(path)] == again[sheet_part(path)]  # a rerun changes nothing
    assert parts(path)["xl/styles.xml"] == again["xl/styles.xml"]  # the wrap style is reused, not added twice

"""The validation workbook, read back cell by cell with openpyxl and converted by LibreOffice."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import openpyxl
import pytest
from conftest import soffice

from toolkit.config import load_settings
from toolkit.demo import make_demo
from toolkit.validate import validate


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    from conftest import TODAY

    folder = tmp_path_factory.mktemp("demo")
    ledger, planted = make_demo(folder, TODAY)
    result = validate(ledger, load_settings(folder), today=TODAY)
    return result, planted, result.outputs[0]


def test_report_sheets_and_summary(demo_report):
    result, planted, path = demo_report
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:3] == ["汇总", "问题清单", "读取情况"]
    summary = book["汇总"]
    facts = {summary.cell(r, 1).value: summary.cell(r, 2).value for r in range(1, 10)}
    assert facts["客户数"] == 300
    assert facts["错误"] == result.errors and facts["警告"] == result.warnings
    assert result.errors + result.warnings == len(planted)


def test_issues_sheet_cell_by_cell(demo_report):
    result, _, path = demo_report
    sheet = openpyxl.load_workbook(path)["问题清单"]
    header = [c.value for c in sheet[1]]
    assert header == ["级别", "工作表", "单元格", "字段", "值", "问题", "修改建议", "负责人", "重复分组", "代码"]
    assert sheet.max_row == len(result.findings) + 1
    for n, finding in enumerate(result.findings, start=2):
        row = [c.value for c in sheet[n]]
        assert row[0] == {"error": "错误", "warning": "警告"}[finding.severity]
        assert row[1] == finding.sheet and row[2] == finding.cell
        assert row[5] == finding.message and row[6] == finding.hint and row[9] == finding.code
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref.startswith("A1:J")
    assert sheet.print_options is not None and sheet.page_setup.orientation == "landscape"
    assert sheet.print_title_rows.replace("$", "") == "1:1"


def test_cell_references_link_into_the_ledger(demo_report):
    result, _, path = demo_report
    sheet = openpyxl.load_workbook(path)["问题清单"]
    link = sheet["C2"].hyperlink
    first = result.findings[0]
    assert link is not None
    assert link.location == f"'{first.sheet}'!{first.cell}"
    assert link.target.replace("\\", "/") == "../台账/客户台账.xlsx"
    target = (Path(path).parent / link.target.split("#")[0].replace("\\", "/")).resolve()
    assert target == Path(result.ledger.path).resolve()


def test_each_finding_is_written_once(demo_report):
    result, _, path = demo_report
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["汇总", "问题清单", "读取情况"]  # no per-owner copies
    cells = [(r[1], r[2], r[9]) for r in book["问题清单"].iter_rows(min_row=2, values_only=True)]
    assert sorted(cells) == sorted((f.sheet, f.cell, f.code) for f in result.findings)


def test_split_gives_each_owner_only_their_findings(tmp_path, today):
    ledger, _ = make_demo(tmp_path, today)
    result = validate(ledger, load_settings(tmp_path), today=today, split=True)
    main, *owned = result.outputs
    owners = sorted({f.owner for f in result.findings if f.owner})
    assert [p.name for p in owned] == [f"{main.stem}_{o}.xlsx" for o in owners]
    for owner, path in zip(owners, owned, strict=True):
        rows = list(openpyxl.load_workbook(path)["问题清单"].iter_rows(min_row=2, values_only=True))
        assert rows and {r[7] for r in rows} == {owner}
        assert len(rows) == sum(1 for f in result.findings if f.owner == owner)
    # a finding with no owner has nobody to go to: it is in the main workbook only
    assert any(not f.owner for f in result.findings)


def test_validation_leaves_the_ledger_untouched(tmp_path, today):
    ledger, _ = make_demo(tmp_path, today)
    before = ledger.read_bytes(), ledger.stat().st_mtime_ns
    validate(ledger, load_settings(tmp_path), today=today)
    assert (ledger.read_bytes(), ledger.stat().st_mtime_ns) == before


def test_english_report(tmp_path, today):
    ledger, _ = make_demo(tmp_path, today, customers=100)
    result = validate(ledger, load_settings(tmp_path, lang="en"), today=today)
    book = openpyxl.load_workbook(result.outputs[0])
    assert book.sheetnames[:3] == ["Summary", "Issues", "What was read"]
    assert book["Issues"]["A1"].value == "Severity"
    assert result.outputs[0].name.endswith("_validation_20261126.xlsx")


@pytest.mark.libreoffice
def test_libreoffice_opens_and_converts_the_report(demo_report, tmp_path):
    office = soffice()
    if office is None:
        pytest.skip("LibreOffice (soffice) is not installed; .ci/run installs it")
    result, _, path = demo_report
    for target in ("pdf", "xlsx"):
        subprocess.run(
            [
                office,
                "--headless",
                f"-env:UserInstallation=file://{tmp_path}/lo",
                "--convert-to",
                target,
                "--outdir",
                str(tmp_path / target),
                str(path),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    pdf = next((tmp_path / "pdf").glob("*.pdf")).read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pdf.startswith(b"%PDF") and pages >= 3
    resaved = openpyxl.load_workbook(next((tmp_path / "xlsx").glob("*.xlsx")))
    assert resaved.sheetnames[:2] == ["汇总", "问题清单"]
    issues = resaved["问题清单"]
    assert [issues.cell(n + 2, 6).value for n in range(len(result.findings))] == [f.message for f in result.findings]

"""crm report: every KPI against a small ledger computed by hand, the workbook read back, what
is missing said aloud, the group roll-up with a broken subsidiary, LibreOffice pages."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from conftest import ROOT, make_xlsx, run_crm, soffice

from toolkit.config import load_settings
from toolkit.report import report, report_group

NOV = date(2026, 11, 1)
CUSTOMERS = [
    ["客户编号", "客户名称", "客户经理", "客户分类", "战略客户", "建档日期", "满意度", "最近拜访日期"],
    ["C1", "甲", "张伟", "A", "否", date(2026, 11, 3), 4.0, date(2026, 8, 1)],  # new in November
    ["C2", "乙", "张伟", "B", "否", date(2025, 1, 1), 3.0, date(2026, 5, 1)],
    ["C3", "丙", "王芳", "A", "是", date(2026, 10, 9), 5.0, date(2026, 10, 5)],  # new in October; strategic
    ["C4", "丁", "王芳", "C", "否", date(2024, 1, 1), None, date(2026, 1, 1)],
]
MONTHLY = [
    ["月份", "客户编号", "业务量(万元)", "新增业务(万元)"],
    ["2025-11", "C1", 80, 0],  # a year before: 甲 +50 % year on year
    ["2026-10", "C1", 100, 0],
    ["2026-10", "C2", 50, 0],
    ["2026-10", "C4", 30, 0],  # C4: lost in November
    ["2026-11", "C1", 120, 10],
    ["2026-11", "C2", 40, 0],
    ["2026-11", "C3", 200, 200],
]
COMPLAINTS = [
    ["投诉编号", "投诉时间", "客户编号", "投诉类别", "投诉内容", "处理人", "回复时间", "是否解决", "严重程度"],
    # T1 answered in 23:59, T2 in 24:01
    ["T1", datetime(2026, 11, 2, 9, 0), "C1", "质量", "划痕", "张伟", datetime(2026, 11, 3, 8, 59), "是", "一般"],
    ["T2", datetime(2026, 11, 5, 9, 0), "C1", "交付", "延迟", "张伟", datetime(2026, 11, 6, 9, 1), "否", "严重"],
    ["T3", datetime(2026, 11, 20, 9, 0), "C3", "服务", "慢", "王芳", None, "否", "不严重"],  # no reply
    ["T4", datetime(2026, 10, 20, 9, 0), "C2", "服务", "慢", "张伟", datetime(2026, 10, 20, 10), "是", ""],
]  # October
VISITS = [
    ["拜访日期", "客户编号", "拜访人", "拜访方式", "拜访目的"],
    [date(2026, 11, 10), "C1", "张伟", "实地", "回访"],  # A due 11-01: done
    [date(2026, 11, 12), "C3", "王芳", "实地", "例行"],  # strategic 客户经理拜访 due 11-05: done
    [date(2026, 10, 5), "C3", "王芳", "实地", "例行"],
    [date(2026, 11, 16), "C3", "李总", "实地", "高层拜访"],  # management's own visit
]


def ledger(tmp_path, **drop):
    sheets = {"客户": CUSTOMERS, "月度": MONTHLY, "投诉": COMPLAINTS, "拜访": VISITS}
    for name in drop:
        sheets.pop(name)
    return make_xlsx(tmp_path / "台账.xlsx", sheets)


def test_every_kpi_by_hand(tmp_path):
    result = report(ledger(tmp_path), load_settings(), month=NOV, out_dir=tmp_path / "out")
    k = result.kpis()
    assert (
        # C3 is class A and flagged strategic: counted in its class (the flag brings the 战略 cadence)
        k["customers"] == 4 and k["class:A"] == 2 and "class:战略" not in k and k["class:B"] == 1 and k["class:C"] == 1
    )
    assert k["new_customers"] == 1 and result.previous.new_customers == 1
    assert k["lost_customers"] == 1  # C4: 30万 in October, nothing in November
    assert k["volume"] == pytest.approx(360e4) and result.previous.volume == pytest.approx(180e4)
    assert k["volume_change"] == pytest.approx(1.0)
    assert k["new_business"] == pytest.approx(210e4)
    assert k["complaints"] == 3 and k["complaints_on_time"] == 1  # 23 h 59 m counts, 24 h 01 m does not
    assert k["on_time_rate"] == pytest.approx(1 / 3) and k["resolved_rate"] == pytest.approx(1 / 3)
    assert result.previous.complaints == 1 and result.previous.on_time_rate == 1.0
    assert k["satisfaction"] == pytest.approx(4.0)  # (4 + 3 + 5) / 3, the empty one left out
    # due in November: C1 (A, 8-01 + 3 months), C3's four strategic kinds (客户经理拜访 10-05 + 1 month, the
    # others never done: due now); C2 (B, 5-01 + 6 = 11-01); C4 (C, 1-01 + 12 = 2027) is not due
    assert k["visits_planned"] == 6
    assert k["visits_done"] == 3  # C1 visited; C3's 客户经理拜访 and its 高层拜访 (技术/质量 not)
    assert result.by_owner["张伟"].planned == 2 and result.by_owner["张伟"].done == 1
    key = {c.name: i for i, c in enumerate(result.classified.customers)}
    assert result.per_customer[key["甲"]].problems == {"质量": 1, "交付": 1}
    assert result.per_customer[key["甲"]].year_to_date == pytest.approx(220e4)


def test_the_workbook_read_back(tmp_path):
    result = report(ledger(tmp_path), load_settings(), month=NOV, out_dir=tmp_path / "out")
    path = result.outputs[0]
    assert path.name == "台账_月度报告_202611.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "概览",
        "重点客户",
        "风险预警",
        "拜访",
        "投诉",
        "严重投诉",
        "投诉考核",
        "数据质量",
        "发送记录",
    ]
    overview = book["概览"]
    rows = {r[0]: r[1:4] for r in overview.iter_rows(min_row=5, values_only=True) if r[0]}
    assert rows["业务量（万元）"][:2] == (360, 180)
    assert rows["投诉处理及时率"][0] == pytest.approx(1 / 3)
    assert (
        overview.cell(
            row=[r[0].row for r in overview.iter_rows(min_row=5) if r[0].value == "投诉处理及时率"][0], column=2
        ).number_format
        == "0.0%"
    )
    assert rows["A 类客户"][1] == "无数据"  # no classification run last month
    with zipfile.ZipFile(path) as archive:
        assert sum(n.startswith("xl/charts/chart") for n in archive.namelist()) == 3
    key = list(book["重点客户"].iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in key] == ["甲", "丙"]  # class A and the strategic customer
    header = [c.value for c in book["重点客户"][1]]
    assert header[4:8] == ["战略", "本月业务量(万元)", "上月(万元)", "变化"]
    assert header[8:12] == ["去年同月(万元)", "同比", "本年累计(万元)", "新增业务(万元)"]
    assert header[15:] == ["严重抱怨", "其他投诉", "高层拜访", "其他拜访", "风险标签", "措施/跟进"]
    jia, bing = key
    assert (jia[4], jia[5], jia[6], jia[8]) == (None, 120, 100, 80)
    assert (jia[7], jia[9]) == (pytest.approx(0.2), pytest.approx(0.5))  # against last month, last year
    assert jia[12:15] == (1, 1, 0) and jia[15:17] == (1, 1) and jia[17:19] == (0, 1)  # T2 严重, T1 一般
    # 丙 did no business in October or a year before, months the sheet has rows for: 0, not a blank
    assert (bing[4], bing[5], bing[6], bing[7], bing[8], bing[9]) == ("是", 200, 0, None, 0, None)
    assert bing[15:17] == (0, 1) and bing[17:19] == (1, 1)  # T3 is 不严重
    complaints = list(book["投诉"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[7]) for r in complaints] == [("T1", "是"), ("T2", "否"), ("T3", "否")]
    assert book["概览"].page_setup.orientation == "landscape"


def test_missing_data_is_said_not_zeroed(tmp_path):
    result = report(ledger(tmp_path, 月度=True), load_settings(), month=NOV, out_dir=tmp_path / "out")
    assert result.kpis()["volume"] is None and "monthly_sheet" in result.missing
    rows = {r[0]: r for r in openpyxl.load_workbook(result.outputs[0])["概览"].iter_rows(min_row=5, values_only=True)}
    assert rows["业务量（万元）"][1] == "无数据" and "没有月度业务表" in rows["业务量（万元）"][4]
    empty_month = report(ledger(tmp_path), load_settings(), month=date(2026, 3, 1), out_dir=tmp_path / "o2")
    assert empty_month.kpis()["volume"] is None and "volume_month" in empty_month.missing
    first_month = report(ledger(tmp_path), load_settings(), month=date(2026, 10, 1), out_dir=tmp_path / "o3")
    assert first_month.kpis()["volume"] == pytest.approx(180e4) and "volume_previous" in first_month.missing
    assert first_month.kpis()["volume_change"] is None


def test_group_roll_up_survives_a_broken_subsidiary(tmp_path):
    folder = tmp_path / "group"
    folder.mkdir()
    shutil.copy(ledger(tmp_path), folder / "华东分公司.xlsx")
    shutil.copy(ledger(tmp_path), folder / "华南分公司.xlsx")
    (folder / "西北分公司.xlsx").write_bytes(b"PK\x03\x04 broken")
    (folder / "~$华东分公司.xlsx").write_bytes(b"lock")
    result = report_group(folder, load_settings(), month=NOV, out_dir=tmp_path / "out")
    assert [r.subsidiary for r in result.reports] == ["华东分公司", "华南分公司"]
    assert [f for f, _ in result.failures] == ["西北分公司.xlsx"] and "damaged" in result.failures[0][1]
    totals = result.totals()
    assert totals["volume"] == pytest.approx(720e4) and totals["complaints"] == 6
    assert totals["on_time_rate"] == pytest.approx(1 / 3)  # recomputed from the sums, not averaged
    book = openpyxl.load_workbook(result.outputs[0])
    assert book.sheetnames == ["集团汇总", "华东分公司", "华南分公司", "未能读取"]
    header = [c.value for c in book["集团汇总"][3]]
    assert header == ["指标", "华东分公司", "华南分公司", "合计", "说明"]
    failed = list(book["未能读取"].iter_rows(min_row=2, values_only=True))
    assert failed[0][0] == "西北分公司.xlsx"


def test_report_cli_json_and_bad_month(tmp_path):
    path = ledger(tmp_path)
    result = run_crm("report", str(path), "--month", "2026-11", "--json", "--out", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["month"] == "2026-11" and data["kpis"]["complaints"] == 3 and "classes_previous" in data["missing"]
    bad = run_crm("report", str(path), "--month", "十一月")
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.libreoffice
def test_libreoffice_renders_the_report_to_pages(tmp_path):
    office, pdftoppm = soffice(), shutil.which("pdftoppm")
    if office is None or pdftoppm is None:
        pytest.skip("LibreOffice and pdftoppm are not installed; .ci/run installs them")
    result = report(ledger(tmp_path), load_settings(), month=NOV, out_dir=tmp_path / "out")
    subprocess.run(
        [
            office,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "pdf"),
            str(result.outputs[0]),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = next((tmp_path / "pdf").glob("*.pdf"))
    artifacts = ROOT / "tests" / "artifacts"  # kept (not committed) so a person can look at the pages
    artifacts.mkdir(exist_ok=True)
    subprocess.run([pdftoppm, "-r", "60", "-png", str(pdf), str(artifacts / "monthly_report")], check=True, timeout=120)
    pages = sorted(artifacts.glob("monthly_report*.png"))
    assert len(pages) >= 6 and all(p.stat().st_size > 5000 for p in pages)
    assert Path(pages[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_review_cases_month_awareness_formats_and_partial_totals(tmp_path):
    customers = [*CUSTOMERS, ["C5", "戊", "张伟", "A", "否", date(2026, 12, 3), 4.0, None]]  # created after November
    complaints = [
        *COMPLAINTS,
        ["T5", datetime(2026, 11, 9, 9, 0), "C1", "产品质量问题", "坏", "张伟", datetime(2026, 11, 8, 9, 0), "否"],
    ]  # replied "before" it came in
    path = make_xlsx(tmp_path / "l.xlsx", {"客户": customers, "月度": MONTHLY, "投诉": complaints, "拜访": VISITS})
    result = report(path, load_settings(), month=NOV, out_dir=tmp_path / "out", today=date(2026, 12, 5))
    k = result.kpis()
    assert k["customers"] == 4 and k["complaints"] == 4 and k["complaints_on_time"] == 1
    key = {c.name: i for i, c in enumerate(result.classified.customers)}
    assert result.per_customer[key["甲"]].problems == {"质量": 2, "交付": 1}  # 产品质量问题 counts as 质量
    assert key["乙"] not in result.per_customer  # per-customer figures only for the 重点客户 table
    october = report(path, load_settings(), month=date(2026, 10, 1), out_dir=tmp_path / "o2")
    assert october.kpis()["lost_customers"] is None  # no rows for September: unknown, not 0
    book = openpyxl.load_workbook(result.outputs[0])
    assert book["重点客户"]["H2"].number_format == book["重点客户"]["J2"].number_format == "+0.0%;[Red]-0.0%"
    assert book["拜访"]["D2"].number_format == "0.0%"
    bare = make_xlsx(tmp_path / "bare.xlsx", {"客户": CUSTOMERS})
    no_sheets = report(bare, load_settings(), month=NOV, out_dir=tmp_path / "o3")
    rows = list(openpyxl.load_workbook(no_sheets.outputs[0])["重点客户"].iter_rows(min_row=2, values_only=True))
    assert rows[0][9:14] == (None, None, None, None, None)  # no complaints or visits sheet: empty, not 0
    assert openpyxl.load_workbook(no_sheets.outputs[0])["投诉"]["A1"].value == "台账没有投诉记录表"
    bad = run_crm("report", str(path), "--month", "9999-12")
    assert bad.returncode == 2 and "not a month" in bad.stderr


def test_without_a_severity_column_serious_complaints_are_not_guessed(tmp_path):
    complaints = [row[:-1] for row in COMPLAINTS]  # no 严重程度 column
    path = make_xlsx(tmp_path / "l.xlsx", {"客户": CUSTOMERS, "月度": MONTHLY, "投诉": complaints, "拜访": VISITS})
    result = report(path, load_settings(), month=NOV, out_dir=tmp_path / "out")
    sheet = openpyxl.load_workbook(result.outputs[0])["重点客户"]
    header = [c.value for c in sheet[1]]
    assert header[15:17] == ["严重抱怨", "投诉"]
    jia = next(sheet.iter_rows(min_row=2, values_only=True))
    assert jia[15] is None and jia[16] == 2  # both of 甲's complaints, none called serious
    notes = [r[0] for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] and "严重程度" in str(r[0])]
    assert notes and "严重抱怨无法单独列出" in notes[0]


def test_the_key_customer_sheet_says_why_year_on_year_is_empty(tmp_path):
    monthly = [r for r in MONTHLY if r[0] != "2025-11"]  # no rows a year before November
    path = make_xlsx(tmp_path / "l.xlsx", {"客户": CUSTOMERS, "月度": monthly, "投诉": COMPLAINTS, "拜访": VISITS})
    result = report(path, load_settings(), month=NOV, out_dir=tmp_path / "out")
    sheet = openpyxl.load_workbook(result.outputs[0])["重点客户"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows[0][8] is None and rows[0][9] is None  # 去年同月, 同比: no data, not 0
    notes = [r[0] for r in rows if r[0] and str(r[0]).startswith("去年同月")]
    assert notes == ["去年同月、同比：月度业务表中没有 2025-11 的数据"]


def test_split_gives_each_owner_a_report_of_only_their_customers(tmp_path):
    result = report(ledger(tmp_path), load_settings(), month=NOV, out_dir=tmp_path / "out", split=True)
    assert [p.name for p in result.outputs] == [
        "台账_月度报告_202611.xlsx",
        "台账_月度报告_202611_张伟.xlsx",
        "台账_月度报告_202611_王芳.xlsx",
    ]
    whole = openpyxl.load_workbook(result.outputs[0])
    zhang = openpyxl.load_workbook(result.outputs[1])
    assert "发送记录" in whole.sheetnames and "发送记录" not in zhang.sheetnames  # it names everyone's mail
    kpi = {r[0]: r for r in zhang["概览"].iter_rows(min_row=5, values_only=True) if r[0]}
    # 张伟: 甲 (A, new in November) and 乙 (B); 丙 and 丁 are 王芳's
    assert kpi["客户总数"][1] == 2 and kpi["A 类客户"][1] == 1 and kpi["B 类客户"][1] == 1
    assert kpi["业务量（万元）"][1:3] == (160, 150)  # 甲 120 + 乙 40; October 100 + 50
    assert kpi["收到投诉"][1] == 2 and kpi["投诉处理及时率"][1] == pytest.approx(0.5)  # T1, T2 (T3 is 王芳's)
    assert "不分客户经理" in kpi["A 类客户"][4]  # last month's class mix is not kept per owner: said
    texts = " ".join(str(c) for s in zhang.worksheets for r in s.iter_rows(values_only=True) for c in r if c)
    assert "甲" in texts and not any(name in texts for name in ("丙", "丁", "王芳"))
    complaints = [r[0] for r in zhang["投诉"].iter_rows(min_row=2, values_only=True)]
    assert complaints == ["T1", "T2"]
    key = [r[1] for r in zhang["重点客户"].iter_rows(min_row=2, values_only=True) if r[1]]
    assert key == ["甲"]
    wang = openpyxl.load_workbook(result.outputs[2])
    wang_kpi = {r[0]: r for r in wang["概览"].iter_rows(min_row=5, values_only=True) if r[0]}
    assert wang_kpi["客户总数"][1] == 2 and wang_kpi["收到投诉"][1] == 1
    assert "（王芳 的客户）" in wang["概览"]["A1"].value

"""crm classify: each policy at and around its thresholds, overrides, every risk tag, history
and the changes sheet, rules edited in Excel, bad rules and missing columns."""

from __future__ import annotations

import json
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
from conftest import make_xlsx, run_crm

from toolkit.classify import classify
from toolkit.config import load_settings
from toolkit.workspace import init_workspace

TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 12, 0)


def run(tmp_path, sheets, policy, settings=None, merges=None, name="l.xlsx", **kwargs):
    path = tmp_path / name
    if not path.exists() or kwargs.pop("rewrite", True):
        make_xlsx(path, sheets, merges)
    return classify(
        path, settings or load_settings(), today=TODAY, now=NOW, policy=policy, out_dir=tmp_path / "out", **kwargs
    )


def by_name(result):
    return {c.name: c for c in result.customers}


SALES_ROWS = [  # name, 年销售额(万元), 战略客户, expected class, expected reason
    ("甲", 1999.99, "否", "主要", "主要：年销售额 1,999.99万 < 2,000万，≥ 500万"),
    ("乙", 2000, "否", "重点", "重点：年销售额 2,000万 ≥ 2,000万"),
    ("丙", 2000.01, "否", "重点", "重点：年销售额 2,000.01万 ≥ 2,000万"),
    ("丁", 499.99, "否", "一般", "一般：年销售额 499.99万 < 500万"),
    ("戊", 500, "否", "主要", "主要：年销售额 500万 < 2,000万，≥ 500万"),
    ("己", "2350万", "否", "重点", "重点：年销售额 2,350万 ≥ 2,000万"),
    ("庚", 10, "是", "战略", "战略：台账标记为战略客户"),
    ("辛", None, "否", None, "未填年销售额，无法按销售额分类"),
]


def test_sales_policy_at_and_around_every_threshold(tmp_path):
    rows = [["客户名称", "客户经理", "年销售额(万元)", "战略客户"]] + [
        [n, "张伟", v, s] for n, v, s, _, _ in SALES_ROWS
    ]
    result = by_name(run(tmp_path, {"S": rows}, "sales"))
    for name, _, _, klass, reason in SALES_ROWS:
        assert (result[name].klass, result[name].reason) == (klass, reason), name


SHARE_ROWS = [  # name, 业务占比, class, reason
    ("甲", "5%", "重点客户", "重点客户：业务占比 5% ≤ 5%，> 3%"),
    ("乙", "5.01%", "战略合作伙伴", "战略合作伙伴：业务占比 5.01% > 5%"),
    ("丙", "3%", "一般客户", "一般客户：业务占比 3% ≤ 3%"),
    ("丁", "3.01%", "重点客户", "重点客户：业务占比 3.01% ≤ 5%，> 3%"),
    ("戊", "0.5%", "一般客户", "一般客户：业务占比 0.5% ≤ 3%"),
]


def test_share_policy_at_and_around_every_threshold(tmp_path):
    rows = [["客户名称", "客户经理", "业务占比"]] + [[n, "张伟", v] for n, v, _, _ in SHARE_ROWS]
    result = by_name(run(tmp_path, {"S": rows}, "share"))
    for name, _, klass, reason in SHARE_ROWS:
        assert (result[name].klass, result[name].reason) == (klass, reason), name


def test_share_computed_from_the_monthly_sheet(tmp_path):
    customers = [["客户编号", "客户名称", "客户经理"], ["C1", "甲", "张伟"], ["C2", "乙", "张伟"], ["C3", "丙", "张伟"]]
    monthly = [["月份", "客户编号", "客户名称", "业务量(万元)"]]
    for month in range(1, 13):  # 2026-01 … 2026-12; December is after today and is left out
        monthly += [
            [f"2026-{month:02d}", "C1", "甲", 6],
            [f"2026-{month:02d}", "C2", "乙", 4],
            [f"2026-{month:02d}", "C3", "丙", 90],
        ]
    result = by_name(run(tmp_path, {"客户": customers, "月度": monthly}, "share"))
    assert result["甲"].klass == "战略合作伙伴" and result["甲"].share == pytest.approx(6.0)
    assert result["甲"].reason == "战略合作伙伴：业务占比 6% > 5%（11 个月业务 66万 ÷ 全部 1,100万）"
    assert result["乙"].klass == "重点客户" and result["丙"].klass == "战略合作伙伴"


ABCD_ROWS = [  # 行业地位, 企业规模, 合作意向, 发展潜力, class, reason
    (
        "龙头",
        "大型",
        "强",
        "高",
        "A",
        "A：行业地位 龙头 3 + 企业规模 大型 3 + 合作意向 强 3 + 发展潜力 高 3，平均 3.00 ≥ 2.50",
    ),
    (
        "领先",
        "中型",
        "强",
        "较高",
        "A",
        "A：行业地位 领先 3 + 企业规模 中型 2 + 合作意向 强 3 + 发展潜力 较高 2，平均 2.50 ≥ 2.50",
    ),
    (
        "较强",
        "中型",
        "一般",
        "较高",
        "B",
        "B：行业地位 较强 2 + 企业规模 中型 2 + 合作意向 一般 1 + 发展潜力 较高 2，平均 1.75 ≥ 1.75",
    ),
    (
        "一般",
        "小型",
        "待观察",
        "中",
        "C",
        "C：行业地位 一般 1 + 企业规模 小型 1 + 合作意向 待观察 1 + 发展潜力 中 1，平均 1.00 ≥ 1.00",
    ),
    (
        "较弱",
        "微型",
        "一般",
        "中",
        "D",
        "D：行业地位 较弱 0 + 企业规模 微型 0 + 合作意向 一般 1 + 发展潜力 中 1，平均 0.50 ≥ 0.00",
    ),
    ("龙头", "大型", "不明确", "高", "D", "D：合作意向 不明确（直接归为 D）"),
    ("龙头", "大型", "强", "低", "D", "D：发展潜力 低（直接归为 D）"),
    (
        None,
        "大型",
        "强",
        "高",
        "A",
        "A：企业规模 大型 3 + 合作意向 强 3 + 发展潜力 高 3，平均 3.00 ≥ 2.50（未填：行业地位）",
    ),
    (
        None,
        None,
        "强",
        None,
        None,
        "资料不足：已填因素少于 2 项（合作意向 强 3）（未填：行业地位、企业规模、发展潜力）",
    ),
]


def test_abcd_points_table(tmp_path):
    header = ["客户名称", "客户经理", "行业地位", "企业规模", "合作意向", "发展潜力"]
    rows = [header] + [[f"客户{n}", "张伟", *r[:4]] for n, r in enumerate(ABCD_ROWS)]
    result = run(tmp_path, {"S": rows}, "abcd")
    for customer, (*_, klass, reason) in zip(result.customers, ABCD_ROWS, strict=True):
        assert (customer.klass, customer.reason) == (klass, reason), customer.name


def test_class_typed_by_hand_wins_and_is_marked(tmp_path):
    rows = [
        ["客户名称", "客户经理", "年销售额(万元)", "客户分类"],
        ["甲", "张伟", 3000, "主要"],
        ["乙", "张伟", 3000, "重点"],
        ["丙", "张伟", 3000, "A"],
    ]
    result = by_name(run(tmp_path, {"S": rows}, "sales"))
    assert (result["甲"].klass, result["甲"].computed, result["甲"].override) == ("主要", "重点", True)
    assert result["甲"].reason == "手工指定 主要；计算为 重点；重点：年销售额 3,000万 ≥ 2,000万"
    assert (result["乙"].klass, result["乙"].override) == ("重点", False)
    assert result["丙"].klass == "重点" and "「A」不是 sales 策略的类别" in result["丙"].reason


RISK_HEADER = [
    "客户编号",
    "客户名称",
    "客户经理",
    "年销售额(万元)",
    "信用等级",
    "逾期金额(万元)",
    "逾期天数",
    "最近拜访日期",
    "满意度",
]


def risk_row(n, **changes):
    values = {
        "客户编号": f"C{n}",
        "客户名称": f"客户{n}",
        "客户经理": "张伟",
        "年销售额(万元)": 1000,
        "信用等级": "AA",
        "逾期金额(万元)": 0,
        "逾期天数": 0,
        "最近拜访日期": date(2026, 11, 1),
        "满意度": 4.5,
    }
    values.update(changes)
    return [values[h] for h in RISK_HEADER]


def test_every_risk_tag(tmp_path):
    customers = [
        RISK_HEADER,
        risk_row(1),
        risk_row(2, 信用等级="CCC"),
        risk_row(3, **{"逾期金额(万元)": 35.5, "逾期天数": 40}),
        risk_row(4, 最近拜访日期=date(2026, 1, 1)),
        risk_row(5, 满意度=2.5),
        risk_row(6),
        risk_row(7),
        risk_row(8),
    ]
    complaints = [
        ["投诉编号", "投诉时间", "客户编号", "投诉内容", "处理人", "回复时间", "是否解决"],
        ["T1", datetime(2026, 11, 24, 9, 0), "C6", "慢", "张伟", None, "否"],  # 51 h, no reply
        ["T2", datetime(2026, 11, 24, 9, 0), "C7", "慢", "张伟", datetime(2026, 11, 24, 10), "否"],  # replied
        ["T3", datetime(2026, 11, 26, 9, 0), "C7", "慢", "张伟", None, "否"],  # 3 h: not yet
        ["T4", datetime(2026, 11, 1, 9, 0), "C1", "慢", "张伟", None, "是"],
    ]  # resolved
    monthly = [
        ["月份", "客户编号", "业务量(万元)"],
        ["2026-10", "C8", 120],
        ["2026-11", "C8", 60],
        ["2026-10", "C1", 100],
        ["2026-11", "C1", 80],
    ]
    result = by_name(run(tmp_path, {"客户": customers, "投诉": complaints, "月度": monthly}, "sales"))
    tags = {name: [(t.code, t.level, t.reason) for t in c.tags] for name, c in result.items()}
    assert tags["客户1"] == []
    assert tags["客户2"] == [("low_credit", "severe", "信用等级低：信用等级 CCC（属于 CCC、CC、C、D、差）")]
    assert tags["客户3"] == [("overdue_payment", "warning", "逾期付款：逾期 35.5万，40 天")]
    assert tags["客户4"] == [
        (
            "no_contact",
            "warning",
            "超期未联系：主要类客户 329 天未联系（最近 2026-01-01），按每 6 个月一次应在 2026-07-01 前联系",
        )
    ]
    assert tags["客户5"] == [("satisfaction_low", "warning", "满意度低：满意度 2.5 < 3")]
    assert tags["客户6"] == [
        (
            "complaint_unanswered",
            "severe",
            "投诉超时未回复：投诉 T1（2026-11-24 09:00 受理）已 51 小时未回复，超过 24 小时",
        )
    ]
    assert tags["客户7"] == [
        ("complaint_open", "warning", "投诉未解决：投诉 T2（2026-11-24 09:00 受理）已 51 小时未解决，超过 24 小时")
    ]
    assert tags["客户8"] == [
        ("volume_drop", "warning", "业务量下滑：业务量 2026-10 120万 → 2026-11 60万，下降 50% > 30%")
    ]


def test_history_lists_changes_between_two_runs(tmp_path):
    header = ["客户编号", "客户名称", "客户经理", "年销售额(万元)", "信用等级", "满意度"]
    first = [
        header,
        ["C1", "甲", "张伟", 600, "AA", 4.5],
        ["C2", "乙", "张伟", 2500, "AA", 4.6],
        ["C3", "丙", "王芳", 100, "AA", 4.0],
        ["C4", "丁", "王芳", 100, "AA", 4.0],
    ]
    result = run(tmp_path, {"S": first}, "sales")
    assert result.previous is None and result.changes == []
    second = [
        header,
        ["C1", "甲", "张伟", 2600, "AA", 4.5],
        ["C2", "乙", "张伟", 900, "CCC", 3.5],
        ["C3", "丙", "王芳", 100, "AA", 4.0],
        ["C5", "戊", "王芳", 100, "AA", 4.0],
    ]
    result = run(tmp_path, {"S": second}, "sales")
    changes = {(c.kind, c.name, c.before, c.after) for c in result.changes}
    assert changes == {
        ("upgrade", "甲", "主要", "重点"),
        ("downgrade", "乙", "重点", "主要"),
        ("new_risk", "乙", "", "low_credit"),
        ("new_risk", "乙", "", "satisfaction_falling"),
        ("new", "戊", "", "一般"),
        ("vanished", "丁", "一般", ""),
    }
    falling = next(t for t in by_name(result)["乙"].tags if t.code == "satisfaction_falling")
    assert falling.reason == "满意度下降：满意度 4.6 → 3.5，下降 1.1 > 0.5"
    sheet = openpyxl.load_workbook(result.outputs[0])["变化"]
    kinds = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert kinds == {"升级", "降级", "新风险", "新增客户", "消失客户"}
    third = run(tmp_path, {"S": second}, "sales")
    assert {c.kind for c in third.changes} == set()  # nothing changed since the second run


def test_rules_edited_in_excel_change_the_result(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    book = openpyxl.load_workbook(ws / "rules.xlsx")
    params = book["参数"]
    for row in params.iter_rows(min_row=2):
        if row[0].value == "sales.key_min":
            row[2].value = 1000
    book["ABCD分级"]["B2"] = 3.0  # A now needs a perfect score
    for row in book["风险规则"].iter_rows(min_row=2):
        if row[0].value == "satisfaction_low":
            row[4].value = 4
    book.save(ws / "rules.xlsx")
    settings = load_settings(ws)
    rows = [["客户名称", "客户经理", "年销售额(万元)", "满意度"], ["甲", "张伟", 1500, 3.8]]
    customer = by_name(run(tmp_path, {"S": rows}, "sales", settings))["甲"]
    assert customer.klass == "重点" and customer.reason == "重点：年销售额 1,500万 ≥ 1,000万"
    assert [t.code for t in customer.tags] == ["satisfaction_low"]
    abcd = [
        ["客户名称", "客户经理", "行业地位", "企业规模", "合作意向", "发展潜力"],
        ["乙", "张伟", "领先", "中型", "强", "较高"],
    ]
    assert by_name(run(tmp_path, {"S": abcd}, "abcd", settings, name="b.xlsx"))["乙"].klass == "B"


def edited_rules(tmp_path, edit):
    ws = init_workspace(tmp_path / "ws")
    book = openpyxl.load_workbook(ws / "rules.xlsx")
    edit(book)
    book.save(ws / "rules.xlsx")
    ledger = make_xlsx(tmp_path / "l.xlsx", {"S": [["客户名称", "客户经理", "年销售额(万元)"], ["甲", "张伟", 100]]})
    return run_crm("classify", str(ledger), "--workspace", str(ws), "--out", str(tmp_path / "o"))


def clean_refusal(result, *words):
    assert result.returncode == 2, result.stderr
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    for word in words:
        assert word in line, line


def test_bad_rules_workbooks_are_refused_with_sheet_and_cell(tmp_path):
    clean_refusal(edited_rules(tmp_path / "a", lambda b: b.remove(b["风险规则"])), "rules.xlsx", "风险规则")

    def text_threshold(book):
        for row in book["参数"].iter_rows(min_row=2):
            if row[0].value == "sales.major_min":
                row[2].value = "五百"

    clean_refusal(edited_rules(tmp_path / "b", text_threshold), "参数", "C3", "not a number")
    clean_refusal(
        edited_rules(tmp_path / "c", lambda b: b["ABCD分级"].cell(3, 2, 2.6)), "ABCD分级", "B3", "out of order"
    )

    def swapped(book):
        for row in book["参数"].iter_rows(min_row=2):
            if row[0].value == "sales.major_min":
                row[2].value = 3000

    clean_refusal(edited_rules(tmp_path / "d", swapped), "参数", "C3", "out of order")


def test_unknown_policy_and_missing_columns(tmp_path):
    ledger = make_xlsx(
        tmp_path / "l.xlsx", {"S": [["客户名称", "客户经理", "联系电话"], ["甲", "张伟", "13812345678"]]}
    )
    clean_refusal(run_crm("classify", str(ledger), "--policy", "vip"), "unknown policy 'vip'", "abcd, sales, share")
    result = run_crm("classify", str(ledger), "--policy", "sales", "--out", str(tmp_path / "o"))
    clean_refusal(result, "policy sales needs 年销售额", "客户名称→客户名称", "客户经理→客户经理")
    clean_refusal(
        run_crm("classify", str(ledger), "--policy", "abcd", "--out", str(tmp_path / "o")),
        "policy abcd needs 合作意向, 发展潜力",
    )
    clean_refusal(
        run_crm("classify", str(ledger), "--policy", "share", "--out", str(tmp_path / "o")),
        "policy share needs 业务占比",
    )
    assert not list((tmp_path / "o").glob("*.xlsx"))  # classified nothing rather than guess


def test_workbook_and_json(tmp_path):
    rows = [
        ["客户编号", "客户名称", "客户经理", "年销售额(万元)", "信用等级"],
        ["C1", "甲", "张伟", 2500, "CCC"],
        ["C2", "乙", "王芳", 600, "AA"],
        ["C3", "丙", "王芳", 100, "AA"],
    ]
    ledger = make_xlsx(tmp_path / "台账.xlsx", {"S": rows})
    result = run_crm(
        "classify", str(ledger), "--policy", "sales", "--json", "--out", str(tmp_path / "o"), "--today", "2026-11-26"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["policy"] == "sales" and data["counts"] == {"重点": 1, "主要": 1, "一般": 1}
    first = data["customers"][0]
    assert {k: first[k] for k in ("sheet", "row", "name", "class", "computed_class", "override")} == {
        "sheet": "S",
        "row": 2,
        "name": "甲",
        "class": "重点",
        "computed_class": "重点",
        "override": False,
    }
    assert first["reason"] == "重点：年销售额 2,500万 ≥ 2,000万"
    assert first["tags"] == [
        {"code": "low_credit", "level": "severe", "reason": "信用等级低：信用等级 CCC（属于 CCC、CC、C、D、差）"}
    ]
    path = data["outputs"][0]
    assert path.endswith("台账_客户分类_sales_20261126.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["汇总", "客户分类", "风险", "变化"]
    listed = list(book["客户分类"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[3], r[6]) for r in listed] == [(c["name"], c["class"], c["reason"]) for c in data["customers"]]
    risks = list(book["风险"].iter_rows(min_row=2, values_only=True))
    assert risks == [("严重", "C1", "甲", "张伟", "重点", "信用等级低", first["tags"][0]["reason"], 2)]
    # the customer's row names its tags; each reason is said once, on 风险
    assert listed[0][7:9] == ("严重", "信用等级低")
    assert book["客户分类"].freeze_panes == "A2" and book["客户分类"].auto_filter.ref
    with zipfile.ZipFile(path) as archive:
        assert any(n.startswith("xl/charts/chart") for n in archive.namelist())
    assert book["变化"]["A1"].value == "首次运行，没有可比较的上次结果"


def test_english_reasons(tmp_path):
    rows = [["Company Name", "Owner", "Annual Revenue"], ["Acme", "Sam", "$25M"]]
    result = run(tmp_path, {"S": rows}, "sales", load_settings(lang="en"))
    assert result.customers[0].reason == "重点: annual sales CNY 25,000,000 ≥ CNY 20,000,000"  # 万 is not English


def test_classify_leaves_the_ledger_untouched(tmp_path):
    path = make_xlsx(tmp_path / "l.xlsx", {"S": [["客户名称", "客户经理", "年销售额(万元)"], ["甲", "张伟", 100]]})
    before = path.read_bytes()
    classify(path, load_settings(), today=TODAY, policy="sales", out_dir=tmp_path / "o")
    assert path.read_bytes() == before


@pytest.mark.libreoffice
def test_libreoffice_opens_the_classification_workbook(tmp_path):
    from conftest import libreoffice_convert

    from toolkit.demo import make_demo

    ledger, _ = make_demo(tmp_path / "demo", TODAY, customers=100)
    result = classify(ledger, load_settings(tmp_path / "demo"), today=TODAY)
    resaved = openpyxl.load_workbook(libreoffice_convert(result.outputs[0], "xlsx", tmp_path))
    assert resaved.sheetnames == ["汇总", "客户分类", "风险", "变化"]
    listed = [row[6] for row in resaved["客户分类"].iter_rows(min_row=2, values_only=True)]
    assert listed == [c.reason for c in result.customers]


def test_share_falls_back_to_the_monthly_sheet_where_no_share_is_typed(tmp_path):
    customers = [
        ["客户编号", "客户名称", "客户经理", "业务占比"],
        ["C1", "甲", "张伟", None],
        ["C2", "乙", "张伟", "1%"],
        ["C3", "丙", "张伟", None],
    ]
    monthly = [["月份", "客户编号", "业务量(万元)"], ["2026-10", "C1", 6], ["2026-10", "C2", 4], ["2026-10", "C3", 90]]
    result = by_name(run(tmp_path, {"客户": customers, "月度": monthly}, "share"))
    assert result["甲"].klass == "战略合作伙伴" and "1 个月业务 6万 ÷ 全部 100万" in result["甲"].reason
    assert result["乙"].klass == "一般客户" and result["乙"].reason == "一般客户：业务占比 1% ≤ 3%"


def test_percent_thresholds_typed_with_excel_percent_format(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    book = openpyxl.load_workbook(ws / "rules.xlsx")
    for row in book["参数"].iter_rows(min_row=2):
        if row[0].value == "share.strategic_min":
            row[2].value = 0.05  # what Excel stores for 5%
        if row[0].value == "sales.key_min":
            row[2].value = "2000"  # a number typed as text
    book.save(ws / "rules.xlsx")
    rules = load_settings(ws).rules
    assert rules.parameter("share.strategic_min") == pytest.approx(5) and rules.parameter("sales.key_min") == 2000


def test_unknown_risk_code_is_refused(tmp_path):
    def misspelled(book):
        book["风险规则"]["A2"] = "low_credits"

    clean_refusal(edited_rules(tmp_path, misspelled), "风险规则", "A2", "unknown risk code")


def test_a_strategic_partner_by_any_of_002s_three_marks_whatever_its_share(tmp_path):
    """002: share > 5 %, or long-term cooperation, or a major influence — any one makes a 战略合作伙伴."""
    rows = [
        ["客户名称", "客户经理", "业务占比", "战略客户", "长期合作", "重大影响"],
        ["甲", "张伟", "1%", "是", "否", "否"],
        ["乙", "张伟", "1%", "否", "是", "否"],
        ["丙", "张伟", "1%", "否", "否", "是"],
        ["丁", "张伟", "1%", "否", "否", "否"],  # none of them: by its share
        ["戊", "张伟", "6%", "否", "否", "否"],
        ["己", "张伟", None, "是", "是", "否"],
    ]
    result = by_name(run(tmp_path, {"S": rows}, "share"))
    assert result["甲"].klass == "战略合作伙伴"
    assert result["甲"].reason == "战略合作伙伴：台账标记为战略客户（业务占比 1%）"
    assert result["乙"].reason == "战略合作伙伴：台账标记为长期合作（业务占比 1%）"
    assert result["丙"].reason == "战略合作伙伴：台账标记为有重大影响（业务占比 1%）"
    assert (result["丁"].klass, result["戊"].klass) == ("一般客户", "战略合作伙伴")
    assert result["己"].reason == "战略合作伙伴：台账标记为战略客户、台账标记为长期合作"


def test_a_strategic_class_typed_or_computed_brings_the_strategic_visits(tmp_path):
    from toolkit.facts import load_facts

    rows = [
        ["客户名称", "客户经理", "客户分类", "业务占比"],
        ["甲", "张伟", "战略合作伙伴", "6%"],  # computed 战略合作伙伴 by its share
        ["乙", "张伟", "一般客户", "1%"],
    ]
    path = make_xlsx(tmp_path / "l.xlsx", {"S": rows})
    facts = load_facts(path, load_settings(), today=TODAY, policy="share")
    kinds = {}
    for due in facts.dues:
        kinds.setdefault(due.row, set()).add(due.kind)
    assert {"客户经理拜访", "高层拜访", "技术交流", "质量交流"} <= kinds[0]  # the 战略 rows of 拜访周期
    assert kinds[1] == {"例行回访"}


def test_split_gives_each_owner_a_workbook_of_their_own_customers_only(tmp_path):
    rows = [["客户名称", "客户经理", "年销售额(万元)", "战略客户"]] + [
        [f"张{n}公司", "张伟", 100 * n, "否"] for n in range(1, 4)
    ] + [[f"王{n}公司", "王芳", 3000, "否"] for n in range(1, 3)] + [["无主公司", "", 10, "否"]]  # fmt: skip
    path = make_xlsx(tmp_path / "l.xlsx", {"S": rows})
    done = run_crm("classify", str(path), "--policy", "sales", "--split", "--json", "--out", str(tmp_path / "o"),
                   "--today", TODAY.isoformat())  # fmt: skip
    assert done.returncode == 0, done.stderr
    outputs = [p for p in json.loads(done.stdout)["outputs"]]
    assert [p.rsplit("_", 1)[-1] for p in outputs[1:]] == ["张伟.xlsx", "王芳.xlsx"]

    def names(workbook: str) -> set[str]:
        sheet = openpyxl.load_workbook(workbook).worksheets[1]  # 客户分类
        header = [c.value for c in sheet[1]]
        column = header.index("客户名称")
        return {row[column] for row in sheet.iter_rows(min_row=2, values_only=True) if row[column]}

    assert names(outputs[0]) == {r[0] for r in rows[1:]}  # the whole workbook: everyone
    assert names(outputs[1]) == {"张1公司", "张2公司", "张3公司"}
    assert names(outputs[2]) == {"王1公司", "王2公司"}  # and nobody else's


def test_english_reasons_gloss_the_shipped_chinese_values_and_list_with_commas(tmp_path):
    """The ledger holds 大型, 强 … as typed; an English reason shows them so, with their meaning."""
    header = ["客户名称", "客户经理", "行业地位", "企业规模", "合作意向", "发展潜力"]
    rows = [header, ["甲", "张伟", "龙头", "大型", "强", None], ["乙", "张伟", "一般", "巨型", "弱", "中"]]
    english = run(tmp_path, {"S": rows}, "abcd", load_settings(lang="en"))
    first, second = (c.reason for c in english.customers)
    assert "Industry Position 龙头 (leader) 3 + Scale 大型 (large) 3 + Intent 强 (strong) 3" in first
    assert first.endswith(" (empty: Potential)")
    assert second.endswith(" (values without points: Scale 巨型)")  # a value outside the workbook: as typed
    assert "Industry Position 一般 (general / average) 1" in second and "、" not in first + second
    (tmp_path / "zh").mkdir()
    chinese = run(tmp_path / "zh", {"S": rows}, "abcd", load_settings())
    assert "行业地位 龙头 3 + 企业规模 大型 3" in chinese.customers[0].reason  # no gloss in Chinese


def test_a_classify_that_read_the_ledger_lets_its_visit_facts_go_before_the_workbook(tmp_path):
    """Read by classify itself, the facts only the classes needed (visit records matched to
    customers, due dates) are dropped before the workbook is written; handed in by `crm run`,
    they stay for the jobs after it. The classes and tags are the same either way."""
    from toolkit.facts import load_facts

    customers = [["客户编号", "客户名称", "联系人", "联系电话", "客户经理", "年销售额(万元)", "最近拜访日期"]]
    customers += [[f"C{n}", f"公司{n}", "王五", "13812345678", "张伟", 100 * n, date(2025, 1, n)] for n in range(1, 6)]
    visits = [["客户编号", "拜访日期", "拜访目的"], ["C1", date(2026, 11, 1), "例行回访"]]
    path = make_xlsx(tmp_path / "l.xlsx", {"客户": customers, "拜访": visits})
    settings = load_settings()
    alone = classify(path, settings, today=TODAY, now=NOW, policy="sales", out_dir=tmp_path / "a", record=False)
    assert alone.index._matched == {} and alone.index._visits == {}
    facts = load_facts(path, settings, today=TODAY, now=NOW, policy="sales")
    shared = classify(path, settings, today=TODAY, now=NOW, policy="sales", out_dir=tmp_path / "b", facts=facts)
    assert shared.index._matched and "contact_due" in facts.__dict__ and "last_contact" in facts.__dict__
    assert "dues" not in facts.__dict__  # the routine contact alone: no visit of a kind asked for
    assert "visit_records" not in facts.__dict__  # no cadence with a keyword: nothing asked for the records
    assert [(c.klass, [t.code for t in c.tags]) for c in alone.customers] == [
        (c.klass, [t.code for t in c.tags]) for c in shared.customers
    ]
    assert [t.code for t in alone.customers[1].tags] == ["no_contact"] and alone.customers[0].tags == ()

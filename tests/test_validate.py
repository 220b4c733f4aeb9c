"""Each validation rule on a small ledger built in code, and the rules workbook steering them."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
from conftest import CUSTOMER_HEADER, customer_row, make_xlsx

from toolkit.config import load_settings
from toolkit.facts import load_facts


def findings_of(tmp_path, sheets, today, settings=None, **kwargs):
    path = make_xlsx(tmp_path / "l.xlsx", sheets, **kwargs)
    settings = settings or load_settings()
    return load_facts(path, settings, today=today).findings()


def codes_at(findings):
    return {(f.code, f.cell) for f in findings}


def test_clean_ledger_has_no_findings(tmp_path, today):
    assert findings_of(tmp_path, {"S": [CUSTOMER_HEADER] + [customer_row(n) for n in range(1, 6)]}, today) == []


def test_required_fields_and_contact(tmp_path, today):
    rows = [
        CUSTOMER_HEADER,
        customer_row(1, 客户经理=None),
        customer_row(2, 联系电话=None, 电子邮箱=None),
        customer_row(3, 联系人="  "),
    ]
    found = findings_of(tmp_path, {"S": rows}, today)
    assert codes_at(found) == {("required_missing", "F2"), ("contact_missing", "D3"), ("required_missing", "C4")}
    owner_missing = next(f for f in found if f.cell == "F2")
    assert owner_missing.severity == "error" and owner_missing.message == "客户经理为空"
    assert owner_missing.hint == "填写客户经理"


def test_missing_required_column_reported_once(tmp_path, today):
    header = [h for h in CUSTOMER_HEADER if h != "客户经理"]
    rows = [header] + [
        [v for h, v in zip(CUSTOMER_HEADER, customer_row(n), strict=True) if h != "客户经理"] for n in (1, 2)
    ]
    found = findings_of(tmp_path, {"S": rows}, today)
    assert [(f.code, f.row, f.field) for f in found] == [("missing_column", 1, "owner")]
    assert "[columns.customers]" in found[0].hint


def test_formats_enums_and_ranges(tmp_path, today):
    header = CUSTOMER_HEADER + ["业务占比", "信用等级", "年销售额(万元)"]
    rows = [
        header,
        customer_row(1, 联系电话="1381234567") + ["3%", "AA", 100],
        customer_row(2, 电子邮箱="li.example.com") + ["130%", "AAAA", "约两千万"],
        customer_row(3, 最近拜访日期="2026-13-01") + ["2%", "A", -5],
        customer_row(4, 最近拜访日期=date(2027, 1, 1), 客户分类="E") + ["1%", "BBB", 1],
    ]
    found = findings_of(tmp_path, {"S": rows}, today)
    assert codes_at(found) == {
        ("bad_phone", "D2"),
        ("bad_email", "E3"),
        ("share_range", "I3"),
        ("bad_enum", "J3"),
        ("bad_amount", "K3"),
        ("bad_date", "H4"),
        ("negative_amount", "K4"),
        ("future_date", "H5"),
        ("bad_enum", "G5"),
    }
    enum = next(f for f in found if f.cell == "J3")
    assert "AAAA" in enum.message and "AAA、AA" in enum.message and enum.severity == "warning"


def test_duplicate_ids_shown_as_groups(tmp_path, today):
    rows = [CUSTOMER_HEADER, customer_row(1), customer_row(2, 客户编号="C001"), customer_row(3)]
    found = findings_of(tmp_path, {"S": rows}, today)
    assert codes_at(found) == {("duplicate_id", "A2"), ("duplicate_id", "A3")}
    assert {f.group for f in found} == {"ID C001"}
    assert "第 3 行" in found[0].message and "第 2 行" in found[1].message


def test_duplicate_names_differing_only_in_bracket_width_and_legal_form(tmp_path, today):
    rows = [
        CUSTOMER_HEADER,
        customer_row(1, 客户名称="北京星辰科技（北京）有限公司"),
        customer_row(2, 客户名称="北京星辰科技(北京)有限责任公司"),
        customer_row(3, 客户名称="北京 星辰科技（北京）有限公司 "),
        customer_row(4),
    ]
    found = findings_of(tmp_path, {"S": rows}, today)
    assert codes_at(found) == {("duplicate_name", "B2"), ("duplicate_name", "B3"), ("duplicate_name", "B4")}
    assert len({f.group for f in found}) == 1


def test_same_name_customers_are_not_mixed_up_in_visits(tmp_path, today):
    customers = [
        CUSTOMER_HEADER,
        customer_row(1, 客户名称="上海星辰物流有限公司"),
        customer_row(2, 客户名称="上海星辰物流有限公司"),
        customer_row(3),
    ]
    visits = [
        ["拜访日期", "客户编号", "客户名称", "拜访人", "拜访方式"],
        [date(2026, 11, 1), "C002", "上海星辰物流有限公司", "张伟", "实地"],  # the ID says which
        [date(2026, 11, 2), None, "上海星辰物流有限公司", "张伟", "电话"],  # ambiguous
        [date(2026, 11, 3), None, "不存在有限公司", "张伟", "电话"],
        [date(2026, 11, 4), "C999", None, "张伟", "电话"],
        [date(2026, 11, 5), None, "测试3号科技(有限公司)", "张伟", "电话"],
    ]  # found by normalised name
    found = findings_of(tmp_path, {"客户": customers, "拜访": visits}, today)
    visit_findings = {(f.code, f.cell) for f in found if f.sheet == "拜访"}
    assert visit_findings == {("ambiguous_customer", "C3"), ("unknown_customer", "C4"), ("unknown_customer", "B5")}


def test_overdue_contact_follows_each_class_and_the_visit_records(tmp_path, today):
    header = CUSTOMER_HEADER + ["战略客户"]
    rows = [
        header,
        customer_row(1, 客户分类="A", 最近拜访日期=date(2026, 6, 1)) + ["否"],  # due 2026-09-01: past
        customer_row(2, 客户分类="B", 最近拜访日期=date(2026, 6, 1)) + ["否"],  # due 2026-12-01: not yet
        customer_row(3, 客户分类="C", 最近拜访日期=date(2025, 6, 1)) + ["否"],  # due 2026-06-01: past
        customer_row(4, 客户分类="A", 最近拜访日期=date(2026, 10, 1)) + ["是"],  # strategic, monthly: due 11-01
        customer_row(5, 客户分类="A", 最近拜访日期=date(2026, 1, 1)) + ["否"],  # but visited in records
        customer_row(6, 客户分类="B", 最近拜访日期=None) + ["否"],
    ]
    visits = [
        ["拜访日期", "客户编号", "客户名称", "拜访人", "拜访方式"],
        [date(2026, 11, 20), "C005", "测试5号科技有限公司", "张伟", "实地"],
    ]
    found = findings_of(tmp_path, {"客户": rows, "拜访": visits}, today)
    assert codes_at(found) == {
        ("overdue_contact", "H2"),
        ("overdue_contact", "H4"),
        ("overdue_contact", "H5"),
        ("never_contacted", "H7"),
    }
    strategic = next(f for f in found if f.cell == "H5")
    assert (
        "战略类客户已 56 天未联系" in strategic.message and "每 1 个月一次应在 2026-11-01 前联系" in strategic.message
    )


def test_complaint_reply_before_received(tmp_path, today):
    complaints = [
        ["投诉时间", "客户名称", "投诉内容", "处理人", "回复时间"],
        [datetime(2026, 11, 20, 10), "测试1号科技有限公司", "慢", "张伟", datetime(2026, 11, 20, 8)],
        [datetime(2026, 11, 20, 10), "测试1号科技有限公司", "慢", "张伟", datetime(2026, 11, 20, 12)],
    ]
    found = findings_of(tmp_path, {"客户": [CUSTOMER_HEADER, customer_row(1)], "投诉": complaints}, today)
    assert codes_at(found) == {("reply_before_received", "E2")}
    assert found[0].owner == "张伟"  # the customer's owner, found through the customer


def test_findings_carry_the_owner_of_their_row(tmp_path, today):
    rows = [CUSTOMER_HEADER, customer_row(1, 客户经理="王芳", 电子邮箱="bad"), customer_row(2, 电子邮箱="bad@")]
    found = findings_of(tmp_path, {"S": rows}, today)
    assert [(f.cell, f.owner) for f in found] == [("E2", "王芳"), ("E3", "张伟")]


def edit_rules(tmp_path, edit):
    from toolkit.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws")
    book = openpyxl.load_workbook(ws / "rules.xlsx")
    edit(book)
    book.save(ws / "rules.xlsx")
    return load_settings(ws)


def test_rules_workbook_can_disable_a_rule_and_change_its_severity(tmp_path, today):
    def edit(book):
        sheet = book["校验规则"]
        for row in sheet.iter_rows(min_row=2):
            if row[0].value == "bad_phone":
                row[3].value = "错误"
            if row[0].value == "bad_email":
                row[2].value = "否"

    settings = edit_rules(tmp_path, edit)
    rows = [CUSTOMER_HEADER, customer_row(1, 联系电话="123", 电子邮箱="bad")]
    found = findings_of(tmp_path, {"S": rows}, today, settings)
    assert [(f.code, f.severity) for f in found] == [("bad_phone", "error")]


def test_rules_workbook_sets_the_contact_limit_and_required_fields(tmp_path, today):
    def edit(book):
        cadence = book["拜访周期"]
        cadence["C2"] = 7  # class A: every 7 months instead of 3
        required = book["必填字段"]
        for row in required.iter_rows(min_row=2):
            if row[0].value == "contact":
                row[2].value = "否"

    settings = edit_rules(tmp_path, edit)
    rows = [CUSTOMER_HEADER, customer_row(1, 客户分类="A", 最近拜访日期=date(2026, 6, 1), 联系人=None)]
    assert findings_of(tmp_path, {"S": rows}, today, settings) == []
    assert [c.months for c in settings.rules.cadences if c.klass == "A"] == [7]


def test_english_messages(tmp_path, today):
    settings = load_settings(lang="en")
    found = findings_of(tmp_path, {"S": [CUSTOMER_HEADER, customer_row(1, 客户经理=None)]}, today, settings)
    assert found[0].message == "Owner is empty" and found[0].hint == "fill in Owner"


def test_the_value_column_shows_a_value_as_the_ledger_shows_it(tmp_path):
    """A share of 130 % is 130%, not 130.00; a negative amount in a 万元 column is -35, as typed,
    not the -350,000.00 yuan the toolkit computes with (in the message too)."""
    import openpyxl
    from conftest import make_xlsx, run_crm

    path = make_xlsx(
        tmp_path / "台账.xlsx",
        {
            "客户台账": [
                ["客户编号", "客户名称", "联系人", "联系电话", "客户经理", "业务占比", "年销售额(万元)"],
                ["C1", "甲公司", "王五", "13812340001", "张伟", "130%", -35],
            ]
        },
    )
    done = run_crm("validate", str(path), "--out", str(tmp_path / "out"), "--today", "2026-11-26")
    assert done.returncode == 0, done.stderr
    (report,) = (tmp_path / "out").glob("*.xlsx")
    issues = openpyxl.load_workbook(report)["问题清单"]
    by_code = {row[9]: row for row in issues.iter_rows(min_row=2, values_only=True)}
    assert by_code["share_range"][4] == "130%"
    assert by_code["negative_amount"][4] == -35 and by_code["negative_amount"][5].endswith("-35")


def test_english_lists_the_allowed_values_with_commas_and_their_meaning(tmp_path, today):
    settings = load_settings(lang="en")
    rows = [CUSTOMER_HEADER, customer_row(1, 客户分类="E")]
    (found,) = [f for f in findings_of(tmp_path, {"S": rows}, today, settings) if f.code == "bad_enum"]
    assert "is not one of: A, B, C, D, 战略 (Strategic), 重点 (Key)" in found.message and "、" not in found.message
    (tmp_path / "zh").mkdir()
    zh = [f for f in findings_of(tmp_path / "zh", {"S": rows}, today, load_settings()) if f.code == "bad_enum"]
    assert "A、B、C、D、战略、重点" in zh[0].message


def test_a_ledger_without_phone_or_email_columns_is_told_which_two_it_lacks(tmp_path, today):
    """The one finding names both columns (the rule's own field wording wins over the column's)."""
    drop = {"联系电话", "电子邮箱", "邮箱"}
    header = [h for h in CUSTOMER_HEADER if h not in drop]
    rows = [header] + [[v for h, v in zip(CUSTOMER_HEADER, customer_row(1), strict=True) if h not in drop]]
    found = [f for f in findings_of(tmp_path, {"S": rows}, today) if f.code == "missing_column"]
    assert len(found) == 1 and found[0].row == 1
    assert found[0].message == "找不到必填列「联系电话/电子邮箱」"
    assert found[0].hint.startswith("在表头加一列「联系电话/电子邮箱」")

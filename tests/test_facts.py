"""One rule, one place: the facts every job takes (classes, contact dues, complaint states,
volumes) are computed once, and validate, classify, plan, report and remind all say the same
thing about a customer on either side of its cadence boundary."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from conftest import make_xlsx

from toolkit import read_ledger
from toolkit.classify import classify
from toolkit.config import load_settings
from toolkit.facts import derive, load_facts, resolved_by_text
from toolkit.plan import plan
from toolkit.report import report
from toolkit.validate import validate
from toolkit.workspace import init_workspace

TODAY = date(2026, 2, 28)  # a month's last day, so the monthly report sees the month as of today
HEADER = [
    "客户编号",
    "客户名称",
    "联系人",
    "联系电话",
    "客户经理",
    "客户经理邮箱",
    "客户分类",
    "战略客户",
    "最近拜访日期",
]
# (ID, class, strategic, last visit, overdue on TODAY?): each class once on the day it is due
# (not overdue) and once with its due date a day earlier (overdue); calendar months, so 2025-11-30 + 3 months is
# 2026-02-28 (there is no 2026-02-30) and 2026-01-31 + 1 month is 2026-02-28 too
BOUNDARY = [
    ("A-due", "A", "否", date(2025, 11, 30), False),
    ("A-late", "A", "否", date(2025, 11, 27), True),
    ("B-due", "B", "否", date(2025, 8, 31), False),
    ("B-late", "B", "否", date(2025, 8, 27), True),
    ("C-due", "C", "否", date(2025, 2, 28), False),
    ("C-late", "C", "否", date(2025, 2, 27), True),
    ("D-due", "D", "否", date(2025, 2, 28), False),
    ("D-late", "D", "否", date(2025, 2, 27), True),
    ("S-due", "A", "是", date(2026, 1, 31), False),  # strategic: the account manager monthly
    ("S-late", "A", "是", date(2026, 1, 27), True),
]
OVERDUE = {name for name, *_, late in BOUNDARY if late}
MAIL = '\n[mail]\nsender_address = "crm@example.com"\nmanagers = ["boss@example.com"]\n'


@pytest.fixture
def workspace(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    (ws / "crm.toml").write_text((ws / "crm.toml").read_text(encoding="utf-8") + MAIL, encoding="utf-8")
    rows = [HEADER] + [
        [name, f"{name}公司", "王五", "13812345678", "张伟", "zw@example.com", klass, flag, last]
        for name, klass, flag, last, _ in BOUNDARY
    ]
    ledger = make_xlsx(ws / "boundary.xlsx", {"客户台账": rows})
    return ws, ledger


def _customer(name: str) -> str:
    return name.removesuffix("公司")


def test_every_job_says_the_same_about_each_side_of_every_cadence_boundary(workspace, tmp_path):
    ws, ledger = workspace
    settings = load_settings(ws)
    out = tmp_path / "out"

    validated = validate(ledger, settings, today=TODAY, out_dir=out, write=False)
    by_validate = {
        f.value and _customer(_name_at(validated.ledger, f.row))
        for f in validated.findings
        if f.code == "overdue_contact"
    }

    classified = classify(ledger, settings, today=TODAY, out_dir=out, write=False, record=False, typed_fallback=True)
    by_classify = {_customer(c.name) for c in classified.customers if any(t.code == "no_contact" for t in c.tags)}

    planned = plan(ledger, settings, today=TODAY, out_dir=out, write=False, record=False)
    by_plan = {_customer(planned.ledger.customer_sheet.column("name")[v.due.row]) for v in planned.overdue}

    facts = load_facts(ledger, settings, today=TODAY)
    reported = report(ledger, settings, month=date(2026, 2, 1), today=TODAY, out_dir=out, write=False, facts=facts)
    by_report = {
        _customer(c.name) for c in reported.classified.customers if any(t.code == "no_contact" for t in c.tags)
    }

    from toolkit import remind

    reminded = remind("visits", settings, today=TODAY, ledger=ledger, dry_run=True, out_dir=out)
    (message,) = reminded.messages
    late_part = message.text.split("逾期拜访", 1)[1].split("计划拜访", 1)[0]
    by_remind = {name for name, *_ in BOUNDARY if f"{name}公司｜" in late_part}

    assert by_validate == OVERDUE
    assert by_classify == OVERDUE
    assert by_plan == OVERDUE
    assert by_report == OVERDUE
    assert by_remind == OVERDUE
    # and the day it is due, a customer is planned (due today), not reported
    due_today = [v for v in planned.planned if v.due.due == TODAY and not v.due.keyword]
    assert {_customer(planned.ledger.customer_sheet.column("name")[v.due.row]) for v in due_today} == {
        name for name, *_, late in BOUNDARY if not late
    }


def test_computed_classes_bring_the_same_cadence_to_every_job(tmp_path):
    """The sales policy computes the class from 年销售额 (no class typed): 重点 every 3 months,
    主要 every 6; every job takes the computed class from the facts."""
    ws = init_workspace(tmp_path / "ws")
    config = ws / "crm.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace('name = "abcd"', 'name = "sales"') + MAIL, encoding="utf-8"
    )
    settings = load_settings(ws)
    assert settings.policy == "sales"
    header = ["客户编号", "客户名称", "联系电话", "客户经理", "客户经理邮箱", "年销售额", "最近拜访日期"]
    rows = [
        header,
        ["K-due", "K-due公司", "13812345678", "张伟", "zw@example.com", "2500万", date(2025, 11, 30)],
        ["K-late", "K-late公司", "13812345678", "张伟", "zw@example.com", "2500万", date(2025, 11, 27)],
        ["M-due", "M-due公司", "13812345678", "张伟", "zw@example.com", "600万", date(2025, 8, 31)],
        ["M-late", "M-late公司", "13812345678", "张伟", "zw@example.com", "600万", date(2025, 8, 27)],
    ]
    ledger = make_xlsx(ws / "sales.xlsx", {"客户台账": rows})
    facts = load_facts(ledger, settings, today=TODAY)
    assert facts.classes.final == ["重点", "重点", "主要", "主要"] and facts.classes.error is None
    by_validate = {
        f.row for f in validate(ledger, settings, today=TODAY, write=False).findings if f.code == "overdue_contact"
    }
    classified = classify(ledger, settings, today=TODAY, write=False, record=False)
    by_classify = {c.row for c in classified.customers if any(t.code == "no_contact" for t in c.tags)}
    planned = plan(ledger, settings, today=TODAY, write=False, record=False)
    by_plan = {planned.ledger.customer_sheet.rows[v.due.row] for v in planned.overdue}
    assert {v.klass for v in planned.visits} == {"重点", "主要"}
    assert by_validate == by_classify == by_plan == {3, 5}  # the two 'late' rows


def _name_at(ledger, row: int) -> str:
    sheet = ledger.customer_sheet
    return sheet.column("name")[sheet.rows.index(row)]


def test_facts_are_derived_once_and_shared_by_the_jobs(workspace):
    ws, ledger = workspace
    settings = load_settings(ws)
    facts = load_facts(ledger, settings, today=TODAY)
    assert facts.dues is facts.dues  # computed once, then kept
    validated = validate(ledger, settings, today=TODAY, write=False, facts=facts)
    planned = plan(ledger, settings, today=TODAY, write=False, record=False, facts=facts)
    assert validated.ledger is planned.ledger is facts.ledger  # one read for both jobs
    late = {facts.ledger.customer_sheet.column("name")[i] for i, d in enumerate(facts.contact_due) if d.due < TODAY}
    assert {_customer(n) for n in late} == OVERDUE


@pytest.mark.parametrize(
    ("text", "resolved"),
    [
        *[
            (t, True)
            for t in (
                "已处理",
                "已解决",
                "已更换新件",
                "已处理完毕",
                "处理完毕",
                "已回访，客户满意",
                "已处理，无法复现",
            )
        ],
        *[(t, True) for t in ("是", "yes", "√", "Resolved", "closed")],
        *[
            (t, False)
            for t in ("处理中", "未解决", "未处理", "待回访", "暂未解决", "没有解决", "否", "unresolved", "not done")
        ],
        *[(t, None) for t in ("", "已受理", "已回复", "已联系客户", "已转技术部", "已安排维修")],  # a step, not the end
    ],
)
def test_a_result_text_says_whether_a_complaint_is_resolved(text, resolved):
    assert resolved_by_text(text) is resolved


def test_complaints_resolved_by_a_date_a_flag_or_a_result_text(tmp_path):
    customers = [["客户编号", "客户名称", "客户经理"], ["C1", "甲公司", "张伟"]]
    complaints = [
        ["投诉编号", "投诉时间", "客户编号", "投诉内容", "回复时间", "解决时间", "处理结果", "是否解决"],
        ["T1", datetime(2026, 2, 3, 9), "C1", "慢", datetime(2026, 2, 3, 10), datetime(2026, 2, 5, 9), None, None],
        ["T2", datetime(2026, 2, 4, 9), "C1", "坏", datetime(2026, 2, 4, 10), None, "已更换", None],
        ["T3", datetime(2026, 2, 5, 9), "C1", "漏", datetime(2026, 2, 6, 12), None, "处理中", None],
        ["T4", datetime(2026, 2, 6, 9), "C1", "错", None, None, None, "是"],
    ]
    path = make_xlsx(tmp_path / "l.xlsx", {"客户": customers, "投诉记录": complaints})
    facts = derive(read_ledger(path), load_settings(), today=TODAY, scores={})
    states = {s.complaint_id: s for s in facts.complaints}
    assert {k: s.resolved for k, s in states.items()} == {"T1": True, "T2": True, "T3": False, "T4": True}
    assert states["T1"].reply_hours == 1 and states["T3"].replied_within(24) is False
    reported = report(path, load_settings(), month=date(2026, 2, 1), today=TODAY, write=False)
    assert reported.kpis()["resolved_rate"] == 0.75  # was 0 % when only a yes/no column counted
    assert reported.kpis()["on_time_rate"] == pytest.approx(2 / 4)


def test_volumes_by_customer_and_month_for_own_statistics(tmp_path):
    customers = [["客户编号", "客户名称", "客户经理"], ["C1", "甲公司", "张伟"], ["C2", "乙公司", "王芳"]]
    monthly = [
        ["月份", "客户编号", "业务量"],
        ["2026-01", "C1", 100],
        ["2026-01", "C1", 50],
        ["2026-02", "C1", 120],
        ["2026-02", "C2", 80],
        ["2026-02", "C9", 999],  # no such customer: left out
    ]
    path = make_xlsx(tmp_path / "l.xlsx", {"客户": customers, "月度业务": monthly})
    facts = derive(read_ledger(path), load_settings(), today=TODAY, scores={})
    volumes = facts.volumes
    assert volumes.loc[0, pd.Timestamp(2026, 1, 1)] == 150 and volumes.loc[0, pd.Timestamp(2026, 2, 1)] == 120
    assert volumes.loc[1, pd.Timestamp(2026, 2, 1)] == 80 and pd.isna(volumes.loc[1, pd.Timestamp(2026, 1, 1)])
    assert volumes.sum().sum() == pytest.approx(350)  # C9 names no customer: not counted


def test_monthly_volumes_are_the_sums_the_frames_show_and_the_rules_use(tmp_path):
    """``monthly_volumes`` (plain dicts, what the risk rule and the share policy use) holds the
    same sums as ``volumes`` and ``month_totals`` (pandas, for the report and analysts): a
    customer's two rows of one month summed, a row naming no customer in the month's total
    only, a row without a month or a volume nowhere, and the months cut at the day asked."""
    customers = [["客户编号", "客户名称", "客户经理"], ["C1", "甲公司", "张伟"], ["C2", "乙公司", "王芳"]]
    monthly = [
        ["月份", "客户编号", "业务量"],
        ["2026-01", "C1", 100],
        ["2026-01", "C1", 50.5],
        ["2026-02", "C1", 120],
        ["2026-02", "C2", 80],
        ["2026-02", "C9", 999],  # no such customer: in the month's total only
        ["2026-03", "C2", None],  # no volume: no figure for March at all
        ["", "C2", 7],  # no month
    ]
    path = make_xlsx(tmp_path / "l.xlsx", {"客户": customers, "月度业务": monthly})
    facts = derive(read_ledger(path), load_settings(), today=TODAY, scores={})
    found = facts.monthly_volumes
    jan, feb = date(2026, 1, 1), date(2026, 2, 1)
    assert found.totals == {jan: 150.5, feb: 1199.0}
    assert dict(found.by_customer()) == {0: {jan: 150.5, feb: 120.0}, 1: {feb: 80.0}}
    assert found.get(0, jan) == 150.5 and found.get(1, jan) is None and found.get(2, feb) is None
    assert found.months_up_to(date(2026, 1, 31)) == [jan] and facts.months_up_to(TODAY) == [jan, feb]
    totals = facts.month_totals
    assert list(totals.index) == [pd.Timestamp(jan), pd.Timestamp(feb)] and list(totals) == [150.5, 1199.0]
    volumes = facts.volumes
    assert volumes.loc[0, pd.Timestamp(feb)] == found.get(0, feb) and volumes.index.name == "customer"
    assert pd.isna(volumes.loc[1, pd.Timestamp(jan)])
    assert str(volumes.columns.dtype) == "datetime64[us]" and str(volumes.dtypes.iloc[0]) == "Float64"


def test_a_rules_workbook_with_the_old_max_days_column_still_reads_its_cadences(tmp_path):
    import openpyxl

    ws = init_workspace(tmp_path / "ws")
    book = openpyxl.load_workbook(ws / "rules.xlsx")
    sheet = book["拜访周期"]
    sheet.insert_cols(5)  # the layout before: 客户类别, 拜访类型, 周期(月), 方式, 最长未联系天数, 依据, 记录关键词
    sheet["E1"] = "最长未联系天数"
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row, 5).value = 92
    book.save(ws / "rules.xlsx")
    cadences = load_settings(ws).rules.cadences
    assert [(c.klass, c.kind, c.months, c.keyword) for c in cadences if c.klass == "战略"][1] == (
        "战略",
        "高层拜访",
        6,
        "高层",
    )


@pytest.mark.parametrize("wordings", [3, 6000])
def test_a_visits_purpose_content_and_way_are_said_once_per_wording(tmp_path, wordings):
    """Each visit's text (what keyword cadences search) is purpose + content + way; a wording
    the ledger repeats is one string, and free text (no repeats) is read just the same."""
    from toolkit.relations import CustomerIndex

    visits = [["客户编号", "拜访日期", "拜访目的", "拜访内容", "拜访方式"]]
    visits += [["C1", date(2026, 1, 5), "高层拜访", f"内容{n % wordings}", "上门"] for n in range(6000)]
    customers = [
        ["客户编号", "客户名称", "联系人", "联系电话", "客户经理"],
        ["C1", "甲公司", "王五", "13812345678", "张伟"],
    ]
    ledger = read_ledger(make_xlsx(tmp_path / "l.xlsx", {"客户": customers, "拜访": visits}))
    records = CustomerIndex(ledger.customer_sheet).visits(ledger.tables["visits"])
    assert len(records) == 6000 and records[4] == (0, date(2026, 1, 5), f"高层拜访 内容{4 % wordings} 上门")
    assert len({id(text) for _, _, text in records}) == (3 if wordings == 3 else 6000)
    assert len({text for _, _, text in records}) == wordings


def test_visit_records_are_grouped_by_customer_in_their_order():
    """One flat list and where each customer's records start: the same groups, in the same
    order, as a list per customer."""
    from toolkit.facts.visits import ByCustomer

    records = [(2, date(2026, 1, 3), "a"), (0, date(2026, 1, 1), "b"), (2, date(2026, 1, 2), "c")]
    grouped = ByCustomer(records, 4)
    assert len(grouped) == 4 and [list(g) for g in grouped] == [[records[1]], [], [records[0], records[2]], []]
    with pytest.raises(IndexError):
        grouped[4]


def test_visit_records_of_a_customer_are_made_when_asked(tmp_path):
    """The facts' visit records: per customer, its visits up to today in the sheet's order, as
    the index's records say them, made only for the customer asked for."""
    from toolkit.facts.visits import VisitsByCustomer
    from toolkit.relations import CustomerIndex

    customers = [["客户编号", "客户名称", "联系人", "电话", "负责人"]] + [
        [f"C{n}", f"公司{n}", "王五", "13812345678", "张伟"] for n in range(3)
    ]
    visits = [
        ["客户编号", "客户名称", "拜访日期", "拜访目的", "拜访内容", "拜访方式"],
        ["C2", "公司2", date(2026, 1, 3), "高层拜访", "签约", "上门"],
        ["C0", "公司0", date(2026, 1, 1), "回访", None, "电话"],
        ["C2", "公司2", date(2026, 1, 2), None, "报价", None],
        ["C9", "公司9", date(2026, 1, 2), "回访", None, None],  # no such customer
        ["C0", "公司0", date(2027, 1, 2), "回访", None, None],  # after today
        ["C1", "公司1", None, "回访", None, None],  # no date
    ]
    ledger = read_ledger(make_xlsx(tmp_path / "l.xlsx", {"客户": customers, "拜访": visits}))
    index = CustomerIndex(ledger.customer_sheet)
    by_customer = VisitsByCustomer(ledger.tables["visits"], index, date(2026, 6, 1), 3)
    assert len(by_customer) == 3
    assert by_customer[0] == [(0, date(2026, 1, 1), "回访  电话")]
    assert by_customer[1] == []
    assert by_customer[2] == [(2, date(2026, 1, 3), "高层拜访 签约 上门"), (2, date(2026, 1, 2), " 报价 ")]
    known = [r for r in index.visits(ledger.tables["visits"]) if r[1] <= date(2026, 6, 1)]
    assert [r for i in range(3) for r in by_customer[i]] == sorted(known, key=lambda r: r[0])
    with pytest.raises(IndexError):
        by_customer[3]
    assert VisitsByCustomer(None, index, date(2026, 6, 1), 3)[2] == []


def test_classified_customers_are_made_as_they_are_walked(tmp_path):
    """The report's classified customers are made from the facts when walked (none held), and
    say what a list of them would: every field, by index, from the end, in slices; the month-end
    facts share the classes of a policy that does not count months."""
    import gc

    from toolkit.facts import CustomerClass, CustomerClasses

    ws = tmp_path / "ws"
    init_workspace(ws)
    rows = [HEADER] + [
        [f"C{n}", f"公司{n}", "王五", "13812345678", "张伟", "z@x.cn", "ABCD"[n % 4], "否", date(2025, 12, n + 1)]
        for n in range(6)
    ]
    path = make_xlsx(tmp_path / "l.xlsx", {"客户台账": rows})
    facts = load_facts(path, load_settings(ws), today=TODAY)
    classified = facts.classified()
    assert isinstance(classified.customers, CustomerClasses)
    assert not [o for o in gc.get_objects() if isinstance(o, CustomerClass)]  # nothing made yet
    made = list(classified.customers)
    assert [c.customer_id for c in made] == [f"C{n}" for n in range(6)]
    assert [c.klass for c in made] == list("ABCDAB") and [c.row for c in made] == list(range(2, 8))
    assert classified.customers[-1] == made[5] and classified.customers[1:3] == made[1:3]
    assert classified.counts == {"A": 2, "B": 2, "C": 1, "D": 1}
    assert facts.as_of(date(2026, 1, 31)).classes is facts.classes
    share = facts.for_policy("share")
    assert share.as_of(date(2026, 1, 31)).classes is not share.classes  # its window ends at the month


def test_the_routine_contact_is_the_same_before_and_after_the_dues_are_made(tmp_path):
    """``contact_due`` asked first walks only the cadences without a keyword; asked after the
    dues are made, it is taken from them: the same contact either way, and no visit record
    grouped when only it is asked for."""
    from toolkit import make_demo

    ledger, _ = make_demo(tmp_path / "demo", TODAY)
    settings = load_settings(tmp_path / "demo")
    first = load_facts(ledger, settings, today=TODAY)
    routine = first.contact_due
    assert "visit_records" not in first.__dict__ and "dues" not in first.__dict__
    assert any(cadence.keyword for cadence in settings.rules.cadences)  # the demo's 战略 rows have one
    after = load_facts(ledger, settings, today=TODAY)
    assert any(due.keyword for due in after.dues)
    assert [(d.row, d.last, d.due, d.kind) if d else None for d in after.contact_due] == [
        (d.row, d.last, d.due, d.kind) if d else None for d in routine
    ]
    assert sum(d is not None and d.due < TODAY for d in routine) > 0

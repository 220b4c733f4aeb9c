"""crm plan: cadence arithmetic, Chinese working days, capacity, grouping, determinism, split
workbooks, .ics read back by a real parser, and the clear notes for bad input."""

from __future__ import annotations

import json
from datetime import date, timedelta

import openpyxl
import pytest
from conftest import make_xlsx, run_crm
from icalendar import Calendar

from toolkit.calendar import WorkCalendar
from toolkit.config import load_settings
from toolkit.plan import add_months, plan
from toolkit.workspace import init_workspace

TODAY = date(2026, 9, 28)
HEADER = [
    "客户编号",
    "客户名称",
    "客户经理",
    "客户分类",
    "战略客户",
    "城市",
    "最近拜访日期",
    "联系人",
    "联系电话",
    "地址",
]


def customer(n, klass="A", last=date(2026, 7, 1), city="杭州", owner="张伟", strategic="否"):
    return [f"C{n}", f"客户{n}", owner, klass, strategic, city, last, "王先生", "13812345678", f"{city}市{n}号"]


@pytest.mark.parametrize(
    "day,months,expected",
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 8, 31), 3, date(2026, 11, 30)),
        (date(2026, 11, 15), 3, date(2027, 2, 15)),  # across the year end
        (date(2026, 12, 31), 6, date(2027, 6, 30)),
    ],
)
def test_cadence_arithmetic(day, months, expected):
    assert add_months(day, months) == expected


def test_statutory_holidays_and_make_up_days():
    work = WorkCalendar()
    assert [d.day for d in work.workdays(date(2026, 10, 1), date(2026, 10, 12))] == [8, 9, 10]  # 10-10 is a Saturday
    assert work.day(date(2026, 10, 10)) == (True, False, "国庆节调休")
    assert work.day(date(2026, 9, 20))[0] is True  # a Sunday made a workday
    assert work.day(date(2026, 10, 1)) == (False, False, "国庆节")
    assert not work.is_estimate(date(2026, 6, 1))
    assert work.day(date(2027, 1, 1)) == (False, True, "元旦")  # no official data yet: estimated
    announced = WorkCalendar({date(2027, 1, 1): (False, "元旦"), date(2027, 1, 2): (True, "元旦调休")})
    assert announced.day(date(2027, 1, 2)) == (True, False, "元旦调休")  # the typed-in sheet wins


def run_plan(tmp_path, rows, settings=None, visits=None, **kwargs):
    sheets = {"客户": [HEADER, *rows]}
    if visits:
        sheets["拜访"] = [["拜访日期", "客户编号", "客户名称", "拜访人", "拜访方式", "拜访目的"], *visits]
    path = make_xlsx(tmp_path / "l.xlsx", sheets)
    return plan(path, settings or load_settings(), today=kwargs.pop("today", TODAY), out_dir=tmp_path / "out", **kwargs)


def workspace_with(tmp_path, capacity=(), holidays=()):
    ws = init_workspace(tmp_path / "ws")
    book = openpyxl.load_workbook(ws / "rules.xlsx")
    for row in capacity:
        book["拜访能力"].append([row[0], "客户经理", *row[1:]] if len(row) == 3 else list(row))
    for row in holidays:
        book["节假日"].append(list(row))
    book.save(ws / "rules.xlsx")
    return load_settings(ws)


def test_due_dates_from_records_and_the_ledger(tmp_path):
    rows = [
        customer(1, "A", last=date(2026, 7, 1)),
        customer(2, "B", last=None),
        customer(3, "A", last=date(2026, 5, 1)),
        customer(4, "A", last=date(2026, 2, 1), strategic="是"),
    ]
    visits = [
        [date(2026, 8, 15), "C3", "客户3", "张伟", "实地", "例行回访"],
        [date(2026, 9, 1), "C4", "客户4", "张伟", "实地", "技术交流会"],
    ]
    result = run_plan(tmp_path, rows, visits=visits, start=date(2026, 9, 28), months=12)
    first = {(v.due.row, v.due.kind): v.due for v in result.visits}
    assert first[(0, "例行回访")].due == date(2026, 10, 1)  # ledger last visit + 3 months
    assert first[(1, "例行回访")].due == TODAY  # never visited: due now
    assert first[(2, "例行回访")].due == date(2026, 11, 15)  # the later visit record wins
    assert first[(3, "技术交流")].due == date(2027, 3, 1)  # only the record naming 技术 counts
    assert first[(3, "高层拜访")].last is None and first[(3, "高层拜访")].due == TODAY
    assert first[(3, "客户经理拜访")].due == date(2026, 10, 1)  # any visit counts: 9-01 + 1 month
    strategic = [v for v in result.visits if v.due.row == 3 and v.due.kind == "客户经理拜访"]
    assert len(strategic) == 12  # monthly over 12 months
    overdue = {(v.due.row, v.due.kind): v.due.overdue_days(TODAY) for v in result.overdue}
    assert overdue == {}  # nothing due before today in this ledger


def test_a_holiday_week_with_a_make_up_saturday(tmp_path):
    settings = workspace_with(tmp_path, capacity=[("张伟", 1, 10)])
    rows = [customer(n, "A", last=date(2026, 7, 1)) for n in (1, 2, 3)]  # all due 2026-10-01, a holiday
    result = run_plan(tmp_path, rows, settings, start=date(2026, 10, 1), weeks=2)
    assert sorted(v.date for v in result.planned) == [date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)]
    assert all(not v.date.weekday() == 6 for v in result.planned)
    moved = sorted(v.moved for v in result.planned)
    assert moved == [False, True, True]  # the first takes 10-08, the first working day; the others move on


def test_capacity_overflow_keeps_the_most_important_visits_on_their_dates(tmp_path):
    settings = workspace_with(tmp_path, capacity=[("张伟", 1, 10)])
    rows = [
        customer(1, "C", last=date(2025, 10, 12)),
        customer(2, "A", last=date(2026, 7, 12)),
        customer(3, "B", last=date(2026, 4, 12)),
        customer(4, "A", last=date(2026, 7, 12), strategic="是"),
    ]
    # C due 10-12, A due 10-12, B due 10-12; the strategic customer's four kinds are due now (no records)
    result = run_plan(tmp_path, rows, settings, start=date(2026, 10, 12), weeks=1)
    planned = {(v.due.row, v.due.kind): v.date for v in result.planned}
    assert planned[(3, "客户经理拜访")] == date(2026, 10, 12)  # strategic first, on its date
    assert planned[(1, "例行回访")] == date(2026, 10, 16)  # then A, after the strategic ones
    overflow = {(v.due.row, v.due.kind) for v in result.overflow}
    assert overflow == {(2, "例行回访"), (0, "例行回访")}  # B and C do not fit: flagged, not dropped
    assert len(result.planned) + len(result.overflow) == 7
    book = openpyxl.load_workbook(result.outputs[0])
    assert len(list(book["未排入"].iter_rows(min_row=2))) == 2
    assert any("超出拜访能力" in n for n in result.notes)


def test_on_site_visits_in_one_city_share_a_day(tmp_path):
    settings = workspace_with(tmp_path, capacity=[("张伟", 3, 10)])
    rows = [
        customer(1, "A", last=date(2026, 7, 14), city="苏州"),  # due Wed 10-14
        customer(2, "B", last=date(2026, 4, 12), city="苏州"),  # due Mon 10-12: joins Wednesday in 苏州
        customer(3, "B", last=date(2026, 4, 12), city="杭州"),
    ]  # due Mon 10-12, another city: Monday
    result = run_plan(tmp_path, rows, settings, start=date(2026, 10, 12), weeks=1)
    dates = {v.due.row: v.date for v in result.planned}
    assert dates == {0: date(2026, 10, 14), 1: date(2026, 10, 14), 2: date(2026, 10, 12)}


def test_the_same_input_gives_the_same_schedule(tmp_path):
    from toolkit.demo import make_demo

    ledger, _ = make_demo(tmp_path / "demo", date(2026, 11, 26), customers=120)
    settings = load_settings(tmp_path / "demo")
    runs = []
    for n in range(2):
        result = plan(ledger, settings, today=date(2026, 11, 26), months=2, out_dir=tmp_path / f"o{n}")
        sheet = openpyxl.load_workbook(result.outputs[0])["计划清单"]
        runs.append([tuple(r) for r in sheet.iter_rows(values_only=True)])
    assert runs[0] == runs[1] and len(runs[0]) > 20


def test_split_workbooks_and_ics_hold_only_their_owner(tmp_path):
    rows = [
        customer(1, "A", owner="张伟", last=None),
        customer(2, "A", owner="王芳", last=None),
        customer(3, "B", owner="王芳", last=None),
    ]
    result = run_plan(tmp_path, rows, start=TODAY, months=1, split=True)
    names = {p.name for p in result.outputs}
    assert "l_拜访计划_20260928-20261027_王芳.xlsx" in names and "l_拜访计划_20260928-20261027_王芳.ics" in names
    wang = openpyxl.load_workbook(next(p for p in result.outputs if p.name.endswith("_王芳.xlsx")))
    listed = list(wang["计划清单"].iter_rows(min_row=2, values_only=True))
    assert {r[2] for r in listed} == {"王芳"} and {r[4] for r in listed} == {"客户2", "客户3"}
    assert "日历-王芳" in wang.sheetnames and "日历-张伟" not in wang.sheetnames
    notes = [r[1] for r in wang["概览"].iter_rows(min_row=3, max_row=10, values_only=True) if r[0] == "说明"]
    assert any("王芳" in n for n in notes) and not any("张伟" in n for n in notes)  # only her own notes
    ics = next(p for p in result.outputs if p.name.endswith("_王芳.ics"))
    events = Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
    assert len(events) == 2
    assert sorted(str(e["SUMMARY"]) for e in events) == ["拜访 客户2（例行回访）", "拜访 客户3（例行回访）"]
    assert {e.decoded("DTSTART") for e in events} == {v.date for v in result.planned if v.owner == "王芳"}
    assert all(str(e["LOCATION"]).startswith("杭州市") for e in events)


def test_notes_for_bad_input_and_the_plan_still_made(tmp_path):
    rows = [customer(1, "A", last=None), customer(2, "A", last=None, owner="新人")]
    visits = [
        [date(2026, 9, 1), "C9", "不存在公司", "张伟", "实地", "回访"],
        ["上周三", "C1", "客户1", "张伟", "实地", "回访"],
    ]
    result = run_plan(tmp_path, rows, visits=visits, start=date(2026, 1, 5), weeks=2)
    text = "\n".join(result.notes)
    assert "1 行找不到对应客户" in text and "1 个日期无法识别" in text
    assert "已经过去" in text and "新人" in text and "默认每天 4 家" in text
    assert len(result.planned) == 2


def test_nothing_to_plan_is_refused(tmp_path):
    path = make_xlsx(tmp_path / "l.xlsx", {"S": [["客户名称", "客户经理"], ["甲", "张伟"]]})
    result = run_crm("plan", str(path), "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "nothing to plan" in result.stderr and "\n" not in result.stderr.strip()


def test_plan_json_and_workbook(tmp_path):
    rows = [customer(1, "A", last=date(2026, 5, 1)), customer(2, "D", last=None)]
    path = make_xlsx(tmp_path / "l.xlsx", {"客户": [HEADER, *rows]})
    result = run_crm("plan", str(path), "--json", "--today", "2026-09-28", "--weeks", "2", "--out", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["visits"][0] == {
        "date": "2026-09-28",
        "owner": "张伟",
        "customer": "客户1",
        "row": 2,
        "kind": "例行回访",
        "way": "实地",
        "visitors": ["张伟"],
        "role": "客户经理",
        "purpose": "深度沟通合作计划",
        "content": "了解项目进展、合作满意度和需求变化，协调解决合作中的问题",
        "due": "2026-09-28",
        "moved": False,
        "estimate": False,
    }
    assert data["overdue"] == [
        {"customer": "客户1", "owner": "张伟", "kind": "例行回访", "due": "2026-08-01", "days_overdue": 58}
    ]
    assert [v["kind"] for v in data["visits"]] == ["例行回访", "电话联系"]
    book = openpyxl.load_workbook(next(p for p in data["outputs"] if p.endswith(".xlsx")))
    assert book.sheetnames[:4] == ["概览", "计划清单", "逾期", "未排入"]
    assert book["计划清单"].freeze_panes == "A2" and book["计划清单"].page_setup.orientation == "landscape"
    assert book["逾期"]["H2"].value == 58


def test_visits_recorded_after_a_plan_mark_it_done(tmp_path):
    rows = [
        customer(1, "A", last=None, owner="张伟"),
        customer(2, "A", last=None, owner="王芳"),
        customer(3, "B", last=None, owner="王芳"),
    ]
    first = run_plan(tmp_path, rows, start=TODAY, weeks=1, today=TODAY)
    assert first.completion is None and len(first.planned) == 3
    visits = [
        [TODAY + timedelta(days=1), "C1", "客户1", "张伟", "实地", "例行回访"],
        [TODAY + timedelta(days=2), "C3", "客户3", "王芳", "实地", "例行回访"],
        [TODAY - timedelta(days=30), "C2", "客户2", "王芳", "实地", "例行回访"],
    ]  # before the plan: not counted
    later = TODAY + timedelta(days=7)
    second = run_plan(tmp_path, rows, visits=visits, start=later, weeks=1, today=later)
    rates = {(o, k): (n, d) for o, k, n, d, _ in second.completion.rates()}
    assert rates == {
        ("张伟", "A"): (1, 1),
        ("张伟", ""): (1, 1),
        ("王芳", "A"): (1, 0),
        ("王芳", "B"): (1, 1),
        ("王芳", ""): (2, 1),
    }
    sheet = openpyxl.load_workbook(second.outputs[0])["完成情况"]
    assert [c.value for c in sheet[2]] == ["负责人", "分类", "已排", "已完成", "完成率"]
    assert ("王芳", "合计", 2, 1, 0.5) in list(sheet.iter_rows(min_row=3, values_only=True))


@pytest.mark.libreoffice
def test_libreoffice_opens_the_schedule_workbook(tmp_path):
    from conftest import libreoffice_convert

    rows = [customer(n, "A", last=None, owner=("张伟", "王芳")[n % 2]) for n in range(1, 7)]
    result = run_plan(tmp_path, rows, start=TODAY, months=2)
    resaved = openpyxl.load_workbook(libreoffice_convert(result.outputs[0], "xlsx", tmp_path))
    assert {"概览", "计划清单", "日历-张伟", "日历-王芳"} <= set(resaved.sheetnames)
    listed = [row[4] for row in resaved["计划清单"].iter_rows(min_row=2, values_only=True)]
    assert sorted(listed) == sorted(f"客户{v.due.row + 1}" for v in result.planned)
    grid = [c for row in resaved["日历-张伟"].iter_rows(values_only=True) for c in row if c and "客户" in str(c)]
    assert grid  # the customers appear in the month grid


def test_repeats_keep_to_the_month_end():
    from toolkit.config import Cadence
    from toolkit.facts.visits import Due, occurrences

    due = Due(0, None, date(2027, 1, 31), Cadence("A", "客户经理拜访", 1, "实地"))
    days = [d for _, d in occurrences([due], date(2027, 1, 1), date(2027, 5, 1))]
    assert days == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]


def test_a_typed_in_year_is_official_and_partly_past_periods_start_today(tmp_path):
    announced = WorkCalendar({date(2027, 10, 1): (False, "国庆节"), date(2027, 9, 26): (True, "国庆节调休")})
    assert announced.day(date(2027, 5, 3)) == (True, False, "")  # not listed in an announced year: a workday
    assert not announced.is_estimate(date(2027, 5, 3))
    rows = [customer(1, "A", last=None)]
    result = run_plan(tmp_path, rows, start=date(2026, 9, 1), months=2)
    assert result.start == TODAY and min(v.date for v in result.planned) >= TODAY
    assert any("早于今天" in n for n in result.notes)


def test_one_visit_completes_one_planned_visit(tmp_path):
    rows = [customer(1, "A", last=None, strategic="是")]
    run_plan(tmp_path, rows, start=TODAY, months=3, today=TODAY)
    visits = [[TODAY + timedelta(days=2), "C1", "客户1", "张伟", "实地", "例行"]]
    later = TODAY + timedelta(days=75)
    second = run_plan(tmp_path, rows, visits=visits, start=later, weeks=1, today=later)
    manager = [v for v in second.completion.visits if v.kind == "客户经理拜访"]
    assert len(manager) == 3 and sum(v.done_on is not None for v in manager) == 1


def test_customers_without_a_cadence_are_counted_in_the_notes(tmp_path):
    rows = [customer(1, "A", last=None), customer(2, "X", last=None), customer(3, "", last=None)]
    result = run_plan(tmp_path, rows, start=TODAY, weeks=1)
    assert any("2 位客户没有排入" in n and "X" in n for n in result.notes)


def test_a_cadence_of_zero_is_refused(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    book = openpyxl.load_workbook(ws / "rules.xlsx")
    book["拜访周期"]["C2"] = 0
    book.save(ws / "rules.xlsx")
    result = run_crm("plan", "x.xlsx", "--workspace", str(ws))
    assert result.returncode == 2 and "拜访周期" in result.stderr and "C2" in result.stderr


def test_ics_text_is_escaped_and_folded_as_a_real_parser_reads_it(tmp_path):
    long_address = "浙江省杭州市西湖区文三路" + "某某大厦" * 12 + ",3;4 号\\楼"
    row = customer(1, "A", last=None)
    row[1], row[-1] = "甲,乙;丙(杭州)有限公司", long_address
    result = run_plan(tmp_path, [row], start=TODAY, months=1)
    ics = next(p for p in result.outputs if p.suffix == ".ics")
    raw = ics.read_bytes()
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded at 75 octets
    raw.decode("utf-8")  # never inside a character
    (event,) = Calendar.from_ical(raw).walk("VEVENT")
    assert str(event["SUMMARY"]) == "拜访 甲,乙;丙(杭州)有限公司（例行回访）"
    assert str(event["LOCATION"]) == long_address
    assert str(event["DESCRIPTION"]) == (
        "方式: 实地\n拜访人员: 张伟\n目的: 深度沟通合作计划\n"
        "内容: 了解项目进展、合作满意度和需求变化，协调解决合作中的问题\n联系人: 王先生\n电话: 13812345678"
    )
    assert event.decoded("DTSTART") == result.planned[0].date and event["UID"].endswith("@crm-toolkit")


def test_potential_customers_get_a_first_follow_up_days_after_they_were_created(tmp_path):
    """002: potential and new customers are followed up promptly. The shipped 拜访周期 has a 潜在
    row: the first follow-up 7 days after 建档日期 (首次跟进(天)), then one a month."""
    from toolkit.facts import load_facts

    rows = [
        ["客户名称", "客户经理", "客户分类", "客户状态", "建档日期", "最近拜访日期"],
        ["甲", "张伟", "潜在", "", TODAY - timedelta(days=3), None],  # created 3 days ago: due in 4 days
        ["乙", "张伟", "", "潜在", TODAY - timedelta(days=10), None],  # status 潜在, no class: 3 days overdue
        ["丙", "张伟", "潜在", "", TODAY - timedelta(days=90), date(2026, 9, 1)],  # followed up: monthly
        ["丁", "张伟", "C", "", TODAY - timedelta(days=3), None],  # an ordinary class, never visited: due now
    ]
    path = make_xlsx(tmp_path / "l.xlsx", {"客户": rows})
    facts = load_facts(path, load_settings(), today=TODAY)
    due = {d.row: (d.kind, d.due) for d in facts.dues}
    assert due[0] == ("潜在客户跟进", TODAY + timedelta(days=4))
    assert due[1] == ("潜在客户跟进", TODAY - timedelta(days=3))
    assert due[2] == ("潜在客户跟进", date(2026, 10, 1))
    assert due[3] == ("例行回访", TODAY)
    result = plan(path, load_settings(), today=TODAY, weeks=2, out_dir=tmp_path / "out")
    planned = {result.ledger.customer_sheet.column("name")[v.due.row] for v in result.visits}
    assert {"甲", "乙"} <= planned  # planned like the rest


# ---------------------------------------------------------------- who goes and why (002, 004)


def strategic_customers(n: int, owner="张伟") -> list[list]:
    """n strategic customers never visited by management, engineers or quality staff."""
    return [customer(k, "A", strategic="是", owner=owner) for k in range(1, n + 1)]


def senior_visits(result) -> list:
    return sorted((v for v in result.visits if v.due.kind == "高层拜访"), key=lambda v: (v.date or date.max, v.due.row))


def test_management_visits_go_to_the_people_of_the_role_with_the_owner_along(tmp_path):
    # two senior managers, one visit a day each; the owner has room for everything
    settings = workspace_with(tmp_path, capacity=[("张伟", 20, 50), ("李总", "高层", 1, 5), ("周总", "高层", 1, 5)])
    result = run_plan(tmp_path, strategic_customers(3), settings, start=TODAY, months=1)
    first, second, third = senior_visits(result)[:3]
    assert (first.date, first.visitors) == (TODAY, ("李总", "张伟"))  # the one listed first, free first
    assert (second.date, second.visitors) == (TODAY, ("周总", "张伟"))
    assert third.date == TODAY + timedelta(days=1) and third.visitors[1] == "张伟"  # both full on the 28th
    assert first.purpose == "高层沟通合作方向" and first.content == "回顾合作，商定下一阶段合作计划"
    listing = [r for r in openpyxl.load_workbook(result.outputs[0])["计划清单"].iter_rows(values_only=True)]
    head = listing[0]
    row = dict(zip(head, next(r for r in listing[1:] if r[head.index("拜访类型")] == "高层拜访"), strict=True))
    assert row["拜访人员"] == "李总（高层）、张伟" and row["目的"] == "高层沟通合作方向"
    routine = dict(zip(head, next(r for r in listing[1:] if r[head.index("拜访类型")] == "客户经理拜访"), strict=True))
    assert routine["拜访人员"] == "张伟" and routine["目的"] == "了解业务和需求"  # not the kind repeated


def test_a_visit_needs_room_in_the_calendar_of_everyone_going(tmp_path):
    # the owner can do one visit a day: the senior visit waits for a day the owner is free too
    settings = workspace_with(tmp_path, capacity=[("张伟", 1, 10), ("李总", "高层", 5, 10)])
    rows = [customer(1, "A", last=date(2026, 6, 28)), customer(2, "A", strategic="是", last=date(2026, 9, 1))]
    result = run_plan(tmp_path, rows, settings, start=TODAY, weeks=2)
    days = {}
    for v in result.planned:
        assert "张伟" in v.visitors
        days.setdefault(v.date, []).append(v.due.kind)
    assert all(len(kinds) == 1 for kinds in days.values())  # never two on one day: the owner is in each
    senior = senior_visits(result)[0]
    assert senior.visitors == ("李总", "张伟") and senior.date > TODAY  # strategic first, but 1 a day


def test_a_role_nobody_is_named_for_is_said_and_takes_only_the_owners_room(tmp_path):
    settings = workspace_with(tmp_path, capacity=[("张伟", 20, 50)])
    result = run_plan(tmp_path, strategic_customers(3), settings, start=TODAY, months=1)
    planned = senior_visits(result)
    assert [v.date for v in planned] == [TODAY] * 3 and all(v.visitors == ("高层", "张伟") for v in planned)
    listing = list(openpyxl.load_workbook(result.outputs[0])["计划清单"].iter_rows(values_only=True))
    shown = {r[listing[0].index("拜访人员")] for r in listing[1:] if r[listing[0].index("拜访类型")] == "高层拜访"}
    assert shown == {"高层（拜访能力未指定人员）、张伟"}


def test_the_last_next_step_is_carried_and_old_rules_read_as_before(tmp_path):
    visits = [[date(2026, 7, 1), "C1", "客户1", "张伟", "实地", "例行回访"]]
    sheets = {
        "客户": [HEADER, customer(1, "A", last=None)],
        "拜访": [
            ["拜访日期", "客户编号", "客户名称", "拜访人", "拜访方式", "拜访目的", "下一步"],
            [*visits[0], "提交报价方案"],
        ],
    }
    path = make_xlsx(tmp_path / "l.xlsx", sheets)
    result = plan(path, load_settings(), today=TODAY, out_dir=tmp_path / "out")
    (visit,) = result.visits
    assert visit.content == "了解项目进展、合作满意度和需求变化，协调解决合作中的问题；上次下一步：提交报价方案"
    # a rules workbook made before 拜访人员/目的/内容 and 角色: the kind is the purpose, the owner goes
    ws = init_workspace(tmp_path / "old")
    book = openpyxl.load_workbook(ws / "rules.xlsx")
    cadences = book["拜访周期"]
    cadences.delete_cols(8, 4)
    capacity = book["拜访能力"]
    capacity.delete_cols(2)
    capacity["A1"] = "客户经理"
    capacity.append(["张伟", 2, 5])
    book.save(ws / "rules.xlsx")
    old = load_settings(ws)
    assert old.rules.capacity["张伟"] == (2, 5) and old.rules.roles == {}
    again = plan(path, old, today=TODAY, out_dir=tmp_path / "out2", record=False)
    (visit,) = again.visits
    assert visit.purpose == "例行回访" and visit.visitors == ("张伟",) and visit.content == "上次下一步：提交报价方案"


def test_every_visitor_has_the_visit_in_their_calendar_and_the_customer_confirms(tmp_path):
    settings = workspace_with(tmp_path, capacity=[("李总", "高层", 2, 5)])
    result = run_plan(tmp_path, strategic_customers(1), settings, start=TODAY, months=1)
    calendars = {p.stem.rsplit("_", 1)[1]: p for p in result.outputs if p.suffix == ".ics"}
    assert set(calendars) == {"张伟", "李总", "技术", "质量"}  # nobody named for 技术 and 质量: their roles' own
    events = {
        name: {str(e["UID"]): e for e in Calendar.from_ical(p.read_bytes()).walk("VEVENT")}
        for name, p in calendars.items()
    }
    senior = [e for e in events["李总"].values() if "高层拜访" in str(e["SUMMARY"])]
    assert len(senior) == 1 and len(events["李总"]) == 1  # only the visit 李总 goes on
    uid = str(senior[0]["UID"])
    assert uid in events["张伟"]  # the same event in the owner's calendar
    assert "拜访人员: 李总、张伟" in str(senior[0]["DESCRIPTION"]) and "目的: 高层沟通合作方向" in str(
        senior[0]["DESCRIPTION"]
    )
    sheet = openpyxl.load_workbook(result.outputs[0])["计划清单"]
    head = [c.value for c in sheet[1]]
    column = openpyxl.utils.get_column_letter(head.index("客户确认") + 1)
    (rule,) = [dv for dv in sheet.data_validations.dataValidation if column in str(dv.sqref)]
    assert rule.type == "list" and rule.formula1 == '"已确认,待确认,改期"'
    assert f"{column}2" in str(rule.sqref) or str(rule.sqref).startswith(f"{column}2")
    assert set(json.loads(json.dumps(result.as_json()["visits"][0]))) >= {"visitors", "role", "purpose", "content"}

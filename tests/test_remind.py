"""`crm remind`: the five kinds of reminder built from real ledgers, each owner seeing only their
own customers, and the command's JSON, dry run and sent log."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import openpyxl
import pytest
from conftest import TODAY, make_xlsx
from typer.testing import CliRunner

from toolkit import remind
from toolkit.cli import app
from toolkit.config import load_settings
from toolkit.demo import make_demo
from toolkit.ledger import read_ledger
from toolkit.workspace import LEDGER_PATH, init_workspace

runner = CliRunner()
NOW = datetime(2026, 11, 26, 15, 0)
MAIL = """
[mail]
sender_name = "星海示范集团 客户服务部"
sender_address = "crm@example.com"
managers = ["boss@example.com", "vp@example.com"]
overdue_limit_days = 14
[mail.owner_managers]
"刘洋" = "liu.manager@example.com"
"""


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "ws"
    make_demo(folder, TODAY)
    config = folder / "crm.toml"
    config.write_text(config.read_text(encoding="utf-8") + MAIL, encoding="utf-8")
    return folder


@pytest.fixture
def demo(tmp_path, demo_template) -> Path:
    """A fresh copy of the demo workspace (its own state database and outbox)."""
    return Path(shutil.copytree(demo_template, tmp_path / "ws"))


def parsed(message_file: Path):
    return message_from_bytes(message_file.read_bytes(), policy=policy.default)


def everything_in(m) -> str:
    """Subject, text, HTML and every attachment of a Message, as one text."""
    parts = [m.subject, m.text, m.html, *(a.filename for a in m.attachments)]
    parts += [a.content.decode("utf-8", "replace") for a in m.attachments if not a.filename.endswith(".xlsx")]
    return "\n".join(parts)


def test_no_owner_is_sent_another_owners_customers(demo):
    settings = load_settings(demo)
    table = read_ledger(settings.ledgers["main"]).customer_sheet
    mine: dict[str, set[str]] = {}
    for owner, name in zip(table.column("owner"), table.column("name"), strict=True):
        mine.setdefault(owner or "", set()).add(name)
    checked = 0
    for kind in ("visits", "quality"):
        result = remind(kind, settings, today=TODAY, now=NOW, dry_run=True)
        assert len(result.messages) == 6  # one per owner
        for m in result.messages:
            owner = m.recipient_name
            foreign = set().union(*(names for o, names in mine.items() if o != owner)) - mine[owner]
            assert m.customers and set(m.customers) <= mine[owner]
            content = everything_in(m)
            assert [name for name in foreign if name in content] == []
            assert all(name in content for name in m.customers)
            checked += 1
    assert checked == 12


def test_visits_carry_the_owners_calendar_and_copy_the_manager_past_the_limit(demo):
    from icalendar import Calendar

    settings = load_settings(demo)
    result = remind("visits", settings, today=TODAY, now=NOW)
    assert result.period == "2026-W48" and result.delivery.sent == 6 and result.problems == []
    by_owner = {m.recipient_name: m for m in result.messages}
    late = by_owner["刘洋"]  # the demo's overdue visit (class A, 200 days since the last one)
    assert late.to == ["liuyang@example.com"] and late.cc == ["liu.manager@example.com"]
    assert "逾期 1 次" in late.subject and "已逾期" in late.text and "抄送您的主管" in late.text
    assert all(m.cc == [] for o, m in by_owner.items() if o != "刘洋")
    (ics,) = late.attachments
    assert ics.filename.startswith("刘洋_拜访计划_20261126-") and ics.mime == "text/calendar"
    events = [e for e in Calendar.from_ical(ics.content).walk("VEVENT")]
    # one event per visit listed with a day (待定: no room this week, e.g. a senior manager fully booked)
    assert len(events) == late.text.count("\n- ") - late.text.count("\n- 待定")
    assert all(any(name in str(e["summary"]) for name in late.customers) for e in events)  # only theirs
    sent = sorted((demo / "outbox" / "visits" / "2026-W48").glob("liuyang*.eml"))
    assert len(sent) == 1 and parsed(sent[0])["Cc"] == "liu.manager@example.com"
    again = remind("visits", settings, today=TODAY + timedelta(days=1), now=NOW + timedelta(days=1))
    assert again.delivery.sent == 0 and again.delivery.already_sent == 6  # same week, same visits


def complaints_ledger(folder: Path, now: datetime) -> Path:
    customers = [
        ["客户编号", "客户名称", "联系人", "联系电话", "客户经理", "客户经理邮箱", "客户分类"],
        ["C001", "北京华信科技有限公司", "王五", "13812340001", "张伟", "zhangwei@example.com", "A"],
        ["C002", "上海恒通物流有限公司", "赵六", "13812340002", "王芳", "wangfang@example.com", "B"],
        ["C003", "广州远景医药有限公司", "钱七", "13812340003", "张伟", "zhangwei@example.com", "B"],
    ]
    header = ["投诉编号", "投诉时间", "客户编号", "客户名称", "投诉类别", "投诉内容", "处理人", "回复时间", "是否解决"]
    complaints = [
        header,
        ["TS01", now - timedelta(hours=30), "C001", "北京华信科技有限公司", "质量", "外壳破损", "张伟", None, "否"],
        ["TS02", now - timedelta(hours=21), "C003", "广州远景医药有限公司", "交付", "到货延迟", "张伟", None, "否"],
        ["TS03", now - timedelta(hours=22), "C002", "上海恒通物流有限公司", "服务", "售后响应慢", "王芳", None, "否"],
        ["TS04", now - timedelta(hours=40), "C002", "上海恒通物流有限公司", "服务", "已回复", "王芳", now, "否"],
        ["TS05", now - timedelta(hours=50), "C003", "广州远景医药有限公司", "质量", "已解决", "张伟", None, "是"],
        ["TS06", now - timedelta(hours=5), "C003", "广州远景医药有限公司", "质量", "刚受理", "张伟", None, "否"],
    ]
    return make_xlsx(folder / "台账.xlsx", {"客户台账": customers, "投诉记录": complaints})


def test_complaints_nearing_go_to_the_handler_and_past_24h_also_to_the_manager(tmp_path):
    init_workspace(tmp_path / "ws")
    (tmp_path / "ws" / "crm.toml").write_text(
        (tmp_path / "ws" / "crm.toml").read_text("utf-8") + MAIL, encoding="utf-8"
    )
    ledger = complaints_ledger(tmp_path, NOW)
    settings = load_settings(tmp_path / "ws")
    result = remind("complaints", settings, today=NOW.date(), now=NOW, ledger=ledger)
    assert result.period == "2026-11-26"
    by_handler = {m.recipient_name: m for m in result.messages}
    assert set(by_handler) == {"张伟", "王芳"}
    zhang, wang = by_handler["张伟"], by_handler["王芳"]
    # TS04 was answered but is unresolved 40 h on, past the 24 h handling limit (no promise): late too
    assert zhang.cc == ["boss@example.com", "vp@example.com"] and wang.cc == zhang.cc
    assert wang.text.index("已过承诺时限") < wang.text.index("TS04")
    assert "TS01" in zhang.text and "已 30.0 小时" in zhang.text and "TS02" in zhang.text
    assert (
        zhang.text.index("已超时") < zhang.text.index("TS01") < zhang.text.index("即将超时") < zhang.text.index("TS02")
    )
    assert not any(n in zhang.text for n in ("TS03", "TS04", "TS05", "TS06"))  # 王芳's, resolved, 5 h old
    assert "TS03" in wang.text and "即将超时" in wang.subject and "上海恒通物流有限公司" in wang.text
    assert zhang.customers == ["北京华信科技有限公司", "广州远景医药有限公司"]
    later = remind("complaints", settings, today=NOW.date(), now=NOW + timedelta(hours=4), ledger=ledger)
    assert later.delivery.sent == 2  # TS02 and TS03 passed 24 h: new content, new messages
    assert later.messages[0].cc == ["boss@example.com", "vp@example.com"]
    assert (
        remind("complaints", settings, today=NOW.date(), now=NOW + timedelta(hours=5), ledger=ledger).delivery.sent == 0
    )


def care_ledger(folder: Path) -> Path:
    header = [
        "客户编号",
        "客户名称",
        "联系人",
        "电子邮箱",
        "客户经理",
        "客户经理邮箱",
        "客户分类",
        "联系人生日",
        "节日问候",
    ]
    rows = [
        header,
        [
            "C001",
            "北京华信科技有限公司",
            "王五",
            "wangwu@customer.cn",
            "张伟",
            "zw@example.com",
            "A",
            date(1980, 2, 7),
            "是",
        ],
        [
            "C002",
            "上海恒通物流有限公司",
            "赵六",
            "zhaoliu@customer.cn",
            "王芳",
            "wf@example.com",
            "B",
            date(1975, 2, 7),
            "否",
        ],
        ["C003", "广州远景医药有限公司", "钱七", "", "张伟", "zw@example.com", "B", date(1990, 2, 6), "是"],
        [
            "C004",
            "深圳博瑞电子有限公司",
            "孙八",
            "sunba@customer.cn",
            "王芳",
            "wf@example.com",
            "C",
            date(1985, 6, 1),
            "是",
        ],
    ]
    return make_xlsx(folder / "台账.xlsx", {"客户台账": rows})


def test_care_greets_on_the_last_working_day_before_a_lunar_festival_and_a_birthday(tmp_path):
    init_workspace(tmp_path / "ws", company="星海示范集团")
    settings = load_settings(tmp_path / "ws")
    ledger = care_ledger(tmp_path)
    friday = date(2027, 2, 5)  # 2027-02-06 is the Spring Festival (正月初一), a Saturday
    result = remind("care", settings, today=friday, now=datetime(2027, 2, 5, 9), ledger=ledger)
    got = sorted((m.period, m.to[0], m.subject) for m in result.messages)
    assert got == [
        ("2027-02-06", "sunba@customer.cn", "星海示范集团恭祝您春节快乐"),
        ("2027-02-06", "wangwu@customer.cn", "星海示范集团恭祝您春节快乐"),
        ("2027-02-07", "wangwu@customer.cn", "王五，提前祝您生日快乐！"),
    ]
    birthday = next(m for m in result.messages if "生日" in m.subject)
    assert "2月7日是您的生日" in birthday.text and "北京华信科技有限公司" in birthday.text
    assert birthday.customers == ["北京华信科技有限公司"] and birthday.recipient_name == "王五"
    assert result.problems == ["1 位需要关怀的客户没有有效的联系人邮箱"]
    monday = remind("care", settings, today=date(2027, 2, 8), now=datetime(2027, 2, 8, 9), ledger=ledger)
    assert monday.delivery.sent == 0 and all(m.period >= "2027-02-08" for m in monday.messages)


def test_mid_autumn_and_national_day_are_found_by_the_calendar():
    from toolkit.remind.care import festivals_on

    assert festivals_on(date(2026, 9, 25)) == ["mid_autumn"]
    assert festivals_on(date(2026, 6, 19)) == ["dragon_boat"]
    assert festivals_on(date(2026, 10, 1)) == ["national_day"]
    assert festivals_on(date(2027, 1, 1)) == ["new_year"] and festivals_on(date(2026, 11, 26)) == []


def test_the_report_goes_to_each_manager_once_with_the_workbook(demo):
    settings = load_settings(demo)
    result = remind("report", settings, today=TODAY, now=NOW)
    assert result.period == "2026-10" and [m.to for m in result.messages] == [["boss@example.com"], ["vp@example.com"]]
    files = sorted((demo / "outbox" / "report" / "2026-10").glob("*.eml"))
    assert len(files) == 2
    mail = parsed(files[0])
    assert mail["Subject"] == "【月度报告】星海示范集团 2026年10月客户业务状况分析报告"
    (attachment,) = mail.iter_attachments()
    assert attachment.get_filename() == "客户台账_月度报告_202610.xlsx"
    workbook = demo / "out" / "attached.xlsx"
    workbook.write_bytes(attachment.get_payload(decode=True))
    assert "概览" in openpyxl.load_workbook(workbook).sheetnames
    assert remind("report", settings, today=TODAY + timedelta(days=2), now=NOW).delivery.already_sent == 2


def test_each_owner_is_sent_a_report_of_only_their_own_customers(demo):
    settings = load_settings(demo)
    ledger = read_ledger(demo / LEDGER_PATH)
    owner_of = dict(zip(ledger.customer_sheet.column("name"), ledger.customer_sheet.column("owner"), strict=True))
    owners = sorted({o for o in owner_of.values() if o})
    result = remind("owner-report", settings, today=TODAY, now=NOW)
    assert result.period == "2026-10" and sorted(m.recipient_name for m in result.messages) == owners
    for message in result.messages:
        (attachment,) = message.attachments
        assert attachment.filename == f"客户台账_月度报告_202610_{message.recipient_name}.xlsx"
        workbook = demo / "out" / f"mail_{message.recipient_name}.xlsx"
        workbook.write_bytes(attachment.content)
        book = openpyxl.load_workbook(workbook)
        assert "发送记录" not in book.sheetnames  # it would name everybody's mail
        named = {
            value
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if isinstance(value, str) and value in owner_of
        }
        assert named and all(owner_of[name] == message.recipient_name for name in named)
        others = [o for o in owners if o != message.recipient_name]
        texts = " ".join(str(v) for s in book.worksheets for r in s.iter_rows(values_only=True) for v in r if v)
        assert not any(other in texts for other in others)
        assert message.recipient_name in message.subject and not any(o in message.text for o in others)
    again = remind("owner-report", settings, today=TODAY + timedelta(days=1), now=NOW)
    assert again.delivery.sent == 0 and again.delivery.already_sent == len(owners)


def test_an_owner_without_an_address_is_a_problem_in_the_summary_not_a_crash(tmp_path):
    init_workspace(tmp_path / "ws")
    settings = load_settings(tmp_path / "ws")
    rows = [
        ["客户编号", "客户名称", "联系人", "联系电话", "客户经理", "客户经理邮箱", "客户分类", "最近拜访日期"],
        ["C001", "北京华信科技有限公司", "王五", "13812340001", "张伟", "zhangwei@example.com", "A", date(2026, 1, 5)],
        ["C002", "上海恒通物流有限公司", "赵六", "13812340002", "王芳", "wangfang@@example", "A", date(2026, 1, 5)],
        ["C003", "广州远景医药有限公司", "钱七", "13812340003", "", "", "A", date(2026, 1, 5)],
    ]
    ledger = make_xlsx(tmp_path / "台账.xlsx", {"客户台账": rows})
    result = remind("visits", settings, today=TODAY, now=NOW, ledger=ledger)
    assert [m.recipient for m in result.messages] == ["zhangwei@example.com"]
    assert any("王芳" in p and "wangfang@@example" in p for p in result.problems)
    assert any("没有负责人" in p for p in result.problems)
    assert any("[mail] managers" in p for p in result.problems)  # 张伟's overdue visit has nobody to copy


def test_cli_remind_json_dry_run_and_log(demo):
    ws = str(demo)
    dry = runner.invoke(app, ["remind", "quality", "-w", ws, "--today", "2026-11-26", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    data = json.loads(dry.stdout)
    assert {"kind", "messages", "sent", "already_sent", "failed", "outputs"} <= set(data)
    assert (data["kind"], data["messages"], data["sent"], data["dry_run"]) == ("quality", 6, 0, True)
    preview = openpyxl.load_workbook(data["outputs"][0]).active
    assert preview.max_row == 7 and preview["I2"].value == "将发送"
    assert not (demo / "outbox").exists()
    sent = runner.invoke(app, ["remind", "quality", "-w", ws, "--today", "2026-11-26T10:00"])
    assert sent.exit_code == 0, sent.output
    assert "数据问题（2026-W48）：6 封邮件，新发送 6 封" in sent.stdout and "已写入发件箱: 6" in sent.stdout
    assert "没有负责人" in sent.stdout
    log = runner.invoke(app, ["remind", "--log", "-w", ws, "--json"])
    records = json.loads(log.stdout)["log"]
    assert len(records) == 6 and {r["status"] for r in records} == {"sent"} and records[0]["kind"] == "quality"
    assert "已发送" in runner.invoke(app, ["remind", "--log", "quality", "-w", ws]).stdout
    bad = runner.invoke(app, ["remind", "-w", ws])
    assert bad.exit_code != 0


def test_the_monthly_report_lists_what_was_sent_that_month(demo):
    from toolkit.report import report

    settings = load_settings(demo)
    sent = remind("visits", settings, today=TODAY, now=NOW)
    book = openpyxl.load_workbook(report(demo / LEDGER_PATH, settings, month=TODAY).outputs[0])
    rows = list(book["发送记录"].iter_rows(values_only=True))
    header = rows[0]
    recipients = sorted(r[header.index("收件人")] for r in rows[1:])
    assert recipients == sorted(m.recipient for m in sent.messages)
    assert {r[header.index("状态")] for r in rows[1:]} == {"已发送"}
    earlier = openpyxl.load_workbook(report(demo / LEDGER_PATH, settings, month=date(2026, 10, 1)).outputs[0])
    assert len(list(earlier["发送记录"].iter_rows(values_only=True))) <= 2  # nothing sent in October


def test_quality_covers_the_owners_rows_on_every_sheet(demo):
    """A visit record, a complaint or a monthly row of an owner's is theirs to fix too."""
    result = remind("quality", load_settings(demo), today=TODAY, now=NOW, dry_run=True)
    texts = {m.recipient: m.text for m in result.messages}
    assert "拜访记录!A400" in texts["wangfang@example.com"]
    assert "投诉记录!H42" in texts["yangfan@example.com"]
    assert "月度业务!D1466" in texts["liuyang@example.com"]
    assert not any("拜访记录!A400" in t for r, t in texts.items() if r != "wangfang@example.com")

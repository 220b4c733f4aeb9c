"""Complaint handling end to end (004: 受理 → 调查 → 处理 → 反馈 → 结案): the stages and the
promised time read from the sheet, the rates per month, handler and owner in the report and its
JSON, serious complaints on their own, and reminders before a promise runs out."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from conftest import ROOT, make_xlsx, run_crm

from toolkit import remind
from toolkit.config import load_settings
from toolkit.facts import load_facts
from toolkit.facts.complaints import promised_hours, stage_of_text
from toolkit.report import report
from toolkit.workspace import init_workspace

DATA = ROOT / "tests" / "data"
NOW = datetime(2026, 11, 26, 15, 0)
CUSTOMERS = [
    ["客户编号", "客户名称", "联系人", "联系电话", "客户经理", "客户经理邮箱", "客户分类"],
    ["C1", "北京华信科技有限公司", "王五", "13812340001", "张伟", "zhangwei@example.com", "A"],
    ["C2", "上海恒通物流有限公司", "赵六", "13812340002", "王芳", "wangfang@example.com", "B"],
]
HEADER = [
    "投诉编号",
    "投诉时间",
    "客户编号",
    "投诉类别",
    "投诉内容",
    "处理人",
    "回复时间",
    "处理阶段",
    "承诺时限（天）",  # a bare number in this column is days
    "承诺完成时间",
    "调查时间",
    "解决时间",
    "回访时间",
    "客户意见",
    "处理结果",
    "严重程度",
]
NOV2 = datetime(2026, 11, 2, 9, 0)


def row(cid, received, customer="C1", handler="张伟", replied=None, stage=None, days=None, promised=None, **more):
    return [
        cid,
        received,
        customer,
        more.get("category", "质量"),
        "划痕",
        handler,
        replied,
        stage,
        days,
        promised,
        more.get("investigated"),
        more.get("resolved_on"),
        more.get("feedback_on"),
        more.get("opinion"),
        more.get("result"),
        more.get("severity", "一般"),
    ]


COMPLAINTS = [
    HEADER,
    # 2 days promised; resolved 1 minute before the promise runs out: kept
    row("T1", NOV2, replied=NOV2 + timedelta(hours=2), stage="已结案", days=2,
        resolved_on=NOV2 + timedelta(days=2, minutes=-1), feedback_on=NOV2 + timedelta(days=3), opinion="满意"),
    # the same, 1 minute after: resolved, not kept
    row("T2", NOV2, replied=NOV2 + timedelta(hours=25), days=2, resolved_on=NOV2 + timedelta(days=2, minutes=1),
        severity="严重"),
    # promised by a date; still 处理中 (not resolved); investigated
    row("T3", NOV2, customer="C2", handler="李工", replied=NOV2 + timedelta(hours=3), stage="处理中",
        promised=datetime(2026, 11, 30, 18, 0), investigated=NOV2 + timedelta(days=1)),
    # no promise: held to the rules' 24 h; resolved by the result text after 30 h
    row("T4", NOV2, customer="C2", handler="", replied=NOV2 + timedelta(hours=1), result="已更换",
        resolved_on=NOV2 + timedelta(hours=30)),
    # October: counted in its month only
    row("T5", datetime(2026, 10, 10, 9, 0), replied=datetime(2026, 10, 10, 10, 0), stage="结案", days=1,
        resolved_on=datetime(2026, 10, 10, 12, 0)),
]  # fmt: skip


def ledger(tmp_path: Path, complaints=COMPLAINTS) -> Path:
    return make_xlsx(tmp_path / "台账.xlsx", {"客户台账": CUSTOMERS, "投诉记录": complaints})


def test_stage_and_promise_words():
    assert [stage_of_text(t) for t in ("受理", "调查中", "处理中", "已回访", "反馈", "已结案", "关闭", "", "备注")] == [
        "received",
        "investigating",
        "handling",
        "feedback",
        "feedback",
        "closed",
        "closed",
        None,
        None,
    ]
    assert [promised_hours(t) for t in ("48", "48小时", "48h", "3天", "2 days", "1周", "尽快", None)] == [
        48,
        48,
        48,
        72,
        48,
        168,
        None,
        None,
    ]
    assert promised_hours("2", days=True) == 48


def test_stages_promises_and_resolution_are_read_from_the_sheet(tmp_path):
    facts = load_facts(ledger(tmp_path), load_settings(), today=date(2026, 11, 26))
    states = {s.complaint_id: s for s in facts.complaints}
    t1, t2, t3, t4, t5 = (states[k] for k in ("T1", "T2", "T3", "T4", "T5"))
    assert t1.stage == "closed" and t1.resolved and t1.feedback == "满意"
    assert t1.promised_by == NOV2 + timedelta(days=2)  # 2 in a 承诺时限（天） column
    assert t1.kept_promise(24) and not t2.kept_promise(24)  # one minute either side
    assert t2.resolved and t2.stage == "handling" and t2.serious
    assert not t3.resolved and t3.stage == "handling" and t3.promised_by == datetime(2026, 11, 30, 18, 0)
    assert t4.resolved and t4.promised_by is None and t4.due_by(24) == NOV2 + timedelta(hours=24)
    assert not t4.kept_promise(24) and t4.kept_promise(36)  # the rules' limit when nothing was promised
    assert t5.stage == "closed" and t5.kept_promise(24)
    assert t1.owner == "张伟" and t3.owner == "王芳"


def test_the_report_gives_both_rates_per_month_handler_and_owner(tmp_path):
    result = report(ledger(tmp_path), load_settings(), month=date(2026, 11, 1), out_dir=tmp_path / "out")
    k = result.kpis()
    # November: T1–T4. Replied within 24 h: T1, T3, T4. Resolved: T1, T2, T4. Kept: T1 only.
    assert (k["complaints"], k["complaints_on_time"], k["complaints_resolved"], k["complaints_kept"]) == (4, 3, 3, 1)
    assert k["kept_rate"] == pytest.approx(0.25) and k["resolved_rate"] == pytest.approx(0.75)
    rates = result.complaint_rates
    months = dict(rates.by_month)
    assert months[date(2026, 10, 1)].complaints == 1 and months[date(2026, 10, 1)].kept == 1
    assert len(rates.by_month) == 12 and months[date(2026, 11, 1)].complaints == 4
    # by handler: 张伟 T1 T2; 李工 T3; T4 has no handler, so its owner 王芳 handles it
    assert {h: (c.complaints, c.on_time, c.resolved, c.kept) for h, c in rates.by_handler.items()} == {
        "张伟": (2, 1, 2, 1),
        "李工": (1, 1, 0, 0),
        "王芳": (1, 1, 1, 0),
    }
    assert {o: (c.complaints, c.serious) for o, c in rates.by_owner.items()} == {"张伟": (2, 1), "王芳": (2, 0)}
    data = result.as_json()["complaint_rates"]
    assert data["by_handler"]["张伟"]["on_time_rate"] == 0.5 and data["by_month"]["2026-10"]["kept_rate"] == 1.0

    book = openpyxl.load_workbook(result.outputs[0])
    sheet = book["投诉考核"]
    cells = [[c.value for c in r] for r in sheet.iter_rows()]
    heads = [n for n, r in enumerate(cells) if r[0] in ("月份", "处理人", "负责人")]
    assert len(heads) == 3
    handler_rows = {r[0]: r[1:9] for r in cells[heads[1] + 1 : heads[2]] if r[0] and not str(r[0]).startswith("2026")}
    assert handler_rows["张伟"] == [2, 1, 0.5, 2, 1.0, 1, 0.5, 1]
    assert "24 小时计" in cells[1][0]  # says what a complaint without a promise is held to
    listing = [[c.value for c in r] for r in book["投诉"].iter_rows()]
    head = listing[0]
    by_id = {r[0]: dict(zip(head, r, strict=True)) for r in listing[1:]}
    assert by_id["T1"]["处理阶段"] == "结案" and by_id["T1"]["按时解决"] == "是" and by_id["T1"]["客户意见"] == "满意"
    assert by_id["T2"]["按时解决"] == "否" and by_id["T2"]["严重程度"] == "严重"
    assert by_id["T3"]["处理阶段"] == "处理" and by_id["T3"]["按时解决"] == "否"  # past 11-30 18:00 when made
    serious = [r[0] for r in book["严重投诉"].iter_rows(min_row=2, values_only=True)]
    assert serious == ["T2"]


def test_report_json_on_the_command_line(tmp_path):
    done = run_crm("report", str(ledger(tmp_path)), "--month", "2026-11", "--out", str(tmp_path / "o"), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["kpis"]["complaints_kept"] == 1
    assert data["complaint_rates"]["by_owner"]["王芳"]["complaints"] == 2


def test_a_step_dated_before_the_complaint_is_a_finding(tmp_path):
    bad = [HEADER, row("T9", NOV2, replied=NOV2 + timedelta(hours=1), resolved_on=NOV2 - timedelta(days=1))]
    facts = load_facts(ledger(tmp_path, bad), load_settings(), today=date(2026, 11, 26))
    found = [(f.code, f.column) for f in facts.findings() if f.code == "stage_before_received"]
    assert found == [("stage_before_received", "L")]
    (finding,) = [f for f in facts.findings() if f.code == "stage_before_received"]
    assert "解决时间 2026-11-01 09:00 早于投诉时间 2026-11-02 09:00" in finding.message


def test_the_open_complaint_risk_waits_for_the_promise(tmp_path):
    received = datetime(2026, 11, 20, 9, 0)
    rows = [HEADER, row("T1", received, replied=received + timedelta(hours=1), days=3)]  # 72 h promised
    path = ledger(tmp_path, rows)

    def tags(now_day: date) -> list[str]:
        facts = load_facts(path, load_settings(), today=now_day)
        return [t.reason for tags in facts.risk_tags() for t in tags if t.code == "complaint_open"]

    assert tags(date(2026, 11, 22)) == []  # 47 h: past the rules' 24 h, within the 72 promised
    (reason,) = tags(date(2026, 11, 24))
    assert "超过 72 小时" in reason


MAIL = """
[mail]
sender_address = "crm@example.com"
managers = ["boss@example.com"]
complaint_warn_hours = 4
"""


def test_reminders_before_and_after_a_promise_runs_out(tmp_path):
    init_workspace(tmp_path / "ws")
    config = tmp_path / "ws" / "crm.toml"
    config.write_text(config.read_text("utf-8") + MAIL, encoding="utf-8")
    received = NOW - timedelta(hours=40)
    rows = [
        HEADER,
        # replied, 48 h promised: due at NOW + 8 h
        row("P1", received, replied=received + timedelta(hours=2), days=2, stage="调查中"),
        # replied, resolved: never reminded
        row("P2", received, replied=received + timedelta(hours=2), days=2, result="已解决"),
        # replied, promised by a date 3 h from now: nearing
        row("P3", received, customer="C2", handler="王芳", replied=received + timedelta(hours=1),
            promised=NOW + timedelta(hours=3)),
    ]  # fmt: skip
    path = ledger(tmp_path, rows)
    settings = load_settings(tmp_path / "ws")
    first = remind("complaints", settings, today=NOW.date(), now=NOW, ledger=path)
    assert [m.recipient_name for m in first.messages] == ["王芳"]  # P1 is 8 h from its promise: not yet
    (wang,) = first.messages
    assert "P3" in wang.text and "即将到承诺时限" in wang.subject and wang.cc == []
    assert "承诺 2026-11-26 18:00 前解决" in wang.text
    later = NOW + timedelta(hours=5)  # P1 3 h before its promise, P3 2 h past it
    second = remind("complaints", settings, today=NOW.date(), now=later, ledger=path)
    by_name = {m.recipient_name: m for m in second.messages}
    assert "P1" in by_name["张伟"].text and "P2" not in by_name["张伟"].text and by_name["张伟"].cc == []
    assert "已过承诺时限" in by_name["王芳"].subject and by_name["王芳"].cc == ["boss@example.com"]
    assert second.delivery.sent == 2
    again = remind("complaints", settings, today=NOW.date(), now=later + timedelta(minutes=30), ledger=path)
    assert again.delivery.sent == 0 and again.delivery.already_sent == 2  # nothing twice


def test_a_workspace_template_from_before_promises_keeps_working_and_says_what_it_cannot_show(tmp_path):
    """A workspace made before promised times has its own copy of the complaint template: the
    promise reminders would come out empty in it, so they are left out, and the run says so."""
    init_workspace(tmp_path / "ws")
    config = tmp_path / "ws" / "crm.toml"
    config.write_text(config.read_text("utf-8") + MAIL, encoding="utf-8")
    for name in ("complaints.zh.txt", "complaints.zh.html"):  # the reply-only template of before
        (tmp_path / "ws" / "email" / name).write_bytes((DATA / "email_before_promises" / name).read_bytes())
    received = NOW - timedelta(hours=40)
    rows = [
        HEADER,
        row("P3", received, customer="C2", handler="王芳", replied=received + timedelta(hours=1), days=1),  # late
        row("R1", NOW - timedelta(hours=22), customer="C1", handler="张伟"),  # no reply, nearing 24 h
    ]
    result = remind(
        "complaints", load_settings(tmp_path / "ws"), today=NOW.date(), now=NOW, ledger=ledger(tmp_path, rows)
    )
    assert [m.recipient_name for m in result.messages] == ["张伟"] and "R1" in result.messages[0].text
    assert any("旧版" in p and "1 项" in p for p in result.problems)

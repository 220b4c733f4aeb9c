"""crm schedule: the timetable, catching up what a switched-off PC missed, one scheduler at a
time, runs killed or interrupted and run again, the log, and the install text.

The clock is injected (``--now`` on the command, a clock function in the library); the jobs
are the real ``crm`` commands run as child processes against a small demo workspace whose
path holds a space and Chinese characters.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from datetime import date, datetime
from pathlib import Path

import pytest
import time_machine
from typer.testing import CliRunner

from tests.conftest import ROOT, run_crm
from toolkit.calendar import WorkCalendar
from toolkit.cli import app
from toolkit.demo import make_demo
from toolkit.errors import ConfigError
from toolkit.schedule import install
from toolkit.schedule.history import RunHistory
from toolkit.schedule.lock import HOLDER_NAME
from toolkit.schedule.log import mask
from toolkit.schedule.runner import StopFlag
from toolkit.schedule.service import due_now, prepare, run_pass, serve, system_clock
from toolkit.schedule.slots import first_workday, next_slot, slots_between
from toolkit.schedule.timetable import parse_entry, parse_when

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals, /bin/sh and executable scripts")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A demo workspace (100 customers) in a folder whose path has a space and Chinese."""
    folder = tmp_path / "客户 资料" / "华东"
    make_demo(folder, date.today(), customers=100)
    return folder


# An office timetable: real, quick jobs stand in for the reminders (classify, validate).
OFFICE = (
    ("每日校验", "validate", [], "workdays 08:00"),
    ("拜访提醒", "classify", [], "weekly mon 08:30"),
    ("月度报告", "report", ["--month", "{last_month}"], "monthly first-workday 09:00"),
    ("投诉检查", "validate", [], "hourly 09:00-18:00"),
)


def timetable(workspace: Path, *entries: tuple[str, str, list[str], str]) -> None:
    """Append ``[[schedule.jobs]]`` entries (name, job, args, when) to the workspace's crm.toml."""
    text = "".join(
        f'\n[[schedule.jobs]]\nname = "{name}"\njob = "{job}"\nargs = {json.dumps(args, ensure_ascii=False)}\n'
        f'when = "{when}"\n'
        for name, job, args, when in entries
    )
    config = workspace / "crm.toml"
    config.write_text(config.read_text(encoding="utf-8") + text, encoding="utf-8")


def once(workspace: Path, now: str, *extra: str) -> dict:
    done = run_crm("schedule", "run", "--once", "--workspace", str(workspace), "--now", now, "--json", *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def ran(result: dict) -> list[tuple[str, str]]:
    return [(r["name"], r["slot"]) for r in result["ran"]]


def history_rows(workspace: Path, sql: str = "SELECT entry, slot, outcome, done, exit_code, summary") -> list:
    with sqlite3.connect(workspace / "state.sqlite") as db:
        return db.execute(f"{sql} FROM schedule_runs ORDER BY id").fetchall()


def wait_for(condition, timeout: float = 30.0, step: float = 0.01):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = condition()
        if found:
            return found
        time.sleep(step)
    raise AssertionError("timed out waiting")


def running_pid(workspace: Path) -> int | None:
    if not (workspace / "state.sqlite").exists():
        return None
    try:
        with sqlite3.connect(workspace / "state.sqlite", timeout=5) as db:
            found = db.execute("SELECT pid FROM schedule_runs WHERE outcome = 'running' AND pid IS NOT NULL").fetchone()
    except sqlite3.OperationalError:  # the table is not there yet
        return None
    return found[0] if found else None


def in_thread(sched, stop: StopFlag) -> list:
    """A pass with its own connection to the state database (one per thread)."""
    with RunHistory.of(sched.workspace) as history:
        return run_pass(sched, history, stop)


def crm_process(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "toolkit", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


# ---------------------------------------------------------------- the timetable


@pytest.mark.parametrize(
    "text, kind, normal",
    [
        ("daily 08:00", "daily", "daily 08:00"),
        ("workdays 8:00", "workdays", "workdays 08:00"),
        ("weekly Mon 08:30", "weekly", "weekly mon 08:30"),
        ("weekly 周一 08:30", "weekly", "weekly mon 08:30"),
        ("monthly first-workday 09:00", "monthly", "monthly first-workday 09:00"),
        ("monthly 5 09:00", "monthly", "monthly 5 09:00"),
        ("quarterly first-workday 10:00", "quarterly", "quarterly first-workday 10:00"),
        ("hourly 09:00-18:00", "hourly", "hourly 09:00-18:00"),
        ("every 2 hours 09:00-17:00", "hourly", "every 2 hours 09:00-17:00"),
        ("every 3h 09:00~18:00", "hourly", "every 3 hours 09:00-18:00"),
    ],
)
def test_timetable_reads_every_kind_of_when(text, kind, normal):
    when = parse_when(text)
    assert when.kind == kind
    assert when.text == normal


@pytest.mark.parametrize(
    "entry, says",
    [
        ({"name": "x", "job": "backup", "when": "daily 08:00"}, "job 'backup' is not a crm job"),
        ({"job": "validate", "when": "daily 08:00"}, "has no name"),
        ({"name": "x", "job": "validate"}, "has no when"),
        ({"name": "x", "job": "validate", "when": "daily 8am"}, "has no time of day"),
        ({"name": "x", "job": "validate", "when": "weekly funday 08:00"}, "names no weekday"),
        ({"name": "x", "job": "validate", "when": "monthly 31 08:00"}, "no day of the month"),
        ({"name": "x", "job": "validate", "when": "hourly 18:00-09:00"}, "ends (09:00) before it starts"),
        ({"name": "x", "job": "validate", "when": "fortnightly 08:00"}, "does not start with one of"),
        ({"name": "x", "job": "validate", "when": "daily 08:00", "args": "--strict"}, "args must be a list"),
        ({"name": "x", "job": "validate", "when": "daily 08:00", "args": ["--json"]}, "adds --workspace and --json"),
        ({"name": "x", "job": "report", "when": "daily 08:00", "args": ["{lastmonth}"]}, "unknown placeholder"),
        ({"name": "x", "job": "validate", "when": "daily 08:00", "wehn": "x"}, "unknown key 'wehn'"),
        ({"name": "x", "job": "validate", "when": "daily 08:00", "timeout": 0}, "is not a number of minutes"),
        ({"name": "x", "job": "validate", "when": "daily 08:00", "catch_up": "some"}, "is not all or latest"),
    ],
)
def test_config_errors_name_the_entry_and_the_fix_on_one_line(entry, says):
    with pytest.raises(ConfigError) as caught:
        parse_entry(entry, 3, Path("crm.toml"))
    message = str(caught.value)
    assert says in message
    assert message.startswith("crm.toml: [[schedule.jobs]] #3")
    assert " — " in message and "\n" not in message


def test_a_wrong_timetable_stops_the_command_with_one_line_and_exit_2(workspace):
    timetable(workspace, ("每日校验", "validate", [], "workdays 8 点"))
    done = run_crm("schedule", "run", "--once", "--workspace", str(workspace))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "[[schedule.jobs]] #1 '每日校验': when 'workdays 8 点' has the wrong number of parts" in done.stderr
    assert "crm.toml" in done.stderr
    assert "每日校验" in (workspace / "logs" / "crm.log").read_text(encoding="utf-8")  # the log says so too


def test_two_entries_with_one_name_are_refused(workspace):
    timetable(workspace, ("校验", "validate", [], "daily 08:00"), ("校验", "classify", [], "daily 09:00"))
    done = run_crm("schedule", "status", "--workspace", str(workspace))
    assert done.returncode == 2
    assert "two [[schedule.jobs]] entries are named '校验'" in done.stderr


def test_slot_arguments_fill_in_the_month_before_the_slot():
    entry = parse_entry(
        {"name": "月报", "job": "report", "args": ["--month", "{last_month}", "{quarter}"], "when": "daily 09:00"}, 1
    )
    assert entry.arguments(at("2026-01-05T09:00")) == ["--month", "2025-12", "2026Q1"]


# ---------------------------------------------------------------- slots (pure)


def test_working_days_follow_the_chinese_calendar():
    calendar = WorkCalendar()
    assert first_workday(2026, 10, calendar) == date(2026, 10, 8)  # National Day week
    assert first_workday(2026, 1, calendar) == date(2026, 1, 4)  # a Sunday make-up day (调休)
    workdays = parse_when("workdays 08:00")
    slots = slots_between(workdays, at("2026-09-30T09:00"), at("2026-10-11T09:00"), calendar)
    assert slots == [at("2026-10-08T08:00"), at("2026-10-09T08:00"), at("2026-10-10T08:00")]  # Sat 10th: 调休


def test_hourly_slots_stay_within_office_hours_on_working_days():
    calendar = WorkCalendar()
    every_two = parse_when("every 2 hours 09:00-17:00")
    assert [s.hour for s in slots_between(every_two, at("2026-11-26T00:00"), at("2026-11-26T23:59"), calendar)] == [
        9,
        11,
        13,
        15,
        17,
    ]
    assert slots_between(every_two, at("2026-11-28T00:00"), at("2026-11-29T23:59"), calendar) == []  # a weekend
    assert next_slot(every_two, at("2026-11-27T17:30"), calendar) == at("2026-11-30T09:00")


def test_national_day_week_off_catches_up_each_missed_run_once_oldest_first(workspace):
    timetable(workspace, *OFFICE, ("季度调查", "plan", [], "quarterly first-workday 09:30"))
    sched = prepare(workspace, system_clock(at("2026-09-30T18:30")))
    with RunHistory.of(sched.workspace) as history:
        first = due_now(sched, history, at("2026-09-30T18:30"))
        assert [(e.name, s.isoformat()) for s, e in first] == [
            ("每日校验", "2026-09-30T08:00:00"),
            ("投诉检查", "2026-09-30T18:00:00"),
        ]
        for slot, entry in first:
            run_id = history.start(entry, slot, slot, "", "")
            history.finish(run_id, slot, "ok", done=True, exit_code=0, summary="")
        # the PC is off from Wednesday evening over the National Day week to Thursday 8 October
        after = due_now(sched, history, at("2026-10-08T10:15"))
    sched.close()
    assert [(e.name, s.isoformat(timespec="minutes")) for s, e in after] == [
        ("拜访提醒", "2026-10-05T08:30"),  # the holiday Monday's reminder, caught up once
        ("每日校验", "2026-10-08T08:00"),  # no working day in between: one run
        ("月度报告", "2026-10-08T09:00"),  # the first working day of October
        ("季度调查", "2026-10-08T09:30"),  # … which is the first of the quarter too
        ("投诉检查", "2026-10-08T10:00"),  # hourly: only the latest
    ]


# ---------------------------------------------------------------- passes with real jobs


@pytest.mark.slow
def test_pc_off_over_a_weekend_and_a_month_end_catches_up_exactly_the_missed_runs(workspace):
    timetable(workspace, *OFFICE)
    friday = once(workspace, "2026-01-30T18:30")  # the scheduler is installed on Friday afternoon
    assert ran(friday) == [("每日校验", "2026-01-30T08:00"), ("投诉检查", "2026-01-30T18:00")]
    monday = once(workspace, "2026-02-02T10:15")  # the PC was off from Friday evening to Monday
    assert ran(monday) == [
        ("每日校验", "2026-02-02T08:00"),
        ("拜访提醒", "2026-02-02T08:30"),
        ("月度报告", "2026-02-02T09:00"),  # the first working day of February, for January
        ("投诉检查", "2026-02-02T10:00"),  # 09:00 was missed too: only the latest runs
    ]
    assert all(r["outcome"] == "ok" for r in friday["ran"] + monday["ran"]), monday
    report = next(r for r in monday["ran"] if r["name"] == "月度报告")
    assert "2026-01" in report["summary"] and report["outputs"]
    assert once(workspace, "2026-02-02T10:20")["ran"] == []  # the same slot again: nothing


def test_once_twice_in_the_same_slot_runs_nothing_the_second_time(workspace):
    timetable(workspace, ("每日校验", "validate", [], "workdays 08:00"))
    assert ran(once(workspace, "2026-11-26T08:05")) == [("每日校验", "2026-11-26T08:00")]
    again = run_crm("schedule", "run", "--once", "--workspace", str(workspace), "--now", "2026-11-26T08:40")
    assert again.returncode == 0
    assert "没有到期的作业" in again.stdout
    assert len(history_rows(workspace)) == 1


def test_a_failing_job_is_recorded_and_the_others_still_run(workspace):
    timetable(
        workspace,
        ("坏台账校验", "validate", ["不存在的台账.xlsx"], "workdays 08:00"),
        ("每日校验", "validate", [], "workdays 08:00"),
    )
    first = once(workspace, "2026-11-26T08:10")
    assert [(r["name"], r["outcome"], r["exit_code"]) for r in first["ran"]] == [
        ("坏台账校验", "failed", 2),
        ("每日校验", "ok", 0),
    ]
    assert "不存在的台账.xlsx" in first["ran"][0]["summary"] and "not found" in first["ran"][0]["summary"]
    assert once(workspace, "2026-11-26T09:00")["ran"] == []  # a failed run is retried at its next slot, not now
    assert ran(once(workspace, "2026-11-27T08:01")) == [
        ("坏台账校验", "2026-11-27T08:00"),
        ("每日校验", "2026-11-27T08:00"),
    ]
    log = (workspace / "logs" / "crm.log").read_text(encoding="utf-8")
    assert "【坏台账校验】validate 时段 2026-11-26 08:00：失败 (exit 2)" in log
    assert "【每日校验】validate 时段 2026-11-26 08:00：成功" in log


@POSIX
def test_a_job_killed_in_the_middle_is_recorded_failed_and_run_again(workspace):
    timetable(workspace, ("每日校验", "validate", [], "workdays 08:00"))
    sched = prepare(workspace, system_clock(at("2026-11-26T08:30")))
    records: list = []
    worker = threading.Thread(target=lambda: records.extend(in_thread(sched, StopFlag())))
    worker.start()
    os.kill(wait_for(lambda: running_pid(workspace)), signal.SIGKILL)
    worker.join(60)
    assert [(r.outcome, r.done) for r in records] == [("failed", False)]
    assert "SIGKILL" in records[0].summary
    with RunHistory.of(sched.workspace) as history:
        again = run_pass(sched, history, StopFlag())
    sched.close()
    assert [(r.slot, r.outcome) for r in again] == [(at("2026-11-26T08:00"), "ok")]


@POSIX
@pytest.mark.slow
def test_a_scheduler_killed_in_the_middle_leaves_a_run_that_is_marked_failed_and_run_again(workspace):
    timetable(workspace, ("每日校验", "validate", [], "workdays 08:00"))
    scheduler = crm_process("schedule", "run", "--once", "--workspace", str(workspace), "--now", "2026-11-26T08:30")
    child = wait_for(lambda: running_pid(workspace))
    scheduler.kill()  # the PC is switched off in the middle of the run
    scheduler.wait(30)
    os.kill(child, signal.SIGKILL)
    assert history_rows(workspace, "SELECT outcome")[-1] == ("running",)
    result = once(workspace, "2026-11-26T09:10")
    assert [(r["name"], r["slot"]) for r in result["recovered"]] == [("每日校验", "2026-11-26T08:00")]
    assert [(r["slot"], r["outcome"]) for r in result["ran"]] == [("2026-11-26T08:00", "ok")]
    rows = history_rows(workspace, "SELECT slot, outcome, done, summary")
    assert [(slot, outcome, done) for slot, outcome, done, _ in rows] == [
        ("2026-11-26T08:00:00", "failed", 0),
        ("2026-11-26T08:00:00", "ok", 1),
    ]
    assert "调度程序在作业运行中停止" in rows[0][3]


@POSIX
def test_stop_asked_twice_interrupts_the_job_cleanly_and_it_runs_again(workspace):
    timetable(workspace, ("每日校验", "validate", [], "workdays 08:00"))
    sched = prepare(workspace, system_clock(at("2026-11-26T08:30")))
    stop = StopFlag()
    records: list = []
    worker = threading.Thread(target=lambda: records.extend(in_thread(sched, stop)))
    worker.start()
    wait_for(lambda: running_pid(workspace))
    stop.request()  # Ctrl-C: let it finish …
    stop.request()  # … Ctrl-C again: cut it short (the child gets SIGINT and unwinds)
    worker.join(60)
    (record,) = records
    again = in_thread(sched, StopFlag())
    sched.close()
    if record.exit_code == 0:  # on a loaded machine the job may finish just as it is asked to stop
        assert (record.outcome, record.done, again) == ("ok", True, [])
        return
    assert (record.outcome, record.done) == ("interrupted", False)
    assert record.exit_code in (130, -signal.SIGINT)  # it unwound as on Ctrl-C (or died of it while starting)
    assert [r.outcome for r in again] == ["ok"]


@POSIX
@pytest.mark.slow
def test_ctrl_c_lets_the_running_job_finish_and_starts_no_other(workspace):
    timetable(
        workspace,
        ("每日校验", "validate", [], "workdays 08:00"),
        ("每日分类", "classify", [], "workdays 08:00"),
    )
    scheduler = crm_process("schedule", "run", "--workspace", str(workspace), "--now", "2026-11-26T08:30")
    wait_for(lambda: running_pid(workspace))
    scheduler.send_signal(signal.SIGINT)
    out, err = scheduler.communicate(timeout=60)
    assert scheduler.returncode == 0, err
    assert history_rows(workspace, "SELECT entry, outcome") == [("每日校验", "ok")]
    assert not (workspace / HOLDER_NAME).exists()
    assert "调度程序已停止" in (workspace / "logs" / "crm.log").read_text(encoding="utf-8")


def test_the_loop_runs_a_job_when_its_time_comes(workspace):
    """The long-running scheduler (the schedule library) wakes at 08:00 and runs the 08:00 slot."""
    timetable(workspace, ("每日校验", "validate", [], "workdays 08:00"))
    stop = StopFlag()
    with time_machine.travel(datetime(2026, 11, 26, 7, 59, 58).astimezone(), tick=True):
        sched = prepare(workspace, system_clock())
        sched.on_run = lambda record: stop.request()  # stop after the first run
        worker = threading.Thread(target=lambda: result.append(serve(sched, stop)))
        result: list = []
        worker.start()
        worker.join(60)
    sched.close()
    assert [(r.entry, r.slot, r.outcome) for r in result[0].ran] == [("每日校验", at("2026-11-26T08:00"), "ok")]
    assert result[0].ran[0].started >= at("2026-11-26T08:00")


@POSIX
@pytest.mark.slow
def test_a_second_scheduler_refuses_and_names_the_one_running(workspace):
    timetable(workspace, ("每日校验", "validate", [], "workdays 08:00"))
    first = crm_process("schedule", "run", "--workspace", str(workspace), "--now", "2026-11-26T07:00")
    try:
        wait_for(lambda: (workspace / HOLDER_NAME).exists())
        second = run_crm("schedule", "run", "--once", "--workspace", str(workspace))
        assert second.returncode == 1
        assert second.stderr.count("\n") == 1
        assert "another crm schedule is already running for this workspace" in second.stderr
        assert f"pid {first.pid}" in second.stderr
        status = run_crm("schedule", "status", "--workspace", str(workspace), "--json")
        assert json.loads(status.stdout)["running"]["pid"] == first.pid
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    assert first.returncode == 0
    assert not (workspace / HOLDER_NAME).exists()
    assert json.loads(run_crm("schedule", "status", "--workspace", str(workspace), "--json").stdout)["running"] is None


def test_status_lists_last_run_outcome_and_next_run(workspace):
    timetable(
        workspace,
        ("每日校验", "validate", [], "workdays 08:00"),
        ("月度报告", "report", ["--month", "{last_month}"], "monthly first-workday 09:00"),
    )
    once(workspace, "2026-11-26T08:05")
    done = run_crm("schedule", "status", "--workspace", str(workspace), "--now", "2026-11-26T08:10", "--json")
    assert done.returncode == 0
    jobs = {j["name"]: j for j in json.loads(done.stdout)["jobs"]}
    assert set(jobs["每日校验"]) >= {"name", "last_run", "outcome", "next_run"}
    assert jobs["每日校验"]["outcome"] == "ok" and jobs["每日校验"]["last_run"].startswith("2026-11-26T08:05")
    assert jobs["每日校验"]["next_run"] == "2026-11-27T08:00"
    assert jobs["月度报告"]["last_run"] is None and jobs["月度报告"]["next_run"] == "2026-12-01T09:00"
    table = CliRunner().invoke(
        app, ["schedule", "status", "--workspace", str(workspace), "--now", "2026-11-26T08:10", "--lang", "en"]
    )
    assert table.exit_code == 0, table.output
    assert "Next run" in table.output and "not yet" in table.output


# ---------------------------------------------------------------- the log


def test_mask_hides_phone_numbers_and_email_addresses():
    text = "张三 13812345678, +86 139-1234-5678, 0755-12345678 转 801, (010)87654321, zhang.wei@example.com.cn"
    assert mask(text) == "张三 138****5678, 139****5678, 0755-****5678 转 801, 010-****4321, z***@example.com.cn"
    kept = "2026-11-26 08:00:03 slot 2026-11-26T08:00 pid 12345 exit 2 amount 1234567890 年销售额 87654321"
    assert mask(kept) == kept
    assert mask("客服 400-800-8888，电话 87654321，Tel: 8765-4321") == "客服 400-***-8888，电话 ****4321，Tel: ****4321"


def test_the_log_masks_what_a_job_reports(workspace):
    ledger = "客户 zhang.wei@example.cn 13812345678.xlsx"  # a file name that carries personal data
    timetable(workspace, ("校验", "validate", [ledger], "workdays 08:00"))
    result = once(workspace, "2026-11-26T08:05")
    log = (workspace / "logs" / "crm.log").read_text(encoding="utf-8")
    assert "z***@example.cn 138****5678.xlsx" in log
    assert "13812345678" not in log and "zhang.wei@" not in log
    assert "13812345678" not in result["ran"][0]["summary"]
    assert "13812345678" not in str(history_rows(workspace))


# ---------------------------------------------------------------- install


PY_WIN = r"C:\Program Files\Python311\pythonw.exe"
WS_WIN = r"D:\共享 资料\华东 分公司"


def test_windows_command_quotes_paths_with_spaces_and_chinese():
    arguments = "-m toolkit schedule run --once --workspace "
    assert install.windows_command(PY_WIN, WS_WIN) == f'"{PY_WIN}" {arguments}"{WS_WIN}"'
    # a trailing backslash and a quote survive the Windows argument rules
    assert install.windows_arguments("D:\\客户 资料\\") == arguments + '"D:\\客户 资料\\\\"'
    assert install.windows_arguments('D:\\a "b"') == arguments + '"D:\\a \\"b\\""'


def test_windows_task_runs_at_log_on_and_hourly_without_admin_rights():
    xml = install.windows_task_xml(PY_WIN, WS_WIN, "OFFICE\\李娜")
    root = ET.fromstring(xml.encode("utf-16"))
    ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    assert root.find("t:Triggers/t:LogonTrigger/t:UserId", ns).text == "OFFICE\\李娜"
    assert root.find("t:Triggers/t:CalendarTrigger/t:Repetition/t:Interval", ns).text == "PT1H"
    assert root.find("t:Principals/t:Principal/t:RunLevel", ns).text == "LeastPrivilege"
    assert root.find("t:Settings/t:StartWhenAvailable", ns).text == "true"
    assert root.find("t:Actions/t:Exec/t:Command", ns).text == f'"{PY_WIN}"'
    assert root.find("t:Actions/t:Exec/t:Arguments", ns).text == install.windows_arguments(WS_WIN)
    name = install.task_name(WS_WIN)
    assert name.startswith("crm schedule 华东 分公司 ")
    mine, theirs = install.task_name(WS_WIN, "OFFICE\\李娜"), install.task_name(WS_WIN, "OFFICE\\张伟")
    assert mine.startswith("crm schedule 华东 分公司 李娜 ") and mine != theirs  # one task per user on a shared PC
    assert subprocess.list2cmdline(install.schtasks_create(name, r"C:\Temp\t.xml")).startswith(
        f'schtasks /Create /TN "{name}" /XML C:\\Temp\\t.xml /F'
    )


@POSIX
def test_cron_line_quotes_spaces_chinese_quotes_and_percent(tmp_path):
    folder = tmp_path / "客户 资料" / "50% 华东's"
    folder.mkdir(parents=True)
    python = tmp_path / "py 3" / "python"
    python.parent.mkdir()
    python.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n', encoding="utf-8")
    python.chmod(0o755)
    hourly, reboot = install.cron_lines(str(python), str(folder))
    assert hourly.startswith("0 * * * * PYTHONUTF8=1 ") and reboot.startswith("@reboot sleep 60; ")
    assert "50\\% 华东" in hourly  # cron would read a bare % as a line break
    command = install.cron_command(str(python), str(folder)).replace("\\%", "%")  # what cron hands the shell
    printed = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=True).stdout
    assert printed.splitlines() == ["-m", "toolkit", "schedule", "run", "--once", "--workspace", str(folder)]
    assert shlex.split(command) == [
        str(python),
        "-m",
        "toolkit",
        "schedule",
        "run",
        "--once",
        "--workspace",
        str(folder),
    ]


def test_systemd_unit_quotes_the_paths_and_doubles_percent():
    units = install.systemd_units("/opt/py 3/bin/python", "/home/李娜/客户 资料/50% 华东")
    service = next(text for name, text in units.items() if name.endswith(".service"))
    assert (
        'ExecStart="/opt/py 3/bin/python" "-m" "toolkit" "schedule" "run" "--once" "--workspace" '
        '"/home/李娜/客户 资料/50%% 华东"'
    ) in service
    timer = next(text for name, text in units.items() if name.endswith(".timer"))
    assert "OnCalendar=hourly" in timer and "Persistent=true" in timer


@POSIX
def test_install_prints_and_apply_replaces_its_own_crontab_lines(workspace, tmp_path, monkeypatch):
    timetable(workspace, ("每日校验", "validate", [], "workdays 08:00"))
    fake = tmp_path / "bin"
    fake.mkdir()
    store = tmp_path / "crontab.txt"
    store.write_text('MAILTO=""\n30 2 * * * /usr/bin/backup\n', encoding="utf-8")
    (fake / "crontab").write_text(
        f'#!/bin/sh\nif [ "$1" = "-l" ]; then cat "{store}"; else cat > "{store}"; fi\n', encoding="utf-8"
    )
    (fake / "crontab").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(sys, "platform", "linux")
    runner = CliRunner()
    printed = runner.invoke(app, ["schedule", "install", "--workspace", str(workspace)])
    assert printed.exit_code == 0, printed.output
    assert "'" + str(workspace.resolve()) + "'" in printed.output and "systemctl --user enable" in printed.output
    assert store.read_text(encoding="utf-8").count("crm-schedule") == 0  # printing installs nothing
    for _ in range(2):
        applied = runner.invoke(app, ["schedule", "install", "--workspace", str(workspace), "--apply"])
        assert applied.exit_code == 0, applied.output
    lines = store.read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ['MAILTO=""', "30 2 * * * /usr/bin/backup"]  # other lines kept
    assert len(lines) == 4 and lines[2].startswith("0 * * * * ") and lines[3].startswith("@reboot ")


# ---------------------------------------------------------------- e-mail under the scheduler


@pytest.mark.slow
def test_mail_jobs_under_the_scheduler_send_exactly_once_even_when_rerun(workspace):
    # the outbox backend (the workspace default): each message sent is one .eml file in outbox/
    timetable(workspace, ("数据问题提醒", "remind", ["quality"], "daily 08:00"))
    now = f"{date.today().isoformat()}T08:30"
    first = once(workspace, now)
    assert [r["outcome"] for r in first["ran"]] == ["ok"], first
    sent = sorted(workspace.rglob("*.eml"))
    assert sent and f"已发送 {len(sent)}" in first["ran"][0]["summary"]
    with sqlite3.connect(workspace / "state.sqlite") as db:  # as if the PC died before the run was recorded
        db.execute("UPDATE schedule_runs SET outcome = 'running', done = 0")
    again = once(workspace, now)
    assert len(again["recovered"]) == 1 and [r["outcome"] for r in again["ran"]] == ["ok"]
    assert f"此前已发 {len(sent)}" in again["ran"][0]["summary"]
    assert sorted(workspace.rglob("*.eml")) == sent  # the rerun sent nothing twice
    assert once(workspace, now)["ran"] == []


@pytest.mark.slow
def test_mail_jobs_under_the_scheduler_send_exactly_once_through_a_real_smtp_server(workspace, tmp_path, monkeypatch):
    """aiosmtpd on loopback with STARTTLS and AUTH: a pass, a pass after a crash before the run
    was recorded, and a third pass deliver each reminder once."""
    from tests.mailserver import PASSWORD, start_server

    server = start_server(tmp_path, "starttls")
    try:
        config = workspace / "crm.toml"
        config.write_text(config.read_text(encoding="utf-8") + server.mail_config(), encoding="utf-8")
        monkeypatch.setenv("CRM_SMTP_PASSWORD", PASSWORD)  # the scheduler's jobs inherit it
        timetable(workspace, ("数据问题提醒", "remind", ["quality"], "daily 08:00"))
        now = f"{date.today().isoformat()}T08:30"
        first = once(workspace, now)
        assert [r["outcome"] for r in first["ran"]] == ["ok"], first
        received = [m["To"] for m in server.handler.messages()]
        assert received and len(received) == len(set(received))
        with sqlite3.connect(workspace / "state.sqlite") as db:
            db.execute("UPDATE schedule_runs SET outcome = 'running', done = 0")
        again = once(workspace, now)
        assert [r["outcome"] for r in again["ran"]] == ["ok"] and once(workspace, now)["ran"] == []
        assert [m["To"] for m in server.handler.messages()] == received  # nothing went out twice
        assert not list(workspace.rglob("*.eml"))  # and nothing went to the outbox instead
    finally:
        server.controller.stop()


@pytest.mark.slow
def test_a_caught_up_run_is_the_run_of_its_own_day(workspace):
    """Missed over a weekend and a Monday: the Monday's validation is as of Monday (its workbook
    says so), not a second copy of Tuesday's."""
    timetable(workspace, ("每日校验", "validate", [], "workdays 08:00"))
    once(workspace, "2026-11-27T08:30")  # Friday
    result = once(workspace, "2026-12-01T09:00")  # Tuesday: Monday was missed
    assert [r["slot"] for r in result["ran"]] == ["2026-11-30T08:00", "2026-12-01T08:00"]
    written = sorted(p.name for p in (workspace / "out").glob("*校验结果_*.xlsx"))
    assert written == [
        "客户台账_校验结果_20261127.xlsx",
        "客户台账_校验结果_20261130.xlsx",
        "客户台账_校验结果_20261201.xlsx",
    ]


def test_the_printed_schtasks_command_names_a_task_file_that_is_written(tmp_path):
    folder = tmp_path / "客户 资料"
    folder.mkdir()
    plan = install.plan_install(folder, platform="windows", python=r"C:\Python311\pythonw.exe")
    written = install.write_task_xml(plan, folder)
    assert str(written) in plan.schtasks and written.parent == folder
    root = ET.fromstring(written.read_text(encoding="utf-16").encode("utf-16"))
    assert root.tag.endswith("Task")

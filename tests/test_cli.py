"""The `crm` command: init, demo, validate, the JSON contract and exit codes."""

from __future__ import annotations

import json
from datetime import date

import openpyxl
from conftest import CUSTOMER_HEADER, customer_row, make_xlsx, run_crm
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.config import load_settings
from toolkit.demo import generate

runner = CliRunner()


def test_init_creates_a_workspace_with_editable_rules(tmp_path):
    result = runner.invoke(app, ["init", str(tmp_path / "ws"), "--company", "华东分公司"])
    assert result.exit_code == 0, result.output
    ws = tmp_path / "ws"
    settings = load_settings(ws)
    assert settings.company == "华东分公司" and settings.lang == "zh" and settings.policy == "abcd"
    assert (ws / "out").is_dir()
    rules = openpyxl.load_workbook(ws / "rules.xlsx")
    assert {"参数", "拜访周期", "校验规则", "必填字段", "取值范围", "列名"} <= set(rules.sheetnames)
    params = {r[0]: r[2] for r in rules["参数"].iter_rows(min_row=2, values_only=True)}
    assert params["sales.key_min"] == 2000 and params["sales.major_min"] == 500
    assert params["share.strategic_min"] == 5 and params["share.key_min"] == 3
    risks = {r[0]: (r[3], r[4]) for r in rules["风险规则"].iter_rows(min_row=2, values_only=True)}
    assert risks["complaint_unanswered"] == ("严重", 24)
    assert rules["ABCD分级"]["A2"].value == "A" and rules["ABCD分级"]["B2"].value == 2.5
    cadence = {(r[0], r[1]): r[2] for r in rules["拜访周期"].iter_rows(min_row=2, values_only=True)}
    assert cadence[("A", "例行回访")] == 3 and cadence[("B", "例行回访")] == 6 and cadence[("C", "例行回访")] == 12
    assert cadence[("战略", "客户经理拜访")] == 1 and cadence[("战略", "高层拜访")] == 6
    assert cadence[("战略", "技术交流")] == 6 and cadence[("战略", "质量交流")] == 3
    ledger = openpyxl.load_workbook(settings.ledgers["main"])
    assert ledger.sheetnames == ["客户台账", "拜访记录", "投诉记录", "月度业务"]
    assert [c.value for c in ledger["客户台账"][2]][:3] == ["客户编号", "客户名称", "联系人"]


def test_init_refuses_to_overwrite_a_workspace(tmp_path):
    assert run_crm("init", str(tmp_path)).returncode == 0
    again = run_crm("init", str(tmp_path))
    assert again.returncode == 2 and "already exists" in again.stderr and "--force" in again.stderr


def test_validate_json_is_the_only_thing_on_stdout(tmp_path):
    path = make_xlsx(tmp_path / "l.xlsx", {"S": [CUSTOMER_HEADER, customer_row(1, 电子邮箱="bad"), customer_row(2)]})
    result = run_crm("validate", str(path), "--json", "--out", str(tmp_path / "out"), "--today", "2026-11-26")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["customers"] == 2
    assert data["issues"] == [
        {
            "sheet": "S",
            "row": 2,
            "column": "E",
            "field": "email",
            "value": "bad",
            "severity": "error",
            "code": "bad_email",
            "message": "电子邮箱「bad」不是有效的电子邮箱",
            "hint": data["issues"][0]["hint"],
            "owner": "张伟",
        }
    ]
    assert len(data["outputs"]) == 1 and data["outputs"][0].endswith(".xlsx")
    assert openpyxl.load_workbook(data["outputs"][0])["问题清单"]["E2"].value == "bad"


def test_strict_exits_1_on_errors_only(tmp_path):
    bad = make_xlsx(tmp_path / "bad.xlsx", {"S": [CUSTOMER_HEADER, customer_row(1, 电子邮箱="bad")]})
    good = make_xlsx(tmp_path / "good.xlsx", {"S": [CUSTOMER_HEADER, customer_row(1)]})
    out = str(tmp_path / "out")
    assert run_crm("validate", str(bad), "--out", out, "--today", "2026-11-26").returncode == 0
    assert run_crm("validate", str(bad), "--out", out, "--strict", "--today", "2026-11-26").returncode == 1
    assert run_crm("validate", str(good), "--out", out, "--strict", "--today", "2026-11-26").returncode == 0


def test_validate_uses_the_workspace_ledger_and_out_folder(tmp_path):
    runner.invoke(app, ["demo", str(tmp_path / "ws"), "--today", "2026-11-26", "--customers", "100"])
    result = run_crm("validate", "--today", "2026-11-26", "--json", cwd=tmp_path / "ws")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["customers"] == 100
    assert data["outputs"][0].startswith(str(tmp_path / "ws" / "out"))


def test_bare_ledger_without_workspace_writes_to_dot_out(tmp_path):
    path = make_xlsx(tmp_path / "台账.xlsx", {"S": [CUSTOMER_HEADER, customer_row(1)]})
    result = run_crm("validate", "台账.xlsx", "--today", "2026-11-26", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "台账_校验结果_20261126.xlsx").is_file()
    assert "1 位客户" in result.stdout and path.is_file()


def test_readable_summary_in_english(tmp_path):
    path = make_xlsx(tmp_path / "l.xlsx", {"S": [CUSTOMER_HEADER, customer_row(1, 电子邮箱="bad")]})
    result = runner.invoke(
        app, ["validate", str(path), "--lang", "en", "--out", str(tmp_path), "--today", "2026-11-26"]
    )
    assert result.exit_code == 0
    assert "E-mail malformed" in result.output and "Error" in result.output and "Wrote" in result.output


def test_demo_finds_every_planted_mistake_and_nothing_else(tmp_path):
    result = run_crm("demo", str(tmp_path / "demo"), "--today", "2026-11-26", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    _, planted = generate(__import__("datetime").date(2026, 11, 26))
    found = {(i["code"], i["sheet"], f"{i['column']}{i['row']}") for i in data["jobs"]["validate"]["issues"]}
    assert found == {(p.code, p.sheet, p.cell) for p in planted}
    assert len(data["jobs"]["validate"]["issues"]) == len(planted)
    tables = data["jobs"]["validate"]["tables"]
    assert tables["customers"]["rows"] == 300 and tables["customers"]["header_row"] == 2
    assert {"visits", "complaints", "monthly"} <= set(tables)


def test_demo_runs_the_mail_survey_and_schedule_jobs_into_the_outbox(tmp_path):
    from email import message_from_bytes, policy

    result = run_crm("demo", str(tmp_path / "demo"), "--today", "2026-11-26", "--json")
    assert result.returncode == 0, result.stderr
    jobs = json.loads(result.stdout)["jobs"]
    assert jobs["remind visits"]["sent"] == 6 and jobs["remind quality"]["sent"] >= 1
    assert jobs["remind report"]["recipients"] == ["manager@example.com"]
    send = jobs["survey send"]
    assert send["sent"] > 50
    assert send["sent"] + len(send["skipped"]) + len(send["failed"]) == jobs["survey create"]["forms"]
    assert jobs["survey collect"]["accepted"] and not jobs["survey collect"]["rejected"]
    assert [j["name"] for j in jobs["schedule status"]["jobs"]][:2] == ["每日校验", "拜访提醒"]
    visits = sorted((tmp_path / "demo" / "outbox" / "visits").rglob("*.eml"))
    assert len(visits) == 6
    message = message_from_bytes(visits[0].read_bytes(), policy=policy.default)
    assert "拜访" in message["Subject"] and message["To"].addresses[0].domain == "example.com"
    # run again in the same period: nothing is sent twice
    again = run_crm("remind", "visits", "--workspace", str(tmp_path / "demo"), "--today", "2026-11-26", "--json")
    assert json.loads(again.stdout)["sent"] == 0 and json.loads(again.stdout)["already_sent"] == 6


def test_demo_prints_where_each_output_is(tmp_path):
    result = run_crm("demo", str(tmp_path / "d"), "--today", "2026-11-26")
    assert result.returncode == 0
    assert "客户台账.xlsx" in result.stdout and "校验结果_20261126.xlsx" in result.stdout


def test_every_command_has_help():
    for command in ("init", "demo", "validate"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def _commands(command, path=()):
    """Every command of the CLI with its path, sub-apps included."""
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


def test_help_shows_bracketed_words_and_no_bool_placeholders():
    """Help is printed as written: `[mail]`, `[ledgers]`, `[survey.imap]` are not taken for markup,
    and a flag is not shown as taking a `<bool>` value."""
    import re

    import typer.main

    checked, seen = 0, set()
    for path, command in _commands(typer.main.get_command(app)):
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        wanted = {w for text in texts for w in re.findall(r"\[[a-z][a-z._]*\]", text)}
        shown = runner.invoke(app, [*path, "--help"], terminal_width=200)
        assert shown.exit_code == 0, path
        assert "<bool>" not in shown.output, path
        flat = " ".join(shown.output.split())
        for word in wanted:
            checked += 1
            seen.add(word)
            assert word in flat, (path, word)
    assert {"[mail]", "[survey.imap]"} <= seen and checked >= 2


def test_init_names_the_ledgers_section(tmp_path):
    done = runner.invoke(app, ["init", str(tmp_path / "ws")])
    assert done.exit_code == 0, done.output
    assert "under [ledgers]" in done.output


def test_a_usage_error_is_one_line_on_stderr_with_exit_2(tmp_path):
    done = run_crm("survey", "create", "-w", str(tmp_path))
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1
    assert "--campaign" in done.stderr and "--help" in done.stderr and "╭" not in done.stderr
    unknown = run_crm("validate", "--bogus")
    assert unknown.returncode == 2 and unknown.stderr.startswith("error: No such option: --bogus")


def test_version_and_debug(tmp_path):
    from toolkit import __version__

    shown = run_crm("--version")
    assert shown.returncode == 0 and shown.stdout.strip() == f"crm {__version__}"
    debugged = run_crm("--debug", "validate", str(tmp_path / "missing.xlsx"))
    assert debugged.returncode == 2  # the error's own code, with the traceback before its line
    assert "Traceback" in debugged.stderr and debugged.stderr.strip().endswith("(quote it if it has spaces)")
    assert "--debug" in run_crm("--help").stdout


def test_report_takes_today(tmp_path):
    from toolkit.demo import make_demo

    make_demo(tmp_path, date(2026, 11, 26))
    args = ["report", "-w", str(tmp_path), "--month", "2026-10", "--json"]
    early = json.loads(runner.invoke(app, [*args, "--today", "2026-11-01"]).stdout)
    late = json.loads(runner.invoke(app, [*args, "--today", "2027-06-01"]).stdout)
    assert early["month"] == late["month"] == "2026-10"
    # the data problems are the ones open on the day the report is made (a later visit date is no longer "future")
    assert early["kpis"] != late["kpis"]


def test_every_message_with_brackets_prints_as_written(capsys):
    """Each catalogue text holding a bracketed word ([mail], [mail.owner_managers] …) comes out
    of the consoles exactly as written: markup never eats it, and no escape backslash shows."""
    import re

    from toolkit.console import err_console, out_console
    from toolkit.i18n import LABELS

    texts = {t for table in LABELS.values() for t in table.values() if re.search(r"\[[a-z][a-z._]*\]", t)}
    assert len(texts) >= 4
    for text in sorted(texts):
        out_console.print(text)
        err_console.print(text)
        printed = capsys.readouterr()
        assert " ".join(printed.out.split()) == " ".join(text.split()), text
        assert " ".join(printed.err.split()) == " ".join(text.split()), text


def test_commands_print_bracketed_paths_and_values_whole(tmp_path):
    """A workspace in a folder named with brackets: every line naming it shows it whole."""
    folder = tmp_path / "客户[mail]" / "demo [ledgers]"
    demo = run_crm("demo", str(folder), "--today", "2026-11-26")
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.count(str(folder)) >= 8 and "\\[" not in demo.stdout
    for args in (["validate"], ["classify"], ["plan"], ["report", "--month", "2026-11"], ["run"]):
        done = run_crm(*args, "-w", str(folder), "--today", "2026-11-26")
        assert done.returncode == 0, (args, done.stderr)
        assert str(folder) in done.stdout and "\\[" not in done.stdout, (args, done.stdout)
    install = run_crm("schedule", "install", "-w", str(folder))  # prints what it would install
    assert install.returncode == 0, install.stderr
    assert str(folder / "logs") in install.stdout and "\\[" not in install.stdout


def test_one_shot_commands_run_without_the_cycle_collector_the_service_with_it(monkeypatch):
    """`crm validate`, `crm run` and `crm schedule run --once` are short processes: the cycle
    collector is off; the scheduler's service (`crm schedule run`) runs for days and keeps it."""
    import gc
    import sys

    import toolkit.cli as cli

    seen = {}
    monkeypatch.setattr(cli, "run_app", lambda app: seen.setdefault("enabled", gc.isenabled()))
    try:
        for argv, enabled in (
            (["crm", "validate", "x.xlsx"], False),
            (["crm", "run", "validate", "--ledger", "x.xlsx"], False),
            (["crm", "schedule", "run", "--once"], False),
            (["crm", "schedule", "run"], True),
            (["crm", "schedule", "status"], False),
        ):
            gc.enable()
            seen.clear()
            monkeypatch.setattr(sys, "argv", argv)
            cli.main()
            assert seen["enabled"] is enabled, argv
    finally:
        gc.enable()

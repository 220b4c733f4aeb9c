"""`crm run`: the daily run reads the ledger once, hands the same facts to every job, and
writes what the separate commands write; one summary or one JSON object; the timetable's
due jobs by default; the scheduler runs it like any job."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import run_crm
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from toolkit import classify, plan, report, validate
from toolkit.cli import app
from toolkit.config import load_settings
from toolkit.demo import DEMO_CONFIG, make_demo
from toolkit.pipeline import due_today, run

runner = CliRunner()
TODAY = date(2026, 11, 26)


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "ws"
    make_demo(folder, TODAY)
    with (folder / "crm.toml").open("a", encoding="utf-8") as config:  # the demo's mail and timetable
        config.write(DEMO_CONFIG.format(owner_managers=""))
    return folder


def _copy(template: Path, target: Path) -> Path:
    return Path(shutil.copytree(template, target))


def _cells(path: Path, workspace: Path) -> dict[str, list[list]]:
    """Every cell of every sheet; the workspace's folder and the time of writing made neutral."""
    book = CalamineWorkbook.from_path(str(path))

    def neutral(value):
        if isinstance(value, str):
            return value.replace(str(workspace), "WS")
        if isinstance(value, datetime) and value.date() == date.today():
            return "written at"
        return value

    return {
        name: [[neutral(v) for v in row] for row in book.get_sheet_by_name(name).to_python()]
        for name in book.sheet_names
    }


def test_run_writes_what_the_separate_commands_write(demo_template, tmp_path):
    one, apart = _copy(demo_template, tmp_path / "one"), _copy(demo_template, tmp_path / "apart")
    settings_one, settings_apart = load_settings(one), load_settings(apart)
    ran = run(["validate", "classify", "plan", "report"], settings_one, today=TODAY, out_dir=one / "o")
    ledger = settings_apart.ledgers["main"]
    separate = [
        *validate(ledger, settings_apart, today=TODAY, out_dir=apart / "o").outputs,
        *classify(ledger, settings_apart, today=TODAY, out_dir=apart / "o").outputs,
        *plan(ledger, settings_apart, today=TODAY, out_dir=apart / "o").outputs,
        *report(ledger, settings_apart, month=date(2026, 10, 1), today=TODAY, out_dir=apart / "o").outputs,
    ]
    assert sorted(p.name for p in ran.outputs) == sorted(p.name for p in separate)
    by_name = {p.name: p for p in separate}
    workbooks = [p for p in ran.outputs if p.suffix == ".xlsx"]
    assert len(workbooks) == 4
    for path in workbooks:
        assert _cells(path, one) == _cells(by_name[path.name], apart), path.name  # every sheet, every cell
    assert (
        ran.results["classify"].counts
        == classify(ledger, settings_apart, today=TODAY, write=False, record=False).counts
    )


def test_run_reads_the_ledger_once(demo_template, tmp_path, monkeypatch):
    """A spy on the reader (not a mock: the real reader runs), counting the reads of one run."""
    import toolkit.ledger.reader as reader

    ws = _copy(demo_template, tmp_path / "ws")
    calls = []
    real = reader.read_ledger

    def counted(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(reader, "read_ledger", counted)
    monkeypatch.setattr("toolkit.ledger.read_ledger", counted)
    result = run(["validate", "classify", "plan", "report", "remind:quality"], load_settings(ws), today=TODAY)
    assert len(calls) == 1
    assert set(result.results) == {"validate", "classify", "plan", "report", "remind:quality"}
    assert result.results["validate"].ledger is result.results["plan"].ledger  # the same frames


def test_crm_run_json_and_summary(demo_template, tmp_path):
    ws = _copy(demo_template, tmp_path / "ws")
    done = runner.invoke(app, ["run", "validate", "plan", "--workspace", str(ws), "--today", "2026-11-26", "--json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)  # one JSON object, nothing else
    assert data["job"] == "run" and data["jobs"] == ["validate", "plan"]
    assert data["results"]["validate"]["customers"] == 300 and data["results"]["plan"]["visits"]
    assert all(Path(p).exists() for p in data["outputs"])
    text = runner.invoke(app, ["run", "validate", "--workspace", str(ws), "--today", "2026-11-26"])
    assert text.exit_code == 0 and "- validate: 错误" in text.stdout


def test_run_keeps_what_summarize_makes_of_each_job_and_no_job_object(demo_template, tmp_path):
    """Each job's result goes to summarize as soon as it is done, and only what that returns is
    kept (crm run keeps a summary: one job's objects are gone before the next starts)."""
    import gc
    import weakref

    from toolkit.pipeline import JobSummary
    from toolkit.validate import ValidationResult

    ws = _copy(demo_template, tmp_path / "ws")
    seen: list[weakref.ref] = []

    def summarize(step, result):
        seen.append(weakref.ref(result))
        return JobSummary(result.as_json(5), step.upper(), list(result.outputs))

    ran = run(["validate", "plan"], load_settings(ws), today=TODAY, summarize=summarize)
    assert [s.line for s in ran.results.values()] == ["VALIDATE", "PLAN"]
    assert ran.as_json()["results"]["validate"]["customers"] == 300
    assert len(ran.as_json()["results"]["validate"]["issues"]) == 5
    assert {p.suffix for p in ran.outputs} >= {".xlsx", ".ics"}
    gc.collect()
    assert all(ref() is None for ref in seen)  # the results themselves are gone
    assert not [o for o in gc.get_objects() if isinstance(o, ValidationResult)]


def test_run_defaults_to_what_the_timetable_has_due(demo_template):
    settings = load_settings(demo_template)
    monday, saturday = date(2026, 11, 30), date(2026, 11, 28)
    assert due_today(settings, monday)[:4] == ["validate", "classify", "plan", "remind:visits"]
    assert "remind:visits" not in due_today(settings, date(2026, 12, 1))  # the visit reminder is Mondays only
    assert due_today(settings, saturday) == []
    done = runner.invoke(app, ["run", "--workspace", str(demo_template), "--today", "2026-11-28"])
    assert done.exit_code == 0 and "没有要运行的任务" in done.stdout


def test_run_refuses_an_unknown_job_with_one_line(demo_template):
    done = run_crm("run", "validat", "--workspace", str(demo_template), "--today", "2026-11-26")
    assert done.returncode == 2
    assert "crm run cannot run 'validat'" in done.stderr and "Traceback" not in done.stderr


def test_the_public_functions_stay_functions_whatever_is_imported_later():
    import toolkit
    import toolkit.classify.report  # noqa: F401
    import toolkit.remind.care  # noqa: F401
    from toolkit import classify as classify_function
    from toolkit import remind as remind_function

    assert callable(remind_function) and remind_function.__module__ == "toolkit.pipeline"
    assert callable(classify_function) and callable(toolkit.plan) and callable(toolkit.report)


def test_json_lists_are_cut_unless_json_all(demo_template, tmp_path, monkeypatch):
    """--json carries the first JSON_ROWS entries of each long list and counts the rest under
    truncated; --json-all carries every one (a 100k-row ledger would print 100k objects)."""
    ws = _copy(demo_template, tmp_path / "ws")
    monkeypatch.setattr("toolkit.cli.JSON_ROWS", 10)
    args = ["run", "validate", "classify", "plan", "--workspace", str(ws), "--today", "2026-11-26"]
    cut = json.loads(runner.invoke(app, [*args, "--json"]).stdout)["results"]
    whole = json.loads(runner.invoke(app, [*args, "--json-all"]).stdout)["results"]
    assert len(whole["classify"]["customers"]) == 300 and "truncated" not in whole["classify"]
    assert cut["classify"]["customers"] == whole["classify"]["customers"][:10]
    assert cut["classify"]["truncated"]["customers"] == 300
    issues = whole["validate"]["issues"]
    assert len(issues) > 10 and cut["validate"]["issues"] == issues[:10]
    assert cut["validate"]["truncated"] == {"issues": len(issues)}
    assert cut["validate"]["errors"] == whole["validate"]["errors"]  # the counts are never cut
    assert cut["plan"]["visits"] == whole["plan"]["visits"][:10]
    one = json.loads(runner.invoke(app, ["classify", "--workspace", str(ws), "--today", "2026-11-26", "--json"]).stdout)
    assert len(one["customers"]) == 10 and one["truncated"]["customers"] == 300


def test_the_schedulers_summary_counts_whole_lists_not_the_cut_ones(demo_template, tmp_path, monkeypatch):
    from toolkit.schedule.runner import summarize

    ws = _copy(demo_template, tmp_path / "ws")
    monkeypatch.setattr("toolkit.cli.JSON_ROWS", 3)
    args = ["run", "validate", "plan", "--workspace", str(ws), "--today", "2026-11-26"]
    cut = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    whole = json.loads(runner.invoke(app, [*args, "--json-all"]).stdout)
    assert cut["results"]["plan"]["truncated"]["visits"] == len(whole["results"]["plan"]["visits"]) > 3
    assert summarize(cut, "zh") == summarize(whole, "zh")
    assert f"拜访 {len(whole['results']['plan']['visits'])}" in summarize(cut, "zh")

"""``crm schedule run | status | install``: thin commands over ``toolkit.schedule``."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table as RichTable
from rich.text import Text

from ..config import find_workspace
from ..console import JsonOpt as _JsonOpt
from ..console import _print_json
from ..console import err_console as _err
from ..console import out_console as _out
from ..errors import InputError
from ..i18n import label
from .log import LOG_NAME

if TYPE_CHECKING:
    from .runner import RunRecord
    from .service import Scheduler

# the service and the installer are imported by the commands that use them: every other crm
# command builds this sub-app too, and should not load the scheduler to do so

schedule_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Run the jobs by themselves on the workspace's timetable (the schedule.jobs entries of crm.toml).",
)

_WorkspaceOpt = typer.Option(
    None, "--workspace", "-w", help="The workspace whose timetable runs (default: the current folder)."
)
_LangOpt = typer.Option(None, "--lang", help="Language of the table and the log: zh (default) or en.")
_NowOpt = typer.Option(
    None, "--now", help="The clock for this run, YYYY-MM-DDTHH:MM (default: the PC's clock), for tests and replays."
)


@schedule_app.command("run")
def run_command(
    workspace: Path | None = _WorkspaceOpt,
    once: bool = typer.Option(
        False, "--once", help="One pass (what is due now and what was missed), then exit: for Task Scheduler or cron."
    ),
    now: str | None = _NowOpt,
    lang: str | None = _LangOpt,
    as_json: bool = _JsonOpt,
) -> None:
    """Run the timetable: catch up the runs missed while the PC was off, then (without --once)
    keep running until Ctrl-C, which lets the running job finish first."""
    from .service import run_once, serve, stop_on_signals

    _streams_for_pythonw()
    sched = _scheduler(workspace, now, lang)
    lang_ = sched.lang
    if not as_json:
        sched.on_run = lambda record: _print_run(record, lang_)
    try:
        with stop_on_signals() as stop:
            if once:
                result = run_once(sched, stop)
            else:
                if not as_json:
                    _err.print(label("schedule.serving", lang_, count=len(sched.timetable)))
                result = serve(sched, stop)
    finally:
        sched.close()
    if as_json:
        _print_json(result.as_json())
        return
    if not result.ran:
        _out.print(label("schedule.nothing_due", lang_))
    else:
        failed = sum(r.outcome != "ok" for r in result.ran)
        _out.print(label("schedule.ran", lang_, count=len(result.ran), failed=failed))


@schedule_app.command("status")
def status_command(
    workspace: Path | None = _WorkspaceOpt,
    now: str | None = _NowOpt,
    lang: str | None = _LangOpt,
    as_json: bool = _JsonOpt,
) -> None:
    """Each timetable entry's last run, its outcome and its next run; whether a scheduler runs now."""
    from .service import status

    sched = _scheduler(workspace, now, lang)
    try:
        jobs, holder = status(sched, sched.clock())
    finally:
        sched.close()
    if as_json:
        _print_json(
            {
                "job": "schedule status",
                "jobs": [j.as_json() for j in jobs],
                "running": None if holder is None else asdict(holder),
            }
        )
        return
    lang_ = sched.lang
    table = RichTable(show_header=True, header_style="bold")
    for key in ("name", "last_run", "outcome", "next_run", "summary"):
        wraps = key in ("name", "summary")
        table.add_column(label("schedule.col." + key, lang_), no_wrap=not wraps, ratio=1 if wraps else None)
    for job in jobs:
        last = job.last
        outcome = label("schedule.outcome." + last.outcome, lang_) if last else label("schedule.never", lang_)
        colour = {"ok": "green", "failed": "red", "interrupted": "yellow"}.get(last.outcome if last else "", "")
        table.add_row(
            Text.assemble(job.entry.name, "\n", (f"{job.entry.job} · {job.entry.when.text}", "dim")),
            last.started.strftime("%Y-%m-%d %H:%M") if last else "—",
            Text(outcome, style=colour),
            job.next_run.strftime("%Y-%m-%d %H:%M") if job.next_run else "—",
            last.summary if last else "",
        )
    _out.print(table)
    pending = sum(len(j.pending) for j in jobs)
    if pending:
        _out.print(label("schedule.pending", lang_, count=pending))
    _out.print(
        label("schedule.running_now", lang_, who=holder.describe()) if holder else label("schedule.not_running", lang_)
    )


@schedule_app.command("install")
def install_command(
    workspace: Path | None = _WorkspaceOpt,
    apply: bool = typer.Option(
        False, "--apply", help="Create the Windows task / install the crontab lines (default: only print them)."
    ),
    lang: str | None = _LangOpt,
    as_json: bool = _JsonOpt,
) -> None:
    """Print (and with --apply create) what starts `crm schedule run --once` at log-on and every
    hour: a Task Scheduler task on Windows, crontab lines or a systemd user timer elsewhere."""
    from .install import apply_install, plan_install

    sched = _scheduler(workspace, None, lang)  # checks the timetable before anything is installed
    sched.close()
    folder = sched.workspace.resolve()
    plan = plan_install(folder)
    if apply:
        apply_install(plan, folder)
    if as_json:
        _print_json(plan.as_json())
        return
    lang_ = sched.lang
    if plan.platform == "windows":
        _out.print(label("schedule.install.windows", lang_, task=plan.task))
        _out.print(f"  {plan.command}")
        if not apply:
            from .install import write_task_xml

            write_task_xml(plan, folder)  # so the command below can be run as printed
            _out.print(f"  {plan.schtasks}")
    else:
        _out.print(label("schedule.install.cron", lang_))
        for line in plan.cron:
            _out.print(f"  {line}")
        for name, text in plan.systemd.items():
            if name.endswith(".service"):
                _out.print(label("schedule.install.systemd", lang_))
            _out.print(f"[bold]{escape(name)}[/]", markup=True)
            _out.print(text)
        if plan.systemd:
            from .install import systemd_enable

            _out.print(f"  {systemd_enable(str(folder))}")
    if apply:
        _out.print(label("schedule.install.applied", lang_))
        for line in plan.applied:
            _out.print(f"  {line}")
    else:
        _out.print(label("schedule.install.apply", lang_))
    log = str(folder / LOG_NAME)
    _out.print(label("schedule.install.check", lang_, workspace=str(folder), log=log))


def _scheduler(workspace: Path | None, now: str | None, lang: str | None) -> Scheduler:
    folder = find_workspace(workspace)
    if folder is None:
        raise InputError(
            "crm schedule needs a workspace (its timetable lives in crm.toml)",
            hint="give --workspace DIR, or create one with: crm init DIR",
        )
    from .service import prepare, system_clock

    return prepare(folder, system_clock(_moment(now)), lang=lang)


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"--now '{value}' is not a date and time", hint="write it as 2026-11-26T08:00") from None


def _print_run(record: RunRecord, lang: str) -> None:
    from .service import describe_run

    colour = "green" if record.outcome == "ok" else "red" if record.outcome == "failed" else "yellow"
    _out.print(f"[{colour}]●[/] {escape(describe_run(record, lang))}", markup=True)


def _streams_for_pythonw() -> None:
    """Under pythonw.exe (the hourly Windows task) there is no console: write into nothing."""
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115

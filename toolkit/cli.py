"""The ``crm`` command: one thin sub-command per job over the library functions."""

from __future__ import annotations

import gc
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table as RichTable
from rich.text import Text

from .config import Settings
from .console import (
    JsonAllOpt,
    JsonOpt,
    LangOpt,
    OutOpt,
    TodayOpt,
    WorkspaceOpt,
    _print_json,
    _progress,
    _settings,
    _steps,
    _today,
    err_console,
    out_console,
    run_app,
)
from .errors import EXIT_FINDINGS, InputError
from .findings import CODES
from .i18n import joined, label
from .jsonrows import JSON_ROWS

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help as written: [mail] stays [mail], no <bool> after a flag, paragraphs rewrapped
    help="客户关系台账工具 · Customer-ledger jobs over the Excel ledgers your team already keeps.",
)


def _show_version(value: bool) -> None:
    if value:
        from . import __version__

        out_console.print(f"crm {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_show_version, help="Print the version and exit."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="On an error, also print the traceback (the exit code stays the same)."
    ),
) -> None:
    """客户关系台账工具 · Customer-ledger jobs over the Excel ledgers your team already keeps."""


WriteBackOpt = typer.Option(
    False, "--write-back", help="Also write the results into the ledger's customer sheet (a backup is made first)."
)
DryRunOpt = typer.Option(False, "--dry-run", help="With --write-back: list the cells that would change, write nothing.")
LiveOpt = typer.Option(
    False, "--live", help="With --write-back: write into the ledger open in Excel (Windows/macOS, the excel extra)."
)


@app.command()
def init(
    folder: Path = typer.Argument(..., help="The folder to create the workspace in."),
    company: str = typer.Option("示例公司", help="Company name shown on reports."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing config and rules workbook."),
    rules_only: bool = typer.Option(
        False,
        "--rules-only",
        help="Only write the shipped rules workbook (the policies' defaults): as rules.xlsx where there is none, "
        "else beside it as rules.default.xlsx, to copy a lost sheet or row back from. Never overwrites rules.xlsx.",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Create a workspace: crm.toml, rules.xlsx, an empty ledger with the standard sheets, out/."""
    from .workspace import LEDGER_PATH, init_workspace, write_default_rules

    if rules_only:
        written = write_default_rules(folder)
        if as_json:
            _print_json({"job": "init", "workspace": str(folder), "outputs": [str(written)]})
        else:
            out_console.print(f"{label('cli.written', 'en')} {written}")
        return
    folder = init_workspace(folder, company=company, force=force)
    files = [folder / "crm.toml", folder / "rules.xlsx", folder / LEDGER_PATH, folder / "out"]
    if as_json:
        _print_json({"job": "init", "workspace": str(folder), "outputs": [str(f) for f in files]})
        return
    out_console.print(f"Workspace created in [bold]{escape(str(folder))}[/]:", markup=True)
    for f in files:
        out_console.print(f"  {str(f)}")
    out_console.print(
        f"Next: put your ledger path in crm.toml under {escape('[ledgers]')}, then run "
        f"[bold]crm validate --workspace {escape(str(folder))}[/]",
        markup=True,
    )


@app.command()
def demo(
    folder: Path = typer.Argument(Path("crm-demo"), help="Where to create the demo workspace."),
    customers: int = typer.Option(300, min=100, help="How many customers to generate."),
    today: str | None = TodayOpt,
    lang: str | None = LangOpt,
    force: bool = typer.Option(False, "--force", help="Replace the workspace in a folder that is not empty."),
    as_json: bool = JsonOpt,
) -> None:
    """Create a demo workspace with a generated ledger (with planted mistakes) and run every job on
    it: validate, classify, plan, report, write-back, every reminder and a survey (into the
    outbox/ folder), and the timetable's status."""
    from .demo import run_demo

    as_of = _today(today)
    with _progress("…", as_json) as status:
        run = run_demo(folder, as_of, customers=customers, force=force, lang=lang, progress=status)
    results = run.results
    if as_json:
        _print_json(
            {
                "job": "demo",
                "workspace": str(run.folder),
                "ledger": str(run.ledger),
                "planted": len(run.planted),
                "jobs": {name: result.as_json() for name, result in results.items()},
                "outputs": [str(p) for p in run.outputs],
            }
        )
        return
    checked, classified, planned = results["validate"], results["classify"], results["plan"]
    reported, written = results["report"], results["write_back"]
    risks = sum(len(c.tags) for c in classified.customers)
    show = out_console.print
    show(
        f"Demo workspace: [bold]{escape(str(folder))}[/]  ({len(run.planted)} mistakes planted in the ledger)",
        markup=True,
    )
    show(f"  ledger      {str(run.ledger)}")
    show(f"  validate →  {str(checked.outputs[0])}  ({checked.errors} errors, {checked.warnings} warnings)")
    counts = ", ".join(f"{k} {n}" for k, n in classified.counts.items())
    show(f"  classify →  {str(classified.outputs[0])}  ({counts}; {risks} risk tags)")
    show(
        f"  plan     →  {str(planned.outputs[0])}  ({len(planned.planned)} visits in 3 months, "
        f"{len(planned.overdue)} overdue; an .ics per visitor beside it)"
    )
    show(f"  report   →  {str(reported.outputs[0])}  ({reported.month:%Y-%m})")
    show(
        f"  write-back → {str(run.ledger)}  (columns {'、'.join(written.columns)}, bad cells marked; "
        f"backup {str(written.backup)})"
    )
    sent = {name.split()[1]: r.delivery.sent for name, r in results.items() if name.startswith("remind ")}
    per_kind = ", ".join(f"{k} {n}" for k, n in sent.items())
    show(f"  remind   →  {str(run.folder / 'outbox')}  ({per_kind} messages)")
    created, collected = results["survey create"], results["survey collect"]
    survey = results["survey results"]
    show(
        f"  survey   →  {str(created.folder)}  ({len(created.created)} forms, "
        f"{results['survey send'].delivery.sent} e-mailed, "
        f"{len(collected.accepted)} returned and collected; results {str(survey.outputs[0])})"
    )
    jobs = results["schedule status"].jobs
    first = min((j for j in jobs if j.next_run), key=lambda j: j.next_run, default=None)
    upcoming = f"; next: {first.entry.name} at {first.next_run:%Y-%m-%d %H:%M}" if first else ""
    show(f"  schedule →  {len(jobs)} jobs in crm.toml{upcoming}  (crm schedule status -w {str(folder)})")
    show(f"Try: crm validate --workspace {str(folder)}")


@app.command("validate")
def validate_command(
    ledger: Path | None = typer.Argument(
        None, help="The ledger (.xlsx/.xlsm/.xls/.csv). Default: the workspace's main ledger."
    ),
    workspace: Path | None = WorkspaceOpt,
    out: Path | None = OutOpt,
    lang: str | None = LangOpt,
    today: str | None = TodayOpt,
    password: str | None = typer.Option(
        None, "--password", help="Password of a protected workbook (or set CRM_LEDGER_PASSWORD)."
    ),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when validation finds errors."),
    split: bool = typer.Option(
        False, "--split", help="Also write one workbook per owner with only the findings on their customers."
    ),
    write_back: bool = WriteBackOpt,
    mark: bool = typer.Option(
        False, "--mark", help="With --write-back: fill the bad cells light red (they clear when fixed)."
    ),
    dry_run: bool = DryRunOpt,
    live: bool = LiveOpt,
    as_json: bool = JsonOpt,
    json_all: bool = JsonAllOpt,
) -> None:
    """Check a ledger: required fields, formats, allowed values, duplicates, unknown customers,
    overdue contact. Writes a validation workbook; with --write-back also a 校验结果 column into
    the ledger."""
    as_json, limit = as_json or json_all, None if json_all else JSON_ROWS
    from .validate import validate
    from .writeback import stat_for_write_back, validate_columns, validate_highlights, write_job_result

    settings = _settings(workspace, lang=lang)
    ledger = _ledger_argument(ledger, settings)
    if mark and not write_back:
        raise InputError("--mark goes with --write-back", hint="add --write-back")
    stat = stat_for_write_back(ledger, write_back, dry_run, live)
    with _progress(f"{label('cli.read', settings.lang)} {ledger}…", as_json):
        result = validate(ledger, settings, today=_today(today), out_dir=out, password=password, split=split)
    written = None
    if stat:
        marks = validate_highlights(result) if mark else None
        written = write_job_result(ledger, result, validate_columns, settings, out, dry_run, live, stat, marks)
    if as_json:
        _print_json({**result.as_json(limit), **({"write_back": written.as_json()} if written else {})})
    else:
        _print_validation(result, settings.lang)
        _print_write_back(written, settings.lang)
    if strict and result.errors:
        raise typer.Exit(EXIT_FINDINGS)


@app.command("classify")
def classify_command(
    ledger: Path | None = typer.Argument(None, help="The ledger. Default: the workspace's main ledger."),
    policy: str | None = typer.Option(
        None, "--policy", help="abcd, sales or share, for this run only (default: the workspace's, else abcd)."
    ),
    workspace: Path | None = WorkspaceOpt,
    out: Path | None = OutOpt,
    lang: str | None = LangOpt,
    today: str | None = TodayOpt,
    password: str | None = typer.Option(None, "--password", help="Password of a protected workbook."),
    write_back: bool = WriteBackOpt,
    dry_run: bool = DryRunOpt,
    live: bool = LiveOpt,
    split: bool = typer.Option(
        False, "--split", help="Also write one workbook per owner with only their own customers."
    ),
    as_json: bool = JsonOpt,
    json_all: bool = JsonAllOpt,
) -> None:
    """Put each customer in a class under a policy, with the reason spelled out; tag risks; list
    what changed since the last run. Writes a classification workbook; with --write-back also
    客户分类(系统), 分类依据 and 风险等级 columns into the ledger."""
    as_json, limit = as_json or json_all, None if json_all else JSON_ROWS
    from .classify import classify
    from .writeback import classify_columns, stat_for_write_back, write_job_result

    settings = _settings(workspace, lang=lang)
    ledger = _ledger_argument(ledger, settings)
    as_of = _today(today)
    now = datetime.now() if today is None else None
    stat = stat_for_write_back(ledger, write_back, dry_run, live)
    with _progress(f"{label('cli.read', settings.lang)} {ledger}…", as_json):
        result = classify(
            ledger, settings, today=as_of, now=now, policy=policy, out_dir=out, password=password, split=split
        )
    written = write_job_result(ledger, result, classify_columns, settings, out, dry_run, live, stat) if stat else None
    if as_json:
        _print_json({**result.as_json(limit), **({"write_back": written.as_json()} if written else {})})
        return
    _print_classification(result, settings.lang)
    _print_write_back(written, settings.lang)


@app.command("plan")
def plan_command(
    ledger: Path | None = typer.Argument(None, help="The ledger. Default: the workspace's main ledger."),
    start: str | None = typer.Option(None, "--start", help="First day of the plan, YYYY-MM-DD (default: today)."),
    months: int | None = typer.Option(None, "--months", min=1, max=36, help="Plan this many months (default 1)."),
    weeks: int | None = typer.Option(None, "--weeks", min=1, max=156, help="Or this many weeks."),
    split: bool = typer.Option(False, "--split", help="Also write one workbook per owner with only their customers."),
    workspace: Path | None = WorkspaceOpt,
    out: Path | None = OutOpt,
    lang: str | None = LangOpt,
    today: str | None = TodayOpt,
    password: str | None = typer.Option(None, "--password", help="Password of a protected workbook."),
    write_back: bool = WriteBackOpt,
    dry_run: bool = DryRunOpt,
    live: bool = LiveOpt,
    as_json: bool = JsonOpt,
    json_all: bool = JsonAllOpt,
) -> None:
    """Plan visits on Chinese working days from class cadences and the visit history, within each
    owner's capacity. Writes the schedule workbook and an .ics calendar per owner; with
    --write-back also a 下次拜访 column into the ledger."""
    as_json, limit = as_json or json_all, None if json_all else JSON_ROWS
    from .plan import plan
    from .writeback import plan_columns, stat_for_write_back, write_job_result

    if months and weeks:
        raise InputError("give --months or --weeks, not both")
    settings = _settings(workspace, lang=lang)
    ledger = _ledger_argument(ledger, settings)
    as_of = _today(today)
    first = _today(start, "--start") if start else None
    stat = stat_for_write_back(ledger, write_back, dry_run, live)
    with _progress(f"{label('cli.read', settings.lang)} {ledger}…", as_json):
        result = plan(
            ledger,
            settings,
            today=as_of,
            start=first,
            months=months,
            weeks=weeks,
            out_dir=out,
            split=split,
            password=password,
        )
    written = write_job_result(ledger, result, plan_columns, settings, out, dry_run, live, stat) if stat else None
    if as_json:
        _print_json({**result.as_json(limit), **({"write_back": written.as_json()} if written else {})})
        return
    lang_ = settings.lang
    end = result.end - timedelta(days=1)
    out_console.print(
        label(
            "plan.summary",
            lang_,
            planned=len(result.planned),
            start=result.start.isoformat(),
            end=end.isoformat(),
            overdue=len(result.overdue),
            overflow=len(result.overflow),
        )
    )
    for note in result.notes:
        out_console.print(f"- {note}")
    for path in result.outputs:
        out_console.print(f"{label('cli.written', lang_)} {str(path)}")
    _print_write_back(written, lang_)


@app.command("report")
def report_command(
    ledger: Path | None = typer.Argument(None, help="The ledger. Default: the workspace's main ledger."),
    month: str = typer.Option(..., "--month", help="The month to report, YYYY-MM."),
    group: Path | None = typer.Option(None, "--group", help="A folder of subsidiary ledgers: one group workbook."),
    workspace: Path | None = WorkspaceOpt,
    out: Path | None = OutOpt,
    lang: str | None = LangOpt,
    today: str | None = typer.Option(
        None, "--today", help="The day the report is made, YYYY-MM-DD: the data problems open then (default: today)."
    ),
    password: str | None = typer.Option(None, "--password", help="Password of a protected workbook."),
    split: bool = typer.Option(
        False, "--split", help="Also write one workbook per owner with only their own customers' figures and rows."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """The monthly status workbook (概览, 重点客户, 风险预警, 拜访, 投诉, 严重投诉, 投诉考核, 数据质量),
    or with --group the roll-up of every subsidiary's ledger in a folder."""
    from .report import parse_month, report, report_group

    settings = _settings(workspace, lang=lang)
    wanted = parse_month(month)
    made = _today(today)
    lang_ = settings.lang
    if group is not None:
        with _progress(f"{label('cli.read', lang_)} {group}…", as_json):
            grouped = report_group(group, settings, month=wanted, out_dir=out, password=password, today=made)
        if as_json:
            _print_json(grouped.as_json())
            return
        for r in grouped.reports:
            out_console.print(f"{r.subsidiary}: {len(r.classified.customers)} {label('cli.customers', lang_)}")
        for name, why in grouped.failures:
            out_console.print(f"[red]{escape(name)}[/]: {escape(why)}", markup=True)
        for path in grouped.outputs:
            out_console.print(f"{label('cli.written', lang_)} {str(path)}")
        return
    ledger = _ledger_argument(ledger, settings)
    with _progress(f"{label('cli.read', lang_)} {ledger}…", as_json):
        result = report(ledger, settings, month=wanted, out_dir=out, password=password, today=made, split=split)
    if as_json:
        _print_json(result.as_json())
        return
    kpis = result.kpis()
    shown = [
        ("kpi.customers", kpis["customers"]),
        ("kpi.volume", kpis["volume"]),
        ("kpi.visit_rate", kpis["visit_rate"]),
        ("kpi.on_time_rate", kpis["on_time_rate"]),
        ("kpi.resolved_rate", kpis["resolved_rate"]),
    ]
    for key, value in shown:
        text = (
            label("report.no_data", lang_)
            if value is None
            else (
                f"{value:.1%}"
                if key.endswith("rate")
                else f"{value / 1e4:,.1f}"
                if key == "kpi.volume"
                else f"{value:,}"
            )
        )
        out_console.print(f"{label(key, lang_)}: {text}")
    for missing in result.missing:
        out_console.print(f"- {label('missing.' + missing, lang_)}")
    for path in result.outputs:
        out_console.print(f"{label('cli.written', lang_)} {str(path)}")


def _print_write_back(written, lang: str, shown: int = 20) -> None:
    if written is None:
        return
    columns = joined((f"{header} ({letter})" for header, letter in written.columns.items()), lang)
    if written.dry_run:
        out_console.print(label("writeback.dry_run", lang, cells=len(written.changes), columns=columns))
        for change in written.changes[:shown]:
            out_console.print(f"  {change.sheet}!{change.cell}: {change.old or '∅'} → {change.new or '∅'}")
        if len(written.changes) > shown:
            out_console.print(f"  … {label('writeback.more', lang, count=len(written.changes) - shown)}")
        return
    if written.written is None:
        out_console.print(label("writeback.unchanged", lang, columns=columns))
        return
    if not written.into_ledger:
        reason = label("writeback.open", lang, lock=written.lock_file) if written.lock_file else written.beside_reason
        note = label("writeback.beside_note", lang, reason=reason, path=str(written.written))
        err_console.print(note, soft_wrap=True)
        return
    out_console.print(
        label("writeback.done", lang, cells=len(written.changes), columns=columns, backup=str(written.backup))
    )


@app.command("remind")
def remind_command(
    kind: str | None = typer.Argument(None, help="visits, complaints, quality, care, report or owner-report."),
    ledger: Path | None = typer.Argument(None, help="The ledger. Default: the workspace's main ledger."),
    workspace: Path | None = WorkspaceOpt,
    out: Path | None = OutOpt,
    lang: str | None = LangOpt,
    today: str | None = typer.Option(
        None, "--today", help="The as-of date, YYYY-MM-DD, or a time, YYYY-MM-DDTHH:MM (default: now)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Build every message, send nothing, write a preview workbook."
    ),
    log: bool = typer.Option(False, "--log", help="Show what was sent to whom and when (of KIND, if given)."),
    resend_pending: bool = typer.Option(
        False, "--resend-pending", help="Send again the messages an interrupted run left uncertain."
    ),
    password: str | None = typer.Option(None, "--password", help="Password of a protected workbook."),
    as_json: bool = JsonOpt,
) -> None:
    """E-mail reminders, each sent at most once: visits due and overdue, complaints near or past
    24 h or their promised time, data problems in each owner's rows, care greetings, the monthly
    report to managers and each owner's own report to them.
    Delivered to the outbox folder or over SMTP, as [mail] in crm.toml says."""
    from .mail.log import sent_log
    from .pipeline import remind
    from .remind import KINDS, describe

    settings = _settings(workspace, lang=lang)
    lang_ = settings.lang
    if kind is not None and kind not in KINDS:
        raise InputError(f"unknown reminder kind '{kind}'", hint=f"use one of: {', '.join(KINDS)}")
    if log:
        records = sent_log(settings, kind=kind, out_dir=out)
        if as_json:
            _print_json({"job": "remind", "kind": kind, "log": [vars(r) for r in records]})
            return
        _print_sent_log(records, lang_)
        return
    if kind is None:
        raise InputError("which reminders?", hint=f"crm remind {'|'.join(KINDS)} (or crm remind --log)")
    if today and len(today) > 10:
        try:
            now = datetime.fromisoformat(today)
        except ValueError:
            raise InputError(f"--today '{today}' is not a date or time", hint="write YYYY-MM-DDTHH:MM") from None
    else:
        now = datetime.now() if today is None else datetime.combine(_today(today), datetime.min.time()).replace(hour=9)
    with _progress(f"{label('cli.read', lang_)}…", as_json):
        result = remind(
            kind,
            settings,
            today=now.date(),
            now=now,
            ledger=ledger,
            dry_run=dry_run,
            out_dir=out,
            password=password,
            resend_pending=resend_pending,
        )
    if as_json:
        _print_json(result.as_json())
    else:
        delivery = result.delivery
        out_console.print(describe(result, lang_))
        if delivery.sent:
            out_console.print(f"  {label('remind.backend.' + delivery.backend, lang_)}: {delivery.sent}")
        for failure in delivery.failed:
            out_console.print(f"  [red]✗[/] {escape(failure['recipient'])}: {escape(failure['error'])}", markup=True)
        for doubt in delivery.uncertain:
            out_console.print(
                f"  [yellow]?[/] {escape(doubt['recipient'])}: {escape(label('remind.uncertain', lang_))}", markup=True
            )
        if delivery.interrupted:
            out_console.print(
                f"  [red]{escape(label('remind.interrupted', lang_))}[/]: {escape(delivery.interrupted)}", markup=True
            )
        if result.problems:
            out_console.print(f"{label('remind.problems', lang_)}:")
            for problem in result.problems:
                out_console.print(f"  - {problem}")
        for path in result.as_json()["outputs"]:
            out_console.print(f"{label('cli.written', lang_)} {str(path)}")
    if result.delivery.interrupted:
        raise typer.Exit(1)


@app.command("run")
def run_command(
    jobs: list[str] | None = typer.Argument(
        None,
        help="Jobs to run over the ledger, in the order given: validate, classify, plan, report, remind "
        "(remind:visits … for one kind). Default: the ones the timetable has due that day.",
        show_default=False,
    ),
    ledger: Path | None = typer.Option(None, "--ledger", help="The ledger. Default: the workspace's main ledger."),
    month: str | None = typer.Option(None, "--month", help="The report's month, YYYY-MM (default: last month)."),
    workspace: Path | None = WorkspaceOpt,
    out: Path | None = OutOpt,
    lang: str | None = LangOpt,
    today: str | None = TodayOpt,
    dry_run: bool = typer.Option(False, "--dry-run", help="Reminders: build every message, send nothing."),
    password: str | None = typer.Option(None, "--password", help="Password of a protected workbook."),
    as_json: bool = JsonOpt,
    json_all: bool = JsonAllOpt,
) -> None:
    """The daily run: read the ledger once and run the jobs named over the same facts, writing
    what the separate commands write; one summary (or one JSON object) for all of them."""
    as_json, limit = as_json or json_all, None if json_all else JSON_ROWS
    from .pipeline import JobSummary, due_today, run
    from .report import parse_month

    settings = _settings(workspace, lang=lang)
    lang_ = settings.lang
    as_of = _today(today)
    wanted = list(jobs or []) or due_today(settings, as_of)
    if not wanted:
        if as_json:
            _print_json({"job": "run", "today": as_of.isoformat(), "jobs": [], "results": {}, "outputs": []})
        else:
            out_console.print(label("run.nothing_due", lang_, today=as_of.isoformat()))
        return
    from .pipeline import expand
    from .remind import KINDS

    ledger = _ledger_argument(ledger, settings)
    with _steps(label("run.progress", lang_), as_json, total=2 + len(expand(wanted, KINDS))) as step:
        result = run(
            wanted,
            settings,
            today=as_of,
            ledger=ledger,
            out_dir=out,
            month=parse_month(month) if month else None,
            password=password,
            dry_run=dry_run,
            now=datetime.now() if today is None else None,
            progress=step,
            summarize=lambda name, done: JobSummary(done.as_json(limit), _one_line(name, done, lang_), done.outputs),
        )
    if as_json:
        _print_json(result.as_json(limit))
        return
    out_console.print(f"[bold]{escape(str(result.ledger))}[/] {as_of.isoformat()}", markup=True)
    for name, summary in result.results.items():
        out_console.print(f"- {name}: {summary.line}")
    for path in result.outputs:
        out_console.print(f"{label('cli.written', lang_)} {str(path)}")


def _one_line(step: str, result: Any, lang: str) -> str:
    """What one job of ``crm run`` did, in a line."""
    if step == "validate":
        return label("run.validate", lang, errors=result.errors, warnings=result.warnings)
    if step == "classify":
        counts = joined((f"{k} {v}" for k, v in result.counts.items()), lang)
        return label("run.classify", lang, policy=result.policy, counts=counts or "-")
    if step == "plan":
        return label(
            "run.plan", lang, visits=len(result.planned), overdue=len(result.overdue), overflow=len(result.overflow)
        )
    if step == "report":
        return label("run.report", lang, month=f"{result.month:%Y-%m}")
    from .remind import describe

    return describe(result, lang)


def _print_sent_log(records, lang: str) -> None:
    """One line per message, oldest first: when, kind, period, status, recipients, subject."""
    from .mail.log import kind_label

    if not records:
        out_console.print(label("remind.no_log", lang))
        return
    for r in records:
        colour = {"sent": "green", "failed": "red"}.get(r.status, "yellow")
        status = label("mail.status." + r.status, lang) + (f" ({r.reply})" if r.status == "failed" else "")
        to = r.recipient + (f" (cc {r.cc})" if r.cc else "")
        out_console.print(
            f"{r.updated.replace('T', ' ')[:16]}  {kind_label(r.kind, lang)} {r.period}  "
            f"[{colour}]{escape(status)}[/]  {escape(to)}  {escape(r.subject)}",
            markup=True,
        )


def _ledger_argument(ledger: Path | None, settings: Settings) -> Path:
    if ledger is not None:
        return ledger
    found = settings.ledgers.get("main")
    if found is None:
        raise InputError(
            "no ledger given",
            hint="give the ledger's path, or name it under [ledgers] main = ... in the workspace's crm.toml",
        )
    return found


def _print_classification(result, lang: str) -> None:
    out_console.print(
        f"[bold]{escape(result.ledger.path)}[/]: {len(result.customers)} {label('cli.customers', lang)}, "
        f"{label('summary.policy', lang)} {escape(result.policy)}",
        markup=True,
    )
    table = RichTable(show_header=True, header_style="bold")
    for name in ("col.class", "col.count"):
        table.add_column(label(name, lang))
    for klass, n in result.counts.items():
        table.add_row(klass, str(n))
    unclassified = sum(1 for c in result.customers if not c.klass)
    if unclassified:
        table.add_row(label("summary.unclassified", lang), str(unclassified))
    out_console.print(table)
    levels = Counter(t.level for c in result.customers for t in c.tags)
    if levels:
        out_console.print(
            label("summary.risk_levels", lang)
            + ": "
            + ", ".join(
                f"{label('level.' + level, lang)} {levels[level]}"
                for level in ("severe", "warning", "info")
                if level in levels
            )
        )
    for note in result.notes:
        out_console.print(f"- {note}")
    if result.previous is None:
        out_console.print(label("summary.first_run", lang))
    else:
        kinds = Counter(c.kind for c in result.changes)
        out_console.print(
            f"{label('summary.previous', lang)} {result.previous.recorded}: "
            + (
                ", ".join(f"{label('change.' + k, lang)} {n}" for k, n in kinds.items())
                or label("summary.no_changes", lang)
            )
        )
    for path in result.outputs:
        out_console.print(f"{label('cli.written', lang)} {str(path)}")


def _print_validation(result, lang: str) -> None:
    ledger = result.ledger
    out_console.print(
        f"[bold]{escape(ledger.path)}[/]: {len(ledger.customer_sheet)} {label('cli.customers', lang)}; "
        + "; ".join(f"{escape(t.sheet)} ({len(t)})" for t in ledger.tables.values()),
        markup=True,
    )
    counts = Counter((f.code, f.severity) for f in result.findings)
    if counts:
        table = RichTable(show_header=True, header_style="bold")
        for name in ("col.rule", "col.severity", "col.count"):
            table.add_column(label(name, lang))
        for (code, severity), n in sorted(counts.items(), key=lambda x: (x[0][1], -x[1])):
            colour = "red" if severity == "error" else "yellow"
            table.add_row(CODES[code].title(lang), Text(label("severity." + severity, lang), style=colour), str(n))
        out_console.print(table)
    else:
        out_console.print(label("summary.none", lang))
    for path in result.outputs:
        out_console.print(f"{label('cli.written', lang)} {str(path)}")


from .survey.commands import survey_app  # noqa: E402  (a sub-app over toolkit.survey)

app.add_typer(survey_app, name="survey")

from .schedule.commands import schedule_app  # noqa: E402  (a sub-app over toolkit.schedule)

app.add_typer(schedule_app, name="schedule")


def main() -> None:
    """Entry point: run the app; a ToolkitError becomes one line on stderr and its exit code.

    A job's command is one short process that builds millions of objects (the ledger's cells,
    its findings) and frees them by reference counting: the cycle collector's full passes over
    them only cost time (a fifth of ``crm validate`` at 100k rows), so it is off. The scheduler's
    service (``crm schedule run`` without ``--once``) runs for days and keeps it on."""
    words = sys.argv[1:]
    if not ("schedule" in words and "run" in words and "--once" not in words):
        gc.disable()
    run_app(app)


__all__ = ["app", "main"]

"""The top of the toolkit, where jobs are composed: the daily run (``crm run``) that reads a
ledger once and hands the same facts to every job, and ``remind`` with the report job at hand.

    from toolkit.pipeline import run
    result = run(["validate", "classify", "plan"], settings, today=date(2026, 12, 1))
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from .config import Settings, load_settings
from .errors import InputError

# what ``crm run`` can run over one ledger (in the order they are named)
RUN_JOBS = ("validate", "classify", "plan", "report", "remind")


def remind(kind: str, settings: Settings | None = None, **options: Any) -> Any:
    """The ``kind`` reminders (``toolkit.remind.remind``), with the monthly report job for the
    ``report`` kind. Same arguments and result as the job."""
    from .remind import remind as remind_job
    from .report import report

    return remind_job(kind, settings, make_report=report, **options)


@dataclass
class JobSummary:
    """What the daily run keeps of a job once its outputs are written (``run(summarize=...)``):
    its JSON (cut as it was made) and its line of the summary, not its objects."""

    json: dict[str, Any]
    line: str
    outputs: list[Path]

    def as_json(self, limit: int | None = None) -> dict[str, Any]:
        return self.json


@dataclass
class RunResult:
    """What one daily run did: each job's result (the same objects the separate commands
    return), or what ``summarize`` made of it."""

    ledger: Path
    today: date
    jobs: list[str]
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def outputs(self) -> list[Path]:
        found: list[Path] = []
        for result in self.results.values():
            found.extend(getattr(result, "outputs", []) or [])
        return found

    def as_json(self, limit: int | None = None) -> dict[str, Any]:
        """The JSON of ``crm run``: each job's own, its lists cut at ``limit`` (``jsonrows``)."""
        return {
            "job": "run",
            "ledger": str(self.ledger),
            "today": self.today.isoformat(),
            "jobs": self.jobs,
            "results": {name: result.as_json(limit) for name, result in self.results.items()},
            "outputs": [str(p) for p in self.outputs],
        }


def expand(jobs: Sequence[str], remind_kinds: Sequence[str]) -> list[str]:
    """``remind`` → one step per reminder kind (``remind:visits`` …); unknown names refused
    before anything runs."""
    steps: list[str] = []
    for name in jobs:
        head, _, kind = name.partition(":")
        if head not in RUN_JOBS:
            raise InputError(f"crm run cannot run '{name}'", hint=f"name jobs among: {', '.join(RUN_JOBS)}")
        if kind and kind not in remind_kinds:
            raise InputError(f"unknown reminder kind '{kind}'", hint=f"use remind:{'|'.join(remind_kinds)}")
        if head == "remind":
            steps.extend([f"remind:{kind}"] if kind else [f"remind:{k}" for k in remind_kinds])
        else:
            steps.append(head)
    return list(dict.fromkeys(steps))


def due_today(settings: Settings, today: date) -> list[str]:
    """The jobs of the workspace's timetable with a slot on ``today`` that ``crm run`` can run
    (a remind entry as ``remind:KIND``, a run entry as the jobs it names), timetable order.
    Only the job names are taken: the entries' other arguments are the scheduler's."""
    from .calendar import WorkCalendar
    from .schedule.slots import slots_on
    from .schedule.timetable import load_timetable

    calendar = WorkCalendar(settings.rules.holidays)
    found: list[str] = []
    for entry in load_timetable(settings):
        if not slots_on(entry.when, today, calendar):
            continue
        if entry.job == "run":
            found.extend(a for a in entry.args if a.partition(":")[0] in RUN_JOBS)
        elif entry.job == "remind" and entry.args:
            found.append(f"remind:{entry.args[0]}")
        elif entry.job in RUN_JOBS and entry.job != "remind":
            found.append(entry.job)
    return list(dict.fromkeys(found))


def run(
    jobs: Sequence[str],
    settings: Settings | None = None,
    *,
    today: date,
    ledger: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    month: date | None = None,
    password: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
    summarize: Callable[[str, Any], Any] | None = None,
) -> RunResult:
    """Run ``jobs`` (names of ``RUN_JOBS``; ``remind:visits`` for one reminder kind) over one
    ledger, read once: every job gets the same facts, so they agree and nothing is computed
    twice. The outputs are the ones the separate commands write. ``month`` is the report's
    (default: the month before ``today``); ``now`` dates the complaint checks of classify
    (default: the end of ``today``); ``progress`` is called with each step's name;
    ``summarize(step, result)``, when given, replaces each job's result as soon as it is done
    (a ``JobSummary``: a job's objects are gone before the next one starts, which keeps a big
    ledger's run within its memory). Raises ``InputError`` for an unknown job or a ledger that
    cannot be read."""
    from .facts import derive
    from .ledger import read_ledger
    from .remind import KINDS

    settings = settings or load_settings()
    steps = expand(jobs, KINDS)
    path = Path(ledger) if ledger else settings.ledgers.get("main")
    if path is None:
        raise InputError(
            "no ledger given", hint="give the ledger's path, or name it under [ledgers] main = ... in crm.toml"
        )
    tell = progress or (lambda _step: None)
    tell("read")
    read = read_ledger(path, settings, password=password)
    tell("facts")
    facts = derive(read, settings, today=today, now=now, ledger_path=path, out_dir=out_dir)
    facts.compute_all()
    result = RunResult(path, today, steps)
    for step in steps:
        tell(step)
        done = _run_step(step, facts, settings, path, today, out_dir, month, dry_run, now)
        result.results[step] = summarize(step, done) if summarize else done
        del done  # else it holds the summarized job's objects while the next job runs
    return result


def _run_step(step: str, facts: Any, settings: Settings, path: Path, today: date, out_dir, month, dry_run, now) -> Any:
    common = {"out_dir": out_dir, "facts": facts}
    if step == "validate":
        from .validate import validate

        return validate(path, settings, today=today, **common)
    if step == "classify":
        from .classify import classify

        return classify(path, settings, today=today, **common)
    if step == "plan":
        from .plan import plan

        return plan(path, settings, today=today, **common)
    if step == "report":
        from .report import report

        first = month or (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        return report(path, settings, month=first, today=today, out_dir=out_dir, facts=facts)
    kind = step.split(":", 1)[1]
    clock = now or datetime.combine(today, time(9))  # as crm remind: now, else 09:00 of the day given
    return remind(kind, settings, today=today, now=clock, ledger=path, dry_run=dry_run, **common)

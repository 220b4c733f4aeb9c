"""The scheduler: one pass (``run_once``) and the long-running loop (``serve``), plus ``status``.

A *pass* takes the clock once, finds every slot due (today's, and those missed while the PC
was off, per entry's catch-up policy), and runs them oldest first, one after another, each as
a child process. ``serve`` makes a pass at start, then lets the ``schedule`` library wake it
at the timetable's times (and every few minutes, for a PC that slept) to make the next one.
Both hold the workspace's lock and first mark the runs a killed scheduler left 'running' as
failed, so they run again.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import schedule as schedule_lib

from ..calendar import WorkCalendar
from ..config import Settings, load_settings
from ..errors import ConfigError, ToolkitError
from ..i18n import label
from ..state import STATE_NAME
from .history import Run, RunHistory
from .lock import Holder, SchedulerLock, is_running
from .log import close_log, open_log
from .runner import GRACE_SECONDS, RunRecord, StopFlag, run_job
from .slots import due_slots, next_slot
from .timetable import LOOKBACK, Entry, load_timetable

Clock = Callable[[], datetime]
SWEEP_MINUTES = 5  # besides the timetable's own times, look every few minutes (a PC wakes from sleep)
_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def system_clock(now: datetime | None = None) -> Clock:
    """The PC's clock; with ``now``, a clock that starts there and ticks on (``--now``)."""
    if now is None:
        return datetime.now
    offset = now - datetime.now()
    return lambda: datetime.now() + offset


@dataclass
class Scheduler:
    """Everything a pass needs, loaded once."""

    workspace: Path
    timetable: list[Entry]
    calendar: WorkCalendar
    lang: str
    clock: Clock
    log: logging.Logger
    python: str | None = None  # the interpreter of the jobs (default: this one)
    grace: float = GRACE_SECONDS
    on_run: Callable[[RunRecord], None] | None = None

    def close(self) -> None:
        close_log(self.log)


@dataclass
class PassResult:
    ran: list[RunRecord] = field(default_factory=list)
    recovered: list[Run] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "job": "schedule",
            "ran": [r.as_json() for r in self.ran],
            "recovered": [{"name": r.entry, "slot": r.slot.isoformat(timespec="minutes")} for r in self.recovered],
            "failed": sum(r.outcome != "ok" for r in self.ran),
            "outputs": [p for r in self.ran for p in r.outputs],
        }


def prepare(workspace: Path, clock: Clock, *, lang: str | None = None, settings: Settings | None = None) -> Scheduler:
    """Load the workspace's settings and timetable and open its log. A config error is also
    written to the log (the assistant reads it there when the scheduled task shows a failure)."""
    workspace = workspace.resolve()  # the jobs run with the workspace as their current folder
    log = open_log(workspace)
    try:
        settings = settings or load_settings(workspace, lang=lang)
        timetable = load_timetable(settings)
        if not timetable:
            raise ConfigError(
                "crm.toml has no [[schedule.jobs]] entries",
                file=workspace / "crm.toml",
                hint="add them: the end of a new crm.toml (crm init) holds a commented example timetable",
            )
    except ToolkitError as error:
        log.error("%s", error)
        close_log(log)
        raise
    return Scheduler(workspace, timetable, WorkCalendar(settings.rules.holidays), settings.lang, clock, log)


def due_now(
    sched: Scheduler, history: RunHistory | None, now: datetime, *, register: bool = True
) -> list[tuple[datetime, Entry]]:
    """Every (slot, entry) due at ``now``, oldest first (timetable order within a slot)."""
    due: list[tuple[datetime, int, Entry]] = []
    for index, entry in enumerate(sched.timetable):
        if history is None:
            since = datetime.combine(now.date(), datetime.min.time())
            done: set[datetime] = set()
            attempts: dict[datetime, int] = {}
        else:
            since = history.since(entry, now, register=register)
            done, attempts = history.slot_state(entry.name, now - LOOKBACK[entry.when.kind] - timedelta(days=1))
        for slot in due_slots(
            entry.when, entry.catch_up, now, since=since, done=done, attempts=attempts, calendar=sched.calendar
        ):
            due.append((slot, index, entry))
    due.sort(key=lambda d: (d[0], d[1]))
    return [(slot, entry) for slot, _, entry in due]


def run_pass(sched: Scheduler, history: RunHistory, stop: StopFlag) -> list[RunRecord]:
    """Run what is due now, oldest first; stop starting jobs once ``stop`` is set."""
    ran = []
    for slot, entry in due_now(sched, history, sched.clock()):
        if stop.is_set():
            break
        record = run_job(
            entry,
            slot,
            workspace=sched.workspace,
            history=history,
            clock=sched.clock,
            stop=stop,
            lang=sched.lang,
            grace=sched.grace,
            python=sched.python,
        )
        level = logging.INFO if record.outcome == "ok" else logging.WARNING
        sched.log.log(level, "%s", describe_run(record, sched.lang))
        if sched.on_run is not None:
            sched.on_run(record)
        ran.append(record)
    return ran


def run_once(sched: Scheduler, stop: StopFlag | None = None) -> PassResult:
    """``crm schedule run --once``: take the lock, recover, make one pass, let go."""
    stop = stop or StopFlag()
    with SchedulerLock(sched.workspace, sched.clock()), RunHistory.of(sched.workspace) as history:
        recovered = _recover(sched, history)
        return PassResult(run_pass(sched, history, stop), recovered)


def serve(sched: Scheduler, stop: StopFlag) -> PassResult:
    """``crm schedule run``: catch up, then run the timetable until ``stop`` is set."""
    result = PassResult()
    with SchedulerLock(sched.workspace, sched.clock()), RunHistory.of(sched.workspace) as history:
        result.recovered = _recover(sched, history)
        sched.log.info("%s", label("schedule.started", sched.lang, count=len(sched.timetable)))

        def tick() -> None:
            if not stop.is_set():
                result.ran.extend(run_pass(sched, history, stop))

        ticker = schedule_lib.Scheduler()
        for trigger in _triggers(sched.timetable):
            trigger(ticker).do(tick)
        ticker.every(SWEEP_MINUTES).minutes.do(tick)
        tick()
        while not stop.is_set():
            ticker.run_pending()
            idle = ticker.idle_seconds
            stop.stop.wait(1.0 if idle is None else min(max(idle, 0.05), 1.0))
        sched.log.info("%s", label("schedule.stopped", sched.lang))
    return result


@contextmanager
def stop_on_signals() -> Iterator[StopFlag]:
    """A ``StopFlag`` that Ctrl-C, SIGTERM (and CTRL_BREAK on Windows) set; handlers restored after."""
    flag = StopFlag()
    previous = {}
    for name in ("SIGINT", "SIGTERM", "SIGBREAK"):
        number = getattr(signal, name, None)
        if number is not None:
            with suppress(ValueError, OSError):  # not the main thread
                previous[number] = signal.signal(number, lambda *_: flag.request())
    try:
        yield flag
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@dataclass
class JobStatus:
    entry: Entry
    last: Run | None
    next_run: datetime | None
    pending: list[datetime]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.entry.name,
            "job": self.entry.job,
            "when": self.entry.when.text,
            "last_run": self.last.started.isoformat(timespec="seconds") if self.last else None,
            "last_slot": self.last.slot.isoformat(timespec="minutes") if self.last else None,
            "outcome": self.last.outcome if self.last else None,
            "summary": self.last.summary if self.last else None,
            "next_run": self.next_run.isoformat(timespec="minutes") if self.next_run else None,
            "pending": [p.isoformat(timespec="minutes") for p in self.pending],
        }


def status(sched: Scheduler, now: datetime) -> tuple[list[JobStatus], Holder | None]:
    """Each entry's last run, its next slot and the missed slots the next pass will run; and
    who runs the scheduler now, if anyone. Reads only (creates no state database)."""
    holder = is_running(sched.workspace)
    history = RunHistory.of(sched.workspace) if (sched.workspace / STATE_NAME).exists() else None
    try:
        due = due_now(sched, history, now, register=False)
        jobs = [
            JobStatus(
                e,
                history.last_run(e.name) if history else None,
                next_slot(e.when, now, sched.calendar),
                [slot for slot, d in due if d.name == e.name],
            )
            for e in sched.timetable
        ]
    finally:
        if history is not None:
            history.close()
    return jobs, holder


def describe_run(record: RunRecord, lang: str) -> str:
    """The run's one line in the log: name, job, slot, outcome, time taken, summary."""
    seconds = (record.ended - record.started).total_seconds()
    return label(
        "schedule.log_line",
        lang,
        name=record.entry,
        job=record.job,
        slot=record.slot.strftime("%Y-%m-%d %H:%M"),
        outcome=label("schedule.outcome." + record.outcome, lang),
        seconds=f"{seconds:.1f}",
        summary=record.summary,
        code="" if record.exit_code in (0, None) else f" (exit {record.exit_code})",
    )


def _recover(sched: Scheduler, history: RunHistory) -> list[Run]:
    stale = history.recover(sched.clock(), label("schedule.stale", sched.lang))
    for run in stale:
        sched.log.warning(
            "%s", label("schedule.recovered", sched.lang, name=run.entry, slot=run.slot.strftime("%Y-%m-%d %H:%M"))
        )
    return stale


def _triggers(timetable: list[Entry]) -> list[Callable[[schedule_lib.Scheduler], schedule_lib.Job]]:
    """The ``schedule`` jobs that wake the loop at the timetable's times (deduplicated). Whether a
    slot is really due (a working day, the first one of the month) the pass decides."""
    wanted: set[tuple[str, str]] = set()
    for entry in timetable:
        when = entry.when
        if when.kind == "hourly":
            wanted.add(("hour", f":{when.at.minute:02d}"))
        elif when.kind == "weekly":
            wanted.add((_WEEKDAY_NAMES[when.weekday or 0], when.at.strftime("%H:%M")))
        else:
            wanted.add(("day", when.at.strftime("%H:%M")))

    def make(unit: str, at: str) -> Callable[[schedule_lib.Scheduler], schedule_lib.Job]:
        return lambda ticker: getattr(ticker.every(), unit).at(at)

    return [make(unit, at) for unit, at in sorted(wanted)]

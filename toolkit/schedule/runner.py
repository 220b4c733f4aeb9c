"""Run one slot of one entry: the job as a child process, recorded in the run history.

The child is ``python -m toolkit JOB ARGS --workspace WS --json``: a job that crashes or hangs
cannot take the scheduler down; its summary comes from the JSON it prints (or its one-line
error). The child runs in its own process group, so Ctrl-C in the scheduler's console reaches
the scheduler only: it lets the job finish (up to ``grace`` seconds), then asks it to stop
(SIGINT / CTRL_BREAK), and kills it only if it does not.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..i18n import label
from .history import RunHistory
from .log import mask
from .timetable import Entry

GRACE_SECONDS = 30.0  # after Ctrl-C, how long the running job may go on before it is asked to stop
_STOP_WAIT = 10.0  # after asking, how long before the child is killed
_POLL = 0.25


class StopFlag:
    """Set by Ctrl-C/SIGTERM: the first asks to stop after the running job, the second to hurry."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.hurry = threading.Event()

    def request(self) -> None:
        if self.stop.is_set():
            self.hurry.set()
        self.stop.set()

    def is_set(self) -> bool:
        return self.stop.is_set()


@dataclass
class RunRecord:
    """What one run did (what ``crm schedule run --json`` lists)."""

    entry: str
    job: str
    slot: datetime
    started: datetime
    ended: datetime
    outcome: str  # ok | failed | interrupted
    exit_code: int | None
    summary: str
    done: bool
    outputs: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.entry,
            "job": self.job,
            "slot": self.slot.isoformat(timespec="minutes"),
            "started": self.started.isoformat(timespec="seconds"),
            "ended": self.ended.isoformat(timespec="seconds"),
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "summary": self.summary,
            "outputs": self.outputs,
        }


_DATED_JOBS = {"run", "validate", "classify", "plan", "remind", "survey"}  # the jobs that take --today


def job_argv(entry: Entry, slot: datetime, workspace: Path, python: str | None = None) -> list[str]:
    """The child's command line. A job runs as of its slot (``--today``; for remind, the slot's
    time too), so a run caught up after a weekend is the Friday's run, not a copy of today's."""
    arguments = entry.arguments(slot)
    dated: list[str] = []
    if entry.job in _DATED_JOBS and "--today" not in arguments and "--log" not in arguments:
        dated = ["--today", slot.strftime("%Y-%m-%dT%H:%M") if entry.job == "remind" else slot.date().isoformat()]
    return [
        python or sys.executable,
        "-m",
        "toolkit",
        entry.job,
        *arguments,
        *dated,
        "--workspace",
        str(workspace),
        "--json",
    ]


def run_job(
    entry: Entry,
    slot: datetime,
    *,
    workspace: Path,
    history: RunHistory,
    clock: Callable[[], datetime],
    stop: StopFlag,
    lang: str = "zh",
    grace: float = GRACE_SECONDS,
    python: str | None = None,
) -> RunRecord:
    """Run ``entry`` for ``slot`` and record it. Never raises for the job's own failure."""
    argv = job_argv(entry, slot, workspace, python)
    started = clock()
    run_id = history.start(entry, slot, started, subprocess.list2cmdline(argv[1:]), socket.gethostname())
    try:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(workspace),
            env={**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUTF8": "1"},
            **_own_group(),
        )
    except OSError as error:
        summary = mask(f"{label('schedule.cannot_start', lang)}: {error}")
        history.finish(run_id, clock(), "failed", done=True, exit_code=None, summary=summary)
        return RunRecord(entry.name, entry.job, slot, started, clock(), "failed", None, summary, True)
    history.set_pid(run_id, child.pid)
    stdout, stderr, cut = _wait(child, entry.timeout.total_seconds(), stop, grace)
    code = child.returncode
    data = _json(stdout)
    outputs = [str(p) for p in data.get("outputs", [])] if isinstance(data.get("outputs"), list) else []
    if cut == "interrupted" and code != 0:  # (a job that finished as it was asked to stop is done)
        outcome, done, summary = "interrupted", False, label("schedule.interrupted", lang)
    elif cut == "timeout":
        minutes = round(entry.timeout.total_seconds() / 60)
        outcome, done, summary = "failed", True, label("schedule.timed_out", lang, minutes=minutes)
    elif code == 0:
        outcome, done, summary = "ok", True, summarize(data, lang)
    elif code is not None and code < 0:  # killed by a signal from outside (POSIX): run it again
        outcome, done = "failed", False
        summary = label("schedule.killed", lang, signal=_signal_name(-code))
    else:  # exit 2: the input is wrong, wait for the next slot; 1 (a dropped connection …): try again next pass
        outcome, done, summary = "failed", code != 1, _last_line(stderr) or f"exit {code}"
    summary = mask(summary)
    ended = clock()
    history.finish(run_id, ended, outcome, done=done, exit_code=code, summary=summary)
    return RunRecord(entry.name, entry.job, slot, started, ended, outcome, code, summary, done, outputs)


def summarize(data: dict[str, Any], lang: str) -> str:
    """A one-line summary of a job's JSON (the keys of the DESIGN contract it carries)."""
    parts: list[str] = []
    if data.get("job") == "run" and isinstance(data.get("results"), dict):  # crm run: each job's line
        lines = [f"{name}: {summarize(one, lang)}" for name, one in data["results"].items() if isinstance(one, dict)]
        return " | ".join(lines) or label("schedule.sum.done", lang)

    def add(key: str, value: object) -> None:
        parts.append(f"{label('schedule.sum.' + key, lang)} {value}")

    if isinstance(data.get("month"), str):
        add("month", data["month"])
    if isinstance(data.get("customers"), int):
        add("customers", data["customers"])
    truncated = data.get("truncated") if isinstance(data.get("truncated"), dict) else {}
    if isinstance(data.get("errors"), int) and isinstance(data.get("warnings"), int):  # the whole counts
        add("errors", data["errors"])
        add("warnings", data["warnings"])
    elif isinstance(data.get("issues"), list):
        severities = [i.get("severity") for i in data["issues"] if isinstance(i, dict)]
        add("errors", severities.count("error"))
        add("warnings", severities.count("warning"))
    if isinstance(data.get("counts"), dict):
        parts.append(" ".join(f"{k} {v}" for k, v in data["counts"].items()))
    for key in ("visits", "overdue", "overflow"):  # a list cut at --json's limit: its whole length
        if isinstance(data.get(key), list):
            add(key, truncated.get(key, len(data[key])))
    for key in ("messages", "sent", "already_sent", "received", "accepted"):
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            add(key, value)
        elif isinstance(value, list):
            add(key, len(value))
    for key in ("failed", "rejected", "uncertain", "problems"):
        if isinstance(data.get(key), (list, int)) and not isinstance(data.get(key), bool):
            value = data[key]
            add(key, len(value) if isinstance(value, list) else value)
    outputs = data.get("outputs")
    if isinstance(outputs, list) and outputs:
        more = f" (+{len(outputs) - 1})" if len(outputs) > 1 else ""
        parts.append(f"→ {Path(str(outputs[0])).name}{more}")
    return " · ".join(parts) or label("schedule.sum.done", lang)


def _wait(child: subprocess.Popen[bytes], timeout: float, stop: StopFlag, grace: float) -> tuple[bytes, bytes, str]:
    """Wait for the child, draining its pipes; ('', '', '') → (stdout, stderr, how it was cut short)."""
    deadline = time.monotonic() + timeout
    grace_end: float | None = None
    while True:
        try:
            out, err = child.communicate(timeout=_POLL)
            return out, err, ""
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if stop.is_set() and grace_end is None:
            grace_end = now + grace
        if stop.hurry.is_set() or (grace_end is not None and now >= grace_end):
            out, err = _stop(child)
            return out, err, "interrupted"
        if now >= deadline:
            out, err = _stop(child)
            return out, err, "timeout"


def _stop(child: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """Ask the child to stop as Ctrl-C would (it unwinds cleanly); kill it if it does not."""
    try:
        if sys.platform == "win32":
            child.send_signal(signal.CTRL_BREAK_EVENT)
        else:
            child.send_signal(signal.SIGINT)
        return child.communicate(timeout=_STOP_WAIT)
    except (subprocess.TimeoutExpired, OSError):
        child.kill()
        return child.communicate()


def _own_group() -> dict[str, Any]:
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def _json(stdout: bytes) -> dict[str, Any]:
    try:
        data = json.loads(stdout.decode("utf-8", errors="replace"))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _last_line(stderr: bytes) -> str:
    """The child's one-line error (a usage error comes in a box drawn with lines: unwrap it)."""
    for line in reversed(stderr.decode("utf-8", errors="replace").splitlines()):
        text = line.strip().strip("│╭╮╰╯─┃━ ").strip()
        if text and not text.startswith(("Usage:", "Try '")):
            return text[len("error: ") :] if text.startswith("error: ") else text
    return ""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)

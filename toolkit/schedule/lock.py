"""One scheduler at a time per workspace: a file lock, and who holds it written beside it.

The operating system releases the lock when its holder dies (power cut, killed process), so a
stale lock never blocks the next start; the holder file beside it only says who it was.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout

from ..errors import ToolkitError

LOCK_NAME = ".crm-schedule.lock"
HOLDER_NAME = ".crm-schedule.holder.json"
WAIT_SECONDS = 2.0  # a moment, so a `crm schedule status` peeking at the lock never blocks a start


class SchedulerBusy(ToolkitError):
    """Another scheduler holds this workspace (exit code 1: nothing is wrong with the input)."""


@dataclass
class Holder:
    host: str
    user: str
    pid: int
    started: str

    def describe(self) -> str:
        return f"{self.user}@{self.host}, pid {self.pid}, since {self.started}"


class SchedulerLock:
    """``with SchedulerLock(workspace, now):`` — raises ``SchedulerBusy`` naming the holder."""

    def __init__(self, workspace: Path, started: datetime, *, wait: float = WAIT_SECONDS) -> None:
        self.workspace = workspace
        self.started = started
        self.wait = wait
        self._lock = FileLock(str(workspace / LOCK_NAME), timeout=wait)

    def __enter__(self) -> SchedulerLock:
        try:
            self._lock.acquire()
        except Timeout:
            holder = read_holder(self.workspace)
            who = holder.describe() if holder else "a process that did not say who it is"
            raise SchedulerBusy(
                f"{self.workspace}: another crm schedule is already running for this workspace ({who}); "
                "let it finish, or stop that one first"
            ) from None
        holder = Holder(_host(), _user(), os.getpid(), self.started.isoformat(timespec="seconds"))
        (self.workspace / HOLDER_NAME).write_text(json.dumps(asdict(holder), ensure_ascii=False), encoding="utf-8")
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            (self.workspace / HOLDER_NAME).unlink(missing_ok=True)
        finally:
            self._lock.release()


def read_holder(workspace: Path) -> Holder | None:
    """Who holds (or last held, if it died) the workspace's scheduler lock."""
    try:
        data = json.loads((workspace / HOLDER_NAME).read_text(encoding="utf-8"))
        return Holder(str(data["host"]), str(data["user"]), int(data["pid"]), str(data["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_running(workspace: Path) -> Holder | None:
    """The holder, if a scheduler holds the lock now (a peek: takes and drops the lock at once)."""
    lock = FileLock(str(workspace / LOCK_NAME), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return read_holder(workspace) or Holder("?", "?", 0, "?")
    lock.release()
    return None


def _host() -> str:
    try:
        return socket.gethostname()
    except OSError:
        return "?"


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment (a service account)
        return "?"

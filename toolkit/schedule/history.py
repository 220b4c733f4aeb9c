"""The scheduler's run history: its own tables in the workspace's state.sqlite.

``schedule_runs`` holds every run (entry, slot, start, end, outcome, exit code, summary);
``schedule_entries`` when each entry joined the timetable (or last changed its ``when``), so a
new entry does not replay the past. Each write is its own short transaction: the jobs the
scheduler starts write to the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..state import STATE_NAME, SqliteStore
from .timetable import Entry

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schedule_runs (
    id INTEGER PRIMARY KEY,
    entry TEXT NOT NULL,
    job TEXT NOT NULL,
    slot TEXT NOT NULL,
    started TEXT NOT NULL,
    ended TEXT,
    outcome TEXT NOT NULL,            -- running | ok | failed | interrupted
    done INTEGER NOT NULL DEFAULT 0,  -- 1: the slot ran to its end and is not run again
    exit_code INTEGER,
    summary TEXT NOT NULL DEFAULT '',
    command TEXT NOT NULL DEFAULT '',
    host TEXT NOT NULL DEFAULT '',
    pid INTEGER
);
CREATE INDEX IF NOT EXISTS schedule_runs_by_entry ON schedule_runs (entry, slot);
CREATE TABLE IF NOT EXISTS schedule_entries (
    entry TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    since TEXT NOT NULL
);
"""


@dataclass
class Run:
    """One row of ``schedule_runs``."""

    id: int
    entry: str
    job: str
    slot: datetime
    started: datetime
    ended: datetime | None
    outcome: str
    done: bool
    exit_code: int | None
    summary: str


class RunHistory(SqliteStore):
    """The run history of one workspace. Use as a context manager, in one thread."""

    schema = _SCHEMA

    @classmethod
    def of(cls, workspace: Path) -> RunHistory:
        return cls(workspace / STATE_NAME)

    def since(self, entry: Entry, now: datetime, *, register: bool = True) -> datetime:
        """When ``entry`` joined the timetable: the start of the day it was first seen, or of the
        day its ``when`` last changed. Registers it (``register``) when new or changed."""
        found = self.db.execute(
            "SELECT definition, since FROM schedule_entries WHERE entry = ?", (entry.name,)
        ).fetchone()
        if found is not None and found[0] == entry.when.text:
            return datetime.fromisoformat(found[1])
        since = datetime.combine(now.date(), datetime.min.time())
        if register:
            with self.db:
                self.db.execute(
                    "INSERT OR REPLACE INTO schedule_entries (entry, definition, since) VALUES (?, ?, ?)",
                    (entry.name, entry.when.text, _iso(since)),
                )
        return since

    def slot_state(self, entry: str, after: datetime) -> tuple[set[datetime], dict[datetime, int]]:
        """(the slots after ``after`` that are done, how often each slot was started)."""
        done: set[datetime] = set()
        attempts: dict[datetime, int] = {}
        for slot_text, finished in self.db.execute(
            "SELECT slot, done FROM schedule_runs WHERE entry = ? AND slot > ?", (entry, _iso(after))
        ):
            slot = datetime.fromisoformat(slot_text)
            attempts[slot] = attempts.get(slot, 0) + 1
            if finished:
                done.add(slot)
        return done, attempts

    def start(self, entry: Entry, slot: datetime, started: datetime, command: str, host: str) -> int:
        with self.db:
            cursor = self.db.execute(
                "INSERT INTO schedule_runs (entry, job, slot, started, outcome, command, host) "
                "VALUES (?, ?, ?, ?, 'running', ?, ?)",
                (entry.name, entry.job, _iso(slot), _iso(started), command, host),
            )
        return int(cursor.lastrowid or 0)

    def set_pid(self, run_id: int, pid: int) -> None:
        with self.db:
            self.db.execute("UPDATE schedule_runs SET pid = ? WHERE id = ?", (pid, run_id))

    def finish(
        self, run_id: int, ended: datetime, outcome: str, *, done: bool, exit_code: int | None, summary: str
    ) -> None:
        with self.db:
            self.db.execute(
                "UPDATE schedule_runs SET ended = ?, outcome = ?, done = ?, exit_code = ?, summary = ? WHERE id = ?",
                (_iso(ended), outcome, int(done), exit_code, summary, run_id),
            )

    def recover(self, now: datetime, summary: str) -> list[Run]:
        """Mark the runs a killed scheduler left 'running' as failed (not done: they run again).
        Call it only while holding the workspace's scheduler lock."""
        stale = self.runs(outcome="running")
        with self.db:
            self.db.execute(
                "UPDATE schedule_runs SET outcome = 'failed', done = 0, ended = ?, summary = ? "
                "WHERE outcome = 'running'",
                (_iso(now), summary),
            )
        return stale

    def last_run(self, entry: str) -> Run | None:
        found = self.runs(entry=entry, limit=1)
        return found[0] if found else None

    def runs(self, *, entry: str | None = None, outcome: str | None = None, limit: int | None = None) -> list[Run]:
        """Runs, newest first."""
        where, params = [], []
        if entry is not None:
            where.append("entry = ?")
            params.append(entry)
        if outcome is not None:
            where.append("outcome = ?")
            params.append(outcome)
        sql = "SELECT id, entry, job, slot, started, ended, outcome, done, exit_code, summary FROM schedule_runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [
            Run(
                run_id,
                name,
                job,
                datetime.fromisoformat(slot),
                datetime.fromisoformat(started),
                datetime.fromisoformat(ended) if ended else None,
                outcome_,
                bool(done),
                exit_code,
                summary,
            )
            for run_id, name, job, slot, started, ended, outcome_, done, exit_code, summary in self.db.execute(
                sql, params
            )
        ]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")

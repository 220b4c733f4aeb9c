"""The SQLite state store of a workspace: the runs of each job and the classification history.

One file (``state.sqlite`` in the workspace, or in the output folder for a bare ledger). Each
write is one transaction, so a crash leaves either the whole run recorded or none of it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from .errors import ToolkitError

if TYPE_CHECKING:
    from typing import Self  # Python 3.11+, for the type checker only

    from .config import Settings

STATE_NAME = "state.sqlite"


def state_path(settings: Settings, out_dir: str | os.PathLike[str] | None = None) -> Path:
    """The workspace's state database (as every job finds it), else the one in the output folder."""
    return settings.workspace / STATE_NAME if settings.workspace else settings.output_dir(out_dir) / STATE_NAME


# every room's: the outputs that once held a password-protected ledger's data (never the password)
PROTECTED_SCHEMA = """
CREATE TABLE IF NOT EXISTS protected_outputs (name TEXT PRIMARY KEY);
"""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    job TEXT NOT NULL,
    ledger TEXT NOT NULL,
    policy TEXT NOT NULL DEFAULT '',
    as_of TEXT NOT NULL,
    recorded TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS planned_visits (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    key TEXT NOT NULL,
    owner TEXT,
    class TEXT,
    kind TEXT NOT NULL,
    keyword TEXT NOT NULL DEFAULT '',
    date TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS class_history (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    key TEXT NOT NULL,
    name TEXT,
    owner TEXT,
    class TEXT,
    computed TEXT,
    tags TEXT NOT NULL,
    satisfaction REAL,
    satisfaction_ref REAL,
    PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS sent_messages (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    period TEXT NOT NULL,
    recipient TEXT NOT NULL,
    digest TEXT NOT NULL,
    cc TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    customers TEXT NOT NULL DEFAULT '[]',
    backend TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    reply TEXT NOT NULL DEFAULT '',
    file TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL,
    UNIQUE (kind, period, recipient, digest)
);
"""


NO_TAGS: Mapping[str, str] = MappingProxyType({})  # the tags of a customer without a risk, one for all


@dataclass(slots=True)
class Snapshot:
    """One customer as a classification run saw it."""

    name: str
    owner: str
    klass: str | None
    computed: str | None
    tags: Mapping[str, str]  # code → reason (``NO_TAGS``, shared, when none)
    satisfaction: float | None
    satisfaction_ref: float | None = None  # the score before the last change, for "falling"


@dataclass
class SentMessage:
    """One e-mail of the mail jobs as the state database holds it.

    ``status``: 'pending' (recorded before the attempt: if a run dies there, nobody knows
    whether the server took it, so it is never sent again automatically), 'sent', 'failed'
    (the server refused it; retried by later runs up to the retry limit)."""

    id: int
    kind: str
    period: str
    recipient: str
    digest: str
    cc: str
    subject: str
    customers: list[str]
    backend: str
    status: str
    attempts: int
    reply: str
    file: str
    message_id: str
    updated: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.kind, self.period, self.recipient, self.digest


_SENT_COLUMNS = (
    "id, kind, period, recipient, digest, cc, subject, customers, backend, status, attempts, reply, file, "
    "message_id, updated"
)


def _sent(row: tuple) -> SentMessage:
    values = list(row)
    values[7] = json.loads(values[7] or "[]")
    return SentMessage(*values)


@dataclass
class PreviousRun:
    run_id: int
    recorded: str
    as_of: str
    customers: dict[str, Snapshot]


class SqliteStore:
    """One room's tables in the workspace's state database (``schema`` creates them if missing).

    Each room (runs and classes here, survey campaigns, the scheduler's runs) subclasses it with
    its own schema; they share the file. Waits up to 30 s for another process's write (the
    scheduler and a job it started, or a run by hand). Use as a context manager."""

    schema = ""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(str(path), timeout=30)
            self.db.executescript(PROTECTED_SCHEMA + self.schema)
        except sqlite3.DatabaseError as error:
            raise ToolkitError(
                f"{path}: the state database cannot be opened ({error}); move it aside and run again"
            ) from error
        self.path = path

    def mark_protected(self, name: str) -> None:
        """Remember that output ``name`` holds a password-protected ledger's data (never the password)."""
        with self.db:
            self.db.execute("INSERT OR IGNORE INTO protected_outputs VALUES (?)", (name,))

    def is_protected(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM protected_outputs WHERE name = ?", (name,)).fetchone() is not None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StateStore(SqliteStore):
    """The runs of the jobs, the classification history, the plans and the messages sent."""

    schema = _SCHEMA

    def last_classification(self, ledger: str, policy: str) -> PreviousRun | None:
        found = self.db.execute(
            "SELECT id, recorded, as_of FROM runs WHERE job = 'classify' AND ledger = ? AND policy = ? "
            "ORDER BY id DESC LIMIT 1",
            (ledger, policy),
        ).fetchone()
        if found is None:
            return None
        run_id, recorded, as_of = found
        customers = {
            key: Snapshot(name or "", owner or "", klass, computed, json.loads(tags), satisfaction, reference)
            for key, name, owner, klass, computed, tags, satisfaction, reference in self.db.execute(
                "SELECT key, name, owner, class, computed, tags, satisfaction, satisfaction_ref FROM class_history "
                "WHERE run_id = ?",
                (run_id,),
            )
        }
        return PreviousRun(run_id, recorded, as_of, customers)

    def classes_between(
        self, ledger: str, policy: str, first: date, end: date
    ) -> tuple[str, dict[str, int], float | None] | None:
        """The last classification of ``ledger`` made as of a day in [first, end): (as of, counts
        per class, average satisfaction), for the report's previous-month column."""
        found = self.db.execute(
            "SELECT id, as_of FROM runs WHERE job = 'classify' AND ledger = ? AND policy = ? AND as_of >= ? "
            "AND as_of < ? ORDER BY as_of DESC, id DESC LIMIT 1",
            (ledger, policy, first.isoformat(), end.isoformat()),
        ).fetchone()
        if found is None:
            return None
        run_id, as_of = found
        counts = {
            k or "": n
            for k, n in self.db.execute(
                "SELECT class, COUNT(*) FROM class_history WHERE run_id = ? GROUP BY class", (run_id,)
            )
        }
        (average,) = self.db.execute(
            "SELECT AVG(satisfaction) FROM class_history WHERE run_id = ?", (run_id,)
        ).fetchone()
        return as_of, counts, average

    def last_plan(self, ledger: str, before: date) -> tuple[date, list[tuple[str, str, str, str, str, date]]] | None:
        """The latest plan of ``ledger`` made before ``before`` (a plan re-made today does not
        replace the one being scored): (made as of, [(key, owner, class, kind, keyword, date)])."""
        found = self.db.execute(
            "SELECT id, as_of FROM runs WHERE job = 'plan' AND ledger = ? AND as_of < ? ORDER BY as_of DESC, id DESC "
            "LIMIT 1",
            (ledger, before.isoformat()),
        ).fetchone()
        if found is None:
            return None
        run_id, as_of = found
        rows = [
            (key, owner or "", klass or "", kind, keyword, date.fromisoformat(day))
            for key, owner, klass, kind, keyword, day in self.db.execute(
                "SELECT key, owner, class, kind, keyword, date FROM planned_visits WHERE run_id = ? ORDER BY rowid",
                (run_id,),
            )
        ]
        return date.fromisoformat(as_of), rows

    def record_plan(self, ledger: str, as_of: date, rows: Iterable[tuple[str, str, str, str, str, date]]) -> int:
        with self.db:
            cursor = self.db.execute(
                "INSERT INTO runs (job, ledger, policy, as_of, recorded) VALUES ('plan', ?, '', ?, ?)",
                (ledger, as_of.isoformat(), datetime.now().isoformat(timespec="seconds")),
            )
            run_id = int(cursor.lastrowid or 0)
            self.db.executemany(
                "INSERT INTO planned_visits VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (run_id, key, owner, klass, kind, keyword, day.isoformat())
                    for key, owner, klass, kind, keyword, day in rows
                ),
            )
        return run_id

    def record_classification(
        self, ledger: str, policy: str, as_of: date, rows: Iterable[tuple[str, Snapshot]], summary: str = ""
    ) -> int:
        with self.db:
            cursor = self.db.execute(
                "INSERT INTO runs (job, ledger, policy, as_of, recorded, summary) VALUES ('classify', ?, ?, ?, ?, ?)",
                (ledger, policy, as_of.isoformat(), datetime.now().isoformat(timespec="seconds"), summary),
            )
            run_id = int(cursor.lastrowid or 0)
            self.db.executemany(
                "INSERT INTO class_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        run_id,
                        key,
                        s.name,
                        s.owner,
                        s.klass,
                        s.computed,
                        json.dumps(s.tags, ensure_ascii=False) if s.tags else "{}",
                        s.satisfaction,
                        s.satisfaction_ref,
                    )
                    for key, s in rows
                ),
            )
        return run_id

    # ------------------------------------------------------------ the mail jobs' sent log

    def sent_messages(self, kind: str, periods: Iterable[str]) -> dict[tuple[str, str, str, str], SentMessage]:
        """The recorded messages of ``kind`` in ``periods``, by key (kind, period, recipient, digest)."""
        wanted = sorted(set(periods))
        if not wanted:
            return {}
        marks = ", ".join("?" for _ in wanted)
        rows = self.db.execute(
            f"SELECT {_SENT_COLUMNS} FROM sent_messages WHERE kind = ? AND period IN ({marks})", (kind, *wanted)
        )
        return {m.key: m for m in map(_sent, rows)}

    def batch_mode(self) -> None:
        """For a batch of sends: write-ahead logging with commits that survive the process being
        killed at any point but reach the disk itself only when a commit is ``durable`` (a power
        cut can lose the commits since the last durable one). Costs a fraction of a millisecond a
        commit where a disk sync costs several. The WAL file is folded back when the store closes."""
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")

    def flush(self) -> None:
        """Commit, and sync every commit so far to the disk (after a batch in ``batch_mode``)."""
        self.db.commit()
        if self.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            self.db.execute("PRAGMA wal_checkpoint(FULL)")

    def _sync(self, durable: bool) -> None:
        if getattr(self, "_durable", None) is not durable:  # outside a transaction, as SQLite wants
            if self.db.in_transaction:
                self.db.commit()
            self.db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._durable = durable

    def begin_send(
        self,
        key: tuple[str, str, str, str],
        *,
        cc: str,
        subject: str,
        customers: list[str],
        backend: str,
        file: str,
        message_id: str,
        when: datetime,
        durable: bool = True,
    ) -> int:
        """Record (and commit) that an attempt to send the message ``key`` begins: status 'pending',
        one more attempt. Returns the row id for ``finish_send``. ``durable``: sync this commit (and
        every one before it) to the disk; see ``batch_mode``."""
        kind, period, recipient, digest = key
        stamp = when.isoformat(timespec="seconds")
        self._sync(durable)
        with self.db:
            self.db.execute(
                "INSERT INTO sent_messages (kind, period, recipient, digest, cc, subject, customers, backend, status, "
                "attempts, file, message_id, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 1, ?, ?, ?) "
                "ON CONFLICT (kind, period, recipient, digest) DO UPDATE SET status = 'pending', "
                "attempts = attempts + 1, backend = excluded.backend, file = excluded.file, updated = excluded.updated",
                (
                    kind,
                    period,
                    recipient,
                    digest,
                    cc,
                    subject,
                    json.dumps(customers, ensure_ascii=False),
                    backend,
                    file,
                    message_id,
                    stamp,
                ),
            )
            (row_id,) = self.db.execute(
                "SELECT id FROM sent_messages WHERE kind = ? AND period = ? AND recipient = ? AND digest = ?", key
            ).fetchone()
        return int(row_id)

    def finish_send(
        self, row_id: int, status: str, reply: str, when: datetime, durable: bool = True, commit: bool = True
    ) -> None:
        """Record how an attempt ended: 'sent' or 'failed', with the server's reply. ``commit=False``
        leaves it to be committed with the next ``begin_send`` (one commit per message in a
        batch: nothing is handed to the server in between) or by ``flush``."""
        if commit:
            self._sync(durable)
        self.db.execute(
            "UPDATE sent_messages SET status = ?, reply = ?, updated = ? WHERE id = ?",
            (status, reply, when.isoformat(timespec="seconds"), row_id),
        )
        if commit:
            self.db.commit()

    def undo_send(self, row_id: int, before: SentMessage | None) -> None:
        """Forget an attempt that certainly never reached the server (the connection was down
        before the message was handed over): the message is as it was before ``begin_send``."""
        with self.db:
            if before is None:
                self.db.execute("DELETE FROM sent_messages WHERE id = ?", (row_id,))
            else:
                self.db.execute(
                    "UPDATE sent_messages SET status = ?, attempts = ?, reply = ?, updated = ? WHERE id = ?",
                    (before.status, before.attempts, before.reply, before.updated, row_id),
                )

    def sent_log(
        self, *, kind: str | None = None, since: date | None = None, until: date | None = None
    ) -> list[SentMessage]:
        """Every recorded message (optionally of one ``kind``, updated in [since, until)), oldest first."""
        where, args = [], []
        if kind:
            where.append("kind = ?")
            args.append(kind)
        if since:
            where.append("updated >= ?")
            args.append(since.isoformat())
        if until:
            where.append("updated < ?")
            args.append(until.isoformat())
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self.db.execute(f"SELECT {_SENT_COLUMNS} FROM sent_messages{clause} ORDER BY updated, id", args)
        return [_sent(r) for r in rows]

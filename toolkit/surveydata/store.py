"""The survey's tables in the workspace's state database (state.sqlite): campaigns, the forms
issued, the files collected (by content hash, so none is counted twice), the returns (the
latest per customer counts, earlier ones stay as history) and the e-mails sent.

The tables are the survey's own (``survey_*``); the rest of the database belongs to
``toolkit.state``. Each write is one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..state import SqliteStore
from .questions import Question

_SCHEMA = """
CREATE TABLE IF NOT EXISTS survey_campaigns (
    name TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    as_of TEXT NOT NULL,
    lang TEXT NOT NULL,
    company TEXT NOT NULL DEFAULT '',
    questions TEXT NOT NULL,
    folder TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS survey_forms (
    campaign TEXT NOT NULL,
    form_id TEXT NOT NULL,
    customer_key TEXT NOT NULL,
    ledger TEXT NOT NULL,
    subsidiary TEXT NOT NULL DEFAULT '',
    customer_id TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    contact TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    owner_email TEXT NOT NULL DEFAULT '',
    class TEXT NOT NULL DEFAULT '',
    industry TEXT NOT NULL DEFAULT '',
    file TEXT NOT NULL,
    signature TEXT NOT NULL,
    issued TEXT NOT NULL,
    PRIMARY KEY (campaign, form_id)
);
CREATE TABLE IF NOT EXISTS survey_files (
    sha256 TEXT PRIMARY KEY,
    file TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    campaign TEXT NOT NULL DEFAULT '',
    form_id TEXT NOT NULL DEFAULT '',
    collected TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS survey_returns (
    id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL,
    form_id TEXT NOT NULL,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    returned TEXT NOT NULL,
    collected TEXT NOT NULL,
    answers TEXT NOT NULL,
    score REAL,
    nps INTEGER,
    problems TEXT NOT NULL DEFAULT '[]',
    current INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS survey_returns_form ON survey_returns (campaign, form_id);
CREATE TABLE IF NOT EXISTS survey_mail (
    campaign TEXT NOT NULL,
    form_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    number INTEGER NOT NULL,
    sent_on TEXT NOT NULL,
    PRIMARY KEY (campaign, form_id, kind, number)
);
"""


@dataclass
class Campaign:
    name: str
    created: str
    as_of: str
    lang: str
    company: str
    questions: list[Question]
    folder: Path


@dataclass
class IssuedForm:
    """A form issued to one customer, with the customer as the ledger described it then."""

    campaign: str
    form_id: str  # unique in the campaign: the customer key, with the subsidiary in a group
    customer_key: str  # the key classify uses (id:…, else name:…)
    ledger: str
    subsidiary: str
    customer_id: str
    name: str
    contact: str
    email: str
    owner: str
    owner_email: str
    klass: str
    industry: str
    file: str
    signature: str
    issued: str


@dataclass
class Return:
    id: int
    campaign: str
    form_id: str
    file: str
    sha256: str
    returned: str  # when the customer saved it (the workbook's core.xml modified, else the file's time), ISO
    collected: str
    answers: dict[str, Any]  # question key → the value scored (int for ratings/nps, str for text)
    score: float | None  # the mean of the rating answers
    nps: int | None
    problems: list[dict[str, Any]] = field(default_factory=list)
    current: bool = True


class SurveyStore(SqliteStore):
    """The survey tables of the workspace's state database: campaigns, forms issued, returns."""

    schema = _SCHEMA

    # ---------------------------------------------------------------- campaigns

    def campaign(self, name: str | None) -> Campaign:
        """The campaign called ``name``, or the latest one created when None. ``InputError`` if none."""
        if name:
            row = self.db.execute("SELECT * FROM survey_campaigns WHERE name = ?", (name,)).fetchone()
        else:
            row = self.db.execute("SELECT * FROM survey_campaigns ORDER BY created DESC, rowid DESC LIMIT 1").fetchone()
        if row is None:
            known = [n for (n,) in self.db.execute("SELECT name FROM survey_campaigns ORDER BY created")]
            raise InputError(
                f"no survey campaign '{name}'" if name else "no survey campaign has been created yet",
                hint=(
                    f"campaigns: {', '.join(known)}" if known else "create one with: crm survey create --campaign NAME"
                ),
            )
        return self._campaign(row)

    def find_campaign(self, name: str) -> Campaign | None:
        row = self.db.execute("SELECT * FROM survey_campaigns WHERE name = ?", (name,)).fetchone()
        return self._campaign(row) if row else None

    def campaigns(self) -> list[Campaign]:
        return [self._campaign(r) for r in self.db.execute("SELECT * FROM survey_campaigns ORDER BY created, rowid")]

    def _campaign(self, row: tuple[Any, ...]) -> Campaign:
        name, created, as_of, lang, company, questions, folder = row
        place = Path(folder)  # relative to the workspace when inside it, so a moved workspace keeps its forms
        place = place if place.is_absolute() else self.path.parent / place
        return Campaign(name, created, as_of, lang, company, [Question(**q) for q in json.loads(questions)], place)

    def add_campaign(self, campaign: Campaign) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO survey_campaigns VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    campaign.name,
                    campaign.created,
                    campaign.as_of,
                    campaign.lang,
                    campaign.company,
                    json.dumps([q.as_json() for q in campaign.questions], ensure_ascii=False),
                    _inside(campaign.folder, self.path.parent),
                ),
            )

    # ---------------------------------------------------------------- forms

    def forms(self, campaign: str) -> dict[str, IssuedForm]:
        return {
            row[1]: IssuedForm(*row)
            for row in self.db.execute("SELECT * FROM survey_forms WHERE campaign = ? ORDER BY rowid", (campaign,))
        }

    def add_forms(self, forms: Iterable[IssuedForm]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO survey_forms VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        f.campaign,
                        f.form_id,
                        f.customer_key,
                        f.ledger,
                        f.subsidiary,
                        f.customer_id,
                        f.name,
                        f.contact,
                        f.email,
                        f.owner,
                        f.owner_email,
                        f.klass,
                        f.industry,
                        f.file,
                        f.signature,
                        f.issued,
                    )
                    for f in forms
                ),
            )

    # ---------------------------------------------------------------- files and returns

    def seen_files(self) -> dict[str, tuple[str, str, str]]:
        """sha256 → (file, outcome, reason) of every file collected before."""
        return {
            h: (f, o, r) for h, f, o, r in self.db.execute("SELECT sha256, file, outcome, reason FROM survey_files")
        }

    def returns(self, campaign: str | None = None, *, current_only: bool = True) -> list[Return]:
        sql = "SELECT * FROM survey_returns"
        where, args = [], []
        if campaign is not None:
            where.append("campaign = ?")
            args.append(campaign)
        if current_only:
            where.append("current = 1")
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [
            Return(i, c, f, file, h, ret, col, json.loads(a), s, n, json.loads(p), bool(cur))
            for i, c, f, file, h, ret, col, a, s, n, p, cur in self.db.execute(sql + " ORDER BY id", args)
        ]

    def rejected_files(self, campaign: str) -> list[tuple[str, str, str, str]]:
        """(file, reason, detail, collected) of every file refused for ``campaign``. A file refused
        before collect recorded the campaign (an empty one) counts for the campaign that was the
        latest created by the day it was collected."""
        return list(
            self.db.execute(
                "SELECT file, reason, detail, collected FROM survey_files f WHERE outcome = 'rejected' AND"
                " (campaign = ?1 OR (campaign = '' AND ?1 = (SELECT name FROM survey_campaigns"
                " WHERE as_of <= f.collected ORDER BY created DESC, rowid DESC LIMIT 1))) ORDER BY rowid",
                (campaign,),
            )
        )

    def record_collection(
        self,
        files: Iterable[tuple[str, str, str, str, str, str, str, str]],
        returns: Iterable[Return],
        superseded: Iterable[int],
    ) -> None:
        """One run of collect, in one transaction: the files seen (sha256, file, outcome, reason,
        detail, campaign, form, collected), the new returns, and the ids of returns no longer current."""
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO survey_files VALUES (?, ?, ?, ?, ?, ?, ?, ?)", files)
            self.db.executemany("UPDATE survey_returns SET current = 0 WHERE id = ?", ((i,) for i in superseded))
            self.db.executemany(
                "INSERT INTO survey_returns (campaign, form_id, file, sha256, returned, collected, answers, score, nps,"
                " problems, current) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        r.campaign,
                        r.form_id,
                        r.file,
                        r.sha256,
                        r.returned,
                        r.collected,
                        json.dumps(r.answers, ensure_ascii=False),
                        r.score,
                        r.nps,
                        json.dumps(r.problems, ensure_ascii=False),
                        int(r.current),
                    )
                    for r in returns
                ),
            )

    # ---------------------------------------------------------------- e-mail

    def mail_counts(self, campaign: str) -> dict[str, tuple[str | None, int, str | None]]:
        """form id → (day the form was sent or None, reminders sent, day of the last reminder or None)."""
        out: dict[str, tuple[str | None, int, str | None]] = {}
        for form_id, kind, number, sent_on in self.db.execute(
            "SELECT form_id, kind, number, sent_on FROM survey_mail WHERE campaign = ? ORDER BY sent_on", (campaign,)
        ):
            sent, reminders, last = out.get(form_id, (None, 0, None))
            if kind == "form":
                sent = sent_on
            else:
                reminders, last = max(reminders, number), sent_on
            out[form_id] = (sent, reminders, last)
        return out

    def record_mail(self, campaign: str, rows: Iterable[tuple[str, str, int, str]]) -> None:
        """(form id, kind form|reminder, number, sent on) of mails delivered; repeats are ignored."""
        with self.db:
            self.db.executemany(
                "INSERT OR IGNORE INTO survey_mail VALUES (?, ?, ?, ?, ?)",
                ((campaign, f, k, n, d) for f, k, n, d in rows),
            )


def _inside(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` (POSIX separators) when it lies inside it, else absolute."""
    try:
        return Path(path).resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(Path(path).resolve())

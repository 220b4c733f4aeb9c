"""What each job writes back into the ledger (``--write-back``), and where the backup goes.

The file mechanics (patching the sheet inside the zip, backup, atomic replace, open ledgers)
are in ``toolkit.writeback.patch``; this module turns a job's result into the columns.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..config import Settings
from ..i18n import label, sentences
from .patch import Highlight, WriteBackResult, WriteColumn, write_back

__all__ = [
    "WriteBackResult",
    "write_job_columns",
    "classify_columns",
    "plan_columns",
    "validate_columns",
    "validate_highlights",
]


def classify_columns(result: Any, settings: Settings) -> list[WriteColumn]:
    """客户分类(系统), 分类依据, 风险等级 of every customer row."""
    names = settings.rules.writeback_columns()
    lang = settings.lang
    klass: dict[int, str | date | None] = {}
    reason: dict[int, str | date | None] = {}
    risk: dict[int, str | date | None] = {}
    for customer in result.customers:
        klass[customer.row] = customer.klass
        reason[customer.row] = customer.reason
        level = customer.level
        risk[customer.row] = label(f"level.{level}", lang) if level else None
    return [
        WriteColumn("class", names["class"], klass, width=14),
        WriteColumn("reason", names["reason"], reason, width=40),
        WriteColumn("risk", names["risk"], risk, width=10),
    ]


def plan_columns(result: Any, settings: Settings) -> list[WriteColumn]:
    """下次拜访: the first planned visit of every customer row (blank when none falls in the period)."""
    rows = result.ledger.customer_sheet.rows
    first: dict[int, date | None] = dict.fromkeys(rows)
    for visit in result.planned:
        row = rows[visit.due.row]
        current = first[row]
        if current is None or visit.date < current:
            first[row] = visit.date
    return [WriteColumn("next_visit", settings.rules.writeback_columns()["next_visit"], dict(first), width=12)]


def _token(finding: Any) -> str:
    """How the check column names the field of a finding: 【联系电话】 (what --mark searches for)."""
    where = finding.label or finding.field or finding.column
    return f"【{where}】" if where else ""


def validate_columns(result: Any, settings: Settings) -> list[WriteColumn]:
    """校验结果: 通过, or the problems found in that customer row, each led by 【field】."""
    table = result.ledger.customer_sheet
    lang = settings.lang
    problems: dict[int, list[str]] = {}
    for finding in result.findings:
        if finding.sheet == table.sheet and finding.row:
            problems.setdefault(finding.row, []).append(f"{_token(finding)}{finding.message}")
    values: dict[int, str | date | None] = {}
    for row in table.rows:
        found = problems.get(row)
        values[row] = (
            label("writeback.problems", lang, count=len(found), details=sentences(found, lang))
            if found
            else label("writeback.ok", lang)
        )
    return [WriteColumn("check", settings.rules.writeback_columns()["check"], values, width=30)]


def validate_highlights(result: Any) -> list[Highlight]:
    """One mark per user column that has a problem in some row: the cells whose 校验结果 names it."""
    table = result.ledger.customer_sheet
    if not table.rows:
        return []
    first, last = min(table.rows), max(table.rows)
    marks: dict[str, Highlight] = {}
    for finding in result.findings:
        token = _token(finding)
        if finding.sheet == table.sheet and finding.row and finding.column and token and token not in marks:
            marks[token] = Highlight(finding.column, token, first, last)
    return list(marks.values())


def write_job_columns(
    ledger_path: str | os.PathLike[str],
    result: Any,
    columns: list[WriteColumn],
    settings: Settings,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    live: bool = False,
    expected_stat: tuple[int, int] | None = None,
    now: datetime | None = None,
    highlights: list[Highlight] | None = None,
) -> WriteBackResult:
    """Write ``columns`` into the customer sheet the job read. Backups go to the workspace's
    ``backups/`` (for a bare ledger: ``backups/`` in the output folder), kept for the days the
    rules workbook says (参数 writeback.backup_days)."""
    table = result.ledger.customer_sheet
    folder = settings.workspace / "backups" if settings.workspace else settings.output_dir(out_dir) / "backups"
    keep = settings.rules.parameters.get("writeback.backup_days", 30)
    return write_back(
        Path(ledger_path),
        table.sheet,
        table.header_rows[-1],
        table.labels,
        columns,
        backup_dir=folder,
        keep_days=float(keep) if isinstance(keep, (int, float)) else 30.0,
        dry_run=dry_run,
        live=live,
        expected_stat=expected_stat,
        beside_suffix=label("writeback.beside", settings.lang),
        now=now,
        highlights=highlights,
    )

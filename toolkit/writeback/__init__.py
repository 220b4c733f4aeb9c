"""``--write-back``: the jobs' results as columns in the user's own ledger, losing nothing.

- ``columns``: what each job writes back (its result, taken duck-typed, as columns and marks)
- ``patch``: the file mechanics (the customer sheet patched inside the ledger's zip, the
  backup, the atomic replace, a ledger open in Excel)

    stat = stat_for_write_back(ledger, True, False, False)  # before the job reads the ledger
    result = classify(ledger, settings, today=today)
    written = write_job_result(ledger, result, classify_columns, settings, expected_stat=stat)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import InputError
from ..ledger.source import check_ledger_path
from .columns import classify_columns, plan_columns, validate_columns, validate_highlights, write_job_columns
from .patch import Highlight, WriteBackResult, WriteColumn, check_suffix, write_back

__all__ = [
    "Highlight",
    "WriteBackResult",
    "WriteColumn",
    "check_suffix",
    "classify_columns",
    "plan_columns",
    "stat_for_write_back",
    "validate_columns",
    "validate_highlights",
    "write_back",
    "write_job_columns",
    "write_job_result",
]


def stat_for_write_back(ledger: Path, write_back: bool, dry_run: bool, live: bool) -> tuple[int, int] | None:
    """The ledger's (mtime, size) before the job reads it, when the results go back into it."""
    if (dry_run or live) and not write_back:
        raise InputError("--dry-run and --live go with --write-back", hint="add --write-back")
    if not write_back:
        return None
    check_ledger_path(ledger)
    check_suffix(ledger)  # before the job runs, not after
    stat = ledger.stat()
    return stat.st_mtime_ns, stat.st_size


def write_job_result(
    ledger: str | os.PathLike[str],
    result: Any,
    columns: Callable[[Any, Settings], list[WriteColumn]],
    settings: Settings,
    out_dir: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    live: bool = False,
    expected_stat: tuple[int, int] | None = None,
    highlights: list[Highlight] | None = None,
) -> WriteBackResult:
    """Write back the columns ``columns`` (``classify_columns``, ``plan_columns``,
    ``validate_columns``) makes of a job's ``result``; see ``write_job_columns``."""
    return write_job_columns(
        ledger,
        result,
        columns(result, settings),
        settings,
        out_dir=out_dir,
        dry_run=dry_run,
        live=live,
        expected_stat=expected_stat,
        highlights=highlights,
    )

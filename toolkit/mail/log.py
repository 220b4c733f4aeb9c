"""What went to whom and when: the sent log of the state database as rows, as a sheet of a
workbook (the outbox index, the monthly report's 发送记录 sheet) and for ``crm remind --log``."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from ..config import Settings
from ..i18n import LABELS, joined, label
from ..state import SentMessage, StateStore, state_path
from ..xlsx import Book


def kind_label(kind: str, lang: str) -> str:
    """'拜访提醒' for 'visits'; a kind without a label (another job's) as it is."""
    return label(f"mail.kind.{kind}", lang) if f"mail.kind.{kind}" in LABELS["zh"] else kind


def sent_log(
    settings: Settings,
    *,
    kind: str | None = None,
    since: date | None = None,
    until: date | None = None,
    out_dir: str | os.PathLike[str] | None = None,
) -> list[SentMessage]:
    """Every message the mail jobs recorded (of ``kind``, last touched in [since, until)),
    oldest first; empty when nothing was ever sent."""
    path = state_path(settings, out_dir)
    if not path.exists():
        return []
    with StateStore(path) as store:
        return store.sent_log(kind=kind, since=since, until=until)


LOG_HEADERS = tuple(
    f"mail.col.{key}"
    for key in ("time", "kind", "period", "to", "cc", "subject", "customers", "status", "attempts", "reply")
) + ("col.file",)


def log_rows(records: list[SentMessage], lang: str, base: Path | None = None) -> list[list[object]]:
    """One row per message, newest first; file paths relative to ``base`` when given."""
    rows: list[list[object]] = []
    for r in sorted(records, key=lambda r: (r.updated, r.id), reverse=True):
        file = os.path.relpath(r.file, base) if r.file and base else r.file
        rows.append(
            [
                r.updated.replace("T", " "),
                kind_label(r.kind, lang),
                r.period,
                r.recipient,
                r.cc,
                r.subject,
                joined(r.customers, lang),
                label(f"mail.status.{r.status}", lang),
                r.attempts,
                r.reply if r.status != "sent" or r.backend != "outbox" else "",
                file,
            ]
        )
    return rows


def write_log_sheet(book: Book, name: str, records: list[SentMessage], lang: str, base: Path | None = None) -> int:
    """Add a sheet ``name`` listing ``records`` to ``book``; returns the number of rows."""
    sheet = book.add_sheet(name)
    if not records:  # one line that says so, not a header over nothing
        sheet.write_string(0, 0, label("mail.log_empty", lang), book.formats["bold"])
        sheet.set_column(0, 0, 60)
        return 0
    headers = [label(k, lang) for k in LOG_HEADERS]
    return book.table(
        sheet, headers, log_rows(records, lang, base), max_widths=[18, 10, 12, 30, 30, 50, 60, 10, 6, 50, 60]
    )


def add_sent_log_sheet(
    book: Book, settings: Settings, *, month: date, out_dir: str | os.PathLike[str] | None = None
) -> int:
    """The monthly report's 发送记录 sheet: every message recorded in ``month`` (its first day),
    written into ``book``; returns how many. Call it after the report's other sheets."""
    first = month.replace(day=1)
    end = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    records = sent_log(settings, since=first, until=end, out_dir=out_dir)
    return write_log_sheet(book, label("sheet.sent_log", settings.lang), records, settings.lang)


def write_index(folder: Path, records: list[SentMessage], lang: str, *, password: str | None = None) -> Path:
    """The outbox's index workbook: every message written to the outbox, newest first."""
    path = folder / f"{label('mail.index_file', lang)}.xlsx"
    book = Book(str(path), title=label("mail.index_title", lang), password=password)
    write_log_sheet(book, label("mail.index_title", lang), records, lang, base=folder)
    book.close()
    return path

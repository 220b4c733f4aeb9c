"""Sending a batch of messages at most once each, and exactly once when nothing crashes.

Every message has a key: (kind, period, recipient, digest of its content). Before a message
is handed to the backend its key is committed to the state database as 'pending'; after, as
'sent' or 'failed' with the server's reply. A rerun therefore:

- skips every 'sent' key (``already_sent``);
- sends the keys it has never seen: a run that was killed or cut off sends only the rest;
- retries a 'failed' key (the server refused it) on later runs, one attempt per run, until
  ``retry_limit`` attempts were made, then reports it as given up: never a loop;
- leaves a 'pending' key alone: the run that wrote it died while handing the message over,
  so nobody knows whether the server took it. At most once beats twice: it is reported as
  uncertain, and sent again only when asked (``resend_pending=True``, ``--resend-pending``).
  The outbox backend has no such doubt (a file is there or not) and settles it itself.

Durability: every commit survives the process being killed (Ctrl+C, the scheduler, a crash);
one commit in ``sync_every`` (and the last of a batch) is also synced to the disk, so a power
cut or an OS crash can lose at most the records of the last ``sync_every`` messages, which a
rerun would then send again. ``sync_every = 1`` closes that gap at the price of a disk sync
(several milliseconds) per message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config import Settings, check_writable_folder
from ..i18n import joined, label
from ..ledger.coerce import parse_email
from ..state import SentMessage, StateStore, state_path
from ..xlsx import Book
from .config import MailConfig, mail_config
from .log import kind_label, write_index
from .messages import Message, message_id, to_mime
from .outbox import OutboxBackend
from .smtp import ConnectionLost, SenderRefused, SendOutcome, SmtpBackend


@dataclass
class DeliveryResult:
    messages: int = 0
    sent: int = 0
    already_sent: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)  # {recipient, error}
    uncertain: list[dict[str, str]] = field(default_factory=list)  # {recipient, subject}: may or may not have gone
    unsent: int = 0  # left for the next run after the connection was lost
    interrupted: str = ""  # why the batch stopped early
    dry_run: bool = False
    backend: str = ""
    outputs: list[Path] = field(default_factory=list)
    statuses: list[tuple[Message, str, str]] = field(default_factory=list)  # (message, status, reply)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "sent": self.sent,
            "already_sent": self.already_sent,
            "failed": self.failed,
            "uncertain": self.uncertain,
            "unsent": self.unsent,
            "interrupted": self.interrupted or None,
            "dry_run": self.dry_run,
            "backend": self.backend,
            "outputs": [str(p) for p in self.outputs],
            "notes": self.notes,
        }


INDEX = "outbox index"  # the outbox's index workbook, for ``protected_outputs``


def outbox_folder(settings: Settings, config: MailConfig, out: str | os.PathLike[str] | None = None) -> Path:
    if config.outbox is not None:
        return config.outbox
    if settings.workspace is not None and out is None:
        return settings.workspace / "outbox"
    return settings.output_dir(out) / "outbox"


def deliver(
    messages: list[Message],
    settings: Settings,
    *,
    dry_run: bool = False,
    out: str | os.PathLike[str] | None = None,
    now: datetime | None = None,
    resend_pending: bool = False,
    password: str | None = None,
) -> DeliveryResult:
    """Send ``messages`` through the workspace's backend (``[mail] backend``), each at most once.

    ``dry_run`` builds every message, sends nothing, records nothing and writes a preview
    workbook (recipient, subject, customers, what would happen) to ``out``. ``now`` stamps the
    messages and the log (default: the clock). ``password``: the ledger's, when it is protected:
    the preview and the outbox index, which name its customers, are protected alike (and the
    index is never again rewritten without it). Raises ``ConfigError`` when the mail settings
    are wrong or the server refuses the login (nothing is then recorded as sent), and
    ``ToolkitError`` when the server cannot be reached at all."""
    now = now or datetime.now()
    config = mail_config(settings)
    result = DeliveryResult(messages=len(messages), dry_run=dry_run, backend=config.backend)
    path = state_path(settings, out)
    known: dict[tuple[str, str, str, str], SentMessage] = {}
    if path.exists() or not dry_run:
        with StateStore(path) as store:
            for kind in {m.kind for m in messages}:
                known.update(store.sent_messages(kind, {m.period for m in messages if m.kind == kind}))
    if config.backend == "outbox":
        folder = outbox_folder(settings, config, out)
        if not dry_run:
            check_writable_folder(folder)  # before anything is recorded as sent
        backend: OutboxBackend | SmtpBackend = OutboxBackend(folder)
    else:
        backend = SmtpBackend(config)
    todo: list[tuple[Message, tuple[str, str, str, str], SentMessage | None]] = []
    seen: set[tuple[str, str, str, str]] = set()
    for m in messages:
        key = m.key()
        if key in seen:  # the same message twice in one batch: once is enough
            result.messages -= 1
            continue
        seen.add(key)
        wrong = [a for a in (*m.to, *m.cc) if not _valid_address(a)]
        if wrong or not m.to:
            error = label("mail.bad_address", settings.lang, addresses=", ".join(wrong) or "—")
            result.failed.append({"recipient": m.recipient, "error": error})
            result.statuses.append((m, "bad_address", error))
            continue
        before = known.get(key)
        status = _decide(before, config, backend, resend_pending)
        result.statuses.append((m, status, before.reply if before else ""))
        if status == "already_sent":
            result.already_sent += 1
        elif status == "uncertain":
            result.uncertain.append({"recipient": m.recipient, "subject": m.subject})
        elif status == "gave_up":
            reply = before.reply if before else ""
            error = label("mail.gave_up", settings.lang, attempts=before.attempts if before else 0, reply=reply)
            result.failed.append({"recipient": m.recipient, "error": error})
        else:
            todo.append((m, key, before))
    if dry_run:
        result.outputs.append(_preview(result, settings, out, now, password))
        return result
    if todo:
        _send(todo, backend, config, path, result, now, settings.lang)
    if isinstance(backend, OutboxBackend) and todo:
        with StateStore(path) as store:
            records = [r for r in store.sent_log() if r.backend == "outbox"]
            if password:
                store.mark_protected(INDEX)
            locked = store.is_protected(INDEX)
        if records and (password or not locked):
            result.outputs.append(write_index(backend.folder, records, settings.lang, password=password))
        elif records:  # it names a protected ledger's customers: never rewritten in the clear
            result.notes.append(label("mail.index_locked", settings.lang))
    return result


def _valid_address(address: str) -> bool:
    parsed, ok = parse_email(address)
    return ok and bool(parsed) and ";" not in str(parsed)


def _decide(before: SentMessage | None, config: MailConfig, backend, resend_pending: bool) -> str:
    if before is None:
        return "send"
    if before.status == "sent":
        return "already_sent"
    if before.status == "pending":
        if isinstance(backend, OutboxBackend):  # the file is there or it is not
            return "already_sent" if before.file and Path(before.file).exists() else "send"
        return "send" if resend_pending else "uncertain"
    return "send" if before.attempts < config.retry_limit else "gave_up"


def _send(todo, backend, config: MailConfig, path: Path, result: DeliveryResult, now: datetime, lang: str) -> None:
    sender = config.from_address()
    backend.open()  # a refused login raises here, before anything is recorded
    try:
        with StateStore(path) as store:
            store.batch_mode()
            for done, (m, key, before) in enumerate(todo):
                msg_id = message_id(key, sender)
                data = to_mime(m, sender_name=config.sender_name, sender_address=sender, now=now, msg_id=msg_id)
                file = backend.file_for(m, key)
                row = store.begin_send(
                    key,
                    cc=", ".join(m.cc),
                    subject=m.subject,
                    customers=m.customers,
                    backend=backend.name,
                    file=file,
                    message_id=msg_id,
                    when=now,
                    durable=done % config.sync_every == 0,
                )
                try:
                    outcome: SendOutcome = backend.send(m, data, sender, [*m.to, *m.cc], file)
                except SenderRefused:  # the settings are wrong: no message of the batch counts as tried
                    store.undo_send(row, before)
                    raise
                except ConnectionLost as lost:
                    store.undo_send(row, before)
                    result.interrupted = str(lost)
                    result.unsent = len(todo) - done
                    for left, _, _ in todo[done:]:
                        result.failed.append({"recipient": left.recipient, "error": label("mail.unsent", lang)})
                    break
                if outcome.status == "uncertain":
                    result.uncertain.append({"recipient": m.recipient, "subject": m.subject})
                    continue  # stays 'pending'
                store.finish_send(row, outcome.status, outcome.reply, now, commit=False)  # with the next one
                if outcome.status == "sent":
                    result.sent += 1
                    for recipient, why in outcome.refused.items():
                        result.failed.append({"recipient": recipient, "error": why})
                else:
                    result.failed.append({"recipient": m.recipient, "error": outcome.reply})
            store.flush()  # the batch's last records onto the disk
    finally:
        backend.close()


def _preview(result: DeliveryResult, settings: Settings, out, now: datetime, password: str | None = None) -> Path:
    """The dry run's workbook: every message with its recipients, subject, customers and fate."""
    lang = settings.lang
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    kinds = sorted({m.kind for m, _, _ in result.statuses}) or ["mail"]
    folder = settings.output_folder(out)
    path = folder / f"{L('mail.preview_file')}_{'-'.join(kinds)}_{now:%Y%m%d-%H%M}.xlsx"
    book = Book(str(path), title=L("mail.preview_title"), company=settings.company, password=password)
    sheet = book.add_sheet(L("mail.preview_title"))
    headers = [L(k) for k in ("mail.col.kind", "mail.col.period", "mail.col.to", "mail.col.cc", "mail.col.subject")]
    headers += [L("mail.col.customer_count"), L("mail.col.customers"), L("mail.col.attachments"), L("mail.col.status")]
    rows = [
        [
            kind_label(m.kind, lang),
            m.period,
            m.recipient,
            ", ".join(m.cc),
            m.subject,
            len(m.customers),
            joined(m.customers, lang),
            joined((a.filename for a in m.attachments), lang),
            L(f"mail.preview.{status}"),
        ]
        for m, status, _ in result.statuses
    ]
    book.table(sheet, headers, rows, max_widths=[10, 12, 30, 30, 50, 8, 80, 40, 14])
    book.close()
    return path

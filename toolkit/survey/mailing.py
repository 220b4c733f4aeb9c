"""``crm survey send`` and ``crm survey remind``: each form to its customer's contact through the
mail layer (each message at most once: the mail layer keys it by kind, campaign, recipient and
content), and reminders to those who have not answered after N days, at most M times.

A form is e-mailed to the customer's address in the ledger (several addresses: all of them),
with the owner in copy. A customer without an address is reported as failed, so the
assistant can hand the form over another way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from ..config import Settings
from ..i18n import label
from ..surveydata.questions import survey_parameters
from ..surveydata.store import Campaign, IssuedForm
from .campaigns import open_store

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORM_KIND, REMINDER_KIND = "survey", "survey_reminder"


@dataclass
class MailResult:
    kind: str
    campaign: str
    delivery: Any  # toolkit.mail.DeliveryResult
    skipped: list[dict[str, str]] = field(default_factory=list)  # {customer, reason}

    def as_json(self) -> dict[str, Any]:
        return {
            "job": f"survey {'send' if self.kind == FORM_KIND else 'remind'}",
            "kind": self.kind,
            "campaign": self.campaign,
            **self.delivery.as_json(),
            "skipped": self.skipped,
        }


def send_forms(
    settings: Settings,
    *,
    today: date,
    campaign: str | None = None,
    dry_run: bool = False,
    out_dir: str | os.PathLike[str] | None = None,
    now: datetime | None = None,
) -> MailResult:
    """E-mail every form of ``campaign`` (default: the latest) to its customer, once."""
    with open_store(settings, out_dir) as store:
        record = store.campaign(campaign)
        forms = list(store.forms(record.name).values())
    messages, skipped, ids = [], [], []
    for form in forms:
        message = _message(settings, record, form, "survey_form", FORM_KIND, record.name, sent="")
        if isinstance(message, str):
            skipped.append({"customer": form.name, "reason": message})
            continue
        messages.append(message)
        ids.append((form.form_id, 0))
    return _deliver(settings, record, FORM_KIND, messages, ids, skipped, today, dry_run, out_dir, now)


def remind_forms(
    settings: Settings,
    *,
    today: date,
    campaign: str | None = None,
    dry_run: bool = False,
    out_dir: str | os.PathLike[str] | None = None,
    now: datetime | None = None,
) -> MailResult:
    """Remind the customers of ``campaign`` who got the form by e-mail, have returned nothing,
    and were last written to at least ``survey.remind_after_days`` days before ``today``; at most
    ``survey.max_reminders`` reminders each (参数 sheet)."""
    parameters, _ = survey_parameters(settings.rules)
    with open_store(settings, out_dir) as store:
        record = store.campaign(campaign)
        forms = list(store.forms(record.name).values())
        answered = {r.form_id for r in store.returns(record.name)}
        mailed = store.mail_counts(record.name)
    due = today - timedelta(days=parameters.remind_after_days)
    messages, skipped, ids = [], [], []
    for form in forms:
        sent, reminders, last = mailed.get(form.form_id, (None, 0, None))
        if form.form_id in answered or sent is None:
            continue  # answered, or never sent by e-mail: nothing to remind
        if reminders >= parameters.max_reminders:
            skipped.append({"customer": form.name, "reason": label("survey.remind_max", settings.lang, n=reminders)})
            continue
        if date.fromisoformat(last or sent) > due:
            continue
        number = reminders + 1
        message = _message(
            settings, record, form, "survey_reminder", REMINDER_KIND, f"{record.name}#{number}", sent=sent
        )
        if isinstance(message, str):
            skipped.append({"customer": form.name, "reason": message})
            continue
        messages.append(message)
        ids.append((form.form_id, number))
    return _deliver(settings, record, REMINDER_KIND, messages, ids, skipped, today, dry_run, out_dir, now)


def _message(
    settings: Settings, record: Campaign, form: IssuedForm, template: str, kind: str, period: str, *, sent: str
) -> Any:
    """The e-mail for ``form`` with the form attached, or the reason there is none (a str)."""
    from ..mail import Attachment, Message, render

    to = [a.strip() for a in form.email.replace(",", ";").split(";") if a.strip()]
    if not to:
        return label("survey.no_email", settings.lang)
    path = record.folder / form.file
    if not path.is_file():
        return label("survey.form_missing", settings.lang, file=str(path))
    subject, html, text = render(
        template,
        record.lang,
        workspace=settings.workspace,
        company=record.company,
        campaign=record.name,
        customer=form.name,
        contact=form.contact,
        owner=form.owner,
        owner_email=form.owner_email,
        sent=sent,
    )
    return Message(
        kind=kind,
        period=period,
        to=to,
        cc=[form.owner_email] if form.owner_email and form.owner_email not in to else [],
        subject=subject,
        html=html,
        text=text,
        attachments=[Attachment(form.file, path.read_bytes(), XLSX_MIME)],
        customers=[form.name],
        recipient_name=form.contact,
    )


def _deliver(
    settings: Settings,
    record: Campaign,
    kind: str,
    messages: list[Any],
    ids: list[tuple[str, int]],
    skipped: list[dict[str, str]],
    today: date,
    dry_run: bool,
    out_dir: str | os.PathLike[str] | None,
    now: datetime | None,
) -> MailResult:
    from ..mail import deliver

    if now is None:  # the run's time: the clock today, 09:00 of an as-of day given (--today), as crm remind
        now = datetime.now() if today == date.today() else datetime.combine(today, time(9))
    delivery = deliver(messages, settings, dry_run=dry_run, out=out_dir, now=now)
    if not dry_run:
        failed = {f["recipient"] for f in delivery.failed} | {u["recipient"] for u in delivery.uncertain}
        done = {
            id(m)
            for m, status, _ in delivery.statuses
            if status in ("send", "already_sent") and m.recipient not in failed
        }
        rows = [
            (form_id, "form" if number == 0 else "reminder", number, today.isoformat())
            for m, (form_id, number) in zip(messages, ids, strict=True)
            if id(m) in done
        ]
        with open_store(settings, out_dir) as store:
            store.record_mail(record.name, rows)
    return MailResult(kind, record.name, delivery, skipped)

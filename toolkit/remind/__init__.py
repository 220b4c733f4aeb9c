"""``crm remind KIND``: build the reminder e-mails of one kind from the ledger and deliver them.

- visits: each owner's visits due in the coming week (or month) and the overdue ones, with
  the owner's .ics; overdue beyond ``overdue_limit_days`` copies the owner's manager.
- complaints: complaints nearing the reply limit (24 h by default) without a reply go to their
  handler; past it, the handler's manager is copied.
- quality: each owner gets the validation problems in their own rows.
- care: birthday and festival greetings to the contacts of customers marked as wanting them.
- report: last month's status workbook to the managers of ``[mail] managers``.

Every owner's message is built from that owner's rows only. An owner without a usable e-mail
address is a problem in the summary, never a crash.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ..calendar import WorkCalendar
from ..config import Settings, load_settings
from ..errors import InputError
from ..facts import Facts, complaint_limits, load_facts
from ..facts.schedule import schedule_visits, visitors_text
from ..facts.visits import add_months
from ..i18n import label, rule_word
from ..ics import write_ics
from ..mail.config import MailConfig, mail_config
from ..mail.delivery import DeliveryResult, deliver
from ..mail.log import kind_label
from ..mail.messages import Attachment, Message, render, template_mentions
from ..model import COMPLAINTS, TABLE_LABELS, Ledger
from .care import birthday_in, care_window, festivals_on

KINDS = ("visits", "complaints", "quality", "care", "report", "owner-report")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 200  # rows listed in one e-mail; the rest are counted


@dataclass
class RemindResult:
    kind: str
    period: str
    messages: list[Message]
    delivery: DeliveryResult
    problems: list[str] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)  # workbooks made to be attached (the report)

    def as_json(self, limit: int | None = None) -> dict[str, Any]:
        """The JSON of ``crm remind`` (a message an owner: ``limit`` is for ``crm run``'s sake)."""
        data = self.delivery.as_json()
        return {
            "job": "remind",
            "kind": self.kind,
            "period": self.period,
            **data,
            "recipients": sorted({m.recipient for m in self.messages}),
            "problems": self.problems,
            "outputs": [*data["outputs"], *(str(p) for p in self.outputs)],
        }


@dataclass
class _Job:
    """What every builder needs: the settings, the ledger, the clock, the owners' addresses."""

    settings: Settings
    config: MailConfig
    ledger_path: Path
    facts: Facts
    today: date
    now: datetime
    out_dir: str | os.PathLike[str] | None
    password: str | None
    make_report: Callable[..., Any] | None = None
    problems: list[str] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)

    @property
    def ledger(self) -> Ledger:
        return self.facts.ledger

    @property
    def lang(self) -> str:
        return self.settings.lang

    def render(self, template: str, **context: Any) -> tuple[str, str, str]:
        base = {"company": self.settings.company, "sender_name": self.config.sender_name, "today": self.today}
        return render(template, self.lang, workspace=self.settings.workspace, **base, **context)

    def owner_addresses(self, owner: str, count: int) -> list[str]:
        """The owner's addresses, or [] with a problem noted (``count`` items could not go out)."""
        if not owner or owner == label("owner.none", self.lang):
            self.problems.append(label("remind.problem.no_owner", self.lang, count=count))
            return []
        found = _directory(self.ledger, self.config).get(owner)
        if not found:
            value = _bad_owner_email(self.ledger, owner) or "—"
            self.problems.append(label("remind.problem.no_email", self.lang, owner=owner, value=value, count=count))
            return []
        return found

    def manager_of(self, owner: str) -> list[str]:
        chosen = self.config.owner_managers.get(owner)
        managers = [chosen] if chosen else list(self.config.managers)
        if not managers:
            self.problems.append(label("remind.problem.no_manager_for", self.lang, owner=owner))
        return managers


def remind(
    kind: str,
    settings: Settings | None = None,
    *,
    today: date,
    now: datetime | None = None,
    ledger: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    out_dir: str | os.PathLike[str] | None = None,
    password: str | None = None,
    resend_pending: bool = False,
    facts: Facts | None = None,
    make_report: Callable[..., Any] | None = None,
) -> RemindResult:
    """Build the ``kind`` reminders (one of ``KINDS``) as of ``today`` (``now`` for the complaint
    hours; default 09:00 of ``today``) from ``ledger`` (default: the workspace's main ledger)
    and deliver them; see ``deliver`` for what is sent, skipped and recorded. ``facts``: the
    ledger's facts as of ``today`` when the caller has them (``crm run``). ``make_report``: the
    monthly report job (``toolkit.report.report``) for the ``report`` kind, given by the caller
    so that this job imports no other.

    Raises ``InputError`` for an unknown kind or a ledger that cannot be read, ``ConfigError``
    for wrong mail settings or a refused login."""
    settings = settings or load_settings()
    if kind not in KINDS:
        raise InputError(f"unknown reminder kind '{kind}'", hint=f"use one of: {', '.join(KINDS)}")
    config = mail_config(settings)
    path = Path(ledger) if ledger else settings.ledgers.get("main")
    if path is None:
        raise InputError(
            "no ledger given",
            hint="give --ledger PATH, or name it under [ledgers] main = ... in the workspace's crm.toml",
        )
    now = now or datetime.combine(today, time(9))
    if facts is None:
        facts = load_facts(path, settings, today=today, now=now, password=password, out_dir=out_dir)
    job = _Job(settings, config, path, facts, today, now, out_dir, password, make_report)
    period, messages = BUILDERS[kind](job)
    delivery = deliver(
        messages,
        settings,
        dry_run=dry_run,
        out=out_dir,
        now=job.now,
        resend_pending=resend_pending,
        password=facts.ledger.password,
    )
    problems = list(dict.fromkeys(job.problems + delivery.notes))
    return RemindResult(kind, period, messages, delivery, problems, job.outputs)


# ---------------------------------------------------------------- owners and their addresses


def _directory(ledger: Ledger, config: MailConfig) -> dict[str, list[str]]:
    """Owner name → e-mail addresses: the ledger's 客户经理邮箱 (the most common one per owner),
    overridden by ``[mail.owners]``."""
    table = ledger.customer_sheet
    bad = table.bad.get("owner_email", {})
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for i, (owner, mail) in enumerate(zip(table.column("owner"), table.column("owner_email"), strict=True)):
        if owner and mail and i not in bad:
            seen[str(owner)][str(mail)] += 1
    found = {owner: counts.most_common(1)[0][0].split("; ") for owner, counts in seen.items()}
    found.update({owner: [mail] for owner, mail in config.owners.items()})
    return found


def _bad_owner_email(ledger: Ledger, owner: str) -> str:
    table = ledger.customer_sheet
    bad = table.bad.get("owner_email", {})
    owners = table.column("owner")
    return next((str(v) for i, v in bad.items() if owners[i] == owner), "")


def _first_address(value: Any) -> str:
    return str(value).split("; ")[0] if value else ""


def _names(ledger: Ledger) -> list[str]:
    return [str(n or "") for n in ledger.customer_sheet.column("name")]


# ---------------------------------------------------------------- visits


def _visits(job: _Job) -> tuple[str, list[Message]]:
    """Each owner's visits of the week or month, placed as ``crm plan`` places them (the same
    ``schedule_visits``), with the .ics that ``crm plan`` writes."""
    week = job.config.visits_period == "week"
    if week:
        year, number, weekday = job.today.isocalendar()
        period, start = f"{year}-W{number:02d}", job.today - timedelta(days=weekday - 1)
        end_exclusive = start + timedelta(weeks=1)
    else:
        period, start = f"{job.today:%Y-%m}", job.today.replace(day=1)
        end_exclusive = add_months(start, 1)
    start = max(start, job.today)  # visits are not planned on days gone by
    if not job.facts.dues:
        job.problems.append(label("remind.problem.no_cadence", job.lang))
        return period, []
    placed, overdue, _ = schedule_visits(job.facts, start, end_exclusive)
    customers = job.ledger.customer_sheet
    names = _names(job.ledger)
    ids, contacts, phones = customers.column("customer_id"), customers.column("contact"), customers.column("phone")
    overdue_ids = {id(v) for v in overdue}
    by_owner: dict[str, list] = defaultdict(list)
    for v in placed:
        by_owner[v.owner].append(v)
    end = end_exclusive - timedelta(days=1)
    messages = []
    with tempfile.TemporaryDirectory() as folder:
        for owner in sorted(by_owner):
            visits = by_owner[owner]
            to = job.owner_addresses(owner, len(visits))
            if not to:
                continue
            late = [v for v in visits if id(v) in overdue_ids]
            limit = job.config.overdue_limit_days
            escalate = any(v.due.overdue_days(job.today) > limit for v in late)
            cc = [m for m in job.manager_of(owner) if m not in to] if escalate else []
            rows = [
                {
                    "date": v.date,
                    "customer": names[v.due.row],
                    "kind": rule_word(v.due.kind, job.lang),
                    "way": rule_word(v.due.way, job.lang),
                    "with": visitors_text(v, job.lang, besides=owner),  # who goes with the owner, or instead
                    "purpose": rule_word(v.purpose, job.lang),
                    "contact": contacts[v.due.row] or "",
                    "phone": phones[v.due.row] or "",
                    "due": v.due.due,
                    "days_overdue": v.due.overdue_days(job.today) if id(v) in overdue_ids else 0,
                    "escalated": id(v) in overdue_ids and v.due.overdue_days(job.today) > limit,
                }
                for v in visits
            ]
            subject, html, text = job.render(
                "visits",
                owner=owner,
                period=period,
                start=start,
                end=end,
                overdue=[r for r in rows if r["days_overdue"]],
                planned=[r for r in rows if not r["days_overdue"]],
                limit=limit,
                escalated=bool(cc),
            )
            ics = write_ics(Path(folder) / "plan.ics", job.ledger, job.today, owner, visits, job.lang)
            attachment = Attachment(
                f"{owner}_{label('plan.file', job.lang)}_{start:%Y%m%d}-{end:%Y%m%d}.ics",
                ics.read_bytes(),
                "text/calendar",
            )
            # a visit is the same item while no new visit is recorded (its due date moves daily
            # for a customer never visited, so it is not part of the identity)
            basis = sorted(f"{ids[v.due.row] or names[v.due.row]}|{v.due.kind}|{v.due.last}" for v in visits)
            messages.append(
                Message(
                    "visits",
                    period,
                    to,
                    cc,
                    subject,
                    html,
                    text,
                    [attachment],
                    sorted({names[v.due.row] for v in visits}),
                    owner,
                    digest_basis="\n".join([*basis, f"cc:{','.join(cc)}"]),
                )
            )
    return period, messages


# ---------------------------------------------------------------- complaints


def _complaints(job: _Job) -> tuple[str, list[Message]]:
    """Two limits (004): the first reply within 24 h, and the handling within the time promised
    at intake (承诺时限; without one, the rules' 投诉未解决 hours). A complaint is in the mail
    from ``complaint_warn_hours`` before a limit; past it, the handler's manager is copied."""
    period = job.today.isoformat()
    table = job.ledger.tables.get(COMPLAINTS)
    if table is None:
        job.problems.append(label("remind.problem.no_ledger_sheet", job.lang, sheet=TABLE_LABELS[job.lang][COMPLAINTS]))
        return period, []
    limit, handling = complaint_limits(job.settings.rules)
    warn = job.config.complaint_warn_hours
    owners = job.ledger.customer_sheet.column("owner")
    names = _names(job.ledger)
    typed_names, categories, contents = table.column("customer"), table.column("category"), table.column("content")
    by_handler: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for state in job.facts.complaints:
        received, row = state.received, state.customer
        if received is None or state.resolved:
            continue
        hours = (job.now - received).total_seconds() / 3600
        if hours < 0:
            continue
        if state.replied is None:  # the reply is the first thing due
            if hours < limit - warn:
                continue
            late, due = hours >= limit, received + timedelta(hours=limit)
            which = "reply"
        else:
            due = state.due_by(handling)
            left = (due - job.now).total_seconds() / 3600 if due else None
            if left is None or left > warn:
                continue
            late, which = left <= 0, "promise"
        customer = names[row] if row is not None else str(typed_names[state.position] or "")
        who = str(state.handler or (owners[row] if row is not None else "") or "")
        by_handler[who].append(
            {
                "id": state.complaint_id or f"{table.sheet}!{state.row}",
                "customer": customer,
                "received": received,
                "hours": round(hours, 1),
                "overdue": late,
                "limit": which,
                "due": due,
                "stage": label(f"stage.{state.stage}", job.lang),
                "category": categories[state.position] or "",
                "content": contents[state.position] or "",
            }
        )
    if not template_mentions("complaints", job.lang, job.settings.workspace, "promise_overdue"):
        # the workspace's copy of the template predates promised times: it could not show them
        dropped = sum(1 for items in by_handler.values() for c in items if c["limit"] == "promise")
        if dropped:
            job.problems.append(label("remind.problem.old_complaint_template", job.lang, count=dropped))
        by_handler = {
            h: kept for h, items in by_handler.items() if (kept := [c for c in items if c["limit"] == "reply"])
        }
    messages = []
    for handler in sorted(by_handler):
        items = sorted(by_handler[handler], key=lambda c: -c["hours"])
        to = job.owner_addresses(handler, len(items))
        if not to:
            continue
        late = [c for c in items if c["overdue"]]
        cc = [m for m in job.manager_of(handler) if m not in to] if late else []
        replies = [c for c in items if c["limit"] == "reply"]
        promises = sorted((c for c in items if c["limit"] == "promise"), key=lambda c: c["due"])
        subject, html, text = job.render(
            "complaints",
            handler=handler,
            overdue=[c for c in replies if c["overdue"]],
            nearing=[c for c in replies if not c["overdue"]],
            promise_overdue=[c for c in promises if c["overdue"]],
            promise_nearing=[c for c in promises if not c["overdue"]],
            limit=limit,
            handling=handling,
            escalated=bool(cc),
        )
        # a reply item's key as before the promise items came, so no reminder goes out twice
        basis = sorted(f"{c['id']}|{'promise|' if c['limit'] == 'promise' else ''}{c['overdue']}" for c in items)
        messages.append(
            Message(
                "complaints",
                period,
                to,
                cc,
                subject,
                html,
                text,
                customers=sorted({c["customer"] for c in items}),
                recipient_name=handler,
                digest_basis="\n".join(basis),
            )
        )
    return period, messages


# ---------------------------------------------------------------- quality


def _quality(job: _Job) -> tuple[str, list[Message]]:
    year, number, _ = job.today.isocalendar()
    period = f"{year}-W{number:02d}"
    findings = job.facts.findings()
    table = job.ledger.customer_sheet
    name_of_row = dict(zip(table.rows, _names(job.ledger), strict=True))
    by_owner: dict[str, list] = defaultdict(list)
    unowned = 0
    for f in findings:  # every sheet's: a visit record or a complaint row of theirs is theirs to fix too
        if f.owner:
            by_owner[f.owner].append(f)
        else:
            unowned += 1
    if unowned:
        job.problems.append(label("remind.problem.no_owner", job.lang, count=unowned))
    messages = []
    for owner in sorted(by_owner):
        items = by_owner[owner]
        to = job.owner_addresses(owner, len(items))
        if not to:
            continue
        rows = [
            {
                "sheet": f.sheet,
                "cell": f.cell,
                "customer": name_of_row.get(f.row or 0, "") if f.sheet == table.sheet else "",
                "field": f.label or f.field,
                "value": "" if f.value is None else str(f.value),
                "message": f.message,
                "hint": f.hint,
                "severity": label(f"severity.{f.severity}", job.lang),
            }
            for f in items
        ]
        errors = sum(1 for f in items if f.severity == "error")
        subject, html, text = job.render(
            "quality",
            owner=owner,
            period=period,
            rows=rows[:MAX_ROWS],
            more=max(len(rows) - MAX_ROWS, 0),
            errors=errors,
            warnings=len(items) - errors,
            ledger=job.ledger_path.name,
        )
        messages.append(
            Message(
                "quality",
                period,
                to,
                [],
                subject,
                html,
                text,
                customers=sorted({r["customer"] for r in rows if r["customer"]}),
                recipient_name=owner,
                digest_basis="\n".join(sorted(f"{f.code}|{f.sheet}|{f.cell}" for f in items)),
            )
        )
    return period, messages


# ---------------------------------------------------------------- care


def _care(job: _Job) -> tuple[str, list[Message]]:
    window = care_window(job.today, WorkCalendar(job.settings.rules.holidays))
    period = job.today.isoformat()
    table = job.ledger.customer_sheet
    if not table.has("wants_care"):
        job.problems.append(label("remind.problem.no_care_column", job.lang))
        return period, []
    names = _names(job.ledger)
    ids, contacts, owners = table.column("customer_id"), table.column("contact"), table.column("owner")
    wanted = [i for i, yes in enumerate(table.column("wants_care")) if yes is True]
    mails, bad = table.column("email"), table.bad.get("email", {})
    reachable = [i for i in wanted if i not in bad and _first_address(mails[i])]
    if len(reachable) < len(wanted):
        job.problems.append(label("remind.problem.no_contact_email", job.lang, count=len(wanted) - len(reachable)))
    births = table.column("birthday")
    messages = []
    for day in window:
        occasions: list[tuple[str, str, list[int]]] = [
            (f, "festival", reachable) for f in festivals_on(day)
        ]  # (what, template, customers)
        born_today = [i for i in reachable if births[i] and birthday_in(births[i], day.year) == day]
        if born_today:
            occasions.append(("birthday", "birthday", born_today))
        for what, template, rows in occasions:
            for i in rows:
                contact = str(contacts[i] or "")
                subject, html, text = job.render(
                    template,
                    festival=what,
                    festival_name=label(f"care.{what}", job.lang),
                    day=day,
                    early=day > job.today,
                    contact=contact,
                    customer=names[i],
                    owner=str(owners[i] or ""),
                )
                messages.append(
                    Message(
                        "care",
                        day.isoformat(),
                        [_first_address(mails[i])],
                        [],
                        subject,
                        html,
                        text,
                        customers=[names[i]],
                        recipient_name=contact,
                        digest_basis=f"{what}|{ids[i] or names[i]}",
                    )
                )
    return period, messages


# ---------------------------------------------------------------- report


def _last_month(job: _Job) -> date:
    return (job.today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _monthly_report(job: _Job, month: date, *, split: bool = False) -> Any:
    """Last month's report, made by the report job the caller gave (this job imports none)."""
    if job.make_report is None:
        raise InputError("the report reminders need the report job", hint="call toolkit.pipeline.remind")
    made = job.make_report(
        job.ledger_path, job.settings, month=month, out_dir=job.out_dir, today=job.today, facts=job.facts, split=split
    )
    job.outputs.extend(made.outputs)
    return made


def _report(job: _Job) -> tuple[str, list[Message]]:
    month = _last_month(job)
    period = f"{month:%Y-%m}"
    if not job.config.managers:
        job.problems.append(label("remind.problem.no_managers", job.lang))
        return period, []
    made = _monthly_report(job, month)
    workbook = made.outputs[0]
    kpis = made.kpis()
    subject, html, text = job.render(
        "report",
        month=month,
        kpis=kpis,
        missing=[label("missing." + m, job.lang) for m in made.missing],
        filename=workbook.name,
    )
    attachment = Attachment(workbook.name, workbook.read_bytes(), XLSX)
    return period, [
        Message(
            "report",
            period,
            [manager],
            [],
            subject,
            html,
            text,
            [attachment],
            customers=[],
            digest_basis=f"report|{job.ledger_path.resolve()}|{period}",
        )
        for manager in job.config.managers
    ]


def _owner_report(job: _Job) -> tuple[str, list[Message]]:
    """Each owner: last month's report of their own customers (``crm report --split``)
    attached, so what is sent to them holds only their customers (001, 002, 004)."""
    month = _last_month(job)
    period = f"{month:%Y-%m}"
    made = _monthly_report(job, month, split=True)
    names = _names(job.ledger)
    messages = []
    for owner, mine in sorted(made.owner_reports.items()):
        to = job.owner_addresses(owner, 1)
        if not to:
            continue
        workbook = mine.outputs[0]
        subject, html, text = job.render(
            "owner_report",
            owner=owner,
            month=month,
            kpis=mine.kpis(),
            missing=[label("missing." + m, job.lang) for m in mine.missing],
            filename=workbook.name,
        )
        messages.append(
            Message(
                "owner-report",
                period,
                to,
                [],
                subject,
                html,
                text,
                [Attachment(workbook.name, workbook.read_bytes(), XLSX)],
                customers=sorted({names[i] for i in mine.rows or ()}),
                recipient_name=owner,
                digest_basis=f"owner-report|{job.ledger_path.resolve()}|{period}|{owner}",
            )
        )
    return period, messages


BUILDERS: dict[str, Callable[[_Job], tuple[str, list[Message]]]] = {
    "visits": _visits,
    "complaints": _complaints,
    "quality": _quality,
    "care": _care,
    "report": _report,
    "owner-report": _owner_report,
}


def describe(result: RemindResult, lang: str) -> str:
    """The one-line summary of a run, in ``lang``."""
    kind = kind_label(result.kind, lang)
    d = result.delivery
    if d.dry_run:
        return label("remind.dry_run", lang, kind=kind, period=result.period, messages=d.messages)
    if not d.messages:
        return label("remind.nothing", lang, kind=kind, period=result.period)
    return label(
        "remind.summary",
        lang,
        kind=kind,
        period=result.period,
        messages=d.messages,
        sent=d.sent,
        already=d.already_sent,
        failed=len(d.failed),
    )

"""``crm survey create``: a campaign and one form per active customer.

The questions are fixed when a campaign is created (a later edit of the 问卷 sheet applies to
the next campaign). Running create again for the same campaign issues forms only to customers
who have none yet (new in the ledger since), so a form already sent is never replaced.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import InputError
from ..i18n import label
from ..state import state_path
from ..surveydata.questions import Question, load_questions, survey_parameters
from ..surveydata.store import Campaign, IssuedForm, SurveyStore
from ..workspace import group_ledgers
from .forms import workspace_secret, write_form

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def state_folder(settings: Settings, out_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the state database and the signing key live: the workspace, else the output folder."""
    return settings.workspace if settings.workspace else settings.output_dir(out_dir)


def open_store(settings: Settings, out_dir: str | os.PathLike[str] | None = None) -> SurveyStore:
    return SurveyStore(state_path(settings, out_dir))


@dataclass
class CreateResult:
    campaign: str
    folder: Path
    created: list[IssuedForm]
    existing: int
    skipped: list[tuple[str, str]]  # (customer, why no form)
    questions: list[Question]
    notes: list[str] = field(default_factory=list)

    @property
    def outputs(self) -> list[Path]:
        return [self.folder / f.file for f in self.created]

    def as_json(self) -> dict[str, Any]:
        return {
            "job": "survey create",
            "campaign": self.campaign,
            "folder": str(self.folder),
            "forms": len(self.created) + self.existing,
            "created": len(self.created),
            "existing": self.existing,
            "skipped": [{"customer": n, "reason": r} for n, r in self.skipped],
            "questions": [q.as_json() for q in self.questions],
            "notes": self.notes,
            "outputs": [str(p) for p in self.outputs],
        }


def create_campaign(
    ledger: str | os.PathLike[str] | None,
    settings: Settings,
    *,
    campaign: str,
    today: date,
    group: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    password: str | None = None,
) -> CreateResult:
    """Create (or extend) ``campaign``: one signed form per active customer of ``ledger`` (or of
    every ledger in the ``group`` folder, one subsidiary each) in ``out/问卷_<campaign>/``.

    Raises ``InputError`` for an unusable campaign name, a ledger that cannot be read, a group
    folder without ledgers, or a campaign whose questions differ from the rules workbook's."""
    campaign = campaign.strip()
    if not campaign or _UNSAFE.search(campaign) or len(campaign) > 60:
        raise InputError(
            f"campaign name '{campaign}' cannot be used",
            hint='give a short name without \\ / : * ? " < > |, such as 2026Q4 or 2026下半年',
        )
    lang = settings.lang
    parameters, notes = survey_parameters(settings.rules)
    sources = _ledgers(ledger, settings, group)
    store = open_store(settings, out_dir)
    try:
        existing = store.find_campaign(campaign)
        if existing is None:
            questions, question_notes = load_questions(settings.rules)
            notes += question_notes
            folder = settings.output_folder(out_dir) / f"{label('survey.folder', lang)}_{campaign}"
            record = Campaign(
                campaign,
                datetime.now().isoformat(timespec="seconds"),
                today.isoformat(),
                lang,
                settings.company,
                questions,
                folder,
            )
        else:
            record, lang = existing, existing.lang
            notes.append(label("survey.note_existing", lang, campaign=campaign, created=existing.as_of))
        folder = record.folder
        issued = store.forms(campaign)
        secret = workspace_secret(state_folder(settings, out_dir))
        candidates, skipped, protected = _customers(sources, settings, today, parameters.skip_status, password, lang)
        names = Counter(c["name"] for c in candidates)
        taken = {f.file.lower() for f in issued.values()}
        folder.mkdir(parents=True, exist_ok=True)
        created: list[IssuedForm] = []
        kept = 0
        for customer in candidates:
            if customer["form_id"] in issued:
                kept += 1
                continue
            file = _file_name(campaign, customer, names, taken)
            taken.add(file.lower())
            signed = write_form(
                folder / file,
                campaign=campaign,
                form_id=customer["form_id"],
                questions=record.questions,
                customer=customer["name"],
                company=record.company,
                lang=lang,
                secret=secret,
            )
            created.append(
                IssuedForm(
                    campaign,
                    customer["form_id"],
                    customer["key"],
                    customer["ledger"],
                    customer["subsidiary"],
                    customer["customer_id"],
                    customer["name"],
                    customer["contact"],
                    customer["email"],
                    customer["owner"],
                    customer["owner_email"],
                    customer["class"],
                    customer["industry"],
                    file,
                    signed,
                    today.isoformat(),
                )
            )
        if existing is None:
            if not created:
                raise InputError(
                    "no active customer to survey",
                    hint=f"customers whose status is {'、'.join(parameters.skip_status)} get no form "
                    "(参数 survey.skip_status)",
                )
            store.add_campaign(record)
        if protected:  # its results name the customers of a protected ledger: protected alike
            store.mark_protected(f"survey {campaign}")
        store.add_forms(created)
    finally:
        store.close()
    return CreateResult(campaign, folder, created, kept, skipped, record.questions, notes)


def _ledgers(
    ledger: str | os.PathLike[str] | None, settings: Settings, group: str | os.PathLike[str] | None
) -> list[tuple[Path, str]]:
    """(ledger, subsidiary) pairs: the one ledger (subsidiary ''), or every ledger of a group folder."""
    if group is None:
        path = Path(ledger) if ledger else settings.ledgers.get("main")
        if path is None:
            raise InputError(
                "no ledger given", hint="give the ledger's path, or name it under [ledgers] main = ... in crm.toml"
            )
        return [(path, "")]
    return group_ledgers(group, settings)


def _customers(
    sources: list[tuple[Path, str]],
    settings: Settings,
    today: date,
    skip_status: tuple[str, ...],
    password: str | None,
    lang: str,
) -> tuple[list[dict[str, str]], list[tuple[str, str]], bool]:
    """The active customers of every ledger, with what the results group them by; the
    customers left out with the reason; whether a ledger was password-protected. The class is
    the workspace policy's (or the one typed in the ledger where the policy cannot compute)."""
    from ..facts import load_facts

    out: list[dict[str, str]] = []
    skipped: list[tuple[str, str]] = []
    protected = False
    for path, subsidiary in sources:
        facts = load_facts(path, settings, today=today, password=password)
        protected = protected or facts.ledger.password is not None
        table = facts.ledger.customer_sheet
        columns = {
            k: table.column(k)
            for k in ("customer_id", "name", "owner", "contact", "email", "owner_email", "industry", "status")
        }
        classes, keys = facts.classes.final, facts.index.keys
        ledger_key = settings.ledger_key(path)
        for i in range(len(table)):
            name = str(columns["name"][i] or "").strip()
            if not name:
                skipped.append((f"{table.sheet}!{table.rows[i]}", label("survey.skip_no_name", lang)))
                continue
            status = str(columns["status"][i] or "")
            if status in skip_status:
                skipped.append((name, label("survey.skip_status", lang, status=status)))
                continue
            out.append(
                {
                    "form_id": f"{subsidiary}/{keys[i]}" if subsidiary else keys[i],
                    "key": keys[i],
                    "ledger": ledger_key,
                    "subsidiary": subsidiary,
                    "customer_id": str(columns["customer_id"][i] or ""),
                    "name": name,
                    "contact": str(columns["contact"][i] or ""),
                    "email": str(columns["email"][i] or ""),
                    "owner": str(columns["owner"][i] or ""),
                    "owner_email": str(columns["owner_email"][i] or ""),
                    "class": classes[i] or "",
                    "industry": str(columns["industry"][i] or ""),
                }
            )
    return out, skipped, protected


def _file_name(campaign: str, customer: dict[str, str], names: Counter[str], taken: set[str]) -> str:
    """``<campaign>_<customer>.xlsx``, with the customer ID (or the subsidiary, or a number)
    added when two customers share a name; safe on Windows."""
    base = _UNSAFE.sub("_", f"{campaign}_{customer['name']}").strip(" .")[:100]
    if names[customer["name"]] > 1:
        extra = customer["customer_id"] or customer["subsidiary"]
        if extra:
            base += "_" + _UNSAFE.sub("_", extra)
    candidate, n = f"{base}.xlsx", 2
    while candidate.lower() in taken:
        candidate, n = f"{base}_{n}.xlsx", n + 1
    return candidate

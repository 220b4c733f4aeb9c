"""``crm survey collect FOLDER``: read the returned forms dropped into a folder, match each to
the form issued, verify its signature, and keep its answers.

Every file ends as a finding, never as a crash: unreadable, not a form, an unknown campaign
or customer, signed with another workspace's key, edited outside its answer cells, a file
named for one customer holding another's form, returned empty. Accepted forms may still carry
problems (a required answer missing, a value out of range): the valid answers count and the
problems are listed. A second return from the same customer: the latest saved wins and the
earlier stays in the history. A file already collected (same content) is not counted again.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import InputError
from ..i18n import label
from .campaigns import open_store, state_folder
from .forms import FormError, changed_cells, layout, read_form, signature, workspace_secret
from .questions import Question, nps_value, rating_value
from .store import Campaign, IssuedForm, Return

FORM_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")  # a customer may "save as" another format
_COPY_SUFFIX = re.compile(r"(\s*[(（]\d+[)）]|\s*-\s*(副本|copy)(\s*\d+)?|_\d+)$", re.IGNORECASE)


@dataclass
class Rejected:
    file: str
    reason: str  # a code: unreadable, not_a_form, unknown_campaign, unknown_customer, foreign, tampered, …
    detail: str = ""

    def as_json(self, lang: str) -> dict[str, str]:
        return {
            "file": self.file,
            "reason": self.reason,
            "message": label(f"survey.reject.{self.reason}", lang) + (f" ({self.detail})" if self.detail else ""),
        }


@dataclass
class CollectResult:
    folder: Path
    received: list[str] = field(default_factory=list)  # files examined this run
    accepted: list[Return] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    already_collected: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    lang: str = "zh"
    outputs: list[Path] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "job": "survey collect",
            "folder": str(self.folder),
            "received": len(self.received),
            "accepted": len(self.accepted),
            "accepted_forms": [{"file": r.file, "campaign": r.campaign, "form": r.form_id} for r in self.accepted],
            "rejected": [r.as_json(self.lang) for r in self.rejected],
            "duplicates": self.duplicates,
            "problems": self.problems,
            "already_collected": len(self.already_collected),
            "ignored": self.ignored,
            "outputs": [str(p) for p in self.outputs],
        }


def score_answers(
    questions: list[Question], values: list[Any]
) -> tuple[dict[str, Any], float | None, int | None, list[dict[str, Any]]]:
    """(answers by question key, mean rating, recommend 0–10, problems) of one form's answer
    cells. Pure. A value out of range is not scored; it and every required question left
    empty is a problem {question, problem: missing | out_of_range, value}."""
    answers: dict[str, Any] = {}
    problems: list[dict[str, Any]] = []
    ratings: list[int] = []
    nps: int | None = None
    for question, value in zip(questions, values, strict=True):
        blank = value is None or (isinstance(value, str) and not value.strip())
        if blank:
            if question.required:
                problems.append({"question": question.key, "problem": "missing", "value": None})
            continue
        if question.kind == "text":
            answers[question.key] = str(value).strip() if not isinstance(value, float) else f"{value:g}"
            continue
        scored = rating_value(value) if question.kind == "rating" else nps_value(value)
        if scored is None:
            shown = value if isinstance(value, (str, int, float)) else str(value)
            problems.append({"question": question.key, "problem": "out_of_range", "value": shown})
            continue
        answers[question.key] = scored
        if question.kind == "rating":
            ratings.append(scored)
        else:
            nps = scored
    mean = round(sum(ratings) / len(ratings), 4) if ratings else None
    return answers, mean, nps, problems


def collect(
    folder: str | os.PathLike[str],
    settings: Settings,
    *,
    today: date,
    campaign: str | None = None,
    out_dir: str | os.PathLike[str] | None = None,
) -> CollectResult:
    """Collect the forms in ``folder`` (and its sub-folders) into the workspace's state.

    ``campaign`` limits the run to that campaign's forms (others are left for a later run).
    Raises ``InputError`` when the folder does not exist or no campaign was created; every
    problem with a single file is a finding in the result."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError("is not a folder", file=root, hint="give the folder where the returned forms were saved")
    lang = settings.lang
    result = CollectResult(root, lang=lang)
    store = open_store(settings, out_dir)
    try:
        if campaign:
            store.campaign(campaign)  # an InputError names the known campaigns
        campaigns = {c.name: c for c in store.campaigns()}
        if not campaigns:
            store.campaign(None)  # raises: no campaign yet
        secret = workspace_secret(state_folder(settings, out_dir))
        forms: dict[str, dict[str, IssuedForm]] = {name: store.forms(name) for name in campaigns}
        by_file = {f.file.lower()[: -len(".xlsx")]: f for issued in forms.values() for f in issued.values()}
        current = {(r.campaign, r.form_id): r for r in store.returns()}
        seen = store.seen_files()
        files_rows: list[tuple[str, str, str, str, str, str, str, str]] = []
        new_returns: list[Return] = []
        superseded: list[int] = []
        collected_on = today.isoformat()
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            name = str(path.relative_to(root))
            if path.name.startswith(("~$", ".")):
                continue
            if path.suffix.lower() not in FORM_SUFFIXES:
                result.ignored.append(name)
                continue
            try:
                content = path.read_bytes()
            except OSError as error:
                result.received.append(name)
                result.rejected.append(Rejected(name, "unreadable", str(error)))
                continue
            digest = hashlib.sha256(content).hexdigest()
            if digest in seen:
                result.already_collected.append(name)
                continue
            result.received.append(name)
            try:
                outcome = _examine(path, name, digest, campaigns, forms, by_file, secret, campaign)
            except Exception as error:  # one odd file never stops the run
                outcome = Rejected(name, "unreadable", f"{type(error).__name__}: {error}")
            if outcome is None:  # another campaign's form, left for its own run
                result.received.pop()
                continue
            seen[digest] = (name, "", "")  # the same content twice in one folder counts once
            if isinstance(outcome, Rejected):
                result.rejected.append(outcome)
                files_rows.append((digest, name, "rejected", outcome.reason, outcome.detail, "", "", collected_on))
                continue
            answers, returned_form = outcome
            questions = campaigns[answers.campaign].questions
            for problem in answers.problems:
                result.problems.append(
                    {
                        "file": name,
                        "customer": returned_form.name,
                        "question": problem["question"],
                        "text": next((q.label(lang) for q in questions if q.key == problem["question"]), ""),
                        "problem": problem["problem"],
                        "value": problem["value"],
                    }
                )
            answers.collected = collected_on
            earlier = current.get((answers.campaign, answers.form_id))
            if earlier is not None:
                if answers.returned >= earlier.returned:
                    if earlier.id:
                        superseded.append(earlier.id)
                    else:
                        earlier.current = False
                    current[(answers.campaign, answers.form_id)] = answers
                    kept = name
                else:
                    answers.current = False
                    kept = earlier.file
                result.duplicates.append(
                    {"file": name, "customer": returned_form.name, "earlier": earlier.file, "kept": kept}
                )
            else:
                current[(answers.campaign, answers.form_id)] = answers
            new_returns.append(answers)
            result.accepted.append(answers)
            files_rows.append((digest, name, "accepted", "", "", answers.campaign, answers.form_id, collected_on))
        store.record_collection(files_rows, new_returns, superseded)
    finally:
        store.close()
    return result


def _examine(
    path: Path,
    name: str,
    digest: str,
    campaigns: dict[str, Campaign],
    forms: dict[str, dict[str, IssuedForm]],
    by_file: dict[str, IssuedForm],
    secret: bytes,
    only: str | None,
) -> Rejected | tuple[Return, IssuedForm] | None:
    """One file: the return it holds, or why it is refused (None: another campaign's, skipped)."""
    try:
        found = read_form(path)
    except FormError as error:
        return Rejected(name, error.reason, error.detail)
    record = campaigns.get(found.campaign)
    if record is None:
        return Rejected(name, "unknown_campaign", found.campaign)
    if only and found.campaign != only:
        return None
    issued = forms[found.campaign].get(found.form_id)
    if issued is None:
        return Rejected(name, "unknown_customer", found.form_id)
    if not hmac.compare_digest(found.signature, issued.signature):
        return Rejected(name, "foreign", issued.name)
    if len(found.answer_cells) != len(record.questions):
        return Rejected(name, "tampered", issued.name)
    computed = signature(secret, found.campaign, found.form_id, found.layout())
    if not hmac.compare_digest(computed, found.signature):
        expected = layout(found.campaign, record.questions, issued.name, record.company, record.lang)
        cells = changed_cells(expected, found.layout())
        return Rejected(name, "tampered", f"{issued.name}: {', '.join(cells[:5]) or '?'}")
    named = by_file.get(path.stem.lower()) or by_file.get(_COPY_SUFFIX.sub("", path.stem).lower())
    if named is not None and (named.campaign, named.form_id) != (found.campaign, issued.form_id):
        return Rejected(name, "wrong_customer", f"{named.name} ≠ {issued.name}")
    answers, mean, nps, problems = score_answers(record.questions, found.answers)
    if not answers:
        return Rejected(name, "empty", issued.name)
    returned = datetime.fromtimestamp(path.stat().st_mtime).isoformat(timespec="seconds")
    return (
        Return(0, found.campaign, found.form_id, name, digest, returned, "", answers, mean, nps, problems),
        issued,
    )

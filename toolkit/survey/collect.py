"""``crm survey collect FOLDER``: read the returned forms dropped into a folder, match each to
the form issued, verify its signature, and keep its answers.

Every file ends as a finding, never as a crash: unreadable, not a form, an unknown campaign
or customer, signed with another workspace's key, edited outside its answer cells, a file
named for one customer holding another's form, returned empty. Accepted forms may still carry
problems (a required answer missing, a value out of range): the valid answers count and the
problems are listed. A second return from the same customer: the latest saved wins (the
workbook's own last-modified time, docProps/core.xml, else the file's) and the earlier stays
in the history. A file already collected (same content) is not counted again. Every file
examined is recorded with the campaign the run collected for, so a campaign's results list
only its own refused files.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from ..config import Settings
from ..errors import InputError
from ..i18n import label
from ..surveydata.questions import Question, nps_value, rating_value
from ..surveydata.store import Campaign, IssuedForm, Return
from .campaigns import open_store, state_folder
from .forms import FormError, changed_cells, layout, read_form, signature, workspace_secret

FORM_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")  # a customer may "save as" another format
_COPY_SUFFIX = re.compile(r"(\s*[(（]\d+[)）]|\s*-\s*(副本|copy)(\s*\d+)?|_\d+)$", re.IGNORECASE)


@dataclass
class Rejected:
    file: str
    reason: str  # a code: unreadable, not_a_form, unknown_campaign, unknown_customer, foreign, tampered, …
    detail: str = ""
    campaign: str = ""  # the campaign the file was refused for (its results list it)

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
            problems.append({"question": question.key, "problem": "out_of_range", "value": shown_value(value)})
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
        # the campaign a refused file is recorded for: --campaign, else the one its form names
        # (when readable and known), else the latest. An InputError names the known campaigns,
        # or says none was created yet.
        collecting_for = store.campaign(campaign).name
        campaigns = {c.name: c for c in store.campaigns()}
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
                result.rejected.append(Rejected(name, "unreadable", str(error), collecting_for))
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
                outcome.campaign = campaign or outcome.campaign or collecting_for
                result.rejected.append(outcome)
                files_rows.append(
                    (digest, name, "rejected", outcome.reason, outcome.detail, outcome.campaign, "", collected_on)
                )
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
    named_for = found.campaign
    issued = forms[found.campaign].get(found.form_id)
    if issued is None:
        return Rejected(name, "unknown_customer", found.form_id, named_for)
    if not hmac.compare_digest(found.signature, issued.signature):
        return Rejected(name, "foreign", issued.name, named_for)
    if len(found.answer_cells) != len(record.questions):
        return Rejected(name, "tampered", issued.name, named_for)
    computed = signature(secret, found.campaign, found.form_id, found.layout())
    if not hmac.compare_digest(computed, found.signature):
        expected = layout(found.campaign, record.questions, issued.name, record.company, record.lang)
        cells = changed_cells(expected, found.layout())
        return Rejected(name, "tampered", f"{issued.name}: {', '.join(cells[:5]) or '?'}", named_for)
    named = by_file.get(path.stem.lower()) or by_file.get(_COPY_SUFFIX.sub("", path.stem).lower())
    if named is not None and (named.campaign, named.form_id) != (found.campaign, issued.form_id):
        return Rejected(name, "wrong_customer", f"{named.name} ≠ {issued.name}", named_for)
    answers, mean, nps, problems = score_answers(record.questions, found.answers)
    if not answers:
        return Rejected(name, "empty", issued.name, named_for)
    returned = saved_time(path)
    return (
        Return(0, found.campaign, found.form_id, name, digest, returned, "", answers, mean, nps, problems),
        issued,
    )


_CORE = "docProps/core.xml"
_MODIFIED = "{http://purl.org/dc/terms/}modified"
_EARLIEST = datetime(1990, 1, 1)
_FRACTION = re.compile(r"(\.\d{1,6})\d+")


def saved_time(path: Path) -> str:
    """When the workbook was last saved, ISO, local time to the second: its own last-modified
    time (docProps/core.xml ``dcterms:modified``, which Excel, WPS and LibreOffice write on every
    save) when present and valid, else the file's modification time, which for a saved e-mail
    attachment is when it was saved, not when the customer saved it."""
    return (workbook_modified(path) or datetime.fromtimestamp(path.stat().st_mtime)).isoformat(timespec="seconds")


def workbook_modified(path: Path) -> datetime | None:
    """The ``dcterms:modified`` of an .xlsx/.xlsm in local time (naive), or None: another format,
    no core properties, an unreadable or implausible value (before 1990, or more than a day
    past this computer's clock)."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(_CORE)
            if info.file_size > 1 << 20:
                return None
            root = ElementTree.fromstring(archive.read(info))
        element = root.find(_MODIFIED)
        text = (element.text or "").strip() if element is not None else ""
        if "T" not in text:  # a bare date says too little to order two returns of one day
            return None
        when = datetime.fromisoformat(_FRACTION.sub(r"\1", text.upper()))  # at most microseconds
        local = when.astimezone().replace(tzinfo=None) if when.tzinfo is not None else when
    except (OSError, KeyError, ValueError, OverflowError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    if local < _EARLIEST or local > datetime.now() + timedelta(days=1):
        return None
    return local


def shown_value(value: Any) -> Any:
    """An answer as a problem shows it: a whole number as an integer (11, not 11.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, (str, int, float)) or value is None else str(value)

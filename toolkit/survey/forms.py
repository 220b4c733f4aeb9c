"""One survey form per customer: its layout (pure), writing it (XlsxWriter), reading a returned
one back (python-calamine), and the keyed signature that ties it to its campaign and customer.

A form is a workbook of two sheets. The visible one holds the questions with the customer's
name filled in; every cell is locked except the answer cells (drop-down lists for ratings and
the 0–10 recommend question), and the sheet is protected. A very hidden, protected sheet holds
the campaign, the form's id, where the answers are, and an HMAC-SHA256 over all of that and
every fixed cell's text, keyed with the workspace's secret. A form edited outside its answer
cells no longer matches its signature; a form signed with another workspace's key does not
match the signature this workspace issued.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_cell_to_rowcol, xl_rowcol_to_cell

from ..errors import InputError
from ..i18n import label
from ..surveydata.questions import NPS_RANGE, RATING_SCALE, Question
from ..xlsx import FONT

FORM_VERSION = "1"
META_SHEET = "_crm"
MARKER = "crm survey form"
SECRET_NAME = ".survey_secret"
_QUESTIONS_TOP = 6  # 0-based row of the header above the questions


@dataclass(frozen=True)
class Layout:
    """What a form shows: the fixed cells (row, col) → text and each question's answer cell."""

    fixed: dict[tuple[int, int], str]
    answers: list[tuple[int, int]]  # one per question, in question order

    @property
    def answer_refs(self) -> list[str]:
        return [xl_rowcol_to_cell(r, c) for r, c in self.answers]


def layout(campaign: str, questions: Sequence[Question], customer: str, company: str, lang: str) -> Layout:
    """The form of ``customer`` in ``campaign``. Pure: the writer and the verifier both use it."""
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    fixed = {
        (0, 0): L("survey.form_title", company=company).strip(),
        (2, 0): L("survey.form_customer"),
        (2, 1): customer,
        (3, 0): L("survey.form_campaign"),
        (3, 1): campaign,
        (4, 0): L("survey.form_intro"),
        (_QUESTIONS_TOP, 0): L("survey.col_number"),
        (_QUESTIONS_TOP, 1): L("survey.col_question"),
        (_QUESTIONS_TOP, 2): L("survey.col_answer"),
        (_QUESTIONS_TOP, 3): L("survey.col_hint"),
    }
    answers = []
    for n, question in enumerate(questions, start=1):
        row = _QUESTIONS_TOP + n
        fixed[(row, 0)] = str(n)
        fixed[(row, 1)] = question.label(lang) + (" *" if question.required else "")
        fixed[(row, 3)] = L(f"survey.hint_{question.kind}")
        answers.append((row, 2))
    fixed[(_QUESTIONS_TOP + len(questions) + 2, 0)] = L("survey.form_thanks")
    return Layout(fixed, answers)


def signature(secret: bytes, campaign: str, form_id: str, form: Layout) -> str:
    """HMAC-SHA256 (hex) over the campaign, the form id, the answer cells and every fixed cell."""
    payload = json.dumps(
        [FORM_VERSION, campaign, form_id, form.answer_refs, sorted([r, c, t] for (r, c), t in form.fixed.items() if t)],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hmac.new(secret, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def workspace_secret(folder: Path) -> bytes:
    """The workspace's signing key, created on first use in ``folder/.survey_secret`` (owner-only
    where the OS allows). Never written to the config, the outputs or the logs."""
    path = folder / SECRET_NAME
    if path.is_file():
        text = path.read_text(encoding="ascii").strip()
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) < 16:
            raise InputError(
                "the survey signing key is damaged",
                file=path,
                hint="restore it from a backup; forms already sent can only be verified with the original key",
            )
        return key
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
    return key


def write_form(
    path: Path,
    *,
    campaign: str,
    form_id: str,
    questions: Sequence[Question],
    customer: str,
    company: str,
    lang: str,
    secret: bytes,
) -> str:
    """Write the form to ``path``; return its signature."""
    form = layout(campaign, questions, customer, company, lang)
    signed = signature(secret, campaign, form_id, form)
    book = xlsxwriter.Workbook(
        str(path),
        {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False, "in_memory": True},
    )
    book.set_properties({"title": form.fixed[(0, 0)], "company": company, "author": "crm toolkit"})
    base = {"font_name": FONT, "font_size": 11, "valign": "vcenter"}
    fmt = {
        "title": book.add_format({**base, "bold": True, "font_size": 16}),
        "label": book.add_format({**base, "bold": True}),
        "text": book.add_format(base),
        "intro": book.add_format({**base, "font_color": "#595959", "italic": True}),
        "header": book.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center"}),
        "number": book.add_format({**base, "border": 1, "align": "center"}),
        "question": book.add_format({**base, "border": 1, "text_wrap": True}),
        "hint": book.add_format({**base, "border": 1, "font_color": "#808080", "text_wrap": True}),
        "answer": book.add_format({**base, "border": 1, "bg_color": "#FFF2CC", "locked": False, "align": "center"}),
        "answer_text": book.add_format(
            {**base, "border": 1, "bg_color": "#FFF2CC", "locked": False, "text_wrap": True, "valign": "top"}
        ),
    }
    sheet = book.add_worksheet(label("survey.form_sheet", lang))
    styles = {0: "title", 2: "label", 3: "label", 4: "intro", _QUESTIONS_TOP: "header"}
    for (row, col), text in form.fixed.items():
        style = styles.get(row, "text")
        if row > _QUESTIONS_TOP and row <= _QUESTIONS_TOP + len(questions):
            style = ("number", "question", "answer", "hint")[col]
        elif row in (2, 3) and col == 1:
            style = "text"
        sheet.write_string(row, col, text, fmt[style])
    labels = [zh if lang == "zh" else en for _, zh, en in RATING_SCALE]
    for question, (row, col) in zip(questions, form.answers, strict=True):
        if question.kind == "text":
            sheet.write_blank(row, col, None, fmt["answer_text"])
            sheet.set_row(row, 60)
            continue
        sheet.write_blank(row, col, None, fmt["answer"])
        sheet.set_row(row, 30)
        source = labels if question.kind == "rating" else [str(n) for n in NPS_RANGE]
        sheet.data_validation(
            row,
            col,
            row,
            col,
            {
                "validate": "list",
                "source": source,
                "error_title": label("survey.dv_title", lang),
                "error_message": label(f"survey.dv_{question.kind}", lang),
                "input_title": label("survey.dv_title", lang),
                "input_message": label(f"survey.hint_{question.kind}", lang),
            },
        )
    sheet.set_column(0, 0, 10)
    sheet.set_column(1, 1, 56)
    sheet.set_column(2, 2, 22)
    sheet.set_column(3, 3, 26)
    sheet.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})
    sheet.activate()
    first = form.answers[0] if form.answers else (0, 0)
    sheet.set_selection(*first, *first)
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    meta = book.add_worksheet(META_SHEET)
    for row, (key, value) in enumerate(
        (
            ("marker", MARKER),
            ("version", FORM_VERSION),
            ("campaign", campaign),
            ("form", form_id),
            ("answers", ",".join(form.answer_refs)),
            ("signature", signed),
        )
    ):
        meta.write_string(row, 0, key)
        meta.write_string(row, 1, value)
    meta.protect()
    meta.very_hidden()
    book.close()
    return signed


class FormError(Exception):
    """A returned file that is not a readable form: ``reason`` is a code (unreadable, not_a_form)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


@dataclass
class ReturnedForm:
    """What a returned file holds: its hidden sheet's entries, its fixed cells and its answers."""

    campaign: str
    form_id: str
    signature: str
    fixed: dict[tuple[int, int], str]
    answer_cells: list[tuple[int, int]]
    answers: list[Any]  # the raw value of each answer cell ("" when empty)

    def layout(self) -> Layout:
        return Layout(self.fixed, self.answer_cells)


def read_form(path: Path) -> ReturnedForm:
    """Read a returned form (any office suite's save). Raises ``FormError`` when the file cannot
    be read as a workbook or is not a form of this toolkit."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        names = book.sheet_names
    except Exception as error:
        raise FormError("unreadable", f"{type(error).__name__}: {error}") from None
    if META_SHEET not in names or len(names) < 2:
        raise FormError("not_a_form")
    try:
        meta_rows = book.get_sheet_by_name(META_SHEET).to_python(skip_empty_area=False)
        visible = next(n for n in names if n != META_SHEET)
        rows = book.get_sheet_by_name(visible).to_python(skip_empty_area=False)
    except Exception as error:
        raise FormError("unreadable", f"{type(error).__name__}: {error}") from None
    meta = {_text(r[0]): _text(r[1]) for r in meta_rows if len(r) >= 2}
    if meta.get("marker") != MARKER:
        raise FormError("not_a_form")
    if meta.get("version") != FORM_VERSION:
        raise FormError("not_a_form", f"form version {meta.get('version')!r}")
    try:
        answer_cells = [xl_cell_to_rowcol(ref) for ref in meta.get("answers", "").split(",") if ref]
    except Exception:
        raise FormError("tampered", "the hidden sheet's answer cells were edited") from None
    wanted = set(answer_cells)
    fixed: dict[tuple[int, int], str] = {}
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if (r, c) in wanted:
                continue
            text = _text(value)
            if text:
                fixed[(r, c)] = text
    answers = [rows[r][c] if r < len(rows) and c < len(rows[r]) else "" for r, c in answer_cells]
    return ReturnedForm(
        meta.get("campaign", ""), meta.get("form", ""), meta.get("signature", ""), fixed, answer_cells, answers
    )


def changed_cells(expected: Layout, found: Layout) -> list[str]:
    """The cells (A1 references) whose fixed text differs between two layouts. Pure."""
    keys = set(expected.fixed) | set(found.fixed)
    return [
        xl_rowcol_to_cell(r, c)
        for r, c in sorted(keys)
        if expected.fixed.get((r, c), "") != found.fixed.get((r, c), "")
    ]


def _text(value: Any) -> str:
    """A cell's text as the signature sees it: a whole number without '.0', empty as ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)

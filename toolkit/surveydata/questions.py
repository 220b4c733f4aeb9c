"""The survey sheet (问卷) of the rules workbook → the questions of a survey, and the survey
parameters of the 参数 sheet. Pure apart from reading the workbook once.

A workspace whose rules workbook predates the 问卷 sheet takes the shipped questions and
parameters, and says so in a note, rather than refusing to run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..config import RULES_NAME, Rules, templates_dir
from ..errors import ConfigError
from ..ledger.coerce import clean_text

SURVEY_SHEET = "问卷"
KINDS = {
    "评分": "rating",
    "rating": "rating",
    "推荐": "nps",
    "推荐度": "nps",
    "nps": "nps",
    "文字": "text",
    "文本": "text",
    "text": "text",
}
_YES = {"是", "y", "yes", "true", "1", "必填", "√"}
_NO = {"否", "n", "no", "false", "0", "", "选填"}

# The rating scale, best first: (score, zh label, en label). The drop-down shows the labels.
RATING_SCALE = (
    (5, "非常满意", "Very satisfied"),
    (4, "满意", "Satisfied"),
    (3, "一般", "Neutral"),
    (2, "不满意", "Dissatisfied"),
    (1, "非常不满意", "Very dissatisfied"),
)
NPS_RANGE = range(0, 11)

# Parameter keys in the 参数 sheet, with the defaults used when a workspace lacks the row.
PARAMETER_DEFAULTS: dict[str, float | str] = {
    "survey.low_score": 3,
    "survey.low_nps": 7,
    "survey.remind_after_days": 7,
    "survey.max_reminders": 2,
    "survey.skip_status": "潜在、流失、暂停、休眠",
}


@dataclass(frozen=True)
class Question:
    key: str  # the program's key (q1, nps, comment …), stable across campaigns
    text: str  # the question as the form shows it (Chinese)
    kind: str  # rating | nps | text
    required: bool
    text_en: str = ""

    def label(self, lang: str) -> str:
        return self.text_en if lang == "en" and self.text_en else self.text

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SurveyParameters:
    low_score: float  # a rating below this is a low score (5-point scale)
    low_nps: float  # a recommend answer below this is a low score (0–10)
    remind_after_days: int
    max_reminders: int
    skip_status: tuple[str, ...]  # customer statuses that get no form


def rating_value(value: Any) -> int | None:
    """The score 1–5 a rating answer means: a label in either language, or a whole number
    1–5 (typed, or picked as text); None when it is none of these."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() and 1 <= value <= 5 else None
    text = clean_text(value)
    for score, zh, en in RATING_SCALE:
        if text == zh or text.lower() == en.lower() or text == str(score):
            return score
    return None


def nps_value(value: Any) -> int | None:
    """The 0–10 answer to the recommend question, or None when it is not a whole number in range."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = clean_text(value)
        if not text.isdigit():
            return None
        value = int(text)
    if isinstance(value, (int, float)) and float(value).is_integer() and 0 <= value <= 10:
        return int(value)
    return None


def load_questions(rules: Rules) -> tuple[list[Question], list[str]]:
    """The questions of the rules workbook's 问卷 sheet, and notes (a fallback to the shipped
    sheet). Raises ``ConfigError`` naming the cell of a wrong row."""
    notes: list[str] = []
    rows = _sheet_rows(rules.path)
    if rows is None:
        shipped = templates_dir() / RULES_NAME
        rows = _sheet_rows(shipped)
        if rows is None:  # pragma: no cover - the shipped workbook always has it
            raise ConfigError(f"the rules workbook has no sheet 「{SURVEY_SHEET}」", file=rules.path)
        notes.append(f"{rules.path.name} has no 「{SURVEY_SHEET}」 sheet: the shipped questions were used")
        path = shipped
    else:
        path = rules.path
    questions: list[Question] = []
    seen: set[str] = set()
    for number, row in rows:
        cells = (list(row) + [""] * 5)[:5]
        key, kind, required = clean_text(cells[0]), clean_text(cells[2]), clean_text(cells[3])
        text, text_en = (str(c).strip() if c is not None else "" for c in (cells[1], cells[4]))  # as typed
        if not key and not text:
            continue
        if not key or key in seen:
            raise ConfigError(
                f"question key '{key}' is empty or repeated",
                file=path,
                sheet=SURVEY_SHEET,
                cell=f"A{number}",
                hint="give each question its own key (q1, q2, nps …)",
            )
        if not text:
            raise ConfigError(
                "the question has no text", file=path, sheet=SURVEY_SHEET, cell=f"B{number}", hint="type the question"
            )
        found = KINDS.get(kind.lower())
        if found is None:
            raise ConfigError(
                f"question type '{kind}' is not 评分, 推荐 or 文字",
                file=path,
                sheet=SURVEY_SHEET,
                cell=f"C{number}",
                hint="type 评分 (1–5 rating), 推荐 (0–10 recommend) or 文字 (free text)",
            )
        if required.lower() not in _YES | _NO:
            raise ConfigError(
                f"'{required}' is not 是 or 否", file=path, sheet=SURVEY_SHEET, cell=f"D{number}", hint="type 是 or 否"
            )
        seen.add(key)
        questions.append(Question(key, text, found, required.lower() in _YES, text_en))
    if not any(q.kind != "text" for q in questions):
        raise ConfigError(
            "the survey has no rating or recommend question",
            file=path,
            sheet=SURVEY_SHEET,
            hint="add at least one question of type 评分 or 推荐",
        )
    return questions, notes


def survey_parameters(rules: Rules) -> tuple[SurveyParameters, list[str]]:
    """The survey rows of the 参数 sheet (defaults, with a note, where a row is missing)."""
    notes: list[str] = []
    values: dict[str, float | str] = {}
    for key, default in PARAMETER_DEFAULTS.items():
        if key not in rules.parameters:
            notes.append(f"{rules.path.name} 参数 has no row '{key}': {default} was used")
            values[key] = default
        elif isinstance(default, str):
            values[key] = clean_text(rules.parameters[key])
        else:
            values[key] = rules.parameter(key)  # a ConfigError names the sheet when it is not a number
    skip = str(values["survey.skip_status"]).replace(",", "、").replace("，", "、")
    return (
        SurveyParameters(
            float(values["survey.low_score"]),
            float(values["survey.low_nps"]),
            int(float(values["survey.remind_after_days"])),
            int(float(values["survey.max_reminders"])),
            tuple(s.strip() for s in skip.split("、") if s.strip()),
        ),
        notes,
    )


def _sheet_rows(path: Path) -> list[tuple[int, list[Any]]] | None:
    """(1-based row, values) of the 问卷 sheet below its header, or None without the sheet."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        if SURVEY_SHEET not in book.sheet_names:
            return None
        rows = book.get_sheet_by_name(SURVEY_SHEET).to_python(skip_empty_area=False)
    except Exception as error:
        raise ConfigError(
            f"the rules workbook cannot be read ({error})", file=path, hint="open it in Excel and save it again"
        ) from error
    return [(i + 1, list(r)) for i, r in enumerate(rows) if i > 0]

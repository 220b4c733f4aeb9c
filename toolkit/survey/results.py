"""``crm survey results``: the results workbook of a campaign, and the latest score per customer
for ``crm classify`` and the monthly report."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import InputError
from ..i18n import label, sentences
from ..ledger.source import PASSWORD_ENV
from ..surveydata.questions import survey_parameters
from ..surveydata.store import Campaign, IssuedForm, Return
from ..xlsx import Book
from .campaigns import open_store
from .collect import shown_value
from .scoring import Figures, LowScore, QuestionFigures, by_question, figures, grouped, low_scores

CLASS_ORDER = ("战略", "战略合作伙伴", "A", "重点", "重点客户", "B", "主要", "C", "一般", "一般客户", "D")


@dataclass
class SurveyResults:
    campaign: Campaign
    forms: list[IssuedForm]
    returns: dict[str, Return]  # form id → the return that counts
    history: list[Return]  # earlier returns replaced by a later one
    rejected: list[tuple[str, str, str, str]]  # (file, reason, detail, collected)
    total: Figures
    questions: list[QuestionFigures]
    groups: dict[str, list[tuple[str, Figures]]]  # class | owner | industry | subsidiary → rows
    low: list[LowScore]
    reminders: dict[str, tuple[str | None, int, str | None]]
    lang: str = "zh"
    outputs: list[Path] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "job": "survey results",
            "campaign": self.campaign.name,
            "received": len(self.returns) + len(self.history) + len(self.rejected),
            "accepted": len(self.returns),
            "rejected": [
                {"file": f, "reason": r, "message": label(f"survey.reject.{r}", self.lang), "detail": d}
                for f, r, d, _ in self.rejected
            ],
            **self.total.as_json(),
            "questions": [
                {
                    "key": q.question.key,
                    "kind": q.question.kind,
                    "answers": q.answers,
                    "mean": q.mean,
                    "csat": q.csat,
                    "nps": q.nps,
                    "distribution": q.distribution,
                }
                for q in self.questions
            ],
            "groups": {g: [{"group": n, **f.as_json()} for n, f in rows] for g, rows in self.groups.items()},
            "low_scores": [
                {
                    "owner": s.form.owner,
                    "customer": s.form.name,
                    "customer_id": s.form.customer_id,
                    "question": s.question.key,
                    "value": s.value,
                    "comment": s.comment,
                }
                for s in self.low
            ],
            "outputs": [str(p) for p in self.outputs],
        }


def survey_results(
    settings: Settings,
    *,
    today: date,
    campaign: str | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    write: bool = True,
    password: str | None = None,
    no_encrypt: bool = False,
) -> SurveyResults:
    """Score ``campaign`` (default: the latest) from the returns collected so far, and write the
    results workbook ``out/问卷结果_<campaign>_<date>.xlsx``. A campaign made from a
    password-protected ledger has its workbook written with ``password`` (the ledger's); without
    it the job refuses, unless ``no_encrypt``. Raises ``InputError`` when there is no such
    campaign, or for that refusal."""
    lang = settings.lang
    parameters, _ = survey_parameters(settings.rules)
    with open_store(settings, out_dir) as store:
        record = store.campaign(campaign)
        forms = list(store.forms(record.name).values())
        everything = store.returns(record.name, current_only=False)
        reminders = store.mail_counts(record.name)
        rejected = store.rejected_files(record.name)
        protected = store.is_protected(f"survey {record.name}")
    password = password or os.environ.get(PASSWORD_ENV)
    if write and protected and not password and not no_encrypt:
        raise InputError(
            f"campaign {record.name} was made from a password-protected ledger: its results would name "
            "the customers unprotected",
            hint="give --password (the ledger's) to write the results workbook protected, or --no-encrypt",
        )
    returns = {r.form_id: r for r in everything if r.current}
    history = [r for r in everything if not r.current]
    questions = record.questions
    keys = {
        "class": (lambda f: f.klass, CLASS_ORDER),
        "owner": (lambda f: f.owner, ()),
        "industry": (lambda f: f.industry, ()),
    }
    if any(f.subsidiary for f in forms):
        keys["subsidiary"] = (lambda f: f.subsidiary, ())
    result = SurveyResults(
        record,
        forms,
        returns,
        history,
        rejected,
        figures(questions, len(forms), (returns[f.form_id] for f in forms if f.form_id in returns)),
        sorted(  # ratings first: the overview's chart of means covers them
            by_question(questions, [returns[f.form_id] for f in forms if f.form_id in returns]),
            key=lambda q: q.question.kind != "rating",
        ),
        {name: grouped(questions, forms, returns, key, order) for name, (key, order) in keys.items()},
        low_scores(questions, forms, returns, low_rating=parameters.low_score, low_nps=parameters.low_nps),
        reminders,
        lang,
    )
    if write:
        name = f"{label('survey.results_file', lang)}_{record.name}_{today:%Y%m%d}.xlsx"
        lock = password if protected and not no_encrypt else None
        result.outputs.append(_write(settings.output_folder(out_dir) / name, result, settings.company, today, lock))
    return result


# ---------------------------------------------------------------- the workbook


def _write(path: Path, result: SurveyResults, company: str, today: date, password: str | None = None) -> Path:
    lang = result.lang
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    path.parent.mkdir(parents=True, exist_ok=True)
    title = f"{company} {L('survey.results_title')} {result.campaign.name}".strip()
    book = Book(str(path), title=title, company=company, password=password)
    add = book.workbook.add_format
    base = {"font_name": "等线", "font_size": 10, "border": 1}
    fmt = {
        "count": add({**base, "num_format": "#,##0"}),
        "rate": add({**base, "num_format": "0.0%"}),
        "score": add({**base, "num_format": "0.00"}),
        "nps": add({**base, "num_format": "+0.0;-0.0;0.0"}),
        "text": add(base),
        "missing": add({**base, "font_color": "#808080", "italic": True}),
    }
    _overview(book, result, fmt, title, today)
    _questions(book, result)
    for name, rows in result.groups.items():
        _group(book, name, rows, lang)
    _low(book, result)
    _answers(book, result)
    _unanswered(book, result)
    _files(book, result)
    book.close()
    return path


def _value(sheet, row: int, col: int, value: float | int | None, kind: str, fmt: dict[str, Any], lang: str) -> None:
    if value is None:
        sheet.write_string(row, col, label("report.no_data", lang), fmt["missing"])
    else:
        sheet.write_number(row, col, value, fmt[kind])


def _overview(book: Book, result: SurveyResults, fmt: dict[str, Any], title: str, today: date) -> None:
    lang = result.lang
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    sheet = book.add_sheet(L("survey.sheet_overview"))
    book.write_title(sheet, 0, title)
    sheet.write_string(
        1, 0, L("survey.as_of", campaign=result.campaign.name, created=result.campaign.as_of, today=today.isoformat())
    )
    sheet.write_string(3, 0, L("col.kpi"), book.formats["header"])
    sheet.write_string(3, 1, L("col.value"), book.formats["header"])
    total = result.total
    rows = [
        ("survey.kpi_issued", total.issued, "count"),
        ("survey.kpi_returned", total.returned, "count"),
        ("survey.kpi_rate", total.rate, "rate"),
        ("survey.kpi_mean", total.mean, "score"),
        ("survey.kpi_csat", total.csat, "rate"),
        ("survey.kpi_nps", total.nps, "nps"),
        ("survey.kpi_promoters", total.promoters, "count"),
        ("survey.kpi_passives", total.passives, "count"),
        ("survey.kpi_detractors", total.detractors, "count"),
        ("survey.kpi_low", len({s.form.form_id for s in result.low}), "count"),
        ("survey.kpi_rejected", len(result.rejected), "count"),
    ]
    for n, (key, value, kind) in enumerate(rows, start=4):
        sheet.write_string(n, 0, L(key), fmt["text"])
        _value(sheet, n, 1, value, kind, fmt, lang)
    how = len(rows) + 5  # the definitions, over both columns, in a row as tall as they need
    book.write_note(sheet, how, 1, L("survey.how"), 34 + 14)
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 14)
    promoters = 4 + next(i for i, (key, _, _) in enumerate(rows) if key == "survey.kpi_promoters")
    question_sheet = L("survey.sheet_questions")
    n = sum(1 for q in result.questions if q.question.kind == "rating")
    if n:
        chart = book.workbook.add_chart({"type": "bar"})
        chart.add_series(
            {
                "name": L("survey.col_mean"),
                "categories": [question_sheet, 1, 1, n, 1],
                "values": [question_sheet, 1, 4, n, 4],
                "data_labels": {"value": True, "num_format": "0.00"},
                "fill": {"color": "#5B9BD5"},
            }
        )
        chart.set_title({"name": L("survey.chart_questions")})
        chart.set_legend({"none": True})
        chart.set_x_axis({"min": 0, "max": 5})
        chart.set_y_axis({"reverse": True})
        chart.set_size({"width": 620, "height": 60 + 36 * n})
        sheet.insert_chart(3, 3, chart)
    if total.recommends:
        pie = book.workbook.add_chart({"type": "pie"})
        pie.add_series(  # the 推荐者, 中立者, 贬损者 rows of the table above: written once
            {
                "name": L("survey.chart_nps"),
                "categories": [sheet.name, promoters, 0, promoters + 2, 0],
                "values": [sheet.name, promoters, 1, promoters + 2, 1],
                "data_labels": {"percentage": True},
                "points": [{"fill": {"color": c}} for c in ("#70AD47", "#FFC000", "#C00000")],
            }
        )
        pie.set_title({"name": L("survey.chart_nps")})
        sheet.insert_chart(max(22, 8 + 2 * n), 3, pie)
    book.print_setup(sheet, repeat_row=None, landscape=False)


def _questions(book: Book, result: SurveyResults) -> None:
    """Per question: answers, mean, CSAT, NPS, and how the answers spread — a count a score
    (5 … 1) with a bar in each row, or for the recommend question its 推荐者 / 中立者 / 贬损者."""
    lang = result.lang
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    sheet = book.add_sheet(L("survey.sheet_questions"))
    scores = [5, 4, 3, 2, 1]
    headers = [
        L("survey.col_key"),
        L("survey.col_question"),
        L("survey.col_kind"),
        L("survey.col_answers"),
        L("survey.col_mean"),
        L("survey.col_csat"),
        L("survey.col_nps"),
        *[L("survey.col_score", score=score) for score in scores],
        L("survey.kpi_promoters"),
        L("survey.kpi_passives"),
        L("survey.kpi_detractors"),
    ]
    rows = []
    for q in result.questions:
        spread = q.distribution
        if q.question.kind == "rating":
            counts = [spread.get(score, 0) for score in scores] + [None, None, None]
        else:  # 0–10: promoters 9–10, passives 7–8, detractors 0–6
            groups = [sum(n for s, n in spread.items() if s >= 9), sum(n for s, n in spread.items() if 7 <= s <= 8)]
            counts = [None] * len(scores) + [*groups, sum(n for s, n in spread.items() if s <= 6)]
        rows.append(
            [
                q.question.key,
                q.question.label(lang),
                L(f"survey.kind_{q.question.kind}"),
                q.answers,
                q.mean,
                q.csat,
                q.nps,
                *counts,
            ]  # fmt: skip
        )
    count = book.table(
        sheet, headers, rows, column_formats={4: "number", 5: "percent", 6: "signed"}, max_widths=[10, 50]
    )
    bar = {"type": "data_bar", "bar_color": "#5B9BD5", "bar_solid": True}
    for row in range(1, count + 1):  # each question's spread as a bar over its own counts
        sheet.conditional_format(row, 7, row, 7 + len(scores) - 1, bar)
        sheet.conditional_format(row, 7 + len(scores), row, 7 + len(scores) + 2, bar)


def _group(book: Book, name: str, rows: list[tuple[str, Figures]], lang: str) -> None:
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    sheet = book.add_sheet(L(f"survey.sheet_by_{name}"))
    headers = [
        L(f"survey.group_{name}"),
        L("survey.kpi_issued"),
        L("survey.kpi_returned"),
        L("survey.kpi_rate"),
        L("survey.col_mean"),
        L("survey.col_csat"),
        L("survey.col_nps"),
        L("survey.kpi_detractors"),
    ]
    data = [
        [group or L("survey.none"), f.issued, f.returned, f.rate, f.mean, f.csat, f.nps, f.detractors]
        for group, f in rows
    ]
    count = book.table(sheet, headers, data, column_formats={3: "percent", 4: "number", 5: "percent", 6: "amount"})
    if not count:
        return
    chart = book.workbook.add_chart({"type": "column"})
    for col, color in ((3, "#A5A5A5"), (5, "#5B9BD5")):
        chart.add_series(
            {
                "name": [sheet.name, 0, col],
                "categories": [sheet.name, 1, 0, count, 0],
                "values": [sheet.name, 1, col, count, col],
                "fill": {"color": color},
            }
        )
    chart.set_title({"name": L("survey.chart_groups", group=headers[0])})
    chart.set_y_axis({"min": 0, "max": 1, "num_format": "0%"})
    chart.set_size({"width": max(480, 60 * count), "height": 300})
    sheet.insert_chart(count + 3, 0, chart)


def _low(book: Book, result: SurveyResults) -> None:
    lang = result.lang
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    headers = [
        L("col.owner"),
        L("col.customer"),
        L("col.customer_id"),
        L("col.class"),
        L("survey.col_question"),
        L("survey.col_answer"),
        L("survey.col_comment"),
        L("survey.col_returned"),
        L("survey.col_contact"),
    ]

    def rows(items: list[LowScore]) -> list[list[Any]]:
        return [
            [
                s.form.owner or L("owner.none"),
                s.form.name,
                s.form.customer_id,
                s.form.klass,
                s.question.label(lang),
                _answer_text(s.question.kind, s.value, lang),
                s.comment,
                s.ret.returned[:10],
                " ".join(p for p in (s.form.contact, s.form.email) if p),
            ]
            for s in items
        ]

    sheet = book.add_sheet(L("survey.sheet_low"))
    book.table(sheet, headers, rows(result.low), max_widths=[14, 30, 14, 8, 40, 14, 40, 12, 30], wrap_columns=(6,))
    owners: dict[str, list[LowScore]] = {}
    for s in result.low:
        owners.setdefault(s.form.owner or L("owner.none"), []).append(s)
    for owner, items in owners.items():
        per = book.add_sheet(f"{L('survey.sheet_follow')}-{owner}")
        book.table(per, headers, rows(items), max_widths=[14, 30, 14, 8, 40, 14, 40, 12, 30], wrap_columns=(6,))


def _answers(book: Book, result: SurveyResults) -> None:
    lang = result.lang
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    questions = result.campaign.questions
    headers = [
        L("col.customer"),
        L("col.customer_id"),
        L("col.owner"),
        L("col.class"),
        L("survey.group_industry"),
        L("survey.group_subsidiary"),
        *[q.label(lang) for q in questions],  # the questions' own words, not q1 … q5
        L("survey.col_mean"),
        L("survey.col_returned"),
        L("col.file"),
        L("survey.col_problems"),
    ]
    rows = []
    for form in result.forms:
        ret = result.returns.get(form.form_id)
        if ret is None:
            continue
        problems = sentences(
            (
                f"{p['question']} {L('survey.problem.' + p['problem'])}"
                + (f" ({shown_value(p['value'])})" if p["value"] is not None else "")
                for p in ret.problems
            ),
            lang,
        )
        rows.append(
            [
                form.name,
                form.customer_id,
                form.owner,
                form.klass,
                form.industry,
                form.subsidiary,
                *[ret.answers.get(q.key) for q in questions],
                ret.score,
                ret.returned.replace("T", " "),
                ret.file,
                problems,
            ]
        )
    sheet = book.add_sheet(L("survey.sheet_answers"))
    book.table(sheet, headers, rows, max_width=40)


def _unanswered(book: Book, result: SurveyResults) -> None:
    lang = result.lang
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    headers = [
        L("col.owner"),
        L("col.customer"),
        L("col.customer_id"),
        L("col.contact"),
        L("survey.col_email"),
        L("survey.col_sent"),
        L("survey.col_reminders"),
        L("col.file"),
    ]
    rows = []
    for form in sorted(result.forms, key=lambda f: (f.owner, f.name)):
        if form.form_id in result.returns:
            continue
        sent, reminders, _ = result.reminders.get(form.form_id, (None, 0, None))
        rows.append(
            [form.owner, form.name, form.customer_id, form.contact, form.email, sent or "", reminders, form.file]
        )
    sheet = book.add_sheet(L("survey.sheet_unanswered"))
    book.table(sheet, headers, rows)


def _files(book: Book, result: SurveyResults) -> None:
    lang = result.lang
    L = lambda key, **kw: label(key, lang, **kw)  # noqa: E731
    headers = [L("col.file"), L("survey.col_outcome"), L("col.detail"), L("survey.col_collected")]
    rows: list[list[Any]] = [
        [file, L(f"survey.reject.{reason}"), detail, collected] for file, reason, detail, collected in result.rejected
    ]
    names = {f.form_id: f.name for f in result.forms}
    rows += [[r.file, L("survey.superseded"), names.get(r.form_id, r.form_id), r.collected] for r in result.history]
    sheet = book.add_sheet(L("survey.sheet_files"))
    book.table(sheet, headers, rows, max_width=50)


def _answer_text(kind: str, value: int, lang: str) -> str:
    if kind == "rating":
        return f"{value} {label(f'survey.scale_{value}', lang)}"
    return str(value)

"""Scoring a campaign: response rate, CSAT, NPS, per question and per group, and the low scores
to follow up. Pure functions over the forms issued and the returns that count.

- CSAT (满意率): the share of rating answers that are 4 (满意) or 5 (非常满意).
- Mean (平均分): the mean of the rating answers, 1–5.
- NPS (净推荐值): % promoters (9–10) − % detractors (0–6) of the recommend answers, −100 … 100.
- Response rate (回复率): customers with a return that counts ÷ forms issued.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..surveydata.questions import Question
from ..surveydata.store import IssuedForm, Return

SATISFIED = 4  # a rating of 4 or 5 counts as satisfied
PROMOTER, DETRACTOR = 9, 6  # 9–10 promoters, 0–6 detractors


@dataclass(frozen=True)
class Figures:
    issued: int
    returned: int
    ratings: int  # rating answers counted
    mean: float | None
    csat: float | None
    recommends: int  # recommend answers counted
    promoters: int
    passives: int
    detractors: int

    @property
    def rate(self) -> float | None:
        return self.returned / self.issued if self.issued else None

    @property
    def nps(self) -> float | None:
        if not self.recommends:
            return None
        return round(100 * (self.promoters - self.detractors) / self.recommends, 1)

    def as_json(self) -> dict[str, float | int | None]:
        return {
            "issued": self.issued,
            "returned": self.returned,
            "response_rate": self.rate,
            "mean": self.mean,
            "csat": self.csat,
            "nps": self.nps,
            "promoters": self.promoters,
            "passives": self.passives,
            "detractors": self.detractors,
        }


def figures(questions: Sequence[Question], issued: int, returns: Iterable[Return]) -> Figures:
    """The figures of ``returns`` (each a customer's return that counts) against ``issued`` forms."""
    rating_keys = [q.key for q in questions if q.kind == "rating"]
    nps_keys = [q.key for q in questions if q.kind == "nps"]
    scores: list[int] = []
    recommends: list[int] = []
    returned = 0
    for ret in returns:
        returned += 1
        scores += [ret.answers[k] for k in rating_keys if isinstance(ret.answers.get(k), int)]
        recommends += [ret.answers[k] for k in nps_keys if isinstance(ret.answers.get(k), int)]
    return Figures(
        issued,
        returned,
        len(scores),
        round(sum(scores) / len(scores), 4) if scores else None,
        round(sum(1 for s in scores if s >= SATISFIED) / len(scores), 4) if scores else None,
        len(recommends),
        sum(1 for r in recommends if r >= PROMOTER),
        sum(1 for r in recommends if DETRACTOR < r < PROMOTER),
        sum(1 for r in recommends if r <= DETRACTOR),
    )


@dataclass(frozen=True)
class QuestionFigures:
    question: Question
    answers: int
    mean: float | None
    csat: float | None  # ratings only
    nps: float | None  # the recommend question only
    distribution: dict[int, int]  # score → answers (5…1, or 10…0)


def by_question(questions: Sequence[Question], returns: Sequence[Return]) -> list[QuestionFigures]:
    out = []
    for q in questions:
        if q.kind == "text":
            continue
        values = [r.answers[q.key] for r in returns if isinstance(r.answers.get(q.key), int)]
        counts = Counter(values)
        scale = range(5, 0, -1) if q.kind == "rating" else range(10, -1, -1)
        single = figures([q], 0, (_only(r, q.key) for r in returns if q.key in r.answers))
        out.append(
            QuestionFigures(
                q,
                len(values),
                round(sum(values) / len(values), 4) if values else None,
                single.csat if q.kind == "rating" else None,
                single.nps if q.kind == "nps" else None,
                {s: counts.get(s, 0) for s in scale},
            )
        )
    return out


def grouped(
    questions: Sequence[Question],
    forms: Sequence[IssuedForm],
    returns: dict[str, Return],
    key: Callable[[IssuedForm], str],
    order: Sequence[str] = (),
) -> list[tuple[str, Figures]]:
    """Figures per group of forms (by class, owner, industry, subsidiary …): the groups listed in
    ``order`` first, then the rest by name."""
    groups: dict[str, list[IssuedForm]] = {}
    for form in forms:
        groups.setdefault(key(form), []).append(form)
    rank = {g: n for n, g in enumerate(order)}
    names = sorted(groups, key=lambda g: (rank.get(g, len(rank)), g == "", g))
    return [
        (
            name,
            figures(questions, len(groups[name]), (returns[f.form_id] for f in groups[name] if f.form_id in returns)),
        )
        for name in names
    ]


@dataclass(frozen=True)
class LowScore:
    form: IssuedForm
    ret: Return
    question: Question
    value: int
    comment: str


def low_scores(
    questions: Sequence[Question],
    forms: Sequence[IssuedForm],
    returns: dict[str, Return],
    *,
    low_rating: float,
    low_nps: float,
) -> list[LowScore]:
    """Each answer below its threshold, with the customer's comments, ordered by owner and customer."""
    comments = [q.key for q in questions if q.kind == "text"]
    out = []
    for form in forms:
        ret = returns.get(form.form_id)
        if ret is None:
            continue
        comment = "；".join(str(ret.answers[k]) for k in comments if ret.answers.get(k))
        for q in questions:
            value = ret.answers.get(q.key)
            if not isinstance(value, int) or q.kind == "text":
                continue
            if value < (low_rating if q.kind == "rating" else low_nps):
                out.append(LowScore(form, ret, q, value, comment))
    out.sort(key=lambda s: (s.form.owner == "", s.form.owner, s.form.name))  # stable: questions in order
    return out


def _only(ret: Return, key: str) -> Return:
    return Return(
        ret.id,
        ret.campaign,
        ret.form_id,
        ret.file,
        ret.sha256,
        ret.returned,
        ret.collected,
        {key: ret.answers[key]},
        None,
        None,
    )

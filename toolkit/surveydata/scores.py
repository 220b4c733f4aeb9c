"""Each customer's latest returned survey, read from the workspace's state database: the
satisfaction score the facts use (measured and dated, it wins over the 满意度 typed in the ledger)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..config import Settings
from ..state import state_path
from .store import SurveyStore


@dataclass(frozen=True)
class CustomerScore:
    """A customer's latest survey answer: the mean of its ratings (1–5, the ledger's 满意度
    scale), its recommend answer (0–10), the campaign and when it was returned."""

    score: float | None
    nps: int | None
    campaign: str
    returned: str


def latest_scores(
    settings: Settings, ledger: str | os.PathLike[str] | None = None, *, out_dir: str | os.PathLike[str] | None = None
) -> dict[str, CustomerScore]:
    """The latest return of each customer over every campaign, by the customer key ``crm
    classify`` uses (``id:C001``, else ``name:<normalised name>``). With ``ledger``, only the
    customers of that ledger (a group campaign covers several). Empty when no survey ran."""
    path = state_path(settings, out_dir)
    if not path.is_file():
        return {}
    wanted = settings.ledger_key(ledger) if ledger is not None else None
    out: dict[str, tuple[str, CustomerScore]] = {}
    with SurveyStore(path) as store:
        for record in store.campaigns():
            forms = store.forms(record.name)
            for ret in store.returns(record.name):
                form = forms.get(ret.form_id)
                if form is None or (wanted is not None and form.ledger != wanted):
                    continue
                before = out.get(form.customer_key)
                if before is None or ret.returned >= before[0]:
                    out[form.customer_key] = (
                        ret.returned,
                        CustomerScore(ret.score, ret.nps, record.name, ret.returned),
                    )
    return {key: score for key, (_, score) in out.items()}

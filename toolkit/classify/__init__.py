"""``crm classify``: put each customer in a class under the workspace's policy, with the reason
spelled out, tag risks, record the run, and list what changed since the last run."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from ..config import Settings, load_settings
from ..errors import InputError
from ..i18n import label
from ..ledger import read_ledger
from ..model import Column, Ledger
from ..relations import CustomerIndex, typed_class
from ..state import PreviousRun, Snapshot, StateStore, state_path
from .policies import POLICIES, Computed, compute, policy_classes
from .report import write_report
from .risks import Tag, highest_level, risk_tags

__all__ = ["POLICIES", "Change", "ClassificationResult", "CustomerClass", "classify"]


@dataclass
class CustomerClass:
    row: int  # 1-based Excel row
    key: str  # the customer's identity across runs: its ID, else its normalised name
    customer_id: str
    name: str
    owner: str
    klass: str | None
    computed: str | None
    override: bool
    reason: str
    tags: list[Tag]
    share: float | None = None

    @property
    def level(self) -> str | None:
        return highest_level(self.tags)


@dataclass
class Change:
    kind: str  # upgrade | downgrade | changed | new | vanished | new_risk | risk_cleared
    key: str
    name: str
    owner: str
    before: str
    after: str
    detail: str = ""

    def as_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "key": self.key,
            "name": self.name,
            "owner": self.owner,
            "before": self.before,
            "after": self.after,
            "detail": self.detail,
        }


@dataclass
class ClassificationResult:
    ledger: Ledger
    policy: str
    classes: list[str]
    customers: list[CustomerClass]
    changes: list[Change]
    previous: PreviousRun | None
    outputs: list[Path] = field(default_factory=list)
    index: CustomerIndex | None = None  # for the jobs that go on with the same ledger
    notes: list[str] = field(default_factory=list)  # said aloud: where the satisfaction scores came from

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(c.klass for c in self.customers if c.klass)
        ordered = {k: found.pop(k) for k in self.classes if k in found}
        ordered.update(found)  # classes typed by hand outside the policy's list
        return ordered

    def as_json(self) -> dict[str, Any]:
        sheet = self.ledger.customers.sheet
        return {
            "job": "classify",
            "ledger": self.ledger.path,
            "policy": self.policy,
            "counts": self.counts,
            "unclassified": sum(1 for c in self.customers if not c.klass),
            "customers": [
                {
                    "sheet": sheet,
                    "row": c.row,
                    "name": c.name,
                    "customer_id": c.customer_id,
                    "owner": c.owner,
                    "class": c.klass,
                    "computed_class": c.computed,
                    "override": c.override,
                    "reason": c.reason,
                    "tags": [t.as_json() for t in c.tags],
                }
                for c in self.customers
            ],
            "changes": [c.as_json() for c in self.changes],
            "previous_run": self.previous.recorded if self.previous else None,
            "notes": self.notes,
            "outputs": [str(p) for p in self.outputs],
        }


def classify(
    ledger_path: str | os.PathLike[str],
    settings: Settings | None = None,
    *,
    today: date,
    now: datetime | None = None,
    policy: str | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    password: str | None = None,
    write: bool = True,
    record: bool = True,
    typed_fallback: bool = False,
) -> ClassificationResult:
    """Classify the customers of the ledger at ``ledger_path`` as of ``today``.

    ``policy`` overrides the workspace's for this run. ``now`` (default: the end of ``today``)
    dates the complaint checks. With ``record``, the run is stored in the state database and
    compared with the previous run of the same ledger and policy. Raises ``InputError`` when
    the ledger cannot be read or lacks the columns the policy needs (with ``typed_fallback``,
    the classes typed in the ledger are used instead, for the report). The ledger is only read.
    """
    settings = settings or load_settings()
    policy = policy or settings.policy
    now = now or datetime.combine(today, time(23, 59, 59))
    lang = settings.lang
    ledger = read_ledger(ledger_path, column_overrides=settings.overrides_for_reader(), password=password)
    table = ledger.customers
    index = CustomerIndex(table)
    survey_note = _use_survey_scores(ledger, index, settings, ledger_path, out_dir)
    classes = policy_classes(policy, settings.rules)
    try:
        computed = compute(policy, ledger, settings.rules, index, today, lang)
        final = _final_classes(table, computed, classes, policy, lang)
    except InputError as error:
        if not typed_fallback:
            raise
        # the ledger lacks what the policy reads: keep the classes typed by hand, and say so
        reason = label("reason.typed_only", lang, policy=policy, error=error.message)
        computed = [Computed(None, reason)] * len(table)
        final = [(typed_class(table, i), False, reason) for i in range(len(table))]
    keys = index.keys
    out_dir_path = settings.output_dir(out_dir)
    ledger_key = settings.ledger_key(ledger_path)
    previous: PreviousRun | None = None
    store = StateStore(state_path(settings, out_dir)) if record else None
    try:
        if store is not None:
            previous = store.last_classification(ledger_key, policy)
        scores = table.column("satisfaction")
        before = [_reference_score(previous, k, scores[i]) for i, k in enumerate(keys)]
        tags = risk_tags(
            ledger,
            settings.rules,
            index,
            [f[0] for f in final],
            today=today,
            now=now,
            previous_satisfaction=before,
            lang=lang,
        )
        ids, names, owners = table.column("customer_id"), table.column("name"), table.column("owner")
        customers = [
            CustomerClass(
                table.rows[i],
                keys[i],
                ids[i] or "",
                names[i] or "",
                owners[i] or "",
                klass,
                computed[i].klass,
                override,
                reason,
                tags[i],
                computed[i].share,
            )
            for i, (klass, override, reason) in enumerate(final)
        ]
        snapshots = [(c.key, _snapshot(c, scores[i], before[i])) for i, c in enumerate(customers)] if record else []
        changes = compare(previous, snapshots, classes, lang) if previous else []
        if store is not None:
            store.record_classification(
                ledger_key, policy, today, snapshots, summary=str(dict(Counter(c.klass for c in customers)))
            )
    finally:
        if store is not None:
            store.close()
    result = ClassificationResult(ledger, policy, classes, customers, changes, previous, index=index)
    result.notes.extend([survey_note] if survey_note else [])
    if write:
        stem = Path(ledger_path).stem
        name = f"{stem}_{label('classify.file', lang)}_{policy}_{today:%Y%m%d}.xlsx"
        result.outputs.append(
            write_report(out_dir_path / name, result, today=today, lang=lang, company=settings.company)
        )
    return result


def _use_survey_scores(ledger: Ledger, index: CustomerIndex, settings: Settings, ledger_path, out_dir) -> str:
    """A customer's latest returned survey (``crm survey collect``) is their satisfaction score:
    measured and dated, it wins over the 满意度 typed in the ledger. Returns the note that says so."""
    from ..survey import latest_scores

    scores = latest_scores(settings, ledger_path, out_dir=out_dir)
    if not scores:
        return ""
    table = ledger.customers
    values = list(table.column("satisfaction"))
    used: set[str] = set()
    for i, key in enumerate(index.keys):
        found = scores.get(key)
        if found is not None and found.score is not None:
            values[i] = round(found.score, 2)
            used.add(found.campaign)
    if not used:
        return ""
    table.values["satisfaction"] = values
    if not table.has("satisfaction"):
        table.columns["satisfaction"] = Column("satisfaction", "", -1, label("survey.source", settings.lang), 1.0, ())
    count = sum(1 for key in index.keys if key in scores)
    return label("survey.scores_used", settings.lang, count=count, campaigns="、".join(sorted(used)))


def _final_classes(
    table, computed: list[Computed], classes: list[str], policy: str, lang: str
) -> list[tuple[str | None, bool, str]]:
    """A class typed by hand in the ledger wins over the computed one, if it is a class of the
    policy; the reason says so. (class, override, reason) per row."""
    typed_column = table.column("class")
    prefixes: dict[tuple[object, object], str] = {}  # the same few wordings, built once
    out: list[tuple[str | None, bool, str]] = []
    for typed, found in zip(typed_column, computed, strict=True):
        if typed and typed in classes:
            if typed == found.klass:
                out.append((typed, False, found.reason))
                continue
            prefix = prefixes.get((typed, found.klass))
            if prefix is None:
                prefix = label("reason.override", lang, hand=typed, computed=found.klass or "-") + "；"
                prefixes[(typed, found.klass)] = prefix
            out.append((typed, True, prefix + found.reason))
        elif typed:
            out.append(
                (found.klass, False, found.reason + label("reason.hand_not_policy", lang, hand=typed, policy=policy))
            )
        else:
            out.append((found.klass, False, found.reason))
    return out


def _reference_score(previous: PreviousRun | None, key: str, score: float | None) -> float | None:
    """The score to compare with: the previous run's, or, if it has not changed since, the one
    before that change (so a fall stays tagged until the score moves again)."""
    before = previous.customers.get(key) if previous else None
    if before is None:
        return None
    return before.satisfaction if before.satisfaction != score else before.satisfaction_ref


def _snapshot(customer: CustomerClass, satisfaction: float | None, reference: float | None) -> Snapshot:
    tags = {t.code: t.reason for t in customer.tags}
    return Snapshot(customer.name, customer.owner, customer.klass, customer.computed, tags, satisfaction, reference)


def compare(previous: PreviousRun, current: list[tuple[str, Snapshot]], classes: list[str], lang: str) -> list[Change]:
    """What changed since ``previous``: upgrades, downgrades, new and vanished customers, new and
    cleared risks. Pure."""
    rank = {k: n for n, k in enumerate(classes)}
    changes: list[Change] = []
    now_keys = set()
    for key, now in current:
        now_keys.add(key)
        before = previous.customers.get(key)
        if before is None:
            changes.append(Change("new", key, now.name, now.owner, "", now.klass or ""))
            continue
        if before.klass != now.klass:
            old, new = rank.get(before.klass or ""), rank.get(now.klass or "")
            kind = "changed" if old is None or new is None else ("upgrade" if new < old else "downgrade")
            changes.append(Change(kind, key, now.name, now.owner, before.klass or "", now.klass or ""))
        for code, reason in now.tags.items():
            if code not in before.tags:
                changes.append(Change("new_risk", key, now.name, now.owner, "", code, reason))
        for code, reason in before.tags.items():
            if code not in now.tags:
                changes.append(Change("risk_cleared", key, now.name, now.owner, code, "", reason))
    for key, before in previous.customers.items():
        if key not in now_keys:
            changes.append(Change("vanished", key, before.name, before.owner, before.klass or "", ""))
    order = {"downgrade": 0, "new_risk": 1, "vanished": 2, "upgrade": 3, "changed": 4, "new": 5, "risk_cleared": 6}
    changes.sort(key=lambda c: (order[c.kind], c.owner, c.name))
    return changes

"""``crm classify``: put each customer in a class under the workspace's policy, with the reason
spelled out, tag risks, record the run, and list what changed since the last run."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..config import Settings, load_settings
from ..facts import POLICIES, Classified, CustomerClass, Facts, load_facts
from ..i18n import label
from ..jsonrows import put_rows
from ..state import NO_TAGS, PreviousRun, Snapshot, StateStore, state_path
from ..xlsx import file_part
from .report import write_report

__all__ = ["POLICIES", "Change", "ClassificationResult", "CustomerClass", "classify"]


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
class ClassificationResult(Classified):
    changes: list[Change] = field(default_factory=list)
    previous: PreviousRun | None = None
    outputs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # said aloud: where the satisfaction scores came from

    def as_json(self, limit: int | None = None) -> dict[str, Any]:
        """The JSON of ``crm classify``; ``limit`` cuts the customers and changes lists (``jsonrows``)."""
        sheet = self.ledger.customer_sheet.sheet

        def customer(c: CustomerClass) -> dict[str, Any]:
            return {
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

        data = {
            "job": "classify",
            "ledger": self.ledger.path,
            "policy": self.policy,
            "counts": self.counts,
            "unclassified": sum(1 for c in self.customers if not c.klass),
        }
        put_rows(data, "customers", self.customers, customer, limit)
        put_rows(data, "changes", self.changes, Change.as_json, limit)
        data["previous_run"] = self.previous.recorded if self.previous else None
        data["notes"] = self.notes
        data["outputs"] = [str(p) for p in self.outputs]
        return data


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
    facts: Facts | None = None,
    split: bool = False,
) -> ClassificationResult:
    """Classify the customers of the ledger at ``ledger_path`` as of ``today``.

    ``facts``: the ledger's facts when the caller has them (``crm run``), else the ledger is read.
    ``policy`` overrides the workspace's for this run. ``now`` (default: the end of ``today``)
    dates the complaint checks. With ``record``, the run is stored in the state database and
    compared with the previous run of the same ledger and policy. Raises ``InputError`` when
    the ledger cannot be read or lacks the columns the policy needs (with ``typed_fallback``,
    the classes typed in the ledger are used instead). The ledger is only read.
    """
    settings = settings or load_settings()
    policy = policy or settings.policy
    own_facts = facts is None  # read here: nobody else takes them
    if facts is None:
        facts = load_facts(
            ledger_path, settings, today=today, now=now, policy=policy, password=password, out_dir=out_dir
        )
    facts = facts.for_policy(policy)
    lang = settings.lang
    ledger = facts.ledger
    found = facts.classes
    if found.error is not None and not typed_fallback:
        raise found.error
    keys = facts.index.keys
    out_dir_path = settings.output_folder(out_dir) if write else settings.output_dir(out_dir)
    ledger_key = settings.ledger_key(ledger_path)
    previous: PreviousRun | None = None
    store = StateStore(state_path(settings, out_dir)) if record else None
    try:
        if store is not None:
            previous = store.last_classification(ledger_key, policy)
        scores = facts.satisfaction
        before = [_reference_score(previous, k, scores[i]) for i, k in enumerate(keys)]
        customers = list(facts.classified(before).customers)  # walked often here: made once
        order, index, note = found.order, facts.index, facts.satisfaction_note
        if own_facts:  # what only the classes needed (visit records, due dates) goes before the workbook
            facts = found = None
            index.forget_tables()
        snapshots = [(c.key, _snapshot(c, scores[i], before[i])) for i, c in enumerate(customers)] if record else []
        changes = compare(previous, snapshots, order, lang) if previous else []
        result = ClassificationResult(ledger, policy, order, customers, index, changes, previous)
        result.notes.extend([note] if note else [])
        if write:
            stem = Path(ledger_path).stem
            name = f"{stem}_{label('classify.file', lang)}_{policy}_{today:%Y%m%d}.xlsx"
            target = out_dir_path / name
            result.outputs.append(write_report(target, result, today=today, lang=lang, company=settings.company))
            if split:  # each owner a workbook of their own customers only (nobody sees another's)
                for owner, own in _by_owner(result):
                    path = target.with_name(f"{target.stem}_{file_part(owner)}.xlsx")
                    result.outputs.append(write_report(path, own, today=today, lang=lang, company=settings.company))
        if store is not None:  # only once the outputs exist: a failed run leaves no record
            store.record_classification(
                ledger_key, policy, today, snapshots, summary=str(dict(Counter(c.klass for c in customers)))
            )
    finally:
        if store is not None:
            store.close()
    return result


def _by_owner(result: ClassificationResult) -> list[tuple[str, ClassificationResult]]:
    """The result cut to each owner's customers and changes, owners in name order (customers
    with no owner are in the whole workbook only)."""
    owners = sorted({c.owner for c in result.customers if c.owner})
    out = []
    for owner in owners:
        own = ClassificationResult(
            result.ledger,
            result.policy,
            result.classes,
            [c for c in result.customers if c.owner == owner],
            result.index,
            [c for c in result.changes if c.owner == owner],
            result.previous,
        )
        out.append((owner, own))
    return out


def _reference_score(previous: PreviousRun | None, key: str, score: float | None) -> float | None:
    """The score to compare with: the previous run's, or, if it has not changed since, the one
    before that change (so a fall stays tagged until the score moves again)."""
    before = previous.customers.get(key) if previous else None
    if before is None:
        return None
    return before.satisfaction if before.satisfaction != score else before.satisfaction_ref


def _snapshot(customer: CustomerClass, satisfaction: float | None, reference: float | None) -> Snapshot:
    tags = {t.code: t.reason for t in customer.tags} if customer.tags else NO_TAGS
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

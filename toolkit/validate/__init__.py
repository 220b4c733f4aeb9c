"""``crm validate``: read a ledger, check it against the rules, write the validation workbook."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ..config import Settings, load_settings
from ..facts import Facts, load_facts
from ..jsonrows import put_rows
from ..model import Finding, Ledger
from ..xlsx import file_part
from .report import write_report

__all__ = ["ValidationResult", "validate"]


@dataclass
class ValidationResult:
    ledger: Ledger
    findings: list[Finding]
    outputs: list[Path] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")

    def as_json(self, limit: int | None = None) -> dict[str, Any]:
        """The JSON of ``crm validate``; ``limit`` cuts the issues list (``jsonrows``)."""
        data = {
            "job": "validate",
            "ledger": self.ledger.path,
            "customers": len(self.ledger.customer_sheet),
            "errors": self.errors,
            "warnings": self.warnings,
            "tables": {
                kind: {"sheet": t.sheet, "header_row": t.header_rows[-1], "rows": len(t)}
                for kind, t in self.ledger.tables.items()
            },
        }
        put_rows(data, "issues", self.findings, Finding.as_json, limit)
        data["outputs"] = [str(p) for p in self.outputs]
        return data


def validate(
    ledger_path: str | os.PathLike[str],
    settings: Settings | None = None,
    *,
    today: date,
    out_dir: str | os.PathLike[str] | None = None,
    password: str | None = None,
    write: bool = True,
    split: bool = False,
    facts: Facts | None = None,
) -> ValidationResult:
    """Validate the ledger at ``ledger_path`` as of ``today``.

    Returns the findings and, when ``write``, the path of the validation workbook written to
    ``out_dir`` (default: the workspace's ``out/``); with ``split`` also one workbook per owner
    holding only the findings on their customers (``…_<owner>.xlsx``). ``facts``: the ledger's facts when the caller
    has them (``crm run``), else the ledger is read. The ledger itself is only read. Raises
    ``InputError`` when the ledger cannot be read at all.
    """
    settings = settings or load_settings()
    if facts is None:
        facts = load_facts(ledger_path, settings, today=today, password=password, out_dir=out_dir)
    ledger = facts.ledger
    findings = facts.findings()
    result = ValidationResult(ledger, findings)
    if write:
        stem = Path(ledger_path).stem
        target = settings.output_folder(out_dir) / f"{stem}_校验结果_{today:%Y%m%d}.xlsx"
        if settings.lang == "en":
            target = target.with_name(f"{stem}_validation_{today:%Y%m%d}.xlsx")
        company, lang = settings.company, settings.lang
        result.outputs.append(write_report(target, ledger, findings, today=today, lang=lang, company=company))
        if split:
            by_owner: dict[str, list[Finding]] = {}
            for finding in findings:
                if finding.owner:
                    by_owner.setdefault(finding.owner, []).append(finding)
            for owner in sorted(by_owner):
                own = target.with_name(f"{target.stem}_{file_part(owner)}.xlsx")
                result.outputs.append(
                    write_report(own, ledger, by_owner[owner], today=today, lang=lang, company=company)
                )
    return result

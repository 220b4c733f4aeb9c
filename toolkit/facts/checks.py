"""The validation rules: pure functions from a read ledger and the rules to findings.

Nothing here reads a file or the clock; ``today`` is a parameter. Every rule's code,
severity and wording come from ``toolkit.findings`` and the rules workbook.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from ..config import Rules
from ..findings import CODES, Details, templates
from ..i18n import joined, typed_word
from ..model import (
    COMPLAINTS,
    CUSTOMERS,
    FIELDS_BY_TABLE,
    MONTHLY,
    TABLE_LABELS,
    VISITS,
    Finding,
    FormulaError,
    Severity,
    Sheet,
    field_label,
)
from ..relations import CustomerIndex

_BAD_CODE = {
    "date": "bad_date",
    "datetime": "bad_date",
    "month": "bad_date",
    "amount": "bad_amount",
    "percent": "bad_percent",
    "phone": "bad_phone",
    "email": "bad_email",
    "bool": "bad_bool",
    "number": "bad_number",
    "score": "bad_number",
}


class _Collector:
    """Builds findings with the right severity and wording; drops disabled rules."""

    def __init__(self, rules: Rules, lang: str, wording: bool = True) -> None:
        self.rules, self.lang, self.wording = rules, lang, wording
        self.findings: list[Finding] = []
        self._fixed: dict[tuple[str, int, str], tuple[Severity, str, str, str, str, str]] = {}

    def enabled(self, code: str) -> bool:
        return self.rules.enabled.get(code, True)

    def add(
        self,
        code: str,
        table: Sheet,
        i: int | None,
        key: str,
        value: Any,
        owner: str = "",
        group: str = "",
        **details: Any,
    ) -> None:
        if not self.enabled(code):
            return
        row = table.rows[i] if i is not None else (table.header_rows[-1] if table.header_rows else None)
        fixed = self._fixed.get((code, id(table), key))
        if fixed is None:  # what every finding of this rule on this column shares, worked out once
            fixed = self._fixed[(code, id(table), key)] = self._shared(code, table, key)
        severity, label, column, message, hint, table_label = fixed
        if not self.wording:  # only counted (the monthly report): no message to build
            self.findings.append(Finding(code, severity, table.sheet, row, "", key, value, "", "", owner, group))
            return
        shown = {"field": label, "value": _show(value), "table": table_label, "table_key": table.kind}
        values = Details({**shown, **details})  # a rule's own field name (missing_column) wins
        self.findings.append(
            Finding(
                code,
                severity,
                table.sheet,
                row,
                column,
                key,
                value,
                message.format_map(values) if "{" in message else message,
                hint.format_map(values) if "{" in hint else hint,  # most hints: one string for all
                owner,
                group,
                label,
            )  # fmt: skip
        )

    def _shared(self, code: str, table: Sheet, key: str) -> tuple[Severity, str, str, str, str, str]:
        severity: Severity = "error" if self.rules.severity.get(code, CODES[code].severity) == "error" else "warning"
        label = field_label(table.kind, key, self.lang) if key in FIELDS_BY_TABLE[table.kind] else key
        column = table.columns[key].letter if key in table.columns else ""
        message, hint = templates(code, self.lang)
        return severity, label, column, message, hint, TABLE_LABELS[self.lang][table.kind]


def _typed(number: float) -> float | int:
    """A number as it was typed: 35.0 → 35."""
    rounded = round(number, 6)
    return int(rounded) if rounded == int(rounded) else rounded


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


def check_ledger(facts: Any, *, wording: bool = True) -> list[Finding]:
    """Every finding in the facts' ledger under its rules as of the facts' date, in
    sheet-then-row order. ``wording=False``: findings without messages, for a job that only
    counts them. Use ``Facts.findings``, which keeps the result."""
    ledger, rules, lang, index = facts.ledger, facts.settings.rules, facts.settings.lang, facts.index
    today = facts.today
    out = _Collector(rules, lang, wording)
    customers = ledger.customer_sheet
    owners = customers.column("owner")
    _check_customers(out, customers, owners, rules, today, index.name_keys)
    for kind in (VISITS, COMPLAINTS, MONTHLY):
        table = ledger.tables.get(kind)
        if table is None:
            continue
        matched = _check_references(out, table, index)
        _check_cells(out, table, [owners[m] if m is not None else "" for m in matched], today)
        if kind == COMPLAINTS and table.has("replied") and table.has("received"):
            for i, (got, replied) in enumerate(zip(table.column("received"), table.column("replied"), strict=True)):
                if got and replied and replied < got:
                    m = matched[i]
                    owner = owners[m] if m is not None else ""
                    out.add("reply_before_received", table, i, "replied", replied, owner, received=_show(got))
        if kind == COMPLAINTS and table.has("received"):  # a later stage dated before the complaint
            received = table.column("received")
            for key in ("investigated", "handled", "resolved_on", "feedback_on", "promised"):
                if not table.has(key):
                    continue
                for i, (got, then) in enumerate(zip(received, table.column(key), strict=True)):
                    if got and then and then < got:
                        m = matched[i]
                        out.add(
                            "stage_before_received",
                            table,
                            i,
                            key,
                            then,
                            owners[m] if m is not None else "",
                            received=_show(got),
                        )
    _check_contact(out, facts, owners, today)
    order = {name: n for n, name in enumerate(ledger.sheets)}.get
    findings = out.findings
    if any(f.row is None for f in findings):
        findings.sort(key=lambda f: (order(f.sheet, 99), f.row or 0, f.column))
    else:  # three stable sorts, last key first: no key tuple for each of 100k findings
        findings.sort(key=attrgetter("column"))
        findings.sort(key=attrgetter("row"))
        findings.sort(key=lambda f: order(f.sheet, 99))
    return findings


def _check_customers(
    out: _Collector, table: Sheet, owners: list[Any], rules: Rules, today: date, name_keys: list[str | None]
) -> None:
    n = len(table)
    for key in rules.required:
        if key == "phone_or_email":
            if not (table.has("phone") or table.has("email")):
                out.add(
                    "missing_column",
                    table,
                    None,
                    "phone",
                    None,
                    field=f"{field_label(CUSTOMERS, 'phone', out.lang)}/{field_label(CUSTOMERS, 'email', out.lang)}",
                )
                continue
            phones, emails = table.column("phone"), table.column("email")
            unreadable = set(table.bad.get("phone", ())) | set(table.bad.get("email", ()))
            for i in range(n):
                if phones[i] is None and emails[i] is None and i not in unreadable:
                    out.add(
                        "contact_missing", table, i, "phone" if table.has("phone") else "email", None, owners[i] or ""
                    )
            continue
        if not table.has(key):
            out.add("missing_column", table, None, key, None)
            continue
        values, bad = table.column(key), table.bad.get(key, {})
        for i in range(n):
            if values[i] is None and i not in bad:
                out.add("required_missing", table, i, key, None, owners[i] or "")
    _check_cells(out, table, owners, today)
    _check_duplicates(out, table, owners, name_keys)


def _check_cells(out: _Collector, table: Sheet, owners: list[Any], today: date) -> None:
    """Unreadable values, values outside their allowed lists or ranges, dates in the future."""
    fields = FIELDS_BY_TABLE[table.kind]
    allowed = out.rules.allowed
    for key, bad in table.bad.items():
        code = _BAD_CODE.get(fields[key].kind)
        for i, raw in bad.items():
            if raw.__class__ is FormulaError:
                cell = f"{table.columns[key].letter}{table.rows[i]}"
                out.add("formula_error", table, i, key, raw, owners[i] or "", cell=cell)
            elif code:
                out.add(code, table, i, key, raw, owners[i] or "")
    for key in table.columns:
        kind = fields[key].kind
        values = table.column(key)
        if kind == "enum" and allowed.get(key):
            permitted = set(allowed[key])
            shown = joined((typed_word(v, out.lang) for v in allowed[key]), out.lang)
            for i, value in enumerate(values):
                if value is not None and value not in permitted:
                    out.add("bad_enum", table, i, key, value, owners[i] or "", allowed=shown)
        elif kind in ("date", "datetime") and key not in ("birthday",):
            limit = today if kind == "date" else datetime(today.year, today.month, today.day, 23, 59, 59)
            for i, value in enumerate(values):
                if value is not None and value > limit:
                    out.add("future_date", table, i, key, value, owners[i] or "", today=today.isoformat())
        elif kind == "percent":
            for i, value in enumerate(values):
                if value is not None and not 0 <= value <= 100:
                    out.add("share_range", table, i, key, round(value, 4), owners[i] or "")
        elif kind == "amount":
            unit = table.columns[key].unit or 1.0  # the value is shown as typed: -35 in a (万元) column
            for i, value in enumerate(values):
                if value is not None and value < 0:
                    out.add("negative_amount", table, i, key, _typed(value / unit), owners[i] or "")


def _groups(values: list[Any]) -> Iterator[list[int]]:
    """The rows of each value that more than one row holds (counted first: most are unique)."""
    repeated = {value for value, n in Counter(values).items() if n > 1 and value}
    seen: dict[Any, list[int]] = defaultdict(list)
    if repeated:
        for i, value in enumerate(values):
            if value in repeated:
                seen[value].append(i)
    return iter(seen.values())


def _check_duplicates(out: _Collector, table: Sheet, owners: list[Any], name_keys: list[str | None]) -> None:
    ids = table.column("customer_id")
    flagged_by_id: set[tuple[int, ...]] = set()
    if table.has("customer_id"):
        for rows in _groups(ids):
            flagged_by_id.add(tuple(rows))
            for i in rows:
                others = joined((table.rows[j] for j in rows if j != i), out.lang)
                out.add(
                    "duplicate_id", table, i, "customer_id", ids[i], owners[i] or "", group=f"ID {ids[i]}", rows=others
                )
    if table.has("name"):
        names = table.column("name")
        for rows in _groups(name_keys):
            if table.has("customer_id") and len({ids[i] for i in rows}) == 1 and ids[rows[0]]:
                continue  # one ID: already a duplicate_id group
            for i in rows:
                others = joined((table.rows[j] for j in rows if j != i), out.lang)
                out.add(
                    "duplicate_name", table, i, "name", names[i], owners[i] or "", group=names[rows[0]], rows=others
                )


def _check_references(out: _Collector, table: Sheet, index: CustomerIndex) -> list[int | None]:
    names = table.column("customer")
    ids = table.column("customer_id")
    matched: list[int | None] = []
    for i, (found, problem) in enumerate(index.match(table)):
        matched.append(found)
        if problem == "unknown":
            key = "customer_id" if ids[i] and not names[i] else "customer"
            out.add("unknown_customer", table, i, key, ids[i] if key == "customer_id" else names[i])
        elif problem == "ambiguous":
            count = index.sharing(names[i])
            out.add("ambiguous_customer", table, i, "customer", names[i], count=count)
    return matched


def _check_contact(out: _Collector, facts: Any, owners: list[Any], today: date) -> None:
    """Customers past their routine contact (the class's cadence in calendar months from the last
    contact: ``Facts.contact_due``, the same rule the plan and the risk tags use)."""
    if not (out.enabled("overdue_contact") or out.enabled("never_contacted")):
        return
    ledger = facts.ledger
    table = ledger.customer_sheet
    typed_last = table.column("last_visit")
    has_history = table.has("last_visit") or VISITS in ledger.tables
    unreadable = table.bad.get("last_visit", {})
    for i, due in enumerate(facts.contact_due):
        if due is None or i in unreadable or (typed_last[i] is not None and typed_last[i] > today):
            continue  # no cadence for the class, or the date itself is reported already
        klass = facts.classes.effective(i, facts.strategic[i])
        last = due.last
        if last is None:
            if has_history:
                out.add("never_contacted", table, i, "last_visit", None, owners[i] or "", klass=klass)
            continue
        if due.due < today:
            days = (today - last).days
            out.add(
                "overdue_contact",
                table,
                i,
                "last_visit",
                last,
                owners[i] or "",
                klass=klass,
                days=days,
                months=f"{due.months:g}",
                due=due.due.isoformat(),
                last=last.isoformat(),
            )

"""The three shipped classification policies: pure functions from a ledger and the rules to
(class, reason) per customer row. Thresholds come from the rules workbook only.

- ``abcd`` (policy 004): a points table per factor (行业地位, 企业规模, 合作意向, 发展潜力); the
  average over the factors filled in decides the class by the cut-offs; some levels force a
  class (合作意向 不明确 → D).
- ``sales`` (policy 002): 战略 marked by hand, 重点 ≥ 2000万 a year, 主要 ≥ 500万, 一般 below.
- ``share`` (policy 002): 战略合作伙伴 > 5 % of the company's business, 重点客户 > 3 %, 一般客户
  otherwise; the share computed from the monthly-business sheet when there is no share column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..config import Rules
from ..errors import InputError
from ..i18n import joined, label, typed_word
from ..model import CUSTOMERS, MONTHLY, Sheet, field_label

POLICIES = ("abcd", "sales", "share")
SALES_CLASSES = ["战略", "重点", "主要", "一般"]
SHARE_CLASSES = ["战略合作伙伴", "重点客户", "一般客户"]
ABCD_FACTORS = ("industry_position", "scale", "intent", "potential")


@dataclass(frozen=True, slots=True)
class Computed:
    klass: str | None
    reason: str
    share: float | None = None  # percent, for the share policy


def policy_classes(policy: str, rules: Rules) -> list[str]:
    """The classes of a policy, best first (for upgrades and downgrades)."""
    if policy == "abcd":
        return [k for k, _ in rules.abcd_cutoffs]
    return SALES_CLASSES if policy == "sales" else SHARE_CLASSES


def wan(yuan: float, lang: str = "zh") -> str:
    """20,000,000 → '2,000万'; 19,999,900 → '1,999.99万'; up to four decimals, never rounded up to a
    threshold. In English: 'CNY 20,000,000' (万 is not an English unit)."""
    if lang == "en":
        return "CNY " + f"{yuan:,.2f}".rstrip("0").rstrip(".")
    text = f"{yuan / 1e4:,.4f}".rstrip("0").rstrip(".")  # 1,999.999万 stays below 2,000万
    return f"{text}万"


def percent(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") + "%"


def compute(policy: str, facts: Any) -> list[Computed]:
    """(class, reason) for every customer row under ``policy``.

    Raises ``InputError`` naming the columns the policy needs and the ones it found when the
    ledger lacks them: nothing is classified on a guess.
    """
    if policy not in POLICIES:
        raise InputError(f"unknown policy '{policy}'", hint=f"use one of: {', '.join(POLICIES)}")
    ledger, rules, lang = facts.ledger, facts.settings.rules, facts.settings.lang
    if policy == "abcd":
        return _abcd(ledger.customer_sheet, rules, lang, ledger.path)
    if policy == "sales":
        return _sales(ledger.customer_sheet, rules, lang, ledger.path)
    return _share(facts, rules, lang)


def _needs(ledger_path: str, table: Sheet, policy: str, needed: str, lang: str) -> InputError:
    found = joined((f"{c.header}→{field_label(CUSTOMERS, k, lang)}" for k, c in table.columns.items()), lang)
    return InputError(
        f"policy {policy} needs {needed}; the customer sheet has: {found or 'no recognised columns'}",
        file=ledger_path,
        sheet=table.sheet,
        hint="add those columns, name yours under [columns.customers] in crm.toml, or pick another --policy",
    )


def _abcd(table: Sheet, rules: Rules, lang: str, path: str) -> list[Computed]:
    present = [f for f in ABCD_FACTORS if table.has(f)]
    if not (table.has("intent") and table.has("potential") and (table.has("scale") or table.has("industry_position"))):
        needed = (
            f"{field_label(CUSTOMERS, 'intent', lang)}, {field_label(CUSTOMERS, 'potential', lang)} "
            f"and {field_label(CUSTOMERS, 'scale', lang)} or {field_label(CUSTOMERS, 'industry_position', lang)}"
        )
        raise _needs(path, table, "abcd", needed, lang)
    sep = label("reason.sep", lang)
    names = {f: field_label(CUSTOMERS, f, lang) for f in present}
    columns = [table.column(f) for f in present]
    memo: dict[tuple[object, ...], Computed] = {}
    out = []
    for i in range(len(table)):
        values = tuple(column[i] for column in columns)
        found = memo.get(values)
        if found is None:
            found = memo[values] = _abcd_one(dict(zip(present, values, strict=True)), names, rules, lang, sep)
        out.append(found)
    return out


def _abcd_one(values: dict[str, object], names: dict[str, str], rules: Rules, lang: str, sep: str) -> Computed:
    parts, missing, unknown = [], [], []
    forced: tuple[str, str, object] | None = None
    total = 0.0
    for factor, value in values.items():
        if value is None:
            missing.append(names[factor])
            continue
        entry = rules.abcd_points.get(factor, {}).get(str(value))
        if entry is None:
            unknown.append(f"{names[factor]} {typed_word(value, lang)}")
            continue
        points, force = entry
        parts.append(f"{names[factor]} {typed_word(value, lang)} {points:g}")
        total += points
        if force and forced is None:
            forced = (force, names[factor], typed_word(value, lang))
    notes = ""
    if missing:
        notes += label("reason.abcd_missing", lang, fields=joined(missing, lang))
    if unknown:
        notes += label("reason.abcd_unknown", lang, values=joined(unknown, lang))
    if forced is not None:
        klass, factor, value = forced
        return Computed(klass, klass + sep + label("reason.abcd_forced", lang, factor=factor, value=value, klass=klass))
    if len(parts) < 2:
        return Computed(None, label("reason.abcd_short", lang, fields=joined(parts, lang) or "-") + notes)
    average = total / len(parts)
    for klass, lowest in rules.abcd_cutoffs:
        if average >= lowest - 1e-9:
            text = label("reason.abcd", lang, parts=" + ".join(parts), average=f"{average:.2f}", cutoff=f"{lowest:.2f}")
            return Computed(klass, klass + sep + text + notes)
    return Computed(None, label("reason.abcd_short", lang, fields=joined(parts, lang)) + notes)


def _sales(table: Sheet, rules: Rules, lang: str, path: str) -> list[Computed]:
    if not table.has("annual_sales"):
        raise _needs(path, table, "sales", field_label(CUSTOMERS, "annual_sales", lang), lang)
    key_min = rules.parameter("sales.key_min") * 1e4
    major_min = rules.parameter("sales.major_min") * 1e4
    sep = label("reason.sep", lang)
    # the wording's fixed parts once; per customer only its amount is written in
    strategic = Computed("战略", "战略" + sep + label("reason.strategic_flag", lang))
    no_sales = Computed(None, label("reason.no_sales", lang))
    key_text, major_text = wan(key_min, lang), wan(major_min, lang)
    at_least, between, below = (label(k, lang) for k in ("reason.sales_ge", "reason.sales_between", "reason.sales_lt"))
    unreadable = table.bad.get("annual_sales", {})
    letter = table.columns["annual_sales"].letter
    out = []
    for i, (amount, flagged) in enumerate(zip(table.column("annual_sales"), table.column("strategic"), strict=True)):
        if flagged:
            out.append(strategic)
        elif amount is None and i in unreadable:  # a formula error or an unreadable text: never "not filled in"
            cell = f"{letter}{table.rows[i]}"
            out.append(Computed(None, label("reason.unreadable_sales", lang, cell=cell, value=unreadable[i])))
        elif amount is None:
            out.append(no_sales)
        elif amount >= key_min:
            out.append(Computed("重点", "重点" + sep + at_least.format(amount=wan(amount, lang), threshold=key_text)))
        elif amount >= major_min:
            text = between.format(amount=wan(amount, lang), upper=key_text, lower=major_text)
            out.append(Computed("主要", "主要" + sep + text))
        else:
            out.append(Computed("一般", "一般" + sep + below.format(amount=wan(amount, lang), threshold=major_text)))
    return out


def _share(facts: Any, rules: Rules, lang: str) -> list[Computed]:
    ledger = facts.ledger
    table = ledger.customer_sheet
    strategic_min = rules.parameter("share.strategic_min")
    key_min = rules.parameter("share.key_min")
    sep = label("reason.sep", lang)
    monthly = ledger.tables.get(MONTHLY)
    has_monthly = monthly is not None and monthly.has("volume") and monthly.has("month")
    typed = list(table.column("share")) if table.has("share") else [None] * len(table)
    if not table.has("share") and not has_monthly:
        needed = f"{field_label(CUSTOMERS, 'share', lang)}, or a monthly-business sheet (月份, 客户, 业务量)"
        raise _needs(ledger.path, table, "share", needed, lang)
    shares: list[float | None] = typed
    details = [""] * len(table)
    if (
        monthly is not None and has_monthly and any(s is None for s in typed)
    ):  # a share typed by hand wins; the rest from the sheet
        computed, reasons = _shares_from_volumes(facts, rules, lang)
        shares = [t if t is not None else c for t, c in zip(typed, computed, strict=True)]
        details = ["" if t is not None else r for t, r in zip(typed, reasons, strict=True)]
    unreadable = table.bad.get("share", {})
    # any one of 002's three marks makes a strategic partner, whatever the share
    marks = [
        (table.column(key), label(f"reason.{key}_flag", lang))
        for key in ("strategic", "long_term", "influence")
        if table.has(key)
    ]
    out = []
    for i, (share, detail) in enumerate(zip(shares, details, strict=True)):
        marked = [why for column, why in marks if column[i]]
        if marked:
            shown = label("reason.share_also", lang, share=percent(share)) if share is not None else ""
            out.append(Computed("战略合作伙伴", "战略合作伙伴" + sep + joined(marked, lang) + shown, share))
        elif share is None and i in unreadable:
            cell = f"{table.columns['share'].letter}{table.rows[i]}"
            out.append(Computed(None, label("reason.unreadable_share", lang, cell=cell, value=unreadable[i])))
        elif share is None:
            out.append(Computed(None, label("reason.no_share", lang)))
        elif share > strategic_min:
            text = label("reason.share_gt", lang, share=percent(share), threshold=percent(strategic_min))
            out.append(Computed("战略合作伙伴", "战略合作伙伴" + sep + text + detail, share))
        elif share > key_min:
            text = label(
                "reason.share_between", lang, share=percent(share), upper=percent(strategic_min), lower=percent(key_min)
            )
            out.append(Computed("重点客户", "重点客户" + sep + text + detail, share))
        else:
            text = label("reason.share_le", lang, share=percent(share), threshold=percent(key_min))
            out.append(Computed("一般客户", "一般客户" + sep + text + detail, share))
    return out


def _shares_from_volumes(facts: Any, rules: Rules, lang: str) -> tuple[list[float | None], list[str]]:
    """Each customer's share of all business (every row counted, known customer or not) over
    the last N months with figures up to today, from the facts' monthly volumes."""
    window = int(rules.parameter("share.window_months"))
    chosen = facts.months_up_to(facts.today)[-window:]
    monthly = facts.monthly_volumes
    customers = len(facts.ledger.customer_sheet)
    total = math.fsum(monthly.totals[m] for m in chosen)
    shares: list[float | None] = [None] * customers
    details = [""] * customers
    if total <= 0:
        return shares, details
    for row, by_month in monthly.by_customer():
        figures = [by_month[m] for m in chosen if m in by_month]
        if not figures:
            continue
        amount = math.fsum(figures)
        shares[row] = amount / total * 100
        details[row] = label(
            "reason.share_from_monthly", lang, months=len(chosen), mine=wan(amount, lang), total=wan(total, lang)
        )
    return shares, details

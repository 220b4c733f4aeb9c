"""How the sheets of a ledger refer to each other: which customer a visit, complaint or
business row means, and when each customer was last contacted. Pure functions over tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from functools import cached_property

from .ledger.coerce import normalize_name
from .model import VISITS, Ledger, Sheet

STRATEGIC = "战略"
VisitRecord = tuple[int, date, str]  # (customer row, date, purpose + content + way): ``CustomerIndex.visits``


class CustomerIndex:
    """Finds the customer row a visit, complaint or business row means: by ID, else by name.

    Two customers with the same name are never guessed between: a row naming one of them
    without an ID is 'ambiguous'.
    """

    def __init__(self, customers: Sheet) -> None:
        self.customers = customers
        self._matched: dict[int, tuple[Sheet, list[tuple[int | None, str]]]] = {}
        self._visits: dict[int, tuple[Sheet, list[VisitRecord]]] = {}
        # each customer ID's match, (its first row, ''), made once for every table's rows naming it
        self.by_id: dict[str, tuple[int, str]] = {}
        for i, value in enumerate(customers.column("customer_id")):
            if value and value not in self.by_id:
                self.by_id[value] = (i, "")

    @cached_property
    def name_keys(self) -> list[str | None]:
        """Each customer's normalised name (computed on first use: it is the slow part)."""
        return [normalize_name(v) if v else None for v in self.customers.column("name")]

    def forget_tables(self) -> None:
        """Drop what ``match`` and ``visits`` remember of the other sheets (a job done with them)."""
        self._matched.clear()
        self._visits.clear()

    def visits(self, table: Sheet) -> list[VisitRecord]:
        """(customer row, date, purpose + content + way) of every visit record that names a known
        customer and has a readable date. Remembered per table, like ``match``."""
        found = self._visits.get(id(table))
        if found is None or found[0] is not table:
            # the few wordings a ledger repeats, one string each (dropped when they do not repeat)
            texts: dict[tuple[object, object, object], str] | None = {}
            records = []
            for (row, _), day, purpose, content, way in zip(
                self.match(table),
                table.column("visit_date"),
                table.column("purpose"),
                table.column("content"),
                table.column("way"),
                strict=True,
            ):
                if row is None or day is None:
                    continue
                text = texts.get((purpose, content, way)) if texts is not None else None
                if text is None:
                    text = visit_text(purpose, content, way)
                    if texts is not None:
                        texts[(purpose, content, way)] = text
                        if len(texts) > 4096 and 2 * len(texts) > len(records):
                            texts = None
                records.append((row, day, text))
            found = self._visits[id(table)] = (table, records)
        return found[1]

    @cached_property
    def keys(self) -> list[str]:
        """Each customer's identity across runs: its ID, else its normalised name; repeats numbered."""
        ids = self.customers.column("customer_id")
        seen: dict[str, int] = {}
        keys = []
        for i in range(len(self.customers)):
            base = f"id:{ids[i]}" if ids[i] else f"name:{self.name_keys[i] or self.customers.rows[i]}"
            seen[base] = seen.get(base, 0) + 1
            keys.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
        return keys

    @cached_property
    def _by_name(self) -> tuple[dict[str, int], dict[str, int]]:
        """Each normalised name's first customer row, and how many rows share a name two or more do."""
        first: dict[str, int] = {}
        shared: dict[str, int] = {}
        for i, key in enumerate(self.name_keys):
            if key:
                if key in first:
                    shared[key] = shared.get(key, 1) + 1
                else:
                    first[key] = i
        return first, shared

    def sharing(self, name: str | None) -> int:
        """How many customers have this name (normalised) when two or more do, else 0."""
        return self._by_name[1].get(normalize_name(name), 0) if name else 0

    def find(self, customer_id: str | None, name: str | None) -> tuple[int | None, str]:
        """(row index, '') when found; (None, 'unknown' | 'ambiguous' | '') otherwise."""
        if customer_id:
            found = self.by_id.get(customer_id)
            if found is not None:
                return found
            if not name:
                return None, "unknown"
        if not name:
            return None, ""
        first, shared = self._by_name
        key = normalize_name(name)
        row = first.get(key)
        if row is None:
            return None, "unknown"
        return (None, "ambiguous") if key in shared else (row, "")

    def match(self, table: Sheet) -> list[tuple[int | None, str]]:
        """For each row of a visit, complaint or monthly table: (customer row, problem).
        Remembered per table: every job asks for the same tables several times."""
        found = self._matched.get(id(table))
        if found is None or found[0] is not table:
            ids, names = table.column("customer_id"), table.column("customer")
            memo: dict[tuple[object, object], tuple[int | None, str]] = {}
            known = self.by_id  # the common case: a known ID
            rows = []
            for pair in zip(ids, names, strict=True):
                hit = known.get(pair[0]) if pair[0] is not None else None
                if hit is None:
                    hit = memo.get(pair)
                    if hit is None:
                        hit = memo[pair] = self.find(*pair)
                rows.append(hit)
            found = self._matched[id(table)] = (table, rows)
        return found[1]


def visit_text(purpose: str | None, content: str | None, way: str | None) -> str:
    """What a visit record's keyword is looked for in (高层拜访 …): its purpose, content and way."""
    return f"{purpose or ''} {content or ''} {way or ''}"


def last_contacts(ledger: Ledger, index: CustomerIndex, today: date) -> list[date | None]:
    """Per customer row: the latest of the ledger's last-visit date and the visit records, up to
    ``today`` (later dates are typing mistakes, reported by validation, not contacts)."""
    visits = ledger.tables.get(VISITS)
    dated = (
        ()
        if visits is None
        else ((row, day) for (row, _), day in zip(index.match(visits), visits.column("visit_date"), strict=True))
    )
    return latest_contacts(ledger.customer_sheet.column("last_visit"), dated, today)


def latest_contacts(
    typed: Sequence[date | None], visits: Iterable[tuple[int | None, date | None]], until: date
) -> list[date | None]:
    """Per customer row: the latest of its typed last-visit date (``typed``) and the dates of
    its ``visits`` (customer row, date), none after ``until``."""
    latest: list[date | None] = [d if d is not None and d <= until else None for d in typed]
    for row, day in visits:
        if row is not None and day is not None and day <= until:
            current = latest[row]
            if current is None or day > current:
                latest[row] = day
    return latest

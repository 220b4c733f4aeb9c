"""The long lists of a job's JSON (issues, customers, visits), cut short unless asked for whole.

A 100k-row ledger would print 100k objects under ``--json``, which takes seconds and which a
script rarely wants: ``--json`` carries the first ``JSON_ROWS`` of each list, and says under
``truncated`` how many there were; ``--json-all`` carries them all (``limit=None``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

JSON_ROWS = 1000


def put_rows(
    data: dict[str, Any], key: str, items: Sequence[Any], convert: Callable[[Any], Any], limit: int | None
) -> None:
    """``data[key]``: the converted ``items``, at most ``limit`` of them; when cut, ``data["truncated"][key]``
    is how many there are."""
    shown = items if limit is None or len(items) <= limit else items[:limit]
    data[key] = [convert(item) for item in shown]
    if len(shown) < len(items):
        data.setdefault("truncated", {})[key] = len(items)

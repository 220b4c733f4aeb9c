"""The README's examples run: the analyst's own statistics with pandas on a fresh demo ledger."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
from python_calamine import CalamineWorkbook

from toolkit.demo import make_demo

README = Path(__file__).resolve().parent.parent / "README.md"


def _block_after(marker: str) -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(re.escape(marker) + r".*?\n```python\n(.*?)\n```", text, re.S)
    assert found, f"README has no python block after {marker!r}"
    return found.group(1)


def test_the_readme_analyst_example_runs_on_the_demo_ledger(tmp_path, monkeypatch):
    make_demo(tmp_path / "crm-demo", date(2026, 11, 26))
    (tmp_path / "crm-demo" / "out").mkdir(exist_ok=True)
    monkeypatch.chdir(tmp_path)
    names: dict = {}
    exec(compile(_block_after("<!-- analyst-example"), "README.md", "exec"), names)  # noqa: S102
    customers, by_owner, by_class_month, late = (names[k] for k in ("customers", "by_owner", "by_class_month", "late"))
    assert len(customers) == 300 and by_owner["customers"].sum() == customers["owner"].notna().sum()
    assert by_owner["sales"].sum() == customers.loc[customers["owner"].notna(), "annual_sales"].sum()
    assert list(by_owner["sales"]) == sorted(by_owner["sales"], reverse=True)
    assert set(by_class_month.index) <= set(customers["class"].dropna()) and by_class_month.shape[1] >= 6
    assert by_class_month.sum().sum() == names["ledger"].monthly["volume"].sum()
    assert (late["replied"] - late["received"] > pd.Timedelta(hours=24)).all()
    book = CalamineWorkbook.from_path(str(tmp_path / "crm-demo" / "out" / "我的统计.xlsx"))
    assert book.sheet_names == ["按客户经理", "按类别按月"]
    rows = book.get_sheet_by_name("按客户经理").to_python()
    assert rows[0][:3] == ["owner", "customers", "sales"] and len(rows) == len(by_owner) + 1

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


TODAY = "2026-11-26"
_STAMPS = [
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"), "<time>"),  # when a run was recorded (the clock)
    (re.compile(r"\d{8}-\d{6}"), "<stamp>"),  # a backup's name (the clock)
]


def readme_examples() -> list[tuple[str, list[str]]]:
    """Every `$ crm …` line of the README's text blocks, in order, with the output shown under it."""
    examples = []
    for block in re.findall(r"```text\n(.*?)\n```", README.read_text(encoding="utf-8"), re.S):
        if not block.startswith("$ crm "):
            continue
        for part in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, shown = part.partition("\n")
            examples.append((re.sub(r"\s+#.*$", "", command).strip(), shown.splitlines()))
    return examples


def _normal(line: str) -> str:
    for pattern, placeholder in _STAMPS:
        line = pattern.sub(placeholder, line)
    return line.rstrip()


def matches(shown: list[str], printed: list[str]) -> bool:
    """``printed`` is what the README shows, a line "…" standing for any lines left out."""
    shown = [_normal(line) for line in shown]
    printed = [_normal(line) for line in printed]

    def at(i: int, j: int) -> bool:
        if i == len(shown):
            return j == len(printed)
        if shown[i].strip() == "…":
            return any(at(i + 1, k) for k in range(j, len(printed) + 1))
        return j < len(printed) and shown[i] == printed[j] and at(i + 1, j + 1)

    return at(0, 0)


def test_the_readme_shell_examples_print_what_it_shows(tmp_path):
    """Each `$ crm …` of the README, run in the order shown from a fresh folder (the demo first,
    as a newcomer would), prints what the README shows. The README says the examples were made
    on 2026-11-26: each command gets `--today 2026-11-26` unless it names its own date. Not run:
    `schedule install --apply` (it would change this machine's timetable)."""
    import os
    import shlex
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(README.parent), "COLUMNS": "80", "CRM_SMTP_PASSWORD": ""}
    wrong = []
    examples = readme_examples()
    assert len(examples) >= 15
    for command, shown in examples:
        args = shlex.split(command)[1:]
        if "--apply" in args:
            continue
        if args[0] not in ("init",) and "--log" not in args and "--today" not in args:
            args += ["--today", TODAY]
        done = subprocess.run(
            [sys.executable, "-m", "toolkit", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        printed = (done.stdout + done.stderr).rstrip("\n").splitlines()
        if done.returncode != 0 or not matches(shown, printed):
            wrong.append(f"$ {command}  (exit {done.returncode})\n" + "\n".join(printed[:40]))
    assert not wrong, "README examples that print something else:\n\n" + "\n\n".join(wrong)


def test_the_readme_facts_and_jobs_examples_run_on_a_fresh_demo(tmp_path, monkeypatch):
    """The Python blocks after the analyst's one, run in order as a newcomer pastes them."""
    make_demo(tmp_path / "crm-demo", date(2026, 11, 26))
    monkeypatch.chdir(tmp_path)
    names: dict = {}
    for marker in ("<!-- analyst-example", "<!-- facts-example", "<!-- jobs-example"):
        exec(compile(_block_after(marker), "README.md", "exec"), names)  # noqa: S102
    assert len(names["facts"].classes.final) == 300
    assert {f.code for f in names["result"].findings} >= {"required_missing", "bad_email"}
    assert names["classes"].policy == "sales" and len(names["classes"].customers) == 300
    assert names["schedule"].visits and names["monthly"].outputs
    assert set(names["daily"].results) == {"validate", "classify", "plan"}
    assert names["written"].dry_run and names["written"].changes
    assert names["sent"].messages  # the demo's outbox: one reminder an owner

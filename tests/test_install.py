"""A plain (non-editable) install ships everything a job reads at run time."""

from __future__ import annotations

import os
import subprocess
import sys

import openpyxl
import pytest
from conftest import ROOT


@pytest.mark.slow
def test_non_editable_install_runs_the_demo_from_an_empty_folder(tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    assert (site / "toolkit" / "templates" / "rules.xlsx").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site) + os.pathsep + os.pathsep.join(p for p in sys.path if "site-packages" in p)
    result = subprocess.run(
        [sys.executable, str(site / "bin" / "crm"), "demo", "ws", "--today", "2026-11-26"],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = empty / "ws" / "out" / "客户台账_校验结果_20261126.xlsx"
    summary = openpyxl.load_workbook(report)["汇总"]
    assert summary["B6"].value == 300  # 客户数
    # the source checkout was not on the path: the installed package found its own templates
    probe = subprocess.run(
        [sys.executable, "-c", "import toolkit, sys; print(toolkit.__file__)"],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
    )
    assert probe.stdout.strip().startswith(str(site))

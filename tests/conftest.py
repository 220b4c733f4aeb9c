"""Shared fixtures: fixture ledgers built in code, the real corpus, a fixed 'today'."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("CRM_CORPUS", ROOT.parent / "shared" / "corpus"))  # beside the project
TODAY = date(2026, 11, 26)


@pytest.fixture
def today() -> date:
    return TODAY


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the real-spreadsheet corpus was looked for at {CORPUS}: put it there or set CRM_CORPUS")
    return CORPUS


def make_xlsx(path: Path, sheets: dict[str, list[list]], merges: dict[str, list[str]] | None = None) -> Path:
    """A workbook with the given rows per sheet (first sheet first), and merged ranges."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        for ref in (merges or {}).get(name, []):
            sheet.merge_cells(ref)
    book.save(path)
    return path


CUSTOMER_HEADER = ["客户编号", "客户名称", "联系人", "联系电话", "电子邮箱", "客户经理", "客户分类", "最近拜访日期"]


def customer_row(n: int, **changes) -> list:
    values = {
        "客户编号": f"C{n:03d}",
        "客户名称": f"测试{n}号科技有限公司",
        "联系人": "王五",
        "联系电话": f"1381234{n:04d}",
        "电子邮箱": f"c{n}@example.cn",
        "客户经理": "张伟",
        "客户分类": "B",
        "最近拜访日期": date(2026, 10, 1),
    }
    values.update(changes)
    return [values[h] for h in CUSTOMER_HEADER]


def run_crm(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real `crm` command in a subprocess (exit codes, stdout/stderr as a user sees them)."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300
    )


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def libreoffice_convert(path: Path, target: str, work: Path) -> Path:
    """Convert ``path`` with LibreOffice headless (its own profile under ``work``); return the new file.
    Skips the test, saying why, where soffice is not installed (.ci/run installs it)."""
    office = soffice()
    if office is None:
        pytest.skip("LibreOffice (soffice) is not installed; .ci/run installs it")
    suffix = target.split(":")[0]  # "csv:Text - txt - csv (StarCalc):44,34,76" names a filter too
    out = work / f"lo-{suffix}"
    subprocess.run(
        [
            office,
            "--headless",
            f"-env:UserInstallation=file://{work}/lo",
            "--convert-to",
            target,
            "--outdir",
            str(out),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return next(out.glob(f"*.{suffix}"))

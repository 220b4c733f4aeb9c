"""Benchmark: each whole `crm` command on generated ledgers, against python-calamine's raw read.

Every figure is the wall clock of a whole fresh process (interpreter start, imports, the rules
workbook, the job, its workbooks written into a fresh --out folder), from an empty folder (no
crm.toml: the shipped defaults), with PYTHONPATH set to the checkout measured (this one, or
--root). Each round runs every command once, each paired with a raw read of the same file just
before it (python-calamine opening the workbook and iterating every row of every sheet into
Python); a command's ratio is the median of its per-round ratios, its time the median of its
runs. Peak memory is the process's own maximum RSS (os.wait4), the largest over the rounds.

The commands (as of 2026-11-26, the ledgers' TODAY):
  validate   crm validate --today 2026-11-26
  classify   crm classify --today 2026-11-26             (the shipped abcd policy)
  sales      crm classify --today 2026-11-26 --policy sales
  plan       crm plan --today 2026-11-26                 (one month, every owner)
  report     crm report --month 2026-10
  run        crm run validate classify plan report --today 2026-11-26 (the ledger read once)

Ledgers come from benchmarks/ledgers.py: the standard layout with 客户台账, 拜访记录, 投诉记录
and 月度业务, one owner per 500 customers, planted mistakes on 1 % ("few") or 75 % ("many") of
the customer rows; generated into benchmarks/data/ on first use (about 30 s at 100k, 90 s at 300k).

Targets (issue 15), at 100k rows, both finding rates: validate ≤ 2× the raw read, classify
≤ 2.5×, plan ≤ 3×, report ≤ 3×, crm run of all four ≤ 5×; peak memory < 1 GB at 300k rows
with 75 % findings.

    python benchmarks/bench_commands.py                      # 10k and 100k, few and many, 3 rounds
    python benchmarks/bench_commands.py 300000 --findings many --rounds 1
    python benchmarks/bench_commands.py 100000 --commands validate run
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ledgers  # noqa: E402
from bench_model import RAW_READ, Figure, Runner, report_failure  # noqa: E402

TODAY = "2026-11-26"
COMMANDS = {
    "validate": ["validate", "--today", TODAY],
    "classify": ["classify", "--today", TODAY],
    "sales": ["classify", "--today", TODAY, "--policy", "sales"],
    "plan": ["plan", "--today", TODAY],
    "report": ["report", "--month", "2026-10"],
    "run": ["run", "validate", "classify", "plan", "report", "--today", TODAY],
}
TARGETS = {"validate": 2.0, "classify": 2.5, "sales": 2.5, "plan": 3.0, "report": 3.0, "run": 5.0}


def argv(command: str, ledger: Path, out: Path) -> list[str]:
    where = ["--ledger", str(ledger)] if command == "run" else [str(ledger)]
    return [*COMMANDS[command], "--out", str(out), *where]


def measure(runner: Runner, ledger: Path, commands: list[str], rounds: int) -> dict[str, Figure]:
    figures = {name: Figure(name) for name in ["raw", *commands]}
    # the file into the page cache; the toolkit's .pyc files too, unless PYTHONDONTWRITEBYTECODE is
    # set (as on the project's VM: each run then compiles the toolkit, about 0.05 s)
    warm = runner.run("-c", RAW_READ, str(ledger))
    if not warm.ok:
        report_failure("raw read", warm)
        raise SystemExit(1)
    scratch = Path(tempfile.mkdtemp(prefix="bench_commands_"))
    try:
        for round_ in range(1, rounds + 1):
            print(f"  {ledger.name}: round {round_}/{rounds}", file=sys.stderr)
            for command in commands:
                raw = runner.run("-c", RAW_READ, str(ledger))
                figures["raw"].add(raw.seconds, raw.seconds, raw.peak_mb)
                out = Path(tempfile.mkdtemp(dir=scratch))
                done = runner.crm(*argv(command, ledger, out))
                shutil.rmtree(out, ignore_errors=True)
                if done.ok:
                    figures[command].add(done.seconds, raw.seconds if raw.ok else None, done.peak_mb)
                else:
                    figures[command].failed += 1
                    report_failure(f"crm {' '.join(COMMANDS[command])}", done)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return figures


def table(ledger: Path, figures: dict[str, Figure], size: int) -> str:
    raw = figures["raw"]
    lines = [
        f"### {ledger.name}",
        "",
        f"raw read: {raw.median:.2f} s median, {raw.peak_mb:,.0f} MB peak",
        "",
        "| command | median s | raw read s | ratio | target | peak MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, figure in figures.items():
        if name == "raw":
            continue
        if figure.median is None:
            lines.append(f"| {' '.join(COMMANDS[name])} | failed | | | | |")
            continue
        target = TARGETS[name]
        verdict = "" if size != 100_000 else (" met" if figure.ratio <= target else " **not met**")
        lines.append(
            f"| {' '.join(COMMANDS[name])} | {figure.median:.2f} | {figure.raw:.2f} | {figure.ratio:.2f}× "
            f"| ≤ {target:g}×{verdict} | {figure.peak_mb:,.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000])
    parser.add_argument("--findings", choices=sorted(ledgers.FINDINGS), action="append")
    parser.add_argument("--commands", nargs="+", choices=list(COMMANDS), default=list(COMMANDS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--root", type=Path, default=HERE.parent, help="the toolkit checkout to measure")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    runner = Runner(args.root, sys.executable, args.timeout)
    print(f"# crm commands against the raw read — {date.today()}, {platform.node()}, "
          f"{platform.machine()}, Python {platform.python_version()}\n")  # fmt: skip
    for size in args.sizes:
        for findings in args.findings or ["few", "many"]:
            ledger = ledgers.ensure(size, findings)
            print(table(ledger, measure(runner, ledger, args.commands, args.rounds), size), "\n", flush=True)


if __name__ == "__main__":
    main()

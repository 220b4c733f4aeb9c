"""Benchmark: `--write-back` of three columns into a 100k-row ledger, against python-calamine's raw
read of the same file (issue 4: at most 3×).

The write-back measured is the whole file operation: find the customer sheet, patch its XML with
three columns (class, reason, risk level) for every row, add the date style, back the ledger up,
write the new zip beside it, read it back (CRC of every part), replace atomically. The values are
computed beforehand (the job that computes them is measured by bench_validate.py). CPU seconds
(time.process_time) of fresh processes, best of interleaved rounds, plus peak memory; for
comparison, one round of openpyxl load + save of the same file.

    python benchmarks/bench_writeback.py            # 100k rows (the ledger of bench_validate.py)
    python benchmarks/bench_writeback.py 10000
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_validate import DATA, RAW_READ, ensure_ledger  # noqa: E402

WRITE_BACK = """
import resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from toolkit.writeback.patch import WriteColumn, write_back
rows = int(sys.argv[2])
levels = ["预警", None, "提示", None, "严重"]
columns = [
    WriteColumn("class", "客户分类(系统)", {r: "ABCD"[r % 4] for r in range(2, rows + 2)}),
    WriteColumn("reason", "分类依据", {r: f"B：行业地位 较强 2 + 企业规模 中型 2，平均 {r % 3}.00 ≥ 1.75"
                                  for r in range(2, rows + 2)}),
    WriteColumn("risk", "风险等级", {r: levels[r % 5] for r in range(2, rows + 2)}),
]
t = time.process_time()
result = write_back(Path(sys.argv[1]), "客户台账", 1, [], columns, backup_dir=Path(sys.argv[1]).parent / "backups")
elapsed = time.process_time() - t
assert result.written == Path(sys.argv[1]), result
print(elapsed, len(result.changes), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

OPENPYXL = """
import resource, sys, time
import openpyxl
t = time.process_time()
book = openpyxl.load_workbook(sys.argv[1])
book.save(sys.argv[1])
print(time.process_time() - t, 0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run(script: str, *args: str) -> tuple[float, int, float]:
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True)
    seconds, count, rss = out.stdout.split()
    return float(seconds), int(count), int(rss) / 1024


def main(rows: int, rounds: int = 3) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    ledger = ensure_ledger(rows)
    raw, patch = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            raw.append(run(RAW_READ, str(ledger))[0])
            copy = Path(tmp) / ledger.name
            shutil.copyfile(ledger, copy)
            seconds, changes, peak = run(WRITE_BACK, str(copy), str(rows), str(ROOT))
            patch.append(seconds)
            shutil.rmtree(Path(tmp) / "backups", ignore_errors=True)
        shutil.copyfile(ledger, copy)
        openpyxl_seconds = run(OPENPYXL, str(copy))[0] if rows <= 100_000 else float("nan")
    best_raw, best_patch = min(raw), min(patch)
    print(f"{rows} rows, {ledger.stat().st_size / 1e6:.1f} MB; CPU seconds, best of {rounds}")
    print(f"  raw calamine read      {best_raw:7.2f} s   (rounds: {', '.join(f'{x:.2f}' for x in raw)})")
    print(f"  write-back 3 columns   {best_patch:7.2f} s   = {best_patch / best_raw:.2f}× raw  ({changes} cells)")
    print(f"    rounds: {', '.join(f'{x:.2f}' for x in patch)}; peak memory {peak:.0f} MB")
    print(f"  openpyxl load + save   {openpyxl_seconds:7.2f} s   = {openpyxl_seconds / best_raw:.1f}× raw")


if __name__ == "__main__":
    for size in [int(a) for a in sys.argv[1:]] or [100_000]:
        main(size)

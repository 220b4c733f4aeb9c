"""Benchmark: `crm plan` for 12 months against python-calamine's raw read of the same ledger.

Uses the ledgers of bench_validate.py (generated on first use): 8 owners, classes A/B/C, last
visits within the last 80 days. CPU seconds of fresh processes, best of interleaved rounds:
the raw read, the toolkit's reader, planning without writing anything, and the whole job
(the schedule workbook with a calendar per owner and an .ics per owner).

    python benchmarks/bench_plan.py            # 10k and 100k
    python benchmarks/bench_plan.py 100000

Target (issue 5): planning 100k customers over 12 months adds ≤ 1× the raw read on top of reading.
"""

from __future__ import annotations

import json
import sys
import tempfile

from bench_validate import DATA, RAW_READ, READ, ROOT, ensure_ledger, run

PLAN = """
import resource, sys, time
from datetime import date
sys.path.insert(0, sys.argv[3])
t = time.process_time()
from toolkit.plan import plan
result = plan(sys.argv[1], today=date(2026, 11, 26), months=12, out_dir=sys.argv[2], write=sys.argv[4] == "write",
              record=sys.argv[4] == "write")
elapsed = time.process_time() - t
print(elapsed, len(result.planned), len(result.overflow), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    DATA.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in sizes:
        path = ensure_ledger(size)
        best: dict[str, list[float]] = {}
        with tempfile.TemporaryDirectory() as out:
            for round_ in range(3):
                measured = {
                    "raw": run(RAW_READ, str(path)),
                    "read": run(READ, str(path), str(ROOT)),
                    "compute": run(PLAN, str(path), tempfile.mkdtemp(dir=out), str(ROOT), "no"),
                }
                if round_ == 0:
                    measured["whole"] = run(PLAN, str(path), tempfile.mkdtemp(dir=out), str(ROOT), "write")
                for name, value in measured.items():
                    if name not in best or value[0] < best[name][0]:
                        best[name] = value
        raw, read, compute, whole = (best[k] for k in ("raw", "read", "compute", "whole"))
        row = {
            "rows": size,
            "raw_read_s": round(raw[0], 2),
            "toolkit_read_s": round(read[0], 2),
            "plan_compute_s": round(compute[0], 2),
            "compute_adds": round((compute[0] - read[0]) / raw[0], 2),
            "plan_whole_s": round(whole[0], 2),
            "whole_adds": round((whole[0] - read[0]) / raw[0], 2),
            "planned": int(compute[1]),
            "overflow": int(compute[2]),
            "peak_mb": round(whole[3] / 1024),
        }
        rows.append(row)
        print(json.dumps(row))
    print(
        "\n| rows | calamine raw read | toolkit read | plan, nothing written | adds (× raw read) "
        "| `crm plan` with workbook and .ics | adds (× raw read) | visits planned / overflow | peak memory |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['rows']:,} | {r['raw_read_s']} s | {r['toolkit_read_s']} s | {r['plan_compute_s']} s "
            f"| {r['compute_adds']}× | {r['plan_whole_s']} s | {r['whole_adds']}× | {r['planned']:,} / "
            f"{r['overflow']:,} | {r['peak_mb']} MB |"
        )


if __name__ == "__main__":
    main()

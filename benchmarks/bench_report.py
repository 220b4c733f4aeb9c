"""Benchmark: `crm report` on a ledger with 12 months of business rows against the raw read.

Builds (on first use) a ledger of N customers (the bench_validate layout) plus a 月度业务 sheet
with 12 months for every customer (N × 12 rows) and a 拜访记录 sheet, then measures in fresh
processes (CPU seconds, best of 3 interleaved rounds): python-calamine reading every row of every sheet, and the
whole report job (read, classify, validate, KPIs, the workbook with three charts).

    python benchmarks/bench_report.py            # 10k and 100k customers (1.2M monthly rows)

Target (issue 6): report for 100k customers with 12 months (1.2M rows) under 3× the raw read
time of the same file, peak memory under 2 GB.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from datetime import timedelta

import xlsxwriter
from bench_validate import DATA, RAW_READ, ROOT, TODAY, run

REPORT = """
import resource, sys, time
from datetime import date
sys.path.insert(0, sys.argv[3])
t = time.process_time()
from toolkit.report import report
result = report(sys.argv[1], month=date(2026, 10, 1), out_dir=sys.argv[2])
elapsed = time.process_time() - t
print(elapsed, result.kpis()["customers"], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def generate(customers: int, path) -> None:
    sys.path.insert(0, str(ROOT))
    from toolkit.workspace import LEDGER_SHEETS

    rng = random.Random(customers)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet("客户台账")
    headers = LEDGER_SHEETS["客户台账"]
    sheet.write_row(0, 0, headers)
    col = {h: i for i, h in enumerate(headers)}
    owners = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "孙丽"]
    for n in range(1, customers + 1):
        row = {
            "客户编号": f"KH{n:07d}",
            "客户名称": f"测试{n}号有限公司",
            "联系人": "王先生",
            "联系电话": 13800000000 + n,
            "客户经理": owners[n % 8],
            "客户分类": rng.choice("ABCD"),
            "战略客户": "否",
            "合作意向": "强",
            "发展潜力": "高",
            "企业规模": "大型",
            "行业地位": "领先",
            "城市": "杭州",
            "满意度": 4.2,
        }
        for h, v in row.items():
            (sheet.write_number if isinstance(v, (int, float)) else sheet.write_string)(n, col[h], v)
        sheet.write_datetime(n, col["最近拜访日期"], TODAY - timedelta(days=rng.randint(1, 200)), date_fmt)
    monthly = book.add_worksheet("月度业务")
    monthly.write_row(0, 0, ["月份", "客户编号", "业务量(万元)", "新增业务(万元)"])
    r = 0
    for m in range(12):
        month = f"2025-{m + 11:02d}" if m < 2 else f"2026-{m - 1:02d}"
        for n in range(1, customers + 1):
            r += 1
            monthly.write_string(r, 0, month)
            monthly.write_string(r, 1, f"KH{n:07d}")
            monthly.write_number(r, 2, round(rng.uniform(1, 500), 1))
            monthly.write_number(r, 3, 0)
    visits = book.add_worksheet("拜访记录")
    visits.write_row(0, 0, ["拜访日期", "客户编号", "拜访人", "拜访方式", "拜访目的"])
    for n in range(1, customers + 1):
        visits.write_datetime(n, 0, TODAY - timedelta(days=rng.randint(1, 90)), date_fmt)
        visits.write_row(n, 1, [f"KH{n:07d}", owners[n % 8], "实地", "回访"])
    book.close()


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    rows = []
    for size in sizes:
        path = DATA / f"ledger_monthly_{size}.xlsx"
        if not path.exists():
            DATA.mkdir(parents=True, exist_ok=True)
            generate(size, path)
        raws, jobs = [], []
        with tempfile.TemporaryDirectory() as out:
            for _ in range(3):  # interleaved rounds, best of each: other load shows up as noise, not bias
                raws.append(run(RAW_READ, str(path)))
                jobs.append(run(REPORT, str(path), tempfile.mkdtemp(dir=out), str(ROOT)))
        raw, job = min(raws, key=lambda x: x[0]), min(jobs, key=lambda x: x[0])
        row = {
            "customers": size,
            "monthly_rows": size * 12,
            "raw_read_s": round(raw[0], 2),
            "report_s": round(job[0], 2),
            "ratio": round(job[0] / raw[0], 2),
            "peak_mb": round(job[2] / 1024),
        }
        rows.append(row)
        print(json.dumps(row))
    print("\n| customers | monthly rows | calamine raw read (all sheets) | `crm report` | ratio | peak memory |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['customers']:,} | {r['monthly_rows']:,} | {r['raw_read_s']} s | {r['report_s']} s "
            f"| {r['ratio']}× | {r['peak_mb']} MB |"
        )


if __name__ == "__main__":
    main()

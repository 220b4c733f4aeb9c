"""Benchmark: `crm survey create` for 5,000 customers and `crm survey collect` of 5,000 returned forms.

A demo workspace with 5,000 customers (``crm demo``'s generator). Timed, wall clock and CPU of
this process: creating the campaign (reading and classifying the ledger, one signed,
protected form per customer), collecting the 5,000 forms filled in (answers written into the
answer cells of each form's sheet XML, as a quick stand-in for 5,000 customers; not timed),
and the results workbook. One process, no multiprocessing.

    python benchmarks/bench_survey.py            # 5,000 customers
    python benchmarks/bench_survey.py 2000

Targets (issue 8): creating 5,000 forms under 60 s; collecting 5,000 returned forms under 60 s.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit.config import load_settings  # noqa: E402
from toolkit.demo import make_demo  # noqa: E402
from toolkit.survey import collect, create_campaign, survey_results  # noqa: E402

TODAY = date(2026, 11, 26)
_BLANK = re.compile(rb'<c r="C(8|9|10|11|12|13|14)" s="(\d+)"/>')
LABELS = ["非常满意", "满意", "一般", "不满意", "非常不满意"]


def fill(form: Path, target: Path, n: int) -> None:
    """Write answers into the blank answer cells of the form's sheet XML (inline strings)."""
    with zipfile.ZipFile(form) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":

                def answer(match: re.Match[bytes]) -> bytes:
                    row, style = int(match.group(1)), match.group(2).decode()
                    if row == 13:
                        return f'<c r="C13" s="{style}"><v>{n % 11}</v></c>'.encode()
                    text = LABELS[(n + row) % 5] if row < 13 else f"意见 {n}"
                    return f'<c r="C{row}" s="{style}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()

                data = _BLANK.sub(answer, data)
            out.writestr(item, data)


def timed(step):
    wall, cpu = time.perf_counter(), time.process_time()
    value = step()
    return value, round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2)


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ws"
        make_demo(folder, TODAY, customers=size)
        settings = load_settings(folder)
        created, create_wall, create_cpu = timed(lambda: create_campaign(None, settings, campaign="bench", today=TODAY))
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        for n, form in enumerate(created.created):
            fill(created.folder / form.file, inbox / form.file, n)
        collected, collect_wall, collect_cpu = timed(lambda: collect(inbox, settings, today=TODAY))
        scored, results_wall, results_cpu = timed(lambda: survey_results(settings, today=TODAY))
        again, again_wall, _ = timed(lambda: collect(inbox, settings, today=TODAY))
    print(
        json.dumps(
            {
                "customers": size,
                "forms_created": len(created.created),
                "create_wall_s": create_wall,
                "create_cpu_s": create_cpu,
                "forms_collected": len(collected.accepted),
                "rejected": len(collected.rejected),
                "collect_wall_s": collect_wall,
                "collect_cpu_s": collect_cpu,
                "results_wall_s": results_wall,
                "results_cpu_s": results_cpu,
                "recollect_wall_s": again_wall,
                "recollect_already_collected": len(again.already_collected),
                "csat": scored.total.csat,
                "nps": scored.total.nps,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()

"""Benchmark: whole `crm` processes, wall clock, against python-calamine's raw read of the same ledger.

Every figure is the wall clock (time.perf_counter) of a whole fresh process — interpreter start,
imports, the rules workbook, the job — run with PYTHONPATH set to the toolkit checkout measured
(this one by default, --root for another) from an empty temporary folder (no crm.toml), its
outputs into a fresh temporary --out folder. Each round runs every figure once, each paired with
a raw read of the same file just before it: python-calamine opening the workbook and iterating
every row of every sheet into Python. A figure's "raw read s" is the median of its paired raw
reads, its ratio the median of the per-round ratios; rounds default to 3. Peak memory is the
process's own maximum RSS (os.wait4).

Ledgers come from benchmarks/ledgers.py (the standard layout, all four sheets; "few" = 1 % of
customer rows with a planted mistake, "many" = 75 %), generated into benchmarks/data/ on first use.

Figures:
  raw read                 python-calamine alone (the yardstick)
  read_ledger              toolkit.read_ledger(path)
  read_ledger + facts      the same plus toolkit.facts.derive(ledger, settings, today=2026-11-26),
                           when toolkit.facts has derive(); else "facts: not available yet". The
                           facts are lazy on main: the script calls compute_all() on the result
                           (else reads each of its public properties) so that they are computed
  crm run                  crm run validate classify plan report --today 2026-11-26 --out DIR LEDGER
                           (--ledger LEDGER when its --help lists it), when `crm run --help` exits
                           0; else "crm run: not available yet"
  4 commands               crm validate, crm classify, crm plan (--today 2026-11-26 where the
                           command's --help lists it), crm report --month 2026-10, one after
                           another into one --out folder: the sum of their wall clocks
  crm --help               median of 5
  peak memory at 300k      read_ledger, and the four-job run (crm run, else the largest of the
                           four commands), one run each on the 300k "few" ledger

Targets (the issue): read_ledger ≤ 1.3× the raw read; the facts add ≤ 0.5× the raw read on top
of read_ledger; crm run of the four jobs ≤ 5× the raw read; crm --help < 0.5 s; peak memory
< 1 GB at 300k customers.

    python benchmarks/bench_model.py                         # 100k few and many, memory at 300k
    python benchmarks/bench_model.py 10000 --findings few    # one ledger
    python benchmarks/bench_model.py --memory-size 0         # skip the 300k memory runs
    python benchmarks/bench_model.py --root /work/main       # measure another checkout's toolkit

A command that fails is reported with the tail of its stderr, and the benchmark goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ledgers  # noqa: E402

TODAY = "2026-11-26"
MONTH = "2026-10"
JOBS = ("validate", "classify", "plan", "report")
GB = 1024  # MB

RAW_READ = """
import sys
from python_calamine import CalamineWorkbook
book = CalamineWorkbook.from_path(sys.argv[1])
rows = 0
for name in book.sheet_names:
    for row in book.get_sheet_by_name(name).iter_rows():
        rows += 1
print(rows)
"""

READ = """
import sys
import toolkit
ledger = toolkit.read_ledger(sys.argv[1])
print(type(ledger).__name__)  # nothing of the Ledger's insides: they change (tables, then pandas frames)
"""

FACTS = """
import sys
from datetime import date
import toolkit
from toolkit import facts
ledger = toolkit.read_ledger(sys.argv[1])
settings = toolkit.load_settings()
derived = facts.derive(ledger, settings, today=date.fromisoformat(sys.argv[2]))
# derive() may be lazy (facts computed on first use): make it compute them all, as the jobs would
if callable(getattr(derived, "compute_all", None)):
    derived.compute_all()
    print("compute_all")
else:
    import functools
    names = [n for n, v in vars(type(derived)).items()
             if isinstance(v, (functools.cached_property, property)) and not n.startswith("_")]
    for name in names:
        getattr(derived, name)
    print("properties", len(names))
"""

PROBE_FACTS = """
import importlib.util, sys
if importlib.util.find_spec("toolkit.facts") is None:
    sys.exit(3)
import toolkit.facts
sys.exit(0 if callable(getattr(toolkit.facts, "derive", None)) else 4)
"""


@dataclass
class Run:
    seconds: float
    code: int
    peak_mb: float
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.code == 0


class Runner:
    """Runs whole processes against one toolkit checkout and times them."""

    def __init__(self, root: Path, python: str, timeout: float) -> None:
        self.root, self.python, self.timeout = root, python, timeout
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)
        self.env["COLUMNS"] = "200"  # --help on one line per option
        self.cwd = tempfile.mkdtemp(prefix="bench_model_cwd_")  # no crm.toml here: the shipped defaults

    def run(self, *args: str) -> Run:
        argv = [self.python, *args]
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            started = time.perf_counter()
            proc = subprocess.Popen(argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            timer = threading.Timer(self.timeout, proc.kill)
            timer.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            finally:
                timer.cancel()
            seconds = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            return Run(
                seconds,
                proc.returncode,
                usage.ru_maxrss / 1024,
                out.read().decode("utf-8", "replace"),
                err.read().decode("utf-8", "replace"),
            )

    def crm(self, *args: str) -> Run:
        return self.run("-m", "toolkit", *args)


def report_failure(what: str, run: Run, lines: int = 12) -> None:
    tail = "\n".join(run.stderr.strip().splitlines()[-lines:]) or "(no stderr)"
    print(f"!! {what}: exit {run.code} after {run.seconds:.1f} s; stderr tail:\n{tail}", file=sys.stderr)


@dataclass
class Probe:
    facts: bool = False
    facts_note: str = ""
    crm_run: bool = False
    crm_run_note: str = ""
    run_ledger_option: bool = False  # crm run takes the ledger as --ledger LEDGER (else as the last argument)
    job_args: dict[str, list[str]] = field(default_factory=dict)  # job → its options (before --out and the ledger)
    job_out: dict[str, bool] = field(default_factory=dict)  # job → whether it takes --out


def probe(runner: Runner) -> Probe:
    """What the toolkit under test has: toolkit.facts.derive, `crm run`, each command's options."""
    found = Probe()
    facts = runner.run("-c", PROBE_FACTS)
    found.facts = facts.ok
    found.facts_note = {0: "", 3: "facts: not available yet", 4: "facts: not available yet (no derive())"}.get(
        facts.code, f"facts: probe failed (exit {facts.code})"
    )
    if facts.code not in (0, 3, 4):
        report_failure("probe toolkit.facts", facts)
    run = runner.crm("run", "--help")
    found.crm_run = run.ok
    found.crm_run_note = "" if run.ok else "crm run: not available yet"
    found.run_ledger_option = run.ok and "--ledger" in run.stdout
    for job in JOBS:
        helped = runner.crm(job, "--help")
        if not helped.ok:
            report_failure(f"crm {job} --help", helped)
        text = helped.stdout
        args: list[str] = []
        if job == "report":
            args += ["--month", MONTH]
        elif "--today" in text:
            args += ["--today", TODAY]
        found.job_args[job] = args
        found.job_out[job] = "--out" in text
    return found


@dataclass
class Figure:
    name: str
    seconds: list[float] = field(default_factory=list)
    raws: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    peak_mb: float = 0.0
    failed: int = 0
    note: str = ""
    parts: dict[str, list[float]] = field(default_factory=dict)  # the four commands, each

    def add(self, seconds: float, raw: float | None, peak_mb: float) -> None:
        self.seconds.append(seconds)
        if raw:
            self.raws.append(raw)
            self.ratios.append(seconds / raw)
        self.peak_mb = max(self.peak_mb, peak_mb)

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    @property
    def raw(self) -> float | None:
        return statistics.median(self.raws) if self.raws else None

    @property
    def ratio(self) -> float | None:
        return statistics.median(self.ratios) if self.ratios else None


def four_jobs(runner: Runner, found: Probe, ledger: Path, out: Path) -> tuple[float, dict[str, Run], bool]:
    """crm validate, classify, plan, report one after another: (sum of wall clocks, runs, all ok)."""
    runs = {}
    for job in JOBS:
        out_args = ["--out", str(out)] if found.job_out.get(job, True) else []
        runs[job] = runner.crm(job, *found.job_args.get(job, []), *out_args, str(ledger))
        if not runs[job].ok:
            report_failure(f"crm {job}", runs[job])
    return sum(r.seconds for r in runs.values()), runs, all(r.ok for r in runs.values())


def crm_run(runner: Runner, found: Probe, ledger: Path, out: Path) -> Run:
    """crm run validate classify plan report --today 2026-11-26 --out DIR LEDGER (--ledger LEDGER
    when its --help lists that option: a positional ledger would be taken for a job's name)."""
    where = ["--ledger", str(ledger)] if found.run_ledger_option else [str(ledger)]
    return runner.crm("run", *JOBS, "--today", TODAY, "--out", str(out), *where)


def measure(runner: Runner, found: Probe, ledger: Path, rounds: int) -> dict[str, Figure]:
    figures = {
        key: Figure(name)
        for key, name in (
            ("raw", "raw read (python-calamine, every row of every sheet)"),
            ("read", "toolkit.read_ledger"),
            ("facts", "read_ledger + facts.derive"),
            ("run", "crm run validate classify plan report"),
            ("four", "crm validate + classify + plan + report (4 processes)"),
        )
    }
    figures["facts"].note = found.facts_note
    figures["run"].note = found.crm_run_note
    warm = runner.run("-c", RAW_READ, str(ledger))  # the file into the page cache, the .pyc files written
    if not warm.ok:
        report_failure("raw read", warm)
        raise SystemExit(1)
    runner.run("-c", READ, str(ledger))
    scratch = Path(tempfile.mkdtemp(prefix="bench_model_out_"))

    def paired(key: str, job) -> None:
        raw = runner.run("-c", RAW_READ, str(ledger))
        if raw.ok:
            figures["raw"].add(raw.seconds, raw.seconds, raw.peak_mb)
        else:
            report_failure("raw read", raw)
        seconds, peak, ok = job()
        if ok:
            figures[key].add(seconds, raw.seconds if raw.ok else None, peak)
        else:
            figures[key].failed += 1

    def simple(script: str, *args: str):
        def job():
            done = runner.run("-c", script, str(ledger), *args)
            if not done.ok:
                report_failure(figures_name(script), done)
            return done.seconds, done.peak_mb, done.ok

        return job

    def figures_name(script: str) -> str:
        return "read_ledger" if script is READ else "read_ledger + facts.derive"

    def run_job():
        out = Path(tempfile.mkdtemp(dir=scratch))
        try:
            done = crm_run(runner, found, ledger, out)
        finally:
            shutil.rmtree(out, ignore_errors=True)
        if not done.ok:
            report_failure("crm run", done)
        return done.seconds, done.peak_mb, done.ok

    def four_job():
        out = Path(tempfile.mkdtemp(dir=scratch))
        try:
            total, runs, ok = four_jobs(runner, found, ledger, out)
        finally:
            shutil.rmtree(out, ignore_errors=True)
        for job, done in runs.items():
            if done.ok:
                figures["four"].parts.setdefault(job, []).append(done.seconds)
        return total, max(r.peak_mb for r in runs.values()), ok

    try:
        for round_ in range(1, rounds + 1):
            print(f"  round {round_}/{rounds}", file=sys.stderr)
            paired("read", simple(READ))
            if found.facts:
                paired("facts", simple(FACTS, TODAY))
            if found.crm_run:
                paired("run", run_job)
            paired("four", four_job)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return figures


def help_time(runner: Runner, times: int = 5) -> tuple[float | None, list[float]]:
    runner.crm("--help")  # warm
    runs = [runner.crm("--help") for _ in range(times)]
    for r in runs:
        if not r.ok:
            report_failure("crm --help", r)
    seconds = [r.seconds for r in runs if r.ok]
    return (statistics.median(seconds) if seconds else None), seconds


def memory(runner: Runner, found: Probe, ledger: Path) -> dict[str, tuple[float | None, str]]:
    """Peak RSS (MB) of the raw read, read_ledger and the four-job run, one run each."""
    result: dict[str, tuple[float | None, str]] = {}
    raw = runner.run("-c", RAW_READ, str(ledger))
    result["raw"] = (raw.peak_mb if raw.ok else None, f"{raw.seconds:.1f} s")
    read = runner.run("-c", READ, str(ledger))
    if not read.ok:
        report_failure("read_ledger (memory)", read)
    result["read"] = (read.peak_mb if read.ok else None, f"{read.seconds:.1f} s")
    out = Path(tempfile.mkdtemp(prefix="bench_model_mem_"))
    try:
        if found.crm_run:
            done = crm_run(runner, found, ledger, out)
            if not done.ok:
                report_failure("crm run (memory)", done)
            result["jobs"] = (done.peak_mb if done.ok else None, f"crm run, {done.seconds:.1f} s")
        else:
            total, runs, ok = four_jobs(runner, found, ledger, out)
            largest = max(runs, key=lambda j: runs[j].peak_mb)
            result["jobs"] = (
                runs[largest].peak_mb if ok else None,
                f"crm run not available: the largest of the 4 commands (crm {largest}); {total:.1f} s in all",
            )
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return result


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _verdict(value: float | None, limit: float, *, below: bool = False) -> str:
    """'met' when ``value`` ≤ ``limit`` (< with ``below``), 'n/a' when there is no value."""
    if value is None:
        return "n/a"
    return "met" if (value < limit if below else value <= limit) else "**not met**"


def table(title: str, figures: dict[str, Figure], help_s: float | None) -> str:
    raw, read, facts, run, four = (figures[k] for k in ("raw", "read", "facts", "run", "four"))
    all_raw = raw.median
    # per round: (read_ledger + facts) / its raw read − read_ledger / its raw read; the median of those
    adds = [f - r for f, r in zip(facts.ratios, read.ratios, strict=False)]
    facts_add = statistics.median(adds) if adds and len(facts.ratios) == len(read.ratios) else None
    lines = [
        f"\n### {title}\n",
        "| figure | median s | raw read s | ratio | peak MB | target | |",
        "|---|---:|---:|---:|---:|---|---|",
        f"| {raw.name} | {_s(raw.median)} | {_s(raw.median)} | 1.00× | {raw.peak_mb:.0f} | | |",
    ]

    def row(fig: Figure, target: str = "", verdict: str = "") -> None:
        if fig.note:
            lines.append(f"| {fig.name} | {fig.note} | | | | {target} | {'n/a' if target else ''} |")
            return
        failed = f" ({fig.failed} failed)" if fig.failed else ""
        peak = f"{fig.peak_mb:.0f}" if fig.seconds else "—"
        cells = [fig.name + failed, _s(fig.median), _s(fig.raw), _x(fig.ratio), peak, target, verdict]
        lines.append("| " + " | ".join(cells) + " |")

    row(read, "≤ 1.3×", _verdict(read.ratio, 1.3))
    row(facts)
    if facts.note:
        lines.append(f"| facts add (derive − read_ledger) | {facts.note} | | | | ≤ 0.5× | n/a |")
    else:
        lines.append(
            f"| facts add (derive − read_ledger) | {_s(facts_add * all_raw if facts_add is not None else None)} "
            f"| {_s(all_raw)} | {_x(facts_add)} | | ≤ 0.5× | {_verdict(facts_add, 0.5)} |"
        )
    row(run, "≤ 5×", _verdict(run.ratio, 5.0))
    row(four, "(for comparison)")
    for job, seconds in four.parts.items():
        shown = f"crm {job}" + (f" --month {MONTH}" if job == "report" else "")
        lines.append(f"| &nbsp;&nbsp;{shown} | {_s(statistics.median(seconds))} | | | | | |")
    lines.append(f"| crm --help (median of 5) | {_s(help_s)} | | | | < 0.5 s | {_verdict(help_s, 0.5, below=True)} |")
    lines.append(
        "\nratio: the median over rounds of the figure / the raw read run just before it; facts add: the median"
        " over rounds of (read_ledger + facts ratio − read_ledger ratio), its seconds that × the median raw read;"
        " peak MB: the largest of the rounds."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000], help="customers (default 100000)")
    parser.add_argument("--findings", choices=list(ledgers.FINDINGS), action="append", help="default: few and many")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory-size", type=int, default=300_000, help="customers for peak memory (0: skip)")
    parser.add_argument("--root", type=Path, default=HERE.parent, help="the toolkit checkout to measure")
    parser.add_argument("--python", default=sys.executable, help="the interpreter the processes run")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds a process may take")
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    args = parser.parse_args()
    findings = args.findings or ["few", "many"]
    runner = Runner(args.root.resolve(), args.python, args.timeout)
    try:
        print(f"toolkit under test: {runner.root} (python {args.python})", file=sys.stderr)
        found = probe(runner)
        print(
            f"probe: facts {'yes' if found.facts else 'no'}, crm run {'yes' if found.crm_run else 'no'}"
            + (" (--ledger)" if found.run_ledger_option else "")
            + ", "
            + ", ".join(f"crm {j} {' '.join(a)}".strip() for j, a in found.job_args.items()),
            file=sys.stderr,
        )
        help_s, help_all = help_time(runner)
        results, tables = [], []
        for size in args.sizes:
            for kind in findings:
                ledger = ledgers.ensure(size, kind)
                print(f"{ledger.name}: {args.rounds} rounds", file=sys.stderr)
                before = os.getloadavg()[0]
                figures = measure(runner, found, ledger, args.rounds)
                tables.append(table(f"{size:,} customers, {kind} findings ({ledger.name})", figures, help_s))
                tables[-1] += f" Load average (1 min) {before:.1f} before, {os.getloadavg()[0]:.1f} after."
                print(tables[-1], flush=True)
                results.append({"ledger": ledger.name, "figures": {k: vars(f) for k, f in figures.items()}})
        mem = None
        if args.memory_size:
            ledger = ledgers.ensure(args.memory_size, "few")
            print(f"{ledger.name}: peak memory", file=sys.stderr)
            mem = memory(runner, found, ledger)
            lines = [
                f"\n### peak memory, {args.memory_size:,} customers ({ledger.name})\n",
                "| process | peak RSS MB | | target | |",
                "|---|---:|---|---|---|",
                f"| raw read | {_s(mem['raw'][0])} | {mem['raw'][1]} | | |",
                f"| toolkit.read_ledger | {_s(mem['read'][0])} | {mem['read'][1]} | < 1 GB | "
                f"{_verdict(mem['read'][0], GB)} |",
                f"| the four jobs | {_s(mem['jobs'][0])} | {mem['jobs'][1]} | < 1 GB | "
                f"{_verdict(mem['jobs'][0], GB)} |",
            ]
            tables.append("\n".join(lines))
            print(tables[-1], flush=True)
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "root": str(runner.root),
                        "probe": vars(found),
                        "help_s": help_all,
                        "ledgers": results,
                        "memory": mem,
                    },
                    ensure_ascii=False,
                    indent=1,
                )
            )
    finally:
        shutil.rmtree(runner.cwd, ignore_errors=True)


if __name__ == "__main__":
    main()

"""The layering of the toolkit, checked on its source (the rule of ../shared/tools/layers.py):

  top       cli, demo, pipeline, run, __init__, __main__ — may import anything
  jobs      validate, classify, plan, report, remind, survey, schedule — each imports only
            what lies below the jobs, never another job
  below     everything else (ledger, model, config, state, calendar, console, mail, writeback …)
            — imports no job and nothing of the top

A room is the first path component under toolkit/ (toolkit/plan/due.py is in plan, toolkit/
state.py in state). Imports inside functions count too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "toolkit"

JOBS = {"validate", "classify", "plan", "report", "remind", "survey", "schedule"}
TOP = {"cli", "demo", "pipeline", "run", "__init__", "__main__"}


def room(parts: list[str]) -> str:
    """The room of a module given as its dotted parts below the package ('__init__' for the package)."""
    return parts[0] if parts else "__init__"


def imported(path: Path, package: str, modparts: list[str]) -> Iterator[tuple[int, list[str]]]:
    """(line, dotted parts below the package) of every import of the package in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    base = modparts if path.name == "__init__.py" else modparts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == package:
                    yield node.lineno, parts[1:]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                up = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = list(up) + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == package:
                target = node.module.split(".")[1:]
            else:
                continue
            if target:
                yield node.lineno, target
            else:  # from . import x  /  from toolkit import x
                for alias in node.names:
                    yield node.lineno, [alias.name]


def breaks(package_dir: Path) -> list[tuple[str, int, str, str, str]]:
    """Every import that breaks the layering: (file, line, its room, the room imported, why)."""
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir).with_suffix("").parts)
        src = room(parts if parts[-1] != "__init__" or len(parts) > 1 else [])
        if src in TOP:
            continue
        modparts = parts[:-1] + ([] if parts[-1] == "__init__" else [parts[-1]])
        file = path.relative_to(package_dir.parent).as_posix()
        for line, target in imported(path, package_dir.name, modparts):
            dst = room(target)
            if dst == src:
                continue
            if dst in TOP and dst != "__init__":
                found.append((file, line, src, dst, "imports the top"))
            elif dst in JOBS and src in JOBS:
                found.append((file, line, src, dst, "job imports job"))
            elif dst in JOBS:
                found.append((file, line, src, dst, "below the jobs imports a job"))
    return found


def test_no_import_breaks_the_layering():
    """No job imports another, nothing below the jobs imports a job or the top."""
    bad = breaks(PACKAGE)
    assert not bad, "\n".join(f"{f}:{line}: {src} → {dst} ({why})" for f, line, src, dst, why in bad)


def test_the_check_sees_every_module_and_every_kind_of_import(tmp_path):
    assert sum(1 for _ in PACKAGE.rglob("*.py")) > 50  # it reads the real package
    pkg = tmp_path / "toolkit"
    for name, text in {
        "__init__.py": "from .plan import plan\n",
        "cli.py": "from .plan import plan\n",
        "state.py": "def f():\n    from .cli import app\n",
        "calendar.py": "import toolkit.plan.due\n",
        "mail/__init__.py": "from .. import remind\n",
        "mail/smtp.py": "from ..state import x\nfrom . import config\n",
        "plan/__init__.py": "from ..classify.policies import compute\nfrom .due import due\n",
        "plan/due.py": "from toolkit.state import x\n",
        "remind/__init__.py": "from toolkit import plan\n",
        "classify/policies.py": "from ..state import x\n",
    }.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text, encoding="utf-8")
    assert {(f, dst, why) for f, _, _, dst, why in breaks(pkg)} == {
        ("toolkit/state.py", "cli", "imports the top"),
        ("toolkit/calendar.py", "plan", "below the jobs imports a job"),
        ("toolkit/mail/__init__.py", "remind", "below the jobs imports a job"),
        ("toolkit/plan/__init__.py", "classify", "job imports job"),
        ("toolkit/remind/__init__.py", "plan", "job imports job"),
    }


def test_a_command_loads_only_its_own_job():
    """`crm validate` loads neither the mail, the scheduler's service nor the survey's rooms,
    and the package's names stay its functions after their rooms of the same name are loaded."""
    import subprocess
    import sys

    script = (
        "import sys, toolkit.cli\n"
        "from toolkit.validate import validate\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('toolkit.mail', 'toolkit.remind', "
        "'toolkit.schedule.service', 'toolkit.survey.', 'toolkit.plan', 'toolkit.report', 'smtplib')))\n"
        "print(loaded)\n"
        "import toolkit.classify.report, toolkit.remind, toolkit.survey.collect\n"
        "import toolkit, toolkit.survey\n"
        "from toolkit import classify, remind\n"
        "print(callable(classify), callable(remind), callable(toolkit.survey.collect), 'remind' in dir(toolkit))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    first, second = done.stdout.splitlines()
    assert first == "['toolkit.survey.commands']"
    assert second == "True True True True"


def test_every_name_a_package_offers_comes_from_its_room():
    """toolkit, toolkit.survey and toolkit.schedule: each name of ``__all__`` is in ``_ROOMS``
    and is the object its room defines."""
    from importlib import import_module

    for name in ("toolkit", "toolkit.survey", "toolkit.schedule"):
        package = import_module(name)
        assert sorted(package.__all__) == sorted(package._ROOMS), name
        for attr, room in package._ROOMS.items():
            assert getattr(package, attr) is getattr(import_module(room, name), attr), (name, attr)

"""What the ``crm`` command and its sub-apps (``crm survey``, ``crm schedule``) share: the
consoles, the common options, the as-of date, the spinner, the settings of ``--workspace``,
JSON on stdout, and the wrapper that turns a ToolkitError into one line on stderr and its
exit code. Below the jobs: imports no job and nothing of the top."""

from __future__ import annotations

import json
import sys
import traceback
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from .config import Settings, find_workspace, load_settings
from .errors import InputError, ToolkitError

# markup off: a message is printed as it is, brackets and all ([ledgers], [mail]); the few
# styled lines say markup=True and escape what they interpolate
out_console = Console(highlight=False, soft_wrap=True, markup=False)
err_console = Console(stderr=True, highlight=False, markup=False)

WorkspaceOpt = typer.Option(
    None,
    "--workspace",
    "-w",
    help="Workspace folder (holds crm.toml). Default: the current folder if it holds one, else the shipped defaults.",
)
OutOpt = typer.Option(None, "--out", "-o", help="Where outputs go (default: the workspace's out/, else ./out/).")
JsonOpt = typer.Option(False, "--json", help="Print one JSON object on stdout and nothing else.")
JsonAllOpt = typer.Option(
    False,
    "--json-all",
    help="--json with every entry of its lists; --json carries the first 1,000 and counts the rest under truncated.",
)
LangOpt = typer.Option(None, "--lang", help="Output language: zh (default) or en.")
TodayOpt = typer.Option(None, "--today", help="The as-of date, YYYY-MM-DD (default: today).")


def _today(value: str | None, option: str = "--today") -> date:
    if not value:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} '{value}' is not a date", hint="write it as YYYY-MM-DD") from None


@contextmanager
def _progress(message: str, quiet: bool):
    """A spinner on stderr, only when stderr is a terminal and stdout is not JSON; yields a
    function that changes its text."""
    if quiet or not err_console.is_terminal:
        yield lambda text: None
        return
    with err_console.status(escape(message)) as spinner:  # a spinner reads markup whatever the console
        yield lambda text: spinner.update(escape(text))


@contextmanager
def _steps(title: str, quiet: bool, total: int):
    """A progress bar on stderr over ``total`` steps, only when stderr is a terminal and stdout is
    not JSON; yields a function to call with each step's name as it starts."""
    if quiet or not err_console.is_terminal:
        yield lambda name: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(title, total=total)
        started = [False]

        def step(name: str) -> None:
            if started[0]:
                bar.advance(task)
            started[0] = True
            bar.update(task, description=escape(f"{title} · {name}"))

        yield step


def _settings(workspace: Path | None, **overrides: Any) -> Settings:
    return load_settings(find_workspace(workspace), **overrides)


def _print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str, indent=1) + "\n")


# Click's usage error, as the Typer installed has it (its own copy of Click, or Click itself)
_USAGE_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
_CLICK_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def run_app(app: typer.Typer) -> None:
    """Run ``app``: a usage error or a ToolkitError becomes one line on stderr and its exit
    code (2 for bad input and bad usage); ``--debug`` adds the traceback and keeps the code."""
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    try:
        code = app(standalone_mode=False)
    except _USAGE_ERROR as error:
        if type(error).__name__ == "NoArgsIsHelpError":  # `crm` or `crm survey` alone: the help
            sys.stdout.write(error.format_message() + "\n")
            sys.exit(2)
        command = error.ctx.command_path if error.ctx is not None else "crm"
        if debug:
            traceback.print_exc()
        sys.stderr.write(f"error: {error.format_message()} (see: {command} --help)\n")
        sys.exit(2)
    except ToolkitError as error:
        if debug:
            traceback.print_exc()
        sys.stderr.write(f"error: {error}\n")
        sys.exit(error.exit_code)
    except _CLICK_ERROR as error:  # a file option that cannot be opened, and the like
        if debug:
            traceback.print_exc()
        sys.stderr.write(f"error: {error.format_message()}\n")
        sys.exit(error.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except Exception as error:  # the one place an unexpected failure is turned into a line
        if debug:
            raise
        sys.stderr.write(
            f"unexpected error: {type(error).__name__}: {error} (run again with --debug for the details)\n"
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)

"""``crm schedule install``: have the operating system start ``crm schedule run --once``.

- Windows: one Task Scheduler task for the current user, at log-on and every hour, created with
  ``schtasks /Create /XML`` (no administrator rights: it runs only while the user is logged on;
  a run missed while the PC was off starts as soon as it can). ``pythonw.exe`` when there is
  one, so no console window opens every hour.
- Linux: a crontab line for every hour and one at boot (``--apply`` installs them in the user's
  crontab), or a systemd user timer (printed, with the commands that enable it).
- macOS: the crontab lines.

The command-line text is built by pure functions, one per platform, each quoting paths with
spaces, Chinese characters, quotes and ``%`` the way that platform reads them.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from ..errors import ToolkitError

ONCE_ARGS = ("-m", "toolkit", "schedule", "run", "--once")


@dataclass
class InstallPlan:
    """What ``install`` prints (and, applied, did)."""

    platform: str  # windows | linux | macos
    task: str
    command: str  # the command line the OS runs, quoted for that platform
    windows_xml: str = ""
    schtasks: str = ""
    cron: list[str] = field(default_factory=list)
    systemd: dict[str, str] = field(default_factory=dict)  # file name → text
    applied: list[str] = field(default_factory=list)  # what --apply did

    def as_json(self) -> dict[str, object]:
        return {
            "job": "schedule install",
            "platform": self.platform,
            "task": self.task,
            "command": self.command,
            "schtasks": self.schtasks,
            "cron": self.cron,
            "systemd": self.systemd,
            "applied": self.applied,
        }


def platform_name(value: str | None = None) -> str:
    value = value or sys.platform
    if value.startswith("win"):
        return "windows"
    if value == "darwin":
        return "macos"
    return "linux"


def task_key(workspace: str) -> str:
    """A short ASCII key of the workspace path: names the task and tags the crontab lines."""
    return hashlib.sha1(workspace.encode("utf-8")).hexdigest()[:8]


def task_name(workspace: str, user: str = "") -> str:
    """``crm schedule 华东客户 zhang 1a2b3c4d``: readable in Task Scheduler, unique per workspace
    and user (on a shared PC each person's own task; the workspace lock keeps them from
    running at once)."""
    folder = re.split(r"[\\/]", workspace.rstrip("\\/"))[-1] or "workspace"
    who = user.rsplit("\\", 1)[-1]
    name = " ".join(part for part in ("crm schedule", folder, who, task_key(workspace)) if part)
    return re.sub(r'[\\/:*?"<>|]', "_", name)


TASK_XML = "crm-schedule-task.xml"  # written into the workspace, for schtasks /XML


# ---------------------------------------------------------------- Windows


def windows_arguments(workspace: str) -> str:
    """The arguments after the interpreter, quoted as Windows programs parse them."""
    return subprocess.list2cmdline([*ONCE_ARGS, "--workspace", workspace])


def windows_command(python: str, workspace: str) -> str:
    return subprocess.list2cmdline([python]) + " " + windows_arguments(workspace)


def windows_task_xml(python: str, workspace: str, user: str, *, description: str = "") -> str:
    """A Task Scheduler task (schema 1.2): at the user's log-on and every hour, only while the
    user is logged on, missed runs started when possible, never two at once."""
    description = description or f"crm schedule run --once for {workspace}"
    return f"""<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>{escape(description)}</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
      <UserId>{escape(user)}</UserId>
      <Delay>PT1M</Delay>
    </LogonTrigger>
    <CalendarTrigger>
      <Repetition>
        <Interval>PT1H</Interval>
        <Duration>P1D</Duration>
        <StopAtDurationEnd>false</StopAtDurationEnd>
      </Repetition>
      <StartBoundary>2025-01-01T00:00:00</StartBoundary>
      <Enabled>true</Enabled>
      <ScheduleByDay>
        <DaysInterval>1</DaysInterval>
      </ScheduleByDay>
    </CalendarTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>{escape(user)}</UserId>
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <StartWhenAvailable>true</StartWhenAvailable>
    <Enabled>true</Enabled>
    <ExecutionTimeLimit>PT4H</ExecutionTimeLimit>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{escape(subprocess.list2cmdline([python]))}</Command>
      <Arguments>{escape(windows_arguments(workspace))}</Arguments>
      <WorkingDirectory>{escape(workspace)}</WorkingDirectory>
    </Exec>
  </Actions>
</Task>
"""


def schtasks_create(task: str, xml_path: str) -> list[str]:
    return ["schtasks", "/Create", "/TN", task, "/XML", xml_path, "/F"]


# ---------------------------------------------------------------- cron (Linux, macOS)


def cron_quote(arg: str) -> str:
    """A word of a crontab command: shell-quoted, and ``%`` escaped (cron reads it as a newline)."""
    return shlex.quote(arg).replace("%", "\\%")


def cron_command(python: str, workspace: str) -> str:
    return " ".join(cron_quote(a) for a in (python, *ONCE_ARGS, "--workspace", workspace))


def cron_lines(python: str, workspace: str) -> list[str]:
    """Every hour on the hour, and a minute after boot; tagged so --apply can replace them."""
    command = f"PYTHONUTF8=1 {cron_command(python, workspace)} >/dev/null 2>&1"
    tag = f"# crm-schedule {task_key(workspace)}"
    return [f"0 * * * * {command} {tag}", f"@reboot sleep 60; {command} {tag}"]


# ---------------------------------------------------------------- systemd (Linux)


def systemd_quote(arg: str) -> str:
    """A word of a systemd ``ExecStart=``: double-quoted, C escapes, ``%`` and ``$`` doubled."""
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"'


def systemd_units(python: str, workspace: str) -> dict[str, str]:
    """A oneshot service and an hourly timer (catching up after the PC was off: Persistent)."""
    name = f"crm-schedule-{task_key(workspace)}"
    command = " ".join(systemd_quote(a) for a in (python, *ONCE_ARGS, "--workspace", workspace))
    service = f"""[Unit]
Description=crm schedule run --once ({workspace.replace("%", "%%")})

[Service]
Type=oneshot
Environment=PYTHONUTF8=1
ExecStart={command}
KillMode=mixed
TimeoutStopSec=120
"""
    timer = f"""[Unit]
Description=Run {name}.service every hour and after boot

[Timer]
OnBootSec=2min
OnCalendar=hourly
Persistent=true

[Install]
WantedBy=timers.target
"""
    return {f"{name}.service": service, f"{name}.timer": timer}


def systemd_enable(workspace: str) -> str:
    name = f"crm-schedule-{task_key(workspace)}"
    return (
        f"mkdir -p ~/.config/systemd/user && cp {name}.service {name}.timer ~/.config/systemd/user/ && "
        f"systemctl --user daemon-reload && systemctl --user enable --now {name}.timer"
    )


# ---------------------------------------------------------------- the plan, and applying it


def plan_install(workspace: Path, *, platform: str | None = None, python: str | None = None) -> InstallPlan:
    """What to install for ``workspace`` on ``platform`` (default: this one)."""
    system = platform_name(platform)
    python = python or _interpreter(system)
    folder = str(workspace)
    if system == "windows":
        user = _windows_user()
        task = task_name(folder, user)
        return InstallPlan(
            system,
            task,
            windows_command(python, folder),
            windows_xml=windows_task_xml(python, folder, user),
            schtasks=subprocess.list2cmdline(schtasks_create(task, str(workspace / TASK_XML))),
        )
    task = task_name(folder)
    plan = InstallPlan(system, task, cron_command(python, folder), cron=cron_lines(python, folder))
    if system == "linux":
        plan.systemd = systemd_units(python, folder)
    return plan


def apply_install(plan: InstallPlan, workspace: Path) -> InstallPlan:
    """Create the Windows task, or put the cron lines in the user's crontab (replacing earlier
    ones for this workspace). Raises ``ToolkitError`` with the tool's own message if it refuses."""
    if plan.platform == "windows":
        argv = schtasks_create(plan.task, str(write_task_xml(plan, workspace)))
        _run(argv, None, "schtasks")
        plan.applied.append(subprocess.list2cmdline(argv))
        return plan
    tag = f"# crm-schedule {task_key(str(workspace))}"
    current = _run(["crontab", "-l"], None, "crontab", check=False)
    kept = [line for line in current.splitlines() if tag not in line and line.strip()]
    _run(["crontab", "-"], "\n".join([*kept, *plan.cron]) + "\n", "crontab")
    plan.applied.extend(plan.cron)
    return plan


def write_task_xml(plan: InstallPlan, workspace: Path) -> Path:
    """The task's definition in the workspace, where the printed schtasks command finds it."""
    path = workspace / TASK_XML
    path.write_text(plan.windows_xml, encoding="utf-16")
    return path


def _run(argv: list[str], stdin: str | None, tool: str, *, check: bool = True) -> str:
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise ToolkitError(
            f"{tool} is not installed on this PC — set the job up by hand with the lines printed above"
        ) from None
    except subprocess.TimeoutExpired:
        raise ToolkitError(f"{tool} did not answer within a minute — try again") from None
    if check and done.returncode != 0:
        why = " ".join((done.stderr or done.stdout).split()) or f"exit {done.returncode}"
        raise ToolkitError(f"{tool} refused: {why}")
    return done.stdout if done.returncode == 0 else ""


def _interpreter(system: str) -> str:
    """This interpreter; on Windows its windowless twin pythonw.exe when there is one."""
    python = Path(sys.executable)
    if system == "windows" and python.name.lower() == "python.exe":
        windowless = python.with_name("pythonw.exe")
        if windowless.exists():
            return str(windowless)
    return str(python)


def _windows_user() -> str:
    domain, user = os.environ.get("USERDOMAIN", ""), os.environ.get("USERNAME", "")
    return f"{domain}\\{user}" if domain and user else user

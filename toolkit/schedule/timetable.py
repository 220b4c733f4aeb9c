"""The timetable: the ``[[schedule.jobs]]`` entries of crm.toml, checked and typed.

Each entry names a job, its arguments and when it runs::

    [[schedule.jobs]]
    name = "每日校验"
    job = "validate"
    args = []
    when = "workdays 08:00"

``when`` is one of (days and times in the PC's local time)::

    daily 08:00                     every day
    workdays 08:00                  every Chinese working day (holidays off, 调休 make-up days on)
    weekly mon 08:30                every Monday (mon … sun, or 周一 … 周日)
    monthly first-workday 09:00     the first working day of each month (or: monthly 5 09:00)
    quarterly first-workday 10:00   the first working day of January, April, July, October
    hourly 09:00-18:00              every hour from 09:00 to 18:00 on working days
    every 2 hours 09:00-17:00       every 2 hours within those office hours, on working days

Arguments may hold ``{date}``, ``{month}``, ``{last_month}`` and ``{quarter}`` of the slot
being run (``--month {last_month}`` makes the report of the first working day cover the month
before it). A wrong entry raises ``ConfigError`` with one line naming the entry and the fix.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from ..config import CONFIG_NAME, Settings
from ..errors import ConfigError, InputError

JOBS = ("run", "validate", "classify", "plan", "report", "remind", "survey")
KINDS = ("daily", "workdays", "weekly", "monthly", "quarterly", "hourly")
CATCH_UP = ("all", "latest")
# How a kind catches up the slots missed while the PC was off: every one (oldest first), or
# only the latest (an hourly complaint check run five times over is no use).
DEFAULT_CATCH_UP = {
    "daily": "all",
    "workdays": "all",
    "weekly": "all",
    "monthly": "all",
    "quarterly": "all",
    "hourly": "latest",
}
# How far back a missed slot is still worth running.
LOOKBACK = {
    "daily": timedelta(days=7),
    "workdays": timedelta(days=7),
    "weekly": timedelta(days=35),
    "monthly": timedelta(days=93),
    "quarterly": timedelta(days=366),
    "hourly": timedelta(days=7),
}
DEFAULT_TIMEOUT_MINUTES = 60
PLACEHOLDERS = ("date", "month", "last_month", "quarter")
_KEYS = ("name", "job", "args", "when", "catch_up", "timeout")
_RESERVED_ARGS = ("--workspace", "-w", "--json")

WHEN_FORMS = (
    '"daily 08:00", "workdays 08:00", "weekly mon 08:30", "monthly first-workday 09:00", '
    '"monthly 5 09:00", "quarterly first-workday 10:00", "hourly 09:00-18:00", "every 2 hours 09:00-17:00"'
)
_WEEKDAYS = {
    name: i
    for i, names in enumerate(
        (
            ("mon", "monday", "周一", "星期一"),
            ("tue", "tuesday", "周二", "星期二"),
            ("wed", "wednesday", "周三", "星期三"),
            ("thu", "thursday", "周四", "星期四"),
            ("fri", "friday", "周五", "星期五"),
            ("sat", "saturday", "周六", "星期六"),
            ("sun", "sunday", "周日", "星期日", "星期天", "周天"),
        )
    )
    for name in names
}
_FIRST_WORKDAY = ("first-workday", "first_workday", "first-working-day", "首个工作日")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_RANGE = re.compile(r"^(\d{1,2}:\d{2})\s*[-–~至到]\s*(\d{1,2}:\d{2})$")


@dataclass(frozen=True)
class When:
    """When an entry runs; ``text`` is the normalised form (it identifies the timetable)."""

    kind: str
    at: time  # the time of day (for hourly: the first slot of the day)
    weekday: int | None = None  # weekly: 0 = Monday
    day: int | None = None  # monthly/quarterly: day of the month; None = the first working day
    every: int = 1  # hourly: hours between slots
    until: time | None = None  # hourly: no slot after this time

    @property
    def text(self) -> str:
        at = self.at.strftime("%H:%M")
        if self.kind == "weekly":
            return f"weekly {_weekday_name(self.weekday or 0)} {at}"
        if self.kind in ("monthly", "quarterly"):
            return f"{self.kind} {self.day or 'first-workday'} {at}"
        if self.kind == "hourly":
            until = (self.until or self.at).strftime("%H:%M")
            return f"hourly {at}-{until}" if self.every == 1 else f"every {self.every} hours {at}-{until}"
        return f"{self.kind} {at}"


@dataclass(frozen=True)
class Entry:
    """One line of the timetable."""

    name: str
    job: str
    when: When
    args: tuple[str, ...] = ()
    catch_up: str = "all"
    timeout: timedelta = field(default=timedelta(minutes=DEFAULT_TIMEOUT_MINUTES))

    def arguments(self, slot: datetime) -> list[str]:
        """The job's arguments with the slot's ``{date}``, ``{month}`` … filled in."""
        values = slot_values(slot)
        return [a.format(**values) for a in self.args]


def slot_values(slot: datetime) -> dict[str, str]:
    first = slot.date().replace(day=1)
    previous = first - timedelta(days=1)
    return {
        "date": slot.date().isoformat(),
        "month": f"{first.year}-{first.month:02d}",
        "last_month": f"{previous.year}-{previous.month:02d}",
        "quarter": f"{first.year}Q{(first.month - 1) // 3 + 1}",
    }


def load_timetable(settings: Settings) -> list[Entry]:
    """The ``[[schedule.jobs]]`` entries of the workspace's crm.toml (``settings.raw``), checked.

    Raises ``InputError`` without a workspace and ``ConfigError`` (one line: which entry, what
    is wrong, how to fix it) for a wrong entry. An empty list when the timetable is empty.
    """
    if settings.workspace is None:
        raise InputError(
            "crm schedule needs a workspace (its timetable lives in crm.toml)",
            hint="give --workspace DIR, or create one with: crm init DIR",
        )
    config = settings.workspace / CONFIG_NAME
    section = settings.raw.get("schedule", {})
    if not isinstance(section, dict):
        raise ConfigError("[schedule] must be a table", file=config, hint="write the entries as [[schedule.jobs]]")
    entries = section.get("jobs", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(
            "schedule.jobs must be a list of [[schedule.jobs]] entries",
            file=config,
            hint="start each entry with a line [[schedule.jobs]]",
        )
    timetable = [parse_entry(raw, number, config) for number, raw in enumerate(entries, start=1)]
    seen: set[str] = set()
    for entry in timetable:
        if entry.name in seen:
            raise ConfigError(
                f"two [[schedule.jobs]] entries are named '{entry.name}'",
                file=config,
                hint="give each entry its own name (the run history is kept by name)",
            )
        seen.add(entry.name)
    return timetable


def parse_entry(raw: dict[str, Any], number: int, config: Path | None = None) -> Entry:
    """One ``[[schedule.jobs]]`` table → an ``Entry``; ``number`` (1-based) names it in errors."""

    def fail(message: str, hint: str) -> ConfigError:
        name = raw.get("name")
        which = f"[[schedule.jobs]] #{number}" + (f" '{name}'" if isinstance(name, str) and name.strip() else "")
        return ConfigError(f"{which}: {message}", file=config, hint=hint)

    unknown = [k for k in raw if k not in _KEYS]
    if unknown:
        raise fail(f"unknown key '{unknown[0]}'", f"the keys are {', '.join(_KEYS)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("has no name", 'add name = "每日校验" (any text; the run history is kept by it)')
    job = raw.get("job")
    if not isinstance(job, str) or job.strip().lower() not in JOBS:
        raise fail(f"job {job!r} is not a crm job", f"use one of: {', '.join(JOBS)}")
    args = raw.get("args", [])
    if isinstance(args, str) or not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise fail("args must be a list of texts", 'write it as args = ["--month", "{last_month}"] (or args = [])')
    for arg in args:
        if arg in _RESERVED_ARGS or arg.startswith("--workspace="):
            raise fail(f"args hold {arg}", "leave it out: the scheduler adds --workspace and --json itself")
        for placeholder in _placeholders(arg):
            if placeholder not in PLACEHOLDERS:
                raise fail(
                    f"args hold an unknown placeholder in '{arg}'",
                    f"use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}, or double the braces for a literal one",
                )
    when_text = raw.get("when")
    if not isinstance(when_text, str):
        raise fail("has no when", f"add when = one of {WHEN_FORMS}")
    try:
        when = parse_when(when_text)
    except ValueError as error:
        raise fail(f"when '{when_text}' {error}", f"write when as one of {WHEN_FORMS}") from None
    catch_up = raw.get("catch_up", DEFAULT_CATCH_UP[when.kind])
    if catch_up not in CATCH_UP:
        raise fail(f"catch_up {catch_up!r} is not all or latest", "catch_up = all (every missed run) or latest")
    timeout = raw.get("timeout", DEFAULT_TIMEOUT_MINUTES)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 24 * 60:
        raise fail(f"timeout {timeout!r} is not a number of minutes", "write e.g. timeout = 30 (minutes, at most 1440)")
    return Entry(name.strip(), job.strip().lower(), when, tuple(args), catch_up, timedelta(minutes=float(timeout)))


def parse_when(text: str) -> When:
    """``"weekly mon 08:30"`` → ``When``; ``ValueError`` says what is wrong (the caller adds the fix)."""
    words = text.replace("，", " ").replace(",", " ").split()
    if not words:
        raise ValueError("is empty")
    kind, rest = words[0].lower(), words[1:]
    if kind == "every":
        return _every(rest)
    if kind not in KINDS:
        raise ValueError(f"does not start with one of {', '.join(KINDS)} or every")
    if kind in ("daily", "workdays"):
        _expect(rest, 1)
        return When(kind, _time(rest[0]))
    if kind == "weekly":
        _expect(rest, 2)
        weekday = _WEEKDAYS.get(rest[0].lower())
        if weekday is None:
            raise ValueError(f"names no weekday ('{rest[0]}'; use mon … sun or 周一 … 周日)")
        return When(kind, _time(rest[1]), weekday=weekday)
    if kind in ("monthly", "quarterly"):
        _expect(rest, 2)
        return When(kind, _time(rest[1]), day=_day(rest[0]))
    _expect(rest, 1)
    first, last = _range(rest[0])
    return When("hourly", first, every=1, until=last)


def _every(rest: Sequence[str]) -> When:
    # every 2 hours 09:00-17:00 | every 2h 09:00-17:00
    words = list(rest)
    if words and re.fullmatch(r"\d+h", words[0].lower()):
        words = [words[0][:-1], "hours", *words[1:]]
    if len(words) != 3 or not words[0].isdigit() or words[1].lower() not in ("hour", "hours"):
        raise ValueError("is not 'every N hours HH:MM-HH:MM'")
    every = int(words[0])
    if not 1 <= every <= 12:
        raise ValueError(f"repeats every {every} hours (use 1 to 12)")
    first, last = _range(words[2])
    return When("hourly", first, every=every, until=last)


def _expect(rest: Sequence[str], count: int) -> None:
    if len(rest) != count:
        raise ValueError("has the wrong number of parts")


def _time(text: str) -> time:
    found = _TIME.match(text)
    if found is None:
        raise ValueError(f"has no time of day HH:MM ('{text}')")
    return time(int(found.group(1)), int(found.group(2)))


def _range(text: str) -> tuple[time, time]:
    found = _RANGE.match(text)
    if found is None:
        raise ValueError(f"has no office hours HH:MM-HH:MM ('{text}')")
    first, last = _time(found.group(1)), _time(found.group(2))
    if last < first:
        raise ValueError(f"ends ({last:%H:%M}) before it starts ({first:%H:%M})")
    return first, last


def _day(text: str) -> int | None:
    if text.lower() in _FIRST_WORKDAY:
        return None
    if text.isdigit() and 1 <= int(text) <= 28:
        return int(text)
    raise ValueError(f"has no day of the month ('{text}'; use first-workday or 1 … 28)")


def _placeholders(arg: str) -> list[str]:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(arg) if name is not None]
    except ValueError:  # a lone { or }
        return ["{"]


def _weekday_name(weekday: int) -> str:
    return ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[weekday]

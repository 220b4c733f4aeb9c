"""When each entry is due: pure functions of a ``When``, two datetimes and the working-day calendar.

No clock is read here: the caller passes ``now``. A *slot* is the datetime an entry is meant to
run at (08:00 of a working day, the 10:00 of an hourly check); a slot is *done* once a run of
it ended on its own (ok or failed); a slot whose run was cut short (the PC shut down, the
scheduler or the job killed, Ctrl-C) is run again, at most ``MAX_ATTEMPTS`` times.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import date, datetime, timedelta

from ..calendar import WorkCalendar
from .timetable import LOOKBACK, When

MAX_ATTEMPTS = 3
_HORIZON_DAYS = 400  # next_slot looks no further (a quarterly slot is at most ~100 days away)


def first_workday(year: int, month: int, calendar: WorkCalendar) -> date:
    """The first working day of a month (1 October 2026 is a holiday: the 8th)."""
    day = date(year, month, 1)
    for _ in range(31):
        if calendar.is_workday(day):
            return day
        day += timedelta(days=1)
    return date(year, month, 1)  # a month without a working day does not happen; keep the 1st


def slots_on(when: When, day: date, calendar: WorkCalendar) -> list[datetime]:
    """The slots of ``when`` on ``day``, earliest first."""
    if when.kind == "daily":
        return [datetime.combine(day, when.at)]
    if when.kind == "workdays":
        return [datetime.combine(day, when.at)] if calendar.is_workday(day) else []
    if when.kind == "weekly":
        return [datetime.combine(day, when.at)] if day.weekday() == when.weekday else []
    if when.kind in ("monthly", "quarterly"):
        if when.kind == "quarterly" and day.month not in (1, 4, 7, 10):
            return []
        wanted = first_workday(day.year, day.month, calendar) if when.day is None else day.replace(day=when.day)
        return [datetime.combine(day, when.at)] if day == wanted else []
    # hourly, within office hours, on working days
    if not calendar.is_workday(day):
        return []
    slots, slot = [], datetime.combine(day, when.at)
    last = datetime.combine(day, when.until or when.at)
    while slot <= last:
        slots.append(slot)
        slot += timedelta(hours=when.every)
    return slots


def slots_between(when: When, after: datetime, until: datetime, calendar: WorkCalendar) -> list[datetime]:
    """The slots in (after, until], earliest first."""
    return list(_slots_from(when, after, until.date(), calendar, until))


def next_slot(when: When, after: datetime, calendar: WorkCalendar) -> datetime | None:
    """The first slot after ``after`` (None if none within 400 days)."""
    last_day = after.date() + timedelta(days=_HORIZON_DAYS)
    return next(_slots_from(when, after, last_day, calendar, None), None)


def due_slots(
    when: When,
    catch_up: str,
    now: datetime,
    *,
    since: datetime,
    done: Collection[datetime],
    attempts: Mapping[datetime, int],
    calendar: WorkCalendar,
) -> list[datetime]:
    """The slots to run now, oldest first.

    ``since``: when the entry joined the timetable (nothing before it is due); ``done``: the
    slots that ran to their end; ``attempts``: how often each slot was started. Slots older than
    the kind's lookback are not caught up. ``catch_up`` "all" runs every missed slot once;
    "latest" only the newest one after the last done slot.
    """
    start = max(since - timedelta(microseconds=1), now - LOOKBACK[when.kind])
    pending = slots_between(when, start, now, calendar)
    if catch_up == "latest":
        newest_done = max((d for d in done if d <= now), default=None)
        pending = [s for s in pending if newest_done is None or s > newest_done][-1:]
    return [s for s in pending if s not in done and attempts.get(s, 0) < MAX_ATTEMPTS]


def _slots_from(
    when: When, after: datetime, last_day: date, calendar: WorkCalendar, until: datetime | None
) -> Iterator[datetime]:
    day = after.date()
    while day <= last_day:
        for slot in slots_on(when, day, calendar):
            if slot > after and (until is None or slot <= until):
                yield slot
        day += timedelta(days=1)

"""The days a care greeting is due: festivals (the lunar ones from lunardate) and the window of
days a run on ``today`` covers, so that a greeting for a weekend or a holiday goes out on the
last working day before it, with the scheduler's PC switched off in between."""

from __future__ import annotations

from datetime import date, timedelta

from ..calendar import WorkCalendar

SOLAR_FESTIVALS = {(1, 1): "new_year", (10, 1): "national_day"}
LUNAR_FESTIVALS = {(1, 1): "spring", (5, 5): "dragon_boat", (8, 15): "mid_autumn"}


def festivals_on(day: date) -> list[str]:
    """The festivals falling on ``day``: new_year, spring, dragon_boat, mid_autumn, national_day."""
    from lunardate import LunarDate  # type: ignore[import-untyped]

    found = [SOLAR_FESTIVALS[(day.month, day.day)]] if (day.month, day.day) in SOLAR_FESTIVALS else []
    try:
        lunar = LunarDate.from_solar_date(day.year, day.month, day.day)
    except ValueError:  # outside 1900-2099
        return found
    if not lunar.is_leap_month and (lunar.month, lunar.day) in LUNAR_FESTIVALS:
        found.append(LUNAR_FESTIVALS[(lunar.month, lunar.day)])
    return found


def care_window(today: date, calendar: WorkCalendar, longest: int = 15) -> list[date]:
    """``today`` and the days after it up to the next working day (a weekend, a holiday):
    the days whose greetings a run on ``today`` sends."""
    days = [today]
    day = today + timedelta(days=1)
    while not calendar.is_workday(day) and len(days) < longest:
        days.append(day)
        day += timedelta(days=1)
    return days


def birthday_in(born: date, year: int) -> date:
    """The birthday in ``year`` (29 February is kept on the 28th in other years)."""
    try:
        return born.replace(year=year)
    except ValueError:
        return date(year, 2, 28)

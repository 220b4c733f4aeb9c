"""Working days of mainland China: statutory holidays off, make-up workdays (调休) on.

Three sources, in order: the 节假日 sheet of the rules workbook (what the State Council
announced, typed in by the assistant each November), chinesecalendar (the official years
it knows), and the holidays package (an estimate for later years, without make-up days).
A day decided by the estimate is marked as such.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache


class WorkCalendar:
    def __init__(self, announced: dict[date, tuple[bool, str]] | None = None) -> None:
        self.announced = announced or {}
        self.announced_years = {d.year for d in self.announced}  # a year typed in is complete
        self._days: dict[date, tuple[bool, bool, str]] = {}

    def day(self, d: date) -> tuple[bool, bool, str]:
        """(is a workday, is an estimate, holiday or make-up name)."""
        found = self._days.get(d)
        if found is None:
            found = self._days[d] = self._decide(d)
        return found

    def is_workday(self, d: date) -> bool:
        return self.day(d)[0]

    def is_estimate(self, d: date) -> bool:
        return self.day(d)[1]

    def workdays(self, start: date, end: date) -> list[date]:
        """Working days in [start, end)."""
        days, d = [], start
        while d < end:
            if self.is_workday(d):
                days.append(d)
            d += timedelta(days=1)
        return days

    def _decide(self, d: date) -> tuple[bool, bool, str]:
        if d in self.announced:
            workday, name = self.announced[d]
            return workday, False, name
        if d.year in self.announced_years:  # not listed in an announced year: an ordinary day
            return d.weekday() < 5, False, ""
        official = _official(d)
        if official is not None:
            return official[0], False, official[1]
        name = _estimated_holidays(d.year).get(d, "")
        return (not name and d.weekday() < 5), True, name


def _official(d: date) -> tuple[bool, str] | None:
    import chinese_calendar

    try:
        workday = chinese_calendar.is_workday(d)
        _, name = chinese_calendar.get_holiday_detail(d)
    except NotImplementedError:  # a year chinesecalendar has no official data for
        return None
    label = _NAMES.get(name or "", name or "")
    if not workday and d.weekday() < 5:
        return False, label  # a holiday on a weekday
    if workday and d.weekday() >= 5:
        return True, f"{label}调休"  # a make-up working day at a weekend
    return workday, ""


@lru_cache(maxsize=8)
def _estimated_holidays(year: int) -> dict[date, str]:
    import holidays

    found = holidays.country_holidays("CN", years=year, language="zh_CN")  # 春节, 春节（补假）…
    return {day: _chinese_name(name) for day, name in found.items()}


def _chinese_name(name: str) -> str:
    """'Labor Day (observed)' → 劳动节; names the table does not know are kept."""
    base = name.split("(")[0].strip() if "(" in name and not name.startswith("Chinese") else name
    return _NAMES.get(name, _NAMES.get(base, base))


_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Chinese New Year (Spring Festival)": "春节",
    "Chinese New Year's Eve": "除夕",
    "Tomb-sweeping Day": "清明节",
    "Tomb-Sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Labor Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "Mid-Autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "纪念日",
}

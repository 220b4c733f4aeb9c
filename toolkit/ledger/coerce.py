"""Turn cell values as people type them into typed values. Pure functions, no I/O.

Every coercer takes a cell value (str, float, int, bool, date, datetime, None) and returns
``(value, ok)``: the typed value (``None`` for an empty cell) and whether the cell could be
read. A cell that could not be read keeps its raw value in the table, and validation
reports it with its sheet, row and column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

Coerced = tuple[Any, bool]

_EXCEL_EPOCH_1900 = datetime(1899, 12, 30)
_EXCEL_EPOCH_1904 = datetime(1904, 1, 1)
_LAST_SERIAL_1900 = 2958466  # 10000-01-01: the first serial past 9999-12-31
_LAST_SERIAL_1904 = _LAST_SERIAL_1900 - 1462
_SPACES = re.compile(r"\s+")


# Full-width ASCII (Ａ１，：) and the ideographic space → half-width. Deliberately not NFKC,
# which would also rewrite 'º', '²' or '™' in the users' data.
_HALF_WIDTH = {0xFF01 + i: 0x21 + i for i in range(94)} | {0x3000: 0x20, 0xA0: 0x20}


_DIRTY = re.compile(r"[\uff01-\uff5e\u3000\u00a0\t\n\r\f\v]|\s\s")


def clean_text(value: Any) -> str:
    """Full-width to half-width, stray and non-breaking spaces folded, ends trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value if isinstance(value, str) else str(value)
    if _DIRTY.search(text) is None:  # the common case: nothing to fold
        return text.strip()
    return _SPACES.sub(" ", text.translate(_HALF_WIDTH)).strip()


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ---------------------------------------------------------------- dates

_DATE_TEXT = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?"
    r"(?:[ T]*(?P<half>上午|下午|早上|晚上|中午|am|pm)?\s*(?P<hh>\d{1,2})\s*[:时点]\s*(?P<mi>\d{1,2})?"
    r"(?:\s*[:分]\s*(?P<ss>\d{1,2})(?:\.\d+)?)?\s*[秒分]?\s*(?P<half2>am|pm)?)?"
    r"\s*(?:Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_MONTHS_EN = {
    m: n
    for n, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}
_DATE_EN = re.compile(  # Mar 5, 2024 · March 5 2024 · 5-Mar-2024 · 5 March 2024
    r"^(?:(?P<mon>[a-z]{3,9})\.?\s+(?P<d>\d{1,2}),?\s+(?P<y>\d{4})"
    r"|(?P<d2>\d{1,2})[-\s](?P<mon2>[a-z]{3,9})\.?[-\s](?P<y2>\d{2,4}))$",
    re.IGNORECASE,
)
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATE_US = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_MONTH_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(?:份)?$")
_MONTH_COMPACT = re.compile(r"^(\d{4})(\d{2})$")


def excel_serial_to_datetime(serial: float, date1904: bool = False) -> datetime | None:
    """An Excel date serial in the 1900 or 1904 system, or None when out of Excel's range
    (up to 9999-12-31 in either system). In the 1900 system Excel counts a 1900-02-29 that
    never was: serials below 60 are one day later than the count suggests, and 60 itself is
    no date at all (unreadable, so it is reported rather than shown as 1900-02-28)."""
    if date1904:
        return _EXCEL_EPOCH_1904 + timedelta(days=serial) if 0 <= serial < _LAST_SERIAL_1904 else None
    if not 1 <= serial < _LAST_SERIAL_1900 or 60 <= serial < 61:
        return None
    return _EXCEL_EPOCH_1900 + timedelta(days=serial + (1 if serial < 60 else 0))


def _make(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime | None:
    try:
        return datetime(y, m, d, hh, mm, ss)
    except ValueError:
        return None


def parse_datetime(value: Any, date1904: bool = False) -> Coerced:
    """A date or time typed any common way → ``datetime`` (None when blank)."""
    if value is None:
        return None, True
    if isinstance(value, datetime):
        return value.replace(tzinfo=None), True
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day), True
    if isinstance(value, bool):
        return None, False
    if isinstance(value, (int, float)):
        number = float(value)
        if number.is_integer() and 19000101 <= number <= 21001231:  # typed as 20240305
            found = _make(int(number) // 10000, int(number) // 100 % 100, int(number) % 100)
            if found:
                return found, True
        found = excel_serial_to_datetime(number, date1904)
        return (found, True) if found else (None, False)
    if isinstance(value, timedelta):  # a duration cell is not a date
        return None, False
    text = clean_text(value)
    if not text:
        return None, True
    match = _DATE_TEXT.match(text)
    if match:
        parts = {k: int(v) for k, v in match.groupdict().items() if v and v.isdigit()}
        hour = parts.get("hh", 0)
        half = (match["half"] or match["half2"] or "").lower()
        if half in ("下午", "晚上", "pm") and hour < 12:
            hour += 12
        elif half in ("中午",) and hour < 11:
            hour += 12
        found = _make(parts["y"], parts["m"], parts["d"], hour, parts.get("mi", 0), parts.get("ss", 0))
        return (found, True) if found else (None, False)
    match = _DATE_EN.match(text)
    if match:
        month = _MONTHS_EN.get((match["mon"] or match["mon2"] or "")[:3].lower())
        year = int(match["y"] or match["y2"])
        year += 2000 if year < 100 else 0
        found = _make(year, month, int(match["d"] or match["d2"])) if month else None
        return (found, True) if found else (None, False)
    match = _DATE_COMPACT.match(text)
    if match:
        found = _make(*(int(g) for g in match.groups()))
        return (found, True) if found else (None, False)
    match = _DATE_US.match(text)  # 3/7/1973 (month first, as US exports write it) or 25/12/2024
    if match:
        a, b, y = int(match[1]), int(match[2]), int(match[3])
        hh, mi, ss = (int(g) if g else 0 for g in match.groups()[3:])
        month, day = (a, b) if a <= 12 else (b, a)
        found = _make(y, month, day, hh, mi, ss)
        return (found, True) if found else (None, False)
    if re.fullmatch(r"\d+(\.\d+)?", text):  # a serial stored as text
        return parse_datetime(float(text), date1904)
    return None, False


def parse_date(value: Any, date1904: bool = False) -> Coerced:
    found, ok = parse_datetime(value, date1904)
    return (found.date() if found else None), ok


def parse_month(value: Any, date1904: bool = False) -> Coerced:
    """'2024-03', '2024年3月', '202403', or any date → the first day of that month."""
    if isinstance(value, str):
        text = clean_text(value)
        if not text:
            return None, True
        match = _MONTH_TEXT.match(text) or _MONTH_COMPACT.match(text)
        if match:
            y, m = int(match[1]), int(match[2])
            return (date(y, m, 1), True) if 1 <= m <= 12 else (None, False)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 190001 <= value <= 210012:
        y, m = divmod(int(value), 100)
        return (date(y, m, 1), True) if 1 <= m <= 12 and float(value).is_integer() else (None, False)
    found, ok = parse_date(value, date1904)
    return (found.replace(day=1) if found else None), ok


# ---------------------------------------------------------------- amounts

UNITS = {
    "": 1.0,
    "元": 1.0,
    "千": 1e3,
    "千元": 1e3,
    "k": 1e3,
    "万": 1e4,
    "万元": 1e4,
    "w": 1e4,
    "百万": 1e6,
    "百万元": 1e6,
    "m": 1e6,
    "mm": 1e6,
    "亿": 1e8,
    "亿元": 1e8,
    "b": 1e9,
    "bn": 1e9,
}
_CURRENCY = re.compile(r"^(?:rmb|cny|usd|us\$|\$|¥|￥|€|£)\s*|\s*(?:rmb|cny|usd)$", re.IGNORECASE)
_AMOUNT = re.compile(r"^([-+]?)\s*(\d+(?:\.\d*)?(?:e[-+]?\d+)?|\.\d+)\s*([a-z\u4e00-\u9fff]*)$", re.IGNORECASE)


def unit_factor(unit: str) -> float | None:
    """万元 → 10000; '' → 1; an unknown unit → None."""
    return UNITS.get(clean_text(unit).lower().replace(" ", ""))


_AMOUNT_PLAIN = re.compile(r"(\d+(?:\.\d+)?)(万元|万|亿元|亿|千元|元)?")  # 58.6万: the common case, nothing to clean


def parse_amount(value: Any, header_unit: float = 1.0) -> Coerced:
    """'2,000', '2000万', '1.2亿', '￥1,234.50', '$56.09M', full-width digits → yuan (a float).

    ``header_unit`` is the unit the column header names (``年销售额(万元)`` → 10000). It applies
    to bare numbers only: a cell that carries its own unit (``2000万``) is not multiplied twice.
    """
    if value is None:
        return None, True
    if isinstance(value, bool):
        return None, False
    if isinstance(value, (int, float)):
        return float(value) * header_unit, True
    plain = _AMOUNT_PLAIN.fullmatch(value) if value.__class__ is str else None
    if plain is not None:
        return float(plain[1]) * (UNITS[plain[2]] if plain[2] else header_unit), True
    text = clean_text(value)
    if not text:
        return None, True
    negative = text.startswith("(") and text.endswith(")")  # accounting negatives: (1,234)
    text = text.strip("()").replace(",", "").replace(" ", "")
    text = _CURRENCY.sub("", text)
    match = _AMOUNT.match(text)
    if not match:
        return None, False
    sign, digits, unit = match.groups()
    if unit:
        factor = unit_factor(unit)
        if factor is None:
            return None, False
    else:
        factor = header_unit
    number = float(digits) * factor
    if sign == "-" or negative:
        number = -number
    return number, True


def parse_percent(value: Any, header_unit: float = 1.0) -> Coerced:
    """'5%', '5 %', '0.05' (an Excel percent cell), '5' → percent points (5.0).

    Bare numbers are returned as they are; ``reader`` decides per column whether a column of
    numbers all ≤ 1 holds fractions (Excel's percent format) and scales it once.
    """
    if value is None:
        return None, True
    if isinstance(value, bool):
        return None, False
    if isinstance(value, (int, float)):
        return float(value), True
    text = clean_text(value).replace(" ", "")
    if not text:
        return None, True
    scale = 1.0
    if text.endswith(("%", "％")):
        text = text[:-1]
    elif text.endswith("‰"):
        text, scale = text[:-1], 0.1
    try:
        return float(text) * scale, True
    except ValueError:
        return None, False


# ---------------------------------------------------------------- phones and e-mail

_PHONE_SPLIT = re.compile(r"\s*(?:[,;/、|\n]|或|及|和)\s*")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_SERVICE = re.compile(r"^(?:400|800)-?\d{3}-?\d{4}$")
_NANP = re.compile(r"^(?:\(\d{3}\)\s*|\d{3}[-.\s])\d{3}[-.\s]\d{4}$")  # 585-255-1127
_INTERNATIONAL = re.compile(r"^\+\d[\d\- ]{6,18}$")
_LANDLINE_PLAIN = re.compile(r"^0(?:[12]\d-\d{8}|[3-9]\d{2}-\d{7,8})$")  # 010-12345678, 0571-8888888
_DASHED_EXTENSION = re.compile(r"^(0\d{2,3}-\d{7,8})-(\d{1,5})$")  # 0571-88888888-8001
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE)
_FLOAT_DIGITS = re.compile(r"\d+\.0+")  # a number that went through a float: '13812345678.0'
_PHONE_NOISE = re.compile(r"[\s()\[\]（）.]")
_MOBILE_86 = re.compile(r"86-?1[3-9]\d{9}")
_MOBILE_WRITTEN = re.compile(r"(?:(?:\+86|0086)[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})")


def _one_phone(part: str) -> tuple[str, bool]:
    extension = ""
    part = part.strip()
    if _FLOAT_DIGITS.fullmatch(part):
        part = part.split(".")[0]
    found = _EXTENSION.search(part)
    if found:
        extension, part = found[1], part[: found.start()]
    elif found := _DASHED_EXTENSION.match(part):
        extension, part = found[2], found[1]
    digits = _PHONE_NOISE.sub("", part).replace("—", "-").replace("–", "-").strip("-")
    if digits.startswith("+86") or digits.startswith("0086"):
        digits = digits.split("86", 1)[1].lstrip("-")
    elif _MOBILE_86.fullmatch(digits):
        digits = digits[2:].lstrip("-")
    compact = digits.replace("-", "")
    if _MOBILE.match(compact):
        normal, ok = compact, True
    elif _LANDLINE.match(digits) or (_LANDLINE.match(compact) and compact.startswith("0")):
        area_len = 3 if compact[1] in "12" else 4  # 010, 02x are 3 digits; others 4
        normal, ok = (digits if "-" in digits else f"{compact[:area_len]}-{compact[area_len:]}"), True
    elif _SERVICE.match(digits) or _NANP.match(part.strip()) or _INTERNATIONAL.match(part.strip()):
        normal, ok = digits if not part.strip().startswith("+") else part.strip(), True
    else:
        normal, ok = digits, False
    if extension and ok:
        normal += f" 转{extension}"
    return normal, ok


def parse_phone(value: Any) -> Coerced:
    """13812345678.0, '+86 138-1234-5678', '010-12345678转123', '138… / 021-…' → normalised text.

    Several numbers in one cell are kept, separated by '; '. The cell is ok when every number in
    it looks like a real mainland mobile, landline, 400/800 or international number.
    """
    if value is None:
        return None, True
    if isinstance(value, bool):
        return None, False
    if isinstance(value, float):
        if not value.is_integer():
            return None, False
        value = int(value)
    text = str(value) if value.__class__ is int else clean_text(value)
    if not text:
        return None, True
    if _MOBILE.match(text) or _LANDLINE_PLAIN.match(text):  # the common cases: nothing to normalise
        return text, True
    written = _MOBILE_WRITTEN.fullmatch(text)  # '+86 138 1234 5678', '138-1234-5678'
    if written is not None:
        return "".join(written.groups()), True
    numbers = []
    for part in (p for p in _PHONE_SPLIT.split(text) if p):
        found = _one_phone(part)
        if not found[1] and " " in part.strip():
            found_several = _split_on_spaces(part)
            if found_several:
                numbers.extend(found_several)
                continue
        numbers.append(found)
    return "; ".join(n for n, _ in numbers), all(ok for _, ok in numbers)


_LONGEST_PHONE = 32  # '+86 0571-8888 8888 转 800123' and the like, spaces taken out


def _split_on_spaces(part: str) -> list[tuple[str, bool]] | None:
    """'010-12345678 13812345678' or '138 1234 5678 139 1234 5678': numbers separated by spaces
    only. Tokens are joined until they make a valid number; None if that never works out, or
    as soon as the joined tokens are longer than any number (so a long cell costs linear time)."""
    found: list[tuple[str, bool]] = []
    pending = ""
    for token in part.split():
        pending += token
        if len(pending) > _LONGEST_PHONE:  # no number is this long: the cell is not a list of numbers
            return None
        number, ok = _one_phone(pending)
        if ok:
            found.append((number, ok))
            pending = ""
    return found if found and not pending else None


_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


def parse_email(value: Any) -> Coerced:
    """One or more addresses ('a@x.cn; b@y.com'); full-width '＠' and spaces repaired."""
    if value is None:
        return None, True
    text = clean_text(value).replace(" ", "")
    if not text:
        return None, True
    if _EMAIL.match(text):  # the common case: one well-formed address
        return text.lower(), True
    parts = [p for p in re.split(r"[;,，；、/]+", text) if p]
    ok = all(_EMAIL.match(p) for p in parts)
    return "; ".join(p.lower() if ok else p for p in parts), ok


# ---------------------------------------------------------------- small kinds

_TRUE = {
    "是",
    "y",
    "yes",
    "true",
    "1",
    "√",
    "✓",
    "✔",
    "对",
    "有",
    "要",
    "需要",
    "已解决",
    "解决",
    "已完成",
    "完成",
    "是的",
}
_FALSE = {
    "否",
    "n",
    "no",
    "false",
    "0",
    "×",
    "✗",
    "x",
    "无",
    "不",
    "不要",
    "不需要",
    "未解决",
    "未完成",
    "处理中",
    "待处理",
}


def parse_bool(value: Any) -> Coerced:
    if value is None:
        return None, True
    if isinstance(value, bool):
        return value, True
    if isinstance(value, (int, float)):
        return (bool(value), True) if value in (0, 1) else (None, False)
    text = clean_text(value).lower()
    if not text:
        return None, True
    if text in _TRUE:
        return True, True
    if text in _FALSE:
        return False, True
    return None, False


def parse_text(value: Any) -> Coerced:
    if value is None:
        return None, True
    if isinstance(value, (datetime, date)):
        return value.isoformat(), True
    text = clean_text(value)
    return (text or None), True


def parse_id(value: Any) -> Coerced:
    """Numbers stored as floats lose their '.0'; text ids ('0001') are kept as typed."""
    return parse_text(value)


def parse_number(value: Any) -> Coerced:
    """A plain number: 12, '12', '１２', '1,200'."""
    return parse_amount(value) if not isinstance(value, str) or not re.search(r"[万亿元$¥￥]", value) else (None, False)


_SCORE_WORDS = {
    "非常满意": 5.0,
    "很满意": 5.0,
    "满意": 4.0,
    "比较满意": 4.0,
    "较满意": 4.0,
    "一般": 3.0,
    "不满意": 2.0,
    "不太满意": 2.0,
    "很不满意": 1.0,
    "非常不满意": 1.0,
}


def parse_score(value: Any) -> Coerced:
    """A satisfaction score: a number (4.5, '90') or the survey words 非常满意 … 非常不满意 (5 … 1)."""
    if isinstance(value, str):
        text = clean_text(value).replace(" ", "")
        if text in _SCORE_WORDS:
            return _SCORE_WORDS[text], True
        if text.endswith("分"):
            value = text[:-1]
    return parse_number(value)


def parse_enum(value: Any) -> Coerced:
    text, ok = parse_text(value)
    return (text.upper() if text and text.isascii() else text), ok


def coercer(kind: str, *, unit: float = 1.0, date1904: bool = False) -> Callable[[Any], Coerced]:
    """The coercer for a field kind, with the column's header unit and date system bound."""
    if kind == "date":
        return lambda v: parse_date(v, date1904)
    if kind == "datetime":
        return lambda v: parse_datetime(v, date1904)
    if kind == "month":
        return lambda v: parse_month(v, date1904)
    if kind == "amount":
        return lambda v: parse_amount(v, unit)
    if kind == "percent":
        return lambda v: parse_percent(v, unit)
    named = {
        "phone": parse_phone,
        "email": parse_email,
        "bool": parse_bool,
        "enum": parse_enum,
        "id": parse_id,
        "number": parse_number,
        "score": parse_score,
    }
    return named.get(kind, parse_text)


_LEGAL_FORMS = (("有限责任公司", "有限公司"), ("股份有限公司", "股份公司"), ("(集团)", "集团"))
_NAME_NOISE = re.compile(r"[\s()\[\]{}<>【】〔〕「」『』《》·.,，。、'\"-]+")


def normalize_name(value: Any) -> str:
    """The key two spellings of one company share: width, brackets, spaces, case and
    有限责任公司/有限公司 folded. '北京星辰科技有限责任公司' == '北京星辰科技 (有限公司)'."""
    text = clean_text(value).lower()
    for long, short in _LEGAL_FORMS:
        text = text.replace(long, short)
    return _NAME_NOISE.sub("", text)

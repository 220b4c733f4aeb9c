import re
from datetime import date, datetime, timedelta

import pytest

import toolkit.ledger.coerce as coerce
from toolkit.ledger.coerce import (
    clean_text,
    normalize_name,
    parse_amount,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_email,
    parse_month,
    parse_percent,
    parse_phone,
)


@pytest.mark.parametrize(
    "typed",
    [
        "2024/3/5",
        "2024-03-05",
        "2024.3.5",
        "2024年3月5日",
        "2024 年 3 月 5 日",
        "２０２４－０３－０５",
        "20240305",
        " 2024-3-5 ",
        "3/5/2024",
    ],
)
def test_dates_typed_every_way(typed):
    assert parse_date(typed) == (date(2024, 3, 5), True)


def test_excel_serials_in_both_date_systems():
    assert parse_date(45356.0) == (date(2024, 3, 5), True)
    assert parse_date(45356.0, date1904=True) == (date(2028, 3, 6), True)
    assert parse_date("45356") == (date(2024, 3, 5), True)  # a serial stored as text


def test_datetimes_keep_their_time():
    assert parse_datetime("2024-03-05 14:30") == (datetime(2024, 3, 5, 14, 30), True)
    assert parse_datetime("2006-04-15T03:23:15.000Z") == (datetime(2006, 4, 15, 3, 23, 15), True)
    assert parse_datetime(datetime(2024, 3, 5, 9, 0)) == (datetime(2024, 3, 5, 9, 0), True)
    assert parse_date(datetime(2024, 3, 5, 9, 0)) == (date(2024, 3, 5), True)


@pytest.mark.parametrize("bad", ["2024-13-45", "上周三", "2024-02-30", "n/a", timedelta(days=3), True])
def test_impossible_dates_are_refused(bad):
    assert parse_date(bad) == (None, False)


def test_blank_date_is_empty_not_wrong():
    assert parse_date("  ") == (None, True)
    assert parse_date(None) == (None, True)


@pytest.mark.parametrize(
    "typed,month",
    [
        ("2024-03", date(2024, 3, 1)),
        ("2024年3月", date(2024, 3, 1)),
        ("202403", date(2024, 3, 1)),
        (202403, date(2024, 3, 1)),
        (date(2024, 3, 17), date(2024, 3, 1)),
    ],
)
def test_months(typed, month):
    assert parse_month(typed) == (month, True)


@pytest.mark.parametrize(
    "typed,yuan",
    [
        ("2,000", 2000.0),
        ("2000万", 2.0e7),
        ("1.2亿", 1.2e8),
        ("￥1,234.50", 1234.5),
        ("¥1,234.50", 1234.5),
        ("１２３４", 1234.0),
        ("$56.09M", 56.09e6),
        ("(1,000)", -1000.0),
        (2000, 2000.0),
        ("-5", -5.0),
        ("RMB 300", 300.0),
    ],
)
def test_amounts(typed, yuan):
    value, ok = parse_amount(typed)
    assert ok and value == pytest.approx(yuan)


def test_header_unit_applies_once_not_twice():
    assert parse_amount(2350, header_unit=1e4) == (2.35e7, True)
    assert parse_amount("2,350", header_unit=1e4) == (2.35e7, True)
    value, ok = parse_amount("2350万", header_unit=1e4)  # the cell names its own unit
    assert ok and value == pytest.approx(2.35e7)
    value, ok = parse_amount("1.2亿", header_unit=1e4)
    assert ok and value == pytest.approx(1.2e8)


@pytest.mark.parametrize("bad", ["约两千万", "n/a", "12元3角", "1.2.3"])
def test_unreadable_amounts(bad):
    assert parse_amount(bad) == (None, False)


@pytest.mark.parametrize(
    "typed,normal",
    [
        (13812345678.0, "13812345678"),
        (13812345678, "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("１３８ １２３４ ５６７８", "13812345678"),
        ("010-12345678", "010-12345678"),
        ("01012345678", "010-12345678"),
        ("0571-8888888转123", "0571-8888888 转123"),
        ("021-55556666 ext. 12", "021-55556666 转12"),
        ("13812345678 / 021-55556666", "13812345678; 021-55556666"),
        ("13812345678，13912345678", "13812345678; 13912345678"),
        ("400-820-8820", "400-820-8820"),
        ("585-255-1127", "585-255-1127"),
    ],
)
def test_phones(typed, normal):
    assert parse_phone(typed) == (normal, True)


@pytest.mark.parametrize("bad", ["1381234567", "***-****-***", "12345", "138123456789"])
def test_bad_phones(bad):
    assert parse_phone(bad)[1] is False


def test_emails():
    assert parse_email("Wang@Example.CN") == ("wang@example.cn", True)
    assert parse_email("a@x.cn； b@y.com") == ("a@x.cn; b@y.com", True)
    assert parse_email("wang＠example.com") == ("wang@example.com", True)
    assert parse_email("wang@@example.com")[1] is False
    assert parse_email("li.example.com")[1] is False


def test_percent_and_bool():
    assert parse_percent("5%") == (5.0, True)
    assert parse_percent("５％") == (5.0, True)
    assert parse_percent("abc") == (None, False)
    assert parse_bool("是") == (True, True)
    assert parse_bool("否") == (False, True)
    assert parse_bool("Y") == (True, True)
    assert parse_bool("也许") == (None, False)


def test_clean_text_folds_width_and_stray_spaces():
    assert clean_text("  ＡＢＣ\u3000公司 \n") == "ABC 公司"
    assert clean_text(1.0) == "1"


def test_company_names_normalised_for_duplicates():
    assert normalize_name("北京星辰科技（北京）有限责任公司") == normalize_name("北京星辰科技(北京)有限公司")
    assert normalize_name("北京 星辰科技有限公司") == normalize_name("北京星辰科技有限公司")
    assert normalize_name("ＡＢＣ Trading Co.") == normalize_name("abc trading co")
    assert normalize_name("北京星辰科技有限公司") != normalize_name("上海星辰科技有限公司")


@pytest.mark.parametrize(
    "typed,expected",
    [
        ("2024年3月5号", datetime(2024, 3, 5)),
        ("2024/3/5 下午2:30", datetime(2024, 3, 5, 14, 30)),
        ("Mar 5, 2024", datetime(2024, 3, 5)),
        ("5-Mar-2024", datetime(2024, 3, 5)),
        ("2024/3/5 2:30 PM", datetime(2024, 3, 5, 14, 30)),
    ],
)
def test_more_text_dates(typed, expected):
    assert parse_datetime(typed) == (expected, True)


@pytest.mark.parametrize(
    "typed,normal",
    [
        ("13812345678.0", "13812345678"),
        ("010-12345678 13812345678", "010-12345678; 13812345678"),
        ("138 1234 5678 139 1234 5678", "13812345678; 13912345678"),
        ("0571-88888888-8001", "0571-88888888 转8001"),
        ("+1 585 255 1127", "+1 585 255 1127"),
    ],
)
def test_more_phone_forms(typed, normal):
    assert parse_phone(typed) == (normal, True)


def test_scientific_notation_amounts():
    assert parse_amount("6.0E7") == (6.0e7, True)


def test_a_long_phone_cell_costs_linear_work(monkeypatch):
    """A 32k-character cell of space-separated fragments took seconds (each token re-parsed all
    the tokens before it); now no more text is parsed than a few times the cell's length."""
    from toolkit.ledger import coerce

    parsed = []
    real = coerce._one_phone
    monkeypatch.setattr(coerce, "_one_phone", lambda part: parsed.append(len(part)) or real(part))
    for size in (8_000, 32_000):
        parsed.clear()
        cell = " ".join(["12"] * (size // 3))
        value, ok = coerce.parse_phone(cell)
        assert not ok and value  # not a phone number, and said so
        assert sum(parsed) <= 3 * len(cell)
    assert coerce.parse_phone("138 1234 5678 139 1234 5678") == ("13812345678; 13912345678", True)
    assert coerce.parse_phone("010-12345678 13812345678") == ("010-12345678; 13812345678", True)


@pytest.mark.parametrize(
    "text",
    ["+86 154 9066 1161", "138-1234-5678", "0086 138 1234 5678", "+86-138-1234-5678", "138 1234 5678",
     "+8613812345678", "1381234-5678", "+86 138 1234 567", "138-1234-56789", "+87 138 1234 5678"],
)  # fmt: skip
def test_the_phone_fast_path_reads_as_the_full_one(text, monkeypatch):
    """'+86 138 1234 5678' and '138-1234-5678' skip the general parse: same result, same verdict."""
    fast = coerce.parse_phone(text)
    monkeypatch.setattr(coerce, "_MOBILE_WRITTEN", re.compile(r"(?!)"))  # matches nothing
    assert coerce.parse_phone(text) == fast


@pytest.mark.parametrize("text", ["58.6万", "58.6", "1000元", "1.2亿", "3千元", "12万元", "0.5", "7亿元", "1,000万"])
@pytest.mark.parametrize("unit", [1.0, 1e4])
def test_the_amount_fast_path_reads_as_the_full_one(text, unit, monkeypatch):
    fast = coerce.parse_amount(text, unit)
    monkeypatch.setattr(coerce, "_AMOUNT_PLAIN", re.compile(r"(?!)"))
    assert coerce.parse_amount(text, unit) == fast
    assert fast[1]

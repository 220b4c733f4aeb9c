from datetime import date

import pandas as pd
import pytest
from conftest import CUSTOMER_HEADER, customer_row, make_xlsx

from toolkit.errors import InputError
from toolkit.ledger import read_ledger


def test_reads_header_below_title_rows(tmp_path):
    path = make_xlsx(
        tmp_path / "l.xlsx",
        {
            "Sheet1": [
                ["某某公司客户台账（2026年）"],
                ["制表：销售部", None, "日期：2026-11-01"],
                [],
                CUSTOMER_HEADER,
                customer_row(1),
                customer_row(2),
            ]
        },
        {"Sheet1": ["A1:H1"]},
    )
    table = read_ledger(path).customer_sheet
    assert table.header_rows == (4,)
    assert list(table.rows) == [5, 6]
    assert table.frame["name"].tolist() == ["测试1号科技有限公司", "测试2号科技有限公司"]
    assert table.source("phone", 1) == ("Sheet1", 6, "D")


def test_two_row_merged_header(tmp_path):
    rows = [
        ["客户编号", "客户名称", "联系方式", None, "客户经理", "年销售额"],
        [None, None, "联系人", "手机", None, "(万元)"],
        ["C1", "甲公司", "李四", 13812345678.0, "张伟", 2350],
    ]
    path = make_xlsx(tmp_path / "l.xlsx", {"台账": rows}, {"台账": ["A1:A2", "B1:B2", "C1:D1", "E1:E2"]})
    table = read_ledger(path).customer_sheet
    assert table.header_rows == (1, 2)
    assert table.columns["contact"].letter == "C"
    assert table.columns["phone"].letter == "D"
    assert table.frame["phone"].tolist() == ["13812345678"]
    assert table.frame["owner"].tolist() == ["张伟"]
    assert list(table.rows) == [3]


def test_traditional_and_english_headers(tmp_path):
    trad = make_xlsx(
        tmp_path / "t.xlsx",
        {
            "客戶資料": [
                ["客戶編號", "客戶名稱", "聯絡人", "聯絡電話", "業務經理", "客戶等級", "年銷售額（萬元）"],
                ["T1", "台灣電子股份有限公司", "陳先生", "0912345678", "林小姐", "A", 100],
            ]
        },
    )
    table = read_ledger(trad).customer_sheet
    assert set(table.columns) >= {"customer_id", "name", "contact", "phone", "owner", "class", "annual_sales"}
    assert table.frame["annual_sales"].tolist() == [1_000_000.0]
    english = make_xlsx(
        tmp_path / "e.xlsx",
        {
            "Accounts": [
                ["Account Number", "Company Name", "Contact Name", "Phone", "Account Owner", "Annual Revenue"],
                ["A-1", "Acme Ltd", "Jo", "+44 20 7946 0000", "Sam", "$1.2M"],
            ]
        },
    )
    table = read_ledger(english).customer_sheet
    assert table.frame["name"].tolist() == ["Acme Ltd"] and table.frame["owner"].tolist() == ["Sam"]
    assert table.frame["annual_sales"].tolist() == [pytest.approx(1.2e6)]


def test_header_unit_applied_once(tmp_path):
    path = make_xlsx(
        tmp_path / "l.xlsx", {"S": [["客户名称", "年销售额(万元)"], ["甲", 2350], ["乙", "2350万"], ["丙", "1.2亿"]]}
    )
    values = read_ledger(path).customer_sheet.frame["annual_sales"].tolist()
    assert values == [pytest.approx(2.35e7), pytest.approx(2.35e7), pytest.approx(1.2e8)]


def test_sheets_found_by_headers_not_position(tmp_path):
    path = make_xlsx(
        tmp_path / "l.xlsx",
        {
            "Sheet1": [
                ["拜访日期", "客户名称", "拜访人", "拜访方式", "拜访目的"],
                [date(2026, 1, 5), "甲", "张伟", "实地", "回访"],
            ],
            "Sheet2": [["月份", "客户名称", "业务量(万元)"], ["2026-01", "甲", 12]],
            "Sheet3": [["客户名称", "联系人", "联系电话", "客户经理"], ["甲", "李", "13812345678", "张伟"]],
            "Sheet4": [
                ["投诉时间", "客户名称", "投诉内容", "处理人", "回复时间"],
                ["2026-01-05 10:00", "甲", "慢", "张伟", ""],
            ],
        },
    )
    ledger = read_ledger(path)
    assert {k: t.sheet for k, t in ledger.tables.items()} == {
        "customers": "Sheet3",
        "visits": "Sheet1",
        "monthly": "Sheet2",
        "complaints": "Sheet4",
    }
    assert ledger.tables["monthly"].frame["volume"].tolist() == [120000.0]
    assert ledger.monthly["month"].tolist() == [pd.Timestamp(2026, 1, 1)]


def test_column_overrides_from_config(tmp_path):
    path = make_xlsx(
        tmp_path / "l.xlsx", {"S": [["甲方单位", "对口业务员", "电话"], ["甲公司", "张伟", "13812345678"]]}
    )
    with pytest.raises(InputError):
        read_ledger(path)
    table = read_ledger(
        path, column_overrides={"customers": {"甲方单位": "name", "对口业务员": "owner"}}
    ).customer_sheet
    assert table.frame["name"].tolist() == ["甲公司"] and table.frame["owner"].tolist() == ["张伟"]


def test_total_rows_blank_rows_and_notes_are_not_customers(tmp_path):
    path = make_xlsx(
        tmp_path / "l.xlsx",
        {"S": [CUSTOMER_HEADER, customer_row(1), [], customer_row(2), [None, "合计"], [], ["注：数据截至11月"]]},
    )
    assert read_ledger(path).customer_sheet.rows == [2, 4]  # a gap: the rows listed


def test_unreadable_values_kept_with_their_cell(tmp_path):
    path = make_xlsx(tmp_path / "l.xlsx", {"S": [CUSTOMER_HEADER, customer_row(1, 最近拜访日期="2026-13-01")]})
    table = read_ledger(path).customer_sheet
    assert table.frame["last_visit"].isna().tolist() == [True]
    assert table.bad["last_visit"] == {0: "2026-13-01"}
    assert table.source("last_visit", 0) == ("S", 2, "H")


def test_percent_cells_scaled_once(tmp_path):
    path = make_xlsx(tmp_path / "l.xlsx", {"S": [["客户名称", "业务占比"], ["甲", 0.05], ["乙", 0.031]]})
    assert read_ledger(path).customer_sheet.frame["share"].tolist() == [pytest.approx(5.0), pytest.approx(3.1)]
    path = make_xlsx(tmp_path / "m.xlsx", {"S": [["客户名称", "业务占比"], ["甲", "5%"], ["乙", "0.5%"]]})
    assert read_ledger(path).customer_sheet.frame["share"].tolist() == [5.0, 0.5]


def test_1904_workbook_serials(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    sheet = book.active
    sheet.append(["客户名称", "最近拜访日期"])
    sheet.append(["甲", 44000])  # a bare serial, not formatted as a date
    book.save(tmp_path / "mac.xlsx")
    ledger = read_ledger(tmp_path / "mac.xlsx")
    assert ledger.date1904
    assert ledger.customers["last_visit"].tolist() == [pd.Timestamp(2024, 6, 19)]  # 1904-01-01 + 44000 days


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(tmp_path, encoding):
    text = (
        "客户编号,客户名称,联系电话,客户经理\n"
        "C1,北京甲科技有限公司,13812345678,张伟\n"
        "C2,上海乙贸易有限公司,021-55556666,王芳\n"
    )
    path = tmp_path / "l.csv"
    path.write_bytes(text.encode(encoding))
    table = read_ledger(path).customer_sheet
    assert table.frame["name"].tolist() == ["北京甲科技有限公司", "上海乙贸易有限公司"]
    assert table.frame["owner"].tolist() == ["张伟", "王芳"]


def test_csv_big5_and_western(tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes("客戶名稱,業務經理\n台灣電子公司,林小姐\n".encode("big5"))
    assert read_ledger(path).customer_sheet.frame["owner"].tolist() == ["林小姐"]
    path = tmp_path / "w.csv"
    path.write_bytes("Company Name,City\nCafé Lumière,Madrid 5º\n".encode("cp1252"))
    assert read_ledger(path).customer_sheet.frame["name"].tolist() == ["Café Lumière"]


def test_totals_and_footer_lines_anywhere_in_the_leading_cells(tmp_path):
    header = ["序号", *CUSTOMER_HEADER]
    rows = [
        header,
        [1, *customer_row(1)],
        [2, *customer_row(2)],
        ["合计", None, None, None, None, None, None, None, None],
        ["填表人：张三", None, "审核人：李四"],
    ]
    assert read_ledger(make_xlsx(tmp_path / "l.xlsx", {"S": rows})).customer_sheet.rows == range(2, 4)


def test_a_value_merged_down_fills_every_row_it_covers(tmp_path):
    rows = [
        CUSTOMER_HEADER,
        customer_row(1, 客户经理="王芳"),
        customer_row(2, 客户经理=None),
        customer_row(3, 客户经理=None),
        customer_row(4, 客户经理="张伟"),
    ]
    table = read_ledger(make_xlsx(tmp_path / "l.xlsx", {"S": rows}, {"S": ["F2:F4"]})).customer_sheet
    assert table.frame["owner"].tolist() == ["王芳", "王芳", "王芳", "张伟"]


def test_two_phone_columns_are_combined(tmp_path):
    rows = [
        ["客户名称", "手机", "座机", "客户经理"],
        ["甲", 13812345678.0, "010-12345678", "张伟"],
        ["乙", None, "021-55556666", "张伟"],
    ]
    table = read_ledger(make_xlsx(tmp_path / "l.xlsx", {"S": rows})).customer_sheet
    assert table.frame["phone"].tolist() == ["13812345678; 010-12345678", "021-55556666"]
    assert table.columns["phone"].letter == "B" and table.columns["phone"].extra == (2,)


def test_group_header_over_owner_name_and_email(tmp_path):
    rows = [["客户名称", "客户经理", None], [None, "姓名", "邮箱"], ["甲", "张伟", "zw@example.com"]]
    table = read_ledger(make_xlsx(tmp_path / "l.xlsx", {"S": rows}, {"S": ["A1:A2", "B1:C1"]})).customer_sheet
    assert table.frame["owner"].tolist() == ["张伟"] and table.frame["owner_email"].tolist() == ["zw@example.com"]


def test_more_traditional_headers(tmp_path):
    rows = [
        ["客戶名稱", "行動電話", "電郵", "負責業務", "最後拜訪日期", "業務佔比"],
        ["甲", "0912345678", "a@b.tw", "林", "2026/10/1", "5%"],
    ]
    table = read_ledger(make_xlsx(tmp_path / "l.xlsx", {"S": rows})).customer_sheet
    assert {"phone", "email", "owner", "last_visit", "share"} <= set(table.columns)


def test_workbook_saved_with_a_csv_name_and_excel_sep_line(tmp_path):
    real = make_xlsx(tmp_path / "real.xlsx", {"S": [CUSTOMER_HEADER, customer_row(1)]})
    renamed = tmp_path / "export.csv"
    renamed.write_bytes(real.read_bytes())
    assert len(read_ledger(renamed).customer_sheet) == 1
    sep = tmp_path / "sep.csv"
    sep.write_text("sep=;\n客户名称;客户经理\n甲;张伟\n", encoding="utf-8")
    assert read_ledger(sep).customer_sheet.frame["owner"].tolist() == ["张伟"]


def test_share_numbers_fractions_or_points_by_their_total(tmp_path):
    fractions = [0.05, 0.1, 0.08, 0.02, 0.03, 0.01, 0.04, 0.06, 0.07, 0.3]  # add up to 76 %: Excel percent cells
    path = make_xlsx(
        tmp_path / "f.xlsx", {"S": [["客户名称", "业务占比"]] + [[f"客户{n}", v] for n, v in enumerate(fractions)]}
    )
    assert read_ledger(path).customer_sheet.frame["share"].tolist()[-1] == pytest.approx(30.0)
    points = [0.2, 0.3, 0.5, 0.9, 0.4, 0.6, 0.7, 0.8, 0.2, 6]  # add up to more than 100 %: percent points
    path = make_xlsx(
        tmp_path / "p.xlsx", {"S": [["客户名称", "业务占比"]] + [[f"客户{n}", v] for n, v in enumerate(points)]}
    )
    assert read_ledger(path).customer_sheet.frame["share"].tolist() == pytest.approx(points)


def test_ledger_frames_have_field_columns_nullable_dtypes_and_excel_rows(tmp_path):
    rows = [
        CUSTOMER_HEADER + ["年销售额", "战略客户"],
        customer_row(1) + ["120万", "是"],
        customer_row(2, 最近拜访日期="") + ["", ""],
    ]
    visits = [["拜访日期", "客户名称", "拜访人", "拜访方式"], [date(2026, 9, 1), "测试1号科技有限公司", "张伟", "上门"]]
    ledger = read_ledger(make_xlsx(tmp_path / "l.xlsx", {"客户": rows, "拜访记录": visits}))
    customers = ledger.customers
    assert isinstance(customers, pd.DataFrame)
    assert customers.index.tolist() == [2, 3] and customers.index.name == "row"
    assert {"customer_id", "name", "owner", "last_visit", "annual_sales", "strategic", "credit_rating"} <= set(
        customers
    )
    assert str(customers["name"].dtype) == "string"
    assert customers["last_visit"].dtype.kind == "M" and customers["last_visit"].isna().tolist() == [False, True]
    assert str(customers["annual_sales"].dtype) == "Float64" and customers["annual_sales"].iloc[0] == 1_200_000
    assert str(customers["strategic"].dtype) == "boolean" and customers["strategic"].iloc[0]
    assert customers["credit_rating"].isna().all()  # no such column in this ledger: all <NA>
    assert ledger.visits.loc[2, "visitors"] == "张伟"
    # sheets the ledger lacks are empty frames with the table's columns
    assert ledger.complaints.empty and {"received", "replied", "resolved"} <= set(ledger.complaints)
    assert ledger.monthly.empty and "volume" in ledger.monthly


def test_reading_pauses_the_cycle_collector_and_restores_it(tmp_path, monkeypatch):
    """The read turns the collector off (its passes over millions of new cells only cost time)
    and leaves it as it found it: on for a notebook or the scheduler, off when it was off."""
    import gc

    import toolkit.ledger.reader as reader

    path = make_xlsx(tmp_path / "l.xlsx", {"客户台账": [CUSTOMER_HEADER, customer_row(1)]})
    during = []
    real = reader._read

    def spy(*args):
        during.append(gc.isenabled())
        return real(*args)

    monkeypatch.setattr(reader, "_read", spy)
    assert gc.isenabled()
    assert len(read_ledger(path).customer_sheet) == 1
    assert during == [False] and gc.isenabled()
    gc.disable()
    try:
        read_ledger(path)
        assert not gc.isenabled()
    finally:
        gc.enable()


_WITHOUT_PANDAS = """
import sys
from datetime import date
from pathlib import Path

from toolkit.config import load_settings
from toolkit.demo import make_demo

today = date(2026, 11, 26)
ledger, _ = make_demo(Path(sys.argv[1]) / "ws", today)
settings = load_settings(Path(sys.argv[1]) / "ws")
job = sys.argv[2]
if job == "validate":
    from toolkit.validate import validate
    validate(ledger, settings, today=today)
elif job == "plan":
    from toolkit.plan import plan
    plan(ledger, settings, today=today)
else:  # classify under each policy: the volume-drop risk rule, the share policy's monthly shares
    from toolkit.classify import classify
    for policy in ("abcd", "sales", "share"):
        classify(ledger, settings, today=today, policy=policy)
print("pandas" in sys.modules)
"""


@pytest.mark.parametrize("job", ["validate", "plan", "classify"])
def test_validate_plan_and_classify_never_import_pandas(tmp_path, job):
    """validate, plan and classify work from the columns (the monthly sums too: plain dicts),
    so they never import pandas, which costs about half a second."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_PANDAS, str(tmp_path), job], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def _ledger_of_sizes(path, customers: int, visits: int):
    """A 客户台账 of ``customers`` rows and a 拜访记录 of ``visits`` rows naming them by ID."""
    rows = [CUSTOMER_HEADER, *(customer_row(n) for n in range(1, customers + 1))]
    visit_rows = [["客户编号", "客户名称", "拜访日期", "拜访人", "拜访方式"]]
    visit_rows += [
        [f"C{n % customers + 1:03d}", f"测试{n % customers + 1}号科技有限公司", date(2026, 10, 1), "张伟", "上门"]
        for n in range(visits)
    ]
    return make_xlsx(path, {"客户台账": rows, "拜访记录": visit_rows})


def test_each_sheet_knows_how_many_cells_its_parse_holds(tmp_path):
    """From the <dimension> the file records: rows × columns, the header row included."""
    from toolkit.ledger.source import open_source

    source = open_source(_ledger_of_sizes(tmp_path / "l.xlsx", 30, 12))
    assert {s.name: s.cells for s in source.sheets} == {"客户台账": 31 * 8, "拜访记录": 13 * 5}
    assert sorted(len(list(s.iter_rows())) for s in source.in_parsed_order()) == [13, 31]


@pytest.mark.parametrize("budget", [100, 10_000])
def test_sheets_too_big_to_parse_together_are_parsed_one_after_the_other(tmp_path, monkeypatch, budget):
    """Within the budget both sheets are parsed at once; past it the largest is parsed, read
    and released before the next parse begins, so the two are never held together."""
    import toolkit.ledger.source as source_module

    monkeypatch.setattr(source_module, "PARSE_BUDGET_CELLS", budget)
    source = source_module.open_source(_ledger_of_sizes(tmp_path / "l.xlsx", 40, 20))
    seen = []
    for sheet in source.in_parsed_order():
        others_begun = [s.name for s in source.sheets if s is not sheet and s._start is None]
        seen.append((sheet.name, others_begun))
        sheet.release()
    if budget == 100:
        assert seen == [("客户台账", []), ("拜访记录", ["客户台账"])]
    else:
        assert seen[0][1] and {name for name, _ in seen} == {"客户台账", "拜访记录"}
    ledger = read_ledger(tmp_path / "l.xlsx")
    assert len(ledger.customer_sheet) == 40 and len(ledger.tables["visits"]) == 20


def test_a_visit_shares_its_customers_id_and_name_strings(tmp_path):
    """The IDs and names other sheets repeat are the customer rows' own strings, one object each."""
    ledger = read_ledger(_ledger_of_sizes(tmp_path / "l.xlsx", 5, 15))
    customers, visits = ledger.customer_sheet, ledger.tables["visits"]
    by_id = {v: v for v in customers.column("customer_id")}
    by_name = {v: v for v in customers.column("name")}
    assert all(v is by_id[v] for v in visits.column("customer_id"))
    assert all(v is by_name[v] for v in visits.column("customer"))
    assert visits.column("customer_id")[:3] == ["C001", "C002", "C003"]


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="glibc's malloc_trim is Linux's")
def test_a_released_sheets_memory_goes_back_to_the_system(tmp_path):
    """glibc keeps the freed cells of a parsed sheet; after the read they are handed back."""
    import subprocess
    import sys

    import xlsxwriter

    path = tmp_path / "big.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("客户台账")
    for r in range(150_000):
        sheet.write_row(r, 0, [f"公司{r}号有限公司", f"地址{r}路{r}号", f"C{r:07d}", f"备注{r}"])
    book.close()
    script = (
        "import sys\n"
        "from python_calamine import CalamineWorkbook\n"
        "from toolkit.ledger.source import give_back_freed_memory\n"
        "def rss():\n"
        "    return int([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1]) // 1024\n"
        "sheet = CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_name('客户台账')\n"
        "sum(1 for _ in sheet.iter_rows())\n"
        "del sheet\n"
        "held = rss()\n"
        "give_back_freed_memory()\n"
        "print(held, rss())\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120)
    held, after = map(int, done.stdout.split())
    assert held - after >= 10, (held, after)


def test_on_one_processor_each_sheet_is_parsed_when_its_turn_comes(tmp_path, monkeypatch):
    """No thread to parse beside the reader: a sheet's parse begins only once the one before is
    read and released, and a ledger reads the same."""
    import toolkit.ledger.source as source_module

    path = _ledger_of_sizes(tmp_path / "l.xlsx", 12, 7)
    monkeypatch.setattr(source_module.os, "cpu_count", lambda: 1)
    source = source_module.open_source(path)
    assert source._pool is None and all(s._start is not None for s in source.sheets)
    begun = []
    for sheet in source.in_parsed_order():
        begun.append([s.name for s in source.sheets if s._start is None])
        sheet.release()
    assert begun == [["客户台账"], ["客户台账", "拜访记录"]]
    ledger = read_ledger(path)
    assert len(ledger.customer_sheet) == 12 and ledger.tables["visits"].column("customer_id")[:2] == ["C001", "C002"]


def test_a_column_of_repeated_texts_holds_each_text_once(tmp_path):
    """The reader keeps one string for each distinct text of a column whose values repeat, even
    when its first thousand rows look mostly distinct (800 owners among 9,000 customers: more
    than half of the first 1,000 rows are different names). Every row is still its own value."""
    import random

    rng = random.Random(7)
    owners = [f"经理{n:03d}" for n in range(800)]
    picked = [rng.choice(owners) for _ in range(9000)]
    rows = [["客户编号", "客户名称", "客户经理", "备注"]]
    rows += [[f"C{i:05d}", f"客户{i}公司", owner, f"第{i}条"] for i, owner in enumerate(picked)]
    assert len(set(picked[:1000])) > 500  # the first thousand look mostly distinct
    sheet = read_ledger(make_xlsx(tmp_path / "l.xlsx", {"客户": rows})).customer_sheet
    read = sheet.column("owner")
    assert read == picked
    assert len({id(owner) for owner in read}) == len(set(picked))  # one string per owner
    notes = sheet.column("note")  # all different: not shared, and all there
    assert notes == [f"第{i}条" for i in range(9000)]

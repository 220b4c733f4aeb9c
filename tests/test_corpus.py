"""Real spreadsheets made by other people (../shared/corpus): each is read without a traceback,
either mapped or refused with the one-line error."""

from __future__ import annotations

import json

import pytest
from conftest import CORPUS, run_crm

from toolkit.ledger import read_ledger

MAPPED = {  # file → (main sheet, header row, data rows at least, fields that must be mapped)
    "cn_yewu_lianxi_titlerow.xlsx": ("Sheet1", 2, 55, {"name", "owner", "contact", "phone", "region"}),
    "cn_tw_customer_rfm.xlsx": ("客戶資料檔", 1, 150, {"customer_id"}),
    "cn_superstore_orders.xls": ("订单", 1, 10000, {"customer_id", "name", "city"}),
    "cn_car_service_customers.xlsx": ("客户信息", 1, 8, {"name", "last_visit"}),
    "en_oro_accounts_bom.csv": ("en_oro_accounts_bom", 1, 76, {"name", "email", "phone", "birthday"}),
    "en_sf_account_export.csv": ("en_sf_account_export", 1, 423, {"name", "phone", "annual_sales", "owner"}),
    "en_superstore_sales.xls": ("Orders", 1, 8399, {"name", "city"}),
    "en_cogsley_sales.xlsx": ("Sales", 1, 8399, {"name", "industry"}),
}
REFUSED = ["odd_date_1904.xlsx", "odd_header_row9.xlsx", "odd_hidden_sheets.xlsx", "odd_merged_range.xlsx"]


@pytest.mark.parametrize("name", sorted(MAPPED))
def test_corpus_ledgers_are_mapped(corpus, name):
    sheet, header_row, rows, fields = MAPPED[name]
    table = read_ledger(corpus / name).customer_sheet
    assert table.sheet == sheet
    assert table.header_rows[-1] == header_row
    assert len(table) >= rows
    assert fields <= set(table.columns)


def test_text_dates_and_masked_phones(corpus):
    cars = read_ledger(corpus / "cn_car_service_customers.xlsx").customer_sheet
    assert all(d is not None for d in cars.frame["last_visit"].tolist())  # 'YYYY-MM-DD' typed as text
    contacts = read_ledger(corpus / "cn_yewu_lianxi_titlerow.xlsx").customer_sheet
    assert len(contacts.bad["phone"]) == 55  # '***-****-***' masked numbers are not phones
    assert contacts.frame["owner"].tolist()[0] == "占亮" and contacts.source("name", 0) == ("Sheet1", 3, "E")


def test_western_csv_is_decoded(corpus):
    accounts = read_ledger(corpus / "en_sf_account_export.csv").customer_sheet
    assert any("º" in (a or "") for a in accounts.frame["address"].tolist())


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    # without the corpus, one placeholder: the corpus fixture skips it saying where it looked
    sorted(p.name for p in CORPUS.glob("*") if p.suffix in (".xlsx", ".xls", ".csv")) if CORPUS.is_dir() else ["-"],
)
def test_crm_validate_on_every_corpus_file(corpus, name, tmp_path):
    result = run_crm("validate", str(corpus / name), "--json", "--out", str(tmp_path), "--today", "2026-11-26")
    assert "Traceback" not in result.stderr
    if name in REFUSED:
        assert result.returncode == 2 and result.stdout == ""
        line = result.stderr.strip()
        assert "\n" not in line and name in line and "expected a column such as" in line
        return
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["customers"] >= MAPPED[name][2]
    for issue in data["issues"][:50]:
        assert issue["sheet"] and issue["code"] and issue["message"]
        if issue["row"] is not None and issue["code"] != "missing_column":
            assert issue["row"] > MAPPED[name][1] and issue["column"].isalpha()


@pytest.mark.slow
@pytest.mark.parametrize(
    "job", [["classify"], ["classify", "--policy", "sales"], ["plan"], ["report", "--month", "2026-10"]]
)
def test_every_job_on_every_corpus_file_ends_cleanly(corpus, job, tmp_path):
    for path in sorted(p for p in corpus.glob("*") if p.suffix in (".xlsx", ".xls", ".csv")):
        result = run_crm(*job, str(path), "--out", str(tmp_path), "--json")
        assert result.returncode in (0, 2), (path.name, result.stderr)
        assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr, path.name
        if result.returncode == 0:
            assert json.loads(result.stdout)["outputs"], path.name
        else:
            assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1, path.name

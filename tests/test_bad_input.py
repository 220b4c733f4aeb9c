"""Bad input: one clear line on stderr naming the file and the fix, exit 2, no traceback."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import CUSTOMER_HEADER, customer_row, make_xlsx, run_crm

from toolkit.errors import InputError
from toolkit.ledger import read_ledger


def assert_clean_refusal(result, *words: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# the jobs that write a workbook from one ledger, with what they need to have something to write
WORKBOOK_JOBS = (
    ["validate"],
    ["classify", "--policy", "sales"],
    ["plan", "--months", "6"],
    ["report", "--month", "2026-11"],
)


def encrypted(tmp_path: Path, password: str = "s3cret", rows: list[list] | None = None) -> Path:
    """locked.xlsx: ``rows`` (one customer by default) in plain.xlsx, encrypted with ``password``."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = make_xlsx(tmp_path / "plain.xlsx", {"S": rows or [CUSTOMER_HEADER, customer_row(1)]})
    target = tmp_path / "locked.xlsx"
    with plain.open("rb") as source, target.open("wb") as out:
        OOXMLFile(source).encrypt(password, out)
    return target


def test_missing_file(tmp_path):
    line = assert_clean_refusal(run_crm("validate", str(tmp_path / "nope.xlsx")), "nope.xlsx", "file not found")
    assert "check the path" in line


def test_a_symlink_loop_and_a_broken_link_are_named_for_what_they_are(tmp_path):
    loop = tmp_path / "loop.xlsx"
    loop.symlink_to(loop.name)
    assert_clean_refusal(run_crm("validate", str(loop)), "loop.xlsx", "symbolic link that points round in a loop")
    broken = tmp_path / "broken.xlsx"
    broken.symlink_to("nowhere.xlsx")
    assert_clean_refusal(run_crm("validate", str(broken)), "broken symbolic link", "nowhere.xlsx is not one")


def test_write_back_on_a_folder_says_it_is_a_folder(tmp_path):
    assert_clean_refusal(run_crm("validate", str(tmp_path), "--write-back"), "is a folder, not a ledger file")


def test_file_that_is_not_a_spreadsheet(tmp_path):
    picture = tmp_path / "photo.xlsx"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200)
    assert_clean_refusal(run_crm("validate", str(picture)), "photo.xlsx", "is not a spreadsheet")
    text = tmp_path / "notes.docx"
    text.write_bytes(b"\x00\x01binary")
    assert_clean_refusal(run_crm("validate", str(text)), "notes.docx", "is not a spreadsheet")


def test_truncated_workbook(tmp_path):
    whole = make_xlsx(tmp_path / "whole.xlsx", {"S": [CUSTOMER_HEADER] + [customer_row(n) for n in range(200)]})
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert_clean_refusal(run_crm("validate", str(cut)), "cut.xlsx", "damaged or truncated", "save it again")


def test_zip_that_is_not_a_workbook(tmp_path):
    bogus = tmp_path / "bogus.xlsx"
    with zipfile.ZipFile(bogus, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert_clean_refusal(run_crm("validate", str(bogus)), "bogus.xlsx", "damaged")


def test_password_protected_workbook(tmp_path, monkeypatch):
    locked = encrypted(tmp_path)
    assert_clean_refusal(
        run_crm("validate", str(locked)), "locked.xlsx", "password-protected", "--password", "CRM_LEDGER_PASSWORD"
    )
    assert_clean_refusal(run_crm("validate", str(locked), "--password", "wrong"), "password does not open")
    ok = run_crm("validate", str(locked), "--password", "s3cret", "--json", "--out", str(tmp_path / "o"))
    assert ok.returncode == 0, ok.stderr
    assert '"customers": 1' in ok.stdout
    by_env = run_crm(
        "validate", str(locked), "--json", "--out", str(tmp_path / "o"), env={"CRM_LEDGER_PASSWORD": "s3cret"}
    )
    assert by_env.returncode == 0 and '"customers": 1' in by_env.stdout


def test_empty_workbook_and_empty_file(tmp_path):
    book = openpyxl.Workbook()
    book.save(tmp_path / "empty.xlsx")
    assert_clean_refusal(run_crm("validate", str(tmp_path / "empty.xlsx")), "empty.xlsx", "holds no data")
    (tmp_path / "zero.xlsx").write_bytes(b"")
    assert_clean_refusal(run_crm("validate", str(tmp_path / "zero.xlsx")), "zero.xlsx", "empty")


def test_no_recognisable_header_says_what_was_seen_and_expected(tmp_path):
    path = make_xlsx(tmp_path / "stock.xlsx", {"库存": [["物料号", "品名", "数量"], ["M1", "螺丝", 100]]})
    line = assert_clean_refusal(run_crm("validate", str(path)), "stock.xlsx", "no sheet has a recognisable")
    assert "物料号, 品名, 数量" in line  # what was seen
    assert "客户名称" in line and "[columns.customers]" in line  # what was expected, and the way out


def test_workbook_open_in_excel_is_still_read(tmp_path, today):
    path = make_xlsx(tmp_path / "台账.xlsx", {"S": [CUSTOMER_HEADER, customer_row(1)]})
    (tmp_path / "~$台账.xlsx").write_bytes(b"\x05Alice" + b" " * 48 + b"\x05\x00" + "Alice".encode("utf-16-le"))
    assert len(read_ledger(path).customers) == 1  # an owner file alone changes nothing


def test_open_in_excel_named_only_when_reading_fails(tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    (tmp_path / "~$台账.xlsx").write_bytes(b"\x05Alice" + b" " * 48 + b"\x05\x00" + "Alice".encode("utf-16-le"))
    with pytest.raises(InputError) as caught:
        read_ledger(path)
    assert "open in Excel by Alice" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unknown_option_is_a_usage_error(tmp_path):
    result = run_crm("validate", "--no-such-option")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_bad_workspace_config_is_refused_cleanly(tmp_path):
    (tmp_path / "crm.toml").write_text("[workspace\nlanguage = zh", encoding="utf-8")
    line = assert_clean_refusal(
        run_crm("validate", "x.xlsx", "--workspace", str(tmp_path)), "crm.toml", "not valid TOML"
    )
    assert line


def test_rules_workbook_with_a_wrong_value_names_sheet_and_cell(tmp_path):
    run_crm("init", str(tmp_path / "ws"))
    rules = tmp_path / "ws" / "rules.xlsx"
    book = openpyxl.load_workbook(rules)
    book["拜访周期"]["C2"] = "三个月"
    book.save(rules)
    line = assert_clean_refusal(
        run_crm("validate", "--workspace", str(tmp_path / "ws")), "rules.xlsx", "拜访周期", "C2"
    )
    assert "not a number" in line


def test_csv_that_holds_nothing(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text(",,\n,,\n", encoding="utf-8")
    assert_clean_refusal(run_crm("validate", str(path)), "blank.csv", "no data")


def test_reader_error_is_an_input_error_with_location(tmp_path):
    with pytest.raises(InputError) as caught:
        read_ledger(tmp_path / "missing.xlsx")
    assert caught.value.exit_code == 2 and caught.value.file.endswith("missing.xlsx")


def test_output_folder_that_is_a_file(tmp_path):
    path = make_xlsx(tmp_path / "l.xlsx", {"S": [CUSTOMER_HEADER, customer_row(1)]})
    (tmp_path / "afile").write_text("x")
    assert_clean_refusal(run_crm("validate", str(path), "-o", str(tmp_path / "afile")), "afile", "is a file")


def test_init_and_demo_on_a_file_and_demo_into_a_used_folder(tmp_path):
    (tmp_path / "afile").write_text("x")
    assert_clean_refusal(run_crm("init", str(tmp_path / "afile")), "afile", "is a file")
    assert_clean_refusal(run_crm("demo", str(tmp_path / "afile")), "afile")
    used = tmp_path / "used"
    used.mkdir()
    (used / "我的台账.xlsx").write_bytes(b"keep me")
    assert_clean_refusal(run_crm("demo", str(used)), "not empty", "--force")
    assert (used / "我的台账.xlsx").read_bytes() == b"keep me"


@pytest.mark.parametrize("config", ["[ledgers]\nmain = 5\n", "workspace = 5\n", "[workspace]\nrules = 5\n"])
def test_config_values_of_the_wrong_type(tmp_path, config):
    run_crm("init", str(tmp_path / "ws"))
    (tmp_path / "ws" / "crm.toml").write_text(config, encoding="utf-8")
    assert_clean_refusal(run_crm("validate", "x.xlsx", "--workspace", str(tmp_path / "ws")), "crm.toml")


def _a_folder_this_user_cannot_write(tmp_path: Path) -> Path:
    """A folder made read-only; root writes anywhere, so for root a folder of the kernel's
    read-only sysfs (a real refusal by the system, not a simulation)."""
    import os

    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    return Path("/sys/kernel")


def test_a_read_only_output_folder_is_named_and_nothing_is_recorded(tmp_path):
    import sqlite3

    workspace = tmp_path / "demo"
    assert run_crm("demo", str(workspace), "--today", "2026-11-26").returncode == 0
    out = _a_folder_this_user_cannot_write(tmp_path)
    before = sorted(p.name for p in out.iterdir())

    def runs() -> int:
        with sqlite3.connect(workspace / "state.sqlite") as db:
            return (
                db.execute("select count(*) from runs").fetchone()[0]
                + db.execute("select count(*) from planned_visits").fetchone()[0]
            )

    recorded = runs()
    for args in (["classify"], ["validate"], ["plan"], ["report", "--month", "2026-11"], ["run"]):
        done = run_crm(*args, "--out", str(out), "--today", "2026-11-26", cwd=workspace)
        assert_clean_refusal(done, str(out), "cannot write into the output folder", "--out")
    assert runs() == recorded and sorted(p.name for p in out.iterdir()) == before


def test_a_lost_rules_sheet_names_the_command_that_gives_it_back(tmp_path):
    from toolkit.config import PARAMETERS_SHEET

    workspace = tmp_path / "ws"
    assert run_crm("init", str(workspace)).returncode == 0
    rules = workspace / "rules.xlsx"
    book = openpyxl.load_workbook(rules)
    del book[PARAMETERS_SHEET]
    book.save(rules)
    edited = rules.read_bytes()
    line = assert_clean_refusal(run_crm("validate", "-w", str(workspace)), "rules.xlsx", PARAMETERS_SHEET)
    command = f"crm init --rules-only {workspace}"
    assert command in line and "templates/" not in line
    done = run_crm(*command.split()[1:])
    assert done.returncode == 0 and "rules.default.xlsx" in done.stdout
    assert rules.read_bytes() == edited  # the user's own workbook is never overwritten
    assert PARAMETERS_SHEET in openpyxl.load_workbook(workspace / "rules.default.xlsx").sheetnames
    rules.unlink()
    missing = assert_clean_refusal(run_crm("validate", "-w", str(workspace)), "rules workbook not found")
    assert command in missing
    assert run_crm(*command.split()[1:]).returncode == 0 and run_crm("validate", "-w", str(workspace)).returncode == 0


def test_every_workbook_made_from_a_protected_ledger_is_protected_with_its_password(tmp_path):
    """Information safety: what is made from a password-protected ledger is no easier to open
    than the ledger. Each workbook opens with the ledger's password, and only with it."""
    import json

    locked = encrypted(tmp_path, rows=[[*CUSTOMER_HEADER, "年销售额(万元)"], [*customer_row(1), 800]])
    outputs = []
    for args in WORKBOOK_JOBS:
        done = run_crm(*args, str(locked), "--json", "--out", str(tmp_path / "o"), "--today", "2026-11-26",
                       env={"CRM_LEDGER_PASSWORD": "s3cret"})  # fmt: skip
        assert done.returncode == 0, (args, done.stderr)
        outputs += [p for p in json.loads(done.stdout)["outputs"] if p.endswith(".xlsx")]
    assert len(outputs) >= 4
    for output in outputs:
        assert _opens_only_with(output, "s3cret"), output  # a whole workbook inside
    # and a ledger that is not protected gives workbooks that are not
    plain_ledger = make_xlsx(tmp_path / "plain.xlsx", {"S": [CUSTOMER_HEADER, customer_row(1)]})
    done = run_crm("validate", str(plain_ledger), "--json", "--out", str(tmp_path / "p"), "--today", "2026-11-26")
    assert zipfile.is_zipfile(json.loads(done.stdout)["outputs"][0])


def _opens_only_with(path, password: str) -> list[str]:
    """The sheet names of the encrypted workbook at ``path``, opened with ``password``."""
    import io

    import msoffcrypto

    with open(path, "rb") as handle:
        office = msoffcrypto.OfficeFile(handle)
        assert office.is_encrypted(), path
        office.load_key(password=password)
        plain = io.BytesIO()
        office.decrypt(plain)
    return openpyxl.load_workbook(plain).sheetnames


def test_the_split_group_mail_and_survey_workbooks_of_a_protected_ledger_are_protected_too(tmp_path):
    import json
    import shutil

    rows = [[*CUSTOMER_HEADER, "年销售额(万元)"], [*customer_row(1), 800], [*customer_row(2, 联系电话="12345"), 300]]
    locked = encrypted(tmp_path, rows=rows)
    plain = tmp_path / "plain.xlsx"
    workspace = tmp_path / "ws"
    assert run_crm("init", str(workspace)).returncode == 0
    config = workspace / "crm.toml"
    config.write_text(config.read_text("utf-8") + '\n[mail.owners]\n"张伟" = "zw@example.com"\n', encoding="utf-8")
    env = {"CRM_LEDGER_PASSWORD": "s3cret"}
    common = ["-w", str(workspace), "--json", "--today", "2026-11-26"]
    outputs = []
    for args in WORKBOOK_JOBS:
        done = run_crm(*args, str(locked), "--split", *common, env=env)
        assert done.returncode == 0, (args, done.stderr)
        made = [p for p in json.loads(done.stdout)["outputs"] if p.endswith(".xlsx")]
        assert any(p.endswith("_张伟.xlsx") for p in made), made  # the owner's own workbook
        outputs += made
    group = tmp_path / "group"
    group.mkdir()
    shutil.copy(locked, group / "华东公司.xlsx")
    done = run_crm("report", "--group", str(group), "--month", "2026-11", *common, env=env)
    assert done.returncode == 0, done.stderr
    outputs += json.loads(done.stdout)["outputs"]
    preview = run_crm("remind", "quality", str(locked), "--dry-run", *common, env=env)
    assert preview.returncode == 0, preview.stderr
    outputs += [p for p in json.loads(preview.stdout)["outputs"] if p.endswith(".xlsx")]
    sent = run_crm("remind", "quality", str(locked), *common, env=env)
    assert sent.returncode == 0 and json.loads(sent.stdout)["sent"] == 1, sent.stdout
    index = workspace / "outbox" / "发件箱索引.xlsx"
    outputs.append(str(index))
    assert len(outputs) >= 10
    for output in outputs:
        assert _opens_only_with(output, "s3cret"), output
    # a later run without the password never rewrites the index in the clear
    before = index.read_bytes()
    later = run_crm("remind", "quality", str(plain), "-w", str(workspace), "--today", "2026-12-03")
    assert later.returncode == 0 and "索引未更新" in later.stdout + later.stderr
    assert index.read_bytes() == before

    created = run_crm("survey", "create", str(locked), "--campaign", "2026Q4", *common, env=env)
    assert created.returncode == 0, created.stderr
    refused = run_crm("survey", "results", "--campaign", "2026Q4", "-w", str(workspace), "--today", "2026-11-26")
    assert refused.returncode == 2 and "password-protected" in refused.stderr and "Traceback" not in refused.stderr
    assert "--no-encrypt" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    done = run_crm("survey", "results", "--campaign", "2026Q4", *common, env=env)
    assert done.returncode == 0, done.stderr
    (results,) = json.loads(done.stdout)["outputs"]
    assert "概览" in _opens_only_with(results, "s3cret")
    bare = run_crm("survey", "results", "--campaign", "2026Q4", "--no-encrypt", *common)
    assert bare.returncode == 0 and zipfile.is_zipfile(json.loads(bare.stdout)["outputs"][0])

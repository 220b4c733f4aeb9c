"""crm survey: forms created, filled in, returned, checked and scored."""

from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from conftest import libreoffice_convert, make_xlsx, run_crm
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.config import load_settings
from toolkit.errors import ConfigError, InputError
from toolkit.survey import collect, create_campaign, latest_scores, load_questions, send_forms, survey_results
from toolkit.survey.collect import score_answers
from toolkit.workspace import LEDGER_PATH, init_workspace

TODAY = date(2026, 11, 26)
HEADER = ["客户编号", "客户名称", "联系人", "电子邮箱", "客户经理", "客户经理邮箱", "客户分类", "所属行业", "客户状态"]
CUSTOMERS = [
    ["C001", "甲方科技有限公司", "赵一", "zhao@jia.cn", "张伟", "zhangwei@our.cn", "A", "制造", "正常"],
    ["C002", "乙方软件有限公司", "钱二", "qian@yi.cn", "王芳", "wangfang@our.cn", "B", "软件", "正常"],
    ["C003", "丙方机械有限公司", "孙三", "sun@bing.cn", "张伟", "zhangwei@our.cn", "C", "制造", ""],
    ["C004", "丁方物流有限公司", "李四", "li@ding.cn", "王芳", "wangfang@our.cn", "B", "物流", "流失"],
    ["C005", "戊方食品有限公司", "周五", "zhou@wu.cn", "王芳", "wangfang@our.cn", "B", "软件", "活跃"],
]
SHEET = "满意度调查"
ANSWER_ROWS = range(8, 15)  # q1–q5, nps, comment in column C
FIRST_NAME_CELL = "B3"


def _workspace(folder: Path) -> Path:
    init_workspace(folder, company="测试公司")
    make_xlsx(folder / LEDGER_PATH, {"客户台账": [HEADER, *CUSTOMERS]})
    return folder


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return _workspace(tmp_path / "ws")


@pytest.fixture
def created(ws: Path):
    settings = load_settings(ws)
    return settings, create_campaign(None, settings, campaign="2026Q4", today=TODAY)


def _form(result, customer_id: str) -> Path:
    found = next(f for f in result.created if f.customer_id == customer_id)
    return result.folder / found.file


def _fill(
    form: Path, target: Path, ratings, nps, comment=None, mtime: float | None = None, modified: str | None = None
) -> Path:
    """Fill in a form as a customer would (openpyxl writes the answer cells only) and save it;
    ``modified`` replaces the dcterms:modified openpyxl stamps into docProps/core.xml (now)."""
    book = openpyxl.load_workbook(form)
    sheet = book[SHEET]
    labels = {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "非常不满意"}
    for row, value in zip(ANSWER_ROWS, [*ratings, nps, comment], strict=True):
        sheet.cell(row, 3).value = labels.get(value, value) if row < 13 else value
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    if modified is not None:
        _set_modified(target, modified)
    if mtime is not None:
        os.utime(target, (mtime, mtime))
    return target


def _set_modified(path: Path, modified: str) -> None:
    """Rewrite the workbook's docProps/core.xml last-modified time, as an office suite's save does."""
    with zipfile.ZipFile(path) as archive:
        parts = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts:
            if info.filename == "docProps/core.xml":
                data, n = re.subn(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>%s\g<2>" % modified.encode(), data
                )
                assert n == 1
            archive.writestr(info, data)


def test_form_has_everything_but_the_answer_cells_locked(created):
    _, result = created
    assert [f.customer_id for f in result.created] == ["C001", "C002", "C003", "C005"]
    assert result.skipped == [("丁方物流有限公司", "客户状态为「流失」，不发问卷")]
    book = openpyxl.load_workbook(_form(result, "C001"))
    sheet = book[SHEET]
    assert sheet.protection.sheet is True
    assert sheet[FIRST_NAME_CELL].value == "甲方科技有限公司" and sheet["B4"].value == "2026Q4"
    assert sheet["B8"].value == "您对我公司产品（服务）质量的满意程度 *"
    answer_cells = {f"C{r}" for r in ANSWER_ROWS}
    for row in sheet.iter_rows(min_row=1, max_row=20, max_col=6):
        for cell in row:
            assert cell.protection.locked is (cell.coordinate not in answer_cells), cell.coordinate
    lists = {str(dv.sqref): dv.formula1 for dv in sheet.data_validations.dataValidation}
    assert lists["C8"] == '"非常满意,满意,一般,不满意,非常不满意"'
    assert lists["C13"] == '"0,1,2,3,4,5,6,7,8,9,10"'
    assert "C14" not in lists  # free text
    meta = book["_crm"]
    assert meta.sheet_state == "veryHidden" and meta.protection.sheet is True
    values = {row[0].value: row[1].value for row in meta.iter_rows()}
    assert values["campaign"] == "2026Q4" and values["form"] == "id:C001" and len(values["signature"]) == 64
    secret = (result.folder.parent.parent / ".survey_secret").read_text()
    assert secret.strip() not in (result.folder / result.created[0].file).read_bytes().decode("latin-1")


def test_filled_forms_collected_and_scored_by_hand(created, tmp_path):
    settings, result = created
    inbox = tmp_path / "inbox"
    _fill(_form(result, "C001"), inbox / "a.xlsx", [5, 5, 4, 4, 5], 10, "很好")
    _fill(_form(result, "C002"), inbox / "b.xlsx", [3, 2, 3, 2, 3], 6, "交付太慢")
    _fill(_form(result, "C003"), inbox / "c.xlsx", [4, 4, 4, 4, 4], 8)
    got = collect(inbox, settings, today=date(2026, 12, 5))
    assert (len(got.received), len(got.accepted), got.rejected, got.problems) == (3, 3, [], [])
    scored = survey_results(settings, today=date(2026, 12, 6))
    total = scored.total
    # 15 ratings: 10 are 4 or 5; their sum 23 + 13 + 20 = 56; recommends 10, 6, 8 → 1 promoter, 1 detractor
    assert (total.issued, total.returned, total.rate) == (4, 3, 0.75)
    assert total.csat == pytest.approx(10 / 15, abs=1e-4)
    assert total.mean == pytest.approx(56 / 15, abs=1e-4)
    assert (total.promoters, total.passives, total.detractors, total.nps) == (1, 1, 1, 0.0)
    q2 = next(q for q in scored.questions if q.question.key == "q2")
    assert (q2.answers, q2.distribution) == (3, {5: 1, 4: 1, 3: 0, 2: 1, 1: 0})  # 5, 2, 4
    assert q2.mean == pytest.approx(11 / 3, abs=1e-4) and q2.csat == pytest.approx(2 / 3, abs=1e-4)
    owners = dict(scored.groups["owner"])
    assert (owners["张伟"].issued, owners["张伟"].returned, owners["张伟"].nps) == (
        2,
        2,
        50.0,
    )  # a promoter and a passive
    assert (owners["王芳"].issued, owners["王芳"].returned, owners["王芳"].nps) == (2, 1, -100.0)
    low = [(s.form.owner, s.form.name, s.question.key, s.value) for s in scored.low]
    assert low == [
        ("王芳", "乙方软件有限公司", "q2", 2),
        ("王芳", "乙方软件有限公司", "q4", 2),
        ("王芳", "乙方软件有限公司", "nps", 6),
    ]
    assert all(s.comment == "交付太慢" for s in scored.low)

    book = openpyxl.load_workbook(scored.outputs[0])
    assert book.sheetnames[:5] == ["概览", "按题目", "按分类", "按客户经理", "按行业"]
    assert {"低分跟进", "跟进-王芳", "答卷明细", "未回复", "退回与历史"} <= set(book.sheetnames)
    kpis = {row[0].value: row[1].value for row in book["概览"].iter_rows(min_row=5, max_row=15)}
    assert kpis["发出问卷"] == 4 and kpis["收回问卷"] == 3 and kpis["回复率"] == 0.75
    assert kpis["满意率（CSAT）"] == pytest.approx(0.6667, abs=1e-4) and kpis["净推荐值（NPS）"] == 0
    assert book["概览"]._charts, "the overview has charts"
    follow = [[c.value for c in r] for r in book["跟进-王芳"].iter_rows(min_row=2)]
    assert [r[1] for r in follow] == ["乙方软件有限公司"] * 3 and follow[2][5] == "6" and follow[0][5] == "2 不满意"
    unanswered = [[c.value for c in r] for r in book["未回复"].iter_rows(min_row=2)]
    assert [r[1] for r in unanswered] == ["戊方食品有限公司"]
    assert book["概览"].freeze_panes is None and book["答卷明细"].freeze_panes == "A2"
    assert book["答卷明细"].auto_filter.ref

    scores = latest_scores(settings)
    assert scores["id:C001"].score == pytest.approx(4.6) and scores["id:C001"].nps == 10
    assert scores["id:C002"].score == pytest.approx(2.6) and "id:C005" not in scores


def test_score_answers_reports_missing_and_out_of_range():
    questions, _ = load_questions(load_settings().rules)
    answers, mean, nps, problems = score_answers(questions, ["满意", "", "很好", 5.0, "2", 11, "  "])
    assert answers == {"q1": 4, "q4": 5, "q5": 2}
    assert mean == pytest.approx(11 / 3, abs=1e-4) and nps is None
    assert problems == [
        {"question": "q2", "problem": "missing", "value": None},
        {"question": "q3", "problem": "out_of_range", "value": "很好"},
        {"question": "nps", "problem": "out_of_range", "value": 11},
    ]


def test_incomplete_form_is_accepted_with_its_problems_listed(created, tmp_path):
    settings, result = created
    inbox = tmp_path / "inbox"
    _fill(_form(result, "C001"), inbox / "a.xlsx", [5, None, "很好", 4, 4], 11)
    got = collect(inbox, settings, today=TODAY)
    assert len(got.accepted) == 1
    assert [(p["question"], p["problem"], p["value"]) for p in got.problems] == [
        ("q2", "missing", None),
        ("q3", "out_of_range", "很好"),
        ("nps", "out_of_range", 11),
    ]
    assert got.accepted[0].answers == {"q1": 5, "q4": 4, "q5": 4}


@pytest.mark.libreoffice
def test_form_saved_again_by_libreoffice_still_verifies(created, tmp_path):
    settings, result = created
    filled = _fill(_form(result, "C002"), tmp_path / "filled" / "form.xlsx", [4, 4, 5, 3, 4], 9, "好")
    resaved = libreoffice_convert(filled, "xlsx", tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(resaved, inbox / "returned.xlsx")
    got = collect(inbox, settings, today=TODAY)
    assert got.rejected == [] and len(got.accepted) == 1
    assert got.accepted[0].answers == {"q1": 4, "q2": 4, "q3": 5, "q4": 3, "q5": 4, "nps": 9, "comment": "好"}
    other = _fill(_form(result, "C003"), tmp_path / "filled" / "other.xlsx", [2, 3, 2, 3, 2], 5)
    shutil.copy(libreoffice_convert(other, "ods", tmp_path), inbox / "saved-as.ods")  # another format
    again = collect(inbox, settings, today=TODAY)
    assert again.rejected == [] and [r.answers["nps"] for r in again.accepted] == [5]
    book = openpyxl.load_workbook(resaved)  # protection and the hidden sheet survive the round trip
    assert book[SHEET].protection.sheet is True and book["_crm"].sheet_state in ("veryHidden", "hidden")


def test_tampered_foreign_copied_unreadable_and_other_files_are_each_reported(created, tmp_path):
    settings, result = created
    inbox = tmp_path / "inbox"
    question = _fill(_form(result, "C001"), inbox / "question.xlsx", [5, 5, 5, 5, 5], 10)
    book = openpyxl.load_workbook(question)
    book[SHEET]["B9"] = "您对我公司价格的满意程度"
    book.save(question)
    name = _fill(_form(result, "C002"), inbox / "name.xlsx", [1, 1, 1, 1, 1], 0)
    book = openpyxl.load_workbook(name)
    book[SHEET][FIRST_NAME_CELL] = "丙方机械有限公司"
    book.save(name)
    other = _workspace(tmp_path / "other")
    foreign = create_campaign(None, load_settings(other), campaign="2026Q4", today=TODAY)
    _fill(_form(foreign, "C003"), inbox / "foreign.xlsx", [3, 3, 3, 3, 3], 7)
    own_c5 = _form(result, "C005").name
    _fill(_form(result, "C003"), inbox / own_c5, [4, 4, 4, 4, 4], 8)  # C003's form under C005's file name
    (inbox / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    make_xlsx(inbox / "plain.xlsx", {"Sheet1": [["客户名称", "满意度"], ["甲", 5]]})
    (inbox / "readme.txt").write_text("notes")
    _fill(_form(result, "C005"), inbox / "empty.xlsx", [None] * 5, None)

    got = collect(inbox, settings, today=TODAY)
    reasons = {r.file: (r.reason, r.detail) for r in got.rejected}
    assert reasons["question.xlsx"] == ("tampered", "甲方科技有限公司: B9")
    assert reasons["name.xlsx"] == ("tampered", "乙方软件有限公司: B3")
    assert reasons["foreign.xlsx"][0] == "foreign"
    assert reasons[own_c5] == ("wrong_customer", "戊方食品有限公司 ≠ 丙方机械有限公司")
    assert reasons["broken.xlsx"][0] == "unreadable"
    assert reasons["plain.xlsx"] == ("not_a_form", "")
    assert reasons["empty.xlsx"] == ("empty", "戊方食品有限公司")
    assert got.accepted == [] and got.ignored == ["readme.txt"]
    payload = got.as_json()
    assert {r["file"] for r in payload["rejected"]} == set(reasons) and payload["received"] == 7
    assert "答题区以外" in next(r["message"] for r in payload["rejected"] if r["file"] == "question.xlsx")


def test_second_return_latest_wins_and_earlier_is_kept_as_history(created, tmp_path):
    settings, result = created
    inbox = tmp_path / "inbox"
    form = _form(result, "C001")
    _fill(form, inbox / "first.xlsx", [2, 2, 2, 2, 2], 3, mtime=1_790_000_000, modified="2026-09-21T14:00:00Z")
    _fill(form, inbox / "second.xlsx", [5, 5, 5, 5, 5], 10, mtime=1_790_100_000, modified="2026-09-22T17:00:00Z")
    got = collect(inbox, settings, today=TODAY)
    assert len(got.accepted) == 2
    assert got.duplicates == [
        {"file": "second.xlsx", "customer": "甲方科技有限公司", "earlier": "first.xlsx", "kept": "second.xlsx"}
    ]
    # an older copy found in a later run does not replace the newer one
    later = tmp_path / "later"
    _fill(form, later / "old.xlsx", [1, 1, 1, 1, 1], 0, mtime=1_789_000_000, modified="2026-09-10T08:00:00Z")
    again = collect(later, settings, today=TODAY)
    assert again.duplicates[0]["kept"] == "second.xlsx"
    scored = survey_results(settings, today=TODAY)
    assert scored.total.returned == 1 and scored.returns["id:C001"].score == 5
    assert sorted(r.file for r in scored.history) == ["first.xlsx", "old.xlsx"]
    assert latest_scores(settings)["id:C001"].score == 5


def test_collecting_the_same_folder_twice_counts_nothing_twice(created, tmp_path):
    settings, result = created
    inbox = tmp_path / "inbox"
    _fill(_form(result, "C001"), inbox / "a.xlsx", [5, 5, 5, 5, 5], 10)
    shutil.copy(inbox / "a.xlsx", inbox / "a - copy.xlsx")  # the same content twice
    (inbox / "broken.xlsx").write_bytes(b"nothing")
    first = collect(inbox, settings, today=TODAY)
    assert (len(first.accepted), len(first.rejected), len(first.already_collected)) == (1, 1, 1)
    second = collect(inbox, settings, today=TODAY)
    assert (len(second.received), len(second.accepted), second.rejected) == (0, 0, [])
    assert len(second.already_collected) == 3
    assert survey_results(settings, today=TODAY).total.returned == 1


def test_create_again_adds_only_new_customers(created, ws):
    settings, result = created
    make_xlsx(
        ws / LEDGER_PATH,
        {
            "客户台账": [
                HEADER,
                *CUSTOMERS,
                ["C006", "己方新客户有限公司", "吴六", "wu@ji.cn", "张伟", "", "C", "制造", ""],
            ]
        },
    )
    again = create_campaign(None, settings, campaign="2026Q4", today=date(2026, 12, 1))
    assert [f.customer_id for f in again.created] == ["C006"] and again.existing == 4
    assert "沿用当时的题目" in again.notes[0]


def test_bad_campaign_name_and_bad_question_type_are_refused(ws):
    settings = load_settings(ws)
    with pytest.raises(InputError, match="cannot be used"):
        create_campaign(None, settings, campaign="a/b", today=TODAY)
    book = openpyxl.load_workbook(ws / "rules.xlsx")
    book["问卷"]["C3"] = "打分"
    book.save(ws / "rules.xlsx")
    with pytest.raises(ConfigError, match="问卷.*C3.*打分"):
        create_campaign(None, load_settings(ws), campaign="2026Q4", today=TODAY)


def test_cli_create_collect_results_json_and_english(created, ws, tmp_path):
    _, result = created
    runner = CliRunner()
    inbox = tmp_path / "inbox"
    _fill(_form(result, "C001"), inbox / "a.xlsx", [5, 4, 5, 4, 5], 9)
    (inbox / "bad.xlsx").write_bytes(b"x")
    out = runner.invoke(app, ["survey", "collect", str(inbox), "-w", str(ws), "--json", "--today", "2026-12-01"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert (data["received"], data["accepted"]) == (2, 1)
    assert data["rejected"][0]["file"] == "bad.xlsx" and data["rejected"][0]["reason"] == "unreadable"
    out = runner.invoke(app, ["survey", "results", "-w", str(ws), "--json", "--lang", "en", "--today", "2026-12-01"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert (data["accepted"], data["issued"], data["nps"], data["csat"]) == (1, 4, 100.0, 1.0)
    assert len(data["rejected"]) == 1 and data["outputs"][0].endswith("survey_results_2026Q4_20261201.xlsx")
    assert openpyxl.load_workbook(data["outputs"][0]).sheetnames[:3] == ["Overview", "By question", "By class"]
    refused = run_crm("survey", "results", "-w", str(ws), "--campaign", "nope")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == "error: no survey campaign 'nope' — campaigns: 2026Q4\n"


def test_send_once_through_the_outbox_then_remind_after_n_days_at_most_m_times(created, ws, tmp_path):
    from email import message_from_bytes, policy

    from toolkit.survey.mailing import remind_forms, send_forms

    settings, result = created
    preview = send_forms(settings, today=TODAY, dry_run=True)
    assert (preview.delivery.messages, preview.delivery.sent) == (4, 0) and not (ws / "outbox").exists()
    sent = send_forms(settings, today=TODAY)
    assert (sent.delivery.messages, sent.delivery.sent, sent.delivery.failed) == (4, 4, [])
    again = send_forms(settings, today=date(2026, 11, 27)).as_json()
    assert (again["kind"], again["sent"], again["already_sent"], again["failed"]) == ("survey", 0, 4, [])
    emails = sorted((ws / "outbox" / "survey" / "2026Q4").glob("*.eml"))
    assert len(emails) == 4
    mail = message_from_bytes(next(p for p in emails if "zhao" in p.name).read_bytes(), policy=policy.default)
    assert mail["To"].addresses[0].addr_spec == "zhao@jia.cn" and "zhangwei@our.cn" in mail["Cc"]
    assert mail["Subject"] == "测试公司客户满意度调查（2026Q4）" and "赵一" in mail.get_body(("plain",)).get_content()
    attachment = next(mail.iter_attachments())
    assert attachment.get_filename() == _form(result, "C001").name
    assert attachment.get_content() == _form(result, "C001").read_bytes()

    inbox = tmp_path / "inbox"
    _fill(_form(result, "C001"), inbox / "a.xlsx", [5, 5, 5, 5, 5], 10)
    collect(inbox, settings, today=date(2026, 11, 30))
    assert remind_forms(settings, today=date(2026, 12, 2)).delivery.messages == 0  # 6 days: not yet
    first = remind_forms(settings, today=date(2026, 12, 3))  # 7 days after the form
    assert (first.delivery.messages, first.delivery.sent) == (3, 3)  # C001 answered
    assert remind_forms(settings, today=date(2026, 12, 5)).delivery.messages == 0  # 2 days after the reminder
    second = remind_forms(settings, today=date(2026, 12, 10))
    assert second.delivery.sent == 3
    third = remind_forms(settings, today=date(2026, 12, 30)).as_json()
    assert third["messages"] == 0 and [s["reason"] for s in third["skipped"]] == ["已催办 2 次，达到上限"] * 3
    assert len(list((ws / "outbox" / "survey_reminder").rglob("*.eml"))) == 6
    unanswered = openpyxl.load_workbook(survey_results(settings, today=TODAY).outputs[0])["未回复"]
    assert [(r[1].value, r[5].value, r[6].value) for r in unanswered.iter_rows(min_row=2)] == [
        ("丙方机械有限公司", "2026-11-26", 2),  # by owner: 张伟, then 王芳
        ("乙方软件有限公司", "2026-11-26", 2),
        ("戊方食品有限公司", "2026-11-26", 2),
    ]


def test_a_customer_without_an_email_is_reported_not_sent(tmp_path):
    ws = tmp_path / "ws"
    init_workspace(ws, company="测试公司")
    make_xlsx(
        ws / LEDGER_PATH,
        {"客户台账": [HEADER, CUSTOMERS[0], ["C009", "无邮箱有限公司", "郑九", "", "张伟", "", "B", "", ""]]},
    )
    settings = load_settings(ws)
    create_campaign(None, settings, campaign="2026Q4", today=TODAY)
    sent = send_forms_json(settings)
    assert sent["sent"] == 1 and sent["skipped"] == [
        {"customer": "无邮箱有限公司", "reason": "台账中没有这位客户的电子邮箱，问卷需另行转交"}
    ]


def send_forms_json(settings):
    from toolkit.survey.mailing import send_forms

    return send_forms(settings, today=TODAY).as_json()


def test_group_campaign_scores_each_subsidiary(tmp_path):
    ws = tmp_path / "ws"
    init_workspace(ws, company="集团")
    group = tmp_path / "group"
    group.mkdir()
    make_xlsx(group / "华东.xlsx", {"客户台账": [HEADER, CUSTOMERS[0], CUSTOMERS[1]]})
    make_xlsx(group / "华南.xlsx", {"客户台账": [HEADER, CUSTOMERS[0]]})  # the same ID in another subsidiary
    settings = load_settings(ws)
    result = create_campaign(None, settings, campaign="2026Q4", today=TODAY, group=group)
    assert sorted(f.form_id for f in result.created) == ["华东/id:C001", "华东/id:C002", "华南/id:C001"]
    assert len({f.file for f in result.created}) == 3  # same-name customers get distinct files
    south = next(f for f in result.created if f.subsidiary == "华南")
    _fill(result.folder / south.file, tmp_path / "inbox" / "s.xlsx", [2, 2, 2, 2, 2], 3)
    collect(tmp_path / "inbox", settings, today=TODAY)
    groups = dict(survey_results(settings, today=TODAY).groups["subsidiary"])
    assert (groups["华南"].returned, groups["华南"].mean, groups["华东"].returned) == (1, 2, 0)
    assert latest_scores(settings, group / "华南.xlsx")["id:C001"].score == 2
    assert latest_scores(settings, group / "华东.xlsx") == {}


def test_collected_scores_feed_the_satisfaction_risk_of_classify(created, ws):
    from toolkit.classify import classify

    settings, result = created
    inbox = ws / "inbox"
    _fill(_form(result, "C001"), inbox / "a.xlsx", [5, 5, 4, 4, 5], 10)
    _fill(_form(result, "C002"), inbox / "b.xlsx", [3, 2, 3, 2, 3], 6)
    collect(inbox, settings, today=date(2026, 12, 5))
    classified = classify(
        ws / LEDGER_PATH, settings, today=date(2026, 12, 6), write=False, record=False, typed_fallback=True
    )
    tags = {c.customer_id: {t.code: t.reason for t in c.tags} for c in classified.customers}
    assert "satisfaction_low" in tags["C002"] and "2.6" in tags["C002"]["satisfaction_low"]
    assert "satisfaction_low" not in tags["C001"]
    assert any("2026Q4" in note for note in classified.notes)  # said where the scores came from
    assert classified.as_json()["notes"] == classified.notes


def test_the_latest_return_is_decided_by_the_workbooks_own_saved_time_not_the_files(created, tmp_path):
    from datetime import datetime, timezone

    settings, result = created
    inbox = tmp_path / "inbox"
    form = _form(result, "C002")
    # the customer saved the low answers first and the corrected ones two hours later, but the
    # assistant saved the attachments the other way round: the file times say the opposite
    _fill(form, inbox / "reply-1.xlsx", [5, 5, 5, 5, 5], 9, mtime=1_795_000_000, modified="2026-11-20T10:00:00Z")
    _fill(form, inbox / "reply-2.xlsx", [2, 2, 2, 2, 2], 4, mtime=1_795_100_000, modified="2026-11-20T08:00:00Z")
    got = collect(inbox, settings, today=TODAY)
    assert got.duplicates == [
        {"file": "reply-2.xlsx", "customer": "乙方软件有限公司", "earlier": "reply-1.xlsx", "kept": "reply-1.xlsx"}
    ]
    saved = datetime(2026, 11, 20, 10, tzinfo=timezone.utc).astimezone().replace(tzinfo=None)
    scored = survey_results(settings, today=TODAY)
    assert scored.returns["id:C002"].file == "reply-1.xlsx" and scored.returns["id:C002"].score == 5
    assert scored.returns["id:C002"].returned == saved.isoformat()
    assert [r.file for r in scored.history] == ["reply-2.xlsx"]
    assert latest_scores(settings)["id:C002"].nps == 9


@pytest.mark.parametrize(
    "modified", ["", "2026-11-20", "not a date", "1601-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "2026-13-01T00:00:00Z"]
)
def test_a_missing_or_implausible_workbook_time_falls_back_to_the_file_time(created, tmp_path, modified):
    from datetime import datetime

    from toolkit.survey.collect import saved_time, workbook_modified

    _, result = created
    path = _fill(_form(result, "C001"), tmp_path / "a.xlsx", [4] * 5, 8, mtime=1_795_000_000, modified=modified)
    assert workbook_modified(path) is None
    assert saved_time(path) == datetime.fromtimestamp(1_795_000_000).isoformat(timespec="seconds")
    (tmp_path / "b.xls").write_bytes(b"\xd0\xcf\x11\xe0 an old binary workbook")
    assert workbook_modified(tmp_path / "b.xls") is None


def test_refused_files_are_listed_only_in_the_results_of_the_campaign_they_were_refused_for(created, ws, tmp_path):
    import sqlite3

    settings, result = created
    old_inbox = tmp_path / "old"
    (old_inbox).mkdir()
    (old_inbox / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    assert [r.campaign for r in collect(old_inbox, settings, today=date(2026, 12, 1)).rejected] == ["2026Q4"]
    create_campaign(None, settings, campaign="2027Q1", today=date(2027, 1, 5))
    runner = CliRunner()

    def results(*extra: str) -> dict:
        out = runner.invoke(app, ["survey", "results", "-w", str(ws), "--json", "--today", "2027-01-06", *extra])
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout)

    fresh = results()
    assert (fresh["campaign"], fresh["rejected"], fresh["received"]) == ("2027Q1", [], 0)
    book = openpyxl.load_workbook(fresh["outputs"][0])
    kpis = {row[0].value: row[1].value for row in book["概览"].iter_rows(min_row=5, max_row=15)}
    assert kpis["退回的文件"] == 0 and book["退回与历史"].max_row == 1  # the header only

    # a new run while 2027Q1 is the latest: a 2026Q4 form refused counts for 2026Q4 (the campaign
    # it names), an unreadable file for the latest, a file refused under --campaign for that one
    inbox = tmp_path / "inbox"
    empty = _fill(_form(result, "C005"), inbox / "empty.xlsx", [None] * 5, None)
    (inbox / "scan.xlsx").write_bytes(b"not a workbook at all")
    other = tmp_path / "other"
    other.mkdir()
    (other / "garbled.xlsx").write_bytes(b"garbled")
    got = collect(inbox, settings, today=date(2027, 1, 6))
    assert {r.file: r.campaign for r in got.rejected} == {"empty.xlsx": "2026Q4", "scan.xlsx": "2027Q1"}
    assert [r.campaign for r in collect(other, settings, today=date(2027, 1, 6), campaign="2026Q4").rejected] == [
        "2026Q4"
    ]
    # a file refused before collect recorded the campaign counts for the latest one as of that day
    with sqlite3.connect(ws / "state.sqlite") as db:
        db.execute(
            "INSERT INTO survey_files VALUES ('legacy', 'legacy.xlsx', 'rejected', 'empty', '', '', '', '2026-12-02')"
        )
    db.close()

    fresh = results()
    assert [(r["file"], r["reason"]) for r in fresh["rejected"]] == [("scan.xlsx", "unreadable")]
    book = openpyxl.load_workbook(fresh["outputs"][0])
    kpis = {row[0].value: row[1].value for row in book["概览"].iter_rows(min_row=5, max_row=15)}
    assert kpis["退回的文件"] == 1
    assert [row[0] for row in book["退回与历史"].iter_rows(min_row=2, values_only=True)] == ["scan.xlsx"]
    older = results("--campaign", "2026Q4")
    assert [r["file"] for r in older["rejected"]] == ["broken.xlsx", empty.name, "garbled.xlsx", "legacy.xlsx"]


def test_cli_collect_names_ignored_files_and_prints_whole_numbers_as_integers(created, ws, tmp_path):
    _, result = created
    inbox = tmp_path / "inbox"
    _fill(_form(result, "C001"), inbox / "a.xlsx", [5, 7, 4, 4, 4], 11)  # typed past the drop-downs
    (inbox / "readme.txt").write_text("notes")
    (inbox / "reply.eml").write_text("From: x")
    out = CliRunner().invoke(app, ["survey", "collect", str(inbox), "-w", str(ws), "--today", "2026-12-01"])
    assert out.exit_code == 0, out.output
    text = " ".join(out.stdout.split())
    assert "回答不在可选范围内 (7)" in text and "回答不在可选范围内 (11)" in text and ".0)" not in text
    assert "另有 2 个文件不是工作簿，未读取：readme.txt、reply.eml" in text
    assert [(p["question"], p["value"]) for p in collect(inbox, load_settings(ws), today=TODAY).problems] == []
    scored = survey_results(load_settings(ws), today=TODAY)
    assert [(p["question"], p["value"]) for p in scored.returns["id:C001"].problems] == [("q2", 7), ("nps", 11)]
    assert all(type(p["value"]) is int for p in scored.returns["id:C001"].problems)
    details = openpyxl.load_workbook(scored.outputs[0])["答卷明细"]
    problems = [row[-1] for row in details.iter_rows(min_row=2, values_only=True)]
    assert problems == ["q2 回答不在可选范围内 (7)；nps 回答不在可选范围内 (11)"]


def test_cli_send_dry_run_says_so_sends_nothing_and_names_its_preview(created, ws):
    from toolkit.survey.commands import DryRunOpt

    assert "preview workbook" in DryRunOpt.help and "outbox" not in DryRunOpt.help
    # an as-of day in the past (not the clock's day): the run's time is 09:00 of it
    out = CliRunner().invoke(app, ["survey", "send", "-w", str(ws), "--dry-run", "--today", "2026-11-25"])
    assert out.exit_code == 0, out.output
    text = " ".join(out.stdout.split())
    assert "试运行，未发送任何邮件，也未记为已发" in text and "4 封邮件中将发送 4" in text
    preview = ws / "out" / "邮件预览_survey_20261125-0900.xlsx"
    assert preview.is_file() and str(preview.name) in text
    assert not (ws / "outbox").exists()
    sent = CliRunner().invoke(app, ["survey", "send", "-w", str(ws), "--today", "2026-11-25"])
    assert "本次发送 4" in " ".join(sent.stdout.split()) and "试运行" not in sent.stdout


def test_send_through_the_smtp_test_server_each_customer_gets_exactly_their_own_form(tmp_path, monkeypatch):
    from mailserver import PASSWORD, start_server

    from toolkit.survey.mailing import send_forms

    monkeypatch.setenv("CRM_SMTP_PASSWORD", PASSWORD)
    server = start_server(tmp_path, "starttls")
    try:
        ws = _workspace(tmp_path / "ws")
        config = ws / "crm.toml"
        config.write_text(config.read_text(encoding="utf-8") + "\n" + server.mail_config(), encoding="utf-8")
        settings = load_settings(ws)
        created = create_campaign(None, settings, campaign="2026Q4", today=TODAY)
        sent = send_forms(settings, today=TODAY)
        assert (sent.delivery.backend, sent.delivery.sent, sent.delivery.failed) == ("smtp", 4, [])
        forms = {f.email: f for f in created.created}
        mails = server.handler.messages()
        assert sorted(m["To"].addresses[0].addr_spec for m in mails) == sorted(forms)
        for mail, (_, rcpt_tos, raw) in zip(mails, server.handler.received, strict=True):
            form = forms[mail["To"].addresses[0].addr_spec]
            assert sorted(rcpt_tos) == sorted([form.email, form.owner_email])  # the owner in copy
            assert mail["Subject"] == "测试公司客户满意度调查（2026Q4）"
            assert form.contact in mail.get_body(("plain",)).get_content()
            (attachment,) = list(mail.iter_attachments())
            assert attachment.get_filename() == form.file == f"2026Q4_{form.name}.xlsx"
            assert attachment.get_payload(decode=True) == (created.folder / form.file).read_bytes()
            assert raw.isascii() and b"=?utf-8?" in raw  # the Chinese subject and name travel encoded
        again = send_forms(settings, today=date(2026, 11, 27))
        assert (again.delivery.sent, again.delivery.already_sent) == (0, 4)
        assert len(server.handler.received) == 4
    finally:
        server.controller.stop()


def test_a_workspace_moved_to_another_folder_keeps_its_survey(created, ws, tmp_path):
    """The state names the ledger and the forms folder inside the workspace, not by absolute path
    (the shared PC is replaced, the folder copied to the new one)."""
    import shutil

    from toolkit.classify import classify

    settings, result = created
    _fill(_form(result, "C002"), ws / "inbox" / "b.xlsx", [3, 2, 3, 2, 3], 6)
    collect(ws / "inbox", settings, today=date(2026, 12, 5))
    classify(ws / LEDGER_PATH, settings, today=date(2026, 12, 5), write=False, typed_fallback=True)
    moved = Path(shutil.copytree(ws, tmp_path / "新电脑" / "ws"))
    shutil.rmtree(ws)
    settings = load_settings(moved)
    assert latest_scores(settings, moved / LEDGER_PATH)["id:C002"].score == pytest.approx(2.6)
    again = classify(moved / LEDGER_PATH, settings, today=date(2026, 12, 6), write=False, typed_fallback=True)
    assert again.previous is not None  # the class history followed the workspace
    sent = send_forms(settings, today=date(2026, 12, 6), campaign="2026Q4")
    assert sent.delivery.sent == 4  # the forms were found in the moved folder

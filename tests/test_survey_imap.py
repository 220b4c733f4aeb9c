"""crm survey collect --imap against a real IMAP server on loopback (dovecot, started here)."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from conftest import TODAY, make_xlsx, run_crm
from imapserver import PASSWORD, USER, dovecot, start_imap_server

from toolkit.config import load_settings
from toolkit.survey import create_campaign
from toolkit.survey.forms import META_SHEET
from toolkit.workspace import LEDGER_PATH, init_workspace

HEADER = ["客户编号", "客户名称", "联系人", "电子邮箱", "客户经理", "客户经理邮箱", "客户分类"]
CUSTOMERS = [
    ["C001", "甲方科技有限公司", "赵一", "zhao@jia.cn", "张伟", "zhangwei@our.cn", "A"],
    ["C002", "乙方软件有限公司", "钱二", "qian@yi.cn", "王芳", "wangfang@our.cn", "B"],
    ["C003", "丙方机械有限公司", "孙三", "sun@bing.cn", "张伟", "zhangwei@our.cn", "C"],
]


@pytest.fixture
def imap_server():
    if dovecot() is None:
        pytest.skip("dovecot (Debian's dovecot-imapd) is not installed; .ci/run installs it")
    server = start_imap_server()
    yield server
    server.stop()


def filled(form: Path, mood: int) -> bytes:
    """The form as a customer sends it back: every answer cell filled, saved by openpyxl."""
    book = openpyxl.load_workbook(form)
    refs = dict((r[0].value, r[1].value) for r in book[META_SHEET].iter_rows())["answers"].split(",")
    sheet = next(ws for ws in book.worksheets if ws.title != META_SHEET)
    labels = {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "非常不满意"}
    for ref in refs[:-2]:
        sheet[ref] = labels[mood]
    sheet[refs[-2]] = mood * 2
    saved = form.with_name(f"filled-{form.name}")
    book.save(saved)
    return saved.read_bytes()


def reply(subject: str, attachments: list[tuple[str, bytes]]) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "zhao@jia.cn", USER, subject
    message.set_content("问卷已填写，请查收。")
    for name, data in attachments:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message.as_bytes()


def test_collect_fetches_the_forms_from_unread_replies_once(tmp_path, imap_server, monkeypatch):
    from imap_tools import MailBoxUnencrypted

    ws = tmp_path / "ws"
    init_workspace(ws)
    make_xlsx(ws / LEDGER_PATH, {"客户台账": [HEADER, *CUSTOMERS]})
    (ws / "crm.toml").write_text((ws / "crm.toml").read_text(encoding="utf-8") + imap_server.config(), encoding="utf-8")
    created = create_campaign(None, load_settings(ws), campaign="2026Q4", today=TODAY)
    forms = {f.customer_id: created.folder / f.file for f in created.created}
    returned = {"C001": filled(forms["C001"], 5), "C002": filled(forms["C002"], 2)}
    with MailBoxUnencrypted(imap_server.host, imap_server.port).login(USER, PASSWORD) as box:
        box.append(reply("回复：满意度调查", [(forms["C001"].name, returned["C001"])]), "INBOX")
        box.append(reply("Re: 问卷", [(forms["C002"].name, returned["C002"])]), "INBOX")
        box.append(reply("谢谢", []), "INBOX")  # no attachment: left alone
        seen = reply("已处理", [(forms["C003"].name, filled(forms["C003"], 4))])
        box.append(seen, "INBOX", flag_set=["\\Seen"])  # read already: someone handled it
    monkeypatch.setenv("CRM_IMAP_PASSWORD", PASSWORD)
    inbox = ws / "问卷回收"
    args = ("survey", "collect", str(inbox), "--imap", "--workspace", str(ws), "--today", "2026-12-05", "--json")
    first = run_crm(*args)
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["imap"]["messages"] == 2 and len(data["imap"]["saved"]) == 2
    assert sorted(Path(p).read_bytes() for p in data["imap"]["saved"]) == sorted(returned.values())
    assert {Path(p).name.split("_", 1)[1] for p in data["imap"]["saved"]} == {forms["C001"].name, forms["C002"].name}
    assert data["accepted"] == 2 and not data["rejected"]
    again = json.loads(run_crm(*args).stdout)
    assert again["imap"] == {"messages": 0, "saved": []} and again["accepted"] == 0  # marked read, nothing twice
    with MailBoxUnencrypted(imap_server.host, imap_server.port).login(USER, PASSWORD) as box:
        unread = [m.subject for m in box.fetch(mark_seen=False) if "\\Seen" not in m.flags]
    assert unread == ["谢谢"]


def test_collect_imap_with_a_wrong_password_is_one_line(tmp_path, imap_server, monkeypatch):
    ws = tmp_path / "ws"
    init_workspace(ws)
    make_xlsx(ws / LEDGER_PATH, {"客户台账": [HEADER, *CUSTOMERS]})
    (ws / "crm.toml").write_text((ws / "crm.toml").read_text(encoding="utf-8") + imap_server.config(), encoding="utf-8")
    create_campaign(None, load_settings(ws), campaign="2026Q4", today=TODAY)
    monkeypatch.setenv("CRM_IMAP_PASSWORD", "wrong-password")
    done = run_crm("survey", "collect", str(ws / "in"), "--imap", "--workspace", str(ws))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert (
        len(lines) == 1 and "refused the login of crm@example.com" in lines[0] and "wrong-password" not in done.stderr
    )


def test_collect_imap_without_a_mailbox_says_how_to_name_one(tmp_path):
    ws = tmp_path / "ws"
    init_workspace(ws)
    done = run_crm("survey", "collect", str(ws / "in"), "--imap", "--workspace", str(ws))
    assert done.returncode == 2 and "[survey.imap]" in done.stderr and len(done.stderr.strip().splitlines()) == 1

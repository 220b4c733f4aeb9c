"""The mail layer: MIME encoding, the outbox, SMTP through yagmail against a real aiosmtpd
server on loopback (TLS, AUTH, faults), and at-most-once delivery across reruns."""

from __future__ import annotations

import os
import re
from datetime import datetime
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from pathlib import Path

import openpyxl
import pytest
from conftest import run_crm
from mailserver import PASSWORD, USER, start_server

from toolkit.config import load_settings, templates_dir
from toolkit.errors import ConfigError
from toolkit.mail import Attachment, Message, deliver, mail_config, render, sent_log
from toolkit.workspace import init_workspace

NOW = datetime(2026, 11, 26, 9, 30)
# aiosmtpd warns that AUTH without STARTTLS is unsafe: over SSL-on-connect it cannot see the TLS
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workspace(folder: Path, mail: str) -> Path:
    init_workspace(folder, company="星海示范集团")
    config = folder / "crm.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n" + mail, encoding="utf-8")
    return folder


def message(n: int, *, to: str | None = None, attachments: list[Attachment] | None = None) -> Message:
    owner = f"经理{n}"
    return Message(
        kind="visits",
        period="2026-W48",
        to=[to or f"owner{n}@example.com"],
        cc=[],
        subject=f"【拜访提醒】{owner}：本周计划拜访 {n} 次",
        html=f"<p>{owner}，您好：</p><p>北京华信科技有限公司 {n}</p>",
        text=f"{owner}，您好：\n北京华信科技有限公司 {n}\n",
        attachments=attachments or [],
        customers=["北京华信科技有限公司"],
        recipient_name=owner,
    )


@pytest.fixture
def password(monkeypatch):
    monkeypatch.setenv("CRM_SMTP_PASSWORD", PASSWORD)


@pytest.fixture
def ssl_server(tmp_path):
    server = start_server(tmp_path, "ssl")
    yield server
    server.controller.stop()


@pytest.fixture
def starttls_server(tmp_path):
    server = start_server(tmp_path, "starttls")
    yield server
    server.controller.stop()


def test_ssl_delivery_keeps_chinese_subject_names_parts_and_attachments_intact(tmp_path, ssl_server, password):
    ws = workspace(tmp_path / "ws", ssl_server.mail_config())
    workbook = os.urandom(30_000)
    calendar = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    attachments = [
        Attachment("客户台账_月度报告_202610（华东区）.xlsx", workbook, XLSX),
        Attachment("张伟_拜访计划.ics", calendar, "text/calendar"),
        Attachment("plain.txt", "纯文本 ü\n".encode(), "text/plain"),
    ]
    result = deliver([message(1, attachments=attachments), message(2)], load_settings(ws), now=NOW)
    assert (result.sent, result.already_sent, result.failed) == (2, 0, [])
    first, second = ssl_server.handler.messages()
    assert first["Subject"] == "【拜访提醒】经理1：本周计划拜访 1 次"
    assert first["From"].addresses[0].display_name == "星海示范集团 客户服务部"
    assert first["From"].addresses[0].addr_spec == USER
    assert first["To"].addresses[0].display_name == "经理1" and str(first["To"].addresses[0].addr_spec) == (
        "owner1@example.com"
    )
    text = first.get_body(("plain",)).get_content()
    assert text.replace("\r\n", "\n") == "经理1，您好：\n北京华信科技有限公司 1\n"  # text travels as CRLF
    assert "<p>北京华信科技有限公司 1</p>" in first.get_body(("html",)).get_content()
    got = {a.get_filename(): (a.get_content_type(), a.get_payload(decode=True)) for a in first.iter_attachments()}
    assert got == {
        "客户台账_月度报告_202610（华东区）.xlsx": (XLSX, workbook),
        "张伟_拜访计划.ics": ("text/calendar", calendar),
        "plain.txt": ("text/plain", "纯文本 ü\n".encode()),
    }
    raw = ssl_server.handler.received[0][2]
    assert raw.isascii() and b"filename*0" not in raw  # 7-bit clean; names never split into continuations
    assert b'name="=?utf-8?b?' in raw  # the RFC 2047 name= that older Outlook reads
    assert second["Message-ID"] != first["Message-ID"] and not list(second.iter_attachments())
    assert ssl_server.handler.logins == 1  # one connection, one login for the batch


def test_starttls_with_login_and_a_rerun_in_the_same_period_sends_nothing(tmp_path, starttls_server, password):
    ws = workspace(tmp_path / "ws", starttls_server.mail_config())
    settings = load_settings(ws)
    batch = [message(n) for n in range(1, 4)]
    assert deliver(batch, settings, now=NOW).sent == 3
    again = deliver([message(n) for n in range(1, 4)], settings, now=NOW)
    assert (again.sent, again.already_sent, again.messages) == (0, 3, 3)
    assert len(starttls_server.handler.received) == 3
    log = sent_log(settings)
    assert [(r.recipient, r.status, r.attempts) for r in log] == [
        (f"owner{n}@example.com", "sent", 1) for n in range(1, 4)
    ]
    assert all("250" in r.reply for r in log)


def test_a_connection_closed_after_k_messages_leaves_exactly_the_rest_for_the_rerun(tmp_path, ssl_server, password):
    ws = workspace(tmp_path / "ws", ssl_server.mail_config())
    settings = load_settings(ws)
    ssl_server.handler.close_after = 3
    first = deliver([message(n) for n in range(1, 8)], settings, now=NOW)
    assert first.sent == 3 and first.unsent == 4 and first.interrupted
    assert [f["recipient"] for f in first.failed] == [f"owner{n}@example.com" for n in range(4, 8)]
    assert [r.recipient for r in sent_log(settings)] == [f"owner{n}@example.com" for n in range(1, 4)]
    ssl_server.handler.close_after = None
    rerun = deliver([message(n) for n in range(1, 8)], settings, now=NOW)
    assert (rerun.sent, rerun.already_sent, rerun.failed) == (4, 3, [])
    delivered = [rcpt[0] for _, rcpt, _ in ssl_server.handler.received]
    assert delivered == [f"owner{n}@example.com" for n in range(1, 8)]  # each exactly once


def test_a_connection_that_drops_once_is_made_again_within_the_run(tmp_path, ssl_server, password):
    ws = workspace(tmp_path / "ws", ssl_server.mail_config())
    handler = ssl_server.handler
    handler.close_after = 2
    settings = load_settings(ws)
    original = handler.handle_MAIL

    async def drop_once(server, session, envelope, address, options):
        reply = await original(server, session, envelope, address, options)
        if reply.startswith("421"):
            handler.close_after = None  # the next connection works
        return reply

    handler.handle_MAIL = drop_once  # type: ignore[method-assign]
    result = deliver([message(n) for n in range(1, 5)], settings, now=NOW)
    assert (result.sent, result.interrupted, result.failed) == (4, "", [])
    assert handler.logins == 2 and len(handler.received) == 4


def test_a_refused_recipient_is_recorded_with_the_reply_and_retried_a_bounded_number_of_times(
    tmp_path, ssl_server, password
):
    ws = workspace(tmp_path / "ws", ssl_server.mail_config(retry_limit=2))
    settings = load_settings(ws)
    ssl_server.handler.reject = {"owner2@example.com"}
    batch = [message(n) for n in range(1, 4)]
    first = deliver(batch, settings, now=NOW)
    assert first.sent == 2
    assert first.failed == [
        {
            "recipient": "owner2@example.com",
            "error": "550 5.1.1 <owner2@example.com>: Recipient address rejected: User unknown",
        }
    ]
    assert [rcpt for _, rcpt, _ in ssl_server.handler.received] == [["owner1@example.com"], ["owner3@example.com"]]
    refused = [r for r in sent_log(settings) if r.status == "failed"]
    assert [(r.recipient, r.attempts) for r in refused] == [("owner2@example.com", 1)]
    assert refused[0].reply.startswith("550 5.1.1")
    second = deliver(batch, settings, now=NOW)  # one more attempt, still refused
    assert (second.sent, second.already_sent, len(second.failed)) == (0, 2, 1)
    third = deliver(batch, settings, now=NOW)  # the limit is reached: no attempt at all
    assert third.sent == 0 and "2" in third.failed[0]["error"] and "550" in third.failed[0]["error"]
    assert [r.attempts for r in sent_log(settings) if r.status == "failed"] == [2]
    ssl_server.handler.reject = set()
    assert deliver(batch, settings, now=NOW).sent == 0  # given up for this period: never a loop


def test_a_connection_dropped_after_the_data_is_never_sent_again(tmp_path, ssl_server, password):
    """The server may have the message: at most once beats twice, unless asked."""
    ws = workspace(tmp_path / "ws", ssl_server.mail_config())
    settings = load_settings(ws)
    ssl_server.handler.drop_in_data = True
    first = deliver([message(1)], settings, now=NOW)
    assert first.sent == 0 and first.uncertain == [{"recipient": "owner1@example.com", "subject": message(1).subject}]
    ssl_server.handler.drop_in_data = False
    rerun = deliver([message(1), message(2)], settings, now=NOW)
    assert rerun.sent == 1 and len(rerun.uncertain) == 1
    assert [r.status for r in sent_log(settings)] == ["pending", "sent"]
    forced = deliver([message(1)], settings, now=NOW, resend_pending=True)
    assert forced.sent == 1 and len(ssl_server.handler.received) == 3


def test_wrong_password_is_one_clear_line_with_exit_2_and_nothing_is_recorded(tmp_path, ssl_server):
    ws = workspace(tmp_path / "ws", ssl_server.mail_config(managers=["boss@example.com"]))
    wrong = "not-the-password-42"
    done = run_crm(
        "remind", "report", "--workspace", str(ws), "--today", "2026-11-26", env={"CRM_SMTP_PASSWORD": wrong}
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "refused the login of crm@example.com" in lines[0] and "535" in lines[0]
    assert "Traceback" not in done.stderr and wrong not in done.stderr + done.stdout
    assert ssl_server.handler.received == []
    assert [r for r in sent_log(load_settings(ws)) if r.status != "failed"] == []


def test_no_password_anywhere_says_how_to_store_one(tmp_path, ssl_server, monkeypatch):
    monkeypatch.delenv("CRM_SMTP_PASSWORD", raising=False)
    ws = workspace(tmp_path / "ws", ssl_server.mail_config())
    with pytest.raises(ConfigError, match="no SMTP password for crm@example.com") as error:
        deliver([message(1)], load_settings(ws), now=NOW)
    assert "keyring set yagmail crm@example.com" in str(error.value)


def test_outbox_writes_eml_files_that_parse_back_and_an_index_workbook(tmp_path):
    ws = workspace(tmp_path / "ws", "")
    settings = load_settings(ws)
    report = os.urandom(5000)
    batch = [message(1, attachments=[Attachment("月度报告.xlsx", report, XLSX)]), message(2)]
    result = deliver(batch, settings, now=NOW)
    assert (result.sent, result.backend) == (2, "outbox")
    files = sorted((ws / "outbox" / "visits" / "2026-W48").glob("*.eml"))
    assert [f.name.split("_")[0] for f in files] == ["owner1@example.com", "owner2@example.com"]
    from email import message_from_bytes, policy

    parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "【拜访提醒】经理1：本周计划拜访 1 次"
    assert [(a.get_filename(), a.get_payload(decode=True)) for a in parsed.iter_attachments()] == [
        ("月度报告.xlsx", report)
    ]
    index = ws / "outbox" / "发件箱索引.xlsx"
    assert index in result.outputs
    rows = list(openpyxl.load_workbook(index).active.iter_rows(values_only=True))
    assert rows[0][:6] == ("时间", "类型", "周期", "收件人", "抄送", "主题")
    assert sorted(r[3] for r in rows[1:]) == ["owner1@example.com", "owner2@example.com"]
    assert {r[1] for r in rows[1:]} == {"拜访提醒"} and {r[7] for r in rows[1:]} == {"已发送"}
    assert {Path(r[10]) for r in rows[1:]} == {f.relative_to(ws / "outbox") for f in files}
    assert deliver(batch, settings, now=NOW).already_sent == 2
    assert len(list((ws / "outbox").rglob("*.eml"))) == 2


def test_an_outbox_message_left_pending_is_settled_by_its_file(tmp_path):
    ws = workspace(tmp_path / "ws", "")
    settings = load_settings(ws)
    deliver([message(1)], settings, now=NOW)
    from toolkit.state import StateStore

    with StateStore(ws / "state.sqlite") as store:  # as if the run had died after writing the file
        store.db.execute("UPDATE sent_messages SET status = 'pending'")
        store.db.commit()
    assert deliver([message(1)], settings, now=NOW).already_sent == 1
    for eml in (ws / "outbox").rglob("*.eml"):  # ... or before writing it
        eml.unlink()
    assert deliver([message(1)], settings, now=NOW).sent == 1


def test_dry_run_writes_a_preview_and_sends_nothing(tmp_path, ssl_server, password):
    ws = workspace(tmp_path / "ws", ssl_server.mail_config())
    settings = load_settings(ws)
    deliver([message(1)], settings, now=NOW)
    result = deliver([message(1), message(2, to="not-an-address")], settings, dry_run=True, now=NOW)
    assert result.dry_run and result.sent == 0 and len(ssl_server.handler.received) == 1
    (preview,) = result.outputs
    rows = list(openpyxl.load_workbook(preview).active.iter_rows(values_only=True))
    assert rows[0] == ("类型", "周期", "收件人", "抄送", "主题", "客户数", "涉及客户", "附件", "状态")
    assert rows[1][2] == "owner1@example.com" and rows[1][8] == "已发送过，跳过"
    assert rows[2][2] == "not-an-address" and rows[2][8] == "地址无效，不发送"
    assert rows[1][6] == "北京华信科技有限公司"
    assert [r.recipient for r in sent_log(settings)] == ["owner1@example.com"]


def test_render_takes_the_workspace_template_first_then_the_shipped_one(tmp_path):
    ws = workspace(tmp_path / "ws", "")
    context = dict(company="星海", sender_name="", today=NOW.date(), month=NOW.date().replace(day=1), missing=[])
    context |= dict(kpis={"customers": 3, "volume": None, "visit_rate": 0.5, "on_time_rate": None}, filename="r.xlsx")
    context["kpis"]["resolved_rate"] = 1.0
    subject, html, text = render("report", "zh", workspace=ws, **context)
    assert subject == "【月度报告】星海 2026年11月客户业务状况分析报告"
    assert "拜访完成率：50.0%" in text and "<td" in html and "无数据" in text
    (ws / "email" / "report.zh.txt").write_text("{% set subject %}自定义 {{ company }}{% endset %}正文", "utf-8")
    assert render("report", "zh", workspace=ws, **context)[0] == "自定义 星海"
    assert render("report", "en", workspace=ws, **context)[0].startswith("[Monthly report] 星海")
    (ws / "email" / "report.zh.txt").write_text("{% set subject %}{{ nope( }}{% endset %}", "utf-8")
    with pytest.raises(ConfigError, match="mistake"):
        render("report", "zh", workspace=ws, **context)


def test_init_copies_the_email_templates_and_never_overwrites_an_edited_one(tmp_path):
    ws = workspace(tmp_path / "ws", "")
    names = {p.name for p in (ws / "email").iterdir()}
    shipped = {p.name for p in (templates_dir() / "email").iterdir()}
    assert names == shipped and {"visits.zh.html", "visits.en.txt", "birthday.zh.txt", "festival.en.html"} <= names
    (ws / "email" / "visits.zh.txt").write_text("mine", "utf-8")
    init_workspace(ws, force=True)
    assert (ws / "email" / "visits.zh.txt").read_text("utf-8") == "mine"


@pytest.mark.parametrize(
    "section, problem",
    [
        ('backend = "pigeon"', "mail.backend 'pigeon' is not outbox or smtp"),
        ('backend = "smtp"\nsender_address = "a@b.cn"', "mail.host is missing"),
        ('port = "465"', "mail.port must be a number"),
        ('managers = ["boss@@example.com"]', "mail.managers is not one e-mail address"),
        ('security = "none"\nuser = "a@b.cn"', "password would travel unencrypted"),
    ],
)
def test_a_wrong_mail_setting_is_one_line_naming_the_key(tmp_path, section, problem):
    ws = workspace(tmp_path / "ws", "[mail]\n" + section + "\n")
    with pytest.raises(ConfigError) as error:
        mail_config(load_settings(ws))
    assert problem in str(error.value) and "\n" not in str(error.value)


def test_without_mail_user_the_sender_address_logs_in(tmp_path, starttls_server, password):
    config = "\n".join(line for line in starttls_server.mail_config().splitlines() if not line.startswith("user ="))
    ws = workspace(tmp_path / "ws", config + "\n")
    result = deliver([message(1), message(2)], load_settings(ws), now=NOW)
    assert result.sent == 2 and starttls_server.handler.logins == 1


def test_a_server_refusing_the_sender_stops_the_batch_with_one_line_and_uses_up_no_attempt(tmp_path, password):
    """Login required but not configured (security = "none"): 530 at MAIL FROM for every message."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.mailserver import Handler, free_port

    handler, port = Handler(), free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        auth_required=True,
        auth_require_tls=False,
        authenticator=lambda *a: AuthResult(success=False),
    )
    controller.start()
    try:
        mail = f'[mail]\nbackend = "smtp"\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        ws = workspace(tmp_path / "ws", mail + 'sender_address = "crm@example.com"\nmanagers = ["boss@example.com"]\n')
        done = run_crm("remind", "report", "--workspace", str(ws), "--today", "2026-11-26")
        assert done.returncode == 2, done.stdout + done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "refuses to send for crm@example.com" in lines[0] and "530" in lines[0]
        assert handler.received == [] and sent_log(load_settings(ws)) == []  # nothing counted as tried
    finally:
        controller.stop()


def test_a_long_chinese_sender_name_and_a_calendar_attachment_decode_in_every_client(tmp_path):
    """RFC 2047 words of at most 75 characters; a text/calendar part that says it is UTF-8; an
    outbox file Outlook opens as a draft to send."""
    long_name = "星海示范集团华东区域客户关系管理中心客户服务部（上海、杭州、南京、合肥）"
    ws = workspace(tmp_path / "ws", f'[mail]\nsender_name = "{long_name}"\nsender_address = "crm@example.com"\n')
    calendar = "BEGIN:VCALENDAR\r\nSUMMARY:拜访 北京华信科技有限公司\r\nEND:VCALENDAR\r\n".encode()
    ics = Attachment("张伟_拜访计划.ics", calendar, "text/calendar")
    deliver([message(1, attachments=[ics])], load_settings(ws), now=NOW)
    (eml,) = (ws / "outbox").rglob("*.eml")
    raw = eml.read_bytes()
    assert raw.startswith(b"X-Unsent: 1\r\n")
    assert all(len(word) <= 75 for word in re.findall(rb"=\?utf-8\?b\?[^?]*\?=", raw))
    mail = message_from_bytes(raw, policy=policy.default)
    # RFC 2047 decoding joins adjacent words (Python's newer address parser leaves a space between them)
    raw_from = message_from_bytes(raw, policy=policy.compat32)["From"]
    assert str(make_header(decode_header(raw_from))) == f"{long_name} <crm@example.com>"
    (part,) = mail.iter_attachments()
    assert part.get_content_type() == "text/calendar" and "拜访 北京华信科技有限公司" in part.get_content()


def test_a_server_echoing_the_password_never_gets_it_stored_or_shown(tmp_path, ssl_server, password):
    """Replies are redacted wherever they go: the state database, the command's output,
    `remind --log`, and the monthly report's 发送记录 — the password as typed and in base64."""
    import base64
    import sqlite3

    ws = tmp_path / "demo"
    assert run_crm("demo", str(ws), "--today", "2026-11-26").returncode == 0
    config = ws / "crm.toml"
    server_lines = [
        line for line in ssl_server.mail_config().splitlines()[1:] if not line.startswith(("sender_", "backend"))
    ]
    text = config.read_text(encoding="utf-8")
    assert '[mail]\nbackend = "outbox"' in text
    text = text.replace('[mail]\nbackend = "outbox"', '[mail]\nbackend = "smtp"\n' + "\n".join(server_lines))
    config.write_text(text, encoding="utf-8")
    ssl_server.handler.echo = f"{PASSWORD} {base64.b64encode(PASSWORD.encode()).decode()}"
    ssl_server.handler.reject = {"manager@example.com"}  # the copies are refused, with the echo
    env = {"CRM_SMTP_PASSWORD": PASSWORD}
    sent = run_crm("remind", "visits", "-w", str(ws), "--today", "2026-12-02", "--json", env=env)  # the next week
    assert sent.returncode == 0, sent.stderr
    assert len(ssl_server.handler.received) == 6
    logged = run_crm("remind", "--log", "-w", str(ws), env=env)
    logged_json = run_crm("remind", "--log", "-w", str(ws), "--json", env=env)
    report = run_crm("report", "-w", str(ws), "--month", "2026-12", "--json", "--today", "2026-12-02", env=env)
    assert report.returncode == 0, report.stderr
    book = openpyxl.load_workbook(__import__("json").loads(report.stdout)["outputs"][0])
    sheet_text = " ".join(str(c) for row in book["发送记录"].iter_rows(values_only=True) for c in row)
    with sqlite3.connect(ws / "state.sqlite") as db:
        stored = " ".join(str(c) for row in db.execute("select * from sent_messages") for c in row)
    assert "250 2.0.0 OK queued *** ***" in stored and "Recipient address rejected" in sent.stdout + logged_json.stdout
    for shown in (stored, sent.stdout, sent.stderr, logged.stdout, logged_json.stdout, sheet_text):
        assert PASSWORD not in shown and base64.b64encode(PASSWORD.encode()).decode() not in shown

"""Benchmark: 1,000 reminder e-mails with a 30 KB attachment to an aiosmtpd server on loopback.

    python benchmarks/bench_mail.py [--messages 1000] [--rounds 3]

Compares ``toolkit.mail.deliver`` (MIME built with the RFC 2047/2231 names, each message's key
committed to the state database before and after it goes out, one connection) with yagmail
sending the very same prepared messages in a bare loop over one connection (its client,
logged in once, ``smtp.sendmail`` per message: no MIME building, no bookkeeping, the upper
bound). The server (aiosmtpd's Sink handler) runs in its own process so it does not share
the interpreter with the client. Rounds are interleaved, each side going first in turn; the best of each is reported.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit.config import load_settings  # noqa: E402
from toolkit.mail import Attachment, Message, deliver  # noqa: E402
from toolkit.mail.messages import message_id, to_mime  # noqa: E402
from toolkit.workspace import init_workspace  # noqa: E402

SENDER = "crm@example.com"
NOW = datetime(2026, 11, 26, 9, 0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sink(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the aiosmtpd server did not start")


def reminders(count: int, run: int, distinct: bool = False) -> list[Message]:
    """``count`` reminders with a 30 KB attachment: the same one (a report, a survey form) or,
    with ``distinct``, a different one each (a calendar per owner)."""
    shared = os.urandom(30 * 1024)

    def attachment() -> Attachment:
        content = os.urandom(30 * 1024) if distinct else shared
        return Attachment("张伟_拜访计划_20261126-20261202.xlsx", content, "application/octet-stream")

    return [
        Message(
            kind="visits",
            period=f"bench-{run}",
            to=[f"owner{n}@example.com"],
            cc=[],
            subject=f"【拜访提醒】经理{n}：本周计划拜访 12 次，逾期 1 次",
            html="<p>您好：</p>" + "<tr><td>北京华信科技有限公司</td><td>例行回访</td></tr>" * 12,
            text="您好：\n" + "- 2026-11-27｜北京华信科技有限公司｜例行回访（实地）\n" * 12,
            attachments=[attachment()],
            customers=["北京华信科技有限公司"],
            recipient_name=f"经理{n}",
        )
        for n in range(count)
    ]


def workspace(folder: Path, port: int) -> Path:
    init_workspace(folder, company="星海示范集团")
    mail = f'[mail]\nbackend = "smtp"\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
    mail += f'sender_address = "{SENDER}"\nsender_name = "星海示范集团 客户服务部"\n'
    config = folder / "crm.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n" + mail, encoding="utf-8")
    return folder


def time_deliver(settings, messages: list[Message]) -> float:
    start = time.perf_counter()
    result = deliver(messages, settings, now=NOW)
    elapsed = time.perf_counter() - start
    assert result.sent == len(messages) and not result.failed, result.failed[:3]
    return elapsed


def time_yagmail(port: int, prepared: list[tuple[list[str], bytes]]) -> float:
    import yagmail

    start = time.perf_counter()
    client = yagmail.SMTP(
        user={SENDER: SENDER}, host="127.0.0.1", port=port, smtp_ssl=False, smtp_starttls=False, smtp_skip_login=True
    )
    client.login()
    for recipients, data in prepared:
        client.smtp.sendmail(SENDER, recipients, data)
    client.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--distinct", action="store_true", help="a different attachment in every message")
    args = parser.parse_args()
    port = free_port()
    server = start_sink(port)
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings = load_settings(workspace(Path(folder) / "ws", port))
            ours, theirs = [], []
            for run in range(args.rounds):
                batch = reminders(args.messages, run, args.distinct)
                prepared = [
                    (
                        m.to,
                        to_mime(m, sender_name="", sender_address=SENDER, now=NOW, msg_id=message_id(m.key(), SENDER)),
                    )
                    for m in batch
                ]
                if run % 2:  # alternate who goes first
                    ours.append(time_deliver(settings, batch))
                    theirs.append(time_yagmail(port, prepared))
                else:
                    theirs.append(time_yagmail(port, prepared))
                    ours.append(time_deliver(settings, batch))
            size = sum(len(d) for _, d in prepared) / len(prepared) / 1024
    finally:
        server.terminate()
        server.wait(10)
    best_ours, best_theirs = min(ours), min(theirs)
    rate_ours, rate_theirs = args.messages / best_ours, args.messages / best_theirs
    which = "a different attachment each" if args.distinct else "the same attachment"
    print(f"{args.messages} messages of {size:.0f} KB each ({which}), one connection, best of {args.rounds} rounds")
    print(f"  yagmail, prepared messages, bare loop: {best_theirs:6.2f} s  {rate_theirs:7.1f} messages/s")
    print(f"  toolkit.mail.deliver (exactly-once):   {best_ours:6.2f} s  {rate_ours:7.1f} messages/s")
    print(f"  deliver reaches {rate_ours / rate_theirs:.0%} of the bare loop's throughput (target: at least 80 %)")


if __name__ == "__main__":
    main()

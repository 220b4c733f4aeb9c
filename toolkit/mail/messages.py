"""What an e-mail is to the toolkit (``Message``), how it is rendered from the Jinja2 templates,
and how it becomes the bytes of a standard MIME message.

The MIME form is built for the mail clients our users have (Outlook, Foxmail, web mail):
a Chinese subject and sender name as RFC 2047 encoded words; attachment names both as
RFC 2231 ``filename*`` (the standard) and as an RFC 2047 ``name`` (what older Outlook reads);
text and HTML parts in UTF-8, base64, so the message is plain 7-bit ASCII that any server
relays; a Message-ID derived from the message's key, so a receiving server or client that
ever saw the same message twice can tell.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.encoders import encode_base64
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.mime.base import MIMEBase
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..config import templates_dir
from ..errors import ConfigError

# Headers set through EmailMessage are folded by the policy (RFC 2047 words of at most 75
# characters); the attachment headers, written by hand, are left as they are.
_POLICY = policy.SMTP.clone(refold_source="none")
EMAIL_FOLDER = "email"  # in the workspace (copied by crm init) and in the shipped templates


@dataclass
class Attachment:
    filename: str
    content: bytes
    mime: str = "application/octet-stream"


@dataclass
class Message:
    """One e-mail to send: who gets it, what it says, and which customers it speaks of.

    ``kind`` and ``period`` (with the recipient and a digest of the content) make the key
    under which the message is sent at most once. ``digest_basis``, when given, is what the
    digest is taken over instead of the rendered content: the items a reminder is about, so
    that a rerun whose wording changes (a day more overdue) is still the same message."""

    kind: str
    period: str
    to: list[str]
    cc: list[str]
    subject: str
    html: str
    text: str
    attachments: list[Attachment] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    recipient_name: str = ""
    digest_basis: str = ""

    @property
    def recipient(self) -> str:
        return ", ".join(self.to)

    def digest(self) -> str:
        h = hashlib.sha256()
        if self.digest_basis:
            h.update(self.digest_basis.encode("utf-8"))
        else:
            for part in (self.subject, self.text, self.html, *self.cc):
                h.update(part.encode("utf-8") + b"\0")
            for a in self.attachments:
                h.update(a.filename.encode("utf-8") + b"\0" + hashlib.sha256(a.content).digest())
        return h.hexdigest()[:16]

    def key(self) -> tuple[str, str, str, str]:
        return self.kind, self.period, self.recipient, self.digest()


# ---------------------------------------------------------------- templates


def render(template_name: str, lang: str, *, workspace: Path | None = None, **context: Any) -> tuple[str, str, str]:
    """(subject, html, text) of the e-mail template ``template_name`` in ``lang``.

    Looks for ``NAME.LANG.txt`` and ``NAME.LANG.html`` in the workspace's ``email/`` folder
    first, then in the shipped templates; a language without its own files falls back to zh.
    The subject is what the text template sets with ``{% set subject %}…{% endset %}``.
    Raises ``ConfigError`` for a template that is missing or has a mistake in it."""
    import jinja2

    env = _environment(str(workspace / EMAIL_FOLDER) if workspace else "")
    try:
        names = [f"{template_name}.{lang}", f"{template_name}.zh"]
        text_template = env.get_template(f"{names[0]}.txt") if _exists(env, f"{names[0]}.txt") else None
        base = names[0] if text_template is not None else names[1]
        module = env.get_template(f"{base}.txt").make_module(context)
        html = env.get_template(f"{base}.html").render(context)
    except jinja2.TemplateNotFound as error:
        raise ConfigError(
            f"the e-mail template {error.name} is missing",
            hint="copy it back from a new `crm init` into the workspace's email/ folder",
        ) from None
    except jinja2.TemplateError as error:
        where = getattr(error, "filename", None) or template_name
        line = getattr(error, "lineno", None)
        raise ConfigError(
            f"the e-mail template has a mistake ({error.message})",
            file=where,
            cell=f"line {line}" if line else None,
            hint="fix the line named, or copy the template back from a new `crm init`",
        ) from None
    subject = " ".join(str(getattr(module, "subject", "")).split())
    if not subject:
        raise ConfigError(
            f"the e-mail template {base}.txt sets no subject",
            hint="start it with {% set subject %}…{% endset %}",
        )
    return subject, html, str(module).strip() + "\n"


def _exists(env: Any, name: str) -> bool:
    import jinja2

    try:
        env.get_template(name)
        return True
    except jinja2.TemplateNotFound:
        return False


@lru_cache(maxsize=8)
def _environment(workspace_folder: str) -> Any:
    import jinja2

    folders = [workspace_folder] if workspace_folder and os.path.isdir(workspace_folder) else []
    folders.append(str(templates_dir() / EMAIL_FOLDER))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders, encoding="utf-8"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wan"] = lambda value: "" if value is None else f"{value / 1e4:,.1f}"
    env.filters["rows"] = _rows
    return env


def _rows(items: list[dict[str, Any]], *keys: str) -> list[list[str]]:
    """The ``keys`` of each item as table cells: dates as 2026-11-26, times to the minute, None as ''."""
    return [[_cell(item.get(key)) for key in keys] for item in items]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


# ---------------------------------------------------------------- MIME


def message_id(key: tuple[str, str, str, str], sender: str) -> str:
    """A Message-ID that is the same for the same key (kind, period, recipient, digest)."""
    token = hashlib.sha256("|".join(key).encode("utf-8")).hexdigest()[:32]
    domain = sender.rpartition("@")[2] or "crm.localhost"
    return f"<{token}.crm@{domain}>"


def to_mime(message: Message, *, sender_name: str, sender_address: str, now: datetime, msg_id: str) -> bytes:
    """The message as RFC 5322 bytes (CRLF line ends, 7-bit ASCII throughout)."""
    mail = EmailMessage(policy=_POLICY)
    mail["Subject"] = message.subject
    mail["From"] = Address(display_name=sender_name, addr_spec=sender_address)
    mail["To"] = _addresses(message.to, message.recipient_name)
    if message.cc:
        mail["Cc"] = ", ".join(message.cc)
    mail["Date"] = format_datetime(now.astimezone() if now.tzinfo is None else now)
    mail["Message-ID"] = msg_id
    mail["X-CRM-Kind"] = message.kind
    mail["X-CRM-Period"] = message.period
    mail.set_content(message.text, charset="utf-8", cte="base64")
    mail.add_alternative(message.html, subtype="html", charset="utf-8", cte="base64")
    if message.attachments:
        mail.make_mixed()
        for attachment in message.attachments:
            mail.attach(_attachment_part(attachment))  # type: ignore[arg-type]
    for part in mail.walk():
        if part is not mail:
            del part["MIME-Version"]  # only the top level carries it
    return mail.as_bytes()


def _attachment_part(attachment: Attachment) -> MIMEBase:
    """An attachment whose name every client shows: ``filename*`` (RFC 2231) in one piece, never
    split into ``filename*0*`` continuations that Outlook and Foxmail misread, plus ``name`` as an
    RFC 2047 encoded word for older Outlook. The headers are written as they stand (``_POLICY``
    does not refold them)."""
    maintype, _, subtype = attachment.mime.partition("/")
    part = MIMEBase(maintype or "application", subtype or "octet-stream")
    part.set_payload(attachment.content)
    encode_base64(part)
    name = attachment.filename.replace("\r", " ").replace("\n", " ")
    if name.isascii():
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        part.replace_header("Content-Type", f'{part.get_content_type()};\r\n name="{quoted}"')
        part["Content-Disposition"] = f'attachment;\r\n filename="{quoted}"'
    else:
        encoded_word = Header(name, "utf-8").encode(maxlinelen=10_000)
        part.replace_header("Content-Type", f'{part.get_content_type()};\r\n name="{encoded_word}"')
        part["Content-Disposition"] = f"attachment;\r\n filename*=utf-8''{quote(name, safe='')}"
    return part


def _addresses(addresses: list[str], name: str) -> str:
    if len(addresses) == 1 and name:
        return str(Address(display_name=name, addr_spec=addresses[0]))
    return ", ".join(addresses)

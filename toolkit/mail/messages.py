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

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, formataddr
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..config import templates_dir
from ..errors import ConfigError

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


def template_mentions(template_name: str, lang: str, workspace: Path | None, name: str) -> bool:
    """Whether the e-mail template ``template_name`` that ``render`` would use mentions ``name``
    (a template the workspace copied before a feature came may not show it). The shipped
    templates mention everything they are given."""
    if workspace is None:
        return True
    folder = workspace / EMAIL_FOLDER
    for candidate in (f"{template_name}.{lang}.txt", f"{template_name}.zh.txt"):
        path = folder / candidate
        if path.is_file():
            return name in path.read_text(encoding="utf-8", errors="replace")
        if (templates_dir() / EMAIL_FOLDER / candidate).is_file():
            return True  # the workspace has none of its own: the shipped one is used
    return True


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
    """The message as RFC 5322 bytes: CRLF line ends, 7-bit ASCII throughout (base64 bodies,
    RFC 2047 words in the headers), multipart/mixed over multipart/alternative (text, HTML).

    Written directly rather than through ``email.message.EmailMessage``, whose header folding
    costs more than the SMTP conversation itself for a batch of reminders; the tests read
    every message back with the ``email`` package."""
    mixed, alternative = _boundary(), _boundary()
    lines = [
        _header("Subject", message.subject),
        f"From: {_address(sender_name, sender_address)}",
        f"To: {_address(message.recipient_name, message.to[0]) if len(message.to) == 1 else ', '.join(message.to)}",
        *([f"Cc: {', '.join(message.cc)}"] if message.cc else []),
        f"Date: {format_datetime(now.astimezone() if now.tzinfo is None else now)}",
        f"Message-ID: {msg_id}",
        _header("X-CRM-Kind", message.kind),
        _header("X-CRM-Period", message.period),
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{mixed}"',
        "",
        f"--{mixed}",
        f'Content-Type: multipart/alternative; boundary="{alternative}"',
        "",
        f"--{alternative}",
    ]
    out = ["\r\n".join(lines).encode("ascii"), b"\r\n"]
    text = message.text.replace("\r\n", "\n").replace("\n", "\r\n")
    out += [_part_head('text/plain; charset="utf-8"'), _base64(text.encode("utf-8"))]
    out += [f"\r\n--{alternative}\r\n".encode(), _part_head('text/html; charset="utf-8"')]
    out += [_base64(message.html.encode("utf-8")), f"\r\n--{alternative}--\r\n".encode()]
    for attachment in message.attachments:
        out += [f"\r\n--{mixed}\r\n".encode(), _attachment_head(attachment), _base64(attachment.content)]
    out.append(f"\r\n--{mixed}--\r\n".encode())
    return b"".join(out)


def _boundary() -> str:
    return f"=_crm_{secrets.token_hex(12)}"


def _header(name: str, value: str) -> str:
    value = " ".join(value.split())
    if value.isascii() and len(name) + len(value) < 76:
        return f"{name}: {value}"
    return f"{name}: {_encoded_words(value)}"


def _encoded_words(text: str, fold: bool = True) -> str:
    """``text`` as RFC 2047 base64 words of whole UTF-8 characters, each at most 68 characters
    long, one per folded line (``fold``) or all in one word. What ``email.header.Header`` does,
    at a fraction of its cost."""
    if not fold:
        return f"=?utf-8?b?{base64.b64encode(text.encode('utf-8')).decode('ascii')}?="
    words: list[bytes] = []
    chunk = b""
    for char in text:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > 42:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


@lru_cache(maxsize=256)  # the sender is the same for a whole batch
def _address(name: str, address: str) -> str:
    """``name <address>``: an ASCII name quoted as needed, any other in RFC 2047 words of at most
    75 characters each (a long Chinese sender name would otherwise make one over-long word)."""
    name = " ".join(name.split())
    if not name:
        return address
    if name.isascii():
        return formataddr((name, address))
    return f"{_encoded_words(name)} <{address}>"


def _part_head(content_type: str) -> bytes:
    return f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: base64\r\n\r\n".encode("ascii")


@lru_cache(maxsize=16)  # one attachment often goes to many (the report to every manager, a survey form)
def _base64(data: bytes) -> bytes:
    """Base64 in lines of 76 characters with CRLF ends, as MIME wants it."""
    encoded = base64.b64encode(data)
    return b"\r\n".join([encoded[i : i + 76] for i in range(0, len(encoded), 76)] + [b""])


def _attachment_head(attachment: Attachment) -> bytes:
    """An attachment whose name every client shows: ``filename*`` (RFC 2231) in one piece, never
    split into ``filename*0*`` continuations that Outlook and Foxmail misread, plus ``name`` as an
    RFC 2047 encoded word for older Outlook."""
    maintype, _, subtype = attachment.mime.partition("/")
    content_type = f"{maintype or 'application'}/{subtype or 'octet-stream'}"
    if maintype == "text" and "charset" not in attachment.mime:  # a calendar holds Chinese
        content_type += '; charset="utf-8"'
    name = " ".join(attachment.filename.split())
    if name.isascii():
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        parameter, disposition = f'name="{quoted}"', f'filename="{quoted}"'
    else:
        parameter = f'name="{_encoded_words(name, fold=False)}"'
        disposition = f"filename*=utf-8''{quote(name, safe='')}"
    head = f"Content-Type: {content_type};\r\n {parameter}\r\nContent-Transfer-Encoding: base64\r\n"
    head += f"Content-Disposition: attachment;\r\n {disposition}\r\n\r\n"
    return head.encode("ascii")

"""Fetch returned survey forms from a mailbox (imap-tools), for ``crm survey collect --imap``.

``[survey.imap]`` in crm.toml names the mailbox (host, port, security, user, folder); the
password comes from ``CRM_IMAP_PASSWORD`` or the OS keyring (service ``crm-imap``), never from
the config. Every unread message with a workbook attached (.xlsx, .xlsm, .xls, .ods) has its
attachments saved into the collect folder and is then marked read, so the next run does not
fetch it again; a file fetched twice would still count once (collect knows files by content).
"""

from __future__ import annotations

import imaplib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import ConfigError, ToolkitError

PASSWORD_ENV = "CRM_IMAP_PASSWORD"
KEYRING_SERVICE = "crm-imap"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_PORTS = {"ssl": 993, "starttls": 143, "none": 143}
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


@dataclass
class ImapConfig:
    host: str
    port: int
    security: str
    user: str
    folder: str = "INBOX"
    timeout: float = 30


@dataclass
class FetchResult:
    messages: int = 0  # unread messages with a workbook attached
    saved: list[Path] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"messages": self.messages, "saved": [str(p) for p in self.saved]}


def imap_config(settings: Settings) -> ImapConfig | None:
    """``[survey.imap]`` of crm.toml, checked; None when the workspace names no mailbox."""
    survey = settings.raw.get("survey", {})
    section = survey.get("imap") if isinstance(survey, dict) else None
    if section is None:
        return None
    if not isinstance(section, dict):
        raise ConfigError("[survey.imap] must be a table", hint='write it as [survey.imap] with host = "…"')
    host, user = section.get("host"), section.get("user")
    for key, value in (("host", host), ("user", user)):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f"[survey.imap] {key} is missing", hint=f'add {key} = "…" under [survey.imap] in crm.toml'
            )
    security = section.get("security", "ssl")
    if security not in _PORTS:
        raise ConfigError(f"[survey.imap] security '{security}' is not known", hint='use "ssl", "starttls" or "none"')
    port = section.get("port", _PORTS[security])
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"[survey.imap] port '{port}' is not a port number", hint="993 for ssl, 143 for starttls")
    folder = section.get("folder", "INBOX")
    if not isinstance(folder, str) or not folder:
        raise ConfigError("[survey.imap] folder must be a folder name", hint='e.g. folder = "INBOX"')
    return ImapConfig(str(host).strip(), port, security, str(user).strip(), folder)


def imap_password(user: str) -> str:
    """``CRM_IMAP_PASSWORD``, else the keyring's ``crm-imap``/``user``; the one place it is read."""
    found = os.environ.get(PASSWORD_ENV)
    if not found:
        try:
            import keyring

            found = keyring.get_password(KEYRING_SERVICE, user)
        except Exception:  # no keyring backend on this machine
            found = None
    if not found:
        raise ConfigError(
            f"no IMAP password for {user}",
            hint=f"store it once with: keyring set {KEYRING_SERVICE} {user}  (or set {PASSWORD_ENV} for this run)",
        )
    return found


def fetch_returns(settings: Settings, folder: str | os.PathLike[str]) -> FetchResult:
    """Save the workbooks attached to the unread messages of the configured mailbox into
    ``folder`` and mark those messages read. Raises ``ConfigError`` when no mailbox is configured
    or the login is refused, ``ToolkitError`` when the server cannot be reached."""
    from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted
    from imap_tools.errors import MailboxLoginError

    config = imap_config(settings)
    if config is None:
        raise ConfigError(
            "no mailbox to fetch from: crm.toml has no [survey.imap]",
            hint="add [survey.imap] with host and user, or save the attachments into the folder by hand",
        )
    password = imap_password(config.user)
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    where = f"{config.host}:{config.port}"
    kind = {"ssl": MailBox, "starttls": MailBoxStartTls, "none": MailBoxUnencrypted}[config.security]
    result = FetchResult()
    try:
        with kind(config.host, config.port, timeout=config.timeout).login(config.user, password, config.folder) as box:
            for message in box.fetch(AND(seen=False), mark_seen=False, bulk=True):
                workbooks = [a for a in message.attachments if a.filename.lower().endswith(WORKBOOK_SUFFIXES)]
                if not workbooks:
                    continue
                result.messages += 1
                for attachment in workbooks:
                    path = _free_name(target, f"{message.uid}_{_UNSAFE.sub('_', Path(attachment.filename).name)}")
                    path.write_bytes(attachment.payload)
                    result.saved.append(path)
                box.flag([message.uid], "\\Seen", True)  # only once its files are on disk
    except MailboxLoginError:
        raise ConfigError(
            f"the IMAP server {where} refused the login of {config.user}",
            hint=f"check [survey.imap] user and the password in the keyring ({KEYRING_SERVICE}) or {PASSWORD_ENV}",
        ) from None
    except (OSError, EOFError, imaplib.IMAP4.error) as error:
        raise ToolkitError(f"cannot reach the IMAP server {where}: {' '.join(str(error).split())}") from None
    return result


def _free_name(folder: Path, name: str) -> Path:
    path = folder / name
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{Path(name).stem} ({n}){Path(name).suffix}"
    return path

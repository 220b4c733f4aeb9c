"""The ``[mail]`` section of crm.toml, checked into one typed object, and the SMTP password.

The password is never in the config: ``smtp_password`` reads it from the environment
(``CRM_SMTP_PASSWORD``) or the OS keyring (service ``yagmail``, as ``yagmail.register`` stores
it). That function is the only place the toolkit reads a mail secret.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import CONFIG_NAME, Settings
from ..errors import ConfigError
from ..ledger.coerce import parse_email

PASSWORD_ENV = "CRM_SMTP_PASSWORD"
KEYRING_SERVICE = "yagmail"  # the service yagmail.register() and `keyring set yagmail USER` use
BACKENDS = ("outbox", "smtp")
SECURITY = {"ssl": 465, "starttls": 587, "none": 25}


@dataclass
class MailConfig:
    backend: str = "outbox"
    host: str = ""
    port: int = 465
    security: str = "ssl"  # ssl (SMTP over TLS, 465) | starttls (587) | none (a relay without login)
    user: str = ""  # the SMTP login; default: the sender address
    sender_name: str = ""
    sender_address: str = ""
    managers: list[str] = field(default_factory=list)  # the monthly report goes to them; default escalation
    owners: dict[str, str] = field(default_factory=dict)  # owner name → e-mail (overrides the ledger's)
    owner_managers: dict[str, str] = field(default_factory=dict)  # owner name → their manager's e-mail
    overdue_limit_days: int = 14  # a visit overdue longer than this copies the owner's manager
    complaint_warn_hours: float = 4.0  # "nearing": unanswered within this many hours of the limit
    visits_period: str = "week"  # week | month: how far ahead the visit reminder looks
    retry_limit: int = 3  # attempts at a message the server refused, over all runs
    sync_every: int = 20  # messages between disk syncs of the sent log (1: every message, slower)
    timeout: float = 30.0
    ca_file: Path | None = None  # a company CA for the SMTP server's certificate
    outbox: Path | None = None  # default: outbox/ in the workspace, else in the output folder

    @property
    def login(self) -> str:
        return self.user or self.sender_address

    def from_address(self) -> str:
        return self.sender_address or "crm@localhost"


def mail_config(settings: Settings) -> MailConfig:
    """The checked ``[mail]`` section of the workspace (defaults without one). A wrong value
    raises ``ConfigError`` naming the key and how to write it."""
    section = settings.raw.get("mail", {})
    path = (settings.workspace / CONFIG_NAME) if settings.workspace else None

    def fail(key: str, problem: str, hint: str) -> ConfigError:
        return ConfigError(f"mail.{key} {problem}", file=path, hint=hint)

    if not isinstance(section, dict):
        raise fail("", "must be a [mail] section", "write it as a [mail] table, as crm init does")
    config = MailConfig()

    def text(key: str, default: str = "") -> str:
        value = section.get(key, default)
        if not isinstance(value, str):
            raise fail(key, f"must be text in quotes, not {value!r}", f'write it as {key} = "..."')
        return value.strip()

    def number(key: str, default: float, low: float) -> float:
        value = section.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low:
            raise fail(key, f"must be a number of at least {low:g}, not {value!r}", f"write it as {key} = {default}")
        return float(value)

    def address(key: str, value: Any) -> str:
        parsed, ok = parse_email(value) if isinstance(value, str) else (None, False)
        if not ok or not parsed or ";" in parsed:
            raise fail(key, f"is not one e-mail address: {value!r}", f'write it as {key} = "name@example.com"')
        return str(parsed)

    def table(key: str) -> dict[str, str]:
        value = section.get(key, {})
        if not isinstance(value, dict):
            raise fail(key, "must be a table of name = address", f'write it as [mail.{key}] with "张伟" = "a@b.cn"')
        return {str(name).strip(): address(f"{key}.{name}", mail) for name, mail in value.items()}

    config.backend = text("backend", "outbox").lower()
    if config.backend not in BACKENDS:
        raise fail("backend", f"'{config.backend}' is not outbox or smtp", 'write backend = "outbox" or "smtp"')
    config.security = text("security", "ssl").lower()
    if config.security not in SECURITY:
        raise fail("security", f"'{config.security}' is not ssl, starttls or none", 'write security = "ssl"')
    config.host = text("host")
    config.port = int(number("port", SECURITY[config.security], 1))
    config.user = text("user")
    config.sender_name = text("sender_name", settings.company)
    raw_sender = text("sender_address")
    config.sender_address = address("sender_address", raw_sender) if raw_sender else ""
    managers = section.get("managers", [])
    if isinstance(managers, str):
        managers = [managers]
    if not isinstance(managers, list):
        raise fail("managers", "must be a list of addresses", 'write managers = ["a@example.com", "b@example.com"]')
    config.managers = [address("managers", m) for m in managers]
    config.owners = table("owners")
    config.owner_managers = table("owner_managers")
    config.overdue_limit_days = int(number("overdue_limit_days", 14, 0))
    config.complaint_warn_hours = number("complaint_warn_hours", 4, 0)
    config.retry_limit = int(number("retry_limit", 3, 1))
    config.sync_every = int(number("sync_every", 20, 1))
    config.timeout = number("timeout", 30, 1)
    config.visits_period = text("visits_period", "week").lower()
    if config.visits_period not in ("week", "month"):
        raise fail("visits_period", f"'{config.visits_period}' is not week or month", 'write visits_period = "week"')
    base = settings.workspace or Path.cwd()
    ca_file = text("ca_file")
    if ca_file:
        config.ca_file = base / ca_file
        if not config.ca_file.is_file():
            raise fail("ca_file", f"names a file that does not exist ({config.ca_file})", "give the CA's .pem file")
    outbox = text("outbox")
    config.outbox = base / outbox if outbox else None
    if config.backend == "smtp":
        if not config.host:
            raise fail("host", "is missing for backend = smtp", 'write host = "smtp.example.com"')
        if not config.sender_address:
            raise fail("sender_address", "is missing for backend = smtp", 'write sender_address = "crm@example.com"')
    if config.security == "none" and config.user:
        raise fail(
            "user",
            "is set with security = none: the password would travel unencrypted",
            'use security = "ssl" or "starttls", or remove user for a relay that needs no login',
        )
    return config


def smtp_password(login: str) -> str:
    """The SMTP password of ``login``: ``CRM_SMTP_PASSWORD``, else the OS keyring. Raises
    ``ConfigError`` (without any secret in it) when neither holds one."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    found = None
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            found = keyring.get_password(KEYRING_SERVICE, login)
        except KeyringError:
            found = None
    except ImportError:  # pragma: no cover - keyring is a dependency
        found = None
    if not found:
        raise ConfigError(
            f"no SMTP password for {login}",
            hint=f"store it once with: keyring set {KEYRING_SERVICE} {login}  (or set the environment variable "
            f"{PASSWORD_ENV} for this run)",
        )
    return found

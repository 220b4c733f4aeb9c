"""The SMTP backend: yagmail opens the connection (SSL on 465 or STARTTLS on 587) and logs in;
each message then goes through the SMTP commands one by one, so the toolkit knows how far
it got when something fails.

Before DATA, a refusal is a definite failure and a dropped connection is harmless (nothing
was handed over: reconnect once and try again). From DATA on, a dropped connection leaves
the message *uncertain*: the server may have taken it. Such a message is never sent again
automatically (at most once beats twice).
"""

from __future__ import annotations

import base64
import smtplib
import ssl
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, ToolkitError
from .config import MailConfig, smtp_password


@dataclass
class SendOutcome:
    status: str  # sent | failed | uncertain
    reply: str = ""
    refused: dict[str, str] = field(default_factory=dict)  # recipients the server refused (when sent to others)


class ConnectionLost(ToolkitError):
    """The connection dropped and could not be made again: the rest of the batch waits for the next run."""


class SenderRefused(ConfigError):
    """The server refuses every message of this sender (no login, a sender it will not relay for):
    a fault of the settings, not of one message. The batch stops; nothing counts as an attempt."""


_SENDER_REFUSED = {530, 535, 550, 551, 553, 554}  # a refusal of MAIL FROM itself


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(words.split())}".strip()


class SmtpBackend:
    name = "smtp"

    def __init__(self, config: MailConfig) -> None:
        self.config = config
        self._password = ""
        self.client: Any = None  # the yagmail.SMTP client once open

    def file_for(self, message, key) -> str:
        return ""

    def open(self) -> None:
        """Connect and log in. A refused login or an untrusted certificate is a ``ConfigError``;
        a server that cannot be reached is a ``ToolkitError``. Neither message holds the password."""
        import yagmail  # type: ignore[import-untyped]

        config = self.config
        login = config.login  # mail.user, else the sender address
        if config.security != "none":
            self._password = smtp_password(login)
        kwargs: dict[str, object] = {"timeout": config.timeout}
        context = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)
        if config.security == "ssl":
            kwargs["context"] = context
        self.client = yagmail.SMTP(
            # a dict keeps yagmail from appending @gmail.com to a login name without one
            user={login or config.from_address(): login or config.from_address()},
            password=self._password or None,
            host=config.host,
            port=config.port,
            smtp_ssl=config.security == "ssl",
            smtp_starttls={"context": context} if config.security == "starttls" else False,
            smtp_skip_login=config.security == "none",
            soft_email_validation=False,
            **kwargs,
        )
        self._login()

    def _login(self) -> None:
        config, where = self.config, f"{self.config.host}:{self.config.port}"
        try:
            self.client.login()
        except smtplib.SMTPAuthenticationError as error:
            raise ConfigError(
                f"the SMTP server {where} refused the login of {config.login} ({self._clean(error)})",
                hint="check mail.user in crm.toml and the password in the keyring or CRM_SMTP_PASSWORD",
            ) from None
        except smtplib.SMTPNotSupportedError as error:
            raise ConfigError(
                f"the SMTP server {where} does not offer login here ({self._clean(error)})",
                hint='check mail.security ("ssl" for port 465, "starttls" for 587)',
            ) from None
        except ssl.SSLCertVerificationError as error:
            raise ConfigError(
                f"the certificate of the SMTP server {where} is not trusted ({error.verify_message})",
                hint="name the company's CA file in mail.ca_file, or check mail.host",
            ) from None
        except ssl.SSLError as error:
            raise ConfigError(
                f"no TLS connection with the SMTP server {where} ({self._clean(error)})",
                hint='check mail.security: "ssl" for port 465, "starttls" for 587',
            ) from None
        except (OSError, smtplib.SMTPException) as error:
            raise ToolkitError(f"cannot reach the SMTP server {where}: {self._clean(error)}") from None

    def _redact(self, text: str) -> str:
        """``text`` with the password cut out, as typed and as the AUTH commands carry it
        (base64), should a server ever echo it in a reply."""
        if not self._password:
            return text
        login = self.config.login or self.config.from_address()
        secrets = {
            self._password,
            base64.b64encode(self._password.encode()).decode(),
            base64.b64encode(f"\0{login}\0{self._password}".encode()).decode(),
        }
        for secret in sorted(secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def _clean_reply(self, code: int, text: bytes | str) -> str:
        """A server's reply as one line, redacted: every reply kept or shown goes through this."""
        return self._redact(_reply(code, text))

    def _clean(self, error: BaseException) -> str:
        """The error as one line, with the password cut out should a server ever echo it."""
        if isinstance(error, smtplib.SMTPResponseException):
            text = _reply(error.smtp_code, error.smtp_error)
        else:
            text = " ".join(str(error).split()) or type(error).__name__
        return self._redact(text)

    def _reconnect(self) -> None:
        try:
            self.client.close()
        except OSError:
            pass
        try:
            self._login()
        except ToolkitError as error:
            raise ConnectionLost(f"the connection to {self.config.host} dropped: {error}") from None

    def send(self, message, data: bytes, sender: str, recipients: list[str], file: str) -> SendOutcome:
        """Hand ``data`` to the server for ``recipients``; reconnect once if the connection is down."""
        for attempt in (1, 2):
            smtp = self.client.smtp
            handed_over = False
            try:
                smtp.ehlo_or_helo_if_needed()  # yagmail greets only when it logs in or starts TLS
                code, text = smtp.mail(sender)
                if code == 421:
                    raise smtplib.SMTPServerDisconnected(self._clean_reply(code, text))
                if code in _SENDER_REFUSED:
                    where = f"{self.config.host}:{self.config.port}"
                    raise SenderRefused(
                        f"the SMTP server {where} refuses to send for {sender} ({self._clean_reply(code, text)})",
                        hint="check mail.user, mail.security and mail.sender_address in crm.toml, "
                        "and the password in the keyring or CRM_SMTP_PASSWORD",
                    )
                if code != 250:
                    smtp.rset()
                    return SendOutcome("failed", self._clean_reply(code, text))
                refused: dict[str, str] = {}
                for recipient in recipients:
                    code, text = smtp.rcpt(recipient)
                    if code == 421:
                        raise smtplib.SMTPServerDisconnected(self._clean_reply(code, text))
                    if code not in (250, 251):
                        refused[recipient] = self._clean_reply(code, text)
                if len(refused) == len(recipients):
                    smtp.rset()
                    return SendOutcome("failed", "; ".join(refused.values()), refused)
                handed_over = True
                code, text = smtp.data(data)
                if code != 250:
                    return SendOutcome("failed", self._clean_reply(code, text))
                return SendOutcome("sent", self._clean_reply(code, text), refused)
            except OSError as error:  # SMTP errors are OSErrors too, as are timeouts and resets
                if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code != 421:
                    return SendOutcome("failed", self._clean(error))  # a refusal: nothing was delivered
                if handed_over:
                    return SendOutcome("uncertain", self._clean(error))
                if attempt == 2:
                    lost = f"the connection to {self.config.host} dropped: {self._clean(error)}"
                    raise ConnectionLost(lost) from None
            self._reconnect()
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except OSError:
                pass
            self.client = None

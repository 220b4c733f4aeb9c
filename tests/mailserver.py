"""A real SMTP server on loopback for the mail tests: aiosmtpd with AUTH, TLS (a self-signed
certificate made here, SSL on connect or STARTTLS), and faults on demand."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "crm@example.com", "Tr0ub4dor-&-3"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Handler:
    """Stores what it receives; refuses recipients, drops connections and logins on demand."""

    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    reject: set[str] = field(default_factory=set)  # RCPT TO these gets 550
    close_after: int | None = None  # after this many messages, every MAIL drops the connection
    drop_in_data: bool = False  # take the message, then drop the connection instead of answering
    echo: str = ""  # a careless server: this text (the password) in its replies to RCPT and DATA
    logins: int = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.close_after is not None and len(self.received) >= self.close_after:
            server.transport.close()
            return "421 4.3.2 Service shutting down"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown {self.echo}".strip()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        if self.drop_in_data:
            server.transport.close()
            return "250 OK"  # never reaches the client
        return f"250 2.0.0 OK queued {self.echo}".strip()

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(data, policy=policy.default) for _, _, data in self.received]  # type: ignore[misc]


@dataclass
class Server:
    host: str
    port: int
    handler: Handler
    cert: Path
    security: str
    controller: Controller

    def mail_config(self, **extra: object) -> str:
        """The [mail] section of crm.toml that points at this server."""
        lines = [
            "[mail]",
            'backend = "smtp"',
            f'host = "{self.host}"',
            f"port = {self.port}",
            f'security = "{self.security}"',
            f'user = "{USER}"',
            'sender_name = "星海示范集团 客户服务部"',
            f'sender_address = "{USER}"',
            f'ca_file = "{self.cert.as_posix()}"',
            "timeout = 10",
        ]
        lines += [f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"' for k, v in extra.items()]
        return "\n".join(lines) + "\n"


def start_server(folder: Path, security: str = "ssl") -> Server:
    """aiosmtpd on 127.0.0.1 at a free port, with AUTH, over SSL on connect or STARTTLS."""
    cert, key = make_certificate(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Handler()

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        handler.logins += ok
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    port = free_port()
    options: dict[str, object] = {"authenticator": authenticate, "auth_required": True}
    if security == "ssl":
        # with TLS from the first byte aiosmtpd cannot tell the session is encrypted: AUTH must be
        # allowed "without" TLS (aio-libs/aiosmtpd#281)
        controller = Controller(
            handler, hostname="127.0.0.1", port=port, ssl_context=context, auth_require_tls=False, **options
        )
    else:
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=port,
            tls_context=context,
            require_starttls=True,
            auth_require_tls=True,
            **options,
        )
    controller.start()
    return Server("127.0.0.1", port, handler, cert, security, controller)

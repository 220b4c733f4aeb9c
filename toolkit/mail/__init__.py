"""E-mail: messages rendered from templates, delivered at most once each (outbox or SMTP),
and the reminders of ``crm remind``.

    from toolkit.mail import Message, Attachment, deliver, render
    subject, html, text = render("visits", "zh", workspace=settings.workspace, **context)
    result = deliver([Message(...)], settings, now=now)
"""

from .config import MailConfig, mail_config
from .delivery import DeliveryResult, deliver
from .log import add_sent_log_sheet, sent_log
from .messages import Attachment, Message, render
from .remind import KINDS, RemindResult, remind

__all__ = [
    "KINDS",
    "Attachment",
    "DeliveryResult",
    "MailConfig",
    "Message",
    "RemindResult",
    "add_sent_log_sheet",
    "deliver",
    "mail_config",
    "remind",
    "render",
    "sent_log",
]

"""E-mail: messages rendered from templates, delivered at most once each (outbox or SMTP),
and the sent log. The reminders of ``crm remind`` are in ``toolkit.remind``.

    from toolkit.mail import Message, Attachment, deliver, render
    subject, html, text = render("visits", "zh", workspace=settings.workspace, **context)
    result = deliver([Message(...)], settings, now=now)
"""

from .config import MailConfig, mail_config
from .delivery import DeliveryResult, deliver
from .log import add_sent_log_sheet, sent_log
from .messages import Attachment, Message, render

__all__ = [
    "Attachment",
    "DeliveryResult",
    "MailConfig",
    "Message",
    "add_sent_log_sheet",
    "deliver",
    "mail_config",
    "render",
    "sent_log",
]

"""The workspace's log file (``logs/crm.log``, rotated at 1 MB, five kept), with personal data masked.

Phone numbers (mobiles, landlines) and e-mail addresses never reach the file: ``mask`` keeps
just enough to recognise them (``138****5678``, ``0755-****5678``, ``z***@example.cn``).
"""

from __future__ import annotations

import hashlib
import logging
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_NAME = "logs/crm.log"
MAX_BYTES = 1_000_000
BACKUPS = 5

_MOBILE = re.compile(r"(?<![\d])(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<![\d])\(?(0\d{2,3})\)?[- ]?(\d{3,4})[- ]?(\d{4})(?!\d)")
_SERVICE = re.compile(r"(?<![\d])([48]00)[- ]?(\d{3})[- ]?(\d{4})(?!\d)")  # 400-800-8888
# a local number without its area code, only where the text says it is one (an amount is not)
_LOCAL = re.compile(r"((?:电话|手机|座机|联系方式|tel|phone)\D{0,4}?)(\d{3,4})[- ]?(\d{4})(?!\d)", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.+-])([\w])[\w.+-]*@([\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,})")


def mask(text: str) -> str:
    """``text`` with Chinese mobile and landline numbers and e-mail addresses masked."""
    text = _EMAIL.sub(r"\1***@\2", text)
    text = _MOBILE.sub(r"\1****\3", text)
    text = _SERVICE.sub(r"\1-***-\3", text)
    text = _LANDLINE.sub(r"\1-****\3", text)
    return _LOCAL.sub(r"\1****\3", text)


class _MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


def open_log(workspace: Path) -> logging.Logger:
    """A logger writing to ``workspace/logs/crm.log`` (created on the first line)."""
    path = workspace / LOG_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha1(str(path.resolve()).encode("utf-8")).hexdigest()[:12]
    logger = logging.getLogger(f"crm.schedule.{key}")
    close_log(logger)
    handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True)
    handler.setFormatter(_MaskingFormatter("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def close_log(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()

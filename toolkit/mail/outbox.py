"""The outbox backend: each message a standard .eml file (Outlook, Foxmail and Thunderbird open
it; marked ``X-Unsent`` so Outlook opens it as a draft that can be sent), in
``outbox/KIND/PERIOD/``. The index workbook beside them is written by ``log.write_index``."""

from __future__ import annotations

import os
from pathlib import Path

from .smtp import SendOutcome

_SAFE = str.maketrans({c: "_" for c in '\\/:*?"<>|, '})


class OutboxBackend:
    name = "outbox"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def file_for(self, message, key: tuple[str, str, str, str]) -> str:
        kind, period, recipient, digest = key
        name = f"{recipient.translate(_SAFE)}_{digest[:8]}.eml"
        return str(self.folder / kind.translate(_SAFE) / period.translate(_SAFE) / name)

    def send(self, message, data: bytes, sender: str, recipients: list[str], file: str) -> SendOutcome:
        """Write the file whole or not at all (a temporary file, then an atomic rename)."""
        path = Path(file)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".eml.part")
        partial.write_bytes(b"X-Unsent: 1\r\n" + data)  # Outlook opens it as a draft, ready to send
        os.replace(partial, path)
        return SendOutcome("sent", str(path))

    def close(self) -> None:
        pass

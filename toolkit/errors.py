"""The exception hierarchy and the exit codes of the ``crm`` command.

Findings about the data in a ledger are not exceptions (see ``toolkit.model.Finding``);
these are for when a job cannot run at all.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1  # only with --strict: validation found errors
EXIT_FAILURE = 1
EXIT_INPUT = 2


class ToolkitError(Exception):
    """Anything the toolkit itself reports; ``cli.py`` prints it as one line."""

    exit_code = EXIT_FAILURE


class InputError(ToolkitError):
    """The input or the usage is wrong. Carries where (file, sheet, cell) and how to fix it."""

    exit_code = EXIT_INPUT

    def __init__(
        self,
        message: str,
        *,
        file: object | None = None,
        sheet: str | None = None,
        cell: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.sheet = sheet
        self.cell = cell
        self.hint = hint

    def __str__(self) -> str:
        where = [p for p in (self.file, self.sheet and f"sheet {self.sheet}", self.cell) if p]
        text = f"{': '.join(where)}: {self.message}" if where else self.message
        if self.hint:
            text += f" — {self.hint}"
        return " ".join(text.split())  # always one line


class ConfigError(InputError):
    """The workspace config or the rules workbook is wrong."""

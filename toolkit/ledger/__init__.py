"""Reading the users' ledgers (writing back into them is ``toolkit.writeback``)."""

from .reader import read_ledger
from .source import PASSWORD_ENV, owner_file

__all__ = ["PASSWORD_ENV", "owner_file", "read_ledger"]

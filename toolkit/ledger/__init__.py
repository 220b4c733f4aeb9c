"""Reading the users' ledgers (and, separately, writing back into them)."""

from .reader import read_ledger
from .source import PASSWORD_ENV, owner_file

__all__ = ["PASSWORD_ENV", "owner_file", "read_ledger"]

"""Customer-relationship jobs over the Excel ledgers teams already keep."""

from .ledger import read_ledger

__all__ = ["read_ledger"]
__version__ = "0.1.0"

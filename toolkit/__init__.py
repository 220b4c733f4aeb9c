"""Customer-relationship jobs over the Excel ledgers teams already keep.

The public API: read a ledger, load a workspace's settings, and run the jobs as functions
that return data (the ``crm`` command is a thin wrapper over these).
"""

from .classify import classify
from .config import load_settings
from .demo import make_demo
from .ledger import read_ledger
from .plan import plan
from .remind import remind
from .report import report, report_group
from .validate import validate
from .workspace import init_workspace
from .writeback import write_job_columns

__all__ = [
    "classify",
    "init_workspace",
    "load_settings",
    "make_demo",
    "plan",
    "read_ledger",
    "remind",
    "report",
    "report_group",
    "validate",
    "write_job_columns",
]
__version__ = "0.1.0"

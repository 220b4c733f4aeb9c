"""Customer-relationship jobs over the Excel ledgers teams already keep.

The public API: read a ledger, load a workspace's settings, and run the jobs as functions
that return data (the ``crm`` command is a thin wrapper over these).
"""

# Each job's room is a package of the same name as its function (toolkit/classify/ and
# classify()); binding the functions here, after their rooms are loaded, keeps toolkit.remind,
# toolkit.classify … the functions whatever a later import loads.
from . import remind as _remind_room  # noqa: F401  (loaded before the remind() below binds the name)
from .classify import classify
from .config import load_settings
from .demo import make_demo
from .ledger import read_ledger
from .pipeline import remind
from .plan import plan
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

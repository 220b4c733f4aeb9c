"""Customer-relationship jobs over the Excel ledgers teams already keep.

The public API: read a ledger, load a workspace's settings, and run the jobs as functions
that return data (the ``crm`` command is a thin wrapper over these). Each is imported from
its room when first used (``toolkit.rooms``).
"""

from typing import TYPE_CHECKING

from .rooms import on_first_use

if TYPE_CHECKING:  # what a type checker and an editor see: the same names, imported
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


_ROOMS = {
    "classify": ".classify",
    "init_workspace": ".workspace",
    "load_settings": ".config",
    "make_demo": ".demo",
    "plan": ".plan",
    "read_ledger": ".ledger",
    "remind": ".pipeline",
    "report": ".report",
    "report_group": ".report",
    "validate": ".validate",
    "write_job_columns": ".writeback",
}
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
on_first_use(__name__)

"""Customer-relationship jobs over the Excel ledgers teams already keep.

The public API: read a ledger, load a workspace's settings, and run the jobs as functions
that return data (the ``crm`` command is a thin wrapper over these). Each is imported from
its room when first used (``toolkit.rooms``).
"""

from .rooms import on_first_use

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
__all__ = sorted(_ROOMS)
__version__ = "0.1.0"
on_first_use(__name__)

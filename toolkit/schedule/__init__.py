"""``crm schedule``: run the jobs on the workspace's timetable, catching up what the PC missed.

Rooms: ``timetable`` (the [[schedule.jobs]] entries of crm.toml), ``slots`` (pure: which slots
are due), ``history`` (the run tables in state.sqlite), ``runner`` (one job as a child process),
``lock`` (one scheduler per workspace), ``service`` (a pass, the loop, status), ``install``
(Task Scheduler, cron, systemd), ``log`` (logs/crm.log, personal data masked), ``commands``
(the Typer sub-app).
"""

from typing import TYPE_CHECKING

from ..rooms import on_first_use

if TYPE_CHECKING:  # what a type checker and an editor see: the same names, imported
    from .install import plan_install
    from .log import mask
    from .service import prepare, run_once, serve, status, system_clock
    from .timetable import Entry, When, load_timetable, parse_when


_ROOMS = {
    "Entry": ".timetable",
    "When": ".timetable",
    "load_timetable": ".timetable",
    "mask": ".log",
    "parse_when": ".timetable",
    "plan_install": ".install",
    "prepare": ".service",
    "run_once": ".service",
    "serve": ".service",
    "status": ".service",
    "system_clock": ".service",
}
__all__ = [
    "Entry",
    "When",
    "load_timetable",
    "mask",
    "parse_when",
    "plan_install",
    "prepare",
    "run_once",
    "serve",
    "status",
    "system_clock",
]
on_first_use(__name__)

"""``crm schedule``: run the jobs on the workspace's timetable, catching up what the PC missed.

Rooms: ``timetable`` (the [[schedule.jobs]] entries of crm.toml), ``slots`` (pure: which slots
are due), ``history`` (the run tables in state.sqlite), ``runner`` (one job as a child process),
``lock`` (one scheduler per workspace), ``service`` (a pass, the loop, status), ``install``
(Task Scheduler, cron, systemd), ``log`` (logs/crm.log, personal data masked), ``commands``
(the Typer sub-app).
"""

from ..rooms import on_first_use

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

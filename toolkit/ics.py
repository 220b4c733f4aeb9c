"""The visit plan as an iCalendar file per owner (plan's .ics, and the visit reminders' attachment)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from pathlib import Path

from .facts.schedule import Visit
from .i18n import label
from .model import Ledger


def write_ics(path: Path, ledger: Ledger, today: date, owner: str, visits: list[Visit], lang: str) -> Path:
    """One calendar event per planned visit of ``owner`` (customer, kind, way, contact, address);
    stable UIDs, so a re-sent plan updates the events instead of adding them twice."""
    from icalendar import Calendar, Event

    customers = ledger.customer_sheet
    cal = Calendar()
    cal.add("prodid", "-//crm toolkit//visit plan//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{owner} {label('plan.title', lang)}")
    stamp = datetime(today.year, today.month, today.day)
    for v in visits:
        if v.date is None:
            continue
        i = v.due.row
        name = customers.column("name")[i] or ""
        event = Event()
        key = f"{owner}|{customers.column('customer_id')[i] or name}|{v.due.kind}|{v.date.isoformat()}"
        event.add("uid", hashlib.sha1(key.encode("utf-8")).hexdigest() + "@crm-toolkit")
        event.add("dtstamp", stamp)
        event.add("dtstart", v.date)
        event.add("dtend", v.date + timedelta(days=1))
        event.add("summary", label("plan.ics_summary", lang, customer=name, kind=v.due.kind))
        details = [f"{label('col.way', lang)}: {v.due.way}"]
        for key_name, col in (("contact", "col.contact"), ("phone", "col.phone")):
            value = customers.column(key_name)[i]
            if value:
                details.append(f"{label(col, lang)}: {value}")
        event.add("description", "\n".join(details))
        address = customers.column("address")[i] or customers.column("city")[i]
        if address:
            event.add("location", address)
        cal.add_component(event)
    path.write_bytes(cal.to_ical())
    return path

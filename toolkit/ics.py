"""The visit plan as an iCalendar file per owner (plan's .ics, and the visit reminders' attachment)."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

from .facts.schedule import Visit
from .i18n import label
from .model import Ledger


def write_ics(path: Path, ledger: Ledger, today: date, owner: str, visits: list[Visit], lang: str) -> Path:
    """One calendar event per planned visit of ``owner`` (customer, kind, way, who goes, purpose,
    content, contact, address), the calendar named after ``owner`` (the person whose it is);
    stable UIDs, so a re-sent plan updates the events instead of adding them twice. Written as
    RFC 5545 text directly (escaped, folded at 75 octets): a thousand times the events cost what
    a thousand events do, where building the calendar's objects cost seconds at 100k visits."""
    customers = ledger.customer_sheet
    names, ids = customers.column("name"), customers.column("customer_id")
    contacts, phones = customers.column("contact"), customers.column("phone")
    addresses, cities = customers.column("address"), customers.column("city")
    way_label, contact_label, phone_label = (label(k, lang) for k in ("col.way", "col.contact", "col.phone"))
    visitors_label, purpose_label, content_label = (
        label(k, lang) for k in ("plan.ics_visitors", "plan.ics_purpose", "plan.ics_content")
    )
    stamp = f"{today:%Y%m%d}T000000Z"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//crm toolkit//visit plan//ZH",
        "X-WR-CALNAME:" + _text(f"{owner} {label('plan.title', lang)}"),
    ]
    for v in visits:
        if v.date is None:
            continue
        i = v.due.row
        name = names[i] or ""
        key = f"{v.owner}|{ids[i] or name}|{v.due.kind}|{v.date.isoformat()}"  # one event in every visitor's calendar
        details = [f"{way_label}: {v.due.way}"]
        if v.visitors:
            details.append(f"{visitors_label}: {'、'.join(v.visitors)}")
        if v.purpose:
            details.append(f"{purpose_label}: {v.purpose}")
        if v.content:
            details.append(f"{content_label}: {v.content}")
        if contacts[i]:
            details.append(f"{contact_label}: {contacts[i]}")
        if phones[i]:
            details.append(f"{phone_label}: {phones[i]}")
        lines += [
            "BEGIN:VEVENT",
            "SUMMARY:" + _text(label("plan.ics_summary", lang, customer=name, kind=v.due.kind)),
            f"DTSTART;VALUE=DATE:{v.date:%Y%m%d}",
            f"DTEND;VALUE=DATE:{v.date + timedelta(days=1):%Y%m%d}",
            f"DTSTAMP:{stamp}",
            f"UID:{hashlib.sha1(key.encode('utf-8')).hexdigest()}@crm-toolkit",
            "DESCRIPTION:" + _text("\n".join(details)),
        ]
        address = addresses[i] or cities[i]
        if address:
            lines.append("LOCATION:" + _text(address))
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    path.write_bytes("".join(_fold(line) + "\r\n" for line in lines).encode("utf-8"))
    return path


def _text(value: str) -> str:
    """An iCalendar TEXT value: backslash, semicolon, comma and newline escaped."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\n").replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """A content line folded at 75 octets (a CRLF and a space before each continuation), never
    inside a UTF-8 character."""
    if len(line) <= 25 or len(line.encode("utf-8")) <= 75:
        return line
    parts, current, size = [], [], 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > (75 if not parts else 74):
            parts.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)

"""Each complaint's state, once for every job: received, replied, resolved, reply hours.

Resolved is evidenced, in this order, by a yes/no column (是否解决), a resolution date
(解决时间 / 结案时间) or a result text (处理结果: 已处理, 已解决, 已更换 …; a text that says it
is not done, such as 处理中 or 未解决, is not resolved). A complaint with none of these is open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ..ledger.coerce import parse_bool
from ..model import COMPLAINTS, Ledger
from ..relations import CustomerIndex

# A result text that says the complaint is not (yet) done wins over one that says it is; a
# text that names only a step on the way (已受理, 已回复, 已转技术部) says neither: still open.
_NOT_DONE = re.compile(
    r"未|没|尚未|还没|待|处理中|跟进中|进行中|调查中|处理不了|无法(解决|处理)|不能(解决|处理)"
    r"|\b(pending|open|in progress|ongoing|unresolved|not (yet )?(resolved|done|fixed|closed|handled))\b",
    re.IGNORECASE,
)
_DONE = re.compile(
    r"已(处理|解决|完成|结案|关闭|办结|更换|退款|退货|赔偿|补发|修复|维修好|整改|回访)|处理完|完成处理|处理好"
    r"|解决完|已妥善|结案|办结|\b(resolved|closed|done|fixed|completed|solved|handled)\b",
    re.IGNORECASE,
)


def resolved_by_text(text: str | None) -> bool | None:
    """What a 处理结果 text says: True (已处理, 已更换, 处理完毕), False (处理中, 未解决),
    None (nothing to go by, or only a step such as 已受理). 是/否 and the other yes/no words
    read as they do in a 是否解决 column."""
    if not text:
        return None
    flag, readable = parse_bool(text)
    if readable and flag is not None:
        return flag
    if _NOT_DONE.search(text):
        return False
    return True if _DONE.search(text) else None


@dataclass(frozen=True)
class ComplaintState:
    position: int  # data row of the complaint sheet
    row: int  # 1-based Excel row
    customer: int | None  # customer row index, None when the complaint names no known customer
    complaint_id: str
    received: datetime | None
    replied: datetime | None
    resolved: bool
    resolved_on: datetime | None
    category: str
    handler: str
    serious: bool = False  # 严重抱怨: the severity column says 严重 (002 lists them on their own)

    @property
    def reply_hours(self) -> float | None:
        """Hours from receipt to the first reply (negative when the reply is dated earlier: a data error)."""
        if self.received is None or self.replied is None:
            return None
        return (self.replied - self.received).total_seconds() / 3600

    def replied_within(self, hours: float) -> bool:
        taken = self.reply_hours
        return taken is not None and 0 <= taken <= hours

    def open_hours(self, now: datetime) -> float | None:
        """Hours the complaint has been waiting at ``now``, None once resolved or undated."""
        if self.resolved or self.received is None:
            return None
        return (now - self.received).total_seconds() / 3600


def complaint_states(ledger: Ledger, index: CustomerIndex) -> list[ComplaintState]:
    """The state of every complaint row, in sheet order (empty without a complaint sheet)."""
    sheet = ledger.tables.get(COMPLAINTS)
    if sheet is None:
        return []
    ids, received, replied = sheet.column("complaint_id"), sheet.column("received"), sheet.column("replied")
    flags, closed, results = sheet.column("resolved"), sheet.column("resolved_on"), sheet.column("result")
    categories, handlers = sheet.column("category"), sheet.column("handler")
    severities = sheet.column("severity")
    out = []
    for j, (customer, _) in enumerate(index.match(sheet)):
        flag = flags[j]
        if flag is None:
            flag = True if closed[j] is not None else resolved_by_text(results[j])
        out.append(
            ComplaintState(
                j,
                sheet.rows[j],
                customer,
                ids[j] or "",
                received[j],
                replied[j],
                bool(flag),
                closed[j],
                categories[j] or "",
                handlers[j] or "",
                is_serious(severities[j]),
            )
        )
    return out


_SERIOUS = ("严重", "重大", "紧急", "serious", "critical", "high", "major")
_NOT_SERIOUS = ("不严重", "非严重", "一般", "轻微")


def is_serious(severity: str | None) -> bool:
    """A complaint marked 严重 (重大, 紧急 …) in the ledger's severity column; 一般 or 不严重 is not."""
    text = (severity or "").strip().lower()
    return bool(text) and not text.startswith(_NOT_SERIOUS) and any(word in text for word in _SERIOUS)

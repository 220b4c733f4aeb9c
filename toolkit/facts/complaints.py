"""Each complaint's state, once for every job: received, replied, resolved, reply hours.

Resolved is evidenced, in this order, by a yes/no column (是否解决), a resolution date
(解决时间 / 结案时间) or a result text (处理结果: 已处理, 已解决, 已更换 …; a text that says it
is not done, such as 处理中 or 未解决, is not resolved). A complaint with none of these is open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ..model import COMPLAINTS, Ledger
from ..relations import CustomerIndex

# a result text that says the complaint is not (yet) done wins over one that says it is
_NOT_DONE = re.compile(r"未|待|处理中|跟进中|进行中|调查中|无法|不能|暂无|pending|open|in progress", re.IGNORECASE)
_DONE = re.compile(r"已|完成|解决|结案|关闭|更换|退款|退货|赔偿|补发|维修好|closed|resolved|done|fixed", re.IGNORECASE)


def resolved_by_text(text: str | None) -> bool | None:
    """What a 处理结果 text says: True (已处理), False (处理中), None (nothing to go by)."""
    if not text:
        return None
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
            )
        )
    return out

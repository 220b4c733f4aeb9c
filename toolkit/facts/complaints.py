"""Each complaint's state, once for every job: received, replied, resolved, reply hours, the
stage it has reached and the time promised for it.

Resolved is evidenced, in this order, by a yes/no column (是否解决), a resolution date
(解决时间 / 结案时间), a result text (处理结果: 已处理, 已解决, 已更换 …; a text that says it
is not done, such as 处理中 or 未解决, is not resolved) or a stage of 反馈 or 结案. A complaint
with none of these is open.

The stages are 004's: 受理 (intake, with a promised handling time) → 调查 → 处理 → 反馈 (the
result told to the customer, whose opinion is asked) → 结案. The stage reached is the furthest
one that a status column (处理阶段), a stage's date (调查时间, 处理时间, 反馈时间/回访时间) or the
resolution says. The promise is a time (承诺完成时间) or a span from receipt (承诺时限: 48,
48小时, 3天); a complaint without one is held to the rules' handling limit (风险规则
complaint_open), and the report says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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
    stage: str = "received"  # the furthest of STAGES reached
    promised_by: datetime | None = None  # the promised handling time, when the row gives one
    owner: str = ""  # the customer's account manager
    feedback: str = ""  # the customer's opinion of the result (反馈 stage)

    handled_on: datetime | None = None  # the handling date, else the feedback date

    @property
    def done_on(self) -> datetime | None:
        """When handling was finished: the resolution date, else the handling or feedback date."""
        return self.resolved_on or (self.handled_on if self.resolved else None)

    def due_by(self, default_hours: float) -> datetime | None:
        """The promised time, or ``default_hours`` after receipt when none was promised."""
        if self.promised_by is not None:
            return self.promised_by
        return self.received + timedelta(hours=default_hours) if self.received else None

    def kept_promise(self, default_hours: float) -> bool:
        """Resolved, with a date, no later than the promised time (``due_by``)."""
        due, done = self.due_by(default_hours), self.done_on
        return self.resolved and due is not None and done is not None and done <= due

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


def complaint_limits(rules: Any) -> tuple[float, float]:
    """(reply, handling) hours: the rules' 投诉超时未回复 and 投诉未解决 thresholds, 24 h each by
    default. The handling limit is what a complaint without a promised time is held to."""

    def hours(code: str) -> float:
        rule = rules.risks.get(code)
        threshold = rule.threshold if rule else None
        return float(threshold) if isinstance(threshold, (int, float)) else 24.0

    return hours("complaint_unanswered"), hours("complaint_open")


def complaint_states(ledger: Ledger, index: CustomerIndex) -> list[ComplaintState]:
    """The state of every complaint row, in sheet order (empty without a complaint sheet)."""
    sheet = ledger.tables.get(COMPLAINTS)
    if sheet is None:
        return []
    ids, received, replied = sheet.column("complaint_id"), sheet.column("received"), sheet.column("replied")
    flags, closed, results = sheet.column("resolved"), sheet.column("resolved_on"), sheet.column("result")
    categories, handlers = sheet.column("category"), sheet.column("handler")
    severities, stages = sheet.column("severity"), sheet.column("stage")
    promised, spans = sheet.column("promised"), sheet.column("promised_hours")
    in_days = sheet.has("promised_hours") and _DAYS.search(sheet.columns["promised_hours"].header) is not None
    investigated, handled = sheet.column("investigated"), sheet.column("handled")
    feedback_on, feedback = sheet.column("feedback_on"), sheet.column("feedback")
    owners = ledger.customer_sheet.column("owner")
    out = []
    for j, (customer, _) in enumerate(index.match(sheet)):
        typed_stage = stage_of_text(stages[j])
        flag = flags[j]
        if flag is None:
            flag = True if closed[j] is not None else resolved_by_text(results[j])
        if flag is None:  # a status column says it too: 已解决, 处理中, 已结案, 已回访
            flag = resolved_by_text(stages[j])
        if flag is None and typed_stage in ("feedback", "closed"):
            flag = True
        reached = [typed_stage or "received"]
        reached += ["investigating"] if investigated[j] else []
        reached += ["handling"] if handled[j] or flag else []
        reached += ["feedback"] if feedback_on[j] or feedback[j] else []
        reached += ["closed"] if flag and (feedback_on[j] or feedback[j]) else []
        promise = promised[j]
        if promise is None and received[j] is not None:
            span = promised_hours(spans[j], days=in_days)
            promise = received[j] + timedelta(hours=span) if span is not None else None
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
                max(reached, key=STAGES.index),
                promise,
                (owners[customer] or "") if customer is not None else "",
                feedback[j] or "",
                handled[j] or feedback_on[j],
            )
        )
    return out


STAGES = ("received", "investigating", "handling", "feedback", "closed")  # 受理 调查 处理 反馈 结案
_STAGE_WORDS = (  # checked in this order: the furthest stage a text names
    ("closed", re.compile(r"结案|关闭|办结|完结|closed", re.IGNORECASE)),
    ("feedback", re.compile(r"反馈|回访|feedback|follow[- ]?up", re.IGNORECASE)),
    ("handling", re.compile(r"处理|整改|更换|退换|维修|解决|handl|resolv|fix", re.IGNORECASE)),
    ("investigating", re.compile(r"调查|核实|核查|分析|investigat", re.IGNORECASE)),
    ("received", re.compile(r"受理|登记|接收|新建|received|new|open", re.IGNORECASE)),
)


def stage_of_text(text: str | None) -> str | None:
    """The stage a status text names (受理, 调查中, 处理中, 已回访, 已结案 …), None for none."""
    for stage, words in _STAGE_WORDS:
        if text and words.search(text):
            return stage
    return None


_DAYS = re.compile(r"天|日|day", re.IGNORECASE)
_SPAN = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(小时|小時|钟头|h|hours?|hrs?|天|日|工作日|d|days?|周|週|w|weeks?)?\s*$", re.IGNORECASE
)


def promised_hours(value: str | None, *, days: bool = False) -> float | None:
    """A promised span in hours: 48, '48小时', '48h', '3天', '2 days', '1周'; a bare number is
    days when the header says so (承诺时限(天)). None when it cannot be read."""
    found = _SPAN.match(str(value)) if value is not None else None
    if not found:
        return None
    number, unit = float(found.group(1)), (found.group(2) or "").lower()
    if unit in ("周", "週", "w") or unit.startswith("week"):
        return number * 24 * 7
    if unit in ("天", "日", "工作日", "d") or unit.startswith("day") or (not unit and days):
        return number * 24
    return number


_SERIOUS = ("严重", "重大", "紧急", "serious", "critical", "high", "major")
_NOT_SERIOUS = ("不严重", "非严重", "一般", "轻微")


def is_serious(severity: str | None) -> bool:
    """A complaint marked 严重 (重大, 紧急 …) in the ledger's severity column; 一般 or 不严重 is not."""
    text = (severity or "").strip().lower()
    return bool(text) and not text.startswith(_NOT_SERIOUS) and any(word in text for word in _SERIOUS)

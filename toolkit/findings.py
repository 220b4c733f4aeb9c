"""The one catalogue of finding codes: default severity, and message and hint per language.

Reports, the rules workbook, the README and the tests all read this table. A message is a
``str.format`` template over the finding's details (``field``, ``value``, ``rows`` …).
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Severity


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity
    title_zh: str
    title_en: str
    message_zh: str
    message_en: str
    hint_zh: str
    hint_en: str

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en


CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code(
            "missing_column",
            "error",
            "缺少必填列",
            "Required column missing",
            "找不到必填列「{field}」",
            "no column for the required field '{field}'",
            "在表头加一列「{field}」，或在工作区配置 [columns.{table_key}] 中写明你的列名",
            "add a '{field}' column, or name yours under [columns.{table_key}] in the workspace config",
        ),
        Code(
            "required_missing",
            "error",
            "必填项为空",
            "Required value empty",
            "{field}为空",
            "{field} is empty",
            "填写{field}",
            "fill in {field}",
        ),
        Code(
            "contact_missing",
            "error",
            "电话和邮箱都为空",
            "No phone and no e-mail",
            "电话和邮箱都没有填写",
            "neither a phone number nor an e-mail address",
            "至少填写一个联系电话或电子邮箱",
            "fill in a phone number or an e-mail address",
        ),
        Code(
            "bad_date",
            "error",
            "日期无法识别",
            "Unreadable date",
            "{field}「{value}」不是可识别的日期",
            "{field} '{value}' is not a date",
            "写成 2024-03-05 或 2024/3/5，或把单元格设为日期格式",
            "type it as 2024-03-05, or format the cell as a date",
        ),
        Code(
            "bad_amount",
            "error",
            "金额无法识别",
            "Unreadable amount",
            "{field}「{value}」不是可识别的金额",
            "{field} '{value}' is not an amount",
            "只写数字和单位，如 2000、2000万、1.2亿",
            "type a number with an optional unit: 2000, 2000万, 1.2亿",
        ),
        Code(
            "bad_percent",
            "error",
            "比例无法识别",
            "Unreadable percentage",
            "{field}「{value}」不是可识别的比例",
            "{field} '{value}' is not a percentage",
            "写成 5% 或 0.05",
            "type it as 5% or 0.05",
        ),
        Code(
            "bad_phone",
            "warning",
            "电话格式不对",
            "Phone number malformed",
            "{field}「{value}」不像有效的电话号码",
            "{field} '{value}' does not look like a phone number",
            "手机写 11 位；座机带区号，如 010-12345678；多个号码用分号隔开",
            "mobile: 11 digits; landline with area code, e.g. 010-12345678; separate several with ';'",
        ),
        Code(
            "bad_email",
            "error",
            "邮箱格式不对",
            "E-mail malformed",
            "{field}「{value}」不是有效的电子邮箱",
            "{field} '{value}' is not an e-mail address",
            "写成 name@example.com；多个地址用分号隔开",
            "type it as name@example.com; separate several with ';'",
        ),
        Code(
            "bad_enum",
            "warning",
            "不在可选值中",
            "Not an allowed value",
            "{field}「{value}」不在可选值中（{allowed}）",
            "{field} '{value}' is not one of: {allowed}",
            "改成可选值之一；可选值在规则工作簿的「取值范围」表中维护",
            "use one of the allowed values; they are kept in the rules workbook, sheet 'Values'",
        ),
        Code(
            "bad_number",
            "error",
            "数值无法识别",
            "Unreadable number",
            "{field}「{value}」不是可识别的数值",
            "{field} '{value}' is not a number",
            "只填数字，如 4.5 或 90",
            "type a number, e.g. 4.5 or 90",
        ),
        Code(
            "bad_bool",
            "warning",
            "是/否无法识别",
            "Not a yes/no",
            "{field}「{value}」应为 是 或 否",
            "{field} '{value}' should be yes or no",
            "填写 是 或 否",
            "type 是 or 否 (yes / no)",
        ),
        Code(
            "formula_error",
            "error",
            "公式错误",
            "Formula error",
            "{field}（{cell}）显示公式错误 {value}，值无法读取",
            "{field} ({cell}) shows the formula error {value}: its value cannot be read",
            "在 Excel 中修正该单元格的公式（#REF! 多为引用的行或列被删，#DIV/0! 为除以零，"
            "#N/A 为查找不到），或直接填写值",
            "fix the cell's formula in Excel (#REF!: a referenced row or column was deleted; #DIV/0!: division by zero;"
            " #N/A: a lookup found nothing), or type the value",
        ),
        Code(
            "future_date",
            "error",
            "日期在未来",
            "Date in the future",
            "{field} {value} 晚于今天（{today}）",
            "{field} {value} is after today ({today})",
            "检查年份和月份是否写反",
            "check the year and the month",
        ),
        Code(
            "share_range",
            "error",
            "比例超出 0–100%",
            "Share outside 0–100 %",
            "{field} {value}% 不在 0–100% 之间",
            "{field} {value}% is not within 0–100 %",
            "填写 0 到 100 之间的百分比",
            "type a percentage between 0 and 100",
        ),
        Code(
            "negative_amount",
            "warning",
            "金额为负",
            "Negative amount",
            "{field}为负数：{value}",
            "{field} is negative: {value}",
            "确认是否为退货或冲销；否则改为正数",
            "check whether it is a return; otherwise make it positive",
        ),
        Code(
            "reply_before_received",
            "error",
            "回复早于投诉",
            "Reply before complaint",
            "回复时间 {value} 早于投诉时间 {received}",
            "replied {value}, before the complaint came in ({received})",
            "检查两个时间是否填反",
            "check whether the two times are swapped",
        ),
        Code(
            "stage_before_received",
            "error",
            "处理早于投诉",
            "Step before complaint",
            "{field} {value} 早于投诉时间 {received}",
            "{field} {value} is before the complaint came in ({received})",
            "检查日期是否填错或填反",
            "check whether the dates are wrong or swapped",
        ),
        Code(
            "duplicate_id",
            "error",
            "客户编号重复",
            "Duplicate customer ID",
            "客户编号 {value} 重复出现在第 {rows} 行",
            "customer ID {value} occurs in rows {rows}",
            "每位客户只保留一行，或改正编号",
            "keep one row per customer, or correct the ID",
        ),
        Code(
            "duplicate_name",
            "warning",
            "疑似重复客户",
            "Possible duplicate customer",
            "「{value}」与第 {rows} 行的客户名称相同（忽略全半角、括号、空格、有限责任/有限公司）",
            "'{value}' has the same name as rows {rows} (ignoring width, brackets, spaces, legal form)",
            "若是同一客户，合并为一行；若是不同客户，用客户编号或名称区分",
            "merge the rows if it is one customer; otherwise tell them apart by ID or name",
        ),
        Code(
            "unknown_customer",
            "error",
            "客户不在台账中",
            "Customer not in the ledger",
            "{table}中的客户「{value}」在客户台账中找不到",
            "{table}: customer '{value}' is not in the customer sheet",
            "检查客户名称或编号的写法，或先在客户台账中建档",
            "check the spelling of the name or ID, or add the customer to the customer sheet",
        ),
        Code(
            "ambiguous_customer",
            "warning",
            "同名客户无法区分",
            "Ambiguous customer name",
            "{table}中的「{value}」对应 {count} 位同名客户",
            "{table}: '{value}' matches {count} customers of that name",
            "在该行填写客户编号，以免记到别的客户名下",
            "fill in the customer ID on this row so it is not mixed up",
        ),
        Code(
            "overdue_contact",
            "warning",
            "超期未联系",
            "Not contacted for too long",
            "{klass}类客户已 {days} 天未联系（最近 {last}），按每 {months} 个月一次应在 {due} 前联系",
            "class {klass}: {days} days since the last contact ({last}); "
            "once every {months} months, it was due by {due}",
            "安排拜访或电话联系，并在拜访记录中登记",
            "plan a visit or call, and record it in the visit sheet",
        ),
        Code(
            "never_contacted",
            "warning",
            "从无联系记录",
            "No contact on record",
            "{klass}类客户没有最近拜访日期，也没有拜访记录",
            "class {klass}: no last-visit date and no visit on record",
            "补填最近拜访日期，或安排首次拜访",
            "fill in the last visit, or plan a first visit",
        ),
    )
}


def templates(code: str, lang: str) -> tuple[str, str]:
    """The (message, hint) templates of ``code`` in ``lang``, with {placeholders}."""
    entry = CODES[code]
    return (entry.message_zh, entry.hint_zh) if lang == "zh" else (entry.message_en, entry.hint_en)


def fill(template: str, details: dict[str, object]) -> str:
    """``template`` with ``details`` filled in; a placeholder without a detail is left blank."""
    return template.format_map(Details(details))


def message(code: str, lang: str, **details: object) -> tuple[str, str]:
    """(message, hint) for ``code`` in ``lang``, filled with ``details``."""
    template, hint = templates(code, lang)
    return fill(template, details), fill(hint, details)


class Details(dict):
    """A finding's details for its templates (``str.format_map``): one missing is blank."""

    def __missing__(self, key: str) -> str:
        return ""

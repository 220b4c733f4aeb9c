"""Domain types and the one field table every reader, rule and report reads.

A field is declared once: its table, its key, how its values are coerced, its labels in
Chinese and English, and the header aliases it is recognised by. Aliases are matched after
normalisation (full-width to half-width, Traditional to Simplified for common characters,
case and spaces folded, a unit in brackets split off), so the Traditional and full-width
spellings of a header need not be listed one by one; a few are listed anyway as examples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal[
    "text", "id", "date", "datetime", "amount", "percent", "phone", "email", "enum", "bool", "month", "score", "number"
]
Severity = Literal["error", "warning"]

CUSTOMERS, VISITS, COMPLAINTS, MONTHLY = "customers", "visits", "complaints", "monthly"
TABLES = (CUSTOMERS, VISITS, COMPLAINTS, MONTHLY)
TABLE_LABELS = {
    "zh": {CUSTOMERS: "客户台账", VISITS: "拜访记录", COMPLAINTS: "投诉记录", MONTHLY: "月度业务"},
    "en": {CUSTOMERS: "Customers", VISITS: "Visits", COMPLAINTS: "Complaints", MONTHLY: "Monthly business"},
}


@dataclass(frozen=True)
class Field:
    table: str
    key: str
    kind: Kind
    zh: str
    en: str
    aliases: tuple[str, ...]
    weight: int = 1  # how strongly this header says "this sheet is that table"

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def _f(table: str, key: str, kind: Kind, zh: str, en: str, *aliases: str, weight: int = 1) -> Field:
    return Field(table, key, kind, zh, en, (zh, en, *aliases), weight)


C, V, P, M = CUSTOMERS, VISITS, COMPLAINTS, MONTHLY

FIELDS: tuple[Field, ...] = (
    # --- customers (客户台账) ---
    _f(
        C,
        "customer_id",
        "id",
        "客户编号",
        "Customer ID",
        "客户编码",
        "客户代码",
        "客户ID",
        "客户 ID",
        "客戶編號",
        "Account ID",
        "Account Number",
        "AccountNumber",
        "Customer No",
        "ID",
        "编号",
    ),
    _f(
        C,
        "name",
        "text",
        "客户名称",
        "Company Name",
        "公司名称",
        "企业名称",
        "单位名称",
        "客户全称",
        "客户单位",
        "客戶名稱",
        "公司名稱",
        "Account Name",
        "Customer Name",
        "Company",
        "Name",
        "客户姓名",
        "客户",
        weight=3,
    ),
    _f(
        C,
        "contact",
        "text",
        "联系人",
        "Contact",
        "客户方负责人",
        "联络人",
        "聯絡人",
        "对接人",
        "联系人姓名",
        "Contact Name",
        "Contact Person",
    ),
    _f(
        C,
        "phone",
        "phone",
        "联系电话",
        "Phone",
        "电话",
        "手机",
        "手机号",
        "手机号码",
        "行动电话",
        "联系方式",
        "座机",
        "聯絡電話",
        "Mobile",
        "Telephone",
        "TelephoneNumber",
        "Phone Number",
        weight=2,
    ),
    _f(
        C,
        "email",
        "email",
        "电子邮箱",
        "Email",
        "邮箱",
        "电子邮件",
        "E-mail",
        "EmailAddress",
        "电邮",
        "Email Address",
        "Mail",
    ),
    _f(
        C,
        "owner",
        "text",
        "客户经理",
        "Owner",
        "业务经理",
        "业务员",
        "销售",
        "销售人员",
        "销售经理",
        "跟进人",
        "负责业务",
        "归属人",
        "负责销售",
        "Account Manager",
        "Sales Rep",
        "OwnerId",
        "Account Owner",
        weight=2,
    ),
    _f(C, "owner_email", "email", "客户经理邮箱", "Owner Email", "业务经理邮箱"),
    _f(
        C,
        "class",
        "enum",
        "客户分类",
        "Class",
        "客户类别",
        "客户等级",
        "客户级别",
        "客户类型",
        "客戶分類",
        "客戶等級",
        "Tier",
        "Customer Class",
        "Segment Class",
        weight=2,
    ),
    _f(C, "strategic", "bool", "战略客户", "Strategic", "是否战略客户", "Strategic Account"),
    # 002: a strategic partner is one with a large share, a long cooperation or a major influence
    _f(C, "long_term", "bool", "长期合作", "Long-term", "是否长期合作", "长期合作客户", "长期合作伙伴"),
    _f(C, "influence", "bool", "重大影响", "Major Influence", "是否有重大影响", "重大影响力", "有重大影响"),
    _f(
        C,
        "annual_sales",
        "amount",
        "年销售额",
        "Annual Sales",
        "年销售",
        "年度销售额",
        "年营业额",
        "年业务量",
        "年合同金额",
        "合同金额",
        "年銷售額",
        "Annual Revenue",
        "AnnualRevenue",
        "Revenue",
        weight=2,
    ),
    _f(C, "share", "percent", "业务占比", "Share", "占公司业务比例", "业务比重", "占比", "份额", "Share of Business"),
    _f(C, "credit_rating", "enum", "信用等级", "Credit Rating", "信用评级", "資信等級", "Credit"),
    _f(C, "overdue_amount", "amount", "逾期金额", "Overdue Amount", "逾期欠款", "欠款金额", "Overdue"),
    _f(C, "overdue_days", "number", "逾期天数", "Days Overdue", "欠款天数", "账龄天数"),
    _f(C, "satisfaction", "score", "满意度", "Satisfaction", "客户满意度", "满意度评分", "滿意度", "CSAT"),
    _f(C, "intent", "enum", "合作意向", "Intent", "意向", "合作意願", "Cooperation Intent"),
    _f(C, "potential", "enum", "发展潜力", "Potential", "潜力", "發展潛力"),
    _f(C, "scale", "enum", "企业规模", "Scale", "规模", "企業規模", "Company Size"),
    _f(C, "industry_position", "enum", "行业地位", "Industry Position", "行業地位"),
    _f(C, "industry", "text", "所属行业", "Industry", "行业", "Sector"),
    _f(C, "region", "text", "区域", "Region", "地区", "分区", "片区", "大区"),
    _f(C, "city", "text", "城市", "City", "所在城市", "所在地", "BillingCity"),
    _f(
        C,
        "address",
        "text",
        "地址",
        "Address",
        "客户地址",
        "联系地址",
        "公司地址",
        "StreetAddress",
        "BillingStreet",
        "Street",
    ),
    _f(
        C,
        "last_visit",
        "date",
        "最近拜访日期",
        "Last Visit",
        "最近拜访",
        "上次拜访日期",
        "上次拜访",
        "最后拜访日期",
        "最近联系日期",
        "最近联系",
        "上次联系",
        "上次联系日期",
        "最后联系日期",
        "上次到店时间",
        "Last Contact",
        "LastActivityDate",
        "Last Activity",
        weight=2,
    ),
    _f(
        C,
        "since",
        "date",
        "建档日期",
        "Since",
        "合作开始日期",
        "首次合作日期",
        "开发日期",
        "Created Date",
        "CreatedDate",
    ),
    _f(C, "birthday", "date", "联系人生日", "Birthday", "生日", "出生日期"),
    _f(C, "wants_care", "bool", "节日问候", "Greetings", "是否问候", "Wants Greetings"),
    _f(C, "status", "enum", "客户状态", "Status", "状态"),
    _f(C, "note", "text", "备注", "Note", "说明", "Notes", "Remarks"),
    # --- visits (拜访记录) ---
    _f(V, "visit_date", "date", "拜访日期", "Visit Date", "拜访时间", "回访日期", "走访日期", "日期", "Date", weight=3),
    _f(V, "customer_id", "id", "客户编号", "Customer ID", "客户编码", "客户ID"),
    _f(
        V,
        "customer",
        "text",
        "客户名称",
        "Customer",
        "客户",
        "拜访客户",
        "被访客户",
        "Customer Name",
        "Company Name",
        weight=2,
    ),
    _f(V, "visitors", "text", "拜访人", "Visitors", "拜访人员", "访问人", "走访人", weight=3),
    _f(V, "way", "enum", "拜访方式", "Way", "方式", "联系方式", "回访方式", "Channel", weight=3),
    _f(V, "purpose", "text", "拜访目的", "Purpose", "目的", "回访目的", weight=3),
    _f(V, "content", "text", "拜访内容", "Content", "内容", "沟通内容", "回访内容", weight=2),
    _f(V, "feedback", "text", "客户反馈", "Feedback", "反馈", "反馈意见", weight=2),
    _f(V, "next_step", "text", "下一步", "Next Step", "下一步计划", "后续安排", "跟进计划"),
    # --- complaints (投诉记录) ---
    _f(P, "complaint_id", "id", "投诉编号", "Complaint ID", "编号", weight=2),
    _f(P, "received", "datetime", "投诉时间", "Received", "投诉日期", "受理时间", "接收时间", weight=3),
    _f(P, "customer_id", "id", "客户编号", "Customer ID", "客户编码", "客户ID"),
    _f(P, "customer", "text", "客户名称", "Customer", "客户", "投诉客户", "Customer Name", weight=2),
    _f(P, "category", "enum", "投诉类别", "Category", "问题类别", "投诉类型", "类别", weight=2),
    _f(P, "severity", "text", "严重程度", "Severity", "投诉等级", "投诉级别", "严重性", "紧急程度"),
    _f(P, "content", "text", "投诉内容", "Content", "问题描述", "内容", weight=3),
    _f(P, "handler", "text", "处理人", "Handler", "责任人", "经办人", weight=2),
    _f(P, "replied", "datetime", "回复时间", "Replied", "首次回复时间", "响应时间", "答复时间", weight=3),
    _f(P, "resolved", "bool", "是否解决", "Resolved", "已解决", "是否已解决", weight=2),
    _f(P, "resolved_on", "datetime", "解决时间", "Resolved On", "结案时间", "关闭时间", "处理完成时间"),
    _f(P, "result", "text", "处理结果", "Result", "处理情况", "解决情况", "Outcome"),
    # the stages of 004 (受理 → 调查 → 处理 → 反馈/回访 → 结案): a status column, dates, a promise
    _f(P, "stage", "text", "处理阶段", "Stage", "处理状态", "投诉状态", "当前阶段", "处理进度", "Status"),
    _f(
        P,
        "promised",
        "datetime",
        "承诺完成时间",
        "Promised By",
        "承诺时间",
        "承诺解决时间",
        "承诺处理时间",
        "约定完成时间",
    ),
    _f(P, "promised_hours", "text", "承诺时限", "Promised Hours", "承诺时长", "处理时限", "承诺处理时限"),
    _f(P, "investigated", "datetime", "调查时间", "Investigated", "调查日期", "核实时间", "调查完成时间"),
    _f(P, "handled", "datetime", "处理时间", "Handled", "处理日期", "处理方案时间"),
    _f(P, "feedback_on", "datetime", "反馈时间", "Feedback On", "回访时间", "反馈日期", "回访日期"),
    _f(P, "feedback", "text", "客户意见", "Customer Opinion", "客户反馈", "回访意见", "客户评价", "反馈意见"),
    # --- monthly business (月度业务) ---
    _f(M, "month", "month", "月份", "Month", "年月", "业务月份", "统计月份", "期间", weight=3),
    _f(M, "customer_id", "id", "客户编号", "Customer ID", "客户编码", "客户ID"),
    _f(M, "customer", "text", "客户名称", "Customer", "客户", "Customer Name", weight=2),
    _f(
        M,
        "volume",
        "amount",
        "业务量",
        "Volume",
        "销售额",
        "业务额",
        "金额",
        "月销售额",
        "营业额",
        "Sales",
        "Amount",
        weight=3,
    ),
    _f(M, "new_business", "amount", "新增业务", "New Business", "新业务", "新增业务额"),
)

FIELDS_BY_TABLE: dict[str, dict[str, Field]] = {t: {} for t in TABLES}
for _field in FIELDS:
    FIELDS_BY_TABLE[_field.table][_field.key] = _field

# Fields whose presence makes a sheet that table (without them it is not one).
ANCHORS: dict[str, tuple[tuple[str, ...], ...]] = {
    CUSTOMERS: (("name", "customer_id"),),
    VISITS: (("visit_date",), ("customer", "customer_id"), ("visitors", "way", "purpose", "content")),
    COMPLAINTS: (
        ("received", "content", "category"),
        ("customer", "customer_id"),
        ("content", "handler", "replied", "category"),
    ),
    MONTHLY: (("month",), ("customer", "customer_id"), ("volume",)),
}


def field_label(table: str, key: str, lang: str) -> str:
    found = FIELDS_BY_TABLE[table].get(key)
    return found.label(lang) if found else key


class FormulaError(str):
    """A cell that shows a formula error (#N/A, #REF!, #DIV/0! …) as Excel shows it: its value
    is unreadable, never taken as blank. Kept in ``Sheet.bad`` like any unreadable value."""

    __slots__ = ()


@dataclass
class Column:
    """One mapped column: which field it feeds, where it is, what its header said."""

    field: str
    letter: str
    index: int  # 0-based column index in the sheet
    header: str
    unit: float = 1.0  # a unit in the header (万元 → 10000) applied to every amount once
    extra: tuple[int, ...] = ()  # more columns feeding the same field (手机 and 座机 → phone)


# How a field's values are held in a frame: pandas' nullable dtypes, so a blank cell is <NA>.
_DTYPES: dict[str, str] = {
    "date": "datetime64[us]",
    "datetime": "datetime64[us]",
    "month": "datetime64[us]",
    "amount": "Float64",
    "percent": "Float64",
    "number": "Float64",
    "score": "Float64",
    "bool": "boolean",
}


def dtype_of(kind: str) -> str:
    """The pandas dtype of a field kind: datetime64, Float64, boolean, else string (pandas'
    nullable string, held as Python strings: the reader made them, nothing to convert)."""
    return _DTYPES.get(kind, "string[python]")


class Sheet:
    """One sheet of a ledger: its rows as a pandas DataFrame and, beside it, what findings need.

    ``frame`` has a column per mapped field, named by the field key (``name``, ``owner``,
    ``last_visit`` …) in nullable dtypes (datetime64, Float64, boolean, string), and the 1-based
    Excel row as its index. ``columns[key].letter`` is the field's column in the sheet,
    ``bad[key]`` maps the position of a data row to what its cell said when it could not be
    read, ``header_rows`` are the 1-based rows of the header, ``rows`` the 1-based Excel row of
    each record (a ``range`` when they follow each other). ``column(key)`` gives a field as a
    list of Python values (None, ``date``, ``datetime``, float, str) for the code that walks rows.
    """

    def __init__(
        self,
        kind: str,
        sheet: str,
        header_rows: tuple[int, ...],
        columns: dict[str, Column],
        rows: Sequence[int],
        values: dict[str, list[Any]],
        bad: dict[str, dict[int, Any]] | None = None,
        unmapped_headers: list[str] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        self.kind, self.sheet, self.header_rows, self.columns = kind, sheet, header_rows, columns
        self.rows = rows
        self.bad = bad or {}
        self.unmapped_headers = unmapped_headers or []
        self.labels = labels or []  # the header text of every column, A first
        self._values = values
        self._frame: Any = None

    def __len__(self) -> int:
        return len(self.rows)

    def has(self, key: str) -> bool:
        return key in self.columns

    def source(self, key: str, i: int) -> tuple[str, int, str]:
        """(sheet, 1-based row, column letter) of field ``key`` in data row ``i``."""
        return self.sheet, self.rows[i], self.columns[key].letter if key in self.columns else ""

    def column(self, key: str) -> list[Any]:
        """Field ``key`` of every data row as Python values; all None when the sheet lacks it."""
        return self._values.get(key) or [None] * len(self.rows)

    @property
    def frame(self) -> Any:
        """The rows as a pandas DataFrame (built on first use, then kept)."""
        if self._frame is None:
            self._frame = to_frame(self.kind, self.rows, self._values)
        return self._frame


def to_frame(table: str, rows: Sequence[int], values: dict[str, list[Any]]) -> Any:
    """A frame of ``table``'s fields: every field of the table is a column (all <NA> where the
    sheet lacks it), in nullable dtypes, indexed by the 1-based Excel row."""
    import numpy as np
    import pandas as pd

    index = pd.Index(np.asarray(rows, dtype=np.int64), name="row")  # a range too: never a RangeIndex
    data = {}
    for key, found in FIELDS_BY_TABLE[table].items():
        column = values.get(key)
        dtype = dtype_of(found.kind)
        if column is None:
            data[key] = pd.array([None] * len(rows), dtype=dtype)
        elif found.kind in ("date", "month"):  # day numbers, ten times faster than date objects
            days = np.fromiter((d.toordinal() if d is not None else 0 for d in column), np.int64, len(column))
            stamps = (days - _EPOCH_ORDINAL).astype("datetime64[D]").astype("datetime64[us]")
            stamps[days == 0] = np.datetime64("NaT")
            data[key] = pd.array(stamps)
        elif dtype.startswith("datetime"):  # microseconds: a typed 3025-01-01 stays itself, not NaT
            data[key] = pd.array(np.array(column, dtype="datetime64[us]"))
        else:
            data[key] = pd.array(column, dtype=dtype)
    return pd.DataFrame(data, index=index)


_EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()


@dataclass
class Ledger:
    """A ledger read once: its sheets (``tables``) and their frames.

    ``customers``, ``visits``, ``complaints`` and ``monthly`` are pandas DataFrames (an empty
    frame with the table's columns when the ledger has no such sheet); ``tables[kind]`` is the
    ``Sheet`` with the column letters, unreadable cells and header rows beside each frame.
    """

    path: str
    tables: dict[str, Sheet]
    sheets: list[str]
    notes: list[str] = field(default_factory=list)  # things the reader noticed and said aloud
    date1904: bool = False
    tables_absent: dict[str, Sheet] = field(default_factory=dict, repr=False)
    # the password that opened a protected ledger: every workbook made from it is written with
    # it too (never printed, never stored)
    password: str | None = field(default=None, repr=False)

    def frame(self, table: str) -> Any:
        found = self.tables.get(table)
        if found is None:  # no such sheet: an empty frame with the table's columns, made once
            found = self.tables_absent.setdefault(table, Sheet(table, "", (), {}, [], {}))
        return found.frame

    @property
    def customers(self) -> Any:
        return self.frame(CUSTOMERS)

    @property
    def visits(self) -> Any:
        return self.frame(VISITS)

    @property
    def complaints(self) -> Any:
        return self.frame(COMPLAINTS)

    @property
    def monthly(self) -> Any:
        return self.frame(MONTHLY)

    @property
    def customer_sheet(self) -> Sheet:
        return self.tables[CUSTOMERS]


@dataclass(slots=True)
class Finding:
    """One problem in a ledger: collected, never raised."""

    code: str
    severity: Severity
    sheet: str
    row: int | None
    column: str
    field: str
    value: Any
    message: str
    hint: str
    owner: str = ""
    group: str = ""  # a duplicate group's key, so groups can be shown together
    label: str = ""  # the field's label in the report's language

    @property
    def cell(self) -> str:
        return f"{self.column}{self.row}" if self.row and self.column else (self.column or "")

    def as_json(self) -> dict[str, Any]:
        value = self.value
        if value is not None and not isinstance(value, (str, int, float, bool)):
            value = str(value)
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "value": value,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "owner": self.owner,
            **({"group": self.group} if self.group else {}),
        }

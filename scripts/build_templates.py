"""Rebuild templates/rules.xlsx and templates/ledger_template.xlsx.

The rules workbook is the home of every default threshold and cadence (from
../shared/policies/README.md); this script is how its first version was written. Edit the
rows here and run ``python scripts/build_templates.py`` to change the shipped defaults.
"""

from __future__ import annotations

import sys
from pathlib import Path

import xlsxwriter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit.findings import CODES  # noqa: E402
from toolkit.model import FIELDS_BY_TABLE  # noqa: E402
from toolkit.workspace import write_ledger  # noqa: E402

PARAMETERS = [  # key, 名称, 值, 单位, 说明, 依据
    ("complaint.reply_hours", "投诉回复时限", 24, "小时", "投诉须在此时限内答复", "002、004"),
    ("sales.key_min", "重点客户年销售额下限", 2000, "万元", "sales 策略：年销售额 ≥ 此值为重点客户", "002 电梯"),
    ("sales.major_min", "主要客户年销售额下限", 500, "万元", "sales 策略：年销售额 ≥ 此值为主要客户", "002 电梯"),
    ("share.strategic_min", "战略合作伙伴业务占比下限", 5, "%", "share 策略：占公司业务 > 此值", "002 战略客户"),
    ("share.key_min", "重点客户业务占比下限", 3, "%", "share 策略：占公司业务 > 此值", "002 战略客户"),
]

CADENCES = [  # 客户类别, 拜访类型, 周期(月), 方式, 最长未联系天数, 依据
    ("A", "例行回访", 3, "实地", 92, "004：A 类每季度回访"),
    ("B", "例行回访", 6, "实地", 183, "004：B 类每半年回访"),
    ("C", "例行回访", 12, "实地", 365, "004：C 类每年回访"),
    ("D", "电话联系", 12, "电话", 365, "004/README：D 类每年电话联系"),
    ("战略", "客户经理拜访", 1, "实地", 31, "002：客户经理至少每月一次"),
    ("战略", "高层拜访", 6, "实地", "", "002：高层至少每半年一次"),
    ("战略", "技术交流", 6, "实地", "", "002：技术交流至少每半年一次"),
    ("战略", "质量交流", 3, "实地", "", "002：质量交流至少每季度一次"),
    ("战略合作伙伴", "客户经理拜访", 1, "实地", 31, "share 策略，同战略客户"),
    ("重点", "例行回访", 3, "实地", 92, "sales 策略：按 A 类周期（政策未规定，可修改）"),
    ("重点客户", "例行回访", 3, "实地", 92, "share 策略：按 A 类周期（政策未规定，可修改）"),
    ("主要", "例行回访", 6, "实地", 183, "sales 策略：按 B 类周期（政策未规定，可修改）"),
    ("一般", "例行回访", 12, "实地", 365, "sales 策略：按 C 类周期（政策未规定，可修改）"),
    ("一般客户", "例行回访", 12, "实地", 365, "share 策略：按 C 类周期（政策未规定，可修改）"),
]

REQUIRED = [
    ("name", "客户名称", "是"),
    ("contact", "联系人", "是"),
    ("phone_or_email", "联系电话或电子邮箱", "是"),
    ("owner", "客户经理", "是"),
    ("customer_id", "客户编号", "否"),
    ("class", "客户分类", "否"),
]

VALUES = [
    ("class", "客户分类", "A、B、C、D、战略、重点、主要、一般、潜在、战略合作伙伴、重点客户、一般客户"),
    ("credit_rating", "信用等级", "AAA、AA、A、BBB、BB、B、CCC、CC、C、D、优、良、中、差"),
    ("intent", "合作意向", "强、较强、一般、弱、待观察、不明确"),
    ("potential", "发展潜力", "高、较高、中、低"),
    ("scale", "企业规模", "大型、中型、小型、微型"),
    ("industry_position", "行业地位", "龙头、领先、较强、一般、较弱"),
    ("status", "客户状态", "正常、活跃、潜在、流失、暂停、休眠"),
    ("way", "拜访方式", "实地、电话、邮件、微信、视频"),
    ("category", "投诉类别", "质量、交付、服务、价格、其他"),
]


def build_rules(path: Path) -> None:
    book = xlsxwriter.Workbook(str(path))
    base = {"font_name": "等线", "font_size": 10}
    head = book.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "border": 1})
    note = book.add_format({**base, "text_wrap": True, "valign": "top"})
    key_fmt = book.add_format({**base, "font_color": "#808080"})
    cell = book.add_format(base)

    def sheet(name, headers, rows, widths, lists=None):
        ws = book.add_worksheet(name)
        for c, h in enumerate(headers):
            ws.write_string(0, c, h, head)
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row):
                fmt = key_fmt if c == 0 else cell
                if isinstance(v, (int, float)):
                    ws.write_number(r, c, v, fmt)
                else:
                    ws.write_string(r, c, str(v), fmt)
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        for c, choices in (lists or {}).items():
            ws.data_validation(1, c, 500, c, {"validate": "list", "source": choices})
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(rows), 1), len(headers) - 1)

    intro = book.add_worksheet("说明")
    intro.set_column(0, 0, 100)
    lines = [
        "规则工作簿 (rules workbook)：本工具的全部阈值、拜访周期、必填字段、校验规则和取值范围都在这里，经理可直接在 Excel 中修改。",
        "· 参数：阈值（投诉时限、分类金额与占比界限）。只改「值」列；灰色的第一列是程序用的键，请勿修改。",
        "· 拜访周期：每类客户的拜访类型、周期（月）和最长未联系天数；超过天数的客户在校验中报「超期未联系」。",
        "· 校验规则：每条规则可启用/停用，级别为 错误 或 警告。",
        "· 必填字段：「是」表示该字段为空时报错。",
        "· 取值范围：用顿号「、」分隔可选值；不在其中的值报「不在可选值中」。",
        "· 列名：你的台账中工具认不出的表头，可在此登记对应的字段（表：customers/visits/complaints/monthly）。",
        "默认值来自公司客户关系管理办法（见各行「依据」）。改完保存即可，下次运行自动生效。",
    ]
    for r, line in enumerate(lines):
        intro.write_string(r, 0, line, note)

    sheet("参数", ["键 key", "名称", "值", "单位", "说明", "依据"], PARAMETERS, [24, 26, 10, 8, 44, 16])
    sheet(
        "拜访周期",
        ["客户类别", "拜访类型", "周期(月)", "方式", "最长未联系天数", "依据"],
        CADENCES,
        [14, 14, 10, 8, 16, 44],
        {3: ["实地", "电话", "邮件", "视频"]},
    )
    rule_rows = [
        (c.code, c.title_zh, "是", "错误" if c.severity == "error" else "警告", c.hint_zh) for c in CODES.values()
    ]
    sheet(
        "校验规则",
        ["代码", "规则", "启用", "级别", "说明"],
        rule_rows,
        [22, 18, 8, 8, 70],
        {2: ["是", "否"], 3: ["错误", "警告"]},
    )
    sheet("必填字段", ["字段 key", "名称", "必填"], REQUIRED, [18, 22, 8], {2: ["是", "否"]})
    sheet("取值范围", ["字段 key", "名称", "允许的值（用、分隔）"], VALUES, [18, 14, 80])
    alias_examples: list[tuple[str, str, str]] = []  # e.g. ("customers", "name", "甲方单位")
    sheet(
        "列名",
        ["表", "字段", "你的表头"],
        alias_examples,
        [14, 18, 24],
        {0: ["customers", "visits", "complaints", "monthly"]},
    )
    book.close()
    for key, _, _ in REQUIRED:
        assert key == "phone_or_email" or key in FIELDS_BY_TABLE["customers"], key


def main() -> None:
    templates = ROOT / "templates"
    templates.mkdir(exist_ok=True)
    build_rules(templates / "rules.xlsx")
    choices = {name: values.split("、") for key, name, values in VALUES}
    choices["战略客户"] = choices["节日问候"] = ["是", "否"]
    write_ledger(templates / "ledger_template.xlsx", {}, title="客户台账", choices=choices)
    print("wrote", templates / "rules.xlsx", templates / "ledger_template.xlsx")


if __name__ == "__main__":
    main()

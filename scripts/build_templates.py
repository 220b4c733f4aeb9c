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
    ("sales.key_min", "重点客户年销售额下限", 2000, "万元", "sales 策略：年销售额 ≥ 此值为重点客户", "002 电梯"),
    ("sales.major_min", "主要客户年销售额下限", 500, "万元", "sales 策略：年销售额 ≥ 此值为主要客户", "002 电梯"),
    ("share.strategic_min", "战略合作伙伴业务占比下限", 5, "%", "share 策略：占公司业务 > 此值", "002 战略客户"),
    ("share.key_min", "重点客户业务占比下限", 3, "%", "share 策略：占公司业务 > 此值", "002 战略客户"),
    (
        "share.window_months",
        "业务占比统计月数",
        12,
        "月",
        "台账无占比列时，用月度业务表最近这些月计算占比",
        "002 战略客户",
    ),
    (
        "writeback.class",
        "回写列：系统分类",
        "客户分类(系统)",
        "列名",
        "--write-back 写回台账的列名（改名后下次写入新列名）",
        "",
    ),
    ("writeback.reason", "回写列：分类依据", "分类依据", "列名", "classify --write-back", ""),
    ("writeback.risk", "回写列：风险等级", "风险等级", "列名", "classify --write-back", ""),
    ("writeback.next_visit", "回写列：下次拜访", "下次拜访", "列名", "plan --write-back", ""),
    ("writeback.check", "回写列：校验结果", "校验结果", "列名", "validate --write-back", ""),
    ("writeback.backup_days", "台账备份保留天数", 30, "天", "写回前的备份保留这么多天（backups 文件夹）", ""),
    (
        "survey.low_score",
        "问卷低分线（评分）",
        3,
        "分",
        "评分低于此值（5 分制：非常满意 5 … 非常不满意 1）列入低分跟进清单",
        "000、003 满意度评价",
    ),
    (
        "survey.low_nps",
        "问卷低分线（推荐度）",
        7,
        "分",
        "推荐度低于此值（0–10 分，0–6 为贬损者）列入低分跟进清单",
        "NPS 惯例",
    ),
    (
        "survey.remind_after_days",
        "问卷催办间隔",
        7,
        "天",
        "发出问卷（或上次催办）后这么多天仍未回复，crm survey remind 发催办邮件",
        "001 定期回访",
    ),
    ("survey.max_reminders", "问卷最多催办次数", 2, "次", "每位客户每批问卷最多催办几次", "001 定期回访"),
    (
        "survey.skip_status",
        "不发问卷的客户状态",
        "潜在、流失、暂停、休眠",
        "状态",
        "客户状态为这些值之一的客户不发问卷（用、分隔）；其余客户都算在用客户",
        "000 定期满意度评价",
    ),
]

# 问卷：crm survey create 按这些题目生成问卷表单。类型：评分（1–5，非常满意 … 非常不满意）、推荐（0–10）、文字。
SURVEY = [  # 编号 key, 题目, 类型, 必填, 题目（英文）
    (
        "q1",
        "您对我公司产品（服务）质量的满意程度",
        "评分",
        "是",
        "How satisfied are you with the quality of our products and services?",
    ),
    (
        "q2",
        "您对我公司交付及时性的满意程度",
        "评分",
        "是",
        "How satisfied are you with the timeliness of our deliveries?",
    ),
    ("q3", "您对客户经理服务的满意程度", "评分", "是", "How satisfied are you with your account manager's service?"),
    (
        "q4",
        "您对投诉和问题处理的满意程度",
        "评分",
        "是",
        "How satisfied are you with how we handle complaints and problems?",
    ),
    ("q5", "总体而言，您对我公司的满意程度", "评分", "是", "Overall, how satisfied are you with our company?"),
    (
        "nps",
        "您有多大可能向同行推荐我公司？（0 = 完全不可能，10 = 非常可能）",
        "推荐",
        "是",
        "How likely are you to recommend us to a peer? (0 = not at all, 10 = extremely likely)",
    ),
    ("comment", "您对我们的意见和建议", "文字", "否", "Your comments and suggestions"),
]

# 人员（* = 该角色未单独列出的所有人）, 角色, 每日拜访上限, 每周实地拜访上限
CAPACITY = [("*", "客户经理", 4, 8)]

# 国务院每年 11 月前后公布下一年的放假安排：助理在此逐日录入放假日和调休上班日，优先于内置日历。
HOLIDAYS: list[tuple[str, str, str]] = []

ABCD_POINTS = [  # 因素 key, 因素, 取值, 分数, 直接归为
    ("industry_position", "行业地位", "龙头", 3, ""),
    ("industry_position", "行业地位", "领先", 3, ""),
    ("industry_position", "行业地位", "较强", 2, ""),
    ("industry_position", "行业地位", "一般", 1, ""),
    ("industry_position", "行业地位", "较弱", 0, ""),
    ("scale", "企业规模", "大型", 3, ""),
    ("scale", "企业规模", "中型", 2, ""),
    ("scale", "企业规模", "小型", 1, ""),
    ("scale", "企业规模", "微型", 0, ""),
    ("intent", "合作意向", "强", 3, ""),
    ("intent", "合作意向", "较强", 2, ""),
    ("intent", "合作意向", "一般", 1, ""),
    ("intent", "合作意向", "待观察", 1, ""),
    ("intent", "合作意向", "弱", 0, ""),
    ("intent", "合作意向", "不明确", 0, "D"),
    ("potential", "发展潜力", "高", 3, ""),
    ("potential", "发展潜力", "较高", 2, ""),
    ("potential", "发展潜力", "中", 1, ""),
    ("potential", "发展潜力", "低", 0, "D"),
]

ABCD_CUTOFFS = [  # 类别, 平均分下限, 依据
    ("A", 2.5, "004：行业龙头或有较大影响力、合作意向强烈、合作潜力较高"),
    ("B", 1.75, "004：行业内较有实力、有一定合作意向和潜力"),
    ("C", 1.0, "004：一般规模、合作意向一般、潜力有待观察"),
    ("D", 0, "004：合作意向不明确或合作潜力较小"),
]

RISKS = [  # 代码, 风险, 启用, 级别, 阈值, 单位, 说明
    ("low_credit", "信用等级低", "是", "严重", "CCC、CC、C、D、差", "等级", "信用等级为所列之一（000、003 信用风险）"),
    ("overdue_payment", "逾期付款", "是", "预警", 0, "万元", "逾期金额大于阈值，或逾期天数大于 0（002 信用管理）"),
    (
        "no_contact",
        "超期未联系",
        "是",
        "预警",
        1,
        "倍",
        "距最近联系超过该类别拜访周期（月）× 阈值，即过了到期日（拜访周期表）",
    ),
    (
        "complaint_unanswered",
        "投诉超时未回复",
        "是",
        "严重",
        24,
        "小时",
        "投诉超过阈值小时仍无回复（002、004：24 小时内答复）",
    ),
    ("complaint_open", "投诉未解决", "是", "预警", 24, "小时", "投诉已回复但超过阈值小时仍未解决"),
    ("satisfaction_low", "满意度低", "是", "预警", 3, "分", "满意度低于阈值（与台账满意度同一量表，默认 5 分制）"),
    ("satisfaction_falling", "满意度下降", "是", "提示", 0.5, "分", "比上次运行下降超过阈值"),
    ("volume_drop", "业务量下滑", "是", "预警", 30, "%", "最近一个月业务量比上月下降超过阈值（月度业务表）"),
]

# 拜访目的, 拜访内容 of each row (004: a plan names purpose, time, visitors and content; 002 for
# the strategic kinds); RULE_WORDS_EN in toolkit/i18n.py gives them in English
A_VISIT = ("深度沟通合作计划", "了解项目进展、合作满意度和需求变化，协调解决合作中的问题")
B_VISIT = ("了解客户动态", "了解需求，提供针对性的解决方案和服务")
C_VISIT = ("保持定期沟通", "关注业务发展，寻找提升合作意向的机会")
D_VISIT = ("电话保持联系", "维护关系，适时调整跟进策略")
OWNER_VISIT = ("了解业务和需求", "了解需求变化和业务量，协调解决问题")
SENIOR_VISIT = ("高层沟通合作方向", "回顾合作，商定下一阶段合作计划")
TECH_VISIT = ("技术交流", "产品与技术方案交流，解答技术问题")
QUALITY_VISIT = ("质量交流", "通报质量情况，跟进质量问题的改进")
LEAD_VISIT = ("了解需求，推动合作意向", "介绍公司和产品，了解需求和合作意向")

CADENCES = [  # 客户类别, 拜访类型, 周期(月), 方式, 依据, 记录关键词, 首次跟进(天), 拜访人员, 客户经理陪同, 拜访目的, 拜访内容
    ("A", "例行回访", 3, "实地", "004：A 类每季度回访", "", "", "客户经理", "", *A_VISIT),
    ("B", "例行回访", 6, "实地", "004：B 类每半年回访", "", "", "客户经理", "", *B_VISIT),
    ("C", "例行回访", 12, "实地", "004：C 类每年回访", "", "", "客户经理", "", *C_VISIT),
    ("D", "电话联系", 12, "电话", "004/README：D 类每年电话联系", "", "", "客户经理", "", *D_VISIT),
    ("战略", "客户经理拜访", 1, "实地", "002：客户经理至少每月一次", "", "", "客户经理", "", *OWNER_VISIT),
    ("战略", "高层拜访", 6, "实地", "002：高层至少每半年一次", "高层", "", "高层", "是", *SENIOR_VISIT),
    ("战略", "技术交流", 6, "实地", "002：技术交流至少每半年一次", "技术", "", "技术", "是", *TECH_VISIT),
    ("战略", "质量交流", 3, "实地", "002：质量交流至少每季度一次", "质量", "", "质量", "是", *QUALITY_VISIT),
    ("战略合作伙伴", "客户经理拜访", 1, "实地", "share 策略，同战略客户", "", "", "客户经理", "", *OWNER_VISIT),
    ("重点", "例行回访", 3, "实地", "sales 策略：按 A 类周期（政策未规定，可修改）", "", "", "客户经理", "", *A_VISIT),
    (
        "重点客户",
        "例行回访",
        3,
        "实地",
        "share 策略：按 A 类周期（政策未规定，可修改）",
        "",
        "",
        "客户经理",
        "",
        *A_VISIT,
    ),
    ("主要", "例行回访", 6, "实地", "sales 策略：按 B 类周期（政策未规定，可修改）", "", "", "客户经理", "", *B_VISIT),
    ("一般", "例行回访", 12, "实地", "sales 策略：按 C 类周期（政策未规定，可修改）", "", "", "客户经理", "", *C_VISIT),
    (
        "一般客户",
        "例行回访",
        12,
        "实地",
        "share 策略：按 C 类周期（政策未规定，可修改）",
        "",
        "",
        "客户经理",
        "",
        *C_VISIT,
    ),
    (
        "潜在",
        "潜在客户跟进",
        1,
        "电话",
        "002：潜在和新客户及时跟进：建档后 7 天内首次跟进，之后每月一次",
        "",
        7,
        "客户经理",
        "",
        *LEAD_VISIT,
    ),
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
        "· 拜访周期：每类客户的拜访类型和周期（月）：从最近一次联系起按自然月计算下次到期日，过了到期日仍未联系的客户在校验、分类风险、拜访计划和提醒中一致报「超期未联系」。「记录关键词」：拜访记录的目的或内容含此词才算这类拜访（如 高层、技术、质量）；空白表示任何拜访都算。「首次跟进(天)」：从未联系过的客户，首次跟进在建档日期后这么多天到期（空白：立即到期）。",
        "· 拜访周期的「拜访人员」：谁去——客户经理，或 高层、技术、质量 等角色（002：战略客户的高层拜访、技术交流、质量交流）；「客户经理陪同」为 是 时客户经理同去（两人当天都要有空）。「拜访目的」「拜访内容」写入计划和日历；上次拜访记录的「下一步」会接在内容后面。",
        "· 拜访能力：每人每天最多拜访几家、每周最多实地拜访几家。「角色」为 高层/技术/质量 的人承担该角色的拜访（几人时由最早有空的人去）；某角色没有列出任何人时，计划写「高层（拜访能力未指定人员）」，只占陪同客户经理的能力，请补上人员；或加一行 人员「*」、角色「高层」，给这个角色一个共用的上限。",
        "· 节假日：国务院公布次年放假安排后，在此逐日录入「放假」日和「上班」（调休）日（日期写成 2027-10-01）；本表优先于内置日历。内置日历只知道已公布的年份，之后的年份按 holidays 包估算、没有调休，计划中会标注为「估算」。",
        "· 校验规则：每条规则可启用/停用，级别为 错误 或 警告。",
        "· 必填字段：「是」表示该字段为空时报错。",
        "· 取值范围：用顿号「、」分隔可选值；不在其中的值报「不在可选值中」。",
        "· ABCD评分 / ABCD分级：abcd 策略的评分表——每个因素的取值和分数，按已填因素的平均分分级；「直接归为」一列可让某个取值直接定级（如 合作意向 不明确 → D）。",
        "· 风险规则：每种风险标签的启用、级别（提示/预警/严重）和阈值。",
        "· 列名：你的台账中工具认不出的表头，可在此登记对应的字段（表：customers/visits/complaints/monthly）。",
        "· 问卷：满意度调查的题目（crm survey create 据此生成问卷表单）。类型：评分（1–5，下拉选择 非常满意 … 非常不满意）、推荐（0–10，推荐意愿）、文字（意见建议）；必填：是/否；「题目（英文）」用于英文问卷。已发出的批次沿用发出时的题目。低分线、催办间隔和次数、不发问卷的客户状态在「参数」表（survey.*）。",
        "默认值来自公司客户关系管理办法（见各行「依据」）。改完保存即可，下次运行自动生效。",
    ]
    for r, line in enumerate(lines):
        intro.write_string(r, 0, line, note)

    sheet("参数", ["键 key", "名称", "值", "单位", "说明", "依据"], PARAMETERS, [24, 26, 10, 8, 44, 16])
    sheet(
        "拜访周期",
        [
            "客户类别",
            "拜访类型",
            "周期(月)",
            "方式",
            "依据",
            "记录关键词",
            "首次跟进(天)",
            "拜访人员",
            "客户经理陪同",
            "拜访目的",
            "拜访内容",
        ],
        CADENCES,
        [14, 14, 10, 8, 44, 12, 12, 10, 12, 22, 44],
        {3: ["实地", "电话", "邮件", "视频"], 7: ["客户经理", "高层", "技术", "质量"], 8: ["是", "否"]},
    )
    sheet(
        "拜访能力",
        ["人员", "角色", "每日拜访上限", "每周实地拜访上限"],
        CAPACITY,
        [16, 12, 14, 18],
        {1: ["客户经理", "高层", "技术", "质量"]},
    )
    sheet("节假日", ["日期", "类型", "名称"], HOLIDAYS, [14, 10, 20], {1: ["放假", "上班"]})
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
    sheet("ABCD评分", ["因素 key", "因素", "取值", "分数", "直接归为"], ABCD_POINTS, [18, 10, 10, 8, 10])
    sheet("ABCD分级", ["类别", "平均分下限", "依据"], ABCD_CUTOFFS, [8, 12, 60])
    sheet(
        "风险规则",
        ["代码", "风险", "启用", "级别", "阈值", "单位", "说明"],
        RISKS,
        [22, 14, 8, 8, 18, 8, 60],
        {2: ["是", "否"], 3: ["提示", "预警", "严重"]},
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
    sheet(
        "问卷",
        ["编号 key", "题目", "类型", "必填", "题目（英文）"],
        SURVEY,
        [12, 60, 8, 8, 60],
        {2: ["评分", "推荐", "文字"], 3: ["是", "否"]},
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

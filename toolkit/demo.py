"""``crm demo``: a workspace with a realistic generated ledger and a known set of planted mistakes.

The ledger looks like one a team keeps by hand: a merged title row, dates, amounts and phone
numbers typed several ways, some strategic customers, visit, complaint and monthly-business
sheets. ``PLANTED`` lists every mistake put into it (rule code, sheet, cell), so tests can
check that validation finds each one and nothing on the clean rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from .errors import InputError
from .workspace import LEDGER_PATH, LEDGER_SHEETS, init_workspace, write_ledger

OWNERS = [
    ("张伟", "zhangwei"),
    ("王芳", "wangfang"),
    ("李娜", "lina"),
    ("刘洋", "liuyang"),
    ("陈静", "chenjing"),
    ("杨帆", "yangfan"),
]
CITIES = [
    ("北京", "010"),
    ("上海", "021"),
    ("广州", "020"),
    ("深圳", "0755"),
    ("杭州", "0571"),
    ("南京", "025"),
    ("成都", "028"),
    ("武汉", "027"),
    ("苏州", "0512"),
    ("天津", "022"),
]
REGIONS = {
    "北京": "华北",
    "天津": "华北",
    "上海": "华东",
    "杭州": "华东",
    "南京": "华东",
    "苏州": "华东",
    "广州": "华南",
    "深圳": "华南",
    "成都": "西南",
    "武汉": "华中",
}
WORDS = [
    "华信",
    "恒通",
    "中科",
    "远景",
    "博瑞",
    "东方",
    "金桥",
    "宏达",
    "天成",
    "新锐",
    "瑞丰",
    "长城",
    "佳禾",
    "同创",
    "汇智",
    "联合",
    "星辰",
    "鼎盛",
    "海纳",
    "光明",
    "永安",
    "泰和",
    "正元",
    "启明",
    "安迅",
]
TRADES = [
    ("电子科技", "电子"),
    ("机械制造", "机械"),
    ("物流", "物流"),
    ("医药", "医药"),
    ("建材", "建材"),
    ("软件", "软件"),
    ("食品", "食品"),
    ("化工", "化工"),
    ("汽车零部件", "汽车"),
    ("电气设备", "电气"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "华",
    "平",
]
CLASS_DAYS = {"A": 92, "B": 183, "C": 365, "D": 365, "战略": 31}

# (行业地位, 企业规模, 合作意向, 发展潜力) choices that score each class under the shipped abcd table
_CLASS_FACTORS = {
    "A": (["龙头", "领先"], ["大型", "中型"], ["强"], ["高"]),
    "B": (["较强"], ["中型", "大型"], ["较强", "一般"], ["较高"]),
    "C": (["一般"], ["小型", "中型"], ["一般", "待观察"], ["中"]),
    "D": (["一般", "较弱"], ["小型", "微型"], ["不明确", "弱"], ["低"]),
}


def _factors(rng: random.Random, klass: str) -> tuple[str, str, str, str]:
    position, scale, intent, potential = _CLASS_FACTORS[klass]
    return rng.choice(position), rng.choice(scale), rng.choice(intent), rng.choice(potential)


@dataclass(frozen=True)
class Planted:
    code: str
    sheet: str
    cell: str
    note: str


def generate(
    today: date, *, customers: int = 300, seed: int = 2026
) -> tuple[dict[str, list[list[Any]]], list[Planted]]:
    """Rows for each standard sheet and the list of planted mistakes. Deterministic per seed."""
    if customers < 100:
        raise ValueError("the demo ledger needs at least 100 customers for its planted mistakes")
    rng = random.Random(seed)
    headers = {name: cols for name, cols in LEDGER_SHEETS.items()}
    col = {name: {h: i for i, h in enumerate(cols)} for name, cols in headers.items()}
    planted: list[Planted] = []
    used_names: set[str] = set()
    rows: list[list[Any]] = []

    def letter(sheet: str, header: str) -> str:
        return chr(65 + col[sheet][header]) if col[sheet][header] < 26 else "A" + chr(65 + col[sheet][header] - 26)

    for n in range(1, customers + 1):
        city, area = rng.choice(CITIES)
        while True:
            trade, industry = rng.choice(TRADES)
            name = f"{city}{rng.choice(WORDS)}{rng.choice(WORDS)}{trade}有限公司"
            if name not in used_names:
                used_names.add(name)
                break
        owner, login = OWNERS[n % len(OWNERS)]
        strategic = n % 25 == 0
        klass = rng.choices("ABCD", weights=[2, 3, 4, 1])[0]
        if strategic:
            klass = "A"
        limit = CLASS_DAYS["战略" if strategic else klass]
        last_visit = today - timedelta(days=rng.randint(3, limit - 5))
        contact = rng.choice(SURNAMES) + rng.choice(GIVEN)
        landline = rng.randint(2000000, 8999999) if len(area) == 4 else rng.randint(20000000, 89999999)
        mobile = f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
        phone: Any = [
            int(mobile),
            f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}",
            mobile,
            f"{area}-{landline}转{rng.randint(100, 899)}",
            f"{mobile}; {area}-{rng.randint(20000000, 29999999) if len(area) == 3 else rng.randint(2000000, 2999999)}",
        ][n % 5]
        sales_wan = round(rng.lognormvariate(6.2, 1.1), 1)
        sales: Any = [sales_wan, f"{sales_wan:,.1f}", f"{sales_wan}万", f"{sales_wan / 10000:.4f}亿"][n % 4]
        visit_text: Any = [
            last_visit,
            last_visit.strftime("%Y/%-m/%-d"),
            f"{last_visit.year}年{last_visit.month}月{last_visit.day}日",
            last_visit.strftime("%Y.%-m.%-d"),
            last_visit.isoformat(),
        ][n % 5]
        since = today - timedelta(days=rng.randint(400, 3000))
        position, scale, intent, potential = _factors(rng, klass)
        record = {
            "客户编号": f"KH{n:04d}",
            "客户名称": name,
            "联系人": contact,
            "联系电话": phone,
            "电子邮箱": f"{login}.{n}@example.cn" if n % 3 == 0 else "",
            "客户经理": owner,
            "客户经理邮箱": f"{login}@example.com",
            "客户分类": klass,
            "战略客户": "是" if strategic else "否",
            "年销售额(万元)": sales,
            "业务占比": f"{rng.uniform(0.1, 6):.1f}%",
            "信用等级": "CCC" if n % 47 == 0 else rng.choice(["AAA", "AA", "A", "BBB", "BB"]),
            "逾期金额(万元)": round(rng.uniform(5, 80), 1) if n % 53 == 0 else 0,
            "逾期天数": rng.randint(10, 90) if n % 53 == 0 else 0,
            "合作意向": intent,
            "发展潜力": potential,
            "企业规模": scale,
            "行业地位": position,
            "所属行业": industry,
            "区域": REGIONS[city],
            "城市": city,
            "地址": f"{city}市{rng.choice(WORDS)}路{rng.randint(1, 999)}号",
            "最近拜访日期": visit_text,
            "建档日期": since,
            "联系人生日": date(rng.randint(1965, 1995), rng.randint(1, 12), rng.randint(1, 28)),
            "节日问候": rng.choice(["是", "否"]),
            "客户状态": "正常",
            "满意度": round(rng.uniform(2.2, 2.9), 1) if n % 41 == 0 else round(rng.uniform(3.5, 5), 1),
        }
        rows.append([record.get(h, "") for h in headers["客户台账"]])

    top = 2  # the title row, then the header: data starts on Excel row 3
    C = "客户台账"

    def plant(i: int, header: str, value: Any, code: str, note: str) -> None:
        if header:
            rows[i][col[C][header]] = value
        planted.append(Planted(code, C, f"{letter(C, header or '客户名称')}{i + top + 1}", note))

    # --- planted mistakes in the customer sheet (row index i → Excel row i + 3) ---
    plant(10, "客户经理", "", "required_missing", "owner left empty")
    rows[11][col[C]["电子邮箱"]] = ""
    plant(11, "联系电话", "", "contact_missing", "no phone, no e-mail")
    plant(12, "联系电话", "1381234567", "bad_phone", "a digit short")
    plant(13, "电子邮箱", "wang@@example.com", "bad_email", "double @")
    plant(14, "最近拜访日期", "2025-13-45", "bad_date", "month 13")
    plant(15, "最近拜访日期", today + timedelta(days=40), "future_date", "visit typed in the future")
    plant(16, "年销售额(万元)", "约两千万", "bad_amount", "words, not a number")
    plant(17, "业务占比", "130%", "share_range", "over 100 %")
    plant(18, "信用等级", "AAAA", "bad_enum", "no such rating")
    plant(19, "客户分类", "E", "bad_enum", "no such class")
    rows[20][col[C]["客户分类"]] = "A"
    rows[20][col[C]["战略客户"]] = "否"
    plant(20, "最近拜访日期", today - timedelta(days=200), "overdue_contact", "class A, 200 days")
    # duplicate ID: row 22 reuses row 21's ID
    rows[22][col[C]["客户编号"]] = rows[21][col[C]["客户编号"]]
    plant(21, "客户编号", rows[21][col[C]["客户编号"]], "duplicate_id", "ID typed twice")
    plant(22, "客户编号", rows[22][col[C]["客户编号"]], "duplicate_id", "ID typed twice")
    # the same company twice, spelled with full-width brackets and 有限责任公司
    base = rows[23][col[C]["客户名称"]].replace("有限公司", "")
    rows[23][col[C]["客户名称"]] = f"{base}（华东）有限公司"
    plant(23, "客户名称", rows[23][col[C]["客户名称"]], "duplicate_name", "same company, other spelling")
    plant(24, "客户名称", f"{base}(华东)有限责任公司", "duplicate_name", "same company, other spelling")
    # two different customers with the same name (different IDs): a visit without ID is ambiguous
    same = "上海星辰物流有限公司"
    plant(25, "客户名称", same, "duplicate_name", "same-name customers")
    plant(26, "客户名称", same, "duplicate_name", "same-name customers")

    visits, complaints, monthly = _history(rng, rows, today, col[C])
    V, P, M = "拜访记录", "投诉记录", "月度业务"
    visits.append([today - timedelta(days=5), "", "不存在的客户有限公司", "张伟", "实地", "例行回访", "", "", ""])
    planted.append(Planted("unknown_customer", V, f"C{len(visits) + 1}", "customer not in the ledger"))
    visits.append([today - timedelta(days=6), "", same, "王芳", "电话", "例行回访", "", "", ""])
    planted.append(Planted("ambiguous_customer", V, f"C{len(visits) + 1}", "two customers of that name"))
    visits.append([today - timedelta(days=7), rows[26][0], same, "王芳", "电话", "例行回访", "确认订单", "", ""])
    visits.append(["上周三", rows[30][0], rows[30][1], "李娜", "实地", "例行回访", "", "", ""])
    planted.append(Planted("bad_date", V, f"A{len(visits) + 1}", "a date in words"))
    received = datetime.combine(today - timedelta(days=3), datetime.min.time()).replace(hour=10)
    complaints.append(
        [
            "TS9001",
            received,
            rows[40][0],
            rows[40][1],
            "服务",
            "安装延误",
            "刘洋",
            received - timedelta(hours=2),
            "是",
            received + timedelta(days=1),
            "一般",
            "48小时",
            "结案",
            received + timedelta(days=2),
            "满意，已重新安排安装",
        ]
    )
    planted.append(Planted("reply_before_received", P, f"H{len(complaints) + 1}", "reply before complaint"))
    complaints.append(
        [
            "TS9002",
            received,
            "KH9999",
            "",
            "质量",
            "外壳破损",
            "刘洋",
            received + timedelta(hours=3),
            "否",
            "",
            "严重",
            "3天",
            "调查中",
            "",
            "",
        ]
    )
    planted.append(Planted("unknown_customer", P, f"C{len(complaints) + 1}", "unknown customer ID"))
    # a complaint from yesterday still without a reply (the complaint reminder's case, not a mistake)
    waiting = datetime.combine(today - timedelta(days=1), datetime.min.time()).replace(hour=11)
    complaints.append([
        "TS9003", waiting, rows[60][0], rows[60][1], "交付", "到货数量不符", rows[60][col[C]["客户经理"]], "", "否", "",
        "严重", "48小时", "受理", "", "",
    ])  # fmt: skip
    # a contact whose birthday is today, with an e-mail and greetings wanted (the care reminder's case)
    cake = next(i for i in reversed(range(len(rows))) if rows[i][col[C]["电子邮箱"]])  # clear of the planted rows
    rows[cake][col[C]["联系人生日"]] = date(1980, today.month, today.day)  # 1980 had a 29 February
    rows[cake][col[C]["节日问候"]] = "是"
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    monthly.append([f"{last_month:%Y-%m}", rows[50][0], rows[50][1], -35.0, 0])
    planted.append(Planted("negative_amount", M, f"D{len(monthly) + 1}", "negative volume"))
    return {C: rows, V: visits, P: complaints, M: monthly}, planted


def _stages(n: int, resolved: bool, replied: datetime, today: date) -> list[Any]:
    """承诺时限, 处理阶段, 反馈时间, 客户意见 of the n-th history complaint (004's stages), drawn
    from ``n`` and not from the random source, so the figures after them stay as they were."""
    promise = "48小时" if n % 5 == 0 else "72小时"
    if not resolved:
        return [promise, "调查中" if n % 2 else "处理中", "", ""]
    told = replied + timedelta(days=3)
    if n % 3 == 0 or told.date() >= today:
        return [promise, "处理", "", ""]  # resolved, the customer not yet asked
    return [promise, "结案", told, "满意，问题已解决" if n % 4 else "基本满意，希望加快响应"]


NEXT_STEPS = ["按计划跟进", "寄送新品样品", "提交报价方案", "确认下季度订单"]


def _history(rng: random.Random, rows: list[list[Any]], today: date, c: dict[str, int]):
    visits, complaints, monthly = [], [], []
    for row in rows[30:]:
        for _ in range(rng.randint(0, 3)):
            day = today - timedelta(days=rng.randint(1, 300))
            visits.append(
                [
                    day,
                    row[c["客户编号"]],
                    row[c["客户名称"]],
                    row[c["客户经理"]],
                    rng.choice(["实地", "电话", "邮件"]),
                    rng.choice(["例行回访", "需求沟通", "回款跟进", "新品介绍"]),
                    "沟通合作情况",
                    rng.choice(["满意", "一般", "希望降价", "交期需改善"]),
                    NEXT_STEPS[len(visits) % len(NEXT_STEPS)],  # no draw: the figures after stay as they were
                ]
            )
    visits.sort(key=lambda v: v[0])
    for n in range(1, 41):
        row = rows[30 + rng.randrange(len(rows) - 30)]
        received = datetime.combine(today - timedelta(days=rng.randint(1, 200)), datetime.min.time()).replace(
            hour=rng.randint(8, 18), minute=rng.choice([0, 15, 30, 45])
        )
        replied = received + timedelta(hours=rng.choice([1, 3, 8, 20, 30]))
        resolved = rng.random() < 0.8
        complaints.append(
            [
                f"TS{n:04d}",
                received,
                row[c["客户编号"]],
                row[c["客户名称"]],
                rng.choice(["质量", "交付", "服务"]),
                rng.choice(["产品有划痕", "到货延迟", "售后响应慢", "发票错误"]),
                row[c["客户经理"]],
                replied if replied < datetime.combine(today, datetime.min.time()) else "",
                "是" if resolved else "否",
                replied + timedelta(days=2) if resolved else "",
                "严重" if n % 7 == 0 else "一般",  # no draw from rng: the figures after stay as they were
                *_stages(n, resolved, replied, today),
            ]
        )
    month = today.replace(day=1)
    months = []
    for _ in range(12):
        month = (month - timedelta(days=1)).replace(day=1)
        months.append(month)
    # the business of the strategic and class-A customers, as a real ledger keeps it (the
    # monthly report's 重点客户 sheet is about them), and of sixty others
    covered = [
        row for n, row in enumerate(rows) if 30 <= n < 90 or row[c["客户分类"]] == "A" or row[c["战略客户"]] == "是"
    ]
    for row in covered:
        level = rng.uniform(20, 400)
        for m in reversed(months):
            level = max(1.0, level * rng.uniform(0.8, 1.2))
            monthly.append(
                [
                    f"{m:%Y-%m}",
                    row[c["客户编号"]],
                    row[c["客户名称"]],
                    round(level, 1),
                    round(level * rng.uniform(0, 0.2), 1),
                ]
            )
    return visits, complaints, monthly


DEMO_VISITORS = [("李总", "高层", 2, 3), ("周总", "高层", 2, 3), ("赵工", "技术", 3, 5), ("孙工", "质量", 3, 5)]


def _name_the_visitors(rules: Path) -> None:
    """The demo's 拜访能力 names who goes on the strategic customers' 高层拜访, 技术交流 and
    质量交流 (002), so its plan shows them planned by person."""
    import openpyxl

    book = openpyxl.load_workbook(rules)
    for row in DEMO_VISITORS:
        book["拜访能力"].append(list(row))
    book.save(rules)


def make_demo(
    folder: str | Path, today: date, *, customers: int = 300, force: bool = False
) -> tuple[Path, list[Planted]]:
    """Create a demo workspace in ``folder`` (overwriting its demo ledger) and return the
    ledger path and the planted mistakes."""
    folder = Path(folder)
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise InputError(
            "the folder is not empty; the demo would overwrite what is in it",
            file=folder,
            hint="give a new folder, or add --force to replace its workspace with the demo",
        )
    init_workspace(folder, company="星海示范集团", force=True)
    _name_the_visitors(folder / "rules.xlsx")
    sheets, planted = generate(today, customers=customers)
    ledger = folder / LEDGER_PATH
    title = f"星海示范集团 客户台账（{today.year}年{today.month}月）"
    write_ledger(ledger, sheets, title=title)
    return ledger, planted


DEMO_CONFIG = """
# ---- added by crm demo: mail into the outbox/ folder (no server needed), and a timetable ----
[mail]
backend = "outbox"
sender_name = "星海示范集团 客户服务部"
sender_address = "crm@example.com"
managers = ["manager@example.com"]

[mail.owner_managers]
{owner_managers}

[[schedule.jobs]]
name = "每日校验"
job = "run"
args = ["validate", "classify", "plan"]
when = "workdays 08:00"

[[schedule.jobs]]
name = "拜访提醒"
job = "remind"
args = ["visits"]
when = "weekly mon 08:30"

[[schedule.jobs]]
name = "投诉检查"
job = "remind"
args = ["complaints"]
when = "hourly 09:00-18:00"

[[schedule.jobs]]
name = "月度报告"
job = "report"
args = ["--month", "{{last_month}}"]
when = "monthly first-workday 09:00"

[[schedule.jobs]]
name = "月报邮件"
job = "remind"
args = ["report"]
when = "monthly first-workday 09:30"
"""


@dataclass
class DemoRun:
    """Every job's result on the demo workspace, for the ``crm demo`` summary and ``--json``."""

    folder: Path
    ledger: Path
    planted: list[Planted]
    results: dict[str, Any]  # job name → its result object (each has .as_json())
    outputs: list[Path]


def run_demo(
    folder: str | Path,
    today: date,
    *,
    customers: int = 300,
    force: bool = False,
    lang: str | None = None,
    progress=None,
) -> DemoRun:
    """Create the demo workspace and run every job on it as of ``today``: validate, classify,
    plan (3 months), the report of the last complete month, the write-back of the results into
    the demo ledger, every kind of reminder and a satisfaction survey (into ``outbox/``; a fifth
    of the forms come back filled in), and the timetable's status. ``progress(text)`` is called
    before each step."""
    from .classify import classify
    from .config import load_settings
    from .pipeline import remind
    from .plan import plan
    from .remind import KINDS
    from .report import report
    from .schedule import prepare, status, system_clock
    from .survey import collect, create_campaign, send_forms, survey_results
    from .validate import validate
    from .writeback import classify_columns, plan_columns, validate_columns, validate_highlights, write_job_columns

    step = progress or (lambda text: None)
    folder = Path(folder)
    step("Generating the demo ledger…")
    ledger, planted = make_demo(folder, today, customers=customers, force=force)
    managers = "\n".join(f'"{name}" = "manager@example.com"' for name, _ in OWNERS)
    with (folder / "crm.toml").open("a", encoding="utf-8") as config:
        config.write(DEMO_CONFIG.format(owner_managers=managers))
    settings = load_settings(folder, lang=lang)
    results: dict[str, Any] = {}
    step("Validating…")
    results["validate"] = checked = validate(ledger, settings, today=today)
    step("Classifying…")
    results["classify"] = classified = classify(ledger, settings, today=today)
    step("Planning visits…")
    results["plan"] = planned = plan(ledger, settings, today=today, months=3)
    step("Writing the monthly report…")
    results["report"] = report(ledger, settings, month=today.replace(day=1) - timedelta(days=1))
    step("Writing the results back into the ledger…")
    columns = [
        *classify_columns(classified, settings),
        *validate_columns(checked, settings),
        *plan_columns(planned, settings),
    ]
    results["write_back"] = write_job_columns(
        ledger, classified, columns, settings, highlights=validate_highlights(checked)
    )
    morning = datetime.combine(today, datetime.min.time()).replace(hour=9)
    for kind in KINDS:
        step(f"Reminders: {kind}…")
        results[f"remind {kind}"] = remind(kind, settings, today=today, now=morning)
    step("Satisfaction survey…")
    campaign = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    created = create_campaign(ledger, settings, campaign=campaign, today=today)
    results["survey create"] = created
    results["survey send"] = send_forms(settings, today=today, campaign=campaign, now=morning)
    returned = _fill_some_forms(created, folder / "问卷回收", random.Random(today.toordinal()))
    results["survey collect"] = collect(returned, settings, today=today, campaign=campaign)
    results["survey results"] = survey_results(settings, today=today, campaign=campaign)
    step("Timetable…")
    jobs, _ = status(prepare(folder, system_clock(morning), settings=settings), morning)
    results["schedule status"] = _ScheduleStatus(jobs)
    outputs = [p for r in results.values() for p in getattr(r, "outputs", [])]
    return DemoRun(folder, ledger, planted, results, outputs)


@dataclass
class _ScheduleStatus:
    jobs: list[Any]

    def as_json(self) -> dict[str, Any]:
        return {"job": "schedule status", "jobs": [j.as_json() for j in self.jobs]}


def _fill_some_forms(created: Any, inbox: Path, rng: random.Random, share: float = 0.2) -> Path:
    """A fifth of the customers answer: their forms filled in (answer cells only, as a customer
    would in Excel) and saved in ``inbox``, as the assistant saves the e-mailed returns."""
    import openpyxl

    from .survey.forms import META_SHEET
    from .surveydata.questions import RATING_SCALE

    inbox.mkdir(parents=True, exist_ok=True)
    labels = {score: zh for score, zh, _ in RATING_SCALE}
    for form in created.created:
        if rng.random() > share:
            continue
        book = openpyxl.load_workbook(created.folder / form.file)
        meta = {row[0].value: row[1].value for row in book[META_SHEET].iter_rows() if row[0].value}
        sheet = next(ws for ws in book.worksheets if ws.title != META_SHEET)
        mood = rng.choice([5, 5, 4, 4, 4, 3, 2])
        for question, ref in zip(created.questions, str(meta.get("answers", "")).split(","), strict=False):
            if question.kind == "rating":
                sheet[ref] = labels[max(1, min(5, mood + rng.choice([-1, 0, 0, 1])))]
            elif question.kind == "nps":
                sheet[ref] = max(0, min(10, mood * 2 + rng.choice([-1, 0, 0])))
            elif mood <= 3:
                sheet[ref] = rng.choice(["交付周期太长", "售后响应慢", "价格偏高"])
        book.save(inbox / form.file)
    return inbox

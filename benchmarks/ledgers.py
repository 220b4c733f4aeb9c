"""Generated customer ledgers for the benchmarks: one generator, one layout, checked on read-back.

``ensure(customers, findings)`` returns ``benchmarks/data/ledger_<customers>_<findings>_v<VERSION>.xlsx``
(gitignored), generating it on first use (XlsxWriter, constant_memory) and checking it with
``check()``; ``<file>.json`` beside it says what went in (row counts, planted mistakes by kind,
the findings ``crm validate`` should report, seconds to generate). Deterministic: the same
arguments give the same workbook, byte for byte. The customers are the same in "few" and
"many" (the planted mistakes draw from their own seeded random stream), so the two differ
only by the mistakes. About 27 s for 100k customers on this project's 2-core VM (XlsxWriter's
cell writing is most of it), 3 s for 10k; check() takes about 9 s at 100k.

What a ledger of N customers holds, as of TODAY = 2026-11-26 — the standard layout of
``crm init`` (``LAYOUT`` below, a copy of toolkit.workspace.LEDGER_SHEETS), four sheets, a
header row on row 1 and every value under its own header:

客户台账 (customers): N rows, all 29 columns; row n (Excel row n + 1) is customer KH{n:07d}.
  * 客户名称 unique company names (city + two words + trade + 有限公司/股份有限公司/集团有限公司);
    联系人 a two-character name; 客户经理 one of round(N / 500) owners (200 at 100k), each with
    their 客户经理邮箱 amNNNN@example.com; classes A/B/C/D (2:3:4:1), 2 % strategic (战略客户 是,
    class A) with 行业地位/企业规模/合作意向/发展潜力 that score to the class under the shipped
    ABCD table; 3 % with an overdue amount and days; ~2 % CCC credit; ~2 % satisfaction 2.5.
  * values typed the ways people type them: 联系电话 as a number cell (40 %), as text, +86 138 1234
    5678, 138-1234-5678, a landline with area code, with 转 extension, two numbers separated by
    ';' or '/'; 电子邮箱 blank for a third, some upper-case; 年销售额(万元) as a number, 1,234.5,
    1234.5万, 0.1235亿, text with spaces; 业务占比 5.2% or 5.20 %; 最近拜访日期 as a date cell,
    2026/9/3, 2026年9月3日, 2026.9.3, 2026-09-03, or the number 20260903; 满意度 4.5, 4.5分,
    满意/非常满意 or blank; 战略客户 是/否/√/Y/N/blank; 逾期 blank or 0.
  * 最近拜访日期 within the class's 最长未联系天数 (A 92, B 183, C/D 365, 战略 31), 3 days at least.
拜访记录 (visits): 1 or 2 per customer (half each), 4 per strategic customer, at most 18 months
  old (an overdue plant's visits are moved back with it), sorted by date; the latest is the
  customer's 最近拜访日期. 拜访目的 names the kinds of the rules' 拜访周期 sheet: 例行回访 (or
  需求沟通/回款跟进/新品介绍) for A/B/C, 电话联系 (by 电话/微信) for D; for strategic customers
  客户经理拜访, 高层拜访, 技术交流 and 质量交流, whose 拜访内容 holds the keyword (高层/技术/质量).
  Every row carries 客户编号 and 客户名称; 拜访人 the owner, one in ten with a colleague.
投诉记录 (complaints): ~5 % of customers, one each, received in the past year (a datetime cell,
  or text 2026-05-03 14:30); 70 % replied within 24 h and resolved, 12 % replied late (26–96 h)
  and resolved, 10 % replied but open, 8 % no reply; a resolution has 解决时间, and 是否解决 是
  (or 已解决, or blank: 解决时间 alone says it); an open one 否/未解决/处理中. Nothing after TODAY.
月度业务 (monthly): 12 months, 2025-11 … 2026-10, for the top 10 % of customers by annual sales
  (12 × round(N / 10) rows), month by month; each month typed one way (2026-03, 2026年3月 or a
  date cell); 业务量(万元) about a twelfth of the annual sales, 新增业务 blank for ~30 %.

Planted mistakes, customer sheet only: each row, with probability 1 % ("few") or 75 % ("many"),
gets exactly one of PLANTS (equal shares, except that in "many" the two pair kinds are rarer,
about 1 % of rows each, since they need a clean row before them): a bad phone, a bad e-mail, no phone and no e-mail,
no 客户经理, no 联系人, an unreadable or a future 最近拜访日期, a last visit long past the class's
limit, an unreadable amount, a share over 100 %, a credit rating or class not in the allowed
lists, and — when the row before is clean — the row before's 客户编号 (duplicate ID) or its
company name spelled another way (duplicate name; both rows of the pair are then flagged).
The other sheets hold no mistakes (a duplicate-ID row's visits name it by its own name, the ID
it had). So ``crm validate`` reports each planted mistake once (a pair twice) and nothing else:
the JSON summary's ``expected_findings`` (so it did for 10k few and many, finding for finding,
with the toolkit of commit febc49f).

    python benchmarks/ledgers.py 100000 --findings many     # generate (if missing) and check
    python benchmarks/ledgers.py --check FILE.xlsx          # check any ledger this module wrote
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
TODAY = date(2026, 11, 26)
VERSION = 2  # bump whenever the generator's output changes: cached files are found by name
SEED = 2026
FINDINGS = {"few": 0.01, "many": 0.75}
CUSTOMERS_PER_OWNER = 500  # one account manager per ~500 customers (issue 15)
MONTHS = [date(2025, 11, 1), date(2025, 12, 1), *(date(2026, m, 1) for m in range(1, 11))]

LAYOUT: dict[str, list[str]] = {
    "客户台账": [
        "客户编号", "客户名称", "联系人", "联系电话", "电子邮箱", "客户经理", "客户经理邮箱", "客户分类",
        "战略客户", "年销售额(万元)", "业务占比", "信用等级", "逾期金额(万元)", "逾期天数", "合作意向",
        "发展潜力", "企业规模", "行业地位", "所属行业", "区域", "城市", "地址", "最近拜访日期", "建档日期",
        "联系人生日", "节日问候", "客户状态", "满意度", "备注",
    ],
    "拜访记录": [
        "拜访日期", "客户编号", "客户名称", "拜访人", "拜访方式", "拜访目的", "拜访内容", "客户反馈", "下一步",
    ],
    "投诉记录": [
        "投诉编号", "投诉时间", "客户编号", "客户名称", "投诉类别", "投诉内容", "处理人", "回复时间", "是否解决",
        "解决时间",
    ],
    "月度业务": ["月份", "客户编号", "客户名称", "业务量(万元)", "新增业务(万元)"],
}  # fmt: skip
CUSTOMERS, VISITS, COMPLAINTS, MONTHLY = LAYOUT

CITIES = [  # (city, area code, region); 3-digit area codes take 8-digit numbers, the others 7
    ("北京", "010", "华北"), ("上海", "021", "华东"), ("广州", "020", "华南"), ("深圳", "0755", "华南"),
    ("杭州", "0571", "华东"), ("南京", "025", "华东"), ("成都", "028", "西南"), ("武汉", "027", "华中"),
    ("苏州", "0512", "华东"), ("天津", "022", "华北"),
]  # fmt: skip
WORDS = (
    "华信 恒通 中科 远景 博瑞 东方 金桥 宏达 天成 新锐 瑞丰 长城 佳禾 同创 汇智 联合 星辰 鼎盛 海纳 光明 "
    "永安 泰和 正元 启明 安迅 银河 盛世 嘉华 信达 凯旋 万通 富源 明德 华夏 腾飞 友邦 新元 合众 百川 兴业"
).split()
TRADES = [
    ("电子科技", "电子"), ("机械制造", "机械"), ("物流", "物流"), ("医药", "医药"), ("建材", "建材"),
    ("软件", "软件"), ("食品", "食品"), ("化工", "化工"), ("汽车零部件", "汽车"), ("电气设备", "电气"),
]  # fmt: skip
SUFFIXES = ["有限公司", "股份有限公司", "集团有限公司"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超华平刚"
LIMIT_DAYS = {"A": 92, "B": 183, "C": 365, "D": 365, "战略": 31}  # 最长未联系天数 of the shipped rules
FACTORS = {  # (行业地位, 企业规模, 合作意向, 发展潜力) that score each class under the shipped ABCD table
    "A": (["龙头", "领先"], ["大型", "中型"], ["强"], ["高"]),
    "B": (["较强"], ["中型", "大型"], ["较强", "一般"], ["较高"]),
    "C": (["一般"], ["小型", "中型"], ["一般", "待观察"], ["中"]),
    "D": (["一般", "较弱"], ["小型", "微型"], ["不明确", "弱"], ["低"]),
}
CREDIT = ["AAA", "AA", "A", "BBB", "BB", "B"]
STATUS = ["正常"] * 14 + ["活跃"] * 4 + ["休眠", "潜在"]
NOTES = ["年底集中采购", "需开增值税专用发票", "老客户介绍", "关注交期", "价格敏感"]
WAYS = ["实地", "电话", "邮件", "微信", "视频"]
ROUTINE = ["例行回访"] * 3 + ["需求沟通", "回款跟进", "新品介绍"]
ROUTINE_CONTENT = ["沟通合作情况", "了解下季度采购需求", "跟进回款进度", "介绍新产品", "确认年度框架合同"]
STRATEGIC_VISITS = {  # 拜访目的 → 拜访内容 holding the rules' keyword
    "高层拜访": "高层拜访：双方总经理会谈年度合作",
    "技术交流": "技术交流：新产品技术方案研讨",
    "质量交流": "质量交流：来料质量问题复盘",
}
PURPOSES = {*ROUTINE, "电话联系", "客户经理拜访", *STRATEGIC_VISITS}
FEEDBACK = ["满意", "一般", "希望降价", "交期需改善", ""]
NEXT_STEP = ["按计划跟进", "安排报价", "寄送样品", ""]
COMPLAINT_TEXT = {
    "质量": ["产品有划痕", "批次尺寸超差"],
    "交付": ["到货延迟", "到货数量不符"],
    "服务": ["售后响应慢", "安装人员未按时到场"],
    "价格": ["发票金额有误", "未享受约定折扣"],
    "其他": ["包装破损", "资料缺失"],
}
RESOLVED = ["是"] * 6 + ["已解决", ""]
UNRESOLVED = ["否", "否", "未解决", "处理中"]

# the planted mistakes: kind → the finding code crm validate reports for it (a pair for duplicates)
PLANTS = {
    "bad_phone": "bad_phone",
    "bad_email": "bad_email",
    "contact_missing": "contact_missing",
    "missing_owner": "required_missing",
    "missing_contact": "required_missing",
    "bad_date": "bad_date",
    "future_date": "future_date",
    "overdue_contact": "overdue_contact",
    "bad_amount": "bad_amount",
    "share_range": "share_range",
    "bad_credit": "bad_enum",
    "bad_class": "bad_enum",
    "duplicate_id": "duplicate_id",
    "duplicate_name": "duplicate_name",
}
PAIRS = ("duplicate_id", "duplicate_name")
SINGLE = [k for k in PLANTS if k not in PAIRS]
BAD_DATES = ["2026-13-45", "上周三", "9月3日", "2026/02/30"]
BAD_AMOUNTS = ["约两千万", "待定", "n/a"]
BAD_SHARES = ["130%", "250%", "101.5%"]
BAD_CREDIT = ["AAAA", "A+", "良好"]
BAD_CLASS = ["E", "A类", "VIP"]

_EPOCH = date(1899, 12, 30)
_NAMES = len(CITIES) * len(WORDS) * (len(WORDS) - 1) * len(TRADES) * len(SUFFIXES)  # 468,000 distinct names
_STRIDE = 7919  # prime, coprime with _NAMES: n → name is a bijection that scatters neighbours


class _Day(float):
    """An Excel date serial: written as a number with a date format."""


class _Time(float):
    """An Excel date-time serial."""


def _day(d: date) -> _Day:
    return _Day((d - _EPOCH).days)


def _time(t: datetime) -> _Time:
    return _Time((t.date() - _EPOCH).days + (t.hour * 3600 + t.minute * 60) / 86400)


def ledger_path(customers: int, findings: str = "few") -> Path:
    return DATA / f"ledger_{customers}_{findings}_v{VERSION}.xlsx"


def owners(count: int) -> list[tuple[str, str]]:
    """``count`` distinct owner names (of 2 or 3 characters) with their e-mail addresses."""
    names = [s + g for s in SURNAMES for g in GIVEN]
    names += [s + g + h for s in SURNAMES for g in GIVEN for h in GIVEN if g != h]
    random.Random(SEED).shuffle(names)
    if count > len(names):
        raise ValueError(f"at most {len(names)} owners")
    return [(name, f"am{k:04d}@example.com") for k, name in enumerate(names[:count], start=1)]


def company_name(n: int) -> tuple[str, int, int]:
    """(name, city index, trade index) of customer ``n`` (1-based); distinct for every n ≤ 468,000."""
    k = ((n - 1) * _STRIDE + 12345) % _NAMES
    k, suffix = divmod(k, len(SUFFIXES))
    k, trade = divmod(k, len(TRADES))
    k, w2 = divmod(k, len(WORDS) - 1)
    city, w1 = divmod(k, len(WORDS))
    second = (w1 + 1 + w2) % len(WORDS)  # never the first word again
    return f"{CITIES[city][0]}{WORDS[w1]}{WORDS[second]}{TRADES[trade][0]}{SUFFIXES[suffix]}", city, trade


def _typed_date(rng: random.Random, d: date):
    r = rng.random()
    if r < 0.5:
        return _day(d)
    if r < 0.65:
        return f"{d.year}/{d.month}/{d.day}"
    if r < 0.75:
        return f"{d.year}年{d.month}月{d.day}日"
    if r < 0.85:
        return f"{d.year}.{d.month}.{d.day}"
    if r < 0.95:
        return d.isoformat()
    return float(d.year * 10000 + d.month * 100 + d.day)


def generate(path: Path, customers: int, findings: str = "few", seed: int = SEED) -> dict:
    """Write the ledger the module docstring describes to ``path``; return what went in."""
    import xlsxwriter

    if findings not in FINDINGS:
        raise ValueError(f"findings is one of {', '.join(FINDINGS)}")
    if not 1 <= customers <= _NAMES:
        raise ValueError(f"1 to {_NAMES:,} customers")
    started = time.perf_counter()
    rng = random.Random(f"{seed}:{customers}")  # the customers and their history
    plant_rng = random.Random(f"{seed}:{customers}:{findings}")  # the planted mistakes only
    share = FINDINGS[findings]
    team = owners(max(1, round(customers / CUSTOMERS_PER_OWNER)))
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_urls": False})
    book.set_properties({"created": datetime(2026, 11, 26)})  # no timestamp of the run: the same bytes each time
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    time_fmt = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    month_fmt = book.add_format({"num_format": "yyyy-mm"})
    sheets = {name: book.add_worksheet(name) for name in LAYOUT}
    for name, sheet in sheets.items():
        for col, header in enumerate(LAYOUT[name]):
            sheet.write_string(0, col, header)

    def writer(sheet, formats=(date_fmt, time_fmt)):
        # the methods behind write_string/write_number, without their A1-notation wrapper (~10 % faster)
        write_string = getattr(sheet, "_write_string", sheet.write_string)
        write_number = getattr(sheet, "_write_number", sheet.write_number)
        day_fmt, stamp_fmt = formats

        def write(r: int, values: list) -> None:
            for c, v in enumerate(values):
                t = type(v)
                if t is str:
                    if v:
                        write_string(r, c, v)
                elif t is _Day:
                    write_number(r, c, v, day_fmt)
                elif t is _Time:
                    write_number(r, c, v, stamp_fmt)
                elif v is not None:
                    write_number(r, c, v)

        return write

    write_customer = writer(sheets[CUSTOMERS])
    visits: list[tuple] = []
    complaints: list[tuple] = []
    sales: list[tuple[float, int, str]] = []
    planted: Counter[str] = Counter()
    strategic_count = 0
    previous = ("", "", False)  # the row before: (id, name, planted)
    cutoff = datetime.combine(TODAY, datetime.min.time())
    for n in range(1, customers + 1):
        # ---- the customer, always the same draws in the same order (the plants draw elsewhere)
        name, city_i, trade_i = company_name(n)
        city, area, region = CITIES[city_i]
        strategic = rng.random() < 0.02
        klass = "A" if strategic else rng.choices("ABCD", weights=(2, 3, 4, 1))[0]
        strategic_count += strategic
        owner, owner_email = team[rng.randrange(len(team))]
        contact = rng.choice(SURNAMES) + rng.choice(GIVEN)
        mobile = f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
        landline = f"{area}-{rng.randint(2000000, 8999999) if len(area) == 4 else rng.randint(20000000, 89999999)}"
        r = rng.random()
        # fmt: off
        phone = (
            float(mobile) if r < 0.4
            else mobile if r < 0.55
            else f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}" if r < 0.65
            else f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}" if r < 0.75
            else landline if r < 0.85
            else f"{landline}转{rng.randint(100, 899)}" if r < 0.92
            else f"{mobile}; {landline}" if r < 0.97
            else f"{mobile} / 1{mobile[1:10]}{(int(mobile[10]) + 1) % 10}"
        )
        r = rng.random()
        email = "" if r < 0.34 else f"c{n}@example.cn" if r < 0.9 else f"Contact.{n}@Example.COM"
        sales_wan = round(rng.lognormvariate(6.2, 1.1), 1)
        r = rng.random()
        sales_typed = (
            sales_wan if r < 0.5
            else f"{sales_wan:,.1f}" if r < 0.7
            else f"{sales_wan}万" if r < 0.85
            else f"{sales_wan / 10000:.4f}亿" if r < 0.95
            else f" {sales_wan} "
        )
        # fmt: on
        share_pct = rng.uniform(0.1, 6)
        share_typed = f"{share_pct:.1f}%" if rng.random() < 0.8 else f"{share_pct:.2f} %"
        credit = "CCC" if rng.random() < 0.02 else rng.choice(CREDIT)
        if rng.random() < 0.03:
            overdue = [round(rng.uniform(5, 80), 1), float(rng.randint(10, 90))]
        else:
            overdue = [0.0, 0.0] if rng.random() < 0.7 else ["", ""]
        position, scale, intent, potential = (rng.choice(options) for options in FACTORS[klass])
        address = f"{city}市{rng.choice(WORDS)}路{rng.randint(1, 999)}号"
        limit = LIMIT_DAYS["战略" if strategic else klass]
        last_ago = rng.randint(3, limit - 5)
        last_typed = _typed_date(rng, TODAY - timedelta(days=last_ago))
        since = _day(TODAY - timedelta(days=rng.randint(400, 3000)))
        r = rng.random()
        born = date(rng.randint(1960, 1995), rng.randint(1, 12), rng.randint(1, 28))
        birthday = _day(born) if r < 0.6 else born.isoformat() if r < 0.7 else ""
        greetings = rng.choice(["是", "是", "否", "否", ""])
        status = rng.choice(STATUS)
        r = rng.random()
        score = round(rng.uniform(3.5, 5), 1)
        satisfaction = (
            2.5
            if r < 0.02
            else score
            if r < 0.62
            else f"{score}分"
            if r < 0.72
            else rng.choice(["满意", "非常满意"])
            if r < 0.82
            else ""
        )
        note = rng.choice(NOTES) if rng.random() < 0.1 else ""
        flag = rng.choice(["是", "√", "Y"]) if strategic else rng.choice(["否"] * 7 + [""] * 2 + ["N"])
        # its visits: the latest on the last-visit day, the others older, within 18 months
        if strategic:
            kinds = ["客户经理拜访", *STRATEGIC_VISITS]
        else:
            kinds = [("电话联系" if klass == "D" else rng.choice(ROUTINE)) for _ in range(1 + (rng.random() < 0.5))]
        ages = [last_ago] + [rng.randint(last_ago, 540) for _ in kinds[1:]]
        history = []
        for kind, ago in zip(kinds, ages, strict=True):
            if kind == "电话联系":
                way = rng.choice(["电话", "电话", "微信"])
            elif kind in ROUTINE:
                way = rng.choice(["实地"] * 8 + ["视频", "电话"])
            else:
                way = "实地"
            content = STRATEGIC_VISITS.get(kind) or rng.choice(ROUTINE_CONTENT)
            visitor = owner if rng.random() < 0.9 else f"{owner}、{team[rng.randrange(len(team))][0]}"
            history.append(
                [ago, rng.random() < 0.85, visitor, way, kind, content, rng.choice(FEEDBACK), rng.choice(NEXT_STEP)]
            )
        complaint = None
        if rng.random() < 0.05:
            received = (
                cutoff
                - timedelta(days=rng.randint(1, 365))
                + timedelta(hours=rng.randint(8, 18), minutes=rng.choice([0, 15, 30, 45]))
            )
            r = rng.random()
            replied = received + timedelta(
                hours=rng.uniform(0.5, 20) if r < 0.92 and not 0.70 <= r < 0.82 else rng.uniform(26, 96)
            )
            resolved_on = replied + timedelta(hours=rng.uniform(4, 240))
            if r >= 0.92 or replied > cutoff:
                replied = resolved_on = None
            elif 0.82 <= r < 0.92 or resolved_on > cutoff:
                resolved_on = None
            category = rng.choice(list(COMPLAINT_TEXT))
            complaint = [
                received,
                category,
                rng.choice(COMPLAINT_TEXT[category]),
                replied,
                resolved_on,
                rng.choice(RESOLVED) if resolved_on else rng.choice(UNRESOLVED),
                rng.random(),
            ]

        # ---- the planted mistake, if any (its own random stream)
        customer_id, visit_id, kind = f"KH{n:07d}", f"KH{n:07d}", ""
        if plant_rng.random() < share:
            kind = plant_rng.choice(list(PLANTS))
            if kind in PAIRS and (n == 1 or previous[2]):
                kind = plant_rng.choice(SINGLE)  # a pair needs a clean row before it
        if kind == "bad_phone":
            short = f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:10]}"
            phone = plant_rng.choice([mobile[:-1], mobile + "0", "12345678", short])
        elif kind == "bad_email":
            email = plant_rng.choice([f"c{n}@@example.com", f"c{n}.example.com", f"c{n}@example"])
        elif kind == "contact_missing":
            phone = email = ""
        elif kind == "missing_owner":
            owner = ""
        elif kind == "missing_contact":
            contact = ""
        elif kind == "bad_date":
            last_typed = plant_rng.choice(BAD_DATES)
        elif kind == "future_date":
            last_typed = _day(TODAY + timedelta(days=plant_rng.randint(10, 60)))
        elif kind == "overdue_contact":
            shift = limit + plant_rng.randint(20, 200) - last_ago
            last_typed = _day(TODAY - timedelta(days=last_ago + shift))
            for visit in history:
                visit[0] += shift
        elif kind == "bad_amount":
            sales_typed = plant_rng.choice(BAD_AMOUNTS)
        elif kind == "share_range":
            share_typed = plant_rng.choice(BAD_SHARES)
        elif kind == "bad_credit":
            credit = plant_rng.choice(BAD_CREDIT)
        elif kind == "bad_class":
            klass = plant_rng.choice(BAD_CLASS)
        elif kind == "duplicate_id":
            customer_id = previous[0]
        elif kind == "duplicate_name":
            base = previous[1]
            name = base.replace("有限公司", "有限责任公司") if n % 2 else f"{base[:2]} {base[2:]}"
        if kind:
            planted[kind] += 1
        previous = (customer_id, name, bool(kind))

        record = {  # by header, so that no value can land under another column's header
            "客户编号": customer_id,
            "客户名称": name,
            "联系人": contact,
            "联系电话": phone,
            "电子邮箱": email,
            "客户经理": owner,
            "客户经理邮箱": owner_email,
            "客户分类": klass,
            "战略客户": flag,
            "年销售额(万元)": sales_typed,
            "业务占比": share_typed,
            "信用等级": credit,
            "逾期金额(万元)": overdue[0],
            "逾期天数": overdue[1],
            "合作意向": intent,
            "发展潜力": potential,
            "企业规模": scale,
            "行业地位": position,
            "所属行业": TRADES[trade_i][1],
            "区域": region,
            "城市": city,
            "地址": address,
            "最近拜访日期": last_typed,
            "建档日期": since,
            "联系人生日": birthday,
            "节日问候": greetings,
            "客户状态": status,
            "满意度": satisfaction,
            "备注": note,
        }
        write_customer(n, [record[header] for header in LAYOUT[CUSTOMERS]])
        for ago, as_cell, *rest in history:
            day = TODAY - timedelta(days=ago)
            visits.append((ago, _day(day) if as_cell else f"{day.year}/{day.month}/{day.day}", visit_id, name, *rest))
        if complaint:
            received, category, text, replied, resolved_on, resolved, style = complaint
            complaints.append(
                (received, visit_id, name, category, text, owner or team[0][0], replied, resolved, resolved_on, style)
            )
        sales.append((sales_wan, n, name))

    visits.sort(key=lambda v: -v[0])  # oldest first, as a visit log grows
    write = writer(sheets[VISITS])
    for r, (_, day, *rest) in enumerate(visits, start=1):
        write(r, [day, *rest])
    complaints.sort(key=lambda c: c[0])
    write = writer(sheets[COMPLAINTS])
    for r, (received, cid, cname, category, text, handler, replied, resolved, resolved_on, style) in enumerate(
        complaints, start=1
    ):
        as_text = style < 0.2  # one complaint in five typed as text throughout
        stamp = (lambda t: t.strftime("%Y-%m-%d %H:%M") if t else "") if as_text else (lambda t: _time(t) if t else "")
        write(
            r,
            [
                f"TS{r:06d}",
                stamp(received),
                cid,
                cname,
                category,
                text,
                handler,
                stamp(replied),
                resolved,
                stamp(resolved_on),
            ],
        )
    top = sorted(sales, reverse=True)[: round(customers / 10)]
    top.sort(key=lambda s: s[1])
    write = writer(sheets[MONTHLY], (month_fmt, time_fmt))
    levels = {n: wan / 12 for wan, n, _ in top}
    r = 0
    for m, month in enumerate(MONTHS):
        typed = [f"{month:%Y-%m}", f"{month:%Y-%m}", f"{month.year}年{month.month}月", _day(month)][m % 4]
        for _, n, cname in top:
            levels[n] = max(0.1, levels[n] * rng.uniform(0.85, 1.15))
            volume = round(levels[n] * (0.55 if m == len(MONTHS) - 1 and n % 20 == 0 else 1), 1)  # 5 % drop
            r += 1
            write(
                r,
                [
                    typed,
                    f"KH{n:07d}",
                    cname,
                    volume,
                    round(volume * rng.uniform(0, 0.2), 1) if rng.random() < 0.7 else "",
                ],
            )
    book.close()
    pairs = sum(planted[k] for k in PAIRS)
    expected = Counter()
    for kind, count in planted.items():
        expected[PLANTS[kind]] += count * (2 if kind in PAIRS else 1)
    return {
        "file": path.name.replace(".partial", ""),
        "version": VERSION,
        "customers": customers,
        "findings": findings,
        "seed": seed,
        "rows": {CUSTOMERS: customers, VISITS: len(visits), COMPLAINTS: len(complaints), MONTHLY: r},
        "owners": len(team),
        "strategic": strategic_count,
        "planted_rows": sum(planted.values()),
        "flagged_rows": sum(planted.values()) + pairs,
        "planted": dict(sorted(planted.items())),
        "expected_findings": dict(sorted(expected.items())),
        "generated_s": round(time.perf_counter() - started, 1),
    }


def ensure(customers: int, findings: str = "few", *, force: bool = False, verify: bool = True) -> Path:
    """The cached ledger of ``customers`` with ``findings`` mistakes, generated (and checked) if missing."""
    path = ledger_path(customers, findings)
    if path.exists() and not force:
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.stem + ".partial.xlsx")
    summary = generate(partial, customers, findings)
    print(f"generated {path.name} in {summary['generated_s']} s", file=sys.stderr)
    if verify:
        started = time.perf_counter()
        check(partial, customers, findings)
        print(f"checked it in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    partial.replace(path)
    path.with_name(path.name + ".json").write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n")
    return path


# ---------------------------------------------------------------- the read-back check

_OWNER_EMAIL = re.compile(r"am\d{4}@example\.com")
_MOBILE = r"1[3578]\d{9}"
_LANDLINE = r"0(?:10|2\d)-\d{8}|0(?:755)-\d{7}|0(?:571|512)-\d{7}"
_CLEAN_PHONE = re.compile(
    rf"(?:{_MOBILE}|\+86 1[3578]\d \d{{4}} \d{{4}}|1[3578]\d-\d{{4}}-\d{{4}}|(?:{_LANDLINE})(?:转\d{{3}})?"
    rf"|{_MOBILE}; (?:{_LANDLINE})|{_MOBILE} / {_MOBILE})"
)
_BAD_PHONE = re.compile(r"1[3578]\d{8}|1[3578]\d{10}|12345678|1[3578]\d-\d{4}-\d{3}")
_CLEAN_EMAIL = re.compile(r"c\d+@example\.cn|Contact\.\d+@Example\.COM")
_BAD_EMAIL = re.compile(r"c\d+@@example\.com|c\d+\.example\.com|c\d+@example")
_SALES = re.compile(r"(\d{1,3}(?:,\d{3})*\.\d)|(\d+\.\d)万|(\d+\.\d{4})亿| (\d+\.\d) ")
_SHARE = re.compile(r"\d\.\d%|\d\.\d\d %")
_DATE_TEXT = re.compile(r"(\d{4})(?:/|\.|-|年)(\d{1,2})(?:/|\.|-|月)(\d{1,2})日?")
_ADDRESS = re.compile(rf"(?:{'|'.join(c for c, _, _ in CITIES)})市(?:{'|'.join(WORDS)})路\d{{1,3}}号")
_NAME = re.compile(
    rf"(?:{'|'.join(c for c, _, _ in CITIES)})(?:{'|'.join(WORDS)}){{2}}(?:{'|'.join(t for t, _ in TRADES)})"
    rf"(?:{'|'.join(SUFFIXES)})"
)
_STRATEGIC_FLAGS = {"是", "√", "Y"}
_INDUSTRIES = {i for _, i in TRADES}
_REGIONS = {r for _, _, r in CITIES}
_CITY_NAMES = {c for c, _, _ in CITIES}
_ALL_FACTORS = [set().union(*(FACTORS[k][i] for k in FACTORS)) for i in range(4)]


def _as_date(value) -> date | None:
    """A date as this module types it (a date cell, the text forms, the number 20260903), else None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float) and 19000101 <= value <= 21001231:
        value = str(int(value))
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    if isinstance(value, str):
        found = _DATE_TEXT.fullmatch(value)
        if found:
            try:
                return date(*(int(g) for g in found.groups()))
            except ValueError:
                return None
    return None


def _as_time(value) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):  # a date-time cell at 00:00 reads back as a date
        return datetime.combine(value, datetime.min.time())
    if isinstance(value, str):
        try:
            return datetime.strptime(value, "%Y-%m-%d %H:%M")
        except ValueError:
            return None
    return None


def _sales(value) -> float | None:
    if isinstance(value, float):
        return value
    found = _SALES.fullmatch(value) if isinstance(value, str) else None
    if not found:
        return None
    plain, wan, yi, spaced = found.groups()
    if plain:
        return float(plain.replace(",", ""))
    return float(yi) * 10000 if yi else float(wan or spaced)


def _name_key(name: str) -> str:
    return name.replace(" ", "").replace("有限责任公司", "有限公司")


class _Misplaced(AssertionError):
    pass


def _customer_row(n: int, row: list, previous: tuple[str, str], team: set[str]) -> str:
    """The planted kind of customer row ``n`` ('' when clean); raises when a value is not what
    this module writes under that header (a shifted or mixed-up column)."""

    def fail(header: str) -> None:
        value = row[LAYOUT[CUSTOMERS].index(header)]
        raise _Misplaced(f"{CUSTOMERS} row {n + 1}: {header} holds {value!r}")

    (
        cid,
        name,
        contact,
        phone,
        email,
        owner,
        owner_email,
        klass,
        flag,
        sales,
        share,
        credit,
        overdue_amount,
        overdue_days,
        intent,
        potential,
        scale,
        position,
        industry,
        region,
        city,
        address,
        last,
        since,
        birthday,
        greetings,
        status,
        satisfaction,
        note,
    ) = row
    kinds = []
    if cid == f"KH{n - 1:07d}" and cid == previous[0]:
        kinds.append("duplicate_id")
    elif cid != f"KH{n:07d}":
        fail("客户编号")
    if not (isinstance(name, str) and _NAME.fullmatch(name)):
        if isinstance(name, str) and _name_key(name) == _name_key(previous[1]) and name != previous[1]:
            kinds.append("duplicate_name")
        else:
            fail("客户名称")
    if contact == "":
        kinds.append("missing_contact")
    elif not (isinstance(contact, str) and len(contact) == 2 and contact[0] in SURNAMES and contact[1] in GIVEN):
        fail("联系人")
    if not (isinstance(email, str) and (email == "" or _CLEAN_EMAIL.fullmatch(email))):
        if isinstance(email, str) and _BAD_EMAIL.fullmatch(email):
            kinds.append("bad_email")
        else:
            fail("电子邮箱")
    if isinstance(phone, float) and 13e9 <= phone < 19e9:
        pass
    elif phone == "":
        if email != "":
            fail("联系电话")
        kinds.append("contact_missing")
    elif isinstance(phone, str) and _BAD_PHONE.fullmatch(phone):
        kinds.append("bad_phone")
    elif not (isinstance(phone, str) and _CLEAN_PHONE.fullmatch(phone)):
        fail("联系电话")
    if owner == "":
        kinds.append("missing_owner")
    elif owner not in team:
        fail("客户经理")
    if not (isinstance(owner_email, str) and _OWNER_EMAIL.fullmatch(owner_email)):
        fail("客户经理邮箱")
    if klass in BAD_CLASS:
        kinds.append("bad_class")
    elif klass not in LIMIT_DAYS or klass == "战略":
        fail("客户分类")
    if flag not in _STRATEGIC_FLAGS and flag not in ("否", "", "N"):
        fail("战略客户")
    strategic = flag in _STRATEGIC_FLAGS
    if sales in BAD_AMOUNTS:
        kinds.append("bad_amount")
    elif _sales(sales) is None:
        fail("年销售额(万元)")
    if share in BAD_SHARES:
        kinds.append("share_range")
    elif not (isinstance(share, str) and _SHARE.fullmatch(share)):
        fail("业务占比")
    if credit in BAD_CREDIT:
        kinds.append("bad_credit")
    elif credit not in CREDIT and credit != "CCC":
        fail("信用等级")
    if not (overdue_amount == "" or (isinstance(overdue_amount, float) and 0 <= overdue_amount <= 80)):
        fail("逾期金额(万元)")
    days_ok = isinstance(overdue_days, float) and overdue_days.is_integer() and 0 <= overdue_days <= 90
    if not (overdue_days == "" or days_ok):
        fail("逾期天数")
    factors = (position, scale, intent, potential)
    for header, value, allowed in zip(
        ("行业地位", "企业规模", "合作意向", "发展潜力"), factors, _ALL_FACTORS, strict=True
    ):
        if value not in allowed:
            fail(header)
    if industry not in _INDUSTRIES:
        fail("所属行业")
    if region not in _REGIONS:
        fail("区域")
    if city not in _CITY_NAMES:
        fail("城市")
    if not (isinstance(address, str) and _ADDRESS.fullmatch(address) and address.startswith(city)):
        fail("地址")
    if last in BAD_DATES:
        kinds.append("bad_date")
    else:
        day = _as_date(last)
        if day is None:
            fail("最近拜访日期")
        ago = (TODAY - day).days
        limit = LIMIT_DAYS["战略" if strategic else klass] if klass in LIMIT_DAYS else None
        if ago < 0:
            kinds.append("future_date")
        elif limit and ago > limit:
            if ago < limit + 20:
                fail("最近拜访日期")
            kinds.append("overdue_contact")
        elif ago < 3 or (limit and ago > limit - 5):
            fail("最近拜访日期")
    if not (isinstance(since, date) and 400 <= (TODAY - since).days <= 3000):
        fail("建档日期")
    if not (birthday == "" or (_as_date(birthday) and 1960 <= _as_date(birthday).year <= 1995)):
        fail("联系人生日")
    if greetings not in ("是", "否", ""):
        fail("节日问候")
    if status not in STATUS:
        fail("客户状态")
    ok_score = (
        satisfaction in ("", "满意", "非常满意", 2.5)
        or (isinstance(satisfaction, float) and 3.5 <= satisfaction <= 5)
        or (isinstance(satisfaction, str) and re.fullmatch(r"[345]\.\d分", satisfaction))
    )
    if not ok_score:
        fail("满意度")
    if note not in NOTES and note != "":
        fail("备注")
    if len(kinds) > 1:
        raise _Misplaced(f"{CUSTOMERS} row {n + 1}: more than one mistake ({', '.join(kinds)})")
    return kinds[0] if kinds else ""


def _rows(book, sheet: str, width: int):
    rows = book.get_sheet_by_name(sheet).iter_rows()
    header = next(rows)
    if list(header[:width]) != LAYOUT[sheet]:
        raise AssertionError(f"{sheet}: the header row is {header}, not {LAYOUT[sheet]}")
    for row in rows:
        row = list(row)
        yield row + [""] * (width - len(row)) if len(row) < width else row[:width]


def _near(value: float, expected: float, tolerance: float, what: str) -> None:
    if abs(value - expected) > tolerance:
        raise AssertionError(f"{what} is {value:.4g}, expected {expected:.4g} ± {tolerance:.3g}")


def check(path: str | Path, customers: int | None = None, findings: str | None = None) -> dict:
    """Read a ledger of this module back (python-calamine) and assert that the docstring holds:
    the four sheets with their headers; every value of every row under its own header and typed
    as described; the row counts per sheet; owners, visits, complaints and months as described;
    the share of planted mistakes near 1 % or 75 %. ``customers`` and ``findings`` default to
    what the file's name says. Returns the counts it found."""
    from python_calamine import CalamineWorkbook

    path = Path(path)
    named = re.match(r"ledger_(\d+)_(few|many)_v\d+", path.name)
    customers = customers or (int(named[1]) if named else None)
    findings = findings or (named[2] if named else None)
    try:
        from toolkit.workspace import LEDGER_SHEETS

        if LEDGER_SHEETS != LAYOUT:
            print("note: toolkit.workspace.LEDGER_SHEETS is no longer this module's LAYOUT", file=sys.stderr)
    except ImportError:
        pass
    book = CalamineWorkbook.from_path(str(path))
    if book.sheet_names != list(LAYOUT):
        raise AssertionError(f"sheets are {book.sheet_names}, not {list(LAYOUT)}")
    team = {name for name, _ in owners(max(1, round(customers / CUSTOMERS_PER_OWNER)) if customers else 8000)}
    planted: Counter[str] = Counter()
    names, sales, owner_seen, strategic = {}, {}, set(), 0
    previous = ("", "")
    n = 0
    for n, row in enumerate(_rows(book, CUSTOMERS, len(LAYOUT[CUSTOMERS])), start=1):
        kind = _customer_row(n, row, previous, team)
        if kind:
            planted[kind] += 1
        previous = (row[0], row[1])
        names[f"KH{n:07d}"] = row[1]
        sales[f"KH{n:07d}"] = _sales(row[9])
        owner_seen.add(row[5])
        strategic += row[8] in _STRATEGIC_FLAGS
    if customers is not None and n != customers:
        raise AssertionError(f"{CUSTOMERS} has {n:,} rows, not {customers:,}")
    customers = n
    owner_seen.discard("")
    team_size = max(1, round(customers / CUSTOMERS_PER_OWNER))
    if len(owner_seen) != team_size:
        raise AssertionError(f"{len(owner_seen)} owners, not round({customers} / {CUSTOMERS_PER_OWNER}) = {team_size}")
    share = sum(planted.values()) / customers
    if findings and customers >= 5000:
        _near(share, FINDINGS[findings], 0.4 * FINDINGS[findings] if findings == "few" else 0.03, "planted share")
    if customers >= 5000:
        _near(strategic / customers, 0.02, 0.006, "strategic share")

    visits, purposes, ways = 0, Counter(), set()
    for r, row in enumerate(_rows(book, VISITS, len(LAYOUT[VISITS])), start=2):
        day, cid, cname, visitor, way, purpose, content, feedback, next_step = row
        when = _as_date(day)
        ok = (
            when is not None
            and 0 <= (TODAY - when).days <= 540 + 200 + 365
            and names.get(cid) == cname
            and all(v in team for v in str(visitor).split("、"))
            and way in WAYS
            and purpose in PURPOSES
            and (content == STRATEGIC_VISITS[purpose] if purpose in STRATEGIC_VISITS else content in ROUTINE_CONTENT)
            and feedback in FEEDBACK
            and next_step in NEXT_STEP
        )
        if not ok:
            raise _Misplaced(f"{VISITS} row {r}: {dict(zip(LAYOUT[VISITS], row, strict=True))}")
        visits += 1
        purposes[purpose] += 1
        ways.add(way)
    if not customers + 3 * strategic <= visits <= 2 * customers + 2 * strategic:
        raise AssertionError(f"{visits:,} visits for {customers:,} customers is not 1–2 each (4 if strategic)")
    if customers >= 1000 and set(purposes) != PURPOSES:
        raise AssertionError(f"visit purposes {sorted(purposes)}: some kinds of 拜访周期 missing")

    complaints, late, unanswered, open_, resolved_blank = 0, 0, 0, 0, 0
    for r, row in enumerate(_rows(book, COMPLAINTS, len(LAYOUT[COMPLAINTS])), start=2):
        number, got, cid, cname, category, text, handler, replied, resolved, resolved_on = row
        received, answer, closed = _as_time(got), _as_time(replied), _as_time(resolved_on)
        limit = datetime.combine(TODAY, datetime.min.time())
        ok = (
            re.fullmatch(r"TS\d{6}", str(number))
            and received is not None
            and received <= limit
            and names.get(cid) == cname
            and category in COMPLAINT_TEXT
            and text in COMPLAINT_TEXT[category]
            and handler in team
            and (replied == "" or (answer is not None and received < answer <= limit))
            and (resolved_on == "" or (closed is not None and answer is not None and answer < closed <= limit))
            and (resolved in RESOLVED if resolved_on != "" else resolved in UNRESOLVED)
        )
        if not ok:
            raise _Misplaced(f"{COMPLAINTS} row {r}: {dict(zip(LAYOUT[COMPLAINTS], row, strict=True))}")
        complaints += 1
        late += answer is not None and (answer - received) > timedelta(hours=24)
        unanswered += replied == ""
        open_ += resolved_on == ""
        resolved_blank += resolved == ""
    if customers >= 5000:
        _near(complaints / customers, 0.05, 0.006, "complaints per customer")
        for count, expected, what in (
            (late, 0.12, "late replies"),
            (unanswered, 0.08, "no reply"),
            (open_ - unanswered, 0.10, "replied, open"),
        ):
            _near(count / complaints, expected, 0.5 * expected, f"share of {what}")
        assert resolved_blank > 0, "no complaint resolved by its 解决时间 alone"

    months: Counter[str] = Counter()
    monthly_ids = set()
    for r, row in enumerate(_rows(book, MONTHLY, len(LAYOUT[MONTHLY])), start=2):
        month, cid, cname, volume, new = row
        key = month if isinstance(month, str) else f"{month:%Y-%m}" if isinstance(month, date) else ""
        key = re.sub(r"(\d{4})年(\d{1,2})月", lambda m: f"{m[1]}-{int(m[2]):02d}", key)
        ok = (
            key in {f"{m:%Y-%m}" for m in MONTHS}
            and names.get(cid) == cname
            and isinstance(volume, float)
            and volume > 0
            and (new == "" or (isinstance(new, float) and new >= 0))
        )
        if not ok:
            raise _Misplaced(f"{MONTHLY} row {r}: {dict(zip(LAYOUT[MONTHLY], row, strict=True))}")
        months[key] += 1
        monthly_ids.add(cid)
    top = round(customers / 10)
    if len(months) != 12 or set(months.values()) != {top} or len(monthly_ids) != top:
        raise AssertionError(f"{MONTHLY}: {dict(months)} for {len(monthly_ids)} customers, not 12 × {top}")
    inside = [sales[c] for c in monthly_ids if sales[c] is not None]
    outside = [s for c, s in sales.items() if c not in monthly_ids and s is not None]
    if inside and outside and min(inside) < max(outside) - 1:
        raise AssertionError(f"{MONTHLY} is not the top 10 % by sales ({min(inside)} < {max(outside)})")
    found = {
        "customers": customers,
        "visits": visits,
        "complaints": complaints,
        "monthly": sum(months.values()),
        "owners": len(owner_seen),
        "strategic": strategic,
        "planted_rows": sum(planted.values()),
        "planted_share": round(share, 4),
        "planted": dict(sorted(planted.items())),
        "late_replies": late,
        "no_reply": unanswered,
        "open": open_,
    }
    summary = path.with_name(path.name.replace(".partial", "") + ".json")
    if summary.exists() and ".partial" not in path.name:
        recorded = json.loads(summary.read_text())
        if recorded.get("planted") != found["planted"] or recorded.get("rows", {}).get(VISITS) != visits:
            raise AssertionError(f"{summary.name} does not match the workbook")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("customers", nargs="*", type=int, default=[100_000])
    parser.add_argument("--findings", choices=list(FINDINGS), action="append")
    parser.add_argument("--force", action="store_true", help="generate again even when the file exists")
    parser.add_argument("--check", type=Path, help="only check this ledger")
    args = parser.parse_args()
    if args.check:
        print(json.dumps(check(args.check), ensure_ascii=False))
        return
    for customers in args.customers:
        for findings in args.findings or ["few"]:
            cached = ledger_path(customers, findings).exists() and not args.force
            path = ensure(customers, findings, force=args.force)  # checks what it generates
            if cached:
                started = time.perf_counter()
                found = check(path)
                print(f"checked {path.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            else:
                found = json.loads(path.with_name(path.name + ".json").read_text())
            print(json.dumps({"path": str(path), **found}, ensure_ascii=False))


if __name__ == "__main__":
    main()

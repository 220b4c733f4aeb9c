"""``crm init``: create a workspace, and the ledger layout the template and the demo share."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from .config import CONFIG_NAME, LEDGER_TEMPLATE_NAME, RULES_NAME, Settings, templates_dir
from .errors import InputError
from .xlsx import FONT, display_width

LEDGER_PATH = "台账/客户台账.xlsx"
EMAIL_TEMPLATES = "email"  # the e-mail templates (Jinja2), edited in the workspace

# The standard ledger: sheet name → headers. The reader does not depend on these names;
# they are what `crm init` hands a team that has no ledger yet.
LEDGER_SHEETS: dict[str, list[str]] = {
    "客户台账": [
        "客户编号",
        "客户名称",
        "联系人",
        "联系电话",
        "电子邮箱",
        "客户经理",
        "客户经理邮箱",
        "客户分类",
        "战略客户",
        "年销售额(万元)",
        "业务占比",
        "信用等级",
        "逾期金额(万元)",
        "逾期天数",
        "合作意向",
        "发展潜力",
        "企业规模",
        "行业地位",
        "所属行业",
        "区域",
        "城市",
        "地址",
        "最近拜访日期",
        "建档日期",
        "联系人生日",
        "节日问候",
        "客户状态",
        "满意度",
        "备注",
    ],
    "拜访记录": [
        "拜访日期",
        "客户编号",
        "客户名称",
        "拜访人",
        "拜访方式",
        "拜访目的",
        "拜访内容",
        "客户反馈",
        "下一步",
    ],
    "投诉记录": [
        "投诉编号",
        "投诉时间",
        "客户编号",
        "客户名称",
        "投诉类别",
        "投诉内容",
        "处理人",
        "回复时间",
        "是否解决",
        "解决时间",
        "严重程度",
        "承诺时限",
        "处理阶段",
        "反馈时间",
        "客户意见",
    ],
    "月度业务": ["月份", "客户编号", "客户名称", "业务量(万元)", "新增业务(万元)"],
}

CONFIG_TEMPLATE = """\
# 客户关系自动化工作区配置 (crm toolkit workspace config)
# Paths are relative to this file. Secrets (the SMTP password) never go here.

[workspace]
company = "{company}"
language = "zh"          # zh = 简体中文, en = English (outputs and e-mails)
rules = "rules.xlsx"     # thresholds, cadences, required fields: edit it in Excel
out = "out"              # where generated workbooks go

[ledgers]
main = "{ledger}"

[policy]
name = "abcd"            # abcd | sales | share

# E-mail (crm remind). backend = "outbox" writes .eml files into outbox/ and sends nothing;
# "smtp" sends. The password is never written here: store it once with
#   keyring set yagmail crm@example.com
# or set the environment variable CRM_SMTP_PASSWORD. The templates are in email/.
# [mail]
# backend = "smtp"             # outbox | smtp
# host = "smtp.example.com"
# port = 465                   # 465 with security = "ssl", 587 with "starttls"
# security = "ssl"             # ssl | starttls
# user = "crm@example.com"     # the login (default: sender_address)
# sender_name = "{company} 客户服务部"
# sender_address = "crm@example.com"
# managers = ["manager@example.com"]   # the monthly report; copied on escalations
# overdue_limit_days = 14      # a visit overdue longer than this copies the owner's manager
# complaint_warn_hours = 4     # remind this many hours before a complaint's reply limit
# visits_period = "week"       # week | month: how far ahead the visit reminder looks
# retry_limit = 3              # attempts at a refused message, over all runs
# [mail.owners]                # an owner's e-mail when the ledger has none
# "张伟" = "zhangwei@example.com"
# [mail.owner_managers]        # whose manager each owner's escalations go to
# "张伟" = "li.manager@example.com"

# The mailbox the returned survey forms arrive in, for: crm survey collect FOLDER --imap
# (password: keyring set crm-imap USER, or the environment variable CRM_IMAP_PASSWORD)
# [survey.imap]
# host = "imap.example.com"
# port = 993                   # 993 with security = "ssl", 143 with "starttls"
# security = "ssl"
# user = "survey@example.com"
# folder = "INBOX"

# Your own column names, when the toolkit does not recognise them:
# [columns.customers]
# "甲方单位" = "name"
# "对口业务员" = "owner"

# 定时运行 (crm schedule): uncomment the entries you want, check them with
#   crm schedule status
# and let the PC start them:  crm schedule install --apply  (Windows: at log-on and every hour).
# when = "daily 08:00" | "workdays 08:00" | "weekly mon 08:30" | "monthly first-workday 09:00"
#      | "quarterly first-workday 10:00" | "hourly 09:00-18:00" | "every 2 hours 09:00-17:00"
# Working days follow the Chinese calendar (holidays off, 调休 make-up days on). Runs missed while
# the PC was off run at the next start, oldest first (an hourly one: only the latest).
# args may hold {{date}}, {{month}}, {{last_month}}, {{quarter}} of the run's slot.
#
# [[schedule.jobs]]
# name = "每日校验"
# job = "run"                               # one read of the ledger for the jobs it names
# args = ["validate", "classify", "plan"]
# when = "workdays 08:00"
#
# [[schedule.jobs]]
# name = "拜访提醒"
# job = "remind"
# args = ["visits"]
# when = "weekly mon 08:30"
#
# [[schedule.jobs]]
# name = "投诉检查"
# job = "remind"
# args = ["complaints"]
# when = "hourly 09:00-18:00"
#
# [[schedule.jobs]]
# name = "月度报告"
# job = "report"
# args = ["--month", "{{last_month}}"]
# when = "monthly first-workday 09:00"
#
# [[schedule.jobs]]
# name = "月报邮件"
# job = "remind"
# args = ["report"]
# when = "monthly first-workday 09:30"
#
# [[schedule.jobs]]
# name = "季度问卷生成"
# job = "survey"
# args = ["create", "--campaign", "{{quarter}}"]
# when = "quarterly first-workday 10:00"
#
# [[schedule.jobs]]
# name = "季度问卷发送"
# job = "survey"
# args = ["send"]
# when = "quarterly first-workday 10:30"
"""


def init_workspace(folder: str | os.PathLike[str], *, company: str = "示例公司", force: bool = False) -> Path:
    """Create a workspace in ``folder``: crm.toml, rules.xlsx, an empty ledger, out/.

    Refuses (``InputError``) to overwrite an existing workspace unless ``force``.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError("is a file, not a folder", file=folder, hint="give the name of a new folder")
    if (folder / CONFIG_NAME).exists() and not force:
        raise InputError(
            f"a workspace already exists here ({CONFIG_NAME})",
            file=folder,
            hint="pick another folder, or add --force to overwrite its config and rules",
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "out").mkdir(exist_ok=True)
    templates = templates_dir()
    shutil.copyfile(templates / RULES_NAME, folder / RULES_NAME)
    _copy_missing(templates / EMAIL_TEMPLATES, folder / EMAIL_TEMPLATES)  # never over a template someone edited
    ledger = folder / LEDGER_PATH
    ledger.parent.mkdir(parents=True, exist_ok=True)
    if not ledger.exists():
        shutil.copyfile(templates / LEDGER_TEMPLATE_NAME, ledger)
    (folder / CONFIG_NAME).write_text(CONFIG_TEMPLATE.format(company=company, ledger=LEDGER_PATH), encoding="utf-8")
    return folder


DEFAULT_RULES_NAME = "rules.default.xlsx"


def write_default_rules(folder: str | os.PathLike[str]) -> Path:
    """The shipped rules workbook (the policies' defaults) into ``folder``: as its rules.xlsx
    when it has none, else beside it as rules.default.xlsx, to copy a sheet or a row back
    from. An edited rules.xlsx is never overwritten."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError("is a file, not a folder", file=folder, hint="give the workspace folder")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / RULES_NAME
    if target.exists():
        target = folder / DEFAULT_RULES_NAME
    shutil.copyfile(templates_dir() / RULES_NAME, target)
    return target


def _copy_missing(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file() and not (target / item.name).exists():
            shutil.copyfile(item, target / item.name)


def write_ledger(
    path: Path,
    sheets: Mapping[str, Sequence[Sequence[Any]]],
    *,
    title: str = "",
    choices: dict[str, Sequence[str]] | None = None,
) -> Path:
    """Write a ledger in the standard layout: a merged title row (if any) above each header,
    frozen header, filter, drop-down lists for the columns named in ``choices``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_urls": False})
    base = {"font_name": FONT, "font_size": 10}
    header_fmt = book.add_format({**base, "bold": True, "bg_color": "#FCE4D6", "border": 1})
    title_fmt = book.add_format({**base, "bold": True, "font_size": 14, "align": "center"})
    text_fmt = book.add_format(base)
    date_fmt = book.add_format({**base, "num_format": "yyyy-mm-dd"})
    time_fmt = book.add_format({**base, "num_format": "yyyy-mm-dd hh:mm"})
    for name, headers in LEDGER_SHEETS.items():
        rows = sheets.get(name, [])
        sheet = book.add_worksheet(name)
        top = 0
        if title and name == "客户台账":
            sheet.merge_range(0, 0, 0, len(headers) - 1, title, title_fmt)
            top = 1
        widths = [display_width(h) + 2 for h in headers]
        for col, header in enumerate(headers):
            sheet.write_string(top, col, header, header_fmt)
        for r, row in enumerate(rows, start=top + 1):
            for col, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, datetime):
                    sheet.write_datetime(r, col, value, time_fmt)
                elif isinstance(value, date):
                    sheet.write_datetime(r, col, datetime(value.year, value.month, value.day), date_fmt)
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    sheet.write_number(r, col, value, text_fmt)
                else:
                    sheet.write_string(r, col, str(value), text_fmt)
                widths[col] = max(widths[col], min(display_width(value) + 2, 40))
        for col, width in enumerate(widths):
            sheet.set_column(col, col, width)
        for col, header in enumerate(headers):
            if choices and header in choices:
                sheet.data_validation(
                    top + 1,
                    col,
                    top + 5000,
                    col,
                    {
                        "validate": "list",
                        "source": list(choices[header]),
                        "ignore_blank": True,
                        "error_type": "warning",
                    },
                )
        sheet.freeze_panes(top + 1, 0)
        sheet.autofilter(top, 0, top + max(len(rows), 1), len(headers) - 1)
    book.close()
    return path


LEDGER_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")


def group_ledgers(folder: str | os.PathLike[str], settings: Settings) -> list[tuple[Path, str]]:
    """Every subsidiary ledger in a group ``folder``, each with its subsidiary's name: the name
    given under ``[group]`` in crm.toml (``"华东.xlsx" = "华东分公司"``), else the file name without
    its suffix (with it, when two files share a stem). Excel's ``~$`` owner files are skipped.
    Raises ``InputError`` when the folder does not exist or holds no ledger."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError("is not a folder", file=root, hint="give --group the folder holding the subsidiaries' ledgers")
    names = settings.raw.get("group", {}) if isinstance(settings.raw.get("group", {}), dict) else {}
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in LEDGER_SUFFIXES and not p.name.startswith("~$"))
    if not files:
        raise InputError(
            "holds no ledgers (.xlsx, .xlsm, .xls, .csv)", file=root, hint="put each subsidiary's ledger there"
        )
    stems = Counter(p.stem for p in files)
    # 华东.xlsx and 华东.csv are two subsidiaries: then the suffix stays in the name
    return [(p, str(names.get(p.name, p.stem if stems[p.stem] == 1 else p.name))) for p in files]

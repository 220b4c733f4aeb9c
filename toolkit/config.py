"""Workspace config (TOML) and the rules workbook (Excel) → one ``Settings`` object.

The rules workbook is the only home of thresholds, cadences, required fields and allowed
values: the shipped one (``templates/rules.xlsx``) holds the policy defaults, and a
workspace's copy is what its managers edit in Excel. Nothing here reads the environment
(the ledger password is read in ``ledger.source``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError, InputError
from .findings import CODES
from .ledger.coerce import clean_text, parse_date
from .ledger.headers import IGNORED
from .model import CUSTOMERS, FIELDS_BY_TABLE, TABLES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_NAME = "crm.toml"
RULES_NAME = "rules.xlsx"
LEDGER_TEMPLATE_NAME = "ledger_template.xlsx"

# Sheet names of the rules workbook (they are what managers see in Excel).
PARAMETERS_SHEET = "参数"
CADENCE_SHEET = "拜访周期"
CAPACITY_SHEET = "拜访能力"
HOLIDAYS_SHEET = "节假日"
RULES_SHEET = "校验规则"
REQUIRED_SHEET = "必填字段"
VALUES_SHEET = "取值范围"
ALIASES_SHEET = "列名"
ABCD_POINTS_SHEET = "ABCD评分"
ABCD_CUTOFFS_SHEET = "ABCD分级"
RISKS_SHEET = "风险规则"
WRITEBACK_COLUMNS = {  # key → the default header of a column --write-back writes into the ledger
    "class": "客户分类(系统)",
    "reason": "分类依据",
    "risk": "风险等级",
    "next_visit": "下次拜访",
    "check": "校验结果",
}
RISK_CODES = (
    "low_credit",
    "overdue_payment",
    "no_contact",
    "complaint_unanswered",
    "complaint_open",
    "satisfaction_low",
    "satisfaction_falling",
    "volume_drop",
)
RISK_LEVELS = {
    "提示": "info",
    "预警": "warning",
    "严重": "severe",
    "info": "info",
    "warning": "warning",
    "severe": "severe",
}

_YES = {"是", "y", "yes", "true", "1", "启用", "√"}
_SEVERITY = {"错误": "error", "error": "error", "警告": "warning", "warning": "warning"}


def templates_dir() -> Path:
    """The shipped templates: inside the installed package, or the source checkout's ``templates/``."""
    packaged = resources.files("toolkit") / "templates"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parent.parent / "templates"
    if checkout.is_dir():
        return checkout
    raise ConfigError(
        "the toolkit's templates are missing from this installation",
        hint="reinstall it with pip install (not a copy of the source files)",
    )


# the 拜访周期 columns the toolkit reads, and where they sit when a header is not found
_CADENCE_HEADERS = {"客户类别": 0, "拜访类型": 1, "周期(月)": 2, "方式": 3, "记录关键词": 5, "首次跟进(天)": 6}
_CADENCE_EXTRA = ("拜访人员", "客户经理陪同", "拜访目的", "拜访内容")


def _shown(value: Any) -> str:
    """A text of the rules workbook as typed, ends trimmed (no full-width folding)."""
    return "" if value is None else str(value).strip()


def check_writable_folder(folder: Path) -> None:
    """Make ``folder`` and write a probe file into it; ``InputError`` naming it when that fails
    (read-only, no permission, a disk that is full)."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.NamedTemporaryFile(dir=folder, prefix=".crm-probe-").close()  # made and removed: it can write
    except OSError as error:
        raise InputError(
            f"cannot write into the output folder ({error.strerror or type(error).__name__})",
            file=folder,
            hint="make the folder writable, or give another one with --out"
            " (or out = '...' under [workspace] in crm.toml)",
        ) from None


@dataclass
class Cadence:
    """One row of 拜访周期: customers of ``klass`` get a ``kind`` of visit every ``months``
    calendar months from the last one (due on that day, overdue the day after)."""

    klass: str
    kind: str
    months: float
    way: str
    keyword: str = ""  # a visit record counts for this kind when its purpose or content holds it
    first_days: float | None = None  # never visited: first due this many days after 建档日期 (002: prompt follow-up)
    role: str = "客户经理"  # who goes (002: 高层, 技术, 质量 for strategic customers): 拜访能力 names the people
    with_owner: bool = False  # the account manager goes along
    purpose: str = ""  # 拜访目的 (004: a plan names purpose, time, visitors and content); empty: the kind
    content: str = ""  # 拜访内容


OWNER_ROLE = "客户经理"


@dataclass
class RiskRule:
    code: str
    title: str
    enabled: bool
    level: str  # info | warning | severe
    threshold: float | list[str]
    unit: str


@dataclass
class Rules:
    """What the rules workbook says."""

    path: Path
    parameters: dict[str, float | str]
    cadences: list[Cadence]
    enabled: dict[str, bool]
    severity: dict[str, str]
    required: list[str]  # field keys of the customer sheet, plus "phone_or_email"
    allowed: dict[str, list[str]]  # field key → allowed values
    aliases: dict[str, dict[str, str]]  # table → header → field key
    # factor → level → (points, class it forces or "")
    abcd_points: dict[str, dict[str, tuple[float, str]]] = field(default_factory=dict)
    abcd_cutoffs: list[tuple[str, float]] = field(default_factory=list)  # (class, lowest average), best first
    risks: dict[str, RiskRule] = field(default_factory=dict)
    capacity: dict[str, tuple[int, int]] = field(default_factory=dict)  # person or "*" → (a day, on-site a week)
    holidays: dict[date, tuple[bool, str]] = field(default_factory=dict)  # day → (is a workday, name)
    roles: dict[str, list[str]] = field(default_factory=dict)  # role (高层, 技术 …) → its people, as listed
    role_capacity: dict[str, tuple[int, int]] = field(default_factory=dict)  # role → its "*" row

    def capacity_of(self, person: str, role: str = OWNER_ROLE) -> tuple[tuple[int, int], bool]:
        """(visits a day, on-site visits a week) of ``person``, and whether it is a default row
        (the "*" row of their role; for an account manager, the "*" row)."""
        if person in self.capacity:
            return self.capacity[person], False
        if role != OWNER_ROLE and role in self.role_capacity:
            return self.role_capacity[role], True
        return self.capacity.get("*", (4, 8)), True

    def parameter(self, key: str) -> float:
        value = self.parameters.get(key)
        if not isinstance(value, (int, float)):
            raise ConfigError(
                f"parameter '{key}' is missing or not a number",
                file=self.path,
                sheet=PARAMETERS_SHEET,
                hint=_defaults_hint(self.path, "row"),
            )
        return float(value)

    def writeback_columns(self) -> dict[str, str]:
        """What --write-back calls its columns in the ledger: key → header (参数 sheet, writeback.*)."""
        names = {}
        for key, default in WRITEBACK_COLUMNS.items():
            value = self.parameters.get(f"writeback.{key}")
            names[key] = clean_text(value) if isinstance(value, str) and clean_text(value) else default
        return names


@dataclass
class Settings:
    """Everything a job needs to know, loaded once and passed down."""

    rules: Rules
    workspace: Path | None = None
    lang: str = "zh"
    company: str = ""
    ledgers: dict[str, Path] = field(default_factory=dict)
    out_dir: Path | None = None
    policy: str = "abcd"
    column_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def output_dir(self, override: str | os.PathLike[str] | None = None) -> Path:
        folder = Path(override) if override else self.out_dir or Path.cwd() / "out"
        if folder.exists() and not folder.is_dir():
            raise InputError("the output folder is a file", file=folder, hint="give --out a folder")
        return folder

    def output_folder(self, override: str | os.PathLike[str] | None = None) -> Path:
        """The output folder, made if need be and checked to take a file: a job calls this
        before it writes or records anything, so a folder it cannot write leaves no trace."""
        folder = self.output_dir(override)
        check_writable_folder(folder)
        return folder

    def ledger_key(self, ledger: str | os.PathLike[str]) -> str:
        """How the state database names a ledger: its path inside the workspace (台账/客户台账.xlsx),
        so a workspace copied or moved to another PC keeps its history; absolute outside it."""
        path = Path(ledger).resolve()
        if self.workspace is not None:
            try:
                return path.relative_to(Path(self.workspace).resolve()).as_posix()
            except ValueError:
                pass
        return str(path)

    def overrides_for_reader(self) -> dict[str, dict[str, str]]:
        merged: dict[str, dict[str, str]] = {t: dict(self.rules.aliases.get(t, {})) for t in TABLES}
        for table, mapping in self.column_overrides.items():
            merged.setdefault(table, {}).update(mapping)
        for header in self.rules.writeback_columns().values():  # the toolkit's own columns are never input
            merged[CUSTOMERS].setdefault(header, IGNORED)
        return merged


def find_workspace(explicit: str | os.PathLike[str] | None) -> Path | None:
    """``--workspace DIR``, else the current folder if it holds a config, else None."""
    if explicit:
        folder = Path(explicit)
        if not (folder / CONFIG_NAME).is_file():
            raise InputError(
                f"no {CONFIG_NAME} in this folder", file=folder, hint="create a workspace with: crm init DIR"
            )
        return folder
    here = Path.cwd()
    return here if (here / CONFIG_NAME).is_file() else None


def load_settings(workspace: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Settings for ``workspace`` (a folder with crm.toml), or the shipped defaults when None.

    ``overrides`` are one-run values from the command line (``lang``, ``policy``).
    """
    if workspace is None:
        settings = Settings(rules=load_rules(templates_dir() / RULES_NAME))
    else:
        folder = Path(workspace)
        config_path = folder / CONFIG_NAME
        try:
            raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(
                f"is not valid TOML ({error})",
                file=config_path,
                hint="fix the line named, or copy it again from a new `crm init`",
            ) from error

        def text(table: str, key: str, default: str) -> str:
            section = raw.get(table, {})
            if not isinstance(section, dict):
                raise ConfigError(
                    f"[{table}] must be a table of settings",
                    file=config_path,
                    hint=f"write it as a [{table}] section, as crm init does",
                )
            value = section.get(key, default)
            if not isinstance(value, str):
                raise ConfigError(
                    f"{table}.{key} must be text in quotes, not {value!r}",
                    file=config_path,
                    hint=f'write it as {key} = "..."',
                )
            return value

        ledgers = {key: folder / text("ledgers", key, "") for key in raw.get("ledgers", {}) or {}}
        settings = Settings(
            rules=load_rules(folder / text("workspace", "rules", RULES_NAME)),
            workspace=folder,
            lang=text("workspace", "language", "zh"),
            company=text("workspace", "company", ""),
            ledgers=ledgers,
            out_dir=folder / text("workspace", "out", "out"),
            policy=text("policy", "name", "abcd"),
            column_overrides=_column_overrides(raw.get("columns", {}), config_path),
            raw=raw,
        )
    for key, value in overrides.items():
        if value is not None:
            setattr(settings, key, value)
    if settings.lang not in ("zh", "en"):
        raise InputError(f"unknown language '{settings.lang}'", hint="use zh or en")
    return settings


def _column_overrides(section: dict[str, Any], path: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for table, mapping in section.items():
        if table not in TABLES or not isinstance(mapping, dict):
            raise ConfigError(
                f"[columns.{table}] is not a table the toolkit reads",
                file=path,
                hint=f"use one of: {', '.join('[columns.' + t + ']' for t in TABLES)}",
            )
        for header, key in mapping.items():
            if key not in FIELDS_BY_TABLE[table]:
                raise ConfigError(
                    f"[columns.{table}] maps '{header}' to unknown field '{key}'",
                    file=path,
                    hint=f"fields: {', '.join(FIELDS_BY_TABLE[table])}",
                )
        out[table] = dict(mapping)
    return out


# ---------------------------------------------------------------- the rules workbook


def _quoted(folder: Path) -> str:
    text = str(folder)
    return f'"{text}"' if any(c.isspace() for c in text) else text


def _defaults_hint(rules: Path | None, what: str) -> str:
    """How to get a lost sheet or row of the rules workbook back: the command that writes the
    shipped defaults beside it."""
    folder = _quoted(rules.parent) if rules is not None else "WORKSPACE"
    return (
        f"copy that {what} back from the shipped defaults: crm init --rules-only {folder}"
        " writes them as rules.default.xlsx"
    )


def load_rules(path: Path) -> Rules:
    """Read the rules workbook. A wrong value raises ``ConfigError`` naming sheet and cell."""
    from python_calamine import CalamineWorkbook

    if not path.is_file():
        raise ConfigError(
            "rules workbook not found",
            file=path,
            hint=f"write the shipped one there with: crm init --rules-only {_quoted(path.parent)}",
        )
    try:
        book = CalamineWorkbook.from_path(str(path))
        sheets = {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in book.sheet_names}
    except Exception as error:
        raise ConfigError(
            f"the rules workbook cannot be read ({error})", file=path, hint="open it in Excel and save it again"
        ) from error

    def rows(sheet: str) -> list[tuple[int, list[Any]]]:
        if sheet not in sheets:
            raise ConfigError(
                f"the rules workbook has no sheet 「{sheet}」",
                file=path,
                hint=_defaults_hint(path, "sheet"),
            )
        return [(i + 1, r) for i, r in enumerate(sheets[sheet]) if i > 0 and any(str(c).strip() for c in r)]

    parameters: dict[str, float | str] = {}
    parameter_cells: dict[str, str] = {}
    for number, row in rows(PARAMETERS_SHEET):
        key, value = clean_text(row[0]), row[2] if len(row) > 2 else ""
        unit = clean_text(row[3]) if len(row) > 3 else ""
        if key:
            parameters[key] = _percent_aware(value, unit)
            parameter_cells[key] = f"C{number}"

    cadences = []
    # by header, so a rules workbook made before 最长未联系天数 was dropped still reads right
    header = [clean_text(c) for c in (sheets.get(CADENCE_SHEET) or [[]])[0]]
    at = {name: header.index(name) for name in _CADENCE_HEADERS if name in header}
    place = [at.get(name, default) for name, default in _CADENCE_HEADERS.items()]
    months_letter = chr(ord("A") + place[2])
    extra = {name: header.index(name) for name in _CADENCE_EXTRA if name in header}  # absent in older workbooks
    for number, row in rows(CADENCE_SHEET):
        cells = list(row) + [""] * (max([*place, *extra.values()]) + 1 - len(row))
        klass, kind, months, way, keyword, first = (cells[i] for i in place)
        # 拜访目的 and 拜访内容 are shown as typed (a Chinese comma stays one); the rest is folded
        role, along, purpose, content = (
            (clean_text if n in ("拜访人员", "客户经理陪同") else _shown)(cells[extra[n]]) if n in extra else ""
            for n in _CADENCE_EXTRA
        )
        if not clean_text(klass):
            continue
        first_letter = chr(ord("A") + place[5])
        first_days = None if clean_text(first) == "" else _number(first, path, CADENCE_SHEET, f"{first_letter}{number}")
        if first_days is not None and first_days < 0:
            raise ConfigError(
                f"a first follow-up {first_days:g} days after 建档日期 cannot be planned",
                file=path,
                sheet=CADENCE_SHEET,
                cell=f"{first_letter}{number}",
                hint="type a number of days, 0 or more, or leave it empty",
            )
        months_value = _number(months, path, CADENCE_SHEET, f"{months_letter}{number}")
        if months_value < 0.25:
            raise ConfigError(
                f"a cadence of {months_value:g} months cannot be planned",
                file=path,
                sheet=CADENCE_SHEET,
                cell=f"{months_letter}{number}",
                hint="type a number of months, at least 0.25",
            )
        cadences.append(
            Cadence(
                clean_text(klass).upper() if clean_text(klass).isascii() else clean_text(klass),
                clean_text(kind),
                months_value,
                clean_text(way),
                clean_text(keyword),
                first_days,
                role or OWNER_ROLE,
                along.lower() in _YES,
                purpose,
                content,
            )
        )

    enabled, severity = {}, {}
    for number, row in rows(RULES_SHEET):
        code = clean_text(row[0])
        if code not in CODES:
            raise ConfigError(
                f"unknown rule code '{code}'",
                file=path,
                sheet=RULES_SHEET,
                cell=f"A{number}",
                hint=f"codes: {', '.join(CODES)}",
            )
        enabled[code] = clean_text(row[2]).lower() in _YES
        level = _SEVERITY.get(clean_text(row[3]).lower())
        if level is None:
            raise ConfigError(
                f"severity '{row[3]}' is not 错误 or 警告",
                file=path,
                sheet=RULES_SHEET,
                cell=f"D{number}",
                hint="type 错误 (error) or 警告 (warning)",
            )
        severity[code] = level

    required = []
    for number, row in rows(REQUIRED_SHEET):
        key = clean_text(row[0])
        if key != "phone_or_email" and key not in FIELDS_BY_TABLE["customers"]:
            raise ConfigError(
                f"unknown field '{key}'",
                file=path,
                sheet=REQUIRED_SHEET,
                cell=f"A{number}",
                hint=f"fields: {', '.join(FIELDS_BY_TABLE['customers'])}",
            )
        if clean_text(row[2]).lower() in _YES:
            required.append(key)

    allowed = {}
    for _, row in rows(VALUES_SHEET):
        key = clean_text(row[0])
        values = [v.strip() for v in clean_text(row[2]).replace(",", "、").split("、") if v.strip()]
        allowed[key] = [v.upper() if v.isascii() else v for v in values]

    aliases: dict[str, dict[str, str]] = {}
    for number, row in rows(ALIASES_SHEET):
        table, key, header = (clean_text(c) for c in (list(row) + ["", "", ""])[:3])
        if table not in TABLES or key not in FIELDS_BY_TABLE[table]:
            raise ConfigError(
                f"unknown table/field '{table}/{key}'",
                file=path,
                sheet=ALIASES_SHEET,
                cell=f"A{number}",
                hint=f"tables: {', '.join(TABLES)}",
            )
        aliases.setdefault(table, {})[header] = key

    abcd_points: dict[str, dict[str, tuple[float, str]]] = {}
    for number, row in rows(ABCD_POINTS_SHEET):
        factor, _, level, points, forced = (list(row) + [""] * 5)[:5]
        factor, level, forced = clean_text(factor), clean_text(level), clean_text(forced).upper()
        if factor not in ("industry_position", "scale", "intent", "potential"):
            raise ConfigError(
                f"unknown factor '{factor}'",
                file=path,
                sheet=ABCD_POINTS_SHEET,
                cell=f"A{number}",
                hint="use industry_position, scale, intent or potential",
            )
        score = _number(points, path, ABCD_POINTS_SHEET, f"D{number}")
        abcd_points.setdefault(factor, {})[level.upper() if level.isascii() else level] = (score, forced)

    abcd_cutoffs: list[tuple[str, float]] = []
    for number, row in rows(ABCD_CUTOFFS_SHEET):
        klass = clean_text(row[0]).upper()
        if not klass:
            raise ConfigError(
                "a cut-off row has no class name",
                file=path,
                sheet=ABCD_CUTOFFS_SHEET,
                cell=f"A{number}",
                hint="type the class (A, B, C, D) or delete the row",
            )
        lowest = _number(row[1], path, ABCD_CUTOFFS_SHEET, f"B{number}")
        if abcd_cutoffs and lowest >= abcd_cutoffs[-1][1]:
            raise ConfigError(
                f"cut-offs overlap or are out of order: {klass} {lowest:g} is not below "
                f"{abcd_cutoffs[-1][0]} {abcd_cutoffs[-1][1]:g}",
                file=path,
                sheet=ABCD_CUTOFFS_SHEET,
                cell=f"B{number}",
                hint="list the classes best first, each with a lower average than the one above",
            )
        abcd_cutoffs.append((klass, lowest))
    forced = {f for levels in abcd_points.values() for _, f in levels.values() if f}
    forced_unknown = forced - {k for k, _ in abcd_cutoffs}
    if forced_unknown:
        raise ConfigError(
            f"「直接归为」names a class not in {ABCD_CUTOFFS_SHEET}: {', '.join(sorted(forced_unknown))}",
            file=path,
            sheet=ABCD_POINTS_SHEET,
            hint="use one of the classes of ABCD分级",
        )

    risks: dict[str, RiskRule] = {}
    for number, row in rows(RISKS_SHEET):
        code, title, on, level, threshold, unit = (list(row) + [""] * 6)[:6]
        code = clean_text(code)
        if code not in RISK_CODES:
            raise ConfigError(
                f"unknown risk code '{code}'",
                file=path,
                sheet=RISKS_SHEET,
                cell=f"A{number}",
                hint=f"codes: {', '.join(RISK_CODES)}",
            )
        level_key = RISK_LEVELS.get(clean_text(level).lower())
        if level_key is None:
            raise ConfigError(
                f"level '{level}' is not 提示, 预警 or 严重",
                file=path,
                sheet=RISKS_SHEET,
                cell=f"D{number}",
                hint="type 提示, 预警 or 严重",
            )
        limit: float | list[str]
        if code == "low_credit":
            limit = [
                v.strip().upper() if v.strip().isascii() else v.strip()
                for v in clean_text(threshold).replace(",", "、").split("、")
                if v.strip()
            ]
        else:
            typed = _percent_aware(threshold, clean_text(unit))
            limit = _number(typed, path, RISKS_SHEET, f"E{number}")
        risks[code] = RiskRule(
            code, clean_text(title), clean_text(on).lower() in _YES, level_key, limit, clean_text(unit)
        )

    capacity: dict[str, tuple[int, int]] = {}
    roles: dict[str, list[str]] = {}
    role_capacity: dict[str, tuple[int, int]] = {}
    # 人员, 角色, 每日拜访上限, 每周实地拜访上限; a workbook made before 角色 has no second column
    with_roles = "角色" in [clean_text(c) for c in (sheets.get(CAPACITY_SHEET) or [[]])[0]]
    day_col, week_col = (2, 3) if with_roles else (1, 2)
    for number, row in rows(CAPACITY_SHEET):
        cells = list(row) + [""] * 4
        person = clean_text(cells[0]) or "*"
        role = (clean_text(cells[1]) if with_roles else "") or OWNER_ROLE
        letters = chr(ord("A") + day_col), chr(ord("A") + week_col)
        per_day = _number(cells[day_col], path, CAPACITY_SHEET, f"{letters[0]}{number}")
        per_week = _number(cells[week_col], path, CAPACITY_SHEET, f"{letters[1]}{number}")
        if per_day < 1 or per_week < 0:
            raise ConfigError(
                "a capacity must be at least 1 visit a day",
                file=path,
                sheet=CAPACITY_SHEET,
                cell=f"{letters[0]}{number}",
                hint="type a whole number of visits",
            )
        if person == "*" and role != OWNER_ROLE:
            role_capacity[role] = (int(per_day), int(per_week))
            continue
        capacity[person] = (int(per_day), int(per_week))
        if role != OWNER_ROLE and person not in roles.setdefault(role, []):
            roles[role].append(person)

    holidays: dict[date, tuple[bool, str]] = {}
    for number, row in rows(HOLIDAYS_SHEET):
        day, _ = parse_date(row[0])
        kind = clean_text(row[1])
        if day is None or kind not in ("放假", "上班"):
            raise ConfigError(
                f"'{row[0]}' / '{row[1]}' is not a date with 放假 or 上班",
                file=path,
                sheet=HOLIDAYS_SHEET,
                cell=f"A{number}",
                hint="type the date as 2027-10-01 and the type as 放假 (day off) or 上班 (make-up workday)",
            )
        holidays[day] = (kind == "上班", clean_text(row[2]) if len(row) > 2 else "")

    rules = Rules(
        path,
        parameters,
        cadences,
        enabled,
        severity,
        required,
        allowed,
        aliases,
        abcd_points,
        abcd_cutoffs,
        risks,
        capacity,
        holidays,
        roles,
        role_capacity,
    )
    for key, value in parameters.items():
        if not isinstance(value, (int, float)) and key.split(".")[0] in ("sales", "share"):
            raise ConfigError(
                f"'{value}' is not a number",
                file=path,
                sheet=PARAMETERS_SHEET,
                cell=parameter_cells[key],
                hint="type a number",
            )
    for lower, upper in (("sales.major_min", "sales.key_min"), ("share.key_min", "share.strategic_min")):
        if lower in parameters and upper in parameters and rules.parameter(lower) >= rules.parameter(upper):
            raise ConfigError(
                f"thresholds out of order: {lower} {rules.parameter(lower):g} is not below "
                f"{upper} {rules.parameter(upper):g}",
                file=path,
                sheet=PARAMETERS_SHEET,
                cell=parameter_cells[lower],
                hint="the lower class needs the lower threshold",
            )
    return rules


def _percent_aware(value: Any, unit: str) -> float | str:
    """A number as a manager typed it: '3000' typed as text is 3000; in a % row, 5% typed with
    Excel's percent format arrives as 0.05 and means 5 (thresholds in % are never below 1 %)."""
    if not isinstance(value, (int, float)):
        text = clean_text(value).rstrip("%").strip()
        try:
            return float(text) if text else ""
        except ValueError:
            return clean_text(value)
    if unit == "%" and 0 < value < 1:
        return float(value) * 100
    return float(value)


def _number(value: Any, path: Path, sheet: str, cell: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"'{value}' is not a number", file=path, sheet=sheet, cell=cell, hint="type a number"
        ) from None

"""``crm survey …``: the Typer sub-app, one thin command per step over the library functions."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from ..console import JsonOpt, LangOpt, OutOpt, TodayOpt, _print_json, _progress, _settings, _today, out_console
from ..i18n import label

survey_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="满意度调查 · Satisfaction surveys as Excel forms: create, send, remind, collect, results.",
)

WorkspaceOpt = typer.Option(None, "--workspace", "-w", help="Workspace folder (holds crm.toml).")
CampaignOpt = typer.Option(None, "--campaign", "-c", help="The campaign (default: the latest one created).")
DryRunOpt = typer.Option(
    False,
    "--dry-run",
    help="Build every e-mail but send nothing and record nothing: write a preview workbook "
    "(out/邮件预览_….xlsx, mail_preview_… with --lang en: recipients, subject, attachment, what would happen).",
)


def _fmt(value: float | None, kind: str, lang: str) -> str:
    if value is None:
        return label("report.no_data", lang)
    return f"{value:.1%}" if kind == "rate" else f"{value:+.1f}" if kind == "nps" else f"{value:.2f}"


@survey_app.command("create")
def create_command(
    ledger: Path | None = typer.Argument(None, help="The ledger. Default: the workspace's main ledger."),
    campaign: str = typer.Option(..., "--campaign", "-c", help="Name of the campaign, e.g. 2026Q4."),
    group: Path | None = typer.Option(None, "--group", help="A folder of subsidiary ledgers: forms for all of them."),
    workspace: Path | None = WorkspaceOpt,
    out: Path | None = OutOpt,
    lang: str | None = LangOpt,
    today: str | None = TodayOpt,
    password: str | None = typer.Option(None, "--password", help="Password of a protected ledger."),
    as_json: bool = JsonOpt,
) -> None:
    """One form per active customer: the questions of the rules workbook's 问卷 sheet, the
    customer's name filled in, answer cells only editable, signed for this workspace."""
    from .campaigns import create_campaign

    settings = _settings(workspace, lang=lang)
    with _progress("Writing survey forms…", as_json):
        result = create_campaign(
            ledger, settings, campaign=campaign, today=_today(today), group=group, out_dir=out, password=password
        )
    if as_json:
        _print_json(result.as_json())
        return
    text = label(
        "survey.cli_create",
        settings.lang,
        campaign=result.campaign,
        created=len(result.created),
        existing=result.existing,
        skipped=len(result.skipped),
        folder=result.folder,
    )
    out_console.print(text)
    for note in result.notes:
        out_console.print(f"- {note}")


@survey_app.command("collect")
def collect_command(
    folder: Path = typer.Argument(..., help="The folder where the returned forms were saved."),
    campaign: str | None = typer.Option(None, "--campaign", "-c", help="Only this campaign's forms."),
    imap: bool = typer.Option(
        False, "--imap", help="First fetch the forms attached to unread mail of the [survey.imap] mailbox into FOLDER."
    ),
    workspace: Path | None = WorkspaceOpt,
    out: Path | None = OutOpt,
    lang: str | None = LangOpt,
    today: str | None = TodayOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Read the returned forms in FOLDER: match and verify each, keep the answers; report
    refused files, missing and out-of-range answers and second returns. Files already collected
    are not counted again."""
    from .collect import collect, shown_value
    from .imap import fetch_returns

    settings = _settings(workspace, lang=lang)
    fetched = None
    if imap:
        with _progress("Fetching returned forms from the mailbox…", as_json):
            fetched = fetch_returns(settings, folder)
    with _progress(f"Collecting {folder}…", as_json):
        result = collect(folder, settings, today=_today(today), campaign=campaign, out_dir=out)
    if as_json:
        _print_json({**result.as_json(), **({"imap": fetched.as_json()} if fetched else {})})
        return
    lang_ = settings.lang
    if fetched is not None:
        out_console.print(label("survey.cli_fetched", lang_, messages=fetched.messages, files=len(fetched.saved)))
    out_console.print(
        label(
            "survey.cli_collect",
            lang_,
            received=len(result.received),
            accepted=len(result.accepted),
            rejected=len(result.rejected),
            duplicates=len(result.duplicates),
            already=len(result.already_collected),
        )
    )
    for rejected in result.rejected:
        item = rejected.as_json(lang_)
        out_console.print(f"[red]{escape(item['file'])}[/]: {escape(item['message'])}", markup=True)
    for d in result.duplicates:
        out_console.print(f"- {label('survey.cli_duplicate', lang_, **d)}")
    if result.ignored:
        files = ("、" if lang_ == "zh" else ", ").join(result.ignored[:3]) + ("…" if len(result.ignored) > 3 else "")
        out_console.print(label("survey.cli_ignored", lang_, count=len(result.ignored), files=files))
    for p in result.problems:
        problem = label(f"survey.problem.{p['problem']}", lang_) + (
            f" ({shown_value(p['value'])})" if p["value"] is not None else ""
        )
        text = label(
            "survey.cli_problem", lang_, file=p["file"], customer=p["customer"], question=p["text"], problem=problem
        )
        out_console.print(f"[yellow]-[/] {escape(text)}", markup=True)


@survey_app.command("results")
def results_command(
    campaign: str | None = CampaignOpt,
    workspace: Path | None = WorkspaceOpt,
    out: Path | None = OutOpt,
    lang: str | None = LangOpt,
    today: str | None = TodayOpt,
    password: str | None = typer.Option(
        None,
        "--password",
        help="The ledger's password, when the campaign was made from a protected ledger (or set CRM_LEDGER_PASSWORD).",
    ),
    no_encrypt: bool = typer.Option(
        False, "--no-encrypt", help="Write the results of a protected ledger's campaign unprotected."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """The results workbook: response rate, CSAT per question, NPS, by class, owner, industry and
    subsidiary with charts, the low scores as a follow-up list per owner."""
    from .results import survey_results

    settings = _settings(workspace, lang=lang)
    result = survey_results(
        settings,
        today=_today(today),
        campaign=campaign,
        out_dir=out,
        password=password,
        no_encrypt=no_encrypt,
    )
    if as_json:
        _print_json(result.as_json())
        return
    lang_, total = settings.lang, result.total
    out_console.print(
        label(
            "survey.cli_results",
            lang_,
            campaign=result.campaign.name,
            issued=total.issued,
            returned=total.returned,
            rate=_fmt(total.rate, "rate", lang_),
            mean=_fmt(total.mean, "score", lang_),
            csat=_fmt(total.csat, "rate", lang_),
            nps=_fmt(total.nps, "nps", lang_),
            low=len(result.low),
        )
    )
    for path in result.outputs:
        out_console.print(f"{label('cli.written', lang_)} {str(path)}")


def _print_mail(result, lang: str) -> None:
    delivery = result.delivery
    text = label(
        "survey.cli_dry_run" if delivery.dry_run else "survey.cli_send",
        lang,
        campaign=result.campaign,
        messages=delivery.messages,
        sent=delivery.sent,
        would=sum(1 for _, status, _ in delivery.statuses if status == "send"),
        already=delivery.already_sent,
        failed=len(delivery.failed),
        skipped=len(result.skipped),
    )
    out_console.print(text)
    for failed in delivery.failed:
        out_console.print(f"[red]{escape(failed['recipient'])}[/]: {escape(failed['error'])}", markup=True)
    by_reason: dict[str, list[str]] = {}
    for skipped in result.skipped:  # one line a reason, not a line a customer (200 have no e-mail)
        by_reason.setdefault(skipped["reason"], []).append(skipped["customer"])
    separator = "、" if lang == "zh" else ", "
    for reason, customers in by_reason.items():
        names = separator.join(customers[:3]) + (label("survey.cli_skipped_more", lang) if len(customers) > 3 else "")
        out_console.print(label("survey.cli_skipped", lang, count=len(customers), reason=reason, names=names))
    for path in delivery.outputs:
        out_console.print(f"{label('cli.written', lang)} {str(path)}")


@survey_app.command("send")
def send_command(
    campaign: str | None = CampaignOpt,
    workspace: Path | None = WorkspaceOpt,
    out: Path | None = OutOpt,
    lang: str | None = LangOpt,
    today: str | None = TodayOpt,
    dry_run: bool = DryRunOpt,
    as_json: bool = JsonOpt,
) -> None:
    """E-mail each form to its customer's contact (the owner in copy), exactly once: through the
    workspace's mail backend (outbox folder or SMTP); --dry-run only previews."""
    from .mailing import send_forms

    settings = _settings(workspace, lang=lang)
    with _progress("Sending survey forms…", as_json):
        result = send_forms(settings, today=_today(today), campaign=campaign, dry_run=dry_run, out_dir=out)
    if as_json:
        _print_json(result.as_json())
        return
    _print_mail(result, settings.lang)


@survey_app.command("remind")
def remind_command(
    campaign: str | None = CampaignOpt,
    workspace: Path | None = WorkspaceOpt,
    out: Path | None = OutOpt,
    lang: str | None = LangOpt,
    today: str | None = TodayOpt,
    dry_run: bool = DryRunOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Remind the customers who have not answered N days after the form or the last reminder
    (参数 survey.remind_after_days), at most survey.max_reminders times each."""
    from .mailing import remind_forms

    settings = _settings(workspace, lang=lang)
    with _progress("Sending reminders…", as_json):
        result = remind_forms(settings, today=_today(today), campaign=campaign, dry_run=dry_run, out_dir=out)
    if as_json:
        _print_json(result.as_json())
        return
    _print_mail(result, settings.lang)

"""`samen partners import FILE [--dry-run]` and `samen partners list`, for the people who install Samen.

Heavy imports (database, models) happen inside the commands, so `samen --help` stays quick.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli_style import SamenTyper

partners_cli = SamenTyper(
    help="Partners and their members: import them from a file, list them.", no_args_is_help=True
)


@partners_cli.command("import")
def import_command(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="The partners file (YAML); see deploy/partners.example.yaml."),
    ],
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check the file and show what would change, without changing it."),
    ] = False,
    purpose: Annotated[
        str | None,
        typer.Option("--purpose", help="Why, for the audit log (default: the file's name)."),
    ] = None,
) -> None:
    """Create or update partners and members from FILE. Running it twice changes nothing the second time."""
    from sqlmodel import Session

    from bot.audit import MAX_PURPOSE
    from bot.authz import cli_actor
    from bot.config import load
    from bot.db import make_engine, upgrade
    from bot.partners.importer import ImportFailed, gap_warnings, import_partners

    if purpose is not None and not 0 < len(purpose.strip()) <= MAX_PURPOSE:
        typer.echo(f"samen: --purpose must say why, in 1 to {MAX_PURPOSE} characters", err=True)
        raise typer.Exit(2)
    try:
        source = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"samen: cannot read {file}: {exc}", err=True)
        raise typer.Exit(2) from None
    settings = load()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    session = Session(engine, expire_on_commit=False)
    try:
        report = import_partners(
            session,
            actor=cli_actor(),
            source=source,
            purpose=purpose or f"partners import from {file.name}",
            chat=settings.chat,
        )
    except ImportFailed as failed:
        session.rollback()
        typer.echo(f"{file}: {len(failed.problems)} problem(s); nothing was changed:", err=True)
        for problem in failed.problems:
            typer.echo(f"  {problem.in_file(file.name)}", err=True)
        raise typer.Exit(1) from None
    except BaseException:
        session.rollback()
        raise
    else:
        if dry_run:
            session.rollback()
        else:
            session.commit()
    finally:
        session.close()
        engine.dispose()
    for change in report.changes:
        typer.echo(f"would have {change}" if dry_run else change)
    if not report.changes:
        typer.echo(
            f"{report.partners} partner(s), {report.members} member(s): "
            f"everything is already as in {file.name}"
        )
    elif dry_run:
        typer.echo(f"dry run: {len(report.changes)} change(s) found, nothing was changed")
    else:
        typer.echo(f"{len(report.changes)} change(s) made")
    # After the summary, on stderr: a partner that will miss alerts' details or escalation is news.
    for line in gap_warnings(report.gaps, settings.samen_language):
        typer.echo(line, err=True)


@partners_cli.command("list")
def list_command() -> None:
    """Show every partner with its capacity, lead, duty contacts, alert channel and members."""
    from bot.config import load
    from bot.db import make_engine, session_scope, upgrade
    from bot.partners.service import overview

    settings = load()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        partners = overview(session)
        if not partners:
            typer.echo("no partners yet: add them with `samen partners import FILE.yaml`")
        for entry in partners:
            partner = entry.partner
            lead = partner.lead.user_id if partner.lead else "-"
            duty = ", ".join(c.user_id for c in entry.duty_contacts) or "-"
            typer.echo(
                f"{partner.name} ({partner.type.value}): capacity {partner.capacity}, lead {lead}, "
                f"duty contacts {duty}, alert channel {partner.alert_channel_id or '-'}"
            )
            for member in entry.members:
                name = f" {member.display_name}" if member.display_name else ""
                typer.echo(f"  {member.team_id}/{member.user_id}{name}: {member.role.value}")
    engine.dispose()

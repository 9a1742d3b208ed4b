"""`samen export --from --to [--format csv|xlsx|md] [--as U…] [--out PATH]`: the steering group's report.

The Dutch option names of before (`--van --tot --formaat --uit --als --taal --doel`) still work, unlisted
(bot/cli_style.py).

Heavy imports happen inside the command, so `samen --help` stays quick.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer


def export_command(
    van: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day (YYYY-MM-DD).")],
    tot: Annotated[
        datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, included (YYYY-MM-DD).")
    ],
    formaat: Annotated[
        str, typer.Option("--format", metavar="csv|xlsx|md", help="csv (a folder of files), xlsx or md.")
    ] = "md",
    uit: Annotated[
        Path | None, typer.Option("--out", help="Where to write it (md without --out: to standard output).")
    ] = None,
    als: Annotated[
        str | None,
        typer.Option(
            "--as",
            metavar="USER",
            help="Export as this member (Slack user id U…): only what their partner may see; coordinators "
            "and admins only. Without it: the partnership's view, as in the weekly digest.",
        ),
    ] = None,
    taal: Annotated[
        str | None, typer.Option("--language", metavar="nl|en", help="nl or en (default: SAMEN_LANGUAGE).")
    ] = None,
    doel: Annotated[str | None, typer.Option("--purpose", help="Why, for the audit log.")] = None,
) -> None:
    """The digest's figures and the lists behind them over a period, for the steering group; audited."""
    from bot.authz import NotAllowed, cli_actor
    from bot.config import load
    from bot.db import make_engine, session_scope
    from bot.digest import export
    from bot.digest.timing import PeriodError, dates_period
    from bot.i18n import t
    from bot.partners.service import find_member_by_user

    formaat = "md" if formaat == "markdown" else formaat  # as `samen access --format` accepts it
    if formaat not in export.FORMATS:
        typer.echo(f"samen export: --format must be one of {', '.join(export.FORMATS)}", err=True)
        raise typer.Exit(2)
    settings = load()
    language = taal or settings.samen_language
    if language not in ("nl", "en"):
        typer.echo("samen export: --language must be nl or en", err=True)
        raise typer.Exit(2)
    try:
        period = dates_period(van.date(), tot.date(), settings.timezone)
    except PeriodError as problem:
        typer.echo(f"samen export: {t(language, problem.message, **problem.values)}", err=True)
        raise typer.Exit(2) from None
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            actor = cli_actor() if als is None else find_member_by_user(session, user_id=als)
            if actor is None:
                typer.echo(f"samen export: {als} is not a member of the partnership", err=True)
                raise typer.Exit(2)
            try:
                report = export.build(
                    session,
                    actor=actor,
                    period=period,
                    language=language,
                    export_format=formaat,
                    purpose=doel or export.DEFAULT_PURPOSE,
                )
            except NotAllowed as refused:
                typer.echo(f"samen export: {t(language, refused.message)}", err=True)
                raise typer.Exit(1) from None
            written = export.write(report, formaat, uit)
    finally:
        engine.dispose()
    if isinstance(written, str):
        typer.echo(written, nl=False)
    else:
        for path in written:
            typer.echo(str(path))

"""`samen outbox status` and `samen outbox retry ID`."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli_style import SamenTyper

outbox_cli = SamenTyper(help="The outbox: what is waiting to be sent, and what failed.", no_args_is_help=True)


@outbox_cli.command("status")
def status() -> None:
    """Backlog, the oldest due message, and failures by reason."""
    from bot.config import load
    from bot.db import make_engine, session_scope
    from bot.outbox.status import report

    settings = load()
    with session_scope(make_engine(settings.database_url)) as session:
        current = report(session)
    typer.echo(f"pending: {current.pending} (due now: {current.due})")
    age = current.oldest_due_age_seconds
    if age is None or current.oldest_due is None:
        typer.echo("oldest due: -")
    else:
        typer.echo(f"oldest due: {age:.0f} s ago ({current.oldest_due:%Y-%m-%d %H:%M:%S} UTC)")
    typer.echo(f"sent: {current.sent}")
    if current.failed_by_reason:
        typer.echo("failed, by reason:")
        for reason, count in sorted(current.failed_by_reason.items(), key=lambda item: -item[1]):
            typer.echo(f"  {count:6d}  {reason}")
        typer.echo("failed, by way:")
        for method, count in sorted(current.failed_by_method.items(), key=lambda item: -item[1]):
            typer.echo(f"  {count:6d}  {method}")
    else:
        typer.echo("failed: 0")


@outbox_cli.command("retry")
def retry_message(
    message_id: Annotated[int, typer.Argument(metavar="ID", help="The id of a failed outbox message.")],
) -> None:
    """Queue a failed message again once its cause is fixed."""
    from bot.config import load
    from bot.db import make_engine, session_scope
    from bot.outbox.status import NotRetryable, retry

    settings = load()
    try:
        with session_scope(make_engine(settings.database_url)) as session:
            row = retry(session, message_id)
            typer.echo(f"message {row.id} to {row.lane} is queued again")
    except NotRetryable as exc:
        typer.echo(f"samen: {exc}", err=True)
        raise typer.Exit(1) from None

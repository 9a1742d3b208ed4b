"""`samen retention`, `samen access` (alias `inzage`) and `samen forget` (alias `vergeet`): privacy on
the server.

Heavy imports happen inside the commands, so `samen --help` stays quick. Each command acts as the
command line's system actor (`samen:cli:<account>`) and is audited.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

PurposeOption = Annotated[
    str,
    typer.Option(
        "--purpose",
        metavar="TEXT",
        help="Why: the request's reference or the privacy officer's decision, for the audit log.",
    ),
]

CodeArgument = Annotated[str, typer.Argument(metavar="CODE", help="The subject's code, e.g. S-2026-0042.")]
# One word for one idea across commands: `md`, as `samen export --format md`; `markdown` still works.
ACCESS_FORMATS = {"json": "json", "md": "markdown", "markdown": "markdown"}


def _purpose(purpose: str) -> str:
    from bot import audit

    purpose = " ".join(purpose.split())
    if not purpose or len(purpose) > audit.MAX_PURPOSE - 80:
        typer.echo(f"samen: --purpose must say why, in 1 to {audit.MAX_PURPOSE - 80} characters", err=True)
        raise typer.Exit(2)
    return purpose


def retention_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what would be deleted or anonymised; change nothing.")
    ] = False,
) -> None:
    """Delete or anonymise what has been kept long enough (SAMEN_RETENTION); also done every night."""
    from bot.authz import cli_actor
    from bot.clock import utcnow
    from bot.config import load
    from bot.crypto import keyring
    from bot.db import make_engine, session_scope
    from bot.privacy import retention

    settings = load()
    keyring.configure(settings.samen_encryption_key)
    periods = settings.samen_retention
    now = utcnow()
    zone = settings.timezone
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine, read_only=dry_run) as session:
            if dry_run:
                plan = retention.plan(session, periods=periods, now=now)
                applied = None
            else:
                applied = retention.apply(session, periods=periods, now=now, actor=cli_actor())
                plan = applied.plan
    finally:
        engine.dispose()
    typer.echo(
        "retention periods: " + ", ".join(f"{kind.value} {days} days" for kind, days in periods.items())
    )
    verb = "would go" if dry_run else "went"
    if not plan.due and not plan.messages:
        typer.echo("nothing " + ("to delete or anonymise" if dry_run else "was due"))
    for item in plan.due:
        since = item.since.astimezone(zone).date().isoformat()
        typer.echo(f"  {item.kind.value:15} {item.object_type} {item.object_id}: {item.what} (since {since})")
    if plan.messages:
        typer.echo(f"  {'berichten':15} {plan.messages} copies of sent messages lose their text")
    for item, why in plan.kept:
        typer.echo(f"  kept: {item.object_type} {item.object_id}, expired but needed by {why}")
    if applied is not None:
        typer.echo(f"{len(applied.erased)} objects {verb}, {applied.messages} message copies purged; audited")
    else:
        typer.echo(
            f"{len(plan.due)} objects {verb}; run without --dry-run to do it (it also runs every night)"
        )


def access_command(
    code: CodeArgument,
    purpose: PurposeOption = "",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file instead of the screen.")
    ] = None,
    output_format: Annotated[
        str,
        typer.Option("--format", metavar="json|md", help="json (complete, for systems) or md (for people)."),
    ] = "json",
) -> None:
    """Everything about a subject, for an access request (AVG art. 15); audited. Alias: inzage."""
    from bot.authz import cli_actor
    from bot.config import load
    from bot.crypto import keyring
    from bot.db import make_engine, session_scope
    from bot.privacy import access

    if output_format not in ACCESS_FORMATS:
        typer.echo("samen: --format must be json or md", err=True)
        raise typer.Exit(2)
    output_format = ACCESS_FORMATS[output_format]
    why = _purpose(purpose)
    settings = load()
    keyring.configure(settings.samen_encryption_key)
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            found = access.report(session, actor=cli_actor(), code=code, purpose=why)
    except access.AccessRequestError as problem:
        typer.echo(f"samen: {problem}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    text = (
        json.dumps(found, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
        if output_format == "json"
        else access.to_markdown(found)
    )
    if out is None:
        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8")
    out.chmod(0o600)  # restricted data: readable by whoever made it only
    typer.echo(
        f"{found['subject']['code']}: {len(found['signals'])} signals, {len(found['cases'])} cases, "
        f"{len(found['audit_log'])} audit entries written to {out}"
    )


def forget_command(
    code: CodeArgument,
    purpose: PurposeOption = "",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would be erased.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a subject where the law allows (AVG art. 17); audited. Alias: vergeet.

    Never while an open case needs it; the command says why it refuses."""
    from bot.authz import cli_actor
    from bot.config import load
    from bot.crypto import keyring
    from bot.db import make_engine, session_scope
    from bot.privacy import access

    why = _purpose(purpose) if not dry_run else (purpose or "dry run")
    settings = load()
    keyring.configure(settings.samen_encryption_key)
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine, read_only=True) as session:
            plan = access.plan_erasure(session, code=code)
        _show_plan(plan)
        if not plan.allowed:
            typer.echo(f"samen: {plan.code} cannot be erased now:", err=True)
            for reason in plan.blocked:
                typer.echo(f"  - {reason}", err=True)
            raise typer.Exit(1)
        if dry_run:
            return
        if not yes and not typer.confirm(f"Erase {plan.code} for good?", default=False):
            typer.echo("nothing was erased")
            raise typer.Exit(1)
        with session_scope(engine) as session:
            done = access.forget(session, actor=cli_actor(), code=code, purpose=why)
    except access.AccessRequestError as problem:
        typer.echo(f"samen: {problem}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    for item in done.erased:
        typer.echo(f"  {item.object_type} {item.object_id}: {item.how}")
    typer.echo(f"{done.code} erased; {len(done.erased)} audit entries written")


def _show_plan(plan: object) -> None:
    from bot.privacy.access import ErasurePlan

    assert isinstance(plan, ErasurePlan)
    typer.echo(f"{plan.code}:")
    typer.echo("  the subject and its identity: deleted")
    for label, numbers in (
        ("signals about it alone: deleted", plan.signals_deleted),
        ("signals also about others: the link and their details removed", plan.signals_unlinked),
        ("closed cases about it alone: anonymised", plan.cases_anonymised),
        ("closed cases with other subjects: the link removed", plan.cases_unlinked),
    ):
        if numbers:
            typer.echo(f"  {label}: " + ", ".join(str(n) for n in numbers))

"""`samen audit verify` and `samen audit export`: check the audit log's chain, hand a stretch to an auditor.

Heavy imports happen inside the commands, so `samen --help` stays quick.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_style import SamenTyper

audit_cli = SamenTyper(
    help="The audit log: verify its chain, export a date range as CSV.", no_args_is_help=True
)

DATE_FORMATS = ["%Y-%m-%d"]


@audit_cli.command("verify")
def verify_command() -> None:
    """Check every entry against its hash and its predecessor. Exit 0 when intact, 1 at the first break.

    A long log shows its progress on stderr (every 10,000 entries), after a first line saying how long
    it should take.
    """
    from bot.audit import count_entries, verify
    from bot.config import load
    from bot.db import make_engine, session_scope

    settings = load()
    engine = make_engine(settings.database_url)
    try:
        # Read-only: verifying takes no write lock, so Samen keeps working (and auditing) meanwhile.
        with session_scope(engine, read_only=True) as session:
            result = verify(session, progress=_progress_reporter(count_entries(session)))
    finally:
        engine.dispose()
    if not result.ok:
        typer.echo(f"audit log BROKEN at entry {result.seq} ({result.problem}): {result.reason}", err=True)
        typer.echo(f"{result.entries - 1} entries before it are intact", err=True)
        raise typer.Exit(1)
    if result.head_seq is None:
        typer.echo("audit log intact: no entries yet")
        return
    # Note the head elsewhere now and then: a log cut short at its end still forms a valid chain.
    typer.echo(f"audit log intact: {result.entries} entries; head {result.head_seq} {result.head_hash}")


def _progress_reporter(total: int) -> Callable[[int], None] | None:
    """Say on stderr what a long check will cost, then how far it is; nothing for a short log."""
    import time

    from bot.audit import MICROSECONDS_PER_ENTRY, PROGRESS_EVERY

    if total < PROGRESS_EVERY:
        return None
    expected = total * MICROSECONDS_PER_ENTRY / 1e6
    typer.echo(
        f"checking {total:,} entries: ≈ {MICROSECONDS_PER_ENTRY} µs per entry, ≈ {expected:.0f} s",
        err=True,
    )
    started = time.monotonic()

    def report(checked: int) -> None:
        elapsed = time.monotonic() - started
        left = elapsed / checked * max(0, total - checked)
        share = min(100, round(100 * checked / total))
        typer.echo(f"  {checked:,} of {total:,} ({share} %), {elapsed:.1f} s, ≈ {left:.1f} s to go", err=True)

    return report


@audit_cli.command("export")
def export_command(
    van: Annotated[datetime, typer.Option("--from", formats=DATE_FORMATS, help="First day (YYYY-MM-DD).")],
    tot: Annotated[
        datetime, typer.Option("--to", formats=DATE_FORMATS, help="Last day, included (YYYY-MM-DD).")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file instead of the screen.")
    ] = None,
    purpose: Annotated[
        str, typer.Option("--purpose", help="Why the log is exported, for the audit log itself.")
    ] = "audit log export",
) -> None:
    """Write the entries of a date range (days in the partnership's time zone) as CSV, hashes included."""
    import io
    import sys
    from datetime import UTC, timedelta

    from bot import audit
    from bot.authz import cli_actor
    from bot.config import load
    from bot.db import make_engine, session_scope

    if tot < van:
        typer.echo("samen: --to must not be before --from", err=True)
        raise typer.Exit(2)
    if not purpose.strip() or len(purpose) > audit.MAX_PURPOSE:
        typer.echo(f"samen: --purpose must say why, in 1 to {audit.MAX_PURPOSE} characters", err=True)
        raise typer.Exit(2)
    settings = load()
    zone = settings.timezone

    def utc(day: datetime) -> datetime:
        # Midnight in the partnership's zone: an auditor asking for "1 March" means the local day.
        return day.replace(tzinfo=zone).astimezone(UTC)

    start, end = utc(van), utc(tot + timedelta(days=1))
    buffer = io.StringIO()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            count = audit.export_csv(session, start, end, buffer)
            # Reading the log is itself logged: who took which stretch, and why.
            audit.record(
                session,
                actor=cli_actor(),
                action="audit.exported",
                object_type="audit_log",
                object_id=f"{van.date().isoformat()}..{tot.date().isoformat()}",
                purpose=purpose,
                details={"from": van.date().isoformat(), "to": tot.date().isoformat(), "entries": count},
            )
    finally:
        engine.dispose()
    if out is None:
        sys.stdout.write(buffer.getvalue())
    else:
        out.write_text(buffer.getvalue(), encoding="utf-8", newline="")
        typer.echo(f"{count} entries written to {out}")

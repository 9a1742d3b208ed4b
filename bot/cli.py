"""The `samen` command line: serve, worker, run, db upgrade, demo."""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
from typing import Annotated, Any, NoReturn

import typer

from bot import __version__
from bot.audit_cli import audit_cli
from bot.cli_style import SamenGroup, SamenTyper
from bot.config import Settings, load
from bot.digest.cli import export_command
from bot.memory import keep_releasing
from bot.outbox.cli import outbox_cli
from bot.partners.cli import partners_cli
from bot.privacy.cli import access_command, forget_command, retention_command


class _Commands(SamenGroup):
    # `samen --help` in the order people need them: run Samen, set it up, report, then privacy requests.
    order = (
        "serve",
        "worker",
        "run",
        "demo",
        "db",
        "partners",
        "outbox",
        "export",
        "audit",
        "keys",
        "retention",
        "access",
        "forget",
    )


cli = SamenTyper(
    cls=_Commands,
    name="samen",
    help="Samen: partners together against ondermijning, in Slack or on Matrix.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_cli = SamenTyper(help="The database: migrations.", no_args_is_help=True)
keys_cli = SamenTyper(help="Encryption keys for restricted data at rest.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(partners_cli, name="partners")
cli.add_typer(audit_cli, name="audit")
cli.add_typer(outbox_cli, name="outbox")
cli.command("export")(export_command)
# Privacy (bot/privacy/): retention, and access and erasure requests about a subject. The Dutch names
# of before stay, unlisted: privacy officers and operators' scripts type them.
cli.command("retention")(retention_command)
cli.command("access")(access_command)
cli.command("forget")(forget_command)
cli.alias("inzage", access_command)
cli.alias("vergeet", forget_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"samen {__version__}")
        raise typer.Exit()


@cli.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    from bot.config import forget_empty_settings
    from bot.logs import configure

    # `SLACK_CLIENT_ID=` in an env file means unset, also to the libraries that read it themselves.
    forget_empty_settings()
    configure()  # JSON lines on stderr; secrets are added once the settings are read


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (also done on every start)."""
    from bot.db import upgrade

    settings = load()
    upgrade(settings.database_url)
    typer.echo("database is up to date")


@keys_cli.command("generate")
def keys_generate() -> None:
    """Print a new encryption key for SAMEN_ENCRYPTION_KEY (store it as a secret, and back it up)."""
    from bot.crypto import generate_key

    typer.echo(generate_key())


@keys_cli.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every sealed value with the first key of SAMEN_ENCRYPTION_KEY (docs/operations.md)."""
    from bot import audit
    from bot.authz import cli_actor
    from bot.keyrotation import rotate_all
    from bot.runtime import Services

    settings = load()
    services = Services.build(settings)
    rotated = rotate_all(services.engine)
    total = sum(r.values for r in rotated)
    with services.session() as session:
        audit.record(
            session,
            actor=cli_actor(),
            action="rotate_encryption_key",
            object_type="database",
            object_id="sealed values",
            purpose="rotation of SAMEN_ENCRYPTION_KEY",
            details={"values": total},
        )
    for r in rotated:
        typer.echo(f"{r.table}.{r.column}: {r.values}")
    typer.echo(f"{total} values sealed with the first key; the other keys may now be removed.")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(metavar="ADDRESS", help="Address to listen on.")] = "0.0.0.0",  # noqa: S104
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3000,
    workers: Annotated[int, typer.Option(help="gunicorn worker processes.")] = 2,
    threads: Annotated[int, typer.Option(help="Threads per worker process.")] = 8,
) -> None:
    """HTTP mode: Slack's requests at POST /slack/events, health at GET /healthz (not on Matrix)."""
    settings = load()
    if settings.matrix:
        # Matrix sends nothing to Samen: Samen syncs with the homeserver, which `samen run` does.
        typer.echo("samen: serve is for Slack's HTTP mode; with SAMEN_CHAT=matrix use `samen run`", err=True)
        raise typer.Exit(2)
    # Before anything creates prometheus_client's metrics: gunicorn's workers must share a directory
    # so that /metrics, answered by any one of them, sums them all.
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="samen-metrics-")
    from bot.server import serve_http

    refused = start(settings)
    # A refused token: still served, so that /livez answers and /readyz says why it is not ready.
    serve_http(
        settings,
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        with_worker=False,
        slack_refused=refused,
    )


MetricsPort = Annotated[
    int,
    typer.Option(
        envvar="SAMEN_METRICS_PORT",
        help="Serve /metrics, /livez, /healthz and /readyz on this port (0: off), for Prometheus and "
        "Kubernetes probes.",
    ),
]
MetricsHost = Annotated[str, typer.Option(metavar="ADDRESS", help="Address for --metrics-port.")]


@cli.command()
def worker(
    metrics_port: MetricsPort = 0,
    metrics_host: MetricsHost = "0.0.0.0",  # noqa: S104
) -> None:
    """The scheduler and outbox dispatcher; run as many as you like against PostgreSQL."""
    from bot.runtime import Services
    from bot.worker import Worker

    settings = load()
    refused = start(settings)
    services = Services.build(settings, slack_refused=refused)
    if metrics_port:
        from bot.probes import serve_operations

        serve_operations(services, host=metrics_host, port=metrics_port)
    if refused:
        # Nothing could be sent: the messages wait in the outbox until the token is fixed and Samen restarted.
        _wait_for_a_stop_signal()
        return
    keep_releasing()  # freed memory back to the system, arenas limited before the threads (bot/memory.py)
    close: Any = None
    if settings.matrix:
        from bot.matrix.chat import MatrixChat

        chat = MatrixChat.for_services(services)
        # Connected here, before the dispatcher's threads send at once: started lazily by two of them
        # together, the connection's loop could wait on itself (as `samen run` does, serve_matrix).
        chat.connection.start()
        close = chat.connection.close
        running = Worker(services, chat)
    else:
        from bot.slack.chat import SlackChat

        running = Worker(services, SlackChat.for_services(services))
    _stop_on_signals(running.stop)
    running.start()
    running.wait()
    if close is not None:
        close()  # the homeserver's session closed, not left to the garbage collector's error lines


@cli.command()
def run(
    host: Annotated[
        str, typer.Option(metavar="ADDRESS", help="Address to listen on in HTTP mode.")
    ] = "0.0.0.0",  # noqa: S104
    port: Annotated[int, typer.Option(help="Port to listen on in HTTP mode.")] = 3000,
    metrics_port: MetricsPort = 0,
    metrics_host: MetricsHost = "0.0.0.0",  # noqa: S104
) -> None:
    """Everything in one process: on Matrix its sync; on Slack Socket Mode when SLACK_APP_TOKEN is set,
    else HTTP."""
    settings = load()
    refused = start(settings)
    if (settings.socket_mode or settings.matrix) and refused:
        from bot.probes import serve_operations
        from bot.runtime import Services

        # Neither connected nor sending: only the probes, whose /readyz says why.
        if metrics_port:
            serve_operations(
                Services.build(settings, slack_refused=refused), host=metrics_host, port=metrics_port
            )
        _wait_for_a_stop_signal()
    elif settings.matrix:
        from bot.matrix.front import serve_matrix
        from bot.worker import Worker
        from commands import register_all

        keep_releasing()
        # Like Socket Mode: no HTTP port of its own, --metrics-port gives probes and Prometheus one.
        serve_matrix(
            settings,
            features=register_all,
            worker=Worker,
            metrics=(metrics_host, metrics_port) if metrics_port else None,
        )
    elif settings.socket_mode:
        from bot.slack.socketmode import serve_socket_mode
        from bot.startup import StartupFailed
        from bot.worker import Worker
        from commands import register_all

        keep_releasing()
        try:
            # No HTTP port of its own in Socket Mode: --metrics-port gives probes and Prometheus one.
            serve_socket_mode(
                settings,
                features=register_all,
                worker=Worker,
                metrics=(metrics_host, metrics_port) if metrics_port else None,
            )
        except StartupFailed as failed:
            _give_up(failed)
    else:
        from bot.server import serve_http

        serve_http(
            settings,
            host=host,
            port=port,
            workers=1,
            threads=8,
            with_worker=not refused,
            slack_refused=refused,
        )


@cli.command()
def demo(
    language: Annotated[str, typer.Option(metavar="nl|en", help="nl or en.")] = "nl",
) -> None:
    """Play a short scripted conversation against a built-in Slack double: no Slack account needed."""
    from bot.demo import play

    if language not in ("nl", "en"):
        typer.echo("samen: --language must be nl or en", err=True)
        raise typer.Exit(2)
    play(language=language, out=sys.stdout)


def start(settings: Settings) -> str | None:
    """Before serving: wait for the database, migrate it, ask Slack about the bot token, or the Matrix
    homeserver about the access token (bot/startup.py). Returns the refusal of the token, or None. The
    database or the chat away past SAMEN_STARTUP_TIMEOUT: one line and exit 1 (SIGTERM meanwhile: exit 0,
    nothing was started)."""
    from bot.db import migrate_in_child
    from bot.startup import Deadline, StartupFailed, check_matrix, check_slack, wait_for_database

    def stop_while_starting(_signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, stop_while_starting)
    deadline = Deadline(settings.startup_timeout)
    try:
        wait_for_database(settings.database_url, deadline)
        migrate_in_child(settings.database_url)
        if settings.matrix:
            return check_matrix(settings, deadline)
        from bot.slack.chat import startup_chat

        return check_slack(settings, deadline, startup_chat(settings))
    except StartupFailed as failed:
        _give_up(failed)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _give_up(failed: Exception) -> NoReturn:
    print(f"samen: {failed}", file=sys.stderr)
    raise SystemExit(1) from None


def _wait_for_a_stop_signal() -> None:
    stopped = threading.Event()
    _stop_on_signals(stopped.set)
    stopped.wait()


def _stop_on_signals(stop: Any) -> None:
    def handler(_signum: int, _frame: Any) -> None:
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def main() -> None:
    cli()

"""Structured JSON logs (structlog), with a request id per Slack request and per job, and nothing secret.

Every log line — ours, Bolt's, the Slack SDK's, gunicorn's, Alembic's, an uncaught exception's, a
warning's — goes through one handler on the root logger: one filter that redacts, one formatter that
renders JSON. The filter removes Slack tokens by their shape, the configured secrets by their value, the
payloads that the Slack libraries quote in their messages (request and response bodies: what people
typed), and the text of exceptions (it quotes SQL parameters and input). `configure` is called by every
process (`samen …`, the migration child); gunicorn's workers inherit it through the fork, and gunicorn's
own logger is told to add nothing of its own (bot/server.py).
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from types import TracebackType
from typing import Any
from urllib.parse import unquote

# What structlog imports at import time for integrations Samen never uses, when they are installed.
_STRUCTLOG_EXTRAS = (
    # rich (and rich.pretty) for pretty tracebacks — installed for typer's help screens. Samen's
    # tracebacks are redacted and written as JSON (`_exception_text`). About 4 MB in every process.
    "rich",
    # Twisted (structlog.twisted), with zope.interface, constantly and incremental — installed beside
    # Synapse, the Matrix homeserver the suite runs (the test extra). About 1.8 MB in every process.
    "twisted",
)


def _import_structlog_alone() -> Any:
    """Import structlog with its optional integrations hidden (`_STRUCTLOG_EXTRAS`), so no long-running
    process pays for them (bench/memory.py). Only this one import is affected: typer still finds rich
    later for the CLI's help, and the suite's Synapse runs in a process of its own."""
    hidden = [name for name in _STRUCTLOG_EXTRAS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # `import rich` → ImportError
    try:
        import structlog as imported
    finally:
        for name in hidden:
            del sys.modules[name]
    return imported


structlog = _import_structlog_alone()

_TOKEN = re.compile(r"\b(xox[abposer]|xapp|xoxe\.xox[bp])-[A-Za-z0-9-]{4,}")
REDACTED = "[redacted]"

# The Slack libraries put payloads into their messages — Bolt's "Invalid request signature detected
# (…, body: payload=…)", "Failed to run listener function (error: …)", the SDK's DEBUG lines with every
# Web API call's body_params and answer, Socket Mode's "on_message invoked: (message: {…})", Bolt's
# "Responding with status: 200 body: …" (under the app's logger, samen.bolt). Their messages are kept up
# to where a payload starts: a field named like one, or the first brace or bracket. Slack's Python
# libraries (Bolt, the SDK, Socket Mode) all log under names that begin `slack_`; a second chat
# platform's library joins this list.
_CHAT_LIBRARIES = ("slack_", "samen.bolt")
_PAYLOAD_START = re.compile(
    r"[\w-]*(?:body|payload|params|message|headers|error|response|submission|value)\w*\s*[:=]|[{\[]",
    re.IGNORECASE,
)
# gunicorn quotes a malformed request line or header ("Invalid request from ip=…: Invalid HTTP Header:
# '…'"), and the query string of a URI it could not serve (an OAuth redirect carries a code in it).
_GUNICORN_QUOTE = re.compile(r"(Invalid request from ip=\S+: ).*", re.DOTALL)
_QUERY = re.compile(r"\?\S*")
# Loggers that would log rows and statements (SQLAlchemy) or every connection (urllib3) at DEBUG.
_QUIET = {"sqlalchemy": logging.WARNING, "urllib3": logging.INFO, "alembic": logging.WARNING}
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class Redactor(logging.Filter):
    """Removes secrets and people's text from every record before any handler formats it."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self.secrets = [s for s in (secrets or []) if s and len(s) >= 6]

    def redact(self, text: str) -> str:
        text = _TOKEN.sub(REDACTED, text)
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        message = _without_exception_texts(_message(record), error)
        if record.name.startswith(_CHAT_LIBRARIES):
            message = _up_to_payload(message)
        elif record.name.startswith("gunicorn"):
            message = _QUERY.sub("?" + REDACTED, _GUNICORN_QUOTE.sub(r"\1" + REDACTED, message))
        record.msg = self.redact(message)
        record.args = None
        if error is not None:
            record.samen_exception = self.redact(_traceback_without_messages(error))
        record.exc_info = None
        record.exc_text = None
        return True


def _message(record: logging.LogRecord) -> str:
    """The record's message, with any exception passed as an argument reduced to its type."""
    args = record.args
    if isinstance(args, tuple):
        record.args = tuple(_type_of(a) if isinstance(a, BaseException) else a for a in args)
    elif isinstance(args, Mapping):
        record.args = {k: _type_of(v) if isinstance(v, BaseException) else v for k, v in args.items()}
    try:
        return record.getMessage()
    except (TypeError, ValueError):  # a library's bad format string: the bare template is safe to keep
        return str(record.msg)


def _type_of(error: BaseException) -> str:
    return type(error).__module__ + "." + type(error).__qualname__


def _chain(error: BaseException | None) -> list[BaseException]:
    chain: list[BaseException] = []
    while error is not None and len(chain) < 5:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


def _without_exception_texts(message: str, error: BaseException | None) -> str:
    """Libraries write an exception's text into their own message ("Failed to run a message listener:
    {e}"): take it out again, whole or line by line."""
    for cause in _chain(error):
        text = str(cause)
        for piece in [text, *text.splitlines()]:
            if len(piece.strip()) >= 3:
                message = message.replace(piece, f"<{type(cause).__name__}>")
    return message


def _up_to_payload(message: str) -> str:
    first_line = message.split("\n", 1)[0]
    found = _PAYLOAD_START.search(first_line)
    return first_line if found is None else first_line[: found.end()] + " " + REDACTED


def _traceback_without_messages(error: BaseException) -> str:
    """Where it failed and with what type, not the message: exception messages quote input (SQL
    parameters, validation errors), and input may be restricted."""
    lines = ["Traceback (most recent call last):"]
    lines += [
        f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}'
        for frame in traceback.extract_tb(error.__traceback__)
    ]
    lines.append(" <- ".join(_type_of(cause) for cause in _chain(error)))
    return "\n".join(lines)


# Read from the environment as well as from the settings: a process logs before its settings are read
# (the CLI, a start-up failure), and the migration child gets its database URL through the environment.
_SECRET_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_SECRET",
    "SAMEN_ENCRYPTION_KEY",
    "MATRIX_ACCESS_TOKEN",
)
_URL_VARIABLES = ("DATABASE_URL", "SAMEN_MIGRATE_URL")


def secrets_in_environment() -> list[str]:
    """The secrets this process was given, and the passwords in its database URLs."""
    found = [os.environ.get(name, "") for name in _SECRET_VARIABLES]
    found += [key.strip() for key in os.environ.get("SAMEN_ENCRYPTION_KEY", "").split(",")]
    for name in _URL_VARIABLES:
        password = _password(os.environ.get(name, ""))
        if password:
            found += [password, unquote(password)]
    return [value for value in found if value]


def _password(url: str) -> str | None:
    found = re.match(r"[\w+.-]+://[^/:@]*:([^/@]+)@", url)
    return found.group(1) if found else None


def level_from_environment() -> int:
    """SAMEN_LOG_LEVEL (DEBUG, INFO, WARNING, ERROR; default INFO), read before the settings are: the
    first lines of a process are logged before its settings exist."""
    name = os.environ.get("SAMEN_LOG_LEVEL", "").strip().upper()
    return logging.getLevelName(name) if name in LEVELS else logging.INFO


def configure(*, secrets: list[str] | None = None, level: int | None = None, json: bool = True) -> Redactor:
    """Route all logging through structlog's JSON renderer, with the redactor in front."""
    level = level_from_environment() if level is None else level
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[_exception_text, structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    redactor = Redactor([*secrets_in_environment(), *(secrets or [])])
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_samen", False):
            root.removeHandler(old)
    handler._samen = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    for name, floor in _QUIET.items():
        logging.getLogger(name).setLevel(max(floor, level))
    logging.getLogger("alembic.runtime.migration").setLevel(max(logging.INFO, level))
    # Python's own plain-text paths to stderr: warnings, and exceptions nobody caught.
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    return redactor


def _log_uncaught(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, trace)
        return
    logging.getLogger("samen").critical("uncaught %s", kind.__name__, exc_info=(kind, error, trace))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    thread = args.thread.name if args.thread is not None else "?"
    logging.getLogger("samen").critical(
        "uncaught %s in thread %s",
        args.exc_type.__name__,
        thread,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def _exception_text(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    record = event.get("_record")
    if record is not None and getattr(record, "samen_exception", None):
        event["exception"] = record.samen_exception
    return event


@contextmanager
def bound(**values: Any) -> Iterator[str]:
    """Bind a fresh request or job id (and other values) to every log line inside the block."""
    request_id = values.pop("request_id", None) or uuid.uuid4().hex[:12]
    tokens = structlog.contextvars.bind_contextvars(request_id=request_id, **values)
    try:
        yield request_id
    finally:
        structlog.contextvars.reset_contextvars(**tokens)


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks keep the submitter's context (the request id) in their log lines."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        context = contextvars.copy_context()
        return super().submit(context.run, fn, *args, **kwargs)

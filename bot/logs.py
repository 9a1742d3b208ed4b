"""Structured JSON logs (structlog), with a request id per Slack request and per job, and nothing secret.

Every log line — ours, Bolt's, gunicorn's, Alembic's — goes through one formatter that renders JSON and
one filter that redacts: Slack tokens by their shape, the configured secrets by their value, and the
request bodies that Bolt puts in some of its messages (they hold what people typed).
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import structlog

_TOKEN = re.compile(r"\b(xox[abposer]|xapp|xoxe\.xox[bp])-[A-Za-z0-9-]{4,}")
_BOLT_BODY = re.compile(r"body: .*?(?=\)?$)", re.DOTALL)
REDACTED = "[redacted]"


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
        message = record.getMessage()
        if record.name.startswith(("slack_bolt", "slack_sdk", "samen.bolt")):
            # Bolt logs request bodies (on a bad signature, an unhandled request, …) and, at DEBUG, every
            # answer's body (under the app's logger, samen.bolt: an ack can hold a signal's details), and
            # the SDK logs every Web API call's body at DEBUG (a "Details" window holds restricted text):
            # keep the first line, drop the body.
            message = _BOLT_BODY.sub("body: " + REDACTED, message.split("\n", 1)[0])
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.samen_exception = self.redact(_traceback_without_messages(record.exc_info[1]))
            record.exc_info = None
            record.exc_text = None
        return True


def _traceback_without_messages(error: BaseException) -> str:
    """Where it failed and with what type, not the message: exception messages quote input (SQL
    parameters, validation errors), and input may be restricted."""
    lines = ["Traceback (most recent call last):"]
    lines += [
        f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}'
        for frame in traceback.extract_tb(error.__traceback__)
    ]
    chain: list[str] = []
    cause: BaseException | None = error
    while cause is not None and len(chain) < 5:
        chain.append(type(cause).__module__ + "." + type(cause).__qualname__)
        cause = cause.__cause__ or cause.__context__
    lines.append(" <- ".join(chain))
    return "\n".join(lines)


def configure(*, secrets: list[str] | None = None, level: int = logging.INFO, json: bool = True) -> Redactor:
    """Route all logging through structlog's JSON renderer, with the redactor in front."""
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
    redactor = Redactor(secrets)
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
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)
    return redactor


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

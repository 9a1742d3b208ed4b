"""Operators see how Samen does — metrics, readiness, JSON logs with request ids — and never a secret."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import urllib.request

import pytest
from conftest import BOT_TOKEN, ENCRYPTION_KEY, SIGNING_SECRET, BotUnderTest

from bot.logs import REDACTED, Redactor, bound
from bot.outbox import post_message


def get(bot: BotUnderTest, path: str) -> tuple[int, str]:
    url = bot.url.replace("/slack/events", path)
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_metrics_show_request_latency_by_kind_and_the_outbox_backlog(bot: BotUnderTest) -> None:
    bot.driver.command("/samen", "help")
    with bot.services.session() as session:
        post_message(session, key="m1", channel="C0WAIT", message={"text": "wacht"})
    status, text = get(bot, "/metrics")
    assert status == 200
    assert 'samen_slack_request_seconds_count{kind="command"}' in text
    assert "samen_outbox_backlog 1.0" in text
    assert "samen_outbox_oldest_due_age_seconds" in text


def test_liveness_and_readiness(bot: BotUnderTest) -> None:
    assert get(bot, "/livez")[0] == 200
    status, body = get(bot, "/readyz")
    assert status == 200
    assert json.loads(body)["database"]["current"] is True


def test_readiness_fails_while_migrations_are_behind(bot: BotUnderTest) -> None:
    from bot.db import downgrade

    downgrade(bot.services.settings.database_url, "0001")
    status, body = get(bot, "/readyz")
    assert status == 503
    assert json.loads(body)["status"] == "not ready"
    assert get(bot, "/livez")[0] == 200


def test_log_lines_are_json_with_a_request_id(caplog: pytest.LogCaptureFixture, _log_lines: object) -> None:
    logger = logging.getLogger("samen.test")
    logger.setLevel(logging.INFO)  # whatever an in-process demo did to the root logger's level
    with bound(kind="command") as request_id:
        logger.info("een regel")
    # Other threads (an earlier test's listeners) may log in between: find this test's line.
    mine = [json.loads(raw) for raw in _log_lines.lines if '"een regel"' in raw]  # type: ignore[attr-defined]
    line = mine[-1]
    assert line["event"] == "een regel"
    assert line["request_id"] == request_id
    assert line["level"] == "info"


def test_secrets_and_request_bodies_are_redacted() -> None:
    redactor = Redactor([SIGNING_SECRET, ENCRYPTION_KEY])
    record = logging.LogRecord(
        "slack_bolt.RequestVerification",
        logging.INFO,
        __file__,
        1,
        "Invalid request signature detected (signature: v0=x, timestamp: 1, body: text=VERTR geheim)",
        None,
        None,
    )
    redactor.filter(record)
    assert "geheim" not in record.getMessage()
    record = logging.LogRecord(
        "samen",
        logging.INFO,
        __file__,
        1,
        "token %s secret %s key %s",
        (BOT_TOKEN, SIGNING_SECRET, ENCRYPTION_KEY),
        None,
    )
    redactor.filter(record)
    assert record.getMessage() == f"token {REDACTED} secret {REDACTED} key {REDACTED}"


def test_exception_messages_are_not_logged(_log_lines: object) -> None:
    try:
        raise ValueError("GEHEIM adres Kerkstraat 1")
    except ValueError:
        logging.getLogger("samen.test").exception("mislukt")
    line = json.loads(_log_lines.lines[-1])  # type: ignore[attr-defined]
    assert "builtins.ValueError" in line["exception"]
    assert "Kerkstraat" not in line["exception"]


def _lines_after(log: object, start: int) -> list[dict[str, object]]:
    return [json.loads(raw) for raw in log.lines[start:]]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("logger", "message"),
    [
        # Socket Mode at DEBUG: every envelope, with the form in it.
        (
            "slack_sdk.socket_mode.builtin.client",
            "on_message invoked: (message: {'payload': 'VERTROUWELIJK'})",
        ),
        (
            "slack_sdk.socket_mode.builtin.connection",
            "Sending a text data frame (session id: s1, payload: VERTROUWELIJK)",
        ),
        # The Web API client at DEBUG: every call's arguments and answer.
        (
            "slack_sdk.web.base_client",
            "Sending a request - url: https://slack.com/api/chat.postMessage, query_params: {}, "
            "body_params: {'text': 'VERTROUWELIJK'}, files: {}, json_body: None",
        ),
        (
            "slack_sdk.web.base_client",
            "Received the following response - status: 200, headers: {}, body: VERTROUWELIJK",
        ),
        # Bolt: an answer's body, a global middleware's view of the request, a listener's error.
        ("samen.bolt", 'Responding with status: 200 body: "VERTROUWELIJK" (3 millis)'),
        (
            "slack_bolt.App",
            "A global middleware (m) skipped calling next() for the request ({'x': 'VERTROUWELIJK'})",
        ),
        ("slack_bolt.App", "Failed to run listener function (error: VERTROUWELIJK)"),
    ],
)
def test_the_slack_libraries_lines_stop_where_a_payload_starts(
    _log_lines: object, logger: str, message: str
) -> None:
    start = len(_log_lines.lines)  # type: ignore[attr-defined]
    library = logging.getLogger(logger)
    library.setLevel(logging.DEBUG)
    try:
        library.debug(message)
    finally:
        library.setLevel(logging.NOTSET)
    (line,) = _lines_after(_log_lines, start)
    assert "VERTROUWELIJK" not in str(line["event"])
    assert str(line["event"]).endswith(REDACTED)
    assert str(line["event"]).split(" ")[0] == message.split(" ")[0]  # what happened is still there


def test_an_exception_written_into_a_message_is_taken_out_again(_log_lines: object) -> None:
    start = len(_log_lines.lines)  # type: ignore[attr-defined]
    try:
        raise ValueError("Kerkstraat 1 VERTROUWELIJK\nFailing row contains (VERTROUWELIJK)")
    except ValueError as error:
        # slack_sdk's Socket Mode client does this: the exception's text in its own message.
        logging.getLogger("slack_sdk.socket_mode.client").exception(
            f"Failed to run a message listener: {error}"
        )
        logging.getLogger("samen.test").warning("could not do it: %s", error)
    first, second = _lines_after(_log_lines, start)
    assert first["event"] == "Failed to run a message listener: <ValueError>"
    assert "builtins.ValueError" in str(first["exception"])
    assert second["event"] == "could not do it: builtins.ValueError"


def test_gunicorn_quotes_neither_a_bad_request_nor_a_query_string(_log_lines: object) -> None:
    start = len(_log_lines.lines)  # type: ignore[attr-defined]
    gunicorn = logging.getLogger("gunicorn.error")
    gunicorn.warning("Invalid request from ip=10.0.0.9: Invalid HTTP Header: 'VERTROUWELIJK'")
    gunicorn.error("Error handling request /slack/oauth_redirect?code=VERTROUWELIJK&state=x")
    first, second = _lines_after(_log_lines, start)
    assert first["event"] == f"Invalid request from ip=10.0.0.9: {REDACTED}"
    assert second["event"] == f"Error handling request /slack/oauth_redirect?{REDACTED}"


def test_a_failed_statement_does_not_quote_its_parameters(database_url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from bot.db import make_engine

    engine = make_engine(database_url)
    with pytest.raises(DBAPIError) as failed, engine.connect() as connection:
        connection.execute(text("INSERT INTO no_such_table (what) VALUES (:what)"), {"what": "VERTROUWELIJK"})
    engine.dispose()
    assert "VERTROUWELIJK" not in str(failed.value)
    assert "parameters hidden" in str(failed.value)


def test_secrets_in_the_environment_are_redacted_before_the_settings_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.logs import secrets_in_environment

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://samen:pa%40ss-w0rd@db:5432/samen")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-not-shaped-like-a-token-but-secret")
    redactor = Redactor(secrets_in_environment())
    assert redactor.redact("pa@ss-w0rd pa%40ss-w0rd xapp-not-shaped") == f"{REDACTED} {REDACTED} {REDACTED}"
    assert "xapp-not-shaped-like-a-token-but-secret" not in redactor.redact(
        "token xapp-not-shaped-like-a-token-but-secret"
    )


def test_the_log_level_is_taken_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.logs import level_from_environment

    monkeypatch.setenv("SAMEN_LOG_LEVEL", "debug")
    assert level_from_environment() == logging.DEBUG
    monkeypatch.setenv("SAMEN_LOG_LEVEL", "chatty")
    assert level_from_environment() == logging.INFO
    monkeypatch.delenv("SAMEN_LOG_LEVEL")
    assert level_from_environment() == logging.INFO


def test_uncaught_exceptions_and_warnings_are_json_lines_too() -> None:
    """A process that dies of an exception, in a thread or in its main line, writes JSON to stderr."""
    program = (
        "import threading, warnings\n"
        "from bot.logs import configure\n"
        "configure()\n"
        "warnings.warn('let op')\n"
        "def fail(): raise KeyError('VERTROUWELIJK in a thread')\n"
        "thread = threading.Thread(target=fail); thread.start(); thread.join()\n"
        "raise ValueError('VERTROUWELIJK at the top')\n"
    )
    finished = subprocess.run([sys.executable, "-c", program], capture_output=True, check=False, timeout=60)
    assert finished.returncode == 1
    assert finished.stdout == b""
    lines = [json.loads(line) for line in finished.stderr.decode().splitlines()]
    assert [line["level"] for line in lines] == ["warning", "critical", "critical"]
    assert lines[0]["logger"] == "py.warnings"
    assert "builtins.KeyError" in str(lines[1]["exception"])
    assert "builtins.ValueError" in str(lines[2]["exception"])
    assert b"VERTROUWELIJK" not in finished.stderr

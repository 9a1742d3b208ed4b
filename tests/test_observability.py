"""Operators see how Samen does — metrics, readiness, JSON logs with request ids — and never a secret."""

from __future__ import annotations

import json
import logging
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

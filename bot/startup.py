"""Start-up checks: before a process serves, PostgreSQL and Slack are reachable and Slack takes the token.

An operator reads these lines at night, in `docker logs` or `kubectl logs`; each says in one line what is
wrong, where, and what to do — never a traceback:

- PostgreSQL or Slack unreachable: one warning naming it and its host:port (never a password), then
  attempts again with exponential backoff until `SAMEN_STARTUP_TIMEOUT` has passed, then `StartupFailed`
  (the CLI prints its one line and exits 1). A container that starts before its database is normal.
- PostgreSQL answers but refuses Samen (no such database, user or password): nothing to wait for,
  `StartupFailed` at once.
- Slack refuses the bot token (`invalid_auth`, `token_revoked`, …): one error line naming
  SLACK_BOT_TOKEN and what to do; the process goes on serving its probes with /readyz "not ready",
  so that the operator sees why instead of a restart loop (`check_slack` returns the refusal).
- On Matrix (SAMEN_CHAT=matrix) the homeserver is asked whose the access token is
  (`GET /_matrix/client/v3/account/whoami`, `check_matrix`): unreachable, busy or rate limited as Slack;
  the token refused (`M_UNKNOWN_TOKEN`, …) as Slack's refusal, naming MATRIX_ACCESS_TOKEN; the token of
  another account than MATRIX_USER_ID, or an address that is no Matrix homeserver: `StartupFailed`.
"""

from __future__ import annotations

import json
import logging
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from bot.chat import NETWORK_ERRORS, RETRY_AFTER, Chat, ChatFailure
from bot.config import HOW_TO_OBTAIN, Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Slack's answers that mean: this token will never work; waiting does not help.
REFUSED_TOKEN: Final = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "not_allowed_token_type",
    }
)
# PostgreSQL answered, but is not taking connections yet (or no more): worth waiting for.
_PG_BUSY: Final = ("starting up", "shutting down", "in recovery", "too many", "remaining connection slots")
FIRST_DELAY: Final = 0.5
LONGEST_DELAY: Final = 15.0


class StartupFailed(Exception):
    """The process cannot start; the message is the one line to show the operator."""


class Unreachable(Exception):
    """One attempt could not reach a service; `kind` says how (no message: it may quote input)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass
class Deadline:
    """The time a starting process gives PostgreSQL and Slack, from `SAMEN_STARTUP_TIMEOUT`."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        return self.seconds - (time.monotonic() - self.started)


def retry_until(
    deadline: Deadline,
    what: str,
    where: str,
    attempt: Callable[[], T],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`attempt()` until it does not raise `Unreachable`, waiting longer each time (with jitter, so that
    replicas started together do not knock in step), until the deadline."""
    delay = FIRST_DELAY
    failures = 0
    while True:
        try:
            result = attempt()
        except Unreachable as unreachable:
            failures += 1
            if failures == 1:
                logger.warning(
                    "%s at %s is unreachable (%s); trying again for up to %g s (SAMEN_STARTUP_TIMEOUT)",
                    what,
                    where,
                    unreachable.kind,
                    deadline.seconds,
                )
            remaining = deadline.remaining()
            if remaining <= 0:
                raise StartupFailed(
                    f"{what} at {where} could not be reached in {deadline.seconds:g} s ({unreachable.kind}); "
                    f"check that it runs and that this machine may connect to it, or allow more time with "
                    f"SAMEN_STARTUP_TIMEOUT"
                ) from None
            sleep(min(delay * random.uniform(0.8, 1.2), remaining))  # noqa: S311  (jitter, not a secret)
            delay = min(delay * 2, LONGEST_DELAY)
            continue
        if failures:
            logger.info("%s at %s is reachable after %d attempts", what, where, failures + 1)
        return result


# -- PostgreSQL ---------------------------------------------------------------------------------------


def database_where(database_url: str) -> str:
    """host:port of a PostgreSQL URL, or the file of a SQLite one; never the password."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return f"{url.host or 'localhost'}:{url.port or 5432}"


def wait_for_database(database_url: str, deadline: Deadline) -> None:
    """Return once the database takes a connection; `StartupFailed` when it refuses or stays away."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    url = make_url(database_url)
    sqlite = url.get_backend_name() == "sqlite"
    where = database_where(database_url)
    if sqlite:
        from bot.db import make_engine

        engine = make_engine(database_url, poolclass=NullPool)  # creates its directory
    else:
        # A host that drops packets would otherwise hold each attempt for minutes.
        engine = create_engine(
            url, poolclass=NullPool, hide_parameters=True, connect_args={"connect_timeout": 5}
        )

    def attempt() -> None:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except DBAPIError as error:
            if sqlite:
                raise StartupFailed(
                    f"the SQLite database {where} cannot be opened ({type(error.orig).__name__}): check "
                    f"DATABASE_URL and that its directory exists and is writable"
                ) from None
            raise _postgres_problem(str(error.orig), where) from None

    try:
        retry_until(deadline, "PostgreSQL", where, attempt)
    finally:
        engine.dispose()


def _postgres_problem(message: str, where: str) -> Exception:
    """Unreachable (worth waiting for), or the server's own refusal (not): a libpq message has the
    server's answer after "FATAL:"; without one, no server answered."""
    _, fatal, answer = message.partition("FATAL:")
    answer = answer.strip().splitlines()[0] if answer.strip() else ""
    if not fatal or any(busy in answer for busy in _PG_BUSY):
        return Unreachable("no answer" if not fatal else "busy")
    return StartupFailed(
        f"PostgreSQL at {where} refused the connection ({answer}): check the user, password and database "
        f"name in DATABASE_URL"
    )


# -- Slack -------------------------------------------------------------------------------------------


def slack_where(api_url: str) -> str:
    parts = urlsplit(api_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def check_slack(settings: Settings, deadline: Deadline, chat: Chat) -> str | None:
    """Ask Slack who the bot token is (`Chat.whoami`: auth.test, through the entry point's
    `bot.slack.chat.startup_chat`); None when Slack takes it, else Slack's refusal (logged once, naming
    SLACK_BOT_TOKEN). Several workspaces (no token of our own): only whether Slack answers at all — its
    `not_authed` is the answer."""
    refusal = retry_until(deadline, "Slack", slack_where(settings.slack_api_url), lambda: _who_am_i(chat))
    if settings.oauth or refusal is None:
        return None
    if refusal not in REFUSED_TOKEN:
        # Not about the token (Slack's own trouble, an odd answer): the first message will tell more.
        logger.warning("Slack answered auth.test with %s; starting anyway", refusal)
        return None
    logger.error(
        "SLACK_BOT_TOKEN was refused by Slack (%s): set it to %s, then restart Samen; until then /readyz "
        "answers 503 and no message is sent",
        refusal,
        HOW_TO_OBTAIN["SLACK_BOT_TOKEN"],
    )
    return refusal


def _who_am_i(chat: Chat) -> str | None:
    """None when the platform takes Samen's credentials, else its reason; `Unreachable` when nobody
    answered, or the platform is in trouble or asks to wait (worth trying again)."""
    try:
        chat.whoami()
    except ChatFailure as failure:
        outcome = failure.outcome
        if outcome.kind == RETRY_AFTER or outcome.maybe_delivered:
            raise Unreachable(outcome.reason) from None
        return outcome.reason
    return None


# -- Matrix ------------------------------------------------------------------------------------------

WHOAMI: Final = "/_matrix/client/v3/account/whoami"
# Each attempt's own limit: a homeserver that takes the connection but never answers would otherwise
# hold the start for the whole SAMEN_STARTUP_TIMEOUT in one attempt.
_ATTEMPT_SECONDS: Final = 10.0


def check_matrix(settings: Settings, deadline: Deadline, *, timeout: float = _ATTEMPT_SECONDS) -> str | None:
    """Ask the homeserver whose MATRIX_ACCESS_TOKEN is; None when it is MATRIX_USER_ID's, else the
    homeserver's refusal (its errcode, logged once naming MATRIX_ACCESS_TOKEN), as `check_slack`.
    `StartupFailed` when the token is another account's, or the address answers as no homeserver does."""
    assert settings.matrix_homeserver_url and settings.matrix_access_token and settings.matrix_user_id
    url = settings.matrix_homeserver_url.rstrip("/") + WHOAMI
    where = slack_where(settings.matrix_homeserver_url)
    token = settings.matrix_access_token
    answer = retry_until(
        deadline, "The Matrix homeserver", where, lambda: _whoami(url, token, where, timeout)
    )
    if isinstance(answer, _Refused):
        logger.error(
            "MATRIX_ACCESS_TOKEN was refused by the homeserver (%s): set it to %s, then restart Samen; until "
            "then /readyz answers 503 and no message is sent",
            answer.errcode,
            HOW_TO_OBTAIN["MATRIX_ACCESS_TOKEN"],
        )
        return answer.errcode
    if answer != settings.matrix_user_id:
        raise StartupFailed(
            f"MATRIX_ACCESS_TOKEN belongs to {answer}, not to MATRIX_USER_ID ({settings.matrix_user_id}): "
            f"set MATRIX_USER_ID to the bot's account and MATRIX_ACCESS_TOKEN to a token of that account"
        )
    return None


@dataclass(frozen=True)
class _Refused:
    errcode: str


def _whoami(url: str, token: str, where: str, timeout: float) -> str | _Refused:
    """The user id the token belongs to, or the homeserver's refusal of it; `Unreachable` when nobody
    answered, or the homeserver is in trouble or asks to wait."""
    request = urllib.request.Request(  # noqa: S310  (an http(s) URL, checked by the settings)
        url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, body = response.status, response.read(65536)
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read(65536)
    except TimeoutError:
        raise Unreachable("no answer in time") from None
    except NETWORK_ERRORS as error:
        reason = getattr(error, "reason", error)
        raise Unreachable(
            type(reason).__name__ if isinstance(reason, BaseException) else "no answer"
        ) from None
    answer = _json(body)
    errcode = str(answer.get("errcode", "")) if isinstance(answer, dict) else ""
    if status == 429 or status >= 500:
        raise Unreachable(errcode or f"HTTP {status}")
    if status in (401, 403):
        return _Refused(errcode or f"HTTP {status}")
    user_id = answer.get("user_id") if isinstance(answer, dict) else None
    if status != 200 or not isinstance(user_id, str):
        raise StartupFailed(
            f"MATRIX_HOMESERVER_URL ({where}) answered HTTP {status} to the Matrix client API's whoami, "
            f"not as a homeserver does: set it to {HOW_TO_OBTAIN['MATRIX_HOMESERVER_URL']}"
        )
    return user_id


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None

"""Matrix ids fit wherever Samen keeps a chat id (migration 0017, issue 18).

A Matrix id may be 255 characters long (a person, a room, an event; a person's server is their team),
Slack's fit in 32. PostgreSQL refuses a longer value than a VARCHAR's length, SQLite does not: the ids are
imported, queued and read back on both, and the migration goes up, down and up again with rows in the
tables. Going down refuses while a longer id is stored rather than cut it short.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from conftest import make_settings
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError
from sqlmodel import SQLModel, select

import bot.models  # noqa: F401  (registers every table)
from bot.audit import AuditEntry, verify
from bot.authz import CLI_ACTOR
from bot.db import current_revision, downgrade, make_engine, upgrade
from bot.outbox import post_message, send_dm
from bot.outbox.models import OutboxLane, OutboxMessage, ProcessedEvent
from bot.partners.importer import import_partners
from bot.partners.models import DutyContact, Member, Partner
from bot.people import CHAT_ID_LENGTH, get_person, remember_profile
from bot.runtime import Services

BEFORE = "0016"  # the revision before the ids were widened
WIDENED = "0017"


def _server(length: int) -> str:
    """A server name of exactly `length` characters (up to 318), in labels of 63 as DNS allows."""
    name = ".".join(["gemeente" + "x" * 55] * 5)[: length - len(".nl")]
    assert not name.endswith(".")
    return name + ".nl"


def _pad(prefix: str, suffix: str, total: int = CHAT_ID_LENGTH) -> str:
    return prefix + "x" * (total - len(prefix) - len(suffix)) + suffix


HOME = "gemeente-breda.nl"
# A Matrix user id is at most 255 characters, its server included: the longest name on a short server,
# and the shortest name on the longest server (their team: 250 characters).
KARIN = _pad("@karin.de.vries.", f":{HOME}")
FAR_SERVER = _server(CHAT_ID_LENGTH - len("@jan:"))
JAN = f"@jan:{FAR_SERVER}"
ROOM = _pad("!aBcD", f":{HOME}")  # a room id before room version 12
ROOM_V12 = "!" + "R" * 43  # from room version 12 on: no server part
EVENT = "$" + "E" * 43  # an event id in room versions 4 and later
OLD_EVENT = _pad("$opaque", f":{HOME}")  # in room versions 1 and 2: `$opaque:server`, up to 255

PARTNERS = f"""\
partners:
  - name: Gemeente Breda
    type: gemeente
    alert_channel: "{ROOM}"
    lead: "{KARIN}"
    duty_contacts: ["{KARIN}", "{JAN}"]
    members:
      - {{user: "{KARIN}", role: coordinator, name: Karin}}
      - {{user: "{JAN}", name: Jan}}
"""


def test_the_ids_are_as_long_as_matrix_allows() -> None:
    assert len(KARIN) == len(JAN) == len(ROOM) == len(OLD_EVENT) == CHAT_ID_LENGTH == 255
    assert len(FAR_SERVER) == 250 and all(len(label) <= 63 for label in FAR_SERVER.split("."))
    assert re.fullmatch(r"[a-z0-9.]+", FAR_SERVER) and ".." not in FAR_SERVER


# The columns named as a chat id is named: a person's team and user, a channel, room or conversation, a
# message's ts, an event id, the outbox's lane (a channel or a person). Slack's own installation store
# (bot/slack/workspaces/tables.py) only ever holds Slack's ids.
_CHAT_ID_NAME = re.compile(r"(^|_)(team_id|user_id)$|channel|(^|_)ts$|^conversation_id$|^event_id$|^lane$")


def test_every_column_that_holds_a_chat_id_takes_a_matrix_id() -> None:
    narrow = [
        f"{table.name}.{column.name} ({length})"
        for table in SQLModel.metadata.sorted_tables
        if not table.name.startswith("slack_")
        for column in table.columns
        if _CHAT_ID_NAME.search(column.name)
        and (length := getattr(column.type, "length", None)) is not None
        and length < CHAT_ID_LENGTH
    ]
    assert narrow == [], f"give these max_length=CHAT_ID_LENGTH (bot/people.py) and a migration: {narrow}"


@pytest.fixture
def services_on(database_url: str) -> Iterator[Services]:
    upgrade(database_url)
    built = Services.build(make_settings(database_url), engine=make_engine(database_url))
    yield built
    built.engine.dispose()


def test_matrix_ids_are_imported_queued_and_read_back(services_on: Services) -> None:
    with services_on.session() as session:
        import_partners(session, actor=CLI_ACTOR, source=PARTNERS, purpose="test: Matrix ids", chat="matrix")
        remember_profile(session, team_id=FAR_SERVER, user_id=JAN, locale="nl", tz="Europe/Amsterdam")
        assert send_dm(
            session,
            key=f"test:dm:{FAR_SERVER}/{JAN}",
            user_id=JAN,
            team_id=FAR_SERVER,
            message={"text": "Hallo Jan"},
        )
        assert post_message(
            session, key=f"test:room:{ROOM}:{EVENT}", channel=ROOM, message={"text": "Bord"}, thread_ts=EVENT
        )
        assert post_message(session, key="test:room-v12", channel=ROOM_V12, message={"text": "Bord"})
        session.add(ProcessedEvent(event_id=OLD_EVENT))
    with services_on.engine.begin() as connection:
        # What the dispatcher keeps once Matrix has answered: the room and the event it became.
        connection.execute(
            text("UPDATE outbox SET result_channel = :room, result_ts = :event WHERE lane = :room"),
            {"room": ROOM, "event": OLD_EVENT},
        )

    with services_on.session(read_only=True) as session:
        partner = session.exec(select(Partner)).one()
        assert (partner.alert_channel_id, partner.lead_team_id, partner.lead_user_id) == (ROOM, HOME, KARIN)
        members = {m.user_id: m.team_id for m in session.exec(select(Member))}
        assert members == {KARIN: HOME, JAN: FAR_SERVER}
        duty = session.exec(select(DutyContact).order_by(DutyContact.position)).all()  # type: ignore[arg-type]
        assert [(d.team_id, d.user_id) for d in duty] == [(HOME, KARIN), (FAR_SERVER, JAN)]
        person = get_person(session, team_id=FAR_SERVER, user_id=JAN)
        assert person is not None and person.locale == "nl"

        # The audit log names a person as "team_id/user_id": two ids and the slash, 506 characters here.
        added = session.exec(select(AuditEntry).where(AuditEntry.action == "member.added")).all()
        assert f"{FAR_SERVER}/{JAN}" in {entry.object_id for entry in added}
        assert verify(session).ok

        rows = {row.lane: row for row in session.exec(select(OutboxMessage))}
        assert set(rows) == {JAN, ROOM, ROOM_V12}
        assert rows[JAN].team_id == FAR_SERVER and rows[JAN].key == f"test:dm:{FAR_SERVER}/{JAN}"
        assert (rows[ROOM].result_channel, rows[ROOM].result_ts) == (ROOM, OLD_EVENT)
        assert {lane.lane for lane in session.exec(select(OutboxLane))} == {JAN, ROOM, ROOM_V12}
        assert session.get(ProcessedEvent, OLD_EVENT) is not None


# --- the migration, with rows in the tables ---------------------------------------------------------------


def _lengths(engine: Engine, table: str) -> dict[str, int | None]:
    return {c["name"]: getattr(c["type"], "length", None) for c in inspect(engine).get_columns(table)}


def _members(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as connection:
        return [
            (row[0], row[1], row[2])
            for row in connection.execute(
                text(
                    "SELECT p.alert_channel_id, m.team_id, m.user_id FROM member m "
                    "JOIN partner p ON p.id = m.partner_id ORDER BY m.id"
                )
            )
        ]


def _insert_member(engine: Engine, *, partner: str, channel: str, team_id: str, user_id: str) -> None:
    """Plain SQL: at revision 0016 the models are ahead of the schema."""
    with engine.begin() as connection:
        partner_id = connection.execute(
            text(
                "INSERT INTO partner (name, type, alert_channel_id, capacity, created_at, updated_at) "
                "VALUES (:name, 'GEMEENTE', :channel, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
            ),
            {"name": partner, "channel": channel},
        ).scalar_one()
        connection.execute(
            text(
                "INSERT INTO member (team_id, user_id, partner_id, role, created_at) "
                "VALUES (:team, :user, :partner, 'member', CURRENT_TIMESTAMP)"
            ),
            {"team": team_id, "user": user_id, "partner": partner_id},
        )


SLACK_ROWS = [("C0BREDA01", "T0SAMEN", "U0BREDA001")]


def _slack_partnership(url: str) -> Engine:
    upgrade(url, BEFORE)
    engine = make_engine(url)
    _insert_member(
        engine, partner="Gemeente Breda", channel="C0BREDA01", team_id="T0SAMEN", user_id="U0BREDA001"
    )
    return engine


@pytest.mark.postgres
def test_on_postgresql_the_ids_widen_narrow_and_widen_again(pg_url: str) -> None:
    engine = _slack_partnership(pg_url)
    assert _lengths(engine, "member")["user_id"] == 32

    upgrade(pg_url, WIDENED)  # this migration's effect, not later ones'
    assert current_revision(engine) == WIDENED
    assert (
        _lengths(engine, "member")["user_id"] == 255 and _lengths(engine, "audit_entry")["object_id"] == 511
    )
    assert _members(engine) == SLACK_ROWS
    _insert_member(engine, partner="Politie", channel=ROOM, team_id=FAR_SERVER, user_id=JAN)

    # A longer id is stored: going down would cut it short, and naming someone else is worse than refusing.
    with pytest.raises(DataError, match="value too long"):
        downgrade(pg_url, BEFORE)
    assert current_revision(engine) == WIDENED and _members(engine) == [*SLACK_ROWS, (ROOM, FAR_SERVER, JAN)]

    with engine.begin() as connection:
        connection.execute(text("DELETE FROM member WHERE user_id = :user"), {"user": JAN})
        connection.execute(text("DELETE FROM partner WHERE name = 'Politie'"))
    downgrade(pg_url, BEFORE)
    assert current_revision(engine) == BEFORE
    assert _lengths(engine, "member")["user_id"] == 32 and _lengths(engine, "outbox")["key"] == 255
    assert _members(engine) == SLACK_ROWS

    upgrade(pg_url, WIDENED)  # this migration's effect, not later ones'
    assert current_revision(engine) == WIDENED and _lengths(engine, "member")["user_id"] == 255
    assert _members(engine) == SLACK_ROWS
    engine.dispose()


def test_on_sqlite_only_the_declared_types_change(sqlite_url: str) -> None:
    """No table is rebuilt: a referenced table's rows, its indexes and the search's triggers stay."""
    engine = _slack_partnership(sqlite_url)

    def schema() -> dict[str, list[str]]:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT type, name FROM sqlite_master WHERE type IN ('index', 'trigger')")
            )
            found: dict[str, list[str]] = {}
            for kind, name in rows:
                found.setdefault(kind, []).append(name)
            return {kind: sorted(names) for kind, names in found.items()}

    before = schema()
    assert any(name.startswith("signal_fts_") for name in before["trigger"])

    upgrade(sqlite_url, WIDENED)
    assert current_revision(engine) == WIDENED
    assert (
        _lengths(engine, "member")["user_id"] == 255 and _lengths(engine, "signal")["message_channel"] == 255
    )
    assert schema() == before
    assert _members(engine) == SLACK_ROWS
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
    _insert_member(engine, partner="Politie", channel=ROOM, team_id=FAR_SERVER, user_id=JAN)

    # SQLite keeps a longer value in a narrower column: going down loses nothing.
    downgrade(sqlite_url, BEFORE)
    assert _lengths(engine, "member")["user_id"] == 32 and schema() == before
    assert _members(engine) == [*SLACK_ROWS, (ROOM, FAR_SERVER, JAN)]
    upgrade(sqlite_url, WIDENED)
    assert _lengths(engine, "member")["user_id"] == 255
    engine.dispose()

"""What the backup-alert tests share: the partnership, the bot with a coordination channel, time passing.

The partnership (booklet scene: a wethouder intimidated at home after a closure):
- Gemeente Breda: the wethouder (reporter), Marleen (duty contact and lead), alert channel C0BREDAALRT.
- Politie: Hans (duty contact and lead), Ilse; alert channel C0POLALERT.
- RIEC: Fatima (coordinator, duty contact, lead); alert channel C0RIECALRT.
- OM: Omar, a member only: no alert channel, no duty contacts, no lead (a gap the coordinators hear of).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from conftest import BOT_TOKEN, SIGNING_SECRET, BotUnderTest, make_settings
from slack_sdk import WebClient
from sqlmodel import select

from bot.alerts.models import AlertPartner, BackupAlert
from bot.authz import CLI_ACTOR
from bot.db import make_engine, upgrade
from bot.outbox.dispatcher import Dispatcher, DispatcherConfig
from bot.outbox.models import OutboxMessage, OutboxStatus
from bot.partners.importer import import_partners
from bot.partners.models import PersonRef
from bot.runtime import Services
from bot.slack.app import create_app
from bot.slack.chat import SlackChat
from bot.slack.localserver import serve_in_thread
from commands import register_all
from slackdouble import SlackDouble, SlackDriver

TEAM = "T0SAMEN"
BOARD = "C0SAMEN"  # the partnership's coordination channel
WETHOUDER = PersonRef(TEAM, "U0BREDA001")
MARLEEN = PersonRef(TEAM, "U0BREDA002")
HANS = PersonRef(TEAM, "U0POL00001")
ILSE = PersonRef(TEAM, "U0POL00002")
FATIMA = PersonRef(TEAM, "U0RIEC0001")
OMAR = PersonRef(TEAM, "U0OM000001")
STRANGER = PersonRef(TEAM, "U0STRANGE1")
BREDA_CHANNEL, POLITIE_CHANNEL, RIEC_CHANNEL = "C0BREDAALRT", "C0POLALERT", "C0RIECALRT"

PARTNERSHIP = f"""\
team: {TEAM}
partners:
  - name: Gemeente Breda
    type: GEMEENTE
    alert_channel: {BREDA_CHANNEL}
    lead: U0BREDA002
    duty_contacts: [U0BREDA002]
    members:
      - {{user: U0BREDA001, name: Wethouder}}
      - {{user: U0BREDA002, name: Marleen}}
  - name: Politie Zeeland-West-Brabant
    type: POLITIE
    alert_channel: {POLITIE_CHANNEL}
    lead: U0POL00001
    duty_contacts: [U0POL00001]
    members:
      - {{user: U0POL00001, name: Hans}}
      - {{user: U0POL00002, name: Ilse}}
  - name: RIEC Zeeland-West-Brabant
    type: RIEC
    alert_channel: {RIEC_CHANNEL}
    lead: U0RIEC0001
    duty_contacts: [U0RIEC0001]
    members:
      - {{user: U0RIEC0001, role: coordinator, name: Fatima}}
  - name: Openbaar Ministerie
    type: OM
    members:
      - {{user: U0OM000001, name: Omar}}
"""

# Fast, for tests: no pause between two messages to one channel, short backoff.
FAST = DispatcherConfig(
    concurrency=8, lease_seconds=5, lane_interval=0.0, poll_seconds=0.05, backoff_base=0.05
)


def start_bot(database_url: str, double: SlackDouble, **settings: object) -> Iterator[BotUnderTest]:
    """The bot as conftest serves it, with the partnership's coordination channel set."""
    upgrade(database_url)
    for person in (WETHOUDER, MARLEEN, HANS, ILSE, FATIMA, OMAR, STRANGER):
        double.add_user(person.user_id, team_id=person.team_id, locale="nl-NL")
    values: dict[str, object] = {"SAMEN_PARTNERSHIP_CHANNEL": BOARD, **settings}
    configured = make_settings(database_url, api_url=double.base_url, **values)
    services = Services.build(configured, engine=make_engine(database_url))
    app = create_app(
        configured,
        features=register_all,
        client=WebClient(token=BOT_TOKEN, base_url=double.base_url),
        services=services,
    )
    server = serve_in_thread(app, services)
    driver = SlackDriver(server.events_url, SIGNING_SECRET, double=double, team_id=TEAM)
    try:
        yield BotUnderTest(app=app, services=services, double=double, driver=driver, url=server.events_url)
    finally:
        server.stop()
        services.engine.dispose()


def set_up_partnership(services: Services, source: str = PARTNERSHIP) -> None:
    with services.session() as session:
        import_partners(session, actor=CLI_ACTOR, source=source, purpose="test: the partnership")


def dispatcher(bot: BotUnderTest, config: DispatcherConfig = FAST, **kwargs: Any) -> Dispatcher:
    client = WebClient(token=BOT_TOKEN, base_url=bot.double.base_url, retry_handlers=[], timeout=5)
    return Dispatcher(bot.services, SlackChat(client), config=config, **kwargs)


def deliver(bot: BotUnderTest) -> int:
    """Run the outbox until nothing is due: what a worker would send now."""
    return dispatcher(bot).run_until_idle()


def minutes_pass(bot: BotUnderTest, minutes: float) -> None:
    """Time moves on: everything the database knows happened `minutes` earlier, so what was due later
    is due now (escalations, the safety check) — without waiting in the test."""
    shift = timedelta(minutes=minutes)
    with bot.services.session() as session:
        for row in session.exec(
            select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
        ).all():
            row.not_before -= shift
            session.add(row)
        for alert in session.exec(select(BackupAlert)).all():
            alert.raised_at -= shift
            alert.safety_check_at -= shift
            alert.safety_deadline_at -= shift
            session.add(alert)
        for partner in session.exec(select(AlertPartner)).all():
            if partner.acknowledged_at is not None:
                partner.acknowledged_at -= shift
                session.add(partner)


def dms_to(bot: BotUnderTest, person: PersonRef) -> list[dict[str, Any]]:
    return bot.double.messages_to(person.user_id)


def text_of(message: dict[str, Any]) -> str:
    from slackdouble import visible_text

    return visible_text(message.get("blocks") or []) or str(message.get("text") or "")


def all_texts(messages: list[dict[str, Any]]) -> str:
    return "\n---\n".join(text_of(m) for m in messages)


def raise_with_form(
    bot: BotUnderTest,
    who: PersonRef = WETHOUDER,
    *,
    text: str = "",
    incident: str = "INTIMIDATIE",
    level: str = "HOOG",
    safe: str | None = "yes",
    description: str | None = "Twee mannen stonden bij mijn huis na de sluiting van de woning.",
    place: str | None = "Thuis, Breda-Noord",
    show_name: bool = False,
    command: str = "/rugdekking",
) -> dict[str, Any]:
    """Open the form with /rugdekking and submit it; return the answer to the submission."""
    answer = bot.driver.command(command, text, user=who.user_id, team=who.team_id)
    assert answer.status == 200, answer.body
    bot.double.wait_for(
        "views.open", lambda c: c.ok and c.args["view"].get("callback_id") == "rugdekking_raise"
    )
    view = bot.double.last_view("rugdekking_raise")
    return submit_form(
        bot,
        view,
        who,
        incident=incident,
        level=level,
        safe=safe,
        description=description,
        place=place,
        show_name=show_name,
    )


def submit_form(
    bot: BotUnderTest,
    view: dict[str, Any],
    who: PersonRef = WETHOUDER,
    *,
    incident: str | None = "INTIMIDATIE",
    level: str = "HOOG",
    safe: str | None = "yes",
    description: str | None = None,
    place: str | None = None,
    show_name: bool = False,
) -> dict[str, Any]:
    values: dict[str, dict[str, Any]] = {
        "rd_type": {"type": incident},
        "rd_level": {"level": level},
        "rd_safe": {"safe": safe},
        "rd_description": {"description": description},
        "rd_place": {"place": place},
        "rd_name": {"name": ["show"] if show_name else []},
    }
    response = bot.driver.view_submission(
        "rugdekking_raise", values, user=who.user_id, view=view, team=who.team_id
    )
    assert response.status == 200, response.body
    return json.loads(response.body) if response.body else {}


def click(bot: BotUnderTest, action_id: str, who: PersonRef, *, channel: str | None = None) -> None:
    """Click a button the bot showed (the newest message with it, in `channel` if given)."""
    response = bot.driver.action(action_id, user=who.user_id, channel=channel, team=who.team_id)
    assert response.status == 200, response.body


def the_alert(bot: BotUnderTest) -> BackupAlert:
    with bot.services.session() as session:
        alerts = session.exec(select(BackupAlert)).all()
        assert len(alerts) == 1, f"expected one alert, found {len(alerts)}"
        return alerts[0]


def outbox_rows(bot: BotUnderTest) -> list[OutboxMessage]:
    with bot.services.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())  # type: ignore[arg-type]

"""What the backup-alert tests share: the partnership and the bot with a coordination channel.

The partnership (booklet scene: a wethouder intimidated at home after a closure):
- Gemeente Breda: the wethouder (reporter), Marleen (duty contact and lead), alert channel C0BREDAALRT.
- Politie: Hans (duty contact and lead), Ilse; alert channel C0POLALERT.
- RIEC: Fatima (coordinator, duty contact, lead); alert channel C0RIECALRT.
- OM: Omar, a member only: no alert channel, no duty contacts, no lead (a gap the coordinators hear of).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conftest import BotUnderTest
from harness import Partnership, Person, dispatcher, start
from sqlmodel import select

from bot.alerts.models import BackupAlert
from bot.authz import CLI_ACTOR
from bot.outbox.models import OutboxMessage
from bot.partners.importer import import_partners
from bot.partners.models import PersonRef
from bot.runtime import Services
from slackdouble import SlackDouble

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


# How the backup-alert tests start Samen: `@pytest.mark.partnership(**SETUP)` for the `partnership` fixture.
SETUP: dict[str, Any] = {
    "partners": PARTNERSHIP,
    "people": (WETHOUDER, MARLEEN, HANS, ILSE, FATIMA, OMAR, STRANGER),
    "team_id": TEAM,
    "SAMEN_PARTNERSHIP_CHANNEL": BOARD,
}


def start_bot(database_url: str, double: SlackDouble, **settings: object) -> Iterator[Partnership]:
    """The bot as the harness serves it, with the partnership's coordination channel set (not the
    partners: set_up_partnership)."""
    setup = {key: value for key, value in SETUP.items() if key != "partners"}
    yield from start(database_url, double, **{**setup, **settings})


def set_up_partnership(services: Services, source: str = PARTNERSHIP) -> None:
    with services.session() as session:
        import_partners(session, actor=CLI_ACTOR, source=source, purpose="test: the partnership")


def deliver(bot: BotUnderTest) -> int:
    """Run the outbox until nothing is due: what a worker would send now."""
    return dispatcher(bot).run_until_idle()


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
    Person(bot, who).say(text, command=command)
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
    return Person(bot, who).submit("rugdekking_raise", states=values, view=view)


def click(bot: BotUnderTest, action_id: str, who: PersonRef, *, channel: str | None = None) -> None:
    """Click a button the bot showed (the newest message with it, in `channel` if given)."""
    Person(bot, who).click(action_id, channel=channel)


def the_alert(bot: BotUnderTest) -> BackupAlert:
    with bot.services.session() as session:
        alerts = session.exec(select(BackupAlert)).all()
        assert len(alerts) == 1, f"expected one alert, found {len(alerts)}"
        return alerts[0]


def outbox_rows(bot: BotUnderTest) -> list[OutboxMessage]:
    with bot.services.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())  # type: ignore[arg-type]

"""Demo scene: a wethouder is intimidated at home after a closure and asks every partner for backup.

Friday evening, 21:40. Three partners acknowledge within a minute and a half; the fourth is escalated
after two minutes, as the board said it would be, and acknowledges; the politie records extra
surveillance and prepares the second round; the coordinator closes the alert with a summary and a lesson.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import select

from bot.alerts.models import BackupAlert
from bot.authz import CLI_ACTOR
from bot.partners.importer import import_partners

if TYPE_CHECKING:
    from bot.demo import Stage

TEAM = "T0SAMEN"
WETHOUDER = "U0WETHOUD1"
ALERT_CHANNELS = {
    "gemeente": "C0GEMALERT",
    "politie": "C0POLALERT",
    "belastingdienst": "C0BDALERT",
    "riec": "C0RIECALERT",
}


def _partnership(stage: Stage) -> str:
    people = stage.people
    return f"""\
team: {TEAM}
partners:
  - name: {people["fatima"].partner}
    type: GEMEENTE
    alert_channel: {ALERT_CHANNELS["gemeente"]}
    lead: {people["fatima"].user_id}
    duty_contacts: [{people["fatima"].user_id}]
    members:
      - {{user: {people["fatima"].user_id}, name: {people["fatima"].name}}}
      - {{user: {WETHOUDER}, name: Wethouder}}
  - name: {people["jan"].partner}
    type: POLITIE
    alert_channel: {ALERT_CHANNELS["politie"]}
    lead: {people["jan"].user_id}
    duty_contacts: [{people["jan"].user_id}]
    members:
      - {{user: {people["jan"].user_id}, name: {people["jan"].name}}}
  - name: {people["ilse"].partner}
    type: BELASTINGDIENST
    alert_channel: {ALERT_CHANNELS["belastingdienst"]}
    lead: {people["ilse"].user_id}
    duty_contacts: [{people["ilse"].user_id}]
    members:
      - {{user: {people["ilse"].user_id}, name: {people["ilse"].name}}}
  - name: {people["ruud"].partner}
    type: RIEC
    alert_channel: {ALERT_CHANNELS["riec"]}
    lead: {people["ruud"].user_id}
    duty_contacts: [{people["ruud"].user_id}]
    members:
      - {{user: {people["ruud"].user_id}, name: {people["ruud"].name}, role: coordinator}}
"""


def scene_rugdekking(stage: Stage) -> None:
    from bot.demo import Person

    nl = stage.language == "nl"
    stage.title(
        "Rugdekking: een aanval op één partner is een aanval op allemaal"
        if nl
        else "Backup: an attack on one partner is an attack on all"
    )
    fatima = stage.people["fatima"]
    stage.people["wethouder"] = Person(WETHOUDER, "Wethouder De Vries", fatima.partner, fatima.locale)
    stage.double.add_user(
        WETHOUDER, team_id=TEAM, locale=fatima.locale, name="wethouder", real_name="Wethouder De Vries"
    )
    for name, channel in ALERT_CHANNELS.items():
        stage.double.add_channel(channel, f"alarm-{name}")
    with stage.services.session() as session:
        import_partners(session, actor=CLI_ACTOR, source=_partnership(stage), purpose="demo: the partnership")

    stage.at("2026-12-04 21:40")
    stage.narrate(
        "Vrijdagavond, 21:40. Een week na de sluiting van een drugspand staan twee mannen bij het huis "
        "van wethouder De Vries. Zij opent Samen op haar telefoon."
        if nl
        else "Friday evening, 21:40. A week after a drugs den was closed, two men stand outside the home "
        "of De Vries, alderman of the municipality. She opens Samen on her phone."
    )
    stage.says("wethouder", "/rugdekking")
    opened = len(stage.double.calls_to("views.open"))
    stage.driver.command("/rugdekking", "", user=WETHOUDER, team=TEAM)
    stage.double.wait_for("views.open", count=opened + 1)
    form = stage.double.last_view("rugdekking_raise")
    stage.bot_says(form["blocks"], to="wethouder", where="formulier" if nl else "form")
    answer = stage.driver.view_submission(
        "rugdekking_raise",
        {
            "rd_type": {"type": "INTIMIDATIE"},
            "rd_level": {"level": "HOOG"},
            "rd_safe": {"safe": "yes"},
            "rd_description": {
                "description": "Twee mannen bij mijn huis, een week na de sluiting."
                if nl
                else "Two men outside my home, a week after the closure."
            },
            "rd_place": {"place": None},
            "rd_name": {"name": []},
        },
        user=WETHOUDER,
        view=form,
        team=TEAM,
    ).json()
    stage.bot_says(answer["view"]["blocks"], to="wethouder", where="formulier" if nl else "form")

    _wait_for_post(stage, ALERT_CHANNELS["politie"])
    _wait_for_post(stage, stage_channel(stage))
    _show_channel(stage, ALERT_CHANNELS["politie"], "#alarm-politie")
    _show_channel(stage, stage_channel(stage), "#ondermijning")

    # Each click some seconds after the one before: the board shows how long each partner took.
    for who, channel, seconds in (("jan", "politie", 40), ("ruud", "riec", 30), ("fatima", "gemeente", 20)):
        clicked = stage.local(stage.later(seconds=seconds), "%H:%M:%S")
        name = stage.people[who].name
        stage.narrate(f"{clicked}: {name} klikt op Ontvangen" if nl else f"{clicked}: {name} clicks Received")
        # A person clicks what they see: wait until the alert is in their partner's channel.
        _wait_for_post(stage, ALERT_CHANNELS[channel])
        stage.driver.action(
            "rugdekking_ack", user=stage.people[who].user_id, channel=ALERT_CHANNELS[channel], team=TEAM
        )
    _wait_for_update(stage, acknowledged=3)
    _show_channel(stage, stage_channel(stage), "#ondermijning")

    # The board promised "members 21:42": two minutes after the alert, the silent partner's people hear it.
    stage.later(seconds=30)
    stage.narrate(
        "21:42, twee minuten na de melding: de Belastingdienst heeft nog niet bevestigd. Wie daar werkt, "
        "krijgt een bericht."
        if nl
        else "21:42, two minutes after the alert: the Belastingdienst has not acknowledged. Its people are "
        "told."
    )
    ilse = stage.people["ilse"]
    escalated = stage.double.wait_for(
        "chat.postMessage",
        lambda c: c.ok and c.args.get("channel") == ilse.user_id and "⏰" in c.args.get("text", ""),
    )[-1]
    stage.bot_says(escalated.args["blocks"], to="ilse", where="DM")
    stage.later(seconds=30)
    stage.narrate(
        f"21:42:30: {ilse.name} klikt op Ontvangen" if nl else f"21:42:30: {ilse.name} clicks Received"
    )
    stage.driver.action(
        "rugdekking_ack",
        user=ilse.user_id,
        message=_last_message(stage, ilse.user_id),
        value=str(_alert_id(stage)),
        channel=ilse.user_id,
        team=TEAM,
    )
    _wait_for_update(stage, acknowledged=4)

    jan = stage.people["jan"]
    stage.later(minutes=5)
    stage.narrate(
        "21:47: Jan legt vast wat de politie doet" if nl else "21:47: Jan records what the police does"
    )
    opened = len(stage.double.calls_to("views.open"))
    stage.driver.action("rugdekking_act", user=jan.user_id, channel=ALERT_CHANNELS["politie"], team=TEAM)
    stage.double.wait_for("views.open", count=opened + 1)
    form = stage.double.last_view("rugdekking_action")
    second = stage.driver.view_submission(
        "rugdekking_action",
        {
            "rd_kind": {"kind": "EXTRA_TOEZICHT"},
            "rd_note": {
                "note": "Surveillance bij de woning, vannacht en morgen."
                if nl
                else "Surveillance at the home, tonight and tomorrow."
            },
        },
        user=jan.user_id,
        view=form,
        team=TEAM,
    ).json()
    stage.bot_says(second["view"]["blocks"], to="jan", where="formulier" if nl else "form")
    stage.driver.view_submission(
        "rugdekking_action",
        {"rd_kind": {"kind": "SNELRECHT"}, "rd_note": {"note": None}},
        user=jan.user_id,
        view={**form, "private_metadata": second["view"]["private_metadata"]},
        team=TEAM,
    )

    ruud = stage.people["ruud"]
    stage.later(minutes=28)
    stage.narrate(
        "22:15: de mannen zijn weg. Ruud (RIEC) sluit de rugdekking af"
        if nl
        else "22:15: the men have gone. Ruud (RIEC) closes the alert"
    )
    opened = len(stage.double.calls_to("views.open"))
    stage.driver.action("rugdekking_close", user=ruud.user_id, channel=stage_channel(stage), team=TEAM)
    stage.double.wait_for("views.open", count=opened + 1)
    form = stage.double.last_view("rugdekking_close")
    stage.driver.view_submission(
        "rugdekking_close",
        {
            "rd_summary": {
                "summary": "Extra toezicht bij de woning; de mannen zijn aangesproken; aangifte gedaan."
                if nl
                else "Extra surveillance at the home; the men were spoken to; a report was filed."
            },
            "rd_lesson": {
                "lesson": "Na een sluiting meteen extra toezicht bij de woning van de bestuurder."
                if nl
                else "After a closure, extra surveillance at the official's home at once."
            },
        },
        user=ruud.user_id,
        view=form,
        team=TEAM,
    )
    closed = "Afgesloten door" if nl else "Closed by"
    stage.double.wait_for(
        "chat.update",
        lambda c: c.ok and c.args.get("channel") == stage_channel(stage) and closed in str(c.args),
    )
    _show_channel(stage, stage_channel(stage), "#ondermijning")


def stage_channel(stage: Stage) -> str:
    channel = stage.services.settings.samen_partnership_channel
    assert channel, "the demo sets SAMEN_PARTNERSHIP_CHANNEL"
    return channel


def _wait_for_post(stage: Stage, channel: str) -> None:
    stage.double.wait_for("chat.postMessage", lambda c: c.ok and c.args.get("channel") == channel)


def _wait_for_update(stage: Stage, acknowledged: int) -> None:
    marker = f"{acknowledged} van " if stage.language == "nl" else f"{acknowledged} of "
    stage.double.wait_for(
        "chat.update",
        lambda c: (
            c.ok and c.args.get("channel") == stage_channel(stage) and marker in str(c.args.get("text"))
        ),
    )


def _show_channel(stage: Stage, channel: str, where: str) -> None:
    messages = stage.double.messages_in(channel)
    if messages:
        stage.bot_says(messages[-1].get("blocks") or [], where=where)


def _last_message(stage: Stage, user_id: str) -> dict[str, Any]:
    return stage.double.messages_to(user_id)[-1]


def _alert_id(stage: Stage) -> int:
    with stage.services.session() as session:
        alert = session.exec(select(BackupAlert).order_by(BackupAlert.id.desc())).first()  # type: ignore[union-attr]
        assert alert is not None and alert.id is not None
        return alert.id

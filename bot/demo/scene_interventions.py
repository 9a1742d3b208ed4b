"""Demo scene: the booklet's brilliant timing.

The Landelijke Eenheid, the Belastingdienst and the gemeente aim at a key player in cocaine. Raw
materials for synthetic drugs are found in his loods: the gemeente closes it. That is the moment for the
politie to place its equipment (the subject thinks himself safe, but the government listens in), and the
Belastingdienst's assessment becomes collectable at once. To pay it he sells a large batch of cocaine,
and the arrest follows. In Samen: four interventions in a chain, each owner told the moment it is their
turn, and a success celebrated in the partnership channel. The loods is the signals scene's case 1
(made here when this scene plays alone); Wednesday afternoon to Thursday afternoon on the demo's clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import select

from bot.authz import CLI_ACTOR
from bot.cases.models import Case, CasePartner
from bot.demo.scene_signals import CASE_TITLE
from bot.interventions.models import Intervention
from bot.partners import service as partners
from bot.partners.importer import import_partners
from bot.vocabulary import Contribution, FocusElement

if TYPE_CHECKING:
    from bot.demo import Stage

TEAM = "T0SAMEN"


def _partnership(stage: Stage) -> str:
    people = stage.people

    def partner(who: str, kind: str, role: str = "member") -> str:
        return (
            f"  - name: {people[who].partner}\n    type: {kind}\n    capacity: 3\n    members:\n"
            f"      - {{user: {people[who].user_id}, name: {people[who].name}, role: {role}}}\n"
        )

    return (
        f"team: {TEAM}\npartners:\n"
        + partner("fatima", "GEMEENTE")
        + partner("jan", "POLITIE")
        + partner("ilse", "BELASTINGDIENST")
        + partner("ruud", "RIEC", "coordinator")
    )


def scene_interventions(stage: Stage) -> None:
    nl = stage.language == "nl"
    stage.title(
        "Briljante timing: de loods, de apparatuur, de aanslag en de aanhouding"
        if nl
        else "Brilliant timing: the loods, the equipment, the assessment and the arrest"
    )
    with stage.services.session() as session:
        import_partners(session, actor=CLI_ACTOR, source=_partnership(stage), purpose="demo: the partnership")
    with stage.services.session() as session:
        ids = {
            who: partners.require_partner(session, name=stage.people[who].partner).id or 0
            for who in ("fatima", "jan", "ilse", "ruud")
        }
        case_id = _the_case(stage, session, ids)

    stage.at("2026-12-09 14:00")
    stage.narrate(
        "Woensdag 14:00. In de loods op De Hoogt liggen grondstoffen voor synthetische drugs; hij is van "
        "een belangrijke speler in de cocaïne. Ruud (RIEC) zet de interventies op casus 1 klaar, op volgorde."
        if nl
        else "Wednesday 14:00. The warehouse on De Hoogt holds raw materials for synthetic drugs; it belongs "
        "to a key player in cocaine. Ruud (RIEC) lines up the interventions on case 1, in order."
    )
    closure = _plan(
        stage,
        case_id,
        ids["fatima"],
        "fatima",
        "BESTUURSRECHTELIJK",
        "Sluiting loods (art. 13b Opiumwet)" if nl else "Closure of the warehouse (art. 13b Opiumwet)",
        window="donderdag 08:15-08:45" if nl else "thursday 08:15-08:45",
        show=True,
    )
    equipment = _plan(
        stage,
        case_id,
        ids["jan"],
        "jan",
        "STRAFRECHTELIJK",
        "Opnameapparatuur plaatsen" if nl else "Place recording equipment",
        after=closure,
    )
    assessment = _plan(
        stage,
        case_id,
        ids["ilse"],
        "ilse",
        "FISCAAL",
        "Naheffingsaanslag direct invorderbaar" if nl else "Additional tax assessment, collectable at once",
        after=closure,
    )
    arrest = _plan(
        stage,
        case_id,
        ids["jan"],
        "jan",
        "STRAFRECHTELIJK",
        "Aanhouding bij verkoop partij" if nl else "Arrest at the sale of the batch",
        after=assessment,
    )

    stage.at("2026-12-09 15:00")
    stage.narrate(
        "15:00. Fatima (gemeente) zegt de sluiting toe en plant hem in"
        if nl
        else "15:00. Fatima (municipality) commits to the closure and plans it"
    )
    _click(stage, "fatima", "intervention_to_TOEGEZEGD", closure, in_dm=True)
    _click(stage, "fatima", "intervention_to_GEPLAND", closure)
    stage.at("2026-12-10 08:15")
    stage.narrate("Donderdag 08:15: de sluiting begint." if nl else "Thursday 08:15: the closure starts.")
    _click(stage, "fatima", "intervention_to_IN_UITVOERING", closure)
    stage.at("2026-12-10 08:50")
    stage.narrate(
        "08:50. De loods is gesloten. Fatima rondt de interventie af, met resultaat, effect en leerpunt."
        if nl
        else "08:50. The warehouse is closed. Fatima finishes the intervention: result, effect and lesson."
    )
    _finish(
        stage,
        "fatima",
        closure,
        result="Loods gesloten; grondstoffen in beslag genomen."
        if nl
        else "Warehouse closed; raw materials seized.",
        lesson="Sluit op een moment dat de partners klaarstaan: dan kan de politie meteen door."
        if nl
        else "Close when the partners are ready: the police can follow at once.",
    )
    for who, number in (("jan", equipment), ("ilse", assessment)):
        _show_turn(stage, who, number)
    channel = stage.services.settings.samen_partnership_channel or ""
    success = stage.double.wait_for(
        "chat.postMessage",
        lambda c: c.ok and c.args.get("channel") == channel and _first_text(c.args).startswith(":tada:"),
    )[-1]
    stage.bot_says(success.args["blocks"], where="#ondermijning")

    stage.at("2026-12-10 13:00")
    stage.narrate(
        "13:00. Ilse zegt de aanslag toe vanuit haar bericht; hij is opgelegd en direct invorderbaar. Om te "
        "betalen verkoopt het subject een grote partij. Ilse rondt af."
        if nl
        else "13:00. Ilse commits to the assessment from her message; it is imposed and collectable at once. "
        "To pay it, the subject sells a large batch. Ilse finishes."
    )
    # Her turn notice is above: she clicks in it, it is not shown twice.
    _click(stage, "ilse", "intervention_to_TOEGEZEGD", assessment, in_dm=True, show_dm=False)
    _finish(
        stage,
        "ilse",
        assessment,
        result="Aanslag opgelegd en ingevorderd." if nl else "Assessment collected.",
    )
    _show_turn(stage, "jan", arrest)
    stage.at("2026-12-10 16:30")
    stage.narrate("16:30. Jan kijkt wat er nu van hem is" if nl else "16:30. Jan looks at what is his now")
    stage.command("jan", "/samen", "mijn")


def _the_case(stage: Stage, session: Any, ids: dict[str, int]) -> int:
    """Case 1 of the signals scene, joined by every partner that carries out or supports a step; made
    here (the same loods) when this scene plays alone."""
    case = session.exec(select(Case).order_by(Case.id)).first()  # type: ignore[arg-type]
    if case is None:
        case = Case(
            title=CASE_TITLE[stage.language],
            lead_partner_id=ids["jan"],
            focus_element=FocusElement.VERDIENMODEL_VERSTOREN,
            created_by_team_id=TEAM,
            created_by_user_id=stage.people["ruud"].user_id,
        )
        session.add(case)
        session.flush()
    joined = set(session.exec(select(CasePartner.partner_id).where(CasePartner.case_id == case.id)).all())
    for who, contribution in (
        ("fatima", Contribution.SPELER_IN_POSITIE),
        ("jan", Contribution.SLAGKRACHT),
        ("ilse", Contribution.INFORMATIEPOSITIE),
        ("ruud", Contribution.INFORMATIEPOSITIE),
    ):
        if ids[who] != case.lead_partner_id and ids[who] not in joined:
            session.add(CasePartner(case_id=case.id, partner_id=ids[who], contribution=contribution))
    return int(case.id or 0)


def _first_text(args: dict[str, Any]) -> str:
    blocks = args.get("blocks") or [{}]
    return str((blocks[0].get("text") or {}).get("text", ""))


def _show_turn(stage: Stage, who: str, number: int) -> None:
    """The owner's "your turn" message (urgent: it arrives within seconds of its predecessor)."""
    person = stage.people[who]
    turn = stage.double.wait_for(
        "chat.postMessage",
        lambda c: (
            c.ok
            and c.args.get("channel") == person.user_id
            and _first_text(c.args).startswith(":arrow_forward:")
            and f"*I-{number}*" in _first_text(c.args)
        ),
    )[-1]
    stage.bot_says(turn.args["blocks"], to=who, where="DM")


def _plan(
    stage: Stage,
    case_id: int,
    partner_id: int,
    who: str,
    kind: str,
    what: str,
    *,
    window: str | None = None,
    after: int | None = None,
    show: bool = False,
) -> int:
    ruud = stage.people["ruud"]
    words = f"interventie {case_id}"
    opened = len(stage.double.calls_to("views.open"))
    stage.says("ruud", f"/samen {words}")
    stage.driver.command("/samen", words, user=ruud.user_id, team=TEAM)
    stage.double.wait_for("views.open", count=opened + 1)
    values: dict[str, Any] = {
        "case": str(case_id),
        "instrument_type": kind,
        "instrument": what,
        "owner_partner": str(partner_id),
        "owner": stage.people[who].user_id,
        "round": "1",
    }
    if window:  # said as Ruud would, picked with the form's date and time pickers
        from bot.interventions.dates import picked_for

        values.update(
            picked_for(window, now=stage.services.clock.now(), zone=stage.services.settings.timezone)
        )
    if after:
        values["after"] = f"I-{after}"
    answer = stage.driver.view_submission(
        "intervention_new",
        {block: {"value": value} for block, value in values.items()},
        user=ruud.user_id,
        team=TEAM,
    ).json()
    if show:
        stage.bot_says(
            answer["view"]["blocks"], to="ruud", where="formulier" if stage.language == "nl" else "form"
        )
    view = {**answer["view"], "id": f"V0DEMO{len(stage.double.calls_to('views.open')):04d}"}
    saved = stage.driver.view_submission(
        "intervention_confirm", {}, user=ruud.user_id, view=view, team=TEAM
    ).json()
    stage.bot_says(
        saved["view"]["blocks"], to="ruud", where="formulier" if stage.language == "nl" else "form"
    )
    with stage.services.session() as session:
        newest = session.exec(select(Intervention).order_by(Intervention.id.desc())).first()  # type: ignore[union-attr]
        return newest.id if newest and newest.id else 0


def _click(
    stage: Stage, who: str, action_id: str, number: int, *, in_dm: bool = False, show_dm: bool = True
) -> None:
    person = stage.people[who]
    message: dict[str, Any] = {"ts": "1.0", "text": "", "blocks": []}
    if in_dm:
        wanted = stage.double.wait_for(
            "chat.postMessage",
            lambda c: (
                c.ok and c.args.get("channel") == person.user_id and action_id in str(c.args.get("blocks"))
            ),
        )[-1]
        if show_dm:
            stage.bot_says(wanted.args["blocks"], to=who, where="DM")
        message = next(
            m
            for m in reversed(stage.double.messages_to(person.user_id))
            for b in m.get("blocks") or []
            for e in b.get("elements") or []
            if e.get("action_id") == action_id and e.get("value") == str(number)
        )
    answered = len(stage.double.calls_to("response_url"))
    stage.driver.action(action_id, value=str(number), user=person.user_id, message=message, team=TEAM)
    reply = stage.double.wait_for("response_url", count=answered + 1)[-1]
    stage.bot_says(reply.args.get("blocks") or [], to=who)


def _finish(stage: Stage, who: str, number: int, *, result: str, lesson: str | None = None) -> None:
    person = stage.people[who]
    opened = len(stage.double.calls_to("views.open"))
    stage.driver.action(
        "intervention_to_UITGEVOERD",
        value=str(number),
        user=person.user_id,
        message={"ts": "1.0", "text": "", "blocks": []},
        team=TEAM,
    )
    stage.double.wait_for("views.open", count=opened + 1)
    form = stage.double.last_view("intervention_finish")
    values: dict[str, Any] = {"result": result, "success": ["success"]}
    if lesson:
        values["lesson"] = lesson
    answer = stage.driver.view_submission(
        "intervention_finish",
        {b: {"value": v} for b, v in values.items()},
        user=person.user_id,
        view=form,
        team=TEAM,
    ).json()
    stage.bot_says(answer["view"]["blocks"], to=who, where="formulier" if stage.language == "nl" else "form")

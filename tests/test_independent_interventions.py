"""Independent interventions (issue 20), read like the booklet: "most interventions partners carry out on
their own; other partners hook in where and when needed". Havensteder (a housing corporation on no case)
plans its own intervention without a signal, a weighing or a case, asks the politie and the
Belastingdienst to join, the politie accepts, it is carried out with a lesson and shows in the digest;
later a gemeente intervention is attached to a case. Need to know: a partner not involved cannot see it.

Every path goes through signed requests and the Slack double (tests/interventions_support.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from interventions_support import (
    CHANNEL,
    FATIMA,
    ILSE,
    JAN,
    KOEN,
    RUUD,
    World,
    audit_actions,
    build_world,
    snapshot,
    texts,
)
from sqlmodel import select

from bot.authz import CLI_ACTOR
from bot.clock import utcnow
from bot.digest import service as digest
from bot.digest.service import message_context
from bot.digest.timing import Period
from bot.interventions import goals as goal_service
from bot.interventions.models import (
    Intervention,
    InterventionAsk,
    InterventionPartner,
    InterventionStatus,
    InterventionSubject,
    Lesson,
)
from bot.partners import service as partners
from bot.partners.models import PersonRef
from bot.vocabulary import FocusElement
from slackdouble import SlackDouble, visible_text

S = InterventionStatus
WHAT = "Huurcontract ontbinden, pand Waalhaven 12"


@pytest.fixture
def world(sqlite_url: str, slack_double: SlackDouble) -> Iterator[World]:
    yield from build_world(sqlite_url, slack_double)


@pytest.fixture
def world_on(database_url: str, slack_double: SlackDouble) -> Iterator[World]:
    """The same partnership on SQLite and on PostgreSQL."""
    yield from build_world(database_url, slack_double)


def answer_text(answer: dict[str, Any]) -> str:
    return visible_text(answer.get("blocks") or [])


def form_values(world: World, **change: Any) -> dict[str, Any]:
    """Havensteder's own intervention, on no case, asking the politie and the Belastingdienst."""
    return {
        "case": "none",
        "instrument_type": "PRIVAATRECHTELIJK",
        "instrument": WHAT,
        "focus": "VERDIENMODEL_VERSTOREN",
        "owner_partner": str(world.partner["woningcorporatie"]),
        "owner": KOEN.user_id,
        "round": "1",
        **world.picked("volgende week dinsdag 09:00-10:00"),
        "joining_SLAGKRACHT": [str(world.partner["politie"])],
        "joining_INFORMATIEPOSITIE": [str(world.partner["belastingdienst"])],
        **change,
    }


def plan_independent(
    world: World, person: PersonRef = KOEN, view_id: str = "V0INDEP01", **change: Any
) -> int:
    world.open_form(person)
    answer = world.submit_form(person, form_values(world, **change))
    assert answer.get("response_action") == "update", answer
    saved = world.confirm(person, answer["view"], view_id=view_id)
    assert saved.get("response_action") == "update", saved
    with world.services.session() as session:
        newest = session.exec(select(Intervention).order_by(Intervention.id.desc())).first()  # type: ignore[union-attr]
        assert newest is not None and newest.id is not None
        return newest.id


def finish(world: World, person: PersonRef, number: int, *, lesson: str, success: bool = True) -> None:
    world.click(person, "intervention_to_UITGEVOERD", str(number))
    view = world.double.last_view("intervention_finish")
    values: dict[str, Any] = {"result": "Huurcontract ontbonden, pand leeg", "lesson": lesson}
    if success:
        values["success"] = ["success"]
    answer = world.submit_view(person, "intervention_finish", values, view)
    assert answer.get("response_action") == "update", answer


# --- planning without a case ------------------------------------------------------------------------


def test_a_partner_on_no_case_plans_its_own_intervention_and_asks_others_to_join(world: World) -> None:
    form = world.open_form(KOEN)  # before issue 20: "Er is nog geen open casus waar jouw partner op zit"
    case = next(b for b in form["blocks"] if b.get("block_id") == "case")
    assert case["element"]["initial_option"]["value"] == "none"  # "geen casus" is the default
    assert [o["value"] for o in case["element"]["options"]] == ["none"]  # Havensteder is on no case
    kinds = {b["block_id"]: b["element"]["type"] for b in form["blocks"] if b.get("type") == "input"}
    assert kinds["window_day"] == "datepicker" and kinds["window_from"] == kinds["window_to"] == "timepicker"
    owner = next(b for b in form["blocks"] if b.get("block_id") == "owner")
    assert owner["element"]["initial_user"] == KOEN.user_id  # the person, unless they choose another

    answer = world.submit_form(KOEN, form_values(world))
    shown = visible_text(answer["view"]["blocks"])
    assert "Geen casus: jouw partner voert hem zelfstandig uit." in shown
    assert "dinsdag" in shown and "09:00–10:00" in shown  # the picked window, resolved
    assert "Gevraagd aan te haken" in shown and "Politie Rotterdam" in shown
    saved = world.confirm(KOEN, answer["view"], view_id="V0INDEP01")
    assert "I-1" in visible_text(saved["view"]["blocks"])

    iv = world.intervention(1)
    assert iv.case_id is None and iv.status is S.VOORGESTELD
    assert (iv.owner_partner_id, iv.owner_user_id) == (world.partner["woningcorporatie"], KOEN.user_id)
    with world.services.session() as session:
        asks = session.exec(select(InterventionAsk).order_by(InterventionAsk.partner_id)).all()
        assert {(a.partner_id, a.contribution.value, a.accepted_at) for a in asks} == {
            (world.partner["politie"], "SLAGKRACHT", None),
            (world.partner["belastingdienst"], "INFORMATIEPOSITIE", None),
        }
        assert session.exec(select(InterventionPartner)).all() == []  # nobody joined before accepting

    world.dispatch()
    # The asked partners hear it through their contacts (no lead or duty contacts: their members).
    for person in (JAN, ILSE):
        asked = texts(world.double.messages_to(person.user_id))
        assert any("vraagt" in t and "aan te haken bij *I-1*" in t and WHAT in t for t in asked), asked
    # Need to know: nothing about it in the partnership channel.
    assert not any("I-1" in t for t in texts(world.double.messages_in(CHANNEL)))
    assert "intervention.created" in audit_actions(world.services.engine)

    # /samen mijn and the App Home show it at once, while it is only proposed.
    mine = answer_text(world.command(KOEN, "mijn"))
    assert "I-1" in mine and WHAT in mine and "voorgesteld" in mine
    world.driver.event({"type": "app_home_opened", "user": KOEN.user_id, "channel": "D0KOEN", "tab": "home"})
    home = world.double.wait_for("views.publish")[-1].args["view"]
    assert "I-1" in visible_text(home["blocks"]) and WHAT in visible_text(home["blocks"])


def test_an_asked_partner_joins_with_one_click_and_the_owner_hears_it(world: World) -> None:
    number = plan_independent(world)
    world.dispatch()
    world.click(JAN, "intervention_join", str(number), in_dm_of=JAN)
    with world.services.session() as session:
        joined = session.exec(select(InterventionPartner)).all()
        assert [(j.partner_id, j.contribution.value) for j in joined] == [
            (world.partner["politie"], "SLAGKRACHT")
        ]
        ask = session.get(InterventionAsk, (number, world.partner["politie"]))
        assert ask is not None and ask.accepted_at is not None and ask.accepted_by_user_id == JAN.user_id
    assert "Politie Rotterdam" in visible_text(world.responses()[-1].get("blocks") or [])
    before = snapshot(world.services.engine)
    world.click(JAN, "intervention_join", str(number), in_dm_of=JAN)  # clicked twice: no change
    assert "Er is niets veranderd" in visible_text(world.responses()[-1].get("blocks") or [])
    assert snapshot(world.services.engine) == before
    world.dispatch()
    told = texts(world.double.messages_to(KOEN.user_id))
    assert any("Politie Rotterdam haakt aan bij *I-1*" in t for t in told), told
    assert "intervention.joined" in audit_actions(world.services.engine)

    # A partner that was not asked cannot accept.
    before = snapshot(world.services.engine)
    world.click(FATIMA, "intervention_join", str(number))
    assert "niet gevraagd aan te haken" in visible_text(world.responses()[-1].get("blocks") or [])
    assert snapshot(world.services.engine) == before


def test_need_to_know_without_a_case(world: World) -> None:
    number = plan_independent(world)
    world.dispatch()
    world.click(JAN, "intervention_join", str(number), in_dm_of=JAN)
    for person in (KOEN, JAN, ILSE, RUUD):  # owner, joined, asked, coordinator
        shown = answer_text(world.command(person, f"interventie I-{number}"))
        assert WHAT in shown, (person, shown)
    refused = answer_text(world.command(FATIMA, f"interventie I-{number}"))  # the gemeente: not involved
    assert (
        WHAT not in refused and "niet met jouw partner gedeeld" in refused and f"<@{KOEN.user_id}>" in refused
    )

    world.click(KOEN, "intervention_to_TOEGEZEGD", str(number))
    finish(world, KOEN, number, lesson="Eerst de verhuurder spreken scheelt weken.")
    with_result = answer_text(world.command(JAN, f"interventie I-{number}"))
    assert "Huurcontract ontbonden" in with_result  # joined: may read the restricted result
    asked_only = answer_text(world.command(ILSE, f"interventie I-{number}"))
    assert WHAT in asked_only and "Huurcontract ontbonden" not in asked_only  # asked, never joined
    coordinator = answer_text(world.command(RUUD, f"interventie I-{number}"))
    assert "Huurcontract ontbonden" in coordinator


# --- counted like any other --------------------------------------------------------------------------


def test_carried_out_with_a_lesson_it_counts_in_the_digest_and_towards_a_goal(world: World) -> None:
    with world.services.session() as session:
        goal, _ = goal_service.add_goal(
            session,
            actor=CLI_ACTOR,
            partner_id=world.partner["gemeente"],
            focus_element=FocusElement.VERDIENMODEL_VERSTOREN,
            description="Tien panden terug naar de wijk",
            target=10,
        )
        goal_id = goal.id
    number = plan_independent(world, goal=str(goal_id), focus=None)  # the focus comes from the goal
    assert world.intervention(number).goal_id == goal_id
    world.dispatch()
    world.click(JAN, "intervention_join", str(number), in_dm_of=JAN)
    world.click(KOEN, "intervention_to_TOEGEZEGD", str(number))
    world.click(KOEN, "intervention_to_IN_UITVOERING", str(number))  # no case: no second-round rule
    finish(world, KOEN, number, lesson="Eerst de verhuurder spreken scheelt weken.")
    iv = world.intervention(number)
    assert iv.status is S.UITGEVOERD and iv.focus_element is FocusElement.VERDIENMODEL_VERSTOREN
    with world.services.session() as session:
        (lesson,) = session.exec(select(Lesson)).all()
        assert lesson.intervention_id == number and lesson.partner_id == world.partner["woningcorporatie"]
        (progress,) = goal_service.progress(session)
        assert progress.done == 1  # the gemeente's goal, served by Havensteder's intervention
    assert "Eerst de verhuurder" in answer_text(world.command(FATIMA, "lessen verhuurder"))

    now = utcnow()
    period = Period(now - timedelta(days=1), now + timedelta(minutes=1), world.services.settings.timezone)
    with world.services.session() as session:
        for person, sees in ((KOEN, True), (JAN, True), (RUUD, True), (FATIMA, False)):
            viewer = partners.require_member(session, team_id=person.team_id, user_id=person.user_id)
            found = digest.overview(session, actor=viewer, period=period)
            assert (
                found.finished_total == 1
                and found.finished_by_focus[FocusElement.VERDIENMODEL_VERSTOREN] == 1
            )
            # Counted for everyone; listed, with what was done, only for those who may know.
            listed = [item for item in found.finished if item.instrument is not None]
            assert [(i.code, i.case_id) for i in listed] == ([(f"I-{number}", None)] if sees else []), person
        found = digest.overview(
            session,
            actor=partners.require_member(session, team_id=RUUD.team_id, user_id=RUUD.user_id),
            period=period,
        )
    message = world.services.renderer.render(
        "digest_message.json.j2", "nl", **message_context(found, for_channel=False)
    )
    shown = visible_text(message["blocks"])
    assert "1 interventie uitgevoerd" in shown and WHAT in shown


def test_the_capacity_rule_applies_without_a_case(world: World) -> None:
    first = plan_independent(world)
    world.click(KOEN, "intervention_to_TOEGEZEGD", str(first))  # Havensteder's capacity is 1
    second = plan_independent(world, view_id="V0INDEP02", instrument="Tweede pand")
    before = snapshot(world.services.engine)
    world.click(KOEN, "intervention_to_TOEGEZEGD", str(second))
    refused = visible_text(world.responses()[-1].get("blocks") or [])
    assert "Havensteder" in refused and "(1 van 1)" in refused and f"I-{first}" in refused
    assert snapshot(world.services.engine) == before
    assert world.intervention(second).status is S.VOORGESTELD


# --- the form's rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "block", "says"),
    [
        (
            {"owner_partner": "gemeente", "owner": FATIMA.user_id},
            "owner_partner",
            "Zonder casus is een interventie",
        ),
        ({"subject": "S-2026-9999"}, "subject", "Er is geen subject S-2026-9999"),
        ({"focus": None}, "focus", "Kies het focuspunt"),
    ],
)
def test_the_form_refuses_what_an_independent_intervention_cannot_be(
    world: World, change: dict[str, Any], block: str, says: str
) -> None:
    if "owner_partner" in change:
        change = {**change, "owner_partner": str(world.partner[change["owner_partner"]])}
    world.open_form(KOEN)
    before = snapshot(world.services.engine)
    values = {k: v for k, v in form_values(world, **change).items() if v is not None}
    answer = world.submit_form(KOEN, values)
    assert answer["response_action"] == "errors" and says in answer["errors"][block], answer
    assert snapshot(world.services.engine) == before


def test_on_a_subject_code_the_link_is_kept_apart_from_the_intervention(world: World) -> None:
    number = plan_independent(world, subject="s-2026-0042")
    with world.services.session() as session:
        (link,) = session.exec(select(InterventionSubject)).all()
        assert link.intervention_id == number
    assert "S-2026-0042" in answer_text(world.command(KOEN, f"interventie I-{number}"))


# --- attached to a case later ----------------------------------------------------------------------------


def test_an_independent_intervention_is_attached_to_a_case_later(world: World) -> None:
    number = plan_independent(
        world,
        person=FATIMA,
        owner_partner=str(world.partner["gemeente"]),
        owner=FATIMA.user_id,
        joining_SLAGKRACHT=[],
        joining_INFORMATIEPOSITIE=[],
    )
    world.dispatch()
    assert not any(f"I-{number}" in t for t in texts(world.double.messages_in(CHANNEL)))
    loods = world.case["loods"]
    refused = answer_text(world.command(KOEN, f"interventie I-{number} koppel {loods}"))  # not the owner's
    assert "Alleen je eigen partner" in refused and f"<@{RUUD.user_id}>" in refused  # whom to ask
    assert world.intervention(number).case_id is None
    attached = answer_text(world.command(FATIMA, f"interventie I-{number} koppel {loods}"))
    assert f"Casus {loods} (C-2026-0007 loods Waalhaven)" in attached  # its number and title
    assert world.intervention(number).case_id == loods
    again = answer_text(world.command(FATIMA, f"interventie I-{number} koppel {loods}"))
    assert "Er is niets veranderd" in again
    world.dispatch()
    thread = [
        t
        for m, t in zip(
            world.double.messages_in(CHANNEL), texts(world.double.messages_in(CHANNEL)), strict=True
        )
        if m.get("thread_ts") == world.thread_ts
    ]
    assert any(f"koppelde interventie *I-{number}* aan casus" in t for t in thread), thread
    assert "intervention.attached" in audit_actions(world.services.engine)


@pytest.mark.postgres
def test_independent_interventions_on_both_databases(world_on: World) -> None:
    number = plan_independent(world_on)
    world_on.dispatch()
    world_on.click(JAN, "intervention_join", str(number), in_dm_of=JAN)
    world_on.click(KOEN, "intervention_to_TOEGEZEGD", str(number))
    finish(world_on, KOEN, number, lesson="Kort afstemmen was genoeg.")
    assert (
        world_on.intervention(number).status is S.UITGEVOERD and world_on.intervention(number).case_id is None
    )


def test_a_chain_without_a_case_tells_the_next_owner_it_is_their_turn(world: World) -> None:
    first = plan_independent(world, joining_SLAGKRACHT=[], joining_INFORMATIEPOSITIE=[])
    second = plan_independent(
        world, view_id="V0INDEP02", instrument="Pand opnieuw verhuren", after=f"I-{first}"
    )
    assert world.intervention(second).depends_on_id == first
    world.click(KOEN, "intervention_to_TOEGEZEGD", str(first))
    finish(world, KOEN, first, lesson="Kort afstemmen was genoeg.", success=False)
    world.dispatch()
    turn = world.message_with(KOEN, "intervention_to_TOEGEZEGD", str(second))
    assert f"Nu is het *I-{second}*: Pand opnieuw verhuren." in visible_text(turn["blocks"])


# --- stale and forged input ----------------------------------------------------------------------------


def test_a_stale_or_forged_button_or_form_is_answered_and_changes_nothing(world: World) -> None:
    """Buttons and forms carry typed values (issue 17): one Samen did not write — forged, or from an
    older Samen — is answered "out of date" where the person is, and nothing changes."""
    number = plan_independent(world)
    world.click(KOEN, "intervention_handover", str(number))
    handover_form = world.double.last_view("intervention_handover")
    before = snapshot(world.services.engine)

    for action_id, value in (
        ("intervention_window_confirm", json.dumps({"id": number, "s": "volgende week"})),
        ("intervention_override", json.dumps({"id": number, "to": "GEPLAND", "kind": "anyway"})),
        ("intervention_done", "٣"),
        ("intervention_join", "9223372036854775808"),
    ):
        world.click(KOEN, action_id, value)
        assert "Dit formulier is verouderd" in visible_text(world.responses()[-1].get("blocks") or [])

    forged = {**handover_form, "private_metadata": json.dumps({"id": "<!channel>"})}
    answer = world.submit_view(KOEN, "intervention_handover", {"owner": RUUD.user_id}, forged)
    assert answer["response_action"] == "errors" and "verouderd" in answer["errors"]["owner"], answer
    assert snapshot(world.services.engine) == before
    assert world.intervention(number).status is S.VOORGESTELD

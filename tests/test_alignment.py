"""Ad-hoc alignment on one subject, read like the booklet: "bring together exactly the partners who need
each other", without telling anyone what another partner holds.

The politie calls an alignment on S-2026-0042. The gemeente (which described the subject and leads a case
on it) and the Belastingdienst (which joined that case) are asked privately; the RIEC and the Douane, who
have nothing on it, are not. The gemeente joins, the Belastingdienst declines: only the politie and the
gemeente meet in a group conversation, where they pick a short slot and record who does what, by when;
an agreement becomes an intervention through the interventions' own form.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from checkins_support import DIRK, FATIMA, ILSE, JAN, MARLEEN, RUUD, TEAM, World, block, build_world

from bot.cases.models import Case, CasePartner, CaseSubject
from bot.signals.models import Signal, SignalSubject
from bot.subjects.models import Subject
from bot.vocabulary import Contribution, FocusElement, SignalCategory, SubjectKind
from slackdouble import SlackDouble, visible_text

CODE = "S-2026-0042"


@pytest.fixture
def world(sqlite_url: str, slack_double: SlackDouble) -> Iterator[World]:
    for built in build_world(sqlite_url, slack_double):
        with built.services.session() as session:
            subject = Subject(
                code=CODE,
                kind=SubjectKind.LOCATIE,
                partner_id=built.partner["gemeente"],
                created_by_team_id=TEAM,
                created_by_user_id=FATIMA.user_id,
            )
            lonely = Subject(
                code="S-2026-0007",
                kind=SubjectKind.BEDRIJF,
                partner_id=built.partner["gemeente"],
                created_by_team_id=TEAM,
                created_by_user_id=FATIMA.user_id,
            )
            session.add(subject)
            session.add(lonely)
            session.flush()
            signal = Signal(
                summary="Veel verkeer bij de loods",
                category=SignalCategory.DRUGS,
                partner_id=built.partner["politie"],
                reporter_team_id=TEAM,
                reporter_user_id=JAN.user_id,
            )
            case = Case(
                title=f"C-2026-0007 {CODE}",
                lead_partner_id=built.partner["gemeente"],
                focus_element=FocusElement.VERDIENMODEL_VERSTOREN,
                created_by_team_id=TEAM,
                created_by_user_id=FATIMA.user_id,
            )
            session.add(signal)
            session.add(case)
            session.flush()
            session.add(SignalSubject(signal_id=signal.id or 0, subject_id=subject.id or 0))
            session.add(CaseSubject(case_id=case.id or 0, subject_id=subject.id or 0))
            session.add(
                CasePartner(
                    case_id=case.id or 0,
                    partner_id=built.partner["belastingdienst"],
                    contribution=Contribution.INFORMATIEPOSITIE,
                )
            )
        yield built


def click(
    world: World,
    person: Any,
    action_id: str,
    *,
    channel: str,
    value: str | None = None,
    answered: bool = True,
) -> str:
    """Click a button where the bot showed it; the ephemeral answer (`answered=False`: none is expected)."""
    before = len(world.double.calls_to("response_url"))
    response = world.driver.action(action_id, value=value, user=person.user_id, channel=channel, team=TEAM)
    assert response.status == 200, response.body
    if not answered:
        return ""
    calls = world.double.wait_for("response_url", count=before + 1)
    return visible_text(calls[-1].args.get("blocks") or [])


def dms(world: World, person: Any) -> list[str]:
    return [visible_text(m.get("blocks") or []) for m in world.double.messages_to(person.user_id)]


def group_messages(world: World, conversation: str) -> list[dict[str, Any]]:
    return world.double.messages_in(conversation)


def test_the_partners_with_something_on_the_subject_are_asked_privately_and_those_who_join_meet(
    world: World,
) -> None:
    called = world.said(world.command(JAN, f"afstemmen {CODE} loods Waalhaven"))
    assert f"De partners die iets op {CODE} hebben, wordt privé gevraagd" in called
    for name in ("Gemeente", "Belastingdienst", "RIEC", "Douane"):
        assert name not in called  # the caller is not told who holds something
    world.dispatch()
    (invite,) = dms(world, MARLEEN)  # the gemeente's lead speaks for the gemeente
    (invite_bd,) = dms(world, ILSE)
    assert dms(world, FATIMA) == [] and dms(world, RUUD) == [] and dms(world, DIRK) == []
    assert (
        f"<@{JAN.user_id}> (Politie Rotterdam) belegt een korte afstemming over `{CODE}` (Locatie)" in invite
    )
    assert "loods Waalhaven" in invite and "omdat Gemeente Rotterdam iets op dit subject heeft" in invite
    assert "Belastingdienst" not in invite and "Gemeente" not in invite_bd  # nobody learns about the others

    assert "Deze uitnodiging is niet voor jou." in click(
        world, DIRK, "alignment_join", channel=MARLEEN.user_id
    )
    joined = click(world, MARLEEN, "alignment_join", channel=MARLEEN.user_id)
    assert "Je doet mee aan de afstemming over S-2026-0042. Het groepsgesprek gaat open zodra" in joined
    assert "al beantwoord" in click(world, MARLEEN, "alignment_join", channel=MARLEEN.user_id)
    world.dispatch()
    (told,) = dms(world, JAN)
    assert f"<@{MARLEEN.user_id}> (Gemeente Rotterdam) doet mee aan de afstemming" in told
    assert world.double.calls_to("conversations.open") == []  # the Belastingdienst has not answered yet

    declined = click(world, ILSE, "alignment_decline", channel=ILSE.user_id)
    assert "Begrepen: Belastingdienst doet niet mee" in declined and "Niemand hoort dat." in declined
    (opened,) = world.double.calls_to("conversations.open")
    assert opened.args["users"] == f"{JAN.user_id},{MARLEEN.user_id}"  # the one who declined stays out
    world.dispatch()
    conversation = opened.response["channel"]["id"]  # type: ignore[index]
    (board,) = group_messages(world, conversation)
    shown = visible_text(board["blocks"])
    assert f"Afstemming over {CODE}" in shown and "loods Waalhaven" in shown
    assert (
        f"<@{JAN.user_id}> (Politie Rotterdam)" in shown
        and f"<@{MARLEEN.user_id}> (Gemeente Rotterdam)" in shown
    )
    assert "Belastingdienst" not in shown
    slots = [b for b in board["blocks"] if (b.get("accessory") or {}).get("action_id") == "alignment_slot"]
    assert len(slots) == 3 and "09:00–09:15" in visible_text([slots[0]])
    for text in dms(world, JAN):
        assert "Belastingdienst" not in text

    # Someone outside the group can neither pick a slot nor record an agreement.
    opened_views = len(world.double.calls_to("views.open"))
    outsider = click(world, DIRK, "alignment_agree", channel=conversation)
    assert "Alleen wie aan deze afstemming meedoet, kan dit." in outsider
    assert len(world.double.calls_to("views.open")) == opened_views
    slot_value = slots[0]["accessory"]["value"]
    assert "Alleen wie aan deze afstemming meedoet" in click(
        world, DIRK, "alignment_slot", channel=conversation, value=slot_value
    )

    # Both can make the second slot: the group's message says so (edited, not posted again).
    slot = slots[1]["accessory"]["value"]
    click(world, MARLEEN, "alignment_slot", channel=conversation, value=slot, answered=False)
    click(world, JAN, "alignment_slot", channel=conversation, value=slot, answered=False)
    world.dispatch()
    (board,) = group_messages(world, conversation)
    assert "iedereen kan" in visible_text(board["blocks"])

    # Who does what, by when.
    before = len(world.double.calls_to("views.open"))
    world.driver.action("alignment_agree", user=MARLEEN.user_id, channel=conversation, team=TEAM)
    form = world.double.wait_for("views.open", count=before + 1)[-1].args["view"]
    due = date.today() + timedelta(days=10)
    values = {"what": f"Bibob-toets loods {CODE}", "who": MARLEEN.user_id, "when": due.isoformat()}
    recorded = world.submit(MARLEEN, "alignment_agreement", values, form, "V0AGREE001")
    assert "Vastgelegd" in visible_text(recorded["view"]["blocks"])
    again = world.submit(MARLEEN, "alignment_agreement", values, form, "V0AGREE001")
    assert "niets veranderd" in visible_text(again["view"]["blocks"])
    world.dispatch()
    (board,) = group_messages(world, conversation)
    shown = visible_text(board["blocks"])
    assert (
        f"<@{MARLEEN.user_id}> (Gemeente Rotterdam): Bibob-toets loods {CODE}" in shown
        and "uiterlijk" in shown
    )
    assert world.count("SELECT count(*) FROM alignment_agreement") == 1

    # One click: the interventions' own form, filled in with the case on the subject and the agreement.
    before = len(world.double.calls_to("views.open"))
    world.driver.action("alignment_to_intervention", user=MARLEEN.user_id, channel=conversation, team=TEAM)
    intervention = world.double.wait_for("views.open", count=before + 1)[-1].args["view"]
    assert intervention["callback_id"] == "intervention_new"
    assert block(intervention, "case")["element"]["initial_option"]["value"] == "1"
    assert block(intervention, "instrument")["element"]["initial_value"] == f"Bibob-toets loods {CODE}"
    assert block(intervention, "owner")["element"]["initial_user"] == MARLEEN.user_id
    assert block(intervention, "owner_partner")["element"]["initial_option"]["value"] == str(
        world.partner["gemeente"]
    )
    assert block(intervention, "window_day")["element"]["initial_date"] == due.isoformat()

    actions = [r[0] for r in world.rows("SELECT action FROM audit_entry ORDER BY seq")]
    for expected in (
        "alignment.called",
        "alignment.joined",
        "alignment.declined",
        "alignment.started",
        "alignment.slot_chosen",
        "alignment.agreement_recorded",
    ):
        assert expected in actions
    world.double.assert_no_violations()


def test_someone_who_joins_after_the_start_is_brought_into_the_group(world: World) -> None:
    world.command(JAN, f"afstemmen {CODE}")
    world.dispatch()
    click(world, MARLEEN, "alignment_join", channel=MARLEEN.user_id)
    world.dispatch()
    assert "Het groepsgesprek is open." in click(world, JAN, "alignment_start", channel=JAN.user_id)
    (first,) = world.double.calls_to("conversations.open")
    assert first.args["users"] == f"{JAN.user_id},{MARLEEN.user_id}"
    world.dispatch()

    joined = click(world, ILSE, "alignment_join", channel=ILSE.user_id)
    assert "het groepsgesprek is open" in joined
    second = world.double.calls_to("conversations.open")[-1]
    assert second.args["users"] == f"{JAN.user_id},{MARLEEN.user_id},{ILSE.user_id}"
    world.dispatch()
    conversation = second.response["channel"]["id"]  # type: ignore[index]
    board = group_messages(world, conversation)
    assert len(board) == 1 and f"<@{ILSE.user_id}> (Belastingdienst)" in visible_text(board[0]["blocks"])


@pytest.mark.parametrize(
    ("person", "words", "says"),
    [
        (JAN, "afstemmen", "Noem de code van het subject."),
        (JAN, "afstemmen loods", "“loods” is geen subjectcode"),
        (JAN, "afstemmen S-2026-9999", "Er is geen subject S-2026-9999."),
        (DIRK, f"afstemmen {CODE}", "hoort bij een andere partner"),
        (JAN, f"afstemmen {CODE} bel 06-12345678", "haal de persoonsgegevens weg (telefoonnummer)"),
        (FATIMA, "afstemmen S-2026-0007", "Er is niemand om te vragen"),
    ],
)
def test_bad_input_gets_a_clear_answer_and_asks_nobody(
    world: World, person: Any, words: str, says: str
) -> None:
    answer = world.said(world.command(person, words))
    assert says in answer
    assert world.count("SELECT count(*) FROM alignment") == 0
    assert world.count("SELECT count(*) FROM outbox") == 0


def test_the_match_notice_button_calls_the_alignment_once_a_day(world: World) -> None:
    world.double.add_channel("C0MATCH001", "match")
    notice = {
        "ts": "1.0",
        "text": "Hit",
        "blocks": [
            {
                "type": "actions",
                "block_id": "b1",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "alignment_request",
                        "value": CODE,
                        "text": {"type": "plain_text", "text": "x"},
                    }
                ],
            }
        ],
    }
    before = len(world.double.calls_to("response_url"))
    world.driver.action(
        "alignment_request", value=CODE, user=JAN.user_id, message=notice, channel=JAN.user_id, team=TEAM
    )
    said = world.double.wait_for("response_url", count=before + 1)[-1].args
    assert "wordt privé gevraagd" in visible_text(said["blocks"])
    world.driver.action(
        "alignment_request", value=CODE, user=JAN.user_id, message=notice, channel=JAN.user_id, team=TEAM
    )
    again = world.double.wait_for("response_url", count=before + 2)[-1].args
    assert "Je partner heeft vandaag al een afstemming over S-2026-0042 belegd" in visible_text(
        again["blocks"]
    )
    assert world.count("SELECT count(*) FROM alignment") == 1
    assert world.count("SELECT count(*) FROM alignment_invite") == 2

"""The texts issue 20 left over (helper-16): what a person reads about interventions says what happened
to them, no more and no less. Every path goes through signed requests and the Slack double.

- The owner's proposal DM for an intervention that waits on another says so, and on whom.
- "*I-1* is uitgevoerd." names the interventions that waited on it (their owners were told), and says
  nothing about waiting when nothing waited.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from interventions_support import CHANNEL, FATIMA, JAN, MARLEEN, World, build_world, texts

from bot.partners.models import PersonRef
from slackdouble import SlackDouble, visible_text


@pytest.fixture
def world(sqlite_url: str, slack_double: SlackDouble) -> Iterator[World]:
    yield from build_world(sqlite_url, slack_double)


def plan_camera(world: World) -> int:
    """The politie's own intervention on the loods, owned by Jan."""
    return world.plan(JAN, what="Camera plaatsen", kind="STRAFRECHTELIJK", owner_partner="politie", owner=JAN)


def finish(world: World, person: PersonRef, number: int) -> str:
    """Commit to an intervention and mark it carried out through its form: what the form says afterwards."""
    world.click(person, "intervention_to_TOEGEZEGD", str(number))
    world.click(person, "intervention_to_UITGEVOERD", str(number))
    view = world.double.last_view("intervention_finish")
    values: dict[str, Any] = {"result": "Apparatuur geplaatst", "lesson": ""}
    answer = world.submit_view(person, "intervention_finish", values, view)
    assert answer.get("response_action") == "update", answer
    return visible_text(answer["view"]["blocks"])


def test_the_proposal_of_a_waiting_intervention_says_on_what_it_waits(world: World) -> None:
    first = plan_camera(world)
    second = world.plan(MARLEEN, owner=FATIMA, after=first)  # proposed to Fatima by her lead
    world.dispatch()
    proposal = next(
        visible_text(m["blocks"])
        for m in world.double.messages_to(FATIMA.user_id)
        if f"*I-{second}*" in visible_text(m["blocks"])
    )
    assert (
        f"Deze interventie wacht op I-{first} (eigenaar: Politie Rotterdam); je hoort het als die klaar is."
        in proposal
    )

    # Not waiting on anything: not a word about it.
    third = world.plan(MARLEEN, owner=FATIMA, what="Bestuurlijke boete")
    world.dispatch()
    alone = next(
        visible_text(m["blocks"])
        for m in world.double.messages_to(FATIMA.user_id)
        if f"*I-{third}*" in visible_text(m["blocks"])
    )
    assert "wacht op" not in alone


def test_carried_out_names_who_waited_and_only_then(world: World) -> None:
    first = plan_camera(world)
    second = world.plan(MARLEEN, owner=FATIMA, after=first)
    shown = finish(world, JAN, first)
    assert (
        f"*I-{first}* is uitgevoerd. I-{second} wachtte hierop; de eigenaar hoort nu dat die aan de beurt is."
        in shown
    )
    world.dispatch()
    assert any("Jouw beurt" in t for t in texts(world.double.messages_to(FATIMA.user_id)))

    # Nothing waited on the second: the form says it is carried out, and nothing about anyone waiting.
    shown = finish(world, FATIMA, second)
    assert f"*I-{second}* is uitgevoerd." in shown
    assert "wacht" not in shown and "eigenaar" not in shown


def test_carried_out_with_two_waiting_uses_the_plural(world: World) -> None:
    first = plan_camera(world)
    second = world.plan(MARLEEN, owner=FATIMA, after=first)
    third = world.plan(MARLEEN, owner=MARLEEN, what="Bestuurlijke boete", after=first)
    shown = finish(world, JAN, first)
    assert (
        f"*I-{first}* is uitgevoerd. I-{second}, I-{third} wachtten hierop; "
        "hun eigenaars horen nu dat ze aan de beurt zijn." in shown
    )


def test_a_case_is_named_by_its_number_and_title(world: World) -> None:
    loods = world.case["loods"]
    number = world.plan(MARLEEN, owner=FATIMA)
    world.dispatch()
    proposal = texts(world.double.messages_to(FATIMA.user_id))
    assert any(f"op casus {loods} (C-2026-0007 loods Waalhaven), ronde 1" in t for t in proposal), proposal
    card = visible_text(world.command(FATIMA, f"interventie I-{number}")["blocks"])
    assert f"Casus {loods} (C-2026-0007 loods Waalhaven) · " in card
    thread = texts(world.double.messages_in(CHANNEL))  # the case's thread in the partnership channel
    assert any(f"op casus {loods} (C-2026-0007 loods Waalhaven)" in t for t in thread), thread

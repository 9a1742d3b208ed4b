"""Demo scene: the RIEC's coordinator checks how Samen runs — messages waiting or failed, the database —
and a partner without the role is told that this is for coordinators."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.authz import CLI_ACTOR, Role
from bot.partners import service as partners
from bot.partners.models import PartnerType

if TYPE_CHECKING:
    from bot.demo import Stage

TEAM = "T0SAMEN"


def scene_operations(stage: Stage) -> None:
    nl = stage.language == "nl"
    stage.title("Hoe draait Samen?" if nl else "How is Samen running?")
    ruud, jan = stage.people["ruud"], stage.people["jan"]
    _ensure_members(stage)
    stage.at("2026-12-11 09:00")
    stage.narrate(
        f"Vrijdag 09:00. {ruud.name}, coördinator bij het RIEC, kijkt of alle berichten op tijd de deur uit "
        "gaan"
        if nl
        else f"Friday 09:00. {ruud.name}, coordinator at the RIEC, checks that every message leaves on time"
    )
    stage.command("ruud", "/samen", "status")
    stage.narrate(
        f"{jan.name} is deelnemer, geen coördinator" if nl else f"{jan.name} is a member, not a coordinator"
    )
    stage.command("jan", "/samen", "status")


def _ensure_members(stage: Stage) -> None:
    """Ruud coordinates at the RIEC and Jan works at the politie, whatever scenes ran before."""
    ruud, jan = stage.people["ruud"], stage.people["jan"]
    with stage.services.session() as session:
        for person, kind, role in (
            (ruud, PartnerType.RIEC, Role.COORDINATOR),
            (jan, PartnerType.POLITIE, Role.MEMBER),
        ):
            if partners.find_member(session, team_id=TEAM, user_id=person.user_id) is not None:
                continue
            partner = partners.find_partner(session, name=person.partner) or partners.create_partner(
                session, actor=CLI_ACTOR, name=person.partner, partner_type=kind, purpose="demo"
            )
            assert partner.id is not None
            partners.add_member(
                session,
                actor=CLI_ACTOR,
                partner_id=partner.id,
                team_id=TEAM,
                user_id=person.user_id,
                role=role,
                display_name=person.name,
                purpose="demo",
            )

"""Demo scene: how long Samen keeps what the partners share. Jan (a member) sees the periods; Ruud (the
RIEC's coordinator) also sees what tonight's retention run deletes or anonymises."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.demo.scene_operations import _ensure_members

if TYPE_CHECKING:
    from bot.demo import Stage


def scene_privacy(stage: Stage) -> None:
    nl = stage.language == "nl"
    stage.title("Hoe lang bewaart Samen het?" if nl else "How long does Samen keep it?")
    ruud, jan = stage.people["ruud"], stage.people["jan"]
    _ensure_members(stage)
    stage.at("2026-12-11 09:30")
    stage.narrate(
        f"09:30. {jan.name} wil weten wat er met zijn signalen gebeurt als er niets mee gedaan wordt"
        if nl
        else f"09:30. {jan.name} wants to know what happens to his signals when nothing is done with them"
    )
    stage.command("jan", "/samen", "privacy")
    stage.narrate(
        f"{ruud.name}, coördinator, ziet ook wat er vannacht verdwijnt"
        if nl
        else f"{ruud.name}, coordinator, also sees what goes tonight"
    )
    stage.command("ruud", "/samen", "privacy")

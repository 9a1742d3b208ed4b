"""Demo scene, the last one: the week's digest for the partnership channel, printed as text, with its
charts saved as PNG files (outside the demo's working directory, which it leaves empty) and their paths
printed."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from bot import clock
from bot.digest.figures import figures
from bot.digest.service import message_context
from bot.digest.timing import last_week

if TYPE_CHECKING:
    from bot.demo import Stage


def charts_dir() -> Path:
    return Path(tempfile.gettempdir()) / "samen-demo-charts"


def scene_digest(stage: Stage) -> None:
    from bot.digest.charts import charts

    nl = stage.language == "nl"
    stage.title("Het weekoverzicht" if nl else "The weekly digest")
    stage.at("2026-12-11 15:00")  # SAMEN_DIGEST_AT's default: Friday 15:00
    stage.narrate(
        "Vrijdag 15:00: Samen zet de week in het partnerschapskanaal, stukje bij beetje"
        if nl
        else "Friday 15:00: Samen posts the week to the partnership channel, step by step"
    )
    settings = stage.services.settings
    with stage.services.session(read_only=True) as session:
        found = figures(session, last_week(clock.now(session), settings.timezone), viewer=None)
    drawn = charts(found, stage.language)
    message = stage.services.renderer.render(
        "digest_message.json.j2",
        stage.language,
        **message_context(found, for_channel=True, charts=len(drawn)),
    )
    stage.bot_says(message["blocks"])
    if not drawn:
        return
    folder = charts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for chart in drawn:
        path = folder / chart.filename
        path.write_bytes(chart.png)
        stage.out.write(f"    [{'grafiek' if nl else 'chart'}] {chart.title}: {path}\n")

"""The digest's charts as PNG bytes: drawn with matplotlib (Agg), labelled in the reader's language.

matplotlib is imported inside `draw_*` only: a process that never draws (the web app, an idle worker)
never loads it (tests/test_digest.py checks that building the app leaves it out of sys.modules).

Made to be read on a phone: 1200 × 825 pixels, text of at least 15 points at 150 dpi (about 3 mm on a
phone screen that shows the image at its width), few bars, a legend under the chart.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bot.digest.figures import DigestFigures
from bot.i18n import N_, t
from bot.vocabulary import FOCUS_LABELS, FocusElement

WIDTH_INCHES: Final = 8.0
HEIGHT_INCHES: Final = 5.5
DPI: Final = 150
FONT_POINTS: Final = 15
# One colour per focus element, distinguishable with common colour blindness (Okabe–Ito).
FOCUS_COLOURS: Final[dict[FocusElement, str]] = {
    FocusElement.OPROLLEN: "#0072B2",
    FocusElement.AFPAKKEN: "#E69F00",
    FocusElement.VERDIENMODEL_VERSTOREN: "#009E73",
    FocusElement.CARRIERES_VOORKOMEN: "#CC79A7",
    FocusElement.WEERBAARHEID: "#56B4E9",
}

FOCUS_TITLE: Final = N_("Interventions carried out per focus element, per week")
OPEN_TITLE: Final = N_("Open and carried out interventions, last 12 weeks")
WEEK: Final = N_("Week")
INTERVENTIONS: Final = N_("Interventions")
OPEN_LABEL: Final = N_("Open at the end of the week")
DONE_LABEL: Final = N_("Carried out in the week")


@dataclass(frozen=True)
class Chart:
    name: str  # "focus" or "open": part of the file name and the outbox key
    title: str  # translated
    filename: str
    png: bytes


def charts(figures: DigestFigures, language: str) -> list[Chart]:
    """The charts worth showing: none for a period without any interventions to draw."""
    made: list[Chart] = []
    if figures.quiet:
        return made
    if figures.has_focus_chart:
        made.append(draw_focus(figures, language))
    if figures.has_open_chart:
        made.append(draw_open(figures, language))
    return made


def _pyplot() -> Any:
    # matplotlib keeps its font cache under MPLCONFIGDIR (else ~/.cache and ~/.config): a service account's
    # home may be read-only or absent, and the demo must leave its working directory empty.
    os.environ.setdefault("MPLCONFIGDIR", str(Path(tempfile.gettempdir()) / "samen-matplotlib"))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.size": FONT_POINTS,
            "axes.titlesize": FONT_POINTS + 2,
            "axes.labelsize": FONT_POINTS,
            "xtick.labelsize": FONT_POINTS - 1,
            "ytick.labelsize": FONT_POINTS,
            "legend.fontsize": FONT_POINTS - 1,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return plt


def _png(plt: Any, figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def _integer_axis(axes: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axes.yaxis.set_major_locator(MaxNLocator(integer=True))


def draw_focus(figures: DigestFigures, language: str) -> Chart:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(WIDTH_INCHES, HEIGHT_INCHES), layout="constrained")
    positions = list(range(len(figures.weeks)))
    bottom = [0] * len(positions)
    for focus in FocusElement:
        series = figures.finished_per_week.get(focus, [0] * len(positions))
        if not any(series):
            continue
        axes.bar(
            positions,
            series,
            bottom=bottom,
            color=FOCUS_COLOURS[focus],
            label=t(language, FOCUS_LABELS[focus]),
            width=0.75,
        )
        bottom = [b + s for b, s in zip(bottom, series, strict=True)]
    title = t(language, FOCUS_TITLE)
    axes.set_title(title, loc="left", wrap=True)
    axes.set_xlabel(t(language, WEEK))
    axes.set_ylabel(t(language, INTERVENTIONS))
    axes.set_xticks(positions, figures.weeks, rotation=45)
    _integer_axis(axes)
    figure.legend(loc="outside lower center", ncols=2, frameon=False)
    return Chart("focus", title, f"samen-{figures.period.last_day.isoformat()}-focus.png", _png(plt, figure))


def draw_open(figures: DigestFigures, language: str) -> Chart:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(WIDTH_INCHES, HEIGHT_INCHES), layout="constrained")
    positions = list(range(len(figures.weeks)))
    axes.bar(
        positions,
        figures.finished_totals_per_week(),
        color="#009E73",
        width=0.6,
        label=t(language, DONE_LABEL),
    )
    axes.plot(
        positions,
        figures.open_per_week,
        color="#D55E00",
        marker="o",
        linewidth=3,
        markersize=8,
        label=t(language, OPEN_LABEL),
    )
    title = t(language, OPEN_TITLE)
    axes.set_title(title, loc="left", wrap=True)
    axes.set_xlabel(t(language, WEEK))
    axes.set_ylabel(t(language, INTERVENTIONS))
    axes.set_xticks(positions, figures.weeks, rotation=45)
    axes.set_ylim(bottom=0)
    _integer_axis(axes)
    figure.legend(loc="outside lower center", ncols=2, frameon=False)
    return Chart("open", title, f"samen-{figures.period.last_day.isoformat()}-open.png", _png(plt, figure))

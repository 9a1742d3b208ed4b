"""The digest's charts as PNG bytes: drawn with matplotlib (Agg), labelled in the reader's language.

Drawn in a short-lived child process (`python -m bot.digest.charts`): matplotlib and numpy take some
60 MB that Python would keep for good in a long-running worker or web process after its first digest; a
child gives all of it back when it ends. The child is given only the chart series (`Series`), not the
digest's text. No long-running process ever imports matplotlib (tests/test_digest.py,
tests/test_memory.py).

Made to be read on a phone: 1200 × 825 pixels, text of at least 15 points at 150 dpi (about 3 mm on a
phone screen that shows the image at its width), few bars, a legend under the chart.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from bot.i18n import N_, t
from bot.vocabulary import FOCUS_LABELS, FocusElement

if TYPE_CHECKING:
    from bot.digest.figures import DigestFigures

WIDTH_INCHES: Final = 8.0
HEIGHT_INCHES: Final = 5.5
DPI: Final = 150
FONT_POINTS: Final = 15
# Starting Python and importing matplotlib takes 1–3 s; far more means the child is stuck.
DRAW_TIMEOUT_SECONDS: Final = 120
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


@dataclass(frozen=True)
class Series:
    """What the charts show, and all that the drawing child process is given."""

    weeks: list[str]
    finished_per_week: dict[FocusElement, list[int]]
    finished_totals: list[int]
    open_per_week: list[int]
    last_day: date
    focus: bool  # the chart of interventions carried out per focus element
    open: bool  # the chart of open and carried out interventions


def series(figures: DigestFigures) -> Series:
    return Series(
        weeks=list(figures.weeks),
        finished_per_week={focus: list(values) for focus, values in figures.finished_per_week.items()},
        finished_totals=figures.finished_totals_per_week(),
        open_per_week=list(figures.open_per_week),
        last_day=figures.period.last_day,
        focus=figures.has_focus_chart,
        open=figures.has_open_chart,
    )


def charts(figures: DigestFigures, language: str) -> list[Chart]:
    """The charts worth showing, drawn in a child process: none for a period without any interventions."""
    if figures.chart_count == 0:
        return []
    # A fresh interpreter (`python -m bot.digest.charts`), not a fork, which would copy the threads' locks
    # (the dispatcher's pool, the database connections) in whatever state they are; and not
    # multiprocessing, whose spawn method leaves a resource-tracker process (~10 MB) behind for good.
    data = series(figures)
    request = {
        "language": language,
        "weeks": data.weeks,
        "finished_per_week": {focus.value: values for focus, values in data.finished_per_week.items()},
        "finished_totals": data.finished_totals,
        "open_per_week": data.open_per_week,
        "last_day": data.last_day.isoformat(),
        "focus": data.focus,
        "open": data.open,
    }
    asked = json.dumps(request, sort_keys=True)
    with _DRAWN_LOCK:
        pending = _DRAWN.get(asked)
        mine = pending is None
        if pending is None:
            pending = _DRAWN[asked] = Future()
            while len(_DRAWN) > DRAWN_KEPT:
                _DRAWN.popitem(last=False)
    if mine:
        try:
            pending.set_result(_draw_in_child(asked))
        except BaseException as exc:
            with _DRAWN_LOCK:  # a failure is not kept: the next one asking draws again
                if _DRAWN.get(asked) is pending:
                    del _DRAWN[asked]
            pending.set_exception(exc)
            raise
    return pending.result(timeout=DRAW_TIMEOUT_SECONDS)


def _draw_in_child(asked: str) -> list[Chart]:
    child = subprocess.run(
        [sys.executable, "-m", "bot.digest.charts"],
        input=asked,
        capture_output=True,
        text=True,
        timeout=DRAW_TIMEOUT_SECONDS,
        check=True,
    )
    return [
        Chart(made["name"], made["title"], made["filename"], base64.b64decode(made["png"]))
        for made in json.loads(child.stdout)
    ]


# The same series in the same language draw the same pictures: the last few drawn are kept (a chart is
# ~50 KB), and one being drawn is awaited rather than drawn again, so people asking for one period's
# overview while nothing changed do not each start a child.
DRAWN_KEPT: Final = 4
_DRAWN: OrderedDict[str, Future[list[Chart]]] = OrderedDict()
_DRAWN_LOCK = threading.Lock()


def _draw_as_asked() -> None:
    """The child process: a request (JSON) on stdin, the charts (JSON, PNG in base64) on stdout."""
    request = json.load(sys.stdin)
    data = Series(
        weeks=request["weeks"],
        finished_per_week={FocusElement(k): v for k, v in request["finished_per_week"].items()},
        finished_totals=request["finished_totals"],
        open_per_week=request["open_per_week"],
        last_day=date.fromisoformat(request["last_day"]),
        focus=request["focus"],
        open=request["open"],
    )
    drawn = [
        {**vars(chart), "png": base64.b64encode(chart.png).decode("ascii")}
        for chart in draw(data, request["language"])
    ]
    json.dump(drawn, sys.stdout)


def draw(data: Series, language: str) -> list[Chart]:
    """In the child process (or anywhere matplotlib may stay loaded): the charts `data` asks for."""
    made: list[Chart] = []
    if data.focus:
        made.append(draw_focus(data, language))
    if data.open:
        made.append(draw_open(data, language))
    return made


def _figure() -> Any:
    """A new figure of the charts' size. matplotlib's object interface, not pyplot: the child then
    imports neither pyplot nor a GUI backend's machinery (~0.6 s of the child's ~2 s)."""
    # matplotlib keeps its font cache under MPLCONFIGDIR (else ~/.cache and ~/.config): a service account's
    # home may be read-only or absent, and the demo must leave its working directory empty.
    os.environ.setdefault("MPLCONFIGDIR", str(Path(tempfile.gettempdir()) / "samen-matplotlib"))
    import matplotlib
    from matplotlib.figure import Figure

    matplotlib.rcParams.update(
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
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), layout="constrained")
    return figure, figure.subplots()


def _png(figure: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)  # the figure draws on Agg's canvas from now on
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _integer_axis(axes: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axes.yaxis.set_major_locator(MaxNLocator(integer=True))


def draw_focus(data: Series, language: str) -> Chart:
    figure, axes = _figure()
    positions = list(range(len(data.weeks)))
    bottom = [0] * len(positions)
    for focus in FocusElement:
        values = data.finished_per_week.get(focus, [0] * len(positions))
        if not any(values):
            continue
        axes.bar(
            positions,
            values,
            bottom=bottom,
            color=FOCUS_COLOURS[focus],
            label=t(language, FOCUS_LABELS[focus]),
            width=0.75,
        )
        bottom = [b + s for b, s in zip(bottom, values, strict=True)]
    title = t(language, FOCUS_TITLE)
    axes.set_title(title, loc="left", wrap=True)
    axes.set_xlabel(t(language, WEEK))
    axes.set_ylabel(t(language, INTERVENTIONS))
    axes.set_xticks(positions, data.weeks, rotation=45)
    _integer_axis(axes)
    figure.legend(loc="outside lower center", ncols=2, frameon=False)
    return Chart("focus", title, f"samen-{data.last_day.isoformat()}-focus.png", _png(figure))


def draw_open(data: Series, language: str) -> Chart:
    figure, axes = _figure()
    positions = list(range(len(data.weeks)))
    axes.bar(
        positions,
        data.finished_totals,
        color="#009E73",
        width=0.6,
        label=t(language, DONE_LABEL),
    )
    axes.plot(
        positions,
        data.open_per_week,
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
    axes.set_xticks(positions, data.weeks, rotation=45)
    axes.set_ylim(bottom=0)
    _integer_axis(axes)
    figure.legend(loc="outside lower center", ncols=2, frameon=False)
    return Chart("open", title, f"samen-{data.last_day.isoformat()}-open.png", _png(figure))


if __name__ == "__main__":
    _draw_as_asked()

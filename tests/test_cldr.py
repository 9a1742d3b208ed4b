"""Samen formats dates, durations, lists and numbers from the CLDR subset it carries (bot/cldr.py):
the same text as Babel's full data gives, without the ~8 MB Babel keeps once a language is loaded."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.dates import format_datetime
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.units import format_unit

from bot import cldr

ROOT = Path(__file__).resolve().parent.parent
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# The patterns the code and the templates use, and a few more that read names (months, days, periods).
PATTERNS = (
    "dd-MM-y HH:mm",
    "d MMM y, HH:mm",
    "EEEE d MMMM HH:mm",
    "EEEE d MMMM",
    "HH:mm",
    "d MMMM y",
    "EEE h:mm a",
)
MOMENTS = [
    datetime(2026, month, day, hour, 40, tzinfo=UTC)
    for month, day, hour in ((1, 1, 0), (4, 27, 9), (12, 4, 21))
]


def derived() -> dict[str, object]:
    spec = importlib.util.spec_from_file_location(
        "derive_locale_data", ROOT / "scripts" / "derive_locale_data.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(json.loads(json.dumps(module.derive(), ensure_ascii=False, sort_keys=True)))


def test_the_carried_data_is_what_the_locked_babel_derives() -> None:
    carried = json.loads(cldr.CARRIED.read_text(encoding="utf-8"))
    assert carried == derived(), "Babel's data changed: run scripts/derive_locale_data.py and commit it"


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_format_reads_as_with_babels_full_data(language: str) -> None:
    full, carried = Locale.parse(language), cldr.locale(language)
    for moment in MOMENTS:
        for pattern in PATTERNS:
            assert format_datetime(moment, pattern, tzinfo=AMSTERDAM, locale=carried) == format_datetime(
                moment, pattern, tzinfo=AMSTERDAM, locale=full
            )
    for amount, unit in (
        (1, "duration-minute"),
        (2.5, "duration-minute"),
        (18, "duration-second"),
        (1, "duration-hour"),
    ):
        assert format_unit(amount, unit, length="long", locale=carried) == format_unit(
            amount, unit, length="long", locale=full
        )
    for items in (["a"], ["a", "b"], ["trekker", "dienstdoenden", "alarmkanaal"]):
        assert format_list(items, locale=carried) == format_list(items, locale=full)
    for number in (0.3, 2.5, 1234.5):
        assert format_decimal(number, locale=carried) == format_decimal(number, locale=full)


def test_a_language_samen_does_not_carry_formats_as_english() -> None:
    assert format_unit(2, "duration-minute", length="long", locale=cldr.locale("de")) == "2 minutes"


def test_rendering_never_loads_babels_full_locale_data() -> None:
    # In a fresh process (this one has loaded Babel's data for the comparisons above).
    script = (
        "from datetime import UTC, datetime\n"
        "from babel import localedata\n"
        "from bot.i18n import format_minutes\n"
        "from bot.render import Renderer\n"
        "env = Renderer().environment('nl')\n"
        "moment = datetime(2026, 12, 4, 20, 40, tzinfo=UTC)\n"
        "print(env.from_string('{{ when(moment) }}').render(moment=moment))\n"
        "print(format_minutes(2.5, 'nl'), format_minutes(0.3, 'en'))\n"
        "print(sorted(localedata._cache))\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert shown.stdout.splitlines() == ["04-12-2026 21:40", "2,5 minuten 18 seconds", "[]"], shown.stderr

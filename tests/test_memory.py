"""Memory of the long-running processes: drawing the digest's charts leaves matplotlib out of them, and
the memory Python frees goes back to the system. The figures themselves (idle, after a digest, growth
over load rounds) come from bench/memory.py, which starts the real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DRAW_A_DIGEST = """
import json, sys
from datetime import UTC, datetime
from bot.digest.charts import charts
from bot.digest.figures import DigestFigures
from bot.digest.timing import last_week
from bot.vocabulary import FocusElement
from zoneinfo import ZoneInfo

def rss():
    return next(int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith('VmRSS'))

weeks = ['W%02d' % n for n in range(1, 13)]
found = DigestFigures(
    period=last_week(datetime(2026, 3, 13, 14, 0, tzinfo=UTC), ZoneInfo('Europe/Amsterdam')),
    signals_by_category=[], cases_started=1, cases_closed=0, finished=[], partners=[], lessons=[],
    alerts=[], checkins=None, goals=[], weeks=weeks,
    finished_per_week={FocusElement.OPROLLEN: [n % 3 for n in range(12)]}, open_per_week=[4] * 12,
)
before = rss()
drawn = charts(found, 'nl')
print(json.dumps({
    'matplotlib': 'matplotlib' in sys.modules or 'numpy' in sys.modules,
    'pngs': [chart.png[:8].hex() for chart in drawn],
    'names': [chart.filename for chart in drawn],
    'grew_mb': rss() - before,
}))
"""


def test_a_process_that_draws_the_digest_charts_never_loads_matplotlib() -> None:
    result = subprocess.run(
        [sys.executable, "-c", DRAW_A_DIGEST], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    drawn = json.loads(result.stdout.splitlines()[-1])
    assert drawn["names"] == ["samen-2026-03-13-focus.png", "samen-2026-03-13-open.png"]
    assert drawn["pngs"] == ["89504e470d0a1a0a"] * 2, "two PNG files came back from the child"
    assert drawn["matplotlib"] is False, "matplotlib (and numpy) stayed in the drawing process"
    assert drawn["grew_mb"] < 10, f"drawing cost the process {drawn['grew_mb']:.1f} MB (matplotlib is ~60)"


FREE_AND_RELEASE = """
import json
from bot.memory import release_free_memory

def rss():
    return next(int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith('VmRSS'))

blocks = [bytes(2000) for _ in range(40_000)]  # ~80 MB from malloc's heap (Python's own pools: <= 512 B)
pin = bytes(2000)  # above them in the heap: the free space below cannot shrink by itself
del blocks
freed = rss()
released = release_free_memory()
print(json.dumps({'released': released, 'dropped_mb': freed - rss()}))
"""


def test_memory_python_freed_goes_back_to_the_system() -> None:
    result = subprocess.run(
        [sys.executable, "-c", FREE_AND_RELEASE], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout)
    assert measured["released"] is True, "glibc's malloc_trim was not found (Linux images use glibc)"
    assert measured["dropped_mb"] > 40, f"only {measured['dropped_mb']:.1f} MB went back"


LOGGING_ONLY = """
import json, logging, sys
import bot.logs
bot.logs.configure()
logging.getLogger('samen.test').error('a line with an error', exc_info=ZeroDivisionError('x'))
loaded = 'rich' in sys.modules
twisted = 'twisted' in sys.modules or 'zope.interface' in sys.modules
from typer.testing import CliRunner
from bot.cli import cli
help_text = CliRunner().invoke(cli, ['--help']).output
print(json.dumps({'rich_with_logging': loaded, 'twisted_with_logging': twisted,
                  'help': 'Usage' in help_text}))
"""


def test_logging_leaves_rich_and_twisted_out_and_the_cli_help_still_works() -> None:
    """structlog would load rich (~4 MB in every process) for pretty tracebacks Samen never writes, and
    Twisted (~1.8 MB; installed beside the suite's Synapse) for its Twisted loggers; typer still uses rich
    for `samen --help`."""
    result = subprocess.run(
        [sys.executable, "-c", LOGGING_ONLY], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.splitlines()[-1])
    assert found == {"rich_with_logging": False, "twisted_with_logging": False, "help": True}
    assert '"exception": "Traceback' in result.stderr, "the error line still carries its traceback"


def test_the_allocator_takes_the_arena_limit() -> None:
    """`samen run` and `samen worker` limit glibc's arenas before their threads start (bot/memory.py)."""
    from bot.memory import limit_arenas

    assert limit_arenas() is True

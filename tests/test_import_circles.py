"""scripts/import_circles.py counts circles as issue 17 does: imports inside functions count, those under
`if TYPE_CHECKING:` do not, and a node is a package or module directly under bot/ or commands/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "import_circles.py"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def count(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True, timeout=60, check=False
    )


def test_an_import_inside_a_function_closes_a_circle_but_one_under_type_checking_does_not(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "bot/__init__.py": "",
            "bot/config.py": "import typing\nif typing.TYPE_CHECKING:\n    from bot.alerts import x\n",
            "bot/alerts/__init__.py": "",
            "bot/alerts/service.py": "from bot.config import y\n",
            "commands/__init__.py": "",
        },
    )
    clean = count(tmp_path)
    assert clean.returncode == 0, clean.stdout
    assert "0 import circle(s)" in clean.stdout

    write(
        tmp_path,
        {
            "bot/config.py": "def parse():\n    from bot.alerts.timing import parse_escalation\n",
            "commands/signals.py": "from bot import config\n",
        },
    )
    circled = count(tmp_path)
    assert circled.returncode == 1
    assert "circle 1: 2 nodes: bot.alerts, bot.config" in circled.stdout
    assert "bot.config → bot.alerts  (bot/config.py:2)" in circled.stdout
    assert "commands.signals" not in circled.stdout.split("\n")[0], "it imports into the circle, is not in it"

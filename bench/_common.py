"""What the benches share: the Slack double, free loopback ports, percentiles, child processes.

Benches run as scripts (`.venv/bin/python bench/<name>.py` from the repository root), so this module
puts the repository root and tests/ (for the Slack double) on sys.path itself.
"""

from __future__ import annotations

import base64
import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
for _path in (ROOT, ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

if TYPE_CHECKING:
    from slackdouble import SlackDouble

LOOPBACK = "127.0.0.1"
BOT_TOKEN = "xoxb-bench-token"
SIGNING_SECRET = "bench-signing-secret-0123456789"


def samen_env(*, database_url: str, api_url: str) -> dict[str, str]:
    """The settings Samen needs, as environment variables: throw-away values, loopback only."""
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "DATABASE_URL": database_url,
        "SAMEN_LANGUAGE": "nl",
        "SAMEN_TIMEZONE": "Europe/Amsterdam",
        # A fresh key in Fernet's format (32 random bytes, url-safe base64) for this run only.
        "SAMEN_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode("ascii"),
    }


# -- the Slack double ------------------------------------------------------------------------------


@contextlib.contextmanager
def slack_double() -> Iterator[SlackDouble]:
    """A started Slack double on a loopback port, stopped on the way out."""
    from slackdouble import SlackDouble

    with SlackDouble() as double:
        yield double


# -- ports and processes ---------------------------------------------------------------------------


def free_port() -> int:
    """A loopback TCP port nobody listens on now (the kernel's choice; tiny race until it is bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def start_process(
    argv: Sequence[str], *, env: dict[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    """A child in its own process group (so a Ctrl-C in the terminal reaches only us, and we decide
    how it stops), its output to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            list(argv), env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM to the child (gunicorn's master stops its workers), then SIGKILL to its own group."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
    # The group is the child's own (start_new_session): workers left behind go with it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)


def wait_until(
    ready: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode}" + _tail(log))
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready after {timeout:.0f}s" + _tail(log))


def _tail(log: Path | None, lines: int = 30) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text("utf-8", "replace").splitlines()[-lines:]
    return f"; last lines of {log}:\n" + "\n".join("  " + line for line in text)


def http_ok(url: str) -> bool:
    """GET url answered 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return 200 <= answer.status < 300
    except (OSError, urllib.error.URLError):
        return False


def http_answers(host: str, port: int) -> bool:
    """Something speaking HTTP listens there (any status counts: the server is up)."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, urllib.error.URLError):
        return False


def child_env(**values: str) -> dict[str, str]:
    """The environment for a child: ours, with the repository importable and `values` set."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.update(values)
    return env


def stop_on_sigterm() -> None:
    """SIGTERM stops a bench as Ctrl-C does: through its clean-up (servers, throw-away database)."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


# -- statistics ------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0–100), linearly interpolated between the closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def machine_notes() -> str:
    """One line about where the figures come from: they mean little without it."""
    import platform

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = ""
    with contextlib.suppress(OSError, AttributeError):
        load = " load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{python}, {os.cpu_count()} CPU(s) ({cpu}),{load}"


@contextlib.contextmanager
def throwaway_postgres(admin_url: str) -> Iterator[str]:
    """A new PostgreSQL database `samen_bench_<random>` beside `admin_url`'s, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"samen_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

"""bench/alert_fanout.py --chat matrix at a small size: 5 partner rooms, one warm-up alert and one measured.

The bench itself takes a minute and judges timings on a quiet machine; here it must only work end to end on
the suite's Synapse — `samen db upgrade`, `samen partners import` and `samen run` as processes, every room
alerted — and print its figures. Timings are not asserted: the suite shares the CPUs with other work.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pytest
from homeserver import Homeserver

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import alert_fanout


def test_the_matrix_fanout_bench_alerts_every_room_and_prints_its_figures(
    homeserver: Homeserver, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(partners=5, runs=1, concurrency=None, verbose=True, keep_logs=False)
    alert_fanout.matrix_bench(args, sqlite_url, homeserver)
    out = capsys.readouterr().out
    assert re.search(r"samen run .*/readyz after [\d.]+ s, in all 6 rooms after [\d.]+ s", out), out
    assert re.search(r"alert 1: first room +-?\d+ ms, last +\d+ ms, .*\(5 rooms;", out), out
    assert "raised" in out and "rooms marked sent" in out and "CPU in those" in out, out
    assert re.search(r"1 alerts: first p50 \d+ ms, max \d+ ms; last p50 \d+ ms, max \d+ ms", out), out
    assert re.search(r"target first ≤ 1 s: (PASS|FAIL)", out), out
    assert re.search(r"target last ≤ 3 s: (PASS|FAIL)", out), out

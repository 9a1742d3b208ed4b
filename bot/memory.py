"""Giving freed memory back to the operating system in the long-running processes.

glibc's allocator keeps the memory that Python frees — start-up's imports and parsing, a round of work in
the dispatcher's threads — in its heaps for later, so a process's resident size only ever goes up.
`malloc_trim(0)` returns the free pages to the system. `samen worker` and `samen run` do this every
half minute in a daemon thread (a few milliseconds each time); in the bench (bench/memory.py) that is
4 MB less for an idle `samen run`. Without glibc (macOS, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from collections.abc import Callable
from typing import Final

logger = logging.getLogger(__name__)

TRIM_EVERY_SECONDS: Final = 30.0
# The first release once start-up's background work (the Socket Mode connection, the scheduler's first
# runs, the dispatcher's first claim) has made its garbage too.
FIRST_TRIM_SECONDS: Final = 5.0


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


# glibc's mallopt parameter for the most arenas, and how many Samen's processes use.
M_ARENA_MAX: Final = -8
ARENAS: Final = 2


def limit_arenas(arenas: int = ARENAS) -> bool:
    """glibc gives threads that allocate at once arenas of their own (up to eight per core), and the free
    space scattered over many arenas stays resident between trims. Samen's threads mostly wait on the
    network, so two arenas serve them; `samen run` holds about 1 MB less after a digest (bench/memory.py).
    Applies to arenas made from now on; False where the allocator has no such setting."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system now; False where the allocator cannot."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def keep_releasing(every: float = TRIM_EVERY_SECONDS, first: float = FIRST_TRIM_SECONDS) -> threading.Event:
    """Release free memory after `first` seconds and then every `every` seconds, until the returned event
    is set. Limits the allocator's arenas first (`limit_arenas`)."""
    limit_arenas()
    stop = threading.Event()
    trim = _malloc_trim()
    if trim is None:
        logger.info("the allocator cannot give memory back here (no glibc malloc_trim)")
        return stop

    def loop() -> None:
        wait = first
        while not stop.wait(wait):
            trim(0)
            wait = every

    threading.Thread(target=loop, name="samen-memory", daemon=True).start()
    return stop

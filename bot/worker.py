"""The worker: the scheduler (and, with the platform issue, the outbox dispatcher) in one process.

Jobs are plain functions in bot/jobs/ that read the database and queue outbox rows; this module only
starts and stops them. Any number of workers may run against one PostgreSQL database.
"""

from __future__ import annotations

import logging
import threading

from apscheduler.schedulers.background import BackgroundScheduler

from bot.runtime import Services

logger = logging.getLogger(__name__)


class Worker:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self._stopped = threading.Event()

    def start(self) -> None:
        self.scheduler.start()
        logger.info("worker started with %d scheduled jobs", len(self.scheduler.get_jobs()))

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self._stopped.set()

    def wait(self) -> None:
        self._stopped.wait()

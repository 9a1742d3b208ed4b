"""The worker: the outbox dispatcher and the scheduler, in one process.

Any number of workers may run against one PostgreSQL database: the dispatcher claims lanes with
leases and the scheduler claims each job's time slot, so nothing is sent or run twice. The worker speaks
to people through the `Chat` its caller hands it (Slack: `bot.slack.chat.SlackChat.for_services`).
"""

from __future__ import annotations

import logging
import threading
import uuid
from functools import partial

from apscheduler.schedulers.background import BackgroundScheduler

from bot.chat import Chat
from bot.jobs import all_jobs
from bot.outbox.dispatcher import Dispatcher, DispatcherConfig
from bot.outbox.failures import tell_coordinators
from bot.reach.outbox import couriers
from bot.runtime import Services
from bot.scheduler import ScheduledJob, run_once

logger = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        services: Services,
        chat: Chat,
        *,
        config: DispatcherConfig | None = None,
        jobs: list[ScheduledJob] | None = None,
    ) -> None:
        self.services = services
        self.worker_id = f"{uuid.uuid4().hex[:8]}"
        config = config or DispatcherConfig(
            concurrency=services.settings.outbox_concurrency,
            lease_seconds=services.settings.outbox_lease_seconds,
        )
        self.dispatcher = Dispatcher(
            services,
            chat,
            config=config,
            worker_id=self.worker_id,
            on_permanent_failure=partial(tell_coordinators, services),
            couriers=couriers(services),  # SMS and e-mail, for the ways that are on (bot/reach)
        )
        self.scheduler = BackgroundScheduler(timezone=services.settings.timezone)
        self.jobs = all_jobs(services.settings) if jobs is None else jobs
        self._stopped = threading.Event()

    def start(self) -> None:
        zone = self.services.settings.timezone
        for job in self.jobs:
            self.scheduler.add_job(
                run_once,
                job.trigger(zone),
                args=(self.services, job),
                kwargs={"worker": self.worker_id},
                id=job.name,
                coalesce=True,
                misfire_grace_time=300,
                max_instances=1,
            )
        self.scheduler.start()
        self.dispatcher.start()
        logger.info(
            "worker %s started: %d scheduled jobs, dispatcher running", self.worker_id, len(self.jobs)
        )

    def stop(self) -> None:
        """Let the running jobs finish, then the sends under way; the lanes go back to the pool."""
        if self._stopped.is_set():
            return
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.dispatcher.stop()
        logger.info("worker %s stopped: sends finished, lanes released", self.worker_id)
        self._stopped.set()

    def wait(self) -> None:
        self._stopped.wait()

"""The worker: the outbox dispatcher and the scheduler, in one process.

Any number of workers may run against one PostgreSQL database: the dispatcher claims lanes with
leases and the scheduler claims each job's time slot, so nothing is sent or run twice.
"""

from __future__ import annotations

import logging
import threading
import uuid
from functools import partial

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient

from bot.jobs import all_jobs
from bot.outbox.dispatcher import ClientSource, Dispatcher, DispatcherConfig
from bot.outbox.failures import tell_coordinators
from bot.runtime import Services
from bot.scheduler import ScheduledJob, run_once

logger = logging.getLogger(__name__)


def dispatch_client(services: Services) -> WebClient:
    """A WebClient without its own retries: the dispatcher decides when to try again."""
    settings = services.settings
    return WebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10, retry_handlers=[]
    )


def team_clients(services: Services) -> ClientSource | None:
    """Installed in several workspaces (OAuth): a client per workspace; else None (SLACK_BOT_TOKEN)."""
    if not services.settings.oauth:
        return None
    from bot.slack.workspaces.clients import TeamClients

    return TeamClients(services)


class Worker:
    def __init__(
        self,
        services: Services,
        *,
        client: WebClient | None = None,
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
            client or dispatch_client(services),
            config=config,
            worker_id=self.worker_id,
            on_permanent_failure=partial(tell_coordinators, services),
            clients=team_clients(services),
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

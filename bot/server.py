"""Running the bot over HTTP under gunicorn (Bolt's WSGI adapter). Socket Mode: bot/slack/socketmode.py."""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

from bot.config import Settings
from bot.runtime import Services
from bot.slack.app import create_app
from bot.slack.chat import SlackChat
from bot.slack.wsgi import create_wsgi_app
from bot.worker import Worker

logger = logging.getLogger(__name__)


class _RootLogger(GunicornLogger):
    """gunicorn's logger, minus what it adds of its own: its lines go to the root logger that
    `bot.logs.configure` set up in the master (JSON, redacted), which the workers inherit at the fork.

    gunicorn gives "gunicorn.error" a plain-text handler and stops it propagating; a `logconfig_dict`
    would be merged into gunicorn's defaults and replace the root logger's handlers with a plain-text
    one on stdout — the workers would then log Bolt's request bodies unredacted.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
            log.propagate = True


class _Gunicorn(BaseApplication):
    """gunicorn run from Python, so `samen serve` is one command with our own options."""

    def __init__(
        self, settings: Settings, options: dict[str, Any], with_worker: bool, slack_refused: str | None
    ) -> None:
        self.settings = settings
        self.options = options
        self.with_worker = with_worker
        self.slack_refused = slack_refused  # the start-up check's verdict (bot/startup.py), for /readyz
        self.worker: Worker | None = None  # `samen run`: the dispatcher and scheduler in the gunicorn worker
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Built in each gunicorn worker after the fork: database connections must not cross a fork.
        services = Services.build(self.settings, slack_refused=self.slack_refused)
        if self.with_worker:
            # `samen run` over HTTP: the dispatcher shares these services, so an urgent row committed
            # by a request wakes it in-process at once.
            self.worker = Worker(services, SlackChat.for_services(services))
            self.worker.start()
        from commands import register_all  # the features, handed to the chat edge

        return create_wsgi_app(create_app(self.settings, features=register_all, services=services), services)


def serve_http(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    with_worker: bool,
    slack_refused: str | None = None,
) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        # Slack gives us 3 seconds; a request stuck for 30 has long been given up on.
        "timeout": 30,
        "graceful_timeout": 20,
        "accesslog": None,
        "loglevel": logging.getLevelName(logging.getLogger().getEffectiveLevel()).lower(),
        "logger_class": _RootLogger,
        # gunicorn's control socket (for `gunicornc`, in $XDG_RUNTIME_DIR or $HOME/.gunicorn) is not
        # used, and on a read-only root file system it fails with "Control server error".
        "control_socket_disable": True,
        "worker_exit": _stop_worker,
        "child_exit": _forget_worker_metrics,
    }
    _Gunicorn(settings, options, with_worker, slack_refused).run()


def _stop_worker(server: Any, _worker: Any) -> None:
    """In the gunicorn worker, once it stopped serving (SIGTERM): the outbox finishes its sends and
    gives back its lanes, and the scheduler stops, before the process ends."""
    running = getattr(server.app, "worker", None)
    if running is not None:
        running.stop()


def _forget_worker_metrics(_server: Any, worker: Any) -> None:
    """In the master: a finished worker's samples leave the shared directory. Only `samen serve` has
    one (PROMETHEUS_MULTIPROC_DIR); without it prometheus-client's call fails on None."""
    import os

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)

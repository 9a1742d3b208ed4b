"""Running the bot over HTTP under gunicorn (Bolt's WSGI adapter). Socket Mode: bot/socketmode.py."""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from bot.config import Settings
from bot.runtime import Services
from bot.slack.app import create_app
from bot.slack.wsgi import create_wsgi_app
from bot.worker import Worker

logger = logging.getLogger(__name__)


class _Gunicorn(BaseApplication):
    """gunicorn run from Python, so `samen serve` is one command with our own options."""

    def __init__(self, settings: Settings, options: dict[str, Any], with_worker: bool) -> None:
        self.settings = settings
        self.options = options
        self.with_worker = with_worker
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Built in each gunicorn worker after the fork: database connections must not cross a fork.
        services = Services.build(self.settings)
        if self.with_worker:
            # `samen run` over HTTP: the dispatcher shares these services, so an urgent row committed
            # by a request wakes it in-process at once.
            Worker(services).start()
        return create_wsgi_app(create_app(self.settings, services=services), services)


def serve_http(
    settings: Settings, *, host: str, port: int, workers: int, threads: int, with_worker: bool
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
        "loglevel": "info",
        # gunicorn's own lines go through the root logger: JSON and redacted like ours.
        "logconfig_dict": {
            "version": 1,
            "disable_existing_loggers": False,
            "loggers": {"gunicorn.error": {"propagate": True, "handlers": [], "level": "INFO"}},
        },
        "child_exit": _forget_worker_metrics,
    }
    _Gunicorn(settings, options, with_worker).run()


def _forget_worker_metrics(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)

"""The baseline for bench/ack_latency.py: a bare Bolt app that only acks `/samen`, under gunicorn with
exactly the options `samen serve` uses.

    SLACK_SIGNING_SECRET=… SLACK_API_URL=http://127.0.0.1:…/api/ \
        python bench/bare_app.py --port 4000 --workers 2 --threads 8

The options are not copied: `gunicorn_options` runs `bot.server.serve_http` with its gunicorn
application swapped for one that only records the options it is given, so a change to Samen's
gunicorn settings changes the baseline too.
"""

from __future__ import annotations

import argparse
import os
from typing import Any
from unittest import mock

from _common import BOT_TOKEN, LOOPBACK  # also puts the repository on sys.path
from gunicorn.app.base import BaseApplication
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.slack.wsgi import SLACK_PATH


def gunicorn_options(*, host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """The options `samen serve --host … --port … --workers … --threads …` gives gunicorn."""
    import bot.server

    captured: dict[str, Any] = {}

    class _Recorder:
        def __init__(self, _settings: object, options: dict[str, Any], *_rest: object) -> None:
            captured.update(options)

        def run(self) -> None:
            pass

    with mock.patch.object(bot.server, "_Gunicorn", _Recorder):
        bot.server.serve_http(
            None,  # type: ignore[arg-type]  # only handed to the recorder, which ignores it
            host=host,
            port=port,
            workers=workers,
            threads=threads,
            with_worker=False,
        )
    return captured


def create_bare_app(signing_secret: str, api_url: str) -> App:
    """Signature verification and Bolt's dispatch, and nothing else: the floor under any Bolt app.

    Built like Samen's (a WebClient at SLACK_API_URL, no auth.test at start): Bolt's authorization
    still asks auth.test once per worker, and that call must go to the bench's double, not Slack.
    """
    client = WebClient(token=BOT_TOKEN, base_url=api_url)
    app = App(client=client, signing_secret=signing_secret, token_verification_enabled=False)

    @app.command("/samen")
    def samen(ack: Ack) -> None:
        ack()

    return app


class _BareGunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any], signing_secret: str, api_url: str) -> None:
        self.options = options
        self.signing_secret = signing_secret
        self.api_url = api_url
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Built in each worker after the fork, as Samen does.
        return SlackRequestHandler(create_bare_app(self.signing_secret, self.api_url), path=SLACK_PATH)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args()
    options = gunicorn_options(host=args.host, port=args.port, workers=args.workers, threads=args.threads)
    _BareGunicorn(options, os.environ["SLACK_SIGNING_SECRET"], os.environ["SLACK_API_URL"]).run()


if __name__ == "__main__":
    main()

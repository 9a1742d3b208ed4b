"""Thin Bolt listeners, one module per feature, each with `register(app, registry)`."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.registry import Registry
from commands import help, home

FEATURES = (help, home)


def register_all(app: App, registry: Registry) -> None:
    for feature in FEATURES:
        feature.register(app, registry)

"""Thin Bolt listeners, one module per feature, each with `register(app, registry)`."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.registry import Registry
from commands import (
    alignment,
    cases,
    checkins,
    digest,
    help,
    home,
    interventions,
    lifecycle,
    operations,
    partner,
    privacy,
    rugdekking,
    signals,
)

FEATURES = (
    help,
    home,
    partner,
    rugdekking,
    signals,
    cases,
    interventions,
    operations,
    digest,
    checkins,
    alignment,
    privacy,
    lifecycle,
)


def register_all(app: App, registry: Registry) -> None:
    for feature in FEATURES:
        feature.register(app, registry)

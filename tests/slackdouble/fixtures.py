"""Pytest fixtures for the Slack double.

In tests/conftest.py either `pytest_plugins = ["slackdouble.fixtures"]` or
`from slackdouble.fixtures import slack_double`. The marker `allow_slack_violations` is declared in
pyproject.toml ([tool.pytest.ini_options] markers).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import SlackDouble

__all__ = ["slack_double"]


@pytest.fixture
def slack_double(request: pytest.FixtureRequest) -> Iterator[SlackDouble]:
    """A started double, fresh for each test; at teardown, anything Slack would have rejected
    fails the test, unless the test is marked `@pytest.mark.allow_slack_violations` (for tests
    that provoke rejections on purpose)."""
    with SlackDouble() as double:
        yield double
        if request.node.get_closest_marker("allow_slack_violations") is None:
            double.assert_no_violations()

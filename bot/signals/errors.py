"""What the signals domain refuses, as problems a person can fix (bot.problems)."""

from __future__ import annotations

from bot.problems import Problem


class SignalError(Problem):
    """A problem with a signal the person can fix: a message id, its values, the form field it is about."""


class InvalidInput(SignalError):
    pass


class NotFound(SignalError):
    pass

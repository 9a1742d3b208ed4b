"""What a check-in or an alignment refuses, and why: problems the person can fix (bot.problems)."""

from __future__ import annotations

from bot import pii
from bot.problems import Label, Problem


class CheckinError(Problem):
    """A problem with a check-in or an alignment the person can fix. `field` is the form's block it is
    about; a value that is a PersonRef is a person, a tuple of Labels is kinds of data."""


def refuse_personal_data(text: str, field_name: str, problems: list[Problem], message: str) -> None:
    """Add a problem when `text`, shown to others, holds personal data: `message` names the kinds found."""
    findings = pii.find(text)
    if findings:
        kinds = tuple(Label(pii.KIND_LABELS[kind]) for kind in pii.counts(findings))
        problems.append(CheckinError(message, field=field_name, kinds=kinds))

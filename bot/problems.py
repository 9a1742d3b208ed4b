"""A refusal a person can fix: one type raised by every domain, shown by one function.

A `Problem` carries a message id (English, translated when shown), the values that fill its placeholders, and
the form field it is about, if any. Domains raise it (or a subclass that names the case: `UnknownAlert`,
`CapacityExceeded`, …); the chat edge shows it in the person's language, wherever they are — an ephemeral
answer to a command, a message under a clicked button, the error under a form's field — and the listener
answers nothing else, having changed nothing (a domain raises before it writes, or its transaction
rolls back).

Values are shown as people read them: a person (anything with `team_id` and `user_id`, as
`bot.partners.models.PersonRef`) is a mention, a `Label` (or an enum member with a registered label) is
translated, a tuple of those is a list. In a form field's error Slack shows plain text, so there a person is
their id and nothing is markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from markupsafe import Markup

from bot.i18n import t
from bot.mrkdwn import escape, mention

# A form field's error may be at most this long (Slack's limit for response_action "errors" is not
# documented per field; longer ones are cut by Slack without a mark, so we cut with one).
FIELD_ERROR_LIMIT = 150


class Label(str):
    """A value that is itself a message id (a status, a reason, a kind of data): translated when shown."""

    __slots__ = ()


# Enum members (e.g. kinds of personal data) whose label is a message id: registered by the module that
# defines them, so that a domain may put the member itself in a problem's values.
_LABELS: dict[object, str] = {}


def register_labels(labels: Mapping[Any, str]) -> None:
    _LABELS.update(labels)


class Problem(Exception):
    """A problem the person can fix. `message` is a message id, `values` fill it, `field` names the form
    field (a block id) it is about. Subclasses name the case; some carry more (whom to ask, what is open)."""

    def __init__(self, message: str, *, field: str | None = None, **values: object) -> None:
        # The exception's own text, for a test or a debugger; logs keep no exception message (bot/logs.py).
        super().__init__(_filled(message, values))
        self.message = message
        self.field = field
        self.values: dict[str, object] = dict(values)

    @property
    def problems(self) -> list[Problem]:
        return [self]


class Problems(Problem):
    """Several problems at once, for a form: each names its field. Shown as one, it is the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        first = problems[0]
        super().__init__(first.message, field=first.field, **first.values)
        self._problems = list(problems)

    @property
    def problems(self) -> list[Problem]:
        return list(self._problems)


def _filled(message: str, values: Mapping[str, object]) -> str:
    if not values:
        return message
    try:
        return message % {k: getattr(v, "user_id", v) for k, v in values.items()}
    except (KeyError, TypeError, ValueError):
        return message


def _is_person(value: object) -> bool:
    return hasattr(value, "user_id") and hasattr(value, "team_id")


def _people(value: object) -> bool:
    return isinstance(value, tuple) and bool(value) and all(_is_person(v) for v in value)


def _labelled(value: object) -> str | None:
    if isinstance(value, Label):
        return str(value)
    try:
        return _LABELS.get(value)
    except TypeError:  # unhashable: not a label
        return None


def _labels(value: object) -> bool:
    return isinstance(value, tuple) and bool(value) and all(_labelled(v) is not None for v in value)


def shown_values(values: Mapping[str, object], language: str) -> dict[str, object]:
    """Values for a mrkdwn message: people as mentions, labels translated (and escaped)."""
    shown: dict[str, object] = {}
    for key, value in values.items():
        if _is_person(value):
            shown[key] = mention(value.user_id)  # type: ignore[attr-defined]
        elif _people(value):
            shown[key] = Markup(", ").join(mention(p.user_id) for p in value)  # type: ignore[attr-defined]
        elif (label := _labelled(value)) is not None:
            shown[key] = escape(t(language, label))
        elif _labels(value):
            shown[key] = escape(", ".join(t(language, _labelled(v) or "") for v in value))  # type: ignore[attr-defined]
        else:
            shown[key] = value
    return shown


def plain_values(values: Mapping[str, object], language: str) -> dict[str, object]:
    """Values for plain text (a form field's error): a person is their id, labels translated."""
    plain: dict[str, object] = {}
    for key, value in values.items():
        if _is_person(value):
            plain[key] = value.user_id  # type: ignore[attr-defined]
        elif _people(value):
            plain[key] = ", ".join(p.user_id for p in value)  # type: ignore[attr-defined]
        elif (label := _labelled(value)) is not None:
            plain[key] = t(language, label)
        elif _labels(value):
            plain[key] = ", ".join(t(language, _labelled(v) or "") for v in value)  # type: ignore[attr-defined]
        else:
            plain[key] = value
    return plain


def describe(problem: Problem, language: str, *, plain: bool = False) -> str:
    """The one way a problem becomes text: translated, its values filled as people read them."""
    values = plain_values(problem.values, language) if plain else shown_values(problem.values, language)
    return t(language, problem.message, **values)


def field_errors(
    problem: Problem,
    language: str,
    *,
    fields: Iterable[str],
    default: str,
    block_of: Callable[[str], str] = str,
) -> dict[str, str]:
    """A form's errors: each problem's text under the field it names (`block_of` maps a domain field name
    to the form's block id), or under `default` when the form has no such field. One text per field."""
    known = set(fields)
    errors: dict[str, str] = {}
    for found in problem.problems:
        block = block_of(found.field) if found.field else default
        if block not in known:
            block = default
        text = describe(found, language, plain=True)
        if len(text) > FIELD_ERROR_LIMIT:
            text = text[: FIELD_ERROR_LIMIT - 1] + "…"
        errors.setdefault(block, text)
    return errors

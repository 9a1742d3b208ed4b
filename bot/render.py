"""Rendering Jinja2 templates under templates/ into Block Kit JSON.

Every `{{ value }}` is escaped for mrkdwn and then for JSON by the environment's `finalize`, so a
template author cannot forget it: `<!channel>` typed by a person arrives as `&lt;!channel&gt;`.
Values that are already safe are `markupsafe.Markup` (translations, mentions); raw JSON goes through
the `json` filter; plain-text fields, where Slack parses nothing, use the `plain` filter.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from bot import blockkit_limits, cldr, mrkdwn
from bot.blockkit_limits import DataTooLong, Fitted, Wording, fit
from bot.i18n import format_duration, format_minutes, moment_pattern, translations

logger = logging.getLogger(__name__)

# A template says where the whole of a shortened text or list can be read with this top-level key, as
# mrkdwn (e.g. "`/samen signalen 12`"); it is removed before the message or view is sent.
WHOLE_AT_KEY = blockkit_limits.WHOLE_AT_KEY

TEMPLATES_DIR = Path(os.environ.get("SAMEN_TEMPLATES_DIR", Path(__file__).parent.parent / "templates"))


class RawJSON(str):
    """A JSON value to insert as it is (a number, a list, an object built by code)."""


class PlainText(str):
    """Text for a `plain_text` object: Slack shows it literally, so it is only JSON-escaped."""


def _json_string_body(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _finalize(value: Any) -> str:
    if isinstance(value, RawJSON):
        return str(value)
    if isinstance(value, Markup | PlainText):
        return _json_string_body(str(value))
    return _json_string_body(str(mrkdwn.escape(value)))


def _to_json(value: Any) -> RawJSON:
    return RawJSON(json.dumps(value, ensure_ascii=False))


def _plain(value: Any, limit: int | None = None) -> PlainText:
    # A translation arrives mrkdwn-escaped; plain_text shows entities literally, so undo that here.
    # Slack's own markup typed or pasted by a person (<!channel>, <@U…>, <https://…|label>) would show as
    # code in a plain_text field: it is written out readably instead (@channel, @U…, label (https://…)).
    text = mrkdwn.readable(value.unescape() if isinstance(value, Markup) else str(value))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return PlainText(text)


class Renderer:
    """Renders templates per language; one Jinja environment per language, built once."""

    def __init__(
        self, templates_dir: Path = TEMPLATES_DIR, timezone: str = "Europe/Amsterdam", chat: str = "slack"
    ) -> None:
        self.templates_dir = templates_dir
        self.timezone = ZoneInfo(timezone)
        # Which chat people read this in (SAMEN_CHAT): the few texts that name the platform's own ways
        # (Slack's App Home; Matrix has none) say what holds there.
        self.chat = chat
        self._environments: dict[str, Environment] = {}

    def environment(self, language: str) -> Environment:
        if language not in self._environments:
            self._environments[language] = self._build(language)
        return self._environments[language]

    def _build(self, language: str) -> Environment:
        env = Environment(
            loader=self._loader,
            autoescape=False,  # noqa: S701  escaping is done by _finalize, for mrkdwn and JSON rather than HTML
            finalize=_finalize,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        catalog = translations(language)

        def _(message: str, **values: Any) -> Markup:
            translated = mrkdwn.escape(catalog.gettext(message))
            return translated % {k: mrkdwn.escape(v) for k, v in values.items()} if values else translated

        def ngettext(singular: str, plural: str, n: int, **values: Any) -> Markup:
            translated = mrkdwn.escape(catalog.ngettext(singular, plural, n))
            escaped = {k: mrkdwn.escape(v) for k, v in values.items()}
            return translated % {"num": n, **escaped}

        def when(moment: datetime | str, fmt: str = "moment") -> str:
            # An ISO string: the context of a message rendered at send time went through JSON.
            moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
            aware = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))
            # babel's named formats differ per language (12-hour in English): a date and time is one
            # pattern per language; an explicit pattern ('HH:mm', 'EEEE d MMMM') stays as written.
            pattern = moment_pattern(language) if fmt in ("moment", "short", "medium") else fmt
            return format_datetime(aware, pattern, tzinfo=self.timezone, locale=cldr.locale(language))

        env.globals.update(
            _=_,
            gettext=_,
            ngettext=ngettext,
            language=language,
            chat=self.chat,
            mention=mrkdwn.mention,
            channel_link=mrkdwn.channel_link,
            when=when,
        )
        env.filters.update(json=_to_json, plain=_plain, clip=mrkdwn.clip, when=when)
        env.filters["minutes"] = lambda minutes: format_minutes(minutes, language)  # "2,5 minuten"
        env.globals["duration"] = lambda seconds: format_duration(seconds, language)  # "2 min 30 s"
        return env

    @cached_property
    def _loader(self) -> FileSystemLoader:
        return FileSystemLoader(str(self.templates_dir))

    def render_text(self, name: str, language: str, **context: Any) -> str:
        return self.environment(language).get_template(name).render(**context)

    def render(self, name: str, language: str, **context: Any) -> Any:
        """Render a `.json.j2` template and parse it: a message dict or a view dict, fitted to Slack's
        Block Kit limits (bot/blockkit_limits.py)."""
        return self.render_fitted(name, language, **context)[0]

    def render_fitted(self, name: str, language: str, **context: Any) -> tuple[Any, Fitted]:
        """`render`, and what fitting to Slack's limits changed."""
        rendered = self.render_text(name, language, **context)
        try:
            payload = json.loads(rendered)
        except json.JSONDecodeError as exc:
            raise ValueError(f"template {name} did not render valid JSON: {exc}") from exc
        whole_at = payload.pop(WHOLE_AT_KEY, None) if isinstance(payload, dict) else None
        try:
            fitted = fit(payload, self.wording(language, whole_at))
        except DataTooLong as exc:
            raise DataTooLong(f"template {name}: {exc}") from None
        if fitted.changed:  # counts only: the texts are people's
            logger.info(
                "%s fitted to Slack's limits: %s texts shortened, %s list items and %s other blocks left out",
                name,
                fitted.texts_shortened,
                fitted.items_dropped,
                fitted.blocks_dropped,
            )
        return payload, fitted

    def wording(self, language: str, whole_at: str | None) -> Wording:
        """What a shortened text or list says, in mrkdwn: where the whole is, or only that it was cut.
        `whole_at` and a list's own place are mrkdwn already: the template escaped them as every value."""
        catalog = translations(language)
        if whole_at:
            shortened = mrkdwn.escape(catalog.gettext(" — shortened; the whole: %(place)s"))
            shortened %= {"place": Markup(whole_at)}  # noqa: S704
        else:
            shortened = mrkdwn.escape(catalog.gettext(" — shortened: too long for Slack"))

        def more(n: int, place: str | None) -> str:
            place = place or whole_at
            if place:
                line = catalog.ngettext(
                    "… and %(num)s more; see %(place)s", "… and %(num)s more; see %(place)s", n
                )
                return str(mrkdwn.escape(line) % {"num": n, "place": Markup(place)})  # noqa: S704
            line = catalog.ngettext(
                "… and %(num)s more, not shown: too many for Slack",
                "… and %(num)s more, not shown: too many for Slack",
                n,
            )
            return str(mrkdwn.escape(line) % {"num": n})

        return Wording(shortened=str(shortened), more=more)

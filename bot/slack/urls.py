"""Where Samen may send an answer it was told about in a form's metadata: only Slack's response URLs.

A modal's `private_metadata` can carry the `response_url` of the command that opened it, so the answer
goes back where the person started. Metadata comes back with the submission; should it ever be forged,
Samen must not post what it would show the person (a signal's card, an intervention's result) to an
address someone else chose.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from bot.config import Settings

# Slack's and GovSlack's hosts for response URLs (https://hooks.slack.com/commands/…, …/actions/…).
SLACK_HOOK_HOSTS: Final = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})


def is_response_url(url: object, settings: Settings) -> bool:
    """A response URL of Slack's (or of the Web API host Samen is configured with: a test double)."""
    if not isinstance(url, str) or len(url) > 2000:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme == "https" and parts.hostname in SLACK_HOOK_HOSTS and not parts.username:
        return True
    api = urlsplit(settings.slack_api_url)
    return bool(parts.netloc) and (parts.scheme, parts.netloc) == (api.scheme, api.netloc)

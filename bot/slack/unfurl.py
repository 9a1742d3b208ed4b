"""Nothing Samen says unfurls: links in its messages are typed by people, and an unfurl makes Slack
fetch the address from its own servers (and shows a preview nobody chose to share).

The outbox sets `unfurl_links`/`unfurl_media` on every post (bot/slack/chat.py: `SlackChat.post`);
this covers the answers given directly: `respond()` (a response_url) and the answer to a slash command
(its ack). `chat.postEphemeral` takes neither argument, and Slack does not unfurl ephemeral messages.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_bolt.context.ack import Ack
from slack_bolt.context.respond import Respond


class NoUnfurlRespond(Respond):
    """`respond()` whose messages never unfurl, unless a caller says otherwise."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("unfurl_links", False)
        kwargs.setdefault("unfurl_media", False)
        return super().__call__(*args, **kwargs)


class NoUnfurlAck(Ack):
    """The ack of a slash command, which Slack shows as a message: no unfurling either."""

    def __call__(self, text: Any = "", blocks: Any = None, *args: Any, **kwargs: Any) -> Any:
        if (isinstance(text, str) and text) or blocks:
            kwargs.setdefault("unfurl_links", False)
            kwargs.setdefault("unfurl_media", False)
        return super().__call__(text, blocks, *args, **kwargs)


def no_unfurling(body: dict[str, Any], context: BoltContext, next: Any) -> Any:
    """A Bolt middleware: listeners get the `respond` (and, for a slash command, the `ack`) above."""
    if context.response_url:
        context["respond"] = NoUnfurlRespond(response_url=context.response_url)
    if body.get("command"):
        context["ack"] = NoUnfurlAck()
    return next()

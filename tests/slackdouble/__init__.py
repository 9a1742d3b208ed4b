"""A Slack Web API test double over real HTTP, and a driver that plays Slack towards the bot.

    with SlackDouble() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.base_url)
        ...
        slack.assert_no_violations()

See ARCHITECTURE.md, "Testing without Slack, honestly".
"""

from .driver import DriverResponse, SentRequest, SlackDriver
from .ids import user_id
from .payloads import Payloads
from .records import Call, visible_text
from .server import SlackDouble
from .spec import MANIFEST_SCHEMA, SPEC_GAPS

__all__ = [
    "MANIFEST_SCHEMA",
    "SPEC_GAPS",
    "Call",
    "DriverResponse",
    "Payloads",
    "SentRequest",
    "SlackDouble",
    "SlackDriver",
    "user_id",
    "visible_text",
]

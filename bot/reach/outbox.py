"""The outbox carries what leaves chat (issue 19; docs/rugdekking.md): SMS and e-mail are outbox rows like
Slack messages.

- `queue_alert`, in the transaction that raised a backup alert: every partner's T2 (its lead) and T3 (the
  coordinators) by SMS and e-mail, and the reporter's "Ben je veilig?" by SMS halfway through the time
  they have to answer it in chat (bot/reach/escalation.py says who, which way and when). The keys are
  once per alert, partner, tier, way and person, so a retried raise or job queues nothing twice; the refs
  are the chat rows' refs, so the acknowledgement (or the reporter's answer) that cancels the chat
  escalation cancels these in the same statement.
- A row holds no number, address, link or text: `args` names who, which way and about what. Its lane is
  a keyed hash of the number or address (`lane_of`): the dispatcher's per-lane pacing is the
  per-recipient rate limit, and nothing that labels a lane, a log line or a metric shows the number.
- `ReachCourier` is what the dispatcher calls for `sms.send` and `email.send` (bot/outbox/dispatcher.py:
  `Courier`): it composes the letter at send time (the e-mail with a fresh one-time link, committed before
  it leaves) and sends it through the way (bot/reach/ways.py), whose failures are `ChatFailure`s in the
  outbox's terms: retried with backoff, or failed with the reason, visible in `samen outbox status` and
  the metrics. A way this worker does not have fails its rows as `not_configured`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime
from typing import Any, Final

from sqlmodel import Session

from bot.alerts.models import BackupAlert
from bot.alerts.reading import partner_rows
from bot.chat import PERMANENT, ChatFailure, Outcome, Sent
from bot.config import Settings
from bot.i18n import language_for
from bot.outbox import EMAIL_METHOD, SMS_METHOD, Priority, enqueue_many
from bot.outbox.dispatcher import Courier
from bot.outbox.models import OutboxMessage
from bot.partners.models import PersonRef
from bot.people import get_person
from bot.reach.escalation import Delivery, address_of, compose, escalation_deliveries, safety_deliveries
from bot.reach.ways import EMAIL, SMS, Way, WayName, ways_from
from bot.runtime import Services

logger = logging.getLogger(__name__)

METHODS: Final[dict[WayName, str]] = {SMS: SMS_METHOD, EMAIL: EMAIL_METHOD}
WAY_OF: Final[dict[str, WayName]] = {method: way for way, method in METHODS.items()}
_LANE_PURPOSE: Final = b"samen:reach:lane:v1"


def lane_of(settings: Settings, way: WayName, address: str) -> str:
    """The recipient's lane: `sms:<hash>` / `email:<hash>`, keyed with the installation's encryption key,
    so that the same person always has the same lane and nobody can tell the number from it."""
    key = settings.samen_encryption_key.split(",")[0].strip().encode()
    digest = hmac.new(key, _LANE_PURPOSE + b"\0" + address.strip().lower().encode(), hashlib.sha256)
    return f"{way}:{digest.hexdigest()[:24]}"


def safety_sms_at(alert: BackupAlert) -> datetime:
    """When the reporter is asked again by SMS: halfway between the question in chat and the moment the
    coordinators hear there was no answer (which stays where it was)."""
    return alert.safety_check_at + (alert.safety_deadline_at - alert.safety_check_at) / 2


def queue_alert(session: Session, *, alert: BackupAlert, settings: Settings) -> int:
    """Queue everything an alert sends outside chat, in the caller's transaction; how many rows were new."""
    if not (settings.sms_on or settings.email_on):
        return 0
    planned: list[Delivery] = []
    for row in partner_rows(session, alert):  # as in chat: every partner, the reporter never among them
        planned += escalation_deliveries(session, alert=alert, partner_id=row.partner_id, settings=settings)
    planned += safety_deliveries(session, alert=alert, settings=settings, after=safety_sms_at(alert))
    rows = [_row(session, delivery, settings) for delivery in planned]
    return enqueue_many(session, [row for row in rows if row is not None])


def _row(session: Session, delivery: Delivery, settings: Settings) -> dict[str, Any] | None:
    address = address_of(session, delivery.person, delivery.way)
    if address is None:
        return None
    person = get_person(session, team_id=delivery.person.team_id, user_id=delivery.person.user_id)
    return {
        "key": delivery.key,
        "method": METHODS[delivery.way],
        "lane": lane_of(settings, delivery.way, address),
        "args": {
            "team_id": delivery.person.team_id,
            "user_id": delivery.person.user_id,
            "alert_id": delivery.alert_id,
            "kind": delivery.kind,
            "partner_id": delivery.partner_id,
        },
        "priority": Priority.URGENT,
        "not_before": delivery.not_before,
        "language": language_for(person.locale if person else None, settings.samen_language),
        "ref": delivery.ref,
    }


def delivery_of(row: OutboxMessage) -> Delivery:
    """The delivery an outbox row carries (what `_row` wrote)."""
    args = json.loads(row.args)
    return Delivery(
        way=WAY_OF[row.method],
        person=PersonRef(str(args["team_id"]), str(args["user_id"])),
        alert_id=int(args["alert_id"]),
        kind=str(args["kind"]),
        partner_id=args.get("partner_id"),
        key=row.key,
        ref=row.ref or "",
        not_before=row.not_before,
    )


class ReachCourier:
    """Sends `sms.send` and `email.send` rows for the dispatcher through the ways this worker has."""

    def __init__(self, services: Services, ways: dict[WayName, Way] | None = None) -> None:
        self.services = services
        self.ways = ways_from(services.settings) if ways is None else ways

    def deliver(self, row: OutboxMessage) -> Sent:
        delivery = delivery_of(row)
        way = self.ways.get(delivery.way)
        if way is None:
            raise ChatFailure(Outcome(PERMANENT, "not_configured"))
        settings = self.services.settings
        language = row.language or settings.samen_language
        # Composed in its own transaction: an e-mail's one-time link exists before anyone can click it.
        with self.services.session() as session:
            composed = compose(session, delivery, settings=settings, language=language)
        if composed is None:
            # The partners file no longer has a number or address for this person: nobody to send to.
            raise ChatFailure(Outcome(PERMANENT, "no_address"))
        address, letter = composed
        way.send(address, letter, key=row.key)
        logger.info("%s sent for backup alert RD-%s (%s)", delivery.way, delivery.alert_id, delivery.kind)
        return Sent(delivery.way, None)


def couriers(services: Services) -> dict[str, Courier]:
    """What a worker hands its dispatcher: a courier for each way that is on (`ways_from`)."""
    courier = ReachCourier(services)
    return {METHODS[way]: courier for way in courier.ways}

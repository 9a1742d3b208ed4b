"""The outbox carries SMS and e-mail (issue 19, the wiring): a silent partner's T2 and T3 reach its lead and
the coordinators outside chat through the same outbox rows, lanes, retries and failures as Slack messages;
acknowledging by SMS or by the e-mail's link stops what is still waiting; the reporter's safety check falls
back to SMS; drills go outside chat too, and their report shows the time to acknowledge per channel."""

# ruff: noqa: F811 (the tests take test_reach's fixtures `reach` and `reach_on`, imported by name)
from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import replace

from harness import FAST, Partnership, dispatcher
from reach_support import (  # noqa: F401 (fixtures)
    MailServer,
    SmsGatewayDouble,
    mail_server_fixture,
    sms_gateway_fixture,
)
from rugdekking_support import (
    BOARD,
    FATIMA,
    HANS,
    MARLEEN,
    WETHOUDER,
    click,
    deliver,
    raise_with_form,
    the_alert,
)
from sqlmodel import select
from test_reach import (
    DESCRIPTION,
    FATIMA_MAIL,
    FATIMA_PHONE,
    HANS_MAIL,
    HANS_PHONE,
    PLACE,
    WETHOUDER_PHONE,
    inbound,
    post,
    reach,  # noqa: F401 (fixture: the partnership with phones and e-mail addresses, both ways on)
    reach_on,  # noqa: F401 (fixture: the same on SQLite and on PostgreSQL)
)

from bot import metrics
from bot.alerts.models import AlertPartner, BackupAlert
from bot.alerts.reading import figures_of
from bot.outbox import EMAIL_METHOD, SMS_METHOD
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.models import OutboxMessage, OutboxStatus
from bot.outbox.status import report
from bot.reach.outbox import couriers, queue_alert
from slackdouble import visible_text

POLITIE = "Politie Zeeland-West-Brabant"
QUICK = replace(FAST, recipient_interval=0.0)


def worker(bot: Partnership) -> Dispatcher:
    """A worker's dispatcher with the ways out of chat, as bot/worker.py builds it."""
    return dispatcher(bot, QUICK, couriers=couriers(bot.services))


def raised(bot: Partnership) -> BackupAlert:
    """An alert raised with the form, with a description and a place that must never leave chat."""
    raise_with_form(bot, description=DESCRIPTION, place=PLACE)
    return the_alert(bot)


def at_t2(bot: Partnership) -> tuple[BackupAlert, Dispatcher]:
    """An alert raised and left unanswered until T2, whose rows are sent: its SMS and e-mails are out."""
    alert = raised(bot)
    send = worker(bot)
    bot.later(minutes=5)
    send.run_until_idle()
    return alert, send


def acknowledged_on_the_board(bot: Partnership, send: Dispatcher) -> bool:
    """The board in the partnership's channel shows Politie's acknowledgement, as after a click in chat."""
    send.run_until_idle()
    [board] = bot.double.messages_in(BOARD)
    return "✅ *Politie Zeeland-West-Brabant* — <@U0POL00001>" in visible_text(board.get("blocks") or [])


def outside_rows(bot: Partnership) -> list[OutboxMessage]:
    with bot.services.session() as session:
        return list(
            session.exec(
                select(OutboxMessage).where(OutboxMessage.method.in_([SMS_METHOD, EMAIL_METHOD]))  # type: ignore[attr-defined]
            ).all()
        )


def mails_to(server: MailServer, address: str) -> list[str]:
    with server.lock:
        return [str(m["Subject"]) + "\n" + m.get_content() for to, m in server.received if address in to]


def via(bot: Partnership, partner: str) -> str | None:
    with bot.services.session() as session:
        row = session.exec(select(AlertPartner).where(AlertPartner.partner_name == partner)).one()
        return row.acknowledged_via


def test_a_partner_silent_until_t3_reaches_lead_and_coordinators_by_sms_and_email(
    reach_on: Partnership, mail_server: MailServer, sms_gateway: SmsGatewayDouble
) -> None:
    bot = reach_on
    alert = raised(bot)
    send = worker(bot)
    send.run_until_idle()
    rows = outside_rows(bot)
    # Queued with the alert, in its transaction: no number, address or text in a row, its lane a keyed hash.
    assert rows and all(r.status == OutboxStatus.PENDING and r.priority == 0 for r in rows)
    for row in rows:
        assert row.lane.startswith(("sms:", "email:")) and len(row.lane) <= 30
        for secret in (HANS_PHONE, HANS_MAIL, FATIMA_PHONE, FATIMA_MAIL, WETHOUDER_PHONE, DESCRIPTION):
            assert secret not in row.lane + row.args + row.key + (row.context or "")
    assert len({r.lane for r in rows if r.method == SMS_METHOD and '"U0POL00001"' in r.args}) == 1
    assert sms_gateway.requests == [] and mail_server.received == []

    bot.later(minutes=2)  # T1 stays in chat
    send.run_until_idle()
    assert sms_gateway.requests == [] and mail_server.received == []

    bot.later(minutes=3)  # T2: the leads of the silent partners (Hans of Politie, Fatima of RIEC)
    started = time.perf_counter()
    send.run_until_idle()
    mail_server.wait(2)
    t2_seconds = time.perf_counter() - started
    print(f"T2 due -> SMS and e-mail arrived: {t2_seconds:.3f} s")
    assert t2_seconds < 2.0
    assert len(sms_gateway.texts_to(HANS_PHONE)) == 1 and len(mails_to(mail_server, HANS_MAIL)) == 1
    assert len(sms_gateway.texts_to(FATIMA_PHONE)) == 1  # as RIEC's lead
    assert sms_gateway.texts_to(WETHOUDER_PHONE) == []  # the reporter is never escalated to

    bot.later(minutes=5)  # T3: the coordinator, for each of the four silent partners
    send.run_until_idle()
    mail_server.wait(6)
    fatima = sms_gateway.texts_to(FATIMA_PHONE)
    assert len(fatima) == 5 and len(mails_to(mail_server, FATIMA_MAIL)) == 5
    assert any(POLITIE in text and alert.code in text for text in fatima[1:])
    everything = "\n".join(
        [r.body["body"] for r in sms_gateway.requests] + [m.get_content() for _, m in mail_server.received]
    )
    for secret in (DESCRIPTION, PLACE, "Breda-Noord", "Wethouder", WETHOUDER.user_id, "ntimidatie"):
        assert secret not in everything
    assert "OEFENING" not in everything
    with bot.services.session() as session:
        due = [r for r in outside_rows(bot) if r.not_before <= bot.clock.now()]
        assert due and all(r.status == OutboxStatus.SENT for r in due)
        assert report(session).failed_by_reason == {}


def test_each_recipient_has_a_lane_of_their_own_paced_by_the_rate_limit(
    reach: Partnership, sms_gateway: SmsGatewayDouble
) -> None:
    raise_with_form(reach, description=DESCRIPTION, place=PLACE)
    send = dispatcher(reach, replace(QUICK, recipient_interval=60.0), couriers=couriers(reach.services))
    reach.later(minutes=10)  # T2 and T3 at once: five SMS for Fatima, one for Hans
    send.run_until_idle()
    assert len(sms_gateway.texts_to(FATIMA_PHONE)) == 1 and len(sms_gateway.texts_to(HANS_PHONE)) == 1
    reach.later(seconds=61)
    send.run_until_idle()
    assert len(sms_gateway.texts_to(FATIMA_PHONE)) == 2  # one a minute: the rate limit is per person


def test_an_sms_reply_stops_the_partners_further_rows_and_is_recorded_as_sms(
    reach: Partnership, mail_server: MailServer, sms_gateway: SmsGatewayDouble
) -> None:
    alert, send = at_t2(reach)
    assert len(sms_gateway.texts_to(HANS_PHONE)) == 1
    status, answer = inbound(reach, HANS_PHONE, f"OK {alert.code}")
    assert status == 200 and answer["status"] == "acknowledged"
    assert via(reach, POLITIE) == "sms"
    assert acknowledged_on_the_board(reach, send)
    reach.later(minutes=5)  # T3: Fatima hears of the partners still silent, not of Politie
    send.run_until_idle()
    after_t2 = sms_gateway.texts_to(FATIMA_PHONE)[1:] + mails_to(mail_server, FATIMA_MAIL)[1:]
    assert len(after_t2) == 6 and not any(POLITIE in text for text in after_t2)
    cancelled = [r for r in outside_rows(reach) if r.status == OutboxStatus.CANCELLED]
    assert {r.method for r in cancelled} == {SMS_METHOD, EMAIL_METHOD} and len(cancelled) == 2


def test_the_email_link_acknowledges_and_stops_the_partners_further_rows(
    reach: Partnership, mail_server: MailServer, sms_gateway: SmsGatewayDouble
) -> None:
    alert, send = at_t2(reach)
    [letter] = mails_to(mail_server, HANS_MAIL)
    link = next(line for line in letter.splitlines() if "/ack/" in line).strip()
    with urllib.request.urlopen(link, timeout=10) as shown:
        page = shown.read().decode()
    form = page.split('name="form" value="', 1)[1].split('"', 1)[0]
    status, said = post(link, f"form={form}".encode(), {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and POLITIE in str(said)
    assert via(reach, POLITIE) == "email"
    assert acknowledged_on_the_board(reach, send)
    reach.later(minutes=5)
    send.run_until_idle()
    assert not any(POLITIE in text for text in sms_gateway.texts_to(FATIMA_PHONE)[1:])
    assert alert.code in letter


def test_exactly_once_under_a_retried_job_two_workers_and_a_cut_off_send(
    reach_on: Partnership, sms_gateway: SmsGatewayDouble, mail_server: MailServer
) -> None:
    bot = reach_on
    alert = raised(bot)
    before = len(outside_rows(bot))
    with bot.services.session() as session:  # the raise's queueing again, as a retried job would
        assert queue_alert(session, alert=alert, settings=bot.services.settings) == 0
    assert len(outside_rows(bot)) == before
    bot.later(minutes=5)
    sms_gateway.answer(502)  # the first SMS is cut off: the gateway may have it; it is sent again, same key
    first, second = worker(bot), worker(bot)
    runs = [threading.Thread(target=w.run_until_idle) for w in (first, second)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    bot.later(seconds=5)
    first.run_until_idle()
    keys = [r.headers["idempotency-key"] for r in sms_gateway.requests]
    assert len(keys) == 3 and len(set(keys)) == 2  # Hans and Fatima; one of them twice, the same key
    assert len(sms_gateway.texts_to(HANS_PHONE)) + len(sms_gateway.texts_to(FATIMA_PHONE)) == 3
    assert len(mail_server.wait(2)) == 2


def test_a_failing_gateway_retries_with_backoff_then_fails_visibly(
    reach: Partnership, sms_gateway: SmsGatewayDouble
) -> None:
    raise_with_form(reach, description=DESCRIPTION, place=PLACE)
    send = worker(reach)
    deliver(reach)
    reach.later(minutes=5)
    failures = metrics.OUTBOX_FAILURES.labels("transient", "sms_503")
    seen = failures._value.get()
    sms_gateway.answer(503)
    sms_gateway.answer(503)
    for lane in send.claim_lanes(50):  # one attempt on each lane
        send.send_next(lane)
    hans = [r for r in outside_rows(reach) if r.key.endswith(f"t2:sms:{HANS.user_id}")]
    assert hans[0].status == OutboxStatus.PENDING and hans[0].last_error == "sms_503"
    assert failures._value.get() > seen
    sms_gateway.answers.clear()
    sms_gateway.answer(400)  # the gateway will never take it
    sms_gateway.answer(400)
    reach.later(seconds=30)
    send.run_until_idle()
    with reach.services.session() as session:
        failed = report(session).failed_by_reason
        assert failed.get("sms_rejected_400") == 2
        assert set(report(session).failed_by_method) == {SMS_METHOD}


def test_a_way_this_worker_does_not_have_fails_its_rows_as_not_configured(reach: Partnership) -> None:
    raise_with_form(reach, description=DESCRIPTION, place=PLACE)
    reach.later(minutes=5)
    # A worker whose settings switch neither way on (another machine than the one that queued them).
    dispatcher(reach, QUICK, couriers={}).run_until_idle()
    with reach.services.session() as session:
        assert report(session).failed_by_reason.get("not_configured") == 4


def test_the_safety_check_falls_back_to_sms_and_an_answer_by_sms_stops_the_alarm(
    reach: Partnership, sms_gateway: SmsGatewayDouble
) -> None:
    alert = raised(reach)
    send = worker(reach)
    reach.later(minutes=14)  # asked in chat at 10, not answered
    send.run_until_idle()
    assert sms_gateway.texts_to(WETHOUDER_PHONE) == []
    reach.later(minutes=1)  # halfway to the alarm: the reporter is asked by SMS
    send.run_until_idle()
    [asked] = sms_gateway.texts_to(WETHOUDER_PHONE)
    assert alert.code in asked and "VEILIG" in asked and DESCRIPTION not in asked
    assert inbound(reach, WETHOUDER_PHONE, f"VEILIG {alert.code}")[1]["status"] == "safe"
    reach.later(minutes=6)
    send.run_until_idle()
    asked_by_sms = [r for r in outside_rows(reach) if "safety" in r.key]
    assert [r.status for r in asked_by_sms] == [OutboxStatus.SENT]
    with reach.services.session() as session:
        silent = select(OutboxMessage).where(OutboxMessage.key.contains(":safety:silent:"))  # type: ignore[attr-defined]
        alarms = session.exec(silent).all()
    assert alarms and {r.status for r in alarms} == {OutboxStatus.CANCELLED}  # nobody is alarmed


def test_a_drill_goes_outside_chat_marked_and_reports_time_to_acknowledge_per_channel(
    reach: Partnership, sms_gateway: SmsGatewayDouble, mail_server: MailServer
) -> None:
    raise_with_form(reach, text="oefening", description=None, place=None)
    alert = the_alert(reach)
    assert alert.drill
    send = worker(reach)
    send.run_until_idle()
    click(reach, "rugdekking_ack", MARLEEN)  # Gemeente Breda in chat
    reach.later(minutes=5)
    send.run_until_idle()
    [sms] = sms_gateway.texts_to(HANS_PHONE)
    assert sms.startswith("OEFENING") and alert.code in sms
    assert str(mail_server.wait(1)[0][1]["Subject"]).startswith("OEFENING")
    assert inbound(reach, HANS_PHONE, f"OK {alert.code}")[1]["status"] == "acknowledged"
    with reach.services.session() as session:
        ways = {w.way: w for w in figures_of(session, alert).ways}
    assert set(ways) == {"chat", "sms"} and ways["sms"].count == 1 and ways["sms"].first >= 300
    answer = reach.person(FATIMA).say(f"overzicht {alert.code}", command="/rugdekking")
    text = visible_text(answer["blocks"])
    assert "via chat: 1 bevestigd" in text and "via SMS: 1 bevestigd" in text
    assert json.dumps(answer).count(DESCRIPTION) == 0


def test_the_smtp_server_down_for_a_minute_loses_no_email(
    reach: Partnership, mail_server: MailServer, sms_gateway: SmsGatewayDouble
) -> None:
    raised(reach)
    send = worker(reach)
    send.run_until_idle()
    mail_server.stop()
    reach.later(minutes=5)
    send.run_until_idle()  # T2: the SMS go, the e-mails wait with backoff
    assert len(sms_gateway.texts_to(HANS_PHONE)) == 1
    now = reach.clock.now()
    waiting = [r for r in outside_rows(reach) if r.method == EMAIL_METHOD and r.not_before <= now]
    assert len(waiting) == 2 and {r.status for r in waiting} == {OutboxStatus.PENDING}
    assert {r.last_error for r in waiting} == {"smtp_unreachable"}
    reach.later(minutes=1)
    mail_server.start()
    send.run_until_idle()
    assert len(mail_server.wait(2)) == 2
    assert len(mails_to(mail_server, HANS_MAIL)) == 1 and len(mails_to(mail_server, FATIMA_MAIL)) == 1

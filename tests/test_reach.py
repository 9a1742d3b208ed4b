"""Reaching people outside chat (issue 19, phase 1): e-mail against a real SMTP server (aiosmtpd), SMS
against a gateway double over HTTP, acknowledging by an SMS reply and by the e-mail's link in a real
headless Chromium, and nothing of what happened ever in a message that leaves chat."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings
from harness import Partnership
from reach_support import (  # noqa: F401 (fixtures)
    MAIL_PASSWORD,
    MAIL_USER,
    Chromium,
    MailServer,
    SmsGatewayDouble,
    chromium_fixture,
    free_port,
    mail_server_fixture,
    self_signed,
    sms_gateway_fixture,
)
from rugdekking_support import (
    FATIMA,
    HANS,
    MARLEEN,
    PARTNERSHIP,
    WETHOUDER,
    deliver,
    raise_with_form,
    set_up_partnership,
    start_bot,
    the_alert,
)
from sqlalchemy import text
from sqlmodel import col, select

from bot.alerts.models import AlertPartner, BackupAlert
from bot.chat import PERMANENT, RETRY_AFTER, TRANSIENT, ChatFailure
from bot.config import SettingsError
from bot.config_values import SmtpServer
from bot.partners.importer import ImportFailed, parse
from bot.partners.models import Member
from bot.reach import escalation, links, texts
from bot.reach.acknowledging import parse_reply
from bot.reach.mail import MailSender
from bot.reach.sms import JsonGateway
from bot.reach.texts import AlertFacts
from bot.reach.ways import EMAIL, SMS, Letter, ways_from
from slackdouble import SlackDouble

DESCRIPTION = "Twee mannen stonden bij mijn huis na de sluiting van de woning."
PLACE = "Thuis, Breda-Noord"
HANS_PHONE, HANS_MAIL = "+31611111111", "hans@politie.example"
FATIMA_PHONE, FATIMA_MAIL = "+31622222222", "fatima@riec.example"
WETHOUDER_PHONE = "+31633333333"
INBOUND_SECRET = "inbound-secret-0123456789abcdef"
SMS_TOKEN = "gateway-token-0123456789"

REACH = (
    PARTNERSHIP.replace(
        "{user: U0POL00001, name: Hans}",
        f'{{user: U0POL00001, name: Hans, phone: "{HANS_PHONE}", email: {HANS_MAIL}}}',
    )
    .replace(
        "{user: U0RIEC0001, role: coordinator, name: Fatima}",
        "{user: U0RIEC0001, role: coordinator, name: Fatima, "
        f'phone: "{FATIMA_PHONE}", email: {FATIMA_MAIL}}}',
    )
    .replace(
        "{user: U0BREDA001, name: Wethouder}",
        f'{{user: U0BREDA001, name: Wethouder, phone: "{WETHOUDER_PHONE}"}}',
    )
)


@pytest.fixture
def reach(
    sqlite_url: str, slack_double: SlackDouble, mail_server: MailServer, sms_gateway: SmsGatewayDouble
) -> Iterator[Partnership]:
    """The backup-alert partnership with phones and e-mail addresses, both ways on."""
    yield from _reach(sqlite_url, slack_double, mail_server, sms_gateway)


@pytest.fixture
def reach_on(
    database_url: str, slack_double: SlackDouble, mail_server: MailServer, sms_gateway: SmsGatewayDouble
) -> Iterator[Partnership]:
    """The same, on SQLite and on PostgreSQL in turn."""
    yield from _reach(database_url, slack_double, mail_server, sms_gateway)


def _reach(
    database_url: str, slack_double: SlackDouble, mail_server: MailServer, sms_gateway: SmsGatewayDouble
) -> Iterator[Partnership]:
    for bot in start_bot(
        database_url,
        slack_double,
        people=(WETHOUDER, MARLEEN, HANS, FATIMA),
        SAMEN_SMTP_URL=mail_server.url,
        SAMEN_MAIL_FROM="samen@riec.example",
        SAMEN_SMS_URL=sms_gateway.url,
        SAMEN_SMS_TOKEN=SMS_TOKEN,
        SAMEN_SMS_INBOUND_SECRET=INBOUND_SECRET,
        SAMEN_PUBLIC_URL="http://127.0.0.1:1",  # replaced by the served address below
    ):
        base = bot.url.rsplit("/slack/events", 1)[0]
        bot.services.settings = bot.services.settings.model_copy(update={"public_url": base})
        set_up_partnership(bot.services, REACH)
        yield bot


def send_all(bot: Partnership, deliveries: list[escalation.Delivery]) -> None:
    """What the outbox will do with these rows (the lead wires it): compose at send time, send."""
    ways = ways_from(bot.services.settings)
    for delivery in deliveries:
        with bot.services.session() as session:
            composed = escalation.compose(session, delivery, settings=bot.services.settings, language="nl")
        assert composed is not None
        address, letter = composed
        ways[delivery.way].send(address, letter, key=delivery.key)


def silent_politie(bot: Partnership) -> tuple[BackupAlert, AlertPartner, list[escalation.Delivery]]:
    """An alert with what happened in it, delivered in chat; what Politie's silence sends outside chat."""
    raise_with_form(bot, description=DESCRIPTION, place=PLACE)
    deliver(bot)
    alert = the_alert(bot)
    with bot.services.session() as session:
        politie = session.exec(
            select(AlertPartner).where(col(AlertPartner.partner_name).startswith("Politie"))
        ).one()
        planned = escalation.escalation_deliveries(
            session, alert=alert, partner_id=politie.partner_id, settings=bot.services.settings
        )
    return alert, politie, planned


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any] | str]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            raw = answer.read().decode()
            status = answer.status
    except urllib.error.HTTPError as error:
        raw, status = error.read().decode(), error.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def inbound(bot: Partnership, sender: str, said: str, secret: str = INBOUND_SECRET) -> tuple[int, Any]:
    base = bot.url.rsplit("/slack/events", 1)[0]
    return post(
        base + "/sms/inbound",
        json.dumps({"from": sender, "body": said}).encode(),
        {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )


def acknowledged(bot: Partnership, partner: str) -> bool:
    with bot.services.session() as session:
        rows = session.exec(select(AlertPartner).where(AlertPartner.partner_name == partner)).all()
        return bool(rows) and rows[0].acknowledged_at is not None


# --- settings and the partners file -------------------------------------------------------------------


def test_either_way_may_be_off_and_half_a_way_stops_samen(sqlite_url: str) -> None:
    off = make_settings(sqlite_url)
    assert (off.email_on, off.sms_on, ways_from(off)) == (False, False, {})
    on = make_settings(
        sqlite_url,
        SAMEN_SMTP_URL=f"smtps://{MAIL_USER}:{MAIL_PASSWORD}@mail.example:2465",
        SAMEN_MAIL_FROM="samen@riec.example",
        SAMEN_SMS_URL="https://sms.example/v1/messages",
        SAMEN_SMS_TOKEN=SMS_TOKEN,
    )
    assert on.smtp == SmtpServer("mail.example", 2465, True, MAIL_USER, MAIL_PASSWORD)
    assert set(ways_from(on)) == {SMS, EMAIL}
    assert MAIL_PASSWORD in on.secrets() and SMS_TOKEN in on.secrets()  # redacted from every log line
    assert MAIL_PASSWORD not in repr(on)
    with pytest.raises(SettingsError, match="SAMEN_SMS_TOKEN is not set"):
        make_settings(sqlite_url, SAMEN_SMS_URL="https://sms.example/")
    with pytest.raises(SettingsError, match="SAMEN_MAIL_FROM is not set"):
        make_settings(sqlite_url, SAMEN_SMTP_URL="smtp://mail.example:25")
    with pytest.raises(SettingsError, match="SAMEN_SMTP_URL must be"):
        make_settings(sqlite_url, SAMEN_SMTP_URL="imap://mail.example", SAMEN_MAIL_FROM="a@b.nl")


def test_phone_and_email_are_validated_sealed_and_never_in_the_audit_log(reach: Partnership) -> None:
    with reach.services.engine.connect() as connection:
        stored = " ".join(str(row) for row in connection.execute(text("SELECT phone, email FROM member")))
        audit = " ".join(str(row) for row in connection.execute(text("SELECT details FROM audit_entry")))
    for secret in (HANS_PHONE, HANS_MAIL, FATIMA_PHONE, FATIMA_MAIL, WETHOUDER_PHONE):
        assert secret not in stored and secret not in audit
    with reach.services.session() as session:
        hans = session.exec(select(Member).where(Member.user_id == HANS.user_id)).one()
        assert (hans.phone, hans.email) == (HANS_PHONE, HANS_MAIL)
    # The same file again changes nothing; `null` clears; left out keeps.
    from bot.authz import CLI_ACTOR
    from bot.partners.importer import import_partners

    with reach.services.session() as session:
        assert import_partners(session, actor=CLI_ACTOR, source=REACH, purpose="again").changes == []
        cleared = REACH.replace(f"email: {HANS_MAIL}", "email: null")
        report = import_partners(session, actor=CLI_ACTOR, source=cleared, purpose="clear")
        assert report.changes == ["set how U0POL00001 is reached (email) in Politie Zeeland-West-Brabant"]
        hans = session.exec(select(Member).where(Member.user_id == HANS.user_id)).one()
        assert (hans.phone, hans.email) == (HANS_PHONE, None)


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("phone: +31611111111", "in quotes"),  # YAML reads an unquoted +316… as a number
        ('phone: "0611111111"', "international form"),
        ('phone: "+31 6 1111 1111"', "international form"),
        ("email: hans-at-politie", "e-mail address"),
    ],
)
def test_a_wrong_phone_or_email_is_reported_without_repeating_it(written: str, problem: str) -> None:
    source = PARTNERSHIP.replace(
        "{user: U0POL00001, name: Hans}", f"{{user: U0POL00001, name: Hans, {written}}}"
    )
    with pytest.raises(ImportFailed) as failed:
        parse(source)
    [found] = failed.value.problems
    assert problem in found.message and found.where.endswith(("phone", "email"))
    assert "1111" not in str(found) and "hans-at" not in str(found)


# --- e-mail against a real SMTP server ---------------------------------------------------------------------


LETTER = Letter(subject="RD-7: Politie heeft de rugdekking niet bevestigd", body="Bevestig: https://x/ack/t")


def test_an_email_arrives_whole_at_a_real_smtp_server(mail_server: MailServer) -> None:
    sender = MailSender(SmtpServer("127.0.0.1", mail_server.port, False), "samen@riec.example")
    message_id = sender.send(HANS_MAIL, LETTER, key="rugdekking:7:p2:t2:email:U0POL00001")
    [(recipients, message)] = mail_server.wait(1)
    assert recipients == [HANS_MAIL]
    assert message["Subject"] == LETTER.subject and message["To"] == HANS_MAIL
    assert message["Message-ID"] == message_id and message["Auto-Submitted"] == "auto-generated"
    assert message.get_content().strip() == LETTER.body
    # Sent again after a crash, it is the same message to the mail program.
    assert sender.send(HANS_MAIL, LETTER, key="rugdekking:7:p2:t2:email:U0POL00001") == message_id


def test_starttls_when_offered_and_login_only_after_it(mail_server: MailServer, tmp_path: Path) -> None:
    server_tls, client_tls = self_signed(tmp_path)
    secured = MailServer(tls=server_tls).start()
    try:
        smtp = SmtpServer("127.0.0.1", secured.port, False, MAIL_USER, MAIL_PASSWORD)
        MailSender(smtp, "samen@riec.example", tls_context=client_tls).send(HANS_MAIL, LETTER, key="k1")
        assert len(secured.wait(1)) == 1
        wrong = SmtpServer("127.0.0.1", secured.port, False, MAIL_USER, "wrong-password")
        with pytest.raises(ChatFailure) as refused:
            MailSender(wrong, "samen@riec.example", tls_context=client_tls).send(HANS_MAIL, LETTER, key="k2")
        assert (
            refused.value.outcome.kind == TRANSIENT and refused.value.outcome.refused
        )  # an operator fixes it
    finally:
        secured.stop()


def test_no_password_goes_unencrypted_to_another_machine() -> None:
    plain = MailServer(host="127.0.0.2").start()  # offers no STARTTLS
    try:
        smtp = SmtpServer("127.0.0.2", plain.port, False, MAIL_USER, MAIL_PASSWORD)
        with pytest.raises(ChatFailure) as refused:
            MailSender(smtp, "samen@riec.example").send(HANS_MAIL, LETTER, key="k")
        assert refused.value.outcome.reason == "smtp_no_tls_for_login" and refused.value.outcome.refused
        assert plain.received == []
    finally:
        plain.stop()


def test_the_smtp_server_down_for_a_while_loses_nothing(mail_server: MailServer) -> None:
    sender = MailSender(SmtpServer("127.0.0.1", mail_server.port, False), "samen@riec.example", timeout=2)
    mail_server.stop()
    with pytest.raises(ChatFailure) as down:
        sender.send(HANS_MAIL, LETTER, key="down")
    assert down.value.outcome.kind == TRANSIENT and not down.value.outcome.maybe_delivered  # try again later
    mail_server.start()  # back, on the same port
    sender.send(HANS_MAIL, LETTER, key="down")
    assert [r for r, _ in mail_server.wait(1)] == [[HANS_MAIL]]


def test_a_refused_recipient_is_permanent(mail_server: MailServer) -> None:
    mail_server.refuse.add("weg@politie.example")
    sender = MailSender(SmtpServer("127.0.0.1", mail_server.port, False), "samen@riec.example")
    with pytest.raises(ChatFailure) as refused:
        sender.send("weg@politie.example", LETTER, key="gone")
    assert (refused.value.outcome.kind, refused.value.outcome.reason) == (PERMANENT, "smtp_recipient_refused")


# --- SMS through the gateway double ---------------------------------------------------------------------


def test_an_sms_is_posted_as_json_with_the_bearer_token(sms_gateway: SmsGatewayDouble) -> None:
    gateway = JsonGateway(sms_gateway.url, SMS_TOKEN)
    assert (
        gateway.send(HANS_PHONE, Letter("", "Samen: OK?"), key="rugdekking:7:p2:t2:sms:U0POL00001") == "sms-1"
    )
    [request] = sms_gateway.requests
    assert request.body == {"to": HANS_PHONE, "body": "Samen: OK?"}
    assert request.headers["authorization"] == f"Bearer {SMS_TOKEN}"
    assert request.headers["idempotency-key"] == "rugdekking:7:p2:t2:sms:U0POL00001"


@pytest.mark.parametrize(
    ("status", "headers", "kind", "reason", "maybe"),
    [
        (429, {"Retry-After": "12"}, RETRY_AFTER, "sms_rate_limited", False),
        (401, {}, TRANSIENT, "sms_token_refused_401", False),
        (400, {}, PERMANENT, "sms_rejected_400", False),
        (503, {}, TRANSIENT, "sms_503", True),
    ],
)
def test_gateway_failures_in_the_outbox_terms(
    sms_gateway: SmsGatewayDouble, status: int, headers: dict[str, str], kind: str, reason: str, maybe: bool
) -> None:
    sms_gateway.answer(status, **headers)
    with pytest.raises(ChatFailure) as failed:
        JsonGateway(sms_gateway.url, SMS_TOKEN).send(HANS_PHONE, Letter("", "x"), key="k")
    outcome = failed.value.outcome
    assert (outcome.kind, outcome.reason, outcome.maybe_delivered) == (kind, reason, maybe)
    if kind == RETRY_AFTER:
        assert outcome.retry_after == 12.0


def test_an_unreachable_gateway_is_transient() -> None:
    with pytest.raises(ChatFailure) as failed:
        JsonGateway(f"http://127.0.0.1:{free_port()}/sms", SMS_TOKEN, timeout=2).send(
            HANS_PHONE, Letter("", "x"), key="k"
        )
    assert failed.value.outcome.kind == TRANSIENT


# --- texts: never what happened ---------------------------------------------------------------------------


def test_replies_are_read_in_dutch_and_english() -> None:
    assert parse_reply("OK RD-12") == ("ok", 12)
    assert parse_reply("  ok rd 12 ") == ("ok", 12)
    assert parse_reply("Oké, RD-7!") == ("ok", 7)
    assert parse_reply("VEILIG RD-3") == ("safe", 3)
    assert parse_reply("help rd-3") == ("help", 3)
    assert parse_reply("OK") is None and parse_reply("RD-12") is None and parse_reply("OKRD12x") is None


@pytest.mark.parametrize("language", ["nl", "en"])
def test_texts_name_the_alert_the_asking_partner_and_how_to_acknowledge(language: str) -> None:
    facts = AlertFacts("RD-7", "Gemeente Breda", drill=True)
    for way in (SMS, EMAIL):
        for tier in ("lead", "coordinators"):
            letter = texts.escalation(
                language,
                facts,
                way=way,
                tier=tier,
                silent_partner="Politie",
                link="https://s/ack/t",
                link_until="x",
            )
            said = letter.subject + letter.body
            assert "RD-7" in said and "Gemeente Breda" in said and "OK RD-7" in said and "Politie" in said
            assert ("OEFENING" if language == "nl" else "DRILL") in said
            assert ("https://s/ack/t" in said) == (way == EMAIL)
        assert (
            len(
                texts.escalation(
                    language, AlertFacts("RD-7", "Breda", False), way=SMS, tier="lead", silent_partner="OM"
                ).body
            )
            <= 160
        )


# --- the whole way: an alert, its escalation outside chat, acknowledged from outside -----------------------


def test_a_silent_partner_is_reached_by_sms_and_email_and_acknowledges_by_sms(
    reach_on: Partnership,
    mail_server: MailServer,
    sms_gateway: SmsGatewayDouble,
    caplog: pytest.LogCaptureFixture,
) -> None:
    reach = reach_on
    caplog.set_level(logging.DEBUG, logger="bot")
    alert, politie, planned = silent_politie(reach)
    # T2: Hans (the lead) by SMS and e-mail; T3: Fatima (the coordinator) by SMS and e-mail.
    assert sorted((d.kind, d.way, d.person.user_id) for d in planned) == [
        ("coordinators", EMAIL, FATIMA.user_id),
        ("coordinators", SMS, FATIMA.user_id),
        ("lead", EMAIL, HANS.user_id),
        ("lead", SMS, HANS.user_id),
    ]
    assert {d.ref for d in planned} == {f"rugdekking:{alert.id}:p{politie.partner_id}:escalation"}
    started = time.perf_counter()
    send_all(reach, planned)
    mails = mail_server.wait(2)
    sms = sms_gateway.texts_to(HANS_PHONE) + sms_gateway.texts_to(FATIMA_PHONE)
    elapsed = time.perf_counter() - started
    print(f"T2/T3 outside chat: 2 SMS and 2 e-mails composed, sent and arrived in {elapsed:.3f} s")
    assert elapsed < 2.0  # the issue's target from T2 to arrival, without the outbox's own delay
    assert len(sms) == 2
    everything = "\n".join(sms + [m.get_content() + str(m["Subject"]) for _, m in mails])
    assert alert.code in everything and "Gemeente Breda" in everything
    for secret in (
        DESCRIPTION,
        PLACE,
        "Breda-Noord",
        "Wethouder",
        WETHOUDER.user_id,
        "INTIMIDATIE",
        "intimidatie",
    ):
        assert secret not in everything, secret

    # A forged reply changes nothing; Hans's reply acknowledges for Politie, as if clicked in chat.
    assert inbound(reach, HANS_PHONE, f"OK {alert.code}", secret="not-the-secret-at-all")[0] == 401
    assert not acknowledged(reach, "Politie Zeeland-West-Brabant")
    status, answer = inbound(reach, HANS_PHONE, f"ok {alert.code}")
    assert status == 200 and answer["status"] == "acknowledged"
    assert "Politie Zeeland-West-Brabant" in answer["reply"]
    assert acknowledged(reach, "Politie Zeeland-West-Brabant")
    assert inbound(reach, HANS_PHONE, f"OK {alert.code}")[1]["status"] == "already"
    assert inbound(reach, "+31699999999", f"OK {alert.code}")[1]["status"] == "unknown_person"
    with reach.services.engine.connect() as connection:
        pending = connection.execute(
            text("SELECT count(*) FROM outbox WHERE ref = :ref AND status = 'pending'"),
            {"ref": f"rugdekking:{alert.id}:p{politie.partner_id}:escalation"},
        ).scalar()
        ways = [
            row[0]
            for row in connection.execute(
                text(
                    "SELECT details FROM audit_entry WHERE action = 'backup_alert.acknowledged_outside_chat'"
                )
            )
        ]
    assert pending == 0  # its escalations stop, as after a click
    assert len(ways) == 1 and '"sms"' in str(ways[0])
    # The reporter answers the safety question by SMS.
    assert inbound(reach, WETHOUDER_PHONE, f"VEILIG {alert.code}")[1]["status"] == "safe"
    assert inbound(reach, HANS_PHONE, f"VEILIG {alert.code}")[1]["status"] == "not_the_reporter"
    # Samen's own lines and its libraries' (the test's SMTP server, aiosmtpd's mail.log, is not Samen).
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    for personal in (HANS_PHONE, FATIMA_PHONE, WETHOUDER_PHONE, HANS_MAIL, FATIMA_MAIL, "OK RD", "VEILIG RD"):
        assert personal not in logged, personal  # never a number, an address or what someone texted
    assert "acknowledged outside chat by sms" in logged


def test_the_link_in_the_email_acknowledges_once_in_a_real_browser(
    reach: Partnership, mail_server: MailServer, chromium: Chromium
) -> None:
    alert, _, planned = silent_politie(reach)
    send_all(reach, [d for d in planned if d.way == EMAIL and d.person == HANS])
    [(_, message)] = mail_server.wait(1)
    link = next(line for line in message.get_content().splitlines() if "/ack/" in line).strip()

    page = chromium.open(link)  # a GET: shows, never acknowledges
    assert alert.code in page and "Gemeente Breda" in page and "Ontvangen" in page
    assert DESCRIPTION not in page and PLACE not in page
    assert not acknowledged(reach, "Politie Zeeland-West-Brabant")
    done = chromium.press("#ontvangen", then="document.querySelector('#answer') !== null")
    assert "bevestigd voor Politie Zeeland-West-Brabant" in done
    assert acknowledged(reach, "Politie Zeeland-West-Brabant")

    again = chromium.open(link)  # used twice: it works once
    assert "al gebruikt" in again


def test_a_forged_expired_or_cross_site_link_acknowledges_nothing(reach: Partnership) -> None:
    raise_with_form(reach, description=DESCRIPTION, place=PLACE)
    alert = the_alert(reach)
    settings = reach.services.settings
    with reach.services.session() as session:
        token, _ = links.issue(session, alert_id=alert.id or 0, person=HANS, settings=settings)
    url = links.url_of(settings, token)
    assert url is not None
    _, _, signature = token.partition(".")
    forged = url.replace(signature, signature[::-1])
    with urllib.request.urlopen(url, timeout=10) as shown:
        page = shown.read().decode()
        assert shown.status == 200 and shown.headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in shown.headers["Content-Security-Policy"]
    form = page.split('name="form" value="', 1)[1].split('"', 1)[0]
    body = f"form={form}".encode()
    plain = {"Content-Type": "application/x-www-form-urlencoded"}
    assert post(forged, body, plain)[0] == 404
    assert post(url, b"form=guessed", plain)[0] == 403  # not from its page
    assert post(url, body, {**plain, "Origin": "https://evil.example"})[0] == 403
    assert post(url, body, {**plain, "Sec-Fetch-Site": "cross-site"})[0] == 403
    assert not acknowledged(reach, "Politie Zeeland-West-Brabant")
    reach.later(hours=25)  # expired
    status, said = post(url, body, plain)
    assert status == 410 and "verlopen" in str(said)
    assert not acknowledged(reach, "Politie Zeeland-West-Brabant")


def test_samen_status_says_which_ways_out_of_chat_are_on(reach: Partnership, bot: Partnership) -> None:
    from slackdouble import visible_text

    on = visible_text(reach.person(FATIMA).say("status")["blocks"])
    assert "Sms: aan" in on and "E-mail: aan" in on
    bot.join(PARTNERSHIP)  # Samen without SAMEN_SMS_URL and SAMEN_SMTP_URL
    off = visible_text(bot.person(FATIMA).say("status")["blocks"])
    assert "Sms: uit (SAMEN_SMS_URL is niet ingesteld)" in off and "E-mail: uit" in off


def test_only_coordinators_see_how_members_are_reached_and_that_is_audited(reach: Partnership) -> None:
    from slackdouble import visible_text

    coordinator = visible_text(reach.person(FATIMA).say("partner lijst")["blocks"])
    assert f"sms {HANS_PHONE}, e-mail {HANS_MAIL}" in coordinator and WETHOUDER_PHONE in coordinator
    member = visible_text(reach.person(HANS).say("partner lijst")["blocks"])
    assert "Politie" in member
    for personal in (HANS_PHONE, HANS_MAIL, FATIMA_PHONE, FATIMA_MAIL, WETHOUDER_PHONE):
        assert personal not in member
    with reach.services.engine.connect() as connection:
        viewed = connection.execute(
            text("SELECT count(*) FROM audit_entry WHERE action = 'member.reach_viewed'")
        ).scalar()
    assert viewed == 1  # the coordinator's look, not the member's

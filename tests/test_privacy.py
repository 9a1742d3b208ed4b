"""Privacy (issue 10): restricted data is encrypted at rest, kept no longer than agreed, and an access or
erasure request about a subject is answered from one command — each audited.

Read like the booklet: "the gemeente registers a signal about a bewoner; the RIEC weighs it to no action;
a year later it is gone, and its subject with it — unless an open case still needs that subject".
"""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import BOT_TOKEN, ENCRYPTION_KEY, SIGNING_SECRET, BotUnderTest
from privacy_support import (
    PARTNERSHIP,
    SECRET,
    case_of,
    close_case,
    finish_intervention,
    raise_and_close_alert,
    register_signal,
    row_counts,
    secret,
    weigh,
)
from rugdekking_support import FATIMA, HANS, MARLEEN, deliver, set_up_partnership, start_bot
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel, select
from typer.testing import CliRunner

from bot.alerts.models import AlertPartner, BackupAlert, SupportAction
from bot.audit import AuditEntry, verify
from bot.cases.models import Case, CaseScore, CaseSignal, CaseSubject
from bot.cli import cli
from bot.clock import utcnow
from bot.config_values import parse_periods
from bot.crypto import KeyringError, generate_key, keyring
from bot.interventions.models import Intervention, Lesson
from bot.jobs import all_jobs
from bot.keyrotation import sealed_columns
from bot.logs import configure
from bot.outbox.models import OutboxMessage, OutboxStatus
from bot.privacy import erase, retention
from bot.scheduler import run_once
from bot.signals.models import Signal
from bot.subjects.models import Subject
from slackdouble import SlackDouble, visible_text

PHONE = "0613579246"  # typed in a summary: kept out of the channel, and kept only encrypted


@pytest.fixture
def slack(sqlite_url: str, slack_double: SlackDouble) -> Iterator[BotUnderTest]:
    for bot in start_bot(sqlite_url, slack_double):
        set_up_partnership(bot.services, PARTNERSHIP)
        yield bot


@pytest.fixture
def slack_on(database_url: str, slack_double: SlackDouble) -> Iterator[BotUnderTest]:
    for bot in start_bot(database_url, slack_double):
        set_up_partnership(bot.services, PARTNERSHIP)
        yield bot


def samen(
    monkeypatch: pytest.MonkeyPatch,
    bot: BotUnderTest,
    *args: str,
    keys: str = ENCRYPTION_KEY,
    input: str | None = None,
) -> Any:
    """`samen <args>` on the server, against the bot's database."""
    settings = bot.services.settings
    for name, value in {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SAMEN_ENCRYPTION_KEY": keys,
        "DATABASE_URL": settings.database_url,
        "SAMEN_TIMEZONE": "Europe/Amsterdam",
        "SAMEN_RETENTION": ";".join(f"{kind}:{days}" for kind, days in settings.samen_retention.items()),
    }.items():
        monkeypatch.setenv(name, value)
    try:
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    finally:
        keyring.configure(ENCRYPTION_KEY)  # the keyring is per process: leave it as the other tests expect
        # The command logged to the runner's stderr, closed now: log to the real one again.
        configure(secrets=[BOT_TOKEN, SIGNING_SECRET, ENCRYPTION_KEY], level=logging.DEBUG)


def audit_actions(bot: BotUnderTest) -> list[str]:
    with bot.services.session() as session:
        return [e.action for e in session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()]  # type: ignore[arg-type]


def days_pass(bot: BotUnderTest, days: int) -> None:
    """Time moves on: everything that was closed or sent, was closed or sent `days` earlier."""
    shift = timedelta(days=days)
    with bot.services.session() as session:
        for model, names in (
            (Signal, ("closed_at", "created_at")),
            (Case, ("closed_at", "created_at")),
            (BackupAlert, ("closed_at", "raised_at")),
            (OutboxMessage, ("sent_at", "created_at")),
        ):
            for row in session.exec(select(model)).all():
                for name in names:
                    if getattr(row, name) is not None:
                        setattr(row, name, getattr(row, name) - shift)
                session.add(row)


# --- 1. encrypted at rest -----------------------------------------------------------------------------


def test_restricted_text_is_never_in_the_database_files_nor_in_a_dump(slack_on: BotUnderTest) -> None:
    bot = slack_on
    secrets = {
        "details": secret("huurder-betaalt-contant"),
        "identity": secret("Jansen-Loods-Hazeldonk-12"),
        "result": secret("lab-met-400-planten"),
        "effect": secret("buurt-opgelucht"),
        "description": secret("twee-mannen-bij-de-deur"),
        "place": secret("Kerkstraat-7"),
        "note": secret("camera-geplaatst"),
        "summary": secret("rustig-gebleven"),
    }
    signal = register_signal(
        bot,
        MARLEEN,
        f"Loods met busjes 's nachts; melder belde vanaf {PHONE}",
        details=secrets["details"],
        identity=secrets["identity"],
        kind="LOCATIE",
    )
    weigh(bot, FATIMA, signal.signal_id, "CASUS")
    finish_intervention(bot, case_of(bot, signal.signal_id), secrets["result"], secrets["effect"])
    raise_and_close_alert(bot, secrets["description"], secrets["place"], secrets["summary"], secrets["note"])
    deliver(bot)

    # Samen itself reads them back (so they were stored) …
    with bot.services.session() as session:
        stored = session.get(Signal, signal.signal_id)
        assert stored is not None and stored.details == secrets["details"]
        assert PHONE in (stored.kept_out or "") and PHONE not in stored.summary
        assert session.exec(select(Subject.identity)).one() == secrets["identity"]
        assert session.exec(select(Intervention.result)).one() == secrets["result"]
        alert = session.exec(select(BackupAlert)).one()
        assert (alert.description, alert.place, alert.summary) == (
            secrets["description"],
            secrets["place"],
            secrets["summary"],
        )
    # … but the database holds only tokens: not in the files, not in a dump.
    stored_bytes = database_bytes(bot.services.settings.database_url)
    assert b"gAAAAA" in stored_bytes  # Fernet tokens are there
    for name, value in {**secrets, "phone number": PHONE}.items():
        assert value.encode() not in stored_bytes, f"the {name} is in the database in plain text"
    assert SECRET.encode() not in stored_bytes


def database_bytes(database_url: str) -> bytes:
    """SQLite: the file with its WAL and shared memory; PostgreSQL: what `pg_dump` writes."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        return b"".join(
            p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
        )
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    dumped = subprocess.run(["pg_dump", "--no-owner", libpq], capture_output=True, check=True, timeout=60)
    assert b"COPY public.signal" in dumped.stdout
    return dumped.stdout


def test_every_restricted_field_is_sealed() -> None:
    """The fields docs/domain.md and the features call restricted are encrypted columns (and so is found by
    `samen keys rotate`, which walks the same list)."""
    sealed = {f"{table}.{column}" for table, columns in sealed_columns().items() for column in columns}
    assert {
        "signal.details",
        "signal.source_permalink",
        "signal.kept_out",
        "subject.identity",
        "backup_alert.reporter",
        "backup_alert.description",
        "backup_alert.place",
        "backup_alert.summary",
        "backup_support_action.note",
        "intervention.result",
        "intervention.effect",
        "slack_bots.bot_token",
        "slack_installations.bot_token",
    } <= sealed


# --- keys rotate --------------------------------------------------------------------------------------


def sealed_values(bot: BotUnderTest) -> dict[str, list[Any]]:
    """Every sealed value, decrypted with the keys configured now."""
    found: dict[str, list[Any]] = {}
    with bot.services.engine.connect() as connection:
        for name, columns in sealed_columns().items():
            table = SQLModel.metadata.tables[name]
            for column in columns:
                rows = connection.execute(
                    select(table.c[column]).where(table.c[column].is_not(None)).order_by(*table.primary_key)
                ).scalars()
                found[f"{name}.{column}"] = list(rows)
    return found


def test_keys_rotate_re_encrypts_everything_under_the_new_key(
    slack: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = slack
    signal = register_signal(bot, MARLEEN, "Loods", details=secret("details"), identity=secret("wie"))
    weigh(bot, FATIMA, signal.signal_id, "CASUS")
    raise_and_close_alert(bot, secret("a"), secret("b"), secret("c"), secret("d"))
    before = sealed_values(bot)  # written with key A
    assert (
        sum(len(v) for v in before.values()) == 7
    )  # details, identity; reporter, description, place, summary, note

    new_key = generate_key()
    done = samen(monkeypatch, bot, "keys", "rotate", keys=f"{new_key},{ENCRYPTION_KEY}")
    assert done.exit_code == 0, done.output
    assert f"{sum(len(v) for v in before.values())} values sealed with the first key" in done.output

    keyring.configure(new_key)  # the old key is gone …
    try:
        assert sealed_values(bot) == before  # … and everything still reads
    finally:
        keyring.configure(ENCRYPTION_KEY)
    with pytest.raises(KeyringError):  # and with the old key alone, nothing does
        sealed_values(bot)

    again = samen(monkeypatch, bot, "keys", "rotate", keys=f"{new_key},{ENCRYPTION_KEY}")
    assert again.exit_code == 0, again.output  # a second run (or one after an interruption) is harmless
    keyring.configure(new_key)
    try:
        assert sealed_values(bot) == before
    finally:
        keyring.configure(ENCRYPTION_KEY)
    assert audit_actions(bot).count("rotate_encryption_key") == 2


# --- 2. retention ---------------------------------------------------------------------------------------


def test_what_was_not_taken_up_goes_after_a_year_but_never_what_an_open_case_needs(
    slack_on: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = slack_on
    # Weighed to no action: expires; its new subject with it.
    no_action = register_signal(bot, MARLEEN, "Drukte bij een woning", identity=secret("bewoner"))
    weigh(bot, FATIMA, no_action.signal_id, "GEEN_ACTIE")
    # Referred to the politie: expires too.
    referred = register_signal(bot, MARLEEN, "Verdacht transport", details=secret("kenteken"))
    weigh(bot, FATIMA, referred.signal_id, "DOORVERWIJZEN")
    # A case: open, so its signal and subject stay.
    on_case = register_signal(bot, HANS, "Loods met busjes", identity=secret("loods"), kind="LOCATIE")
    weigh(bot, FATIMA, on_case.signal_id, "CASUS")
    open_case = case_of(bot, on_case.signal_id)
    # A signal on the open case's subject, weighed to no action: it goes, the subject stays.
    [case_subject] = on_case.codes
    about_case_subject = register_signal(bot, MARLEEN, "Nog meer busjes", codes=case_subject)
    weigh(bot, FATIMA, about_case_subject.signal_id, "GEEN_ACTIE")
    # Not weighed yet: work in progress, never expires.
    waiting = register_signal(bot, MARLEEN, "Nieuwe melding")
    # A case closed long ago: anonymised, its lesson kept.
    old = register_signal(bot, HANS, "Oud dossier", identity=secret("oud"), details=secret("oud-details"))
    weigh(bot, FATIMA, old.signal_id, "CASUS")
    old_case = case_of(bot, old.signal_id)
    finish_intervention(bot, old_case, secret("oud-resultaat"), secret("oud-effect"))
    close_case(bot, old_case)
    # A backup alert, closed.
    alert_id = raise_and_close_alert(bot, secret("wat"), secret("waar"), secret("afloop"), secret("actie"))
    deliver(bot)

    days_pass(bot, 366)
    before = row_counts(bot.services.engine)
    dry = samen(monkeypatch, bot, "retention", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"signalen        signal {no_action.signal_id}: deleted" in dry.output
    assert f"signalen        signal {referred.signal_id}: deleted" in dry.output
    assert f"signalen        signal {about_case_subject.signal_id}: deleted" in dry.output
    assert f"rugdekking      backup_alert {alert_id}: anonymised" in dry.output
    assert "copies of sent messages lose their text" in dry.output
    assert f"case {old_case}" not in dry.output  # a case keeps five years
    assert row_counts(bot.services.engine) == before  # a dry run changes nothing (and writes no audit entry)

    # The coordinator sees in Slack what tonight's run removes; a member sees only the periods.
    answer = bot.driver.command("/samen", "privacy", user=FATIMA.user_id, team=FATIMA.team_id).json()
    assert (
        "Signalen die niet zijn opgepakt (geen actie, of doorverwezen): 1 jaar — vannacht gaan er 3 weg"
        in (visible_text(answer["blocks"]))
    )
    answer = bot.driver.command("/samen", "privacy", user=HANS.user_id, team=HANS.team_id).json()
    assert "Gesloten casussen (geanonimiseerd): 5 jaar" in visible_text(answer["blocks"])
    assert "vannacht" not in visible_text(answer["blocks"])

    # The nightly job: two workers, one run.
    [job] = [j for j in all_jobs() if j.name == "retention"]
    assert run_once(bot.services, job, worker="worker-1") is True
    assert run_once(bot.services, job, worker="worker-2") is False

    with bot.services.session() as session:
        remaining = set(session.exec(select(Signal.id)).all())
        assert remaining == {on_case.signal_id, waiting.signal_id, old.signal_id}
        codes = set(session.exec(select(Subject.code)).all())
        assert case_subject in codes  # the open case needs it
        assert no_action.codes[0] not in codes  # nothing needed it any more: its identity is gone
        alert = session.get(BackupAlert, alert_id)
        assert alert is not None
        assert (alert.reporter, alert.description, alert.place, alert.summary) == ("", None, None, None)
        assert session.exec(select(SupportAction.note)).all() == [None]
        # What the figures need stays: every partner's acknowledgement.
        assert all(p.acknowledged_at for p in session.exec(select(AlertPartner)).all())
        sent = session.exec(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENT)).all()
        assert sent and all(erase.is_purged(row.args) and row.context is None for row in sent)
        assert all(row.result_ts for row in sent if row.method == "chat.postMessage")  # threads still work
        assert verify(session).ok
    actions = audit_actions(bot)
    assert actions.count("signal.deleted") == 3
    assert actions.count("subject.deleted") == 1  # the bewoner's: no other signal or case names it
    assert actions.count("backup_alert.anonymised") == 1
    assert actions.count("outbox.purged") == 1

    # Four more years: the closed case is anonymised; the open case is untouched.
    days_pass(bot, 4 * 365)
    with bot.services.session() as session:
        applied = retention.apply(session, periods=parse_periods(""), now=utcnow())
    with bot.services.session() as session:  # the next night: nothing left to do, nothing audited twice
        again = retention.apply(session, periods=parse_periods(""), now=utcnow())
        assert again.erased == [] and again.messages == 0
    assert [(e.object_type, e.object_id, e.how) for _, e in applied.erased][:2] == [
        ("case", old_case, "anonymised"),
        ("signal", old.signal_id, "deleted"),
    ]
    with bot.services.session() as session:
        closed = session.get(Case, old_case)
        assert closed is not None and closed.title == erase.ANONYMISED_TITLE
        assert session.exec(select(CaseSubject).where(CaseSubject.case_id == old_case)).all() == []
        assert session.exec(select(CaseSignal).where(CaseSignal.case_id == old_case)).all() == []
        assert session.exec(select(CaseScore).where(CaseScore.case_id == old_case)).all() == []
        done = session.exec(select(Intervention).where(Intervention.case_id == old_case)).one()
        assert (done.result, done.effect) == (None, None)
        assert session.exec(select(Lesson)).one().text == "Samen met de gemeente sluiten werkt"
        still_open = session.get(Case, open_case)
        assert still_open is not None and still_open.title != erase.ANONYMISED_TITLE
        assert session.get(Signal, on_case.signal_id) is not None
        assert verify(session).ok


# --- 3. access and erasure requests ----------------------------------------------------------------------


def test_an_access_request_gets_everything_stored_about_a_subject_and_is_audited(
    slack: BotUnderTest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bot = slack
    first = register_signal(
        bot,
        MARLEEN,
        "Loods met busjes",
        identity=secret("Loods-Hazeldonk"),
        details=secret("eerste"),
        kind="LOCATIE",
    )
    [code] = first.codes
    second = register_signal(bot, HANS, "Weer busjes bij de loods", codes=code, details=secret("tweede"))
    weigh(bot, FATIMA, second.signal_id, "CASUS")
    case_id = case_of(bot, second.signal_id)
    finish_intervention(bot, case_id, secret("resultaat"), secret("effect"))
    unrelated = register_signal(bot, HANS, "Iets anders", details=secret("niet-over-dit-subject"))
    deliver(bot)

    answer = samen(monkeypatch, bot, "inzage", code.lower(), "--doel", "AVG-verzoek 2026-17 via de FG")
    assert answer.exit_code == 0, answer.output
    found = json.loads(answer.output)
    assert found["subject"]["code"] == code and found["subject"]["identity"] == secret("Loods-Hazeldonk")
    assert found["notice"].startswith("For the privacy officer (FG) only.")
    assert [s["id"] for s in found["signals"]] == [first.signal_id, second.signal_id]
    assert [s["details"] for s in found["signals"]] == [secret("eerste"), secret("tweede")]
    assert found["signals"][1]["weighing"][0]["reason"] == "Patroon past"
    assert [c["id"] for c in found["cases"]] == [case_id]
    assert found["interventions"][0]["result"] == secret("resultaat")
    assert found["interventions"][0]["lesson"]["text"] == "Samen met de gemeente sluiten werkt"
    assert {"signal.registered", "signal.weighed", "subject.matched"} <= {
        e["action"] for e in found["audit_log"]
    }
    assert any(m["key"].startswith(f"signal:{first.signal_id}:") for m in found["messages"])
    assert secret("niet-over-dit-subject") not in answer.output
    assert unrelated.signal_id not in [s["id"] for s in found["signals"]]
    assert audit_actions(bot)[-1] == "subject.access_report"  # the reading is logged, with its purpose

    out = tmp_path / "inzage.md"
    answer = samen(
        monkeypatch,
        bot,
        "inzage",
        code,
        "--doel",
        "AVG-verzoek 2026-17",
        "--format",
        "markdown",
        "--out",
        str(out),
    )
    assert answer.exit_code == 0, answer.output
    assert f"{code}: 2 signals, 1 cases" in answer.output
    written = out.read_text(encoding="utf-8")
    assert written.startswith(f"# Inzage: {code}") and secret("tweede") in written
    assert out.stat().st_mode & 0o077 == 0  # only its maker may read it

    for wrong, says in (
        ("S-2026-XXXX", "is not a subject code"),
        ("S-1999-0001", "there is no subject S-1999-0001"),
    ):
        answer = samen(monkeypatch, bot, "inzage", wrong, "--doel", "test")
        assert answer.exit_code == 1 and says in answer.output
    answer = samen(monkeypatch, bot, "inzage", code)
    assert answer.exit_code == 2 and "--purpose must say why" in answer.output


def test_a_subject_is_erased_where_the_law_allows_and_never_while_an_open_case_needs_it(
    slack: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = slack
    on_case = register_signal(bot, HANS, "Loods", identity=secret("loods"), kind="LOCATIE")
    weigh(bot, FATIMA, on_case.signal_id, "CASUS")
    [case_code] = on_case.codes
    person = register_signal(bot, MARLEEN, "Bewoner gezien", identity=secret("bewoner"), details=secret("a"))
    [code] = person.codes
    both = register_signal(bot, MARLEEN, "Samen gezien", codes=f"{code} {case_code}", details=secret("b"))
    deliver(bot)

    # Refused, and nothing changes: an open case needs the subject; a signal is still being weighed.
    before = row_counts(bot.services.engine)
    refused = samen(monkeypatch, bot, "vergeet", case_code, "--doel", "AVG-verzoek 2026-18", "--yes")
    assert refused.exit_code == 1
    assert f"an open case needs it (case {case_of(bot, on_case.signal_id)})" in refused.output
    refused = samen(monkeypatch, bot, "vergeet", code, "--doel", "AVG-verzoek 2026-19", "--yes")
    assert refused.exit_code == 1
    assert f"signal {person.signal_id} is still being weighed" in refused.output
    assert row_counts(bot.services.engine) == before

    also = register_signal(bot, HANS, "Ook gezien", codes=code)  # the politie has something on it too
    for signal in (person, both, also):
        weigh(bot, FATIMA, signal.signal_id, "GEEN_ACTIE")
    # An alignment moment on the subject: another feature's table, found through its foreign key.
    from bot.checkins import alignment as alignments
    from bot.checkins.models import Alignment
    from bot.partners.service import require_member

    with bot.services.session() as session:
        marleen = require_member(session, team_id=MARLEEN.team_id, user_id=MARLEEN.user_id)
        alignments.call(
            session,
            actor=marleen,
            code=code,
            topic="Afstemmen",
            settings=bot.services.settings,
            language="nl",
        )
    report = json.loads(samen(monkeypatch, bot, "inzage", code, "--doel", "AVG-verzoek 2026-19").output)
    assert [row["topic"] for row in report["other_records"]["alignment"]] == ["Afstemmen"]
    assert report["other_records"]["alignment_invite"]
    dry = samen(monkeypatch, bot, "vergeet", code, "--doel", "AVG-verzoek 2026-19", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"signals about it alone: deleted: {person.signal_id}, {also.signal_id}" in dry.output
    assert f"signals also about others: the link and their details removed: {both.signal_id}" in dry.output
    not_sure = samen(monkeypatch, bot, "vergeet", code, "--doel", "AVG-verzoek 2026-19", input="n\n")
    assert not_sure.exit_code == 1 and "nothing was erased" in not_sure.output

    done = samen(monkeypatch, bot, "vergeet", code, "--doel", "AVG-verzoek 2026-19", "--yes")
    assert done.exit_code == 0, done.output
    with bot.services.session() as session:
        assert session.exec(select(Subject).where(Subject.code == code)).first() is None
        assert session.get(Signal, person.signal_id) is None
        kept = session.get(Signal, both.signal_id)
        assert (
            kept is not None and kept.details is None
        )  # about another subject too: only the link and details go
        assert session.exec(select(Alignment)).all() == []  # the alignment on it went with it
        assert session.exec(select(Subject).where(Subject.code == case_code)).one().identity == secret(
            "loods"
        )
        assert verify(session).ok
    actions = audit_actions(bot)
    assert {"subject.deleted", "signal.deleted", "signal.unlinked"} <= set(actions)
    gone = samen(monkeypatch, bot, "inzage", code, "--doel", "controle na verwijderen")
    assert gone.exit_code == 1 and f"there is no subject {code}" in gone.output


def test_answers_to_a_check_in_are_removed_after_their_period(slack: BotUnderTest) -> None:
    """The Monday stand-up: the gemeente answers; 90 days after it closed, the answers are gone, and
    that the gemeente answered (and when) stays for the figures."""
    from bot.checkins import answers
    from bot.checkins import jobs as checkin_jobs
    from bot.checkins import service as checkins
    from bot.checkins.models import CheckinAnswer, CheckinMoment, CheckinSchedule
    from bot.partners.models import PersonRef as Ref
    from bot.partners.service import require_member

    bot = slack
    services = bot.services
    with services.session() as session:
        fatima = require_member(session, team_id=FATIMA.team_id, user_id=FATIMA.user_id)
        planned = checkins.plan(
            session,
            actor=fatima,
            data=checkins.PlanInput(
                channel_id="C0SAMEN",
                team_id=FATIMA.team_id,
                weekdays=frozenset(range(7)),
                clock="09:00",
                timezone="Europe/Amsterdam",
                include_holidays=True,
                questions="Waar werk je aan?",
                ask_partner_need=False,
                partner_ids=(),
                people=(Ref(MARLEEN.team_id, MARLEEN.user_id),),
                window_minutes=60,
                language="nl",
            ),
        )
        opens = planned.schedule.next_at
        assert opens is not None
    with services.session() as session:
        checkin_jobs.tick(session, services, opens)
        moment = session.exec(select(CheckinMoment)).one()
        marleen = require_member(session, team_id=MARLEEN.team_id, user_id=MARLEEN.user_id)
        answers.answer(
            session,
            actor=marleen,
            moment_id=int(moment.id or 0),
            data=answers.AnswerInput(answers=("Sluiting pand Kerkstraat voorbereiden",)),
            settings=services.settings,
            now=opens + timedelta(minutes=5),
        )
        checkin_jobs.tick(session, services, moment.closes_at)
        closes_at = moment.closes_at

    periods = parse_periods("")
    with services.session() as session:
        early = retention.apply(session, periods=periods, now=closes_at + timedelta(days=89))
        assert early.erased == []
        applied = retention.apply(session, periods=periods, now=closes_at + timedelta(days=91))
        assert [(e.object_type, e.how) for _, e in applied.erased] == [("checkin_moment", "anonymised")]
    with services.session() as session:
        answer = session.exec(select(CheckinAnswer)).one()
        assert (answer.answers, answer.need_text) == (None, None)
        assert answer.answered_at is not None and answer.version == 1
        assert session.exec(select(CheckinSchedule)).one().id == planned.schedule.id
        assert verify(session).ok
    assert audit_actions(bot)[-1] == "checkin_moment.anonymised"


def test_privacy_is_in_the_help_and_the_app_home_in_both_languages(slack: BotUnderTest) -> None:
    bot = slack
    for locale, summary, home in (
        ("nl-NL", "Hoe Samen beschermt wat je deelt", "Vertrouwelijke gegevens zijn versleuteld"),
        ("en-GB", "How Samen protects what you share", "Restricted data is encrypted"),
    ):
        helped = bot.driver.command("/samen", "help", user=FATIMA.user_id, team=FATIMA.team_id, locale=locale)
        assert summary in visible_text(helped.json()["blocks"])
        bot.double.add_user(FATIMA.user_id, team_id=FATIMA.team_id, locale=locale)
        before = len(bot.double.calls_to("views.publish"))
        bot.driver.event({"type": "app_home_opened", "user": FATIMA.user_id, "tab": "home"})
        published = bot.double.wait_for("views.publish", count=before + 1)[-1]
        shown = visible_text(published.args["view"]["blocks"])
        assert home in shown
        assert ("Vannacht verloopt er niets." if locale == "nl-NL" else "Nothing expires tonight.") in shown
    # A member sees the periods, not what is due.
    answer = bot.driver.command("/samen", "privacy", user=HANS.user_id, team=HANS.team_id)
    assert "Vannacht" not in visible_text(answer.json()["blocks"])
    refused = bot.driver.command("/samen", "privacy nu", user=HANS.user_id, team=HANS.team_id)
    assert "heeft geen verdere woorden nodig" in visible_text(refused.json()["blocks"])

"""Signal search (issue 21): through an index on both databases, with the semantics people expect.

Every word must occur, as a substring, case and common accents ignored, in a signal's summary, location,
category or one of its subject codes. Restricted (sealed) text is never found and never indexed. Each
case runs on SQLite (FTS5) and PostgreSQL (pg_trgm), and through both ways `newest_matching` answers:
the newest signals matched directly ("window") and the index ("index").
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import ENCRYPTION_KEY, BotUnderTest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_signals import BERT, HANS, ask, register, set_up

from bot.clock import utcnow
from bot.crypto import keyring
from bot.db import make_engine, upgrade
from bot.partners.models import Partner, PartnerType
from bot.privacy.erase import erase_signal
from bot.signals import search
from bot.signals.models import Signal, SignalSubject
from bot.subjects.models import Subject
from bot.vocabulary import SignalCategory, SubjectKind

MIGRATION = Path(__file__).parent.parent / "bot/migrations/versions/0011_search_and_queue_indexes.py"
SECRET = "Kerkstraat"  # only in sealed columns: never to be found


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    keyring.configure(ENCRYPTION_KEY)  # sealed columns are written below, as Services would set up
    upgrade(database_url)
    made = make_engine(database_url)
    with Session(made) as session:
        session.add(Partner(name="Gemeente Breda", type=PartnerType.GEMEENTE))
        session.commit()
    yield made
    made.dispose()


@pytest.fixture(params=["window", "index"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "index":
        monkeypatch.setattr(search, "WINDOW", 0)  # nothing read directly: every answer from the index
    return str(request.param)


def add(
    session: Session,
    summary: str,
    *,
    location: str | None = None,
    category: SignalCategory = SignalCategory.OVERIG,
    codes: tuple[str, ...] = (),
    age_days: int = 0,
) -> int:
    signal = Signal(
        summary=summary,
        category=category,
        location_or_sector=location,
        details=f"afgeschermd: {SECRET} 12",
        partner_id=1,
        reporter_team_id="T0",
        reporter_user_id="U0",
        created_at=utcnow() - timedelta(days=age_days),
    )
    session.add(signal)
    session.flush()
    for code in codes:
        subject = session.exec(select(Subject).where(Subject.code == code)).first()
        if subject is None:
            subject = Subject(
                code=code,
                kind=SubjectKind.LOCATIE,
                identity=f"{SECRET} 12, Breda",
                partner_id=1,
                created_by_team_id="T0",
                created_by_user_id="U0",
            )
            session.add(subject)
            session.flush()
        session.add(SignalSubject(signal_id=signal.id or 0, subject_id=subject.id or 0))
    session.flush()
    return signal.id or 0


def found(engine: Engine, term: str) -> list[str]:
    with Session(engine) as session:
        return [s.summary for s in search.newest_matching(session, term.split(), 15)]


@pytest.fixture
def signals(engine: Engine) -> Engine:
    with Session(engine) as session:
        add(
            session,
            "Café De Ruïne: 's nachts busjes bij de loods",
            location="Hazeldonk, Breda",
            category=SignalCategory.DRUGS,
            codes=("S-2026-0042",),
            age_days=3,
        )
        add(
            session,
            "Nagelstudio met veel contant geld",
            location="Tilburg",
            category=SignalCategory.WITWASSEN,
        )
        add(session, "Korting van 50% op kamerhuur", category=SignalCategory.WITWASSEN, age_days=1)
        add(session, "ÉCOLE DE DANSE met wisselende eigenaren", location="Ede", age_days=2)
        session.commit()
    return engine


CAFE = "Café De Ruïne: 's nachts busjes bij de loods"
NAGEL = "Nagelstudio met veel contant geld"
KORTING = "Korting van 50% op kamerhuur"
ECOLE = "ÉCOLE DE DANSE met wisselende eigenaren"


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("cafe", [CAFE]),  # accents ignored both ways
        ("CAFÉ", [CAFE]),
        ("ruine", [CAFE]),
        ("Ruïne", [CAFE]),
        ("ecole", [ECOLE]),  # an upper-case accented letter too
        ("école", [ECOLE]),
        ("NAGEL", [NAGEL]),  # case ignored
        ("studio", [NAGEL]),  # a substring, in the middle of a word
        ("donk", [CAFE]),  # in the location
        ("drugs", [CAFE]),  # the category
        ("witwassen", [NAGEL, KORTING]),  # newest first
        ("0042", [CAFE]),  # a subject code, in part
        ("s-2026-0042", [CAFE]),
        ("loods breda", [CAFE]),  # every word, each in any field
        ("loods tilburg", []),
        ("50%", [KORTING]),  # % and _ are letters, not wildcards
        ("5_%", []),
        ("de", [ECOLE, CAFE]),  # a short word: no trigram, still found
        ("ed", [ECOLE, CAFE]),  # ("Ede", "bij de loods")
        (SECRET.lower(), []),  # sealed details and identities are never searched
        ("afgeschermd", []),
        ("'s", [CAFE]),
        ('"loods"', []),  # quotes are letters too: not an FTS5 phrase
    ],
)
def test_words_are_found_as_people_expect(signals: Engine, way: str, term: str, expected: list[str]) -> None:
    assert found(signals, term) == expected


def test_the_index_holds_no_restricted_text(signals: Engine) -> None:
    with signals.connect() as connection:
        if signals.dialect.name == "postgresql":
            rows = connection.execute(text("SELECT search_text FROM signal")).scalars().all()
        else:
            rows = connection.execute(text("SELECT text FROM signal_fts")).scalars().all()
    assert len(rows) == 4
    assert all(SECRET.lower() not in row and "afgeschermd" not in row for row in rows)


def test_the_index_follows_every_write(engine: Engine, way: str) -> None:
    with Session(engine) as session:
        first = add(session, "Loods op het bedrijventerrein", codes=("S-2026-0001",))
        session.commit()
    assert found(engine, "bedrijventerrein 0001") == ["Loods op het bedrijventerrein"]
    with Session(engine) as session:  # a subject linked later is found by its code
        later = add(session, "Shishalounge met wisselende eigenaren")
        session.add(SignalSubject(signal_id=later, subject_id=1))
        session.commit()
    assert found(engine, "s-2026-0001") == [
        "Shishalounge met wisselende eigenaren",
        "Loods op het bedrijventerrein",
    ]
    with Session(engine) as session:  # and no longer when the link goes
        link = session.exec(select(SignalSubject).where(SignalSubject.signal_id == later)).one()
        session.delete(link)
        session.commit()
    assert found(engine, "s-2026-0001") == ["Loods op het bedrijventerrein"]
    with Session(engine) as session:  # an erased signal is gone from the index
        erase_signal(session, first)
        session.commit()
    assert found(engine, "bedrijventerrein") == []


def test_an_erased_signals_words_are_gone_from_the_sqlite_file(sqlite_url: str) -> None:
    # FTS5 keeps a deleted row's trigrams in older index segments until they merge: erasure merges them,
    # so "deleted" also means gone from the file (secure_delete overwrites the freed pages).
    keyring.configure(ENCRYPTION_KEY)
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        session.add(Partner(name="Gemeente Breda", type=PartnerType.GEMEENTE))
        session.flush()
        for n in range(50):
            add(session, f"Gewone melding {n} over de haven")
        erased = [add(session, "Zwaluwstaartvlinderkwekerij"), add(session, "Vlinderkwekerij Zwaluw")]
        session.commit()
    merges: list[str] = []
    event.listen(
        engine, "before_cursor_execute", lambda *a: merges.append(a[2]) if "optimize" in a[2] else None
    )
    with Session(engine) as session:
        for signal_id in erased:
            erase_signal(session, signal_id)
        session.commit()
    assert len(merges) == 1  # once per transaction: a merge rewrites the whole index
    engine.dispose()
    stored = Path(sqlite_url.removeprefix("sqlite:///")).read_bytes()
    assert [piece for piece in (b"zwa", b"luw", b"vlin", b"kwe") if piece in stored] == []


def test_the_search_asks_the_index(signals: Engine) -> None:
    with Session(signals) as session:
        query = search.index_query(session, [search.fold("Ruïne"), search.fold("loods")], 15)
        compiled = query.compile(signals, compile_kwargs={"literal_binds": True})
        if signals.dialect.name == "postgresql":
            session.connection().exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = "\n".join(r[0] for r in session.connection().exec_driver_sql(f"EXPLAIN {compiled}"))
            assert "ix_signal_search" in plan and "ix_subject_code_search" in plan
            assert "Seq Scan on signal" not in plan
        else:
            rows = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
            plan = "\n".join(str(r[-1]) for r in rows)
            assert "VIRTUAL TABLE INDEX" in plan and "SCAN signal\n" not in plan + "\n"


def test_the_migration_folds_as_the_search_does() -> None:
    spec = importlib.util.spec_from_file_location("migration_0011", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert (migration.FOLD_FROM, migration.FOLD_TO) == (search.FOLD_FROM, search.FOLD_TO)
    assert migration.PG_SIGNAL_TEXT == search.PG_SIGNAL_TEXT
    assert search.fold("Ruïne CAFÉ Façade") == "ruine cafe facade"


@pytest.fixture
def slack_on(bot_on: BotUnderTest) -> BotUnderTest:
    return set_up(bot_on)


def test_signalen_finds_through_slack_on_both_databases(slack_on: BotUnderTest) -> None:
    register(slack_on, HANS, "Loods bij Café De Ruïne", details=f"afgeschermd: {SECRET} 12")
    shown = ask(slack_on, BERT, "signalen cafe ruine")
    assert "Loods bij Café De Ruïne" in shown
    assert SECRET not in shown  # the list shows only what the whole partnership may see
    assert "Geen signaal past bij “kerkstraat”" in ask(slack_on, BERT, "signalen kerkstraat")

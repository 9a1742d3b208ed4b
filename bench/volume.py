"""Every command at a national partnership's size: p50/p99 small vs large, on SQLite and PostgreSQL.

    .venv/bin/python bench/volume.py [--quick] [--requests 60] [--db sqlite,postgresql] [--sizes small,large]

For each database and size the bench fills a migrated database in bulk (cached under bench/results/volume/,
keyed by size, scale and the schema's head, so a rerun does not fill it again) — large: 100,000 signals,
10,000 cases (≈ 3,000 open), 50,000 interventions, 200 partners with 2,000 members, 100,000 audit
entries in a valid chain; small: 100 signals, 20 cases, 100 interventions — with statuses and dates spread
over two years. It times `samen audit verify` on it, then starts `samen serve` (gunicorn) and `samen worker`
(for the overview's charts) against a Slack double in this process, and sends signed requests at
concurrency 4 (one member and one coordinator per thread): `/samen help`, `werkvoorraad`, `signalen
<term>`, `casus <n>`, `lessen`, `doelen`, `mijn`, App Home (app_home_opened) of a member and of a
coordinator, and `overzicht 4w`, whose figures and charts are awaited at the double.

A command's time is the HTTP answer (Bolt answers when the listener acks); App Home's is the event's send
until `views.publish` for that person reaches the double. "failed": over Slack's 3 s deadline, or no
answer. Targets: p99 ≤ 1 s for every command at the large size; large/small p50 ≤ 2 for the commands that
show a bounded page; overzicht answered ≤ 1 s and its figures and charts delivered ≤ 10 s at the large
size; `samen audit verify` of 100,000 entries ≤ 5 s. Exits 0 whatever the figures unless `--strict`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from _common import (  # also puts the repository and tests/ on sys.path
    BENCH_DIR,
    LOOPBACK,
    ROOT,
    SIGNING_SECRET,
    child_env,
    free_port,
    http_ok,
    machine_notes,
    percentile,
    samen_env,
    slack_double,
    start_process,
    stop_on_sigterm,
    stop_process,
    throwaway_postgres,
    verdict,
    wait_until,
)
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from bot.audit import GENESIS_HASH, AuditEntry, canonical_json, entry_hash
from bot.authz import Role
from bot.cases.models import (
    Case,
    CasePartner,
    CaseScore,
    CaseSignal,
    CaseStatus,
    CaseSubject,
    SelectionCriterion,
)
from bot.cases.totals import refresh as refresh_totals
from bot.db import head_revisions, upgrade
from bot.interventions.models import (
    ACTIVE_STATUSES,
    Goal,
    Intervention,
    InterventionPartner,
    InterventionStatus,
    Lesson,
)
from bot.partners.models import Member, Partner, PartnerType
from bot.signals.cards import SEARCH_LIMIT
from bot.signals.models import Signal, SignalStatus, SignalSubject
from bot.slack.wsgi import SLACK_PATH
from bot.subjects.models import Subject
from bot.vocabulary import (
    Contribution,
    FocusElement,
    InstrumentType,
    SignalCategory,
    SubjectKind,
    SubjectRole,
)
from commands.interventions import PAGE

if TYPE_CHECKING:
    from slackdouble import SlackDouble

CACHE = BENCH_DIR / "results" / "volume"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEADLINE = 3.0  # Slack's: past it, the person sees an error
P99_TARGET = 1.0
RATIO_TARGET = 2.0
OVERVIEW_DELIVERED_TARGET = 10.0
VERIFY_TARGET = 5.0
CONCURRENCY = 4
CHUNK = 5_000
YEARS = 2
SEED = 21


@dataclass(frozen=True)
class Size:
    name: str
    signals: int
    cases: int
    open_cases: int
    interventions: int
    partners: int
    members: int
    audit: int

    def scaled(self, factor: float) -> Size:
        if factor == 1:
            return self
        counts = {k: max(1, round(v * factor)) for k, v in asdict(self).items() if k != "name"}
        counts["partners"] = max(10, counts["partners"])
        counts["members"] = max(50, counts["members"])
        return Size(name=f"{self.name}×{factor:g}", **counts)


SIZES = {
    "small": Size("small", 100, 20, 6, 100, 10, 50, 1_000),
    "large": Size("large", 100_000, 10_000, 3_000, 50_000, 200, 2_000, 100_000),
}
TEAM = "T0SAMEN"  # the double's default team: the driver's payloads carry it


# -- filling a database in bulk ---------------------------------------------------------------------

PLACES = [
    "Rotterdam", "Tilburg", "Breda", "Eindhoven", "Venlo", "Zwolle", "Almere", "Lelystad", "Arnhem",
    "Nijmegen", "Groningen", "Leeuwarden", "Assen", "Emmen", "Deventer", "Enschede", "Helmond", "Oss",
    "Roosendaal", "Bergen op Zoom", "Vlissingen", "Middelburg", "Terneuzen", "Dordrecht", "Gouda",
    "Zoetermeer", "Delft", "Leiden", "Haarlem", "Zaandam", "Hoorn", "Den Helder", "Alkmaar", "Amersfoort",
    "Utrecht", "Hilversum", "Apeldoorn", "Ede", "Heerlen", "Maastricht", "Sittard", "Roermond", "Weert",
]  # fmt: skip
WHAT = [
    "hennepkwekerij in loods", "opvallend veel contant geld bij nagelstudio", "leegstaand pand met verkeer "
    "'s nachts", "autoverhuur zonder administratie", "kamerverhuur aan arbeidsmigranten", "shishalounge "
    "met wisselende eigenaren", "vastgoedaankopen contant betaald", "drugsafval gedumpt in bosperceel",
    "intimidatie van ambtenaar bij controle", "snelle omzetgroei bij kapperszaak", "motorclub houdt "
    "bijeenkomst in clubhuis", "stroomverbruik boerderij sterk gestegen", "bedrijf wisselt vaak van "
    "bestuurder", "loods verhuurd via stroman", "vrachtverkeer bij gesloten garagebedrijf",
]  # fmt: skip
TERM = "Terneuzen"  # one place among PLACES: ≈ 1 in 43 signals, so a search has work but finds plenty


def _spread(rng: random.Random, now: datetime, count: int) -> list[datetime]:
    """`count` moments over the last YEARS years, ascending."""
    span = YEARS * 365 * 86_400
    return sorted(now - timedelta(seconds=rng.random() * span) for _ in range(count))


def _bulk(connection: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        connection.execute(insert(table), rows[start : start + CHUNK])


@dataclass
class Facts:
    """What the load needs to know about a filled database: who asks, which case, which term."""

    members: list[str] = field(default_factory=list)
    coordinators: list[str] = field(default_factory=list)
    open_case: int = 0
    term: str = TERM
    counts: dict[str, int] = field(default_factory=dict)


def fill(url: str, size: Size, now: datetime, seed: int = SEED) -> Facts:
    """A migrated database at `url` filled to `size`; every row inserted in bulk with explicit ids."""
    rng = random.Random(seed)
    engine = create_engine(url)
    facts = Facts()
    try:
        with engine.begin() as connection:
            partners, members = _partners(connection, rng, size, now, facts)
            signals = _signals(connection, rng, size, now, partners, members)
            cases = _cases(connection, rng, size, now, partners, members, signals, facts)
            _interventions(connection, rng, size, now, partners, members, cases, facts)
            _goals(connection, rng, now, partners, members)
            _audit(connection, rng, size, now, members)
            if engine.dialect.name == "postgresql":
                _reset_sequences(connection)
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        else:
            with engine.connect() as connection:
                connection.execute(text("ANALYZE"))
                connection.commit()
        facts.counts = _counts(engine)
    finally:
        engine.dispose()
    return facts


def _partners(
    connection: Any, rng: random.Random, size: Size, now: datetime, facts: Facts
) -> tuple[list[int], dict[int, list[str]]]:
    types = list(PartnerType)
    rows = [
        {
            "id": n,
            "name": f"{types[n % len(types)].value.title()} {PLACES[n % len(PLACES)]} {n}",
            "type": types[n % len(types)].value,
            "capacity": 200,
            "created_at": now - timedelta(days=YEARS * 365 + 10),
            "updated_at": now - timedelta(days=YEARS * 365 + 10),
        }
        for n in range(1, size.partners + 1)
    ]
    _bulk(connection, Partner, rows)
    members: dict[int, list[str]] = {n: [] for n in range(1, size.partners + 1)}
    member_rows = []
    for n in range(1, size.members + 1):
        partner_id = (n - 1) % size.partners + 1
        user_id = f"U0V{n:07d}"
        # One coordinator per partner for the first ten partners (and the first person an admin).
        coordinator = n <= min(10, size.partners)
        role = Role.ADMIN if n == 1 else Role.COORDINATOR if coordinator else Role.MEMBER
        member_rows.append(
            {
                "id": n,
                "team_id": TEAM,
                "user_id": user_id,
                "partner_id": partner_id,
                "role": role.value,
                "display_name": f"Deelnemer {n}",
                "created_at": now - timedelta(days=rng.randint(30, YEARS * 365)),
            }
        )
        members[partner_id].append(user_id)
        if role is Role.COORDINATOR:
            facts.coordinators.append(user_id)
        elif role is Role.MEMBER and len(facts.members) < CONCURRENCY and n > size.partners:
            facts.members.append(user_id)
    _bulk(connection, Member, member_rows)
    return list(members), members


def _signals(
    connection: Any,
    rng: random.Random,
    size: Size,
    now: datetime,
    partners: list[int],
    members: dict[int, list[str]],
) -> list[tuple[int, SignalStatus, int]]:
    """Signals (with one subject each, shared by two on average); (id, status, subject id) each."""
    categories, kinds = list(SignalCategory), list(SubjectKind)
    subjects = max(1, size.signals // 2)
    subject_rows = [
        {
            "id": n,
            "code": f"S-{now.year - rng.randint(0, YEARS)}-{n:06d}",
            "kind": kinds[n % len(kinds)].value,
            "role": (SubjectRole.SLEUTELPERSOON if n % 7 == 0 else SubjectRole.BETROKKENE).value,
            "partner_id": rng.choice(partners),
            "created_by_team_id": TEAM,
            "created_by_user_id": "U0V0000001",
            "created_at": now - timedelta(days=YEARS * 365),
        }
        for n in range(1, subjects + 1)
    ]
    _bulk(connection, Subject, subject_rows)
    rows, links, made = [], [], []
    recent = now - timedelta(days=60)
    for n, at in enumerate(_spread(rng, now - timedelta(hours=1), size.signals), start=1):
        partner_id = rng.choice(partners)
        status = _signal_status(rng, at >= recent)
        closed = status in (SignalStatus.GEEN_ACTIE, SignalStatus.DOORVERWEZEN)
        rows.append(
            {
                "id": n,
                "summary": f"{rng.choice(WHAT).capitalize()} in {rng.choice(PLACES)} (melding {n})",
                "category": rng.choice(categories).value,
                "focus_element": rng.choice(list(FocusElement)).value,
                "location_or_sector": rng.choice(PLACES),
                "partner_id": partner_id,
                "reporter_team_id": TEAM,
                "reporter_user_id": rng.choice(members[partner_id] or ["U0V0000001"]),
                "status": status.value,
                "referred_to_partner_id": rng.choice(partners)
                if status is SignalStatus.DOORVERWEZEN
                else None,
                "share_with_coordinators": True,
                "created_at": at,
                "closed_at": min(now, at + timedelta(days=rng.randint(1, 30))) if closed else None,
            }
        )
        subject = rng.randint(1, subjects)
        links.append({"signal_id": n, "subject_id": subject, "role": SubjectRole.BETROKKENE.value})
        made.append((n, status, subject))
    _term_on_a_full_page(rows)
    _bulk(connection, Signal, rows)
    _bulk(connection, SignalSubject, links)
    return made


def _term_on_a_full_page(rows: list[dict[str, Any]]) -> None:
    """At least two pages of `signalen TERM` hits, spread over the whole period: at the small size one
    place in 43 is two or three signals of 100, so the search there showed fewer hits than at the large
    size, and the large/small ratio measured a fuller page rather than more data. The large size has
    thousands already and is left as it is; no random draw is taken, so the rest stays the same."""
    wanted = 2 * SEARCH_LIMIT
    holding = sum(1 for row in rows if TERM in row["summary"] or row["location_or_sector"] == TERM)
    if holding >= wanted or not rows:
        return
    step = max(1, len(rows) // wanted)
    for row in rows[step - 1 :: step][: wanted - holding]:
        row["location_or_sector"] = TERM


def _signal_status(rng: random.Random, recent: bool) -> SignalStatus:
    draw = rng.random()
    if recent and draw < 0.6:  # the last two months: most still waiting to be weighed
        return SignalStatus.NIEUW if draw < 0.4 else SignalStatus.IN_WEGING
    if draw < 0.8:
        return rng.choice((SignalStatus.GEEN_ACTIE, SignalStatus.GEEN_ACTIE, SignalStatus.DOORVERWEZEN))
    return SignalStatus.CASUS


def _cases(
    connection: Any,
    rng: random.Random,
    size: Size,
    now: datetime,
    partners: list[int],
    members: dict[int, list[str]],
    signals: list[tuple[int, SignalStatus, int]],
    facts: Facts,
) -> list[tuple[int, datetime, bool, int]]:
    """Cases, the newest mostly open; (id, created_at, open, lead partner) each."""
    moments = _spread(rng, now - timedelta(days=1), size.cases)
    # The newest two thirds of the open ones, and a third scattered among the older cases.
    newest = set(range(size.cases - (2 * size.open_cases) // 3 + 1, size.cases + 1))
    older = rng.sample(range(1, size.cases - len(newest) + 1), size.open_cases - len(newest))
    open_ids = newest | set(older)
    focus = list(FocusElement)
    rows, made, joined = [], [], []
    contributions = list(Contribution)
    for n, at in enumerate(moments, start=1):
        lead = rng.choice(partners)
        is_open = n in open_ids
        rows.append(
            {
                "id": n,
                "title": f"C-{at.year}-{n:05d}",
                "lead_partner_id": lead,
                "focus_element": rng.choice(focus).value,
                "strategic": rng.random() < 0.1,
                "status": (CaseStatus.OPEN if is_open else CaseStatus.GESLOTEN).value,
                "created_by_team_id": TEAM,
                "created_by_user_id": rng.choice(members[lead] or ["U0V0000001"]),
                "created_at": at,
                "closed_at": None if is_open else min(now, at + timedelta(days=rng.randint(30, 300))),
            }
        )
        made.append((n, at, is_open, lead))
        others = rng.sample(partners, min(len(partners), 3))
        for partner in {lead, *others[: rng.randint(1, 2)]}:
            joined.append(
                {
                    "case_id": n,
                    "partner_id": partner,
                    "contribution": rng.choice(contributions).value,
                    "joined_at": at,
                }
            )
    _bulk(connection, Case, rows)
    _bulk(connection, CasePartner, joined)
    case_signals: list[dict[str, int]] = []
    case_subjects: dict[int, int] = {}
    for signal_id, status, subject in signals:
        if status is SignalStatus.CASUS:
            case_id = rng.randint(1, size.cases)
            case_signals.append({"case_id": case_id, "signal_id": signal_id})
            case_subjects.setdefault(case_id, subject)
    _bulk(connection, CaseSignal, case_signals)
    _bulk(connection, CaseSubject, [{"case_id": c, "subject_id": s} for c, s in case_subjects.items()])
    _scores(connection, rng, made, now)
    facts.open_case = max(open_ids)
    return made


CRITERIA = ("Ernst", "Impact op de wijk", "Informatiepositie", "Slagingskans", "Maatschappelijke urgentie")


def _scores(
    connection: Any, rng: random.Random, cases: list[tuple[int, datetime, bool, int]], now: datetime
) -> None:
    _bulk(
        connection,
        SelectionCriterion,
        [
            {"id": n, "name": name, "weight": 1 + n % 3, "scale_max": 5, "active": True, "created_at": now}
            for n, name in enumerate(CRITERIA, start=1)
        ],
    )
    rows = []
    for case_id, at, _open, _lead in cases:
        for criterion in rng.sample(range(1, len(CRITERIA) + 1), rng.randint(0, len(CRITERIA))):
            rows.append(
                {
                    "case_id": case_id,
                    "criterion_id": criterion,
                    "score": rng.randint(0, 5),
                    "reason": "besproken in het casusoverleg",
                    "by_team_id": TEAM,
                    "by_user_id": "U0V0000002",
                    "at": at + timedelta(days=2),
                }
            )
    _bulk(connection, CaseScore, rows)
    refresh_totals(connection)  # each open case's stored total (bot/cases/totals.py), as Samen keeps it


def _interventions(
    connection: Any,
    rng: random.Random,
    size: Size,
    now: datetime,
    partners: list[int],
    members: dict[int, list[str]],
    cases: list[tuple[int, datetime, bool, int]],
    facts: Facts,
) -> None:
    rows, joined, lessons = [], [], []
    types, focus = list(InstrumentType), list(FocusElement)
    for n in range(1, size.interventions + 1):
        case_id, case_at, is_open, lead = rng.choice(cases)
        owner = lead if rng.random() < 0.5 else rng.choice(partners)
        status = _intervention_status(rng, is_open)
        created = min(now - timedelta(hours=2), case_at + timedelta(days=rng.randint(0, 60)))
        active = status not in (InterventionStatus.UITGEVOERD, InterventionStatus.GEANNULEERD)
        done = min(now - timedelta(hours=1), created + timedelta(days=rng.randint(1, 90)))
        row = {
            "id": n,
            "case_id": case_id,
            "instrument_type": rng.choice(types).value,
            "instrument": f"Controle {n}",
            "focus_element": rng.choice(focus).value,
            "owner_partner_id": owner,
            "owner_team_id": TEAM,
            "owner_user_id": rng.choice(members[owner] or ["U0V0000001"]),
            "round": 2 if rng.random() < 0.1 else 1,
            "status": status.value,
            "window_start": (now + timedelta(days=rng.randint(1, 40))) if active else created,
            "window_has_time": False,
            "success": (rng.random() < 0.7) if status is InterventionStatus.UITGEVOERD else None,
            # Active ones: the next reminder ahead and every nudge given, so the worker's scheduled jobs
            # find nothing to send while the bench runs.
            "next_reminder_at": (now + timedelta(days=rng.randint(1, 30))) if active else None,
            "stale_stage": 2 if active else 0,
            "version": 1,
            "created_by_team_id": TEAM,
            "created_by_user_id": "U0V0000001",
            "created_at": created,
            "updated_at": now - timedelta(days=rng.randint(0, 3)) if active else done,
            "started_at": created + timedelta(days=1)
            if status is not InterventionStatus.VOORGESTELD
            else None,
            "done_at": done if not active else None,
            "cancel_reason": "niet meer nodig" if status is InterventionStatus.GEANNULEERD else None,
        }
        rows.append(row)
        if rng.random() < 0.5:
            other = rng.choice(partners)
            if other != owner:
                joined.append(
                    {"intervention_id": n, "partner_id": other, "contribution": Contribution.SLAGKRACHT.value}
                )
        if status is InterventionStatus.UITGEVOERD and rng.random() < 0.3:
            lessons.append(
                {
                    "intervention_id": n,
                    "partner_id": owner,
                    "focus_element": row["focus_element"],
                    "instrument_type": row["instrument_type"],
                    "text": f"Samen optrekken met {rng.choice(PLACES)} werkte: vooraf afstemmen helpt.",
                    "by_team_id": TEAM,
                    "by_user_id": row["owner_user_id"],
                    "created_at": done,
                }
            )
    rows += _full_pages(rows, random.Random(SEED + 1), now, members, cases, facts)
    _bulk(connection, Intervention, rows)
    _bulk(connection, InterventionPartner, joined)
    _bulk(connection, Lesson, lessons)


def _full_pages(
    rows: list[dict[str, Any]],
    rng: random.Random,
    now: datetime,
    members: dict[int, list[str]],
    cases: list[tuple[int, datetime, bool, int]],
    facts: Facts,
) -> list[dict[str, Any]]:
    """Unfinished interventions added, each on an open case, until every member the load speaks for has
    a full `/samen mijn` page at both sizes: PAGE of their own and PAGE of their partner's others. The
    small size gave them two lines where the large gave twenty, so that ratio measured a fuller page
    rather than more data (issue 21, fourth pass). Its own random draws: the rest stays the same."""
    active = [row for row in rows if InterventionStatus(row["status"]) in ACTIVE_STATUSES]
    open_cases = [case for case in cases if case[2]] or cases
    partner_of = {user: partner for partner, users in members.items() for user in users}
    added: list[dict[str, Any]] = []
    for user in facts.members:
        partner = partner_of[user]
        others = [u for u in members[partner] if u != user] or ["U0V0000001"]
        own = sum(1 for row in active if row["owner_user_id"] == user)
        theirs = sum(
            1 for row in active if row["owner_partner_id"] == partner and row["owner_user_id"] != user
        )
        wanted = [user] * max(0, PAGE - own) + [rng.choice(others) for _ in range(max(0, PAGE - theirs))]
        for owner_user in wanted:
            case_id, case_at, _open, _lead = rng.choice(open_cases)
            created = min(now - timedelta(hours=2), case_at + timedelta(days=rng.randint(0, 60)))
            status = rng.choice((InterventionStatus.TOEGEZEGD, InterventionStatus.GEPLAND))
            added.append(
                {
                    "id": len(rows) + len(added) + 1,
                    "case_id": case_id,
                    "instrument_type": rng.choice(list(InstrumentType)).value,
                    "instrument": f"Controle {len(rows) + len(added) + 1}",
                    "focus_element": rng.choice(list(FocusElement)).value,
                    "owner_partner_id": partner,
                    "owner_team_id": TEAM,
                    "owner_user_id": owner_user,
                    "round": 1,
                    "status": status.value,
                    "window_start": now + timedelta(days=rng.randint(1, 40)),
                    "window_has_time": False,
                    "success": None,
                    "next_reminder_at": now + timedelta(days=rng.randint(1, 30)),
                    "stale_stage": 2,
                    "version": 1,
                    "created_by_team_id": TEAM,
                    "created_by_user_id": "U0V0000001",
                    "created_at": created,
                    "updated_at": now - timedelta(days=rng.randint(0, 3)),
                    "started_at": created + timedelta(days=1),
                    "done_at": None,
                    "cancel_reason": None,
                }
            )
    return added


def _intervention_status(rng: random.Random, is_open: bool) -> InterventionStatus:
    if not is_open:
        return InterventionStatus.UITGEVOERD if rng.random() < 0.75 else InterventionStatus.GEANNULEERD
    return rng.choices(
        list(InterventionStatus),  # VOORGESTELD, TOEGEZEGD, GEPLAND, IN_UITVOERING, UITGEVOERD, GEANNULEERD
        weights=(15, 20, 25, 15, 20, 5),
    )[0]


def _goals(
    connection: Any, rng: random.Random, now: datetime, partners: list[int], members: dict[int, list[str]]
) -> None:
    rows = []
    for partner in partners:
        for year in (now.year - 1, now.year):
            focus = rng.choice(list(FocusElement))
            rows.append(
                {
                    "partner_id": partner,
                    "focus_element": focus.value,
                    "description": f"{rng.randint(5, 20)} interventies op {focus.value.lower()}",
                    "target": rng.randint(5, 20),
                    "year": year,
                    "created_by_team_id": TEAM,
                    "created_by_user_id": (members[partner] or ["U0V0000001"])[0],
                    "created_at": datetime(year, 1, 15, tzinfo=UTC),
                }
            )
    _bulk(connection, Goal, rows)


ACTIONS = (
    ("signal.registered", "signal"),
    ("signal.viewed", "signal"),
    ("signal.weighed", "signal"),
    ("case.viewed", "case"),
    ("case.scored", "case"),
    ("intervention.changed", "intervention"),
    ("member.added", "member"),
)


def _audit(
    connection: Any, rng: random.Random, size: Size, now: datetime, members: dict[int, list[str]]
) -> None:
    """`size.audit` entries in one valid chain, hashed by bot.audit's own function."""
    people = [user for users in members.values() for user in users] or ["U0V0000001"]
    previous, rows = GENESIS_HASH, []
    for seq, at in enumerate(_spread(rng, now - timedelta(hours=1), size.audit), start=1):
        action, object_type = rng.choice(ACTIONS)
        entry = SimpleNamespace(
            seq=seq,
            at=at,
            actor_team_id=TEAM,
            actor_user_id=rng.choice(people),
            action=action,
            object_type=object_type,
            object_id=str(rng.randint(1, 100_000)),
            purpose="werkvoorraad bijhouden",
            details=canonical_json({"partner_id": rng.randint(1, size.partners)}),
            prev_hash=previous,
            hash="",
        )
        entry.hash = previous = entry_hash(entry)
        rows.append(vars(entry))
    _bulk(connection, AuditEntry, rows)


FILLED_WITH_IDS = ("partner", "member", "subject", "signal", "case", "selection_criterion", "intervention")


def _reset_sequences(connection: Any) -> None:
    """Explicit ids leave PostgreSQL's sequences at 1; the server's own inserts continue after them."""
    for table in (*FILLED_WITH_IDS, "case_score", "lesson", "goal"):
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608 (our names)
                f'(SELECT coalesce(max(id), 0) + 1 FROM "{table}"), false)'
            )
        )


def _counts(engine: Any) -> dict[str, int]:
    tables = ("signal", "case", "intervention", "partner", "member", "audit_entry", "lesson", "case_score")
    with engine.connect() as connection:
        counts = {}
        for table in tables:
            query = text(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (our own table names)
            counts[table] = int(connection.execute(query).scalar_one())
        counts["open cases"] = int(
            connection.execute(text("SELECT count(*) FROM \"case\" WHERE status = 'OPEN'")).scalar_one()
        )
        counts["signals to weigh"] = int(
            connection.execute(
                text("SELECT count(*) FROM signal WHERE status IN ('NIEUW', 'IN_WEGING')")
            ).scalar_one()
        )
    return counts


# -- the cache --------------------------------------------------------------------------------------


# Raise when the generator fills differently, so that cached databases are filled anew.
GENERATOR = 2  # 2: full pages for mijn and signalen at both sizes (_full_pages, _term_on_a_full_page)


def schema_key() -> str:
    """The schema's head revision(s) and the generator's version: a change to either fills anew."""
    return "-".join(sorted(head_revisions())) + f"-g{GENERATOR}"


def _cached(kind: str, size: Size) -> tuple[Path, Path]:
    stem = f"{kind}-{size.name}-{schema_key()}".replace("×", "x")
    data = CACHE / (stem + (".sqlite" if kind == "sqlite" else ".pgdump"))
    return data, CACHE / (stem + ".json")


@contextlib.contextmanager
def prepared(kind: str, size: Size, pg_url: str, workdir: Path, now: datetime) -> Iterator[tuple[str, Facts]]:
    """A fresh copy of the filled database (filled now, or taken from the cache); dropped afterwards."""
    data, meta = _cached(kind, size)
    with _database(kind, pg_url, workdir) as url:
        if data.exists() and meta.exists():
            started = time.perf_counter()
            _restore(kind, data, url)
            facts = Facts(**json.loads(meta.read_text()))
            print(f"  {size.name}: taken from the cache {data.name} in {time.perf_counter() - started:.1f} s")
        else:
            started = time.perf_counter()
            upgrade(url)
            facts = fill(url, size, now)
            print(f"  {size.name}: filled in {time.perf_counter() - started:.1f} s: {facts.counts}")
            CACHE.mkdir(parents=True, exist_ok=True)
            _save(kind, url, data)
            meta.write_text(json.dumps(asdict(facts)))
        yield url, facts


@contextlib.contextmanager
def _database(kind: str, pg_url: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        path = workdir / f"volume-{uuid.uuid4().hex[:8]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for leftover in workdir.glob(path.name + "*"):
                leftover.unlink()
        return
    with throwaway_postgres(pg_url) as url:
        yield url


def _libpq(url: str) -> list[str]:
    parsed = make_url(url)
    return [
        f"--host={parsed.host or LOOPBACK}",
        f"--port={parsed.port or 5432}",
        f"--username={parsed.username or 'postgres'}",
        f"--dbname={parsed.database}",
    ]


def _save(kind: str, url: str, data: Path) -> None:
    if kind == "sqlite":
        source = Path(make_url(url).database or "")
        engine = create_engine(url)
        with engine.connect() as connection:  # everything in the main file before copying it
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        shutil.copyfile(source, data)
        return
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={data}", *_libpq(url)], check=True)


def _restore(kind: str, data: Path, url: str) -> None:
    if kind == "sqlite":
        shutil.copyfile(data, make_url(url).database or "")
        return
    subprocess.run(["pg_restore", "--no-owner", "--jobs=2", *_libpq(url), str(data)], check=True)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))  # a restore carries no planner statistics
    engine.dispose()


# -- audit verify -----------------------------------------------------------------------------------


def time_audit_verify(url: str, workdir: Path) -> tuple[float, bool, str]:
    """`samen audit verify` as an operator runs it, start-up included: (seconds, intact, what it said,
    with its CPU time: on a busy machine the wall time is mostly waiting for a CPU)."""
    env = child_env(**samen_env(database_url=url, api_url="http://127.0.0.1:9/api/"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [*_samen(), "audit", "verify"], env=env, cwd=workdir, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    said = (done.stdout.strip().splitlines() or done.stderr.strip().splitlines() or [""])[-1]
    return elapsed, done.returncode == 0, f"CPU {cpu:.2f} s; {said[:80]}"


def _samen() -> list[str]:
    cli = Path(sys.executable).parent / "samen"
    return [str(cli)] if cli.exists() else [sys.executable, "-c", "from bot.cli import main; main()"]


# -- the servers ------------------------------------------------------------------------------------


@contextlib.contextmanager
def serving(url: str, double: SlackDouble, workdir: Path) -> Iterator[tuple[int, list[int]]]:
    """`samen serve` (gunicorn, its default workers and threads) and `samen worker`: the serve port and
    the two processes' ids."""
    env = child_env(**samen_env(database_url=url, api_url=double.base_url))
    env.pop("SLACK_APP_TOKEN", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    port, metrics = free_port(), free_port()
    serve_log, worker_log = workdir / "serve.log", workdir / "worker.log"
    processes = [
        start_process(
            [*_samen(), "serve", "--host", LOOPBACK, "--port", str(port)], env=env, cwd=workdir, log=serve_log
        )
    ]
    try:
        processes.append(
            start_process(
                [*_samen(), "worker", "--metrics-host", LOOPBACK, "--metrics-port", str(metrics)],
                env=env,
                cwd=workdir,
                log=worker_log,
            )
        )
        wait_until(
            lambda: http_ok(f"http://{LOOPBACK}:{port}/healthz"),
            timeout=120,
            what="samen serve",
            process=processes[0],
            log=serve_log,
        )
        wait_until(
            lambda: http_ok(f"http://{LOOPBACK}:{metrics}/readyz"),
            timeout=120,
            what="samen worker",
            process=processes[1],
            log=worker_log,
        )
        yield port, [process.pid for process in processes]
    finally:
        for process in processes:
            stop_process(process)


def _cpu_seconds(pids: list[int]) -> float:
    """CPU time used so far by these processes and their children (gunicorn's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid, parent = int(stat.parent.name), int(fields[1])
            if pid in pids or parent in pids:
                total += (int(fields[11]) + int(fields[12])) / tick
    return total


def settle(pids: list[int], timeout: float = 120.0) -> float:
    """Wait until the servers are idle (< 5 % of a CPU over half a second): a listener Bolt gave up on
    after 3 s still runs, and would be measured as the next command's time. Returns the seconds waited."""
    started = time.monotonic()
    used = _cpu_seconds(pids)
    while time.monotonic() - started < timeout:
        time.sleep(0.5)
        now = _cpu_seconds(pids)
        if now - used < 0.025:
            break
        used = now
    return time.monotonic() - started


# -- the load ---------------------------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float | None  # None: no answer at all
    status: int = 200
    delivered: float | None = None  # overzicht: figures and charts at the double, from the send
    charts: int = 0  # overzicht: how many charts arrived in the person's DM

    @property
    def failed(self) -> bool:
        return self.seconds is None or self.seconds > DEADLINE or self.status != 200


@dataclass(frozen=True)
class Command:
    name: str
    text: str  # the /samen text, or "" for App Home
    coordinator: bool = False
    home: bool = False
    bounded: bool = True  # shows a bounded page: its cost should not follow the data's size


def commands(facts: Facts) -> list[Command]:
    return [
        Command("help", "help"),
        Command("werkvoorraad", "werkvoorraad"),
        Command("signalen <term>", f"signalen {facts.term}"),
        Command("casus <n>", f"casus {facts.open_case}"),
        Command("lessen", "lessen"),
        Command("doelen", "doelen"),
        Command("mijn", "mijn"),
        Command("App Home, member", "", home=True),
        Command("App Home, coordinator", "", coordinator=True, home=True),
    ]


OVERVIEW = Command("overzicht 4w (answer)", "overzicht 4w", bounded=False)


class Load:
    """Signed requests from CONCURRENCY threads, each its own member and coordinator."""

    def __init__(self, double: SlackDouble, port: int, facts: Facts) -> None:
        from slackdouble import SlackDriver

        self.double = double
        self.facts = facts
        self.driver = SlackDriver(f"http://{LOOPBACK}:{port}{SLACK_PATH}", SIGNING_SECRET, double, timeout=60)
        self.counter = 0
        self.lock = threading.Lock()
        for user in (*facts.members, *facts.coordinators):
            double.add_user(user, team_id=TEAM)

    def run(self, command: Command, requests: int, warmup: int) -> list[Sample]:
        samples: list[Sample] = []
        pending = iter(range(warmup + requests))

        def worker(slot: int) -> None:
            user = self._user(command, slot)
            while True:
                with self.lock:
                    number = next(pending, None)
                if number is None:
                    return
                sample = self._one(command, user)
                if number >= warmup:
                    with self.lock:
                        samples.append(sample)

        threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(CONCURRENCY)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return samples

    def _user(self, command: Command, slot: int) -> str:
        people = self.facts.coordinators if command.coordinator else self.facts.members
        return people[slot % len(people)]

    def _one(self, command: Command, user: str) -> Sample:
        if command.home:
            return self._home(user)
        with self.lock:
            self.counter += 1
            tag = f"vol{self.counter}"
        fields = self.driver.payloads.command("/samen", command.text, user=user, team=TEAM)
        fields["response_url"] = self.double.response_url(tag)
        sent = time.time()
        started = time.perf_counter()
        try:
            answer = self.driver.raw(urlencode(fields).encode("utf-8"), "application/x-www-form-urlencoded")
        except OSError:
            return Sample(None, 0)
        sample = Sample(time.perf_counter() - started, answer.status)
        if command is OVERVIEW:
            sample.delivered, sample.charts = self._overview_delivered(user, tag, sent, sample)
        return sample

    def _home(self, user: str) -> Sample:
        sent = time.time()
        try:
            self.driver.event(
                {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}, team=TEAM
            )
            published = self.double.wait_for(
                "views.publish",
                lambda call: call.at >= sent and call.args.get("user_id") == user,
                timeout=30,
            )
        except (AssertionError, OSError):  # no views.publish within 30 s; the server went away
            return Sample(None, 0)
        return Sample(min(call.at for call in published if call.at >= sent) - sent)

    def _overview_delivered(
        self, user: str, tag: str, sent: float, sample: Sample
    ) -> tuple[float | None, int]:
        """From the send until the figures (the answer, or a follow-up at the response_url) and the last
        chart in the person's DM have reached the double; None when no chart came within 30 s."""
        channels = {user, self.double.dm_channel(user)}

        def uploads() -> list[float]:
            return [
                call.at
                for call in self.double.calls_to("files.completeUploadExternal")
                if call.at >= sent and call.args.get("channel_id") in channels
            ]

        deadline = time.monotonic() + 30
        while not uploads() and time.monotonic() < deadline:
            time.sleep(0.05)
        # The charts come one by one through the outbox: wait until no new one came for 2 s.
        seen, quiet_since = len(uploads()), time.monotonic()
        while seen and time.monotonic() - quiet_since < 2.0:
            time.sleep(0.1)
            if len(uploads()) != seen:
                seen, quiet_since = len(uploads()), time.monotonic()
        follow_ups = [call.at for call in self.double.calls_to("response_url") if call.tag == tag]
        moments = [sent + (sample.seconds or 0), *follow_ups, *uploads()]
        return ((max(moments) - sent) if seen else None), seen


# -- one database -----------------------------------------------------------------------------------


@dataclass
class Figures:
    """Per command and size: the samples."""

    by: dict[tuple[str, str], list[Sample]] = field(default_factory=dict)
    verify: dict[str, tuple[float, bool, str, int]] = field(default_factory=dict)


def measure_database(kind: str, args: argparse.Namespace, now: datetime) -> Figures:
    figures = Figures()
    workdir = Path(tempfile.mkdtemp(prefix="samen-bench-volume-"))
    try:
        for size_name in args.sizes:
            size = SIZES[size_name].scaled(args.scale if size_name == "large" else 1)
            with prepared(kind, size, args.pg_url, workdir, now) as (url, facts):
                seconds, intact, line = time_audit_verify(url, workdir)
                figures.verify[size_name] = (
                    seconds,
                    intact,
                    line,
                    facts.counts.get("audit_entry", size.audit),
                )
                print(f"  {size_name}: samen audit verify {seconds:.2f} s ({line})")
                with slack_double() as double, serving(url, double, workdir) as (port, pids):
                    _measure_commands(Load(double, port, facts), pids, kind, size_name, args, figures)
                    double.assert_no_violations()
    finally:
        if args.keep_logs:
            print(f"  logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return figures


def _measure_commands(
    load: Load, pids: list[int], kind: str, size: str, args: argparse.Namespace, figures: Figures
) -> None:
    """Each command in turn, once the servers are idle; then the overview with its deliveries."""
    for command in [*commands(load.facts), OVERVIEW]:
        if args.only and not any(word in command.name for word in args.only):
            continue
        waited = settle(pids)
        if command is OVERVIEW:
            samples = load.run(OVERVIEW, args.overview_requests, 1)
        else:
            samples = load.run(command, args.requests, args.warmup)
        figures.by[(command.name, size)] = samples
        _progress(kind, size, command.name, samples, waited)


def _ms(samples: list[Sample], p: float) -> float:
    return percentile([s.seconds * 1000 for s in samples if s.seconds is not None], p)


def _progress(kind: str, size: str, name: str, samples: list[Sample], waited: float) -> None:
    failed = sum(s.failed for s in samples)
    idle = f"  (servers idle after {waited:.0f} s)" if waited >= 2 else ""
    print(
        f"    {kind} {size} {name:<24} p50 {_ms(samples, 50):7.0f} ms  p99 {_ms(samples, 99):7.0f} ms  "
        f"failed {failed}/{len(samples)}{idle}",
        flush=True,
    )


# -- the report -------------------------------------------------------------------------------------


def report(kind: str, figures: Figures, sizes: list[str]) -> bool:
    large = "large" if "large" in sizes else sizes[-1]
    small = "small" if "small" in sizes else None
    print(f"\n{kind}: p50/p99 ms, failed/requests (failed: past {DEADLINE:.0f} s or no answer)")
    header = "".join(f"{size:>24}" for size in sizes)
    print(f"  {'command':<24}{header}{'large/small p50':>17}")
    ok = True
    names = list(dict.fromkeys(name for name, _size in figures.by if _size == sizes[0]))
    for name in names:
        cells = []
        for size in sizes:
            samples = figures.by.get((name, size), [])
            failed = sum(s.failed for s in samples)
            cells.append(f"{_ms(samples, 50):.0f}/{_ms(samples, 99):.0f}  {failed}/{len(samples)}")
        ratio = (
            _ms(figures.by[(name, large)], 50) / _ms(figures.by[(name, small)], 50) if small else float("nan")
        )
        print(f"  {name:<24}" + "".join(f"{cell:>24}" for cell in cells) + f"{ratio:>17.2f}")
    for name in names:
        p99 = _ms(figures.by[(name, large)], 99) / 1000
        failed = sum(s.failed for s in figures.by[(name, large)])
        passed = p99 <= P99_TARGET and not failed
        ok &= passed
        print(f"  target {name} p99 ≤ {P99_TARGET:.0f} s at {large}: {verdict(passed)} ({p99 * 1000:.0f} ms)")
        bounded = name != OVERVIEW.name
        if bounded and small:
            ratio = _ms(figures.by[(name, large)], 50) / _ms(figures.by[(name, small)], 50)
            ok &= ratio <= RATIO_TARGET
            passed = ratio <= RATIO_TARGET
            print(f"  target {name} large/small p50 ≤ {RATIO_TARGET:g}: {verdict(passed)} ({ratio:.2f})")
    ok &= _report_overview(figures, sizes, large)
    for size, (seconds, intact, said, entries) in figures.verify.items():
        if size != large:
            continue
        passed = intact and seconds <= VERIFY_TARGET
        ok &= passed
        print(
            f"  target samen audit verify {entries:,} entries ≤ {VERIFY_TARGET:g} s: {verdict(passed)} "
            f"({seconds:.2f} s, {seconds / max(1, entries) * 1e6:.0f} µs per entry, "
            f"{'intact' if intact else 'NOT intact'}; {said})"
        )
    return ok


def _report_overview(figures: Figures, sizes: list[str], large: str) -> bool:
    ok = True
    for size in sizes:
        samples = figures.by.get((OVERVIEW.name, size), [])
        if not samples:  # left out with --only
            continue
        delivered = [s.delivered for s in samples if s.delivered is not None]
        missing = len(samples) - len(delivered)
        worst = max(delivered, default=float("nan"))
        print(
            f"  overzicht 4w figures+charts delivered at {size}: p50 {percentile(delivered, 50):.2f} s, "
            f"max {worst:.2f} s, {sum(s.charts for s in samples)} charts in all, "
            f"{missing} without charts within 30 s"
        )
        if size == large:
            passed = bool(delivered) and not missing and worst <= OVERVIEW_DELIVERED_TARGET
            ok &= passed
            target = f"figures+charts ≤ {OVERVIEW_DELIVERED_TARGET:g} s at {large}"
            print(f"  target overzicht {target}: {verdict(passed)}")
    return ok


def git_commit() -> str:
    def git(*argv: str) -> str:
        return subprocess.run(
            ["git", *argv], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    return git("rev-parse", "--short", "HEAD") + dirty


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite,postgresql", help="sqlite, postgresql or both")
    parser.add_argument("--sizes", default="small,large", help="small, large or both")
    parser.add_argument("--requests", type=int, default=60, help="measured requests per command and size")
    parser.add_argument("--overview-requests", type=int, default=8, help="measured /samen overzicht requests")
    parser.add_argument("--warmup", type=int, default=4, help="unmeasured requests per command first")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the large size (e.g. 0.1)")
    parser.add_argument("--quick", action="store_true", help="20 requests per command, 4 overviews")
    parser.add_argument(
        "--pg-url", default=PG_URL, help="a PostgreSQL server: throw-away databases beside it"
    )
    parser.add_argument("--fill-only", action="store_true", help="fill the cache, measure nothing")
    parser.add_argument("--only", default="", help="only the commands whose names hold one of these words")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--keep-logs", action="store_true", help="keep the servers' logs")
    args = parser.parse_args()
    args.sizes = [s for s in args.sizes.split(",") if s]
    args.only = [word for word in args.only.split(",") if word]
    kinds = [k for k in args.db.split(",") if k]
    if not set(args.sizes) <= set(SIZES) or not set(kinds) <= {"sqlite", "postgresql"}:
        parser.error("--sizes takes small and/or large; --db sqlite and/or postgresql")
    if args.quick:
        args.requests, args.overview_requests, args.warmup = 20, 4, 2
    stop_on_sigterm()
    now = datetime.now(UTC).replace(microsecond=0)
    print(f"machine: {machine_notes()}")
    print(
        f"commit {git_commit()}; samen serve (gunicorn defaults) + samen worker; concurrency {CONCURRENCY}; "
        f"{args.requests} requests per command and size after {args.warmup} warm-up, "
        f"{args.overview_requests} overviews"
    )
    ok = True
    try:
        for kind in kinds:
            print(f"{kind}:")
            if args.fill_only:
                for size_name in args.sizes:
                    size = SIZES[size_name].scaled(args.scale if size_name == "large" else 1)
                    with (
                        tempfile.TemporaryDirectory() as folder,
                        prepared(kind, size, args.pg_url, Path(folder), now),
                    ):
                        pass
                continue
            figures = measure_database(kind, args, now)
            ok &= report(kind, figures, args.sizes)
    except KeyboardInterrupt:
        print("interrupted; servers stopped, throw-away databases dropped", file=sys.stderr)
        return 130
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())

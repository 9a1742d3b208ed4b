"""bench/volume.py's generator at a tiny size: it fills what Samen reads, with a valid audit chain.

The bench itself runs for minutes; this keeps its filling honest in the suite, in seconds.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlmodel import select

from bot.audit import verify
from bot.authz import Role
from bot.cases import queue as cases
from bot.db import make_engine, session_scope, upgrade
from bot.interventions.models import ACTIVE_STATUSES, Intervention
from bot.partners.models import Member
from commands.interventions import PAGE

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import volume

TINY = volume.Size(
    "tiny", signals=60, cases=12, open_cases=4, interventions=40, partners=10, members=50, audit=300
)


def test_the_generator_fills_what_samen_reads_with_a_valid_audit_chain(database_url: str) -> None:
    upgrade(database_url)
    facts = volume.fill(database_url, TINY, datetime.now(UTC).replace(microsecond=0))
    assert facts.counts["signal"] == 60 and facts.counts["case"] == 12 and facts.counts["open cases"] == 4
    # 40 drawn, and as many more as give every member the load speaks for a full `/samen mijn` page.
    assert facts.counts["intervention"] > 40 and facts.counts["audit_entry"] == 300
    assert len(facts.members) == volume.CONCURRENCY and facts.coordinators
    engine = make_engine(database_url)
    try:
        with session_scope(engine, read_only=True) as session:
            result = verify(session)
            assert (result.ok, result.entries) == (True, 300), result.reason
            roles = {m.user_id: m.role for m in session.exec(select(Member)).all()}
            assert all(roles[user] is Role.MEMBER for user in facts.members)
            assert all(roles[user] is Role.COORDINATOR for user in facts.coordinators)
            for user in facts.members:
                own = session.exec(
                    select(Intervention).where(
                        Intervention.owner_user_id == user,
                        Intervention.status.in_(ACTIVE_STATUSES),  # type: ignore[attr-defined]
                    )
                ).all()
                assert len(own) >= PAGE, user
            entries, count = cases.work_queue(session)
            assert count == 4 and facts.open_case in {entry.case.id for entry in entries}
        # The server's own inserts continue after the bulk-filled ids (PostgreSQL's sequences).
        with session_scope(engine) as session:
            session.execute(
                text(
                    "INSERT INTO partner (name, type, capacity, created_at, updated_at) "
                    "VALUES ('Nieuw', 'OTHER', 0, :now, :now)"
                ),
                {"now": datetime.now(UTC)},
            )
    finally:
        engine.dispose()

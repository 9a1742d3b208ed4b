"""Each open case's total, stored on the case (`case.total_tenths`, migration 0016) so the work queue reads
its top page through an index instead of summing every open case's scores for every screen.

The total is the one the queue always showed: Σ weight × score/scale over Σ weight of the criteria in use,
0–100 in tenths, rounded half up, computed exactly in integers (`Scales`). It is kept in step in the same
transaction as what feeds it: after every flush (`after_flush`, registered in bot/cases/models.py) that
gave or changed a score, added, changed or retired a criterion, or (re)opened a case. A closed case's total
is not kept (criteria may change while it is closed); reopening it computes it again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy import Connection, func, inspect, select, update
from sqlalchemy import case as sa_case
from sqlalchemy.orm import Session

from bot.cases.models import Case, CaseScore, CaseStatus, SelectionCriterion

_CASE = Case.__table__  # type: ignore[attr-defined]  # Core, so a flush's hook never flushes again
_SCORE = CaseScore.__table__  # type: ignore[attr-defined]
_CRITERION = SelectionCriterion.__table__  # type: ignore[attr-defined]
_FEEDS_TOTALS = ("weight", "scale_max", "active")


@dataclass(frozen=True)
class Scales:
    """Every criterion's score brought onto one common scale (the least common multiple of the scales),
    so a case's total is an integer sum that SQL can compute and compare exactly."""

    common: int  # lcm of the scales
    denominator: int  # common × Σ weight: the highest possible sum

    @classmethod
    def of(cls, criteria: Iterable[tuple[int, int]]) -> Scales:
        given = list(criteria)
        common = math.lcm(*(scale for _weight, scale in given)) if given else 1
        return cls(common, common * sum(weight for weight, _scale in given))

    def tenths(self, earned: Any) -> Any:
        """The total in tenths, rounded half up: works on an int and on an SQL integer expression."""
        if not self.denominator:
            return 0 * earned
        return (2000 * earned + self.denominator) // (2 * self.denominator)


def refresh(bind: Session | Connection, case_ids: Iterable[int] | None = None) -> None:
    """Compute the stored total again, in one UPDATE, for these open cases (None: every open case)."""
    connection = bind.connection() if isinstance(bind, Session) else bind
    active = connection.execute(
        select(_CRITERION.c.id, _CRITERION.c.weight, _CRITERION.c.scale_max).where(
            _CRITERION.c.active.is_(True)
        )
    ).all()
    scales = Scales.of((weight, scale) for _id, weight, scale in active)
    factors = {criterion_id: weight * (scales.common // scale) for criterion_id, weight, scale in active}
    if factors:
        earned = (
            select(func.sum(sa_case(factors, value=_SCORE.c.criterion_id, else_=0) * _SCORE.c.score))
            .where(_SCORE.c.case_id == _CASE.c.id, _SCORE.c.criterion_id.in_(list(factors)))
            .scalar_subquery()
        )
        total: Any = scales.tenths(func.coalesce(earned, 0))
    else:
        total = 0
    query = update(_CASE).where(_CASE.c.status == CaseStatus.OPEN.value).values(total_tenths=total)
    if case_ids is not None:
        wanted = sorted(set(case_ids))
        if not wanted:
            return
        query = query.where(_CASE.c.id.in_(wanted))
    connection.execute(query)


def after_flush(session: Session) -> None:
    """Recompute the totals this flush changed: a score's case, every open case when a criterion in use
    changed, a case that was (re)opened. The session's lists still hold what was flushed."""
    cases: set[int] = set()
    for row in chain(session.new, session.dirty, session.deleted):
        if isinstance(row, CaseScore):
            cases.add(row.case_id)
        elif isinstance(row, SelectionCriterion):
            if row in session.new or row in session.deleted or _changed(row, _FEEDS_TOTALS):
                refresh(session)
                return
        elif isinstance(row, Case) and row not in session.new and _changed(row, ("status",)):
            cases.add(row.id or 0)
    if cases:
        refresh(session, cases)


def _changed(row: object, names: tuple[str, ...]) -> bool:
    attributes = inspect(row).attrs
    return any(getattr(attributes, name).history.has_changes() for name in names)

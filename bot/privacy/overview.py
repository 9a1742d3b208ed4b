"""What `/samen privacy` and the App Home show: how long Samen keeps what, and (for coordinators and
admins) what the next nightly run will delete or anonymise. Counts only, never content."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from bot.authz import Action, Principal, is_allowed
from bot.config import Settings
from bot.privacy import retention
from bot.privacy.retention import Kind


@dataclass(frozen=True)
class Period:
    kind: str
    label: str  # a message id
    days: int
    due: int | None  # what the next run removes; None when the person may not see it


@dataclass(frozen=True)
class PrivacyOverview:
    periods: list[Period] = field(default_factory=list)
    may_see_due: bool = False
    kept: int = 0  # expired, but an open case still needs it

    @property
    def due(self) -> int:
        return sum(p.due or 0 for p in self.periods)


def overview(session: Session, *, actor: Principal, settings: Settings, now: datetime) -> PrivacyOverview:
    """The retention periods for everyone; what is due only for those allowed to see it."""
    periods = settings.samen_retention
    allowed = is_allowed(actor, Action.VIEW_RETENTION)
    plan = retention.plan(session, periods=periods, now=now) if allowed else None
    return PrivacyOverview(
        periods=[
            Period(
                kind=kind.value,
                label=retention.KIND_LABELS[kind],
                days=periods[kind],
                due=plan.count(kind) if plan is not None else None,
            )
            for kind in Kind
        ],
        may_see_due=allowed,
        kept=len(plan.kept) if plan is not None else 0,
    )

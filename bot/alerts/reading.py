"""Reading backup alerts: one alert, the open ones, their partners, supporting actions and figures (no
rules, no changes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.alerts.models import AlertPartner, BackupAlert, Seriousness, SupportAction
from bot.alerts.problems import UNKNOWN, UnknownAlert
from bot.authz import Principal
from bot.partners.models import Partner, PersonRef
from bot.vocabulary import IncidentType


@dataclass
class PartnerFigure:
    partner_id: int
    name: str
    acknowledged_after: float | None  # seconds after the alert was raised
    acknowledged_by: str | None  # user id
    via: str | None = None  # the way the acknowledgement came: chat, sms, email


@dataclass(frozen=True)
class WayFigure:
    """How the partners that acknowledged by one way (chat, sms, email) did: how many, first and last."""

    way: str
    count: int
    first: float  # seconds after the alert was raised
    last: float


WAYS = ("chat", "sms", "email")


@dataclass
class AlertFigures:
    """What drills and real alerts both report: how fast the partnership answered."""

    alert_id: int
    code: str
    drill: bool
    raised_at: datetime
    partner_name: str
    incident_type: IncidentType
    seriousness: Seriousness
    closed_at: datetime | None
    first_acknowledgement: float | None  # seconds
    all_acknowledged: float | None  # seconds; None while a partner is silent
    acknowledged: int
    total: int
    partners: list[PartnerFigure] = field(default_factory=list)
    ways: list[WayFigure] = field(default_factory=list)  # time to acknowledge per channel


def get_alert(session: Session, *, alert_id: int) -> BackupAlert:
    alert = session.get(BackupAlert, alert_id)
    if alert is None:
        raise UnknownAlert(UNKNOWN, number=alert_id)
    return alert


def open_alerts(session: Session, *, actor: Principal, limit: int = 5) -> list[BackupAlert]:
    """Alerts not yet closed, newest first: what the App Home shows every member."""
    return list(
        session.exec(
            select(BackupAlert)
            .where(col(BackupAlert.closed_at).is_(None))
            .order_by(col(BackupAlert.raised_at).desc(), col(BackupAlert.id).desc())
            .limit(limit)
        ).all()
    )


def count_open(session: Session) -> int:
    return int(
        session.exec(
            select(func.count()).select_from(BackupAlert).where(col(BackupAlert.closed_at).is_(None))
        ).one()
    )


def figures(
    session: Session, *, actor: Principal, alert_id: int | None = None, limit: int = 10
) -> list[AlertFigures]:
    """The figures of the latest alerts and drills (or of one): the same figures for both."""
    if alert_id is not None:
        return [figures_of(session, get_alert(session, alert_id=alert_id))]
    alerts = session.exec(
        select(BackupAlert)
        .order_by(col(BackupAlert.raised_at).desc(), col(BackupAlert.id).desc())
        .limit(limit)
    ).all()
    return [figures_of(session, alert) for alert in alerts]


def partner_rows(session: Session, alert: BackupAlert) -> list[AlertPartner]:
    return list(
        session.exec(
            select(AlertPartner)
            .where(AlertPartner.alert_id == alert.id)
            .order_by(col(AlertPartner.partner_name))
        ).all()
    )


def support_actions(session: Session, alert: BackupAlert) -> list[SupportAction]:
    return list(
        session.exec(
            select(SupportAction).where(SupportAction.alert_id == alert.id).order_by(col(SupportAction.id))
        ).all()
    )


def figures_of(session: Session, alert: BackupAlert, rows: list[AlertPartner] | None = None) -> AlertFigures:
    rows = partner_rows(session, alert) if rows is None else rows
    per_partner = [
        PartnerFigure(
            partner_id=row.partner_id,
            name=row.partner_name,
            acknowledged_after=seconds_between(alert.raised_at, row.acknowledged_at)
            if row.acknowledged_at
            else None,
            acknowledged_by=row.acknowledged_by_user_id,
            via=(row.acknowledged_via or "chat") if row.acknowledged_at else None,
        )
        for row in rows
    ]
    times = [p.acknowledged_after for p in per_partner if p.acknowledged_after is not None]
    assert alert.id is not None
    return AlertFigures(
        alert_id=alert.id,
        code=alert.code,
        drill=alert.drill,
        raised_at=alert.raised_at,
        partner_name=partner_name(session, alert.reporter_partner_id),
        incident_type=alert.incident_type,
        seriousness=alert.seriousness,
        closed_at=alert.closed_at,
        first_acknowledgement=min(times) if times else None,
        all_acknowledged=max(times) if times and len(times) == len(rows) else None,
        acknowledged=len(times),
        total=len(rows),
        partners=per_partner,
        ways=ways_of(per_partner),
    )


def ways_of(per_partner: list[PartnerFigure]) -> list[WayFigure]:
    """Time to acknowledge per channel: the ways partners acknowledged by, in the order chat, SMS, e-mail."""
    found: list[WayFigure] = []
    for way in WAYS:
        times = [
            p.acknowledged_after for p in per_partner if p.via == way and p.acknowledged_after is not None
        ]
        if times:
            found.append(WayFigure(way, len(times), min(times), max(times)))
    return found


def reporter_of(alert: BackupAlert) -> PersonRef:
    """The reporter, decrypted from the sealed column: for need-to-know use only."""
    team_id, _, user_id = alert.reporter.partition("/")
    return PersonRef(team_id, user_id)


def partner_name(session: Session, partner_id: int) -> str:
    partner = session.get(Partner, partner_id)
    return partner.name if partner is not None else f"#{partner_id}"


def seconds_between(start: datetime, end: datetime | None) -> float:
    return 0.0 if end is None else max(0.0, (end - start).total_seconds())

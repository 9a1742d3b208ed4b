"""Which partners have something on a subject: the one definition.

A partner has something on a subject when it
- described it (the partner that registered the subject),
- registered a signal on it,
- leads or joined a case on it, or
- owns or joined an intervention on such a case.

This answers the hit/no-hit of a new signal, the partners `/samen subject` names, and whom an alignment
moment asks (docs/authorisation.md). The domains that hold those links (signals, cases, interventions) sit
above this package, so the rule is written as one query over their tables by name, not by importing their
models: tests/test_subjects.py checks that every table and column named here is one the models define.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa
from sqlmodel import Session

_subject: Final = sa.table("subject", sa.column("id"), sa.column("partner_id"))
_signal: Final = sa.table("signal", sa.column("id"), sa.column("partner_id"))
_signal_subject: Final = sa.table("signal_subject", sa.column("signal_id"), sa.column("subject_id"))
_case: Final = sa.table("case", sa.column("id"), sa.column("lead_partner_id"))
_case_subject: Final = sa.table("case_subject", sa.column("case_id"), sa.column("subject_id"))
_case_partner: Final = sa.table("case_partner", sa.column("case_id"), sa.column("partner_id"))
_intervention: Final = sa.table(
    "intervention", sa.column("id"), sa.column("case_id"), sa.column("owner_partner_id")
)
_intervention_partner: Final = sa.table(
    "intervention_partner", sa.column("intervention_id"), sa.column("partner_id")
)

# Every table and column the definition reads, for the test that keeps it in step with the models.
TABLES: Final = (
    _subject,
    _signal,
    _signal_subject,
    _case,
    _case_subject,
    _case_partner,
    _intervention,
    _intervention_partner,
)


def holders(session: Session, *, subject_id: int) -> set[int]:
    """The ids of the partners that have something on the subject (see the module's definition)."""
    cases = sa.select(_case_subject.c.case_id).where(_case_subject.c.subject_id == subject_id)
    interventions = sa.select(_intervention.c.id).where(_intervention.c.case_id.in_(cases))
    partners = sa.union(
        sa.select(_subject.c.partner_id).where(_subject.c.id == subject_id),
        sa.select(_signal.c.partner_id)
        .join(_signal_subject, _signal_subject.c.signal_id == _signal.c.id)
        .where(_signal_subject.c.subject_id == subject_id),
        sa.select(_case.c.lead_partner_id).where(_case.c.id.in_(cases)),
        sa.select(_case_partner.c.partner_id).where(_case_partner.c.case_id.in_(cases)),
        sa.select(_intervention.c.owner_partner_id).where(_intervention.c.id.in_(interventions)),
        sa.select(_intervention_partner.c.partner_id).where(
            _intervention_partner.c.intervention_id.in_(interventions)
        ),
    )
    return {int(partner_id) for partner_id in session.execute(partners).scalars()}

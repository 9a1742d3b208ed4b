"""What can stand in the way of a change to an intervention: each a `bot.problems.Problem`, so the chat
edge shows it one way. Capacity and the second round carry more (what is open; may a coordinator
override).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import N_
from bot.interventions.models import STATUS_LABELS, Intervention
from bot.partners.models import Partner
from bot.problems import Problem


class InterventionError(Problem):
    """A problem with an intervention the person can fix (message id, values, the form field)."""


class UnknownIntervention(InterventionError):
    pass


class NotAllowedNow(InterventionError):
    """The status change is not possible from the current status."""


class NotOwner(InterventionError):
    pass


class NotShared(InterventionError):
    """Need to know: the intervention is not the actor's partner's, nor shared with it."""


class CapacityExceeded(InterventionError):
    """The partner carries its capacity already; `open` lists what it carries."""

    def __init__(self, *, partner: Partner, open_ones: Sequence[Intervention], can_override: bool) -> None:
        super().__init__(
            N_(
                "%(partner)s is at its capacity for open interventions (%(count)s of %(capacity)s). "
                "Take on no more than you can finish: finish or call off one of these first."
            ),
            partner=partner.name,
            count=len(open_ones),
            capacity=partner.capacity,
        )
        self.partner_id = partner.id
        # Plain values, not rows: the transaction is rolled back before anyone shows them.
        self.open = [
            {
                "code": iv.code,
                "instrument": iv.instrument,
                "status": STATUS_LABELS[iv.status],
                "owner": iv.owner_user_id,
            }
            for iv in open_ones
        ]
        self.can_override = can_override


class SecondRoundMissing(InterventionError):
    """Round 1 on a case about an onaantastbare (or a strategic case) needs round 2 ready first."""

    def __init__(self, *, intervention: Intervention, why: str, can_override: bool) -> None:
        super().__init__(
            N_(
                "%(code)s is round 1 on %(why)s: prepare the second round before acting in the first. "
                "Plan a round-2 intervention on this case and have it committed or planned first."
            ),
            code=intervention.code,
            why=why,
        )
        self.intervention_id = intervention.id
        self.case_id = intervention.case_id
        self.can_override = can_override

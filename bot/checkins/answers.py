"""Answering a check-in's moment: the answer form, the answer (and a changed answer) posted in the prompt's
thread, and the person's interventions moved on from the same form.

Nothing here knows Slack. An answer is checked for personal data (bot.pii) before it is posted, authorised
(bot.authz) and audited (bot.audit) in the caller's transaction; its post is queued in the outbox there
too. The answer that was the last one expected closes the moment (bot/checkins/closing.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import audit, clock
from bot.authz import Action, authorize
from bot.checkins import closing
from bot.checkins.models import CheckinAnswer, CheckinMoment, CheckinSchedule, MomentStatus
from bot.checkins.problems import CheckinError, refuse_personal_data
from bot.checkins.service import PERSONAL_DATA
from bot.checkins.timing import shown_time
from bot.config import Settings
from bot.i18n import N_
from bot.interventions import progress, reading
from bot.interventions.models import OPEN_STATUSES, STATUS_LABELS, InterventionStatus, next_steps
from bot.outbox import enqueue, ts_of
from bot.partners import service as partners
from bot.partners.models import Member, Partner
from bot.problems import Problem, Problems

MAX_ANSWER: Final = 1000
MAX_NEED: Final = 500
MAX_INTERVENTIONS_SHOWN: Final = 10
PURPOSE_ANSWER: Final = "answering an alignment moment"


@dataclass
class InterventionChoice:
    id: int
    code: str
    instrument: str
    case_id: int | None  # None: an independent intervention, on no case
    status: str  # the current status value
    options: list[str]  # the current status and those it can move to from the check-in


@dataclass
class AnswerForm:
    moment_id: int
    channel_id: str
    closes_at: str  # formatted
    questions: list[str]
    answers: list[str]
    ask_partner_need: bool
    partners: list[tuple[int, str]]  # the partners one may need (all but one's own)
    need_partner_ids: list[int]
    need_text: str
    interventions: list[InterventionChoice] = field(default_factory=list)
    answered: bool = False


@dataclass(frozen=True)
class AnswerInput:
    answers: tuple[str, ...]
    need_partner_ids: tuple[int, ...] = ()
    need_text: str = ""
    statuses: dict[int, str] = field(default_factory=dict)  # intervention id → the status chosen
    view_id: str | None = None


@dataclass(frozen=True)
class Answered:
    version: int
    changed: bool
    moment: CheckinMoment
    closed: bool = False  # this answer was the last one expected: the moment closed with it


def get_moment(session: Session, moment_id: int) -> CheckinMoment:
    moment = session.get(CheckinMoment, moment_id)
    if moment is None:
        raise CheckinError(N_("This check-in does not exist (any more)."))
    return moment


def _open_moment(session: Session, moment_id: int, *, lock: bool = False) -> CheckinMoment:
    """The moment, if still open. `lock`: hold its row until commit (FOR UPDATE on PostgreSQL; SQLite's
    BEGIN IMMEDIATE already serialises writers), so answers that may close it count one after another."""
    moment = session.get(CheckinMoment, moment_id, with_for_update=True) if lock else None
    moment = moment or get_moment(session, moment_id)
    if moment.status is not MomentStatus.OPEN:
        raise CheckinError(N_("This check-in is closed; the summary is in its thread."))
    return moment


def answer_form(
    session: Session, *, actor: Member, moment_id: int, settings: Settings, language: str
) -> AnswerForm:
    """What the answer modal shows: the questions, the person's earlier answer, their open interventions."""
    authorize(actor, Action.ANSWER_CHECKIN)
    moment = _open_moment(session, moment_id)
    questions: list[str] = json.loads(moment.questions)
    answer = session.get(CheckinAnswer, (moment_id, actor.team_id, actor.user_id))
    earlier: list[str] = json.loads(answer.answers) if answer and answer.answers else []
    schedule = session.get(CheckinSchedule, moment.schedule_id)
    zone = ZoneInfo(schedule.timezone) if schedule else settings.timezone
    return AnswerForm(
        moment_id=moment_id,
        channel_id=moment.channel_id,
        closes_at=shown_time(moment.closes_at, zone, language, "HH:mm"),
        questions=questions,
        answers=[earlier[i] if i < len(earlier) else "" for i in range(len(questions))],
        ask_partner_need=moment.ask_partner_need,
        partners=[(_pid(p), p.name) for p in partners.list_partners(session) if p.id != actor.partner_id],
        need_partner_ids=json.loads(answer.need_partner_ids) if answer and answer.need_partner_ids else [],
        need_text=(answer.need_text or "") if answer else "",
        interventions=_open_interventions(session, actor),
        answered=bool(answer and answer.version),
    )


def _open_interventions(session: Session, actor: Member) -> list[InterventionChoice]:
    """The person's unfinished interventions (issue 5), each with the statuses a check-in can move it to.

    Finishing and calling off need a result or a reason: those stay with `/samen interventie`.
    """
    choices = []
    for iv in reading.my_work(session, actor=actor).mine[:MAX_INTERVENTIONS_SHOWN]:
        steps = [s.value for s in next_steps(iv) if s in OPEN_STATUSES]
        choices.append(
            InterventionChoice(
                id=iv.id or 0,
                code=iv.code,
                instrument=iv.instrument,
                case_id=iv.case_id,
                status=iv.status.value,
                options=[iv.status.value, *steps],
            )
        )
    return choices


def answer(
    session: Session,
    *,
    actor: Member,
    moment_id: int,
    data: AnswerInput,
    settings: Settings,
    now: datetime | None = None,
) -> Answered:
    """Record a person's answer and post it in the prompt's thread; a second answer edits that post.

    Status changes of the person's interventions chosen in the same form go through the interventions'
    own rules (capacity, second round, window) in this transaction: if one is refused, nothing is saved.
    """
    now = now or clock.now(session)
    authorize(actor, Action.ANSWER_CHECKIN)
    moment = _open_moment(session, moment_id, lock=True)
    row = session.get(CheckinAnswer, (moment_id, actor.team_id, actor.user_id))
    if row is not None and data.view_id and row.last_view_id == data.view_id:
        return Answered(row.version, changed=False, moment=moment)  # the same modal submitted twice
    questions: list[str] = json.loads(moment.questions)
    texts = [(data.answers[i] if i < len(data.answers) else "").strip() for i in range(len(questions))]
    need_text = " ".join((data.need_text or "").split())
    need_ids = [p for p in dict.fromkeys(data.need_partner_ids) if p != actor.partner_id]
    problems: list[Problem] = []
    for index, text in enumerate(texts):
        if len(text) > MAX_ANSWER:
            problems.append(
                CheckinError(
                    N_("Keep each answer to %(limit)s characters."), field=f"q{index}", limit=MAX_ANSWER
                )
            )
        refuse_personal_data(text, f"q{index}", problems, PERSONAL_DATA)
    if len(need_text) > MAX_NEED:
        problems.append(
            CheckinError(N_("Keep it to %(limit)s characters."), field="need_text", limit=MAX_NEED)
        )
    refuse_personal_data(need_text, "need_text", problems, PERSONAL_DATA)
    if need_text and not need_ids:
        problems.append(CheckinError(N_("Choose the partner you need."), field="need_partners"))
    for partner_id in need_ids:
        if session.get(Partner, partner_id) is None:
            problems.append(
                CheckinError(
                    N_("There is no partner with number %(number)s."),
                    field="need_partners",
                    number=partner_id,
                )
            )
    if problems:
        raise Problems(problems)
    status_changes = _change_statuses(session, actor, data.statuses, settings, now)
    if not any(texts) and not need_ids and not status_changes and not (row and row.version):
        raise Problems(
            [CheckinError(N_("Answer at least one question."), field="q0" if questions else "need_partners")]
        )
    if row is None:
        row = CheckinAnswer(
            moment_id=moment_id,
            team_id=actor.team_id,
            user_id=actor.user_id,
            partner_id=actor.partner_id,
            expected=False,
        )
    answers_json = json.dumps(texts, ensure_ascii=False)
    needs_json = json.dumps(need_ids)
    same = (
        row.version > 0
        and row.answers == answers_json
        and (row.need_partner_ids or "[]") == needs_json
        and (row.need_text or "") == need_text
    )
    if same and not status_changes:
        row.last_view_id = data.view_id or row.last_view_id
        session.add(row)
        return Answered(row.version, changed=False, moment=moment)
    row.version += 1
    row.answers = answers_json
    row.need_partner_ids = needs_json
    row.need_text = need_text or None
    row.partner_id = actor.partner_id
    row.last_view_id = data.view_id
    row.answered_at = now
    session.add(row)
    session.flush()
    _queue_answer(session, moment, row, questions, texts, need_ids, need_text, actor)
    audit.record(
        session,
        actor=actor,
        action="checkin.answered",
        object_type="checkin_moment",
        object_id=moment_id,
        purpose=PURPOSE_ANSWER,
        details={"version": row.version, "needs": need_ids, "interventions": sorted(status_changes)},
    )
    return Answered(
        row.version, changed=True, moment=moment, closed=_close_if_done(session, moment, row, actor)
    )


def _close_if_done(session: Session, moment: CheckinMoment, row: CheckinAnswer, actor: Member) -> bool:
    """A first answer from someone expected may be the last one missing: then the moment closes now,
    with its summary, instead of waiting for the end of its window."""
    if not (row.expected and row.version == 1):
        return False
    if not closing.everyone_answered(session, _mid(moment)):
        return False
    return closing.close(session, moment, reason=closing.CloseReason.ALL_ANSWERED, actor=actor)


def _change_statuses(
    session: Session, actor: Member, wanted: dict[int, str], settings: Settings, now: datetime
) -> list[int]:
    """Move the person's interventions to the statuses chosen in the form; the ids that changed."""
    if not wanted:
        return []
    changed = []
    for intervention_id, value in sorted(wanted.items()):
        try:
            to = InterventionStatus(value)
            current = reading.get(session, intervention_id=intervention_id)
            if current.status is to:
                continue
            if to not in OPEN_STATUSES:
                raise CheckinError(
                    N_("Finish or call it off with `/samen interventie %(code)s`."), code=current.code
                )
            outcome = progress.advance(
                session, actor=actor, intervention_id=intervention_id, to=to, settings=settings, now=now
            )
        except Problem as problem:
            raise Problems(
                [CheckinError(problem.message, field=f"iv_{intervention_id}", **problem.values)]
            ) from problem
        except ValueError as problem:
            raise Problems(
                [CheckinError(N_("Choose a status from the list."), field=f"iv_{intervention_id}")]
            ) from problem
        if outcome.changed:
            changed.append(intervention_id)
    return changed


def answer_key(moment_id: int, user_id: str, version: int) -> str:
    return f"checkin-answer:{moment_id}:{user_id}:v{version}"


def _queue_answer(
    session: Session,
    moment: CheckinMoment,
    row: CheckinAnswer,
    questions: list[str],
    texts: list[str],
    need_ids: list[int],
    need_text: str,
    actor: Member,
) -> None:
    names = {p.id: p.name for p in partners.list_partners(session)}
    context: dict[str, Any] = {
        "person": actor.user_id,
        "partner": names.get(actor.partner_id, "?"),
        "items": [{"q": q, "a": a} for q, a in zip(questions, texts, strict=True) if a],
        "needs": [names.get(p, "?") for p in need_ids],
        "need_text": need_text,
        "interventions": [
            {"code": iv.code, "status": STATUS_LABELS[iv.status]}
            for iv in reading.my_work(session, actor=actor).mine[:MAX_INTERVENTIONS_SHOWN]
        ],
        "edited": row.version > 1,
    }
    channel = moment.channel_id
    first = answer_key(_mid(moment), row.user_id, 1)
    if row.version == 1:
        args: dict[str, Any] = {"channel": channel, "thread_ts": ts_of(closing.prompt_key(moment))}
        method = "chat.postMessage"
    else:
        args = {"channel": channel, "ts": ts_of(first)}
        method = "chat.update"
    enqueue(
        session,
        key=answer_key(_mid(moment), row.user_id, row.version),
        method=method,
        lane=channel,
        args=args,
        template="checkin_answer.json.j2",
        language=moment.language,
        context=context,
        ref=f"checkin-moment:{_mid(moment)}",
    )


def _mid(moment: CheckinMoment) -> int:
    assert moment.id is not None
    return moment.id


def _pid(partner: Partner) -> int:
    assert partner.id is not None
    return partner.id

"""`samen partners import FILE.yaml`: set up partners and members from a file (see deploy/).

- Validated: the whole file is checked first, and every problem is reported with its line and item,
  not only the first.
- All-or-nothing: the import runs in the caller's transaction; with any problem nothing is written.
- Idempotent: a value already in the database is not written again and gets no audit entry, so running
  the same file twice changes nothing the second time.
- Gaps are warned about: a partner left without a lead, duty contacts or an alert channel is named,
  with what it will miss (`gap_warnings`), so the admin hears it now and not during an alert.
- One chat: Slack ids (U…, C…, T…) or Matrix ids (`@name:server`, `!room:server` or `!room`), never both
  in one file. A Matrix person's team is their server (`bot.chat.matrix_server`): `team:` is left out.
- Additive for people: a member missing from the file is not removed (removing people is a deliberate
  act: `/samen partner lid-verwijderen`). A partner's optional fields that the file leaves out
  (alert_channel, lead, duty_contacts, capacity) are left as they are; written as `null` or `[]` they are
  cleared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Final, Literal

import yaml
from babel.lists import format_list
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from sqlmodel import Session

from bot import cldr
from bot.authz import Action, NotAllowed, Principal, Role, authorize
from bot.chat import MATRIX_ROOM_ID, MATRIX_USER_ID, matrix_server
from bot.i18n import N_, t
from bot.partners import rules, service
from bot.partners.models import ROLE_WORDS, Member, Partner, PartnerType, PersonRef

_USER = re.compile(r"[UW][A-Z0-9]{2,30}")
_TEAM = r"^[TE][A-Z0-9]{2,30}$"
_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,30}")
Chat = Literal["slack", "matrix"]
# The longest id each column takes (bot/partners/models.py): a longer one is named here, not refused by
# PostgreSQL half-way through the import.
_LONGEST: Final = {
    "user": Member.__table__.c.user_id.type.length,  # type: ignore[attr-defined]
    "team": Member.__table__.c.team_id.type.length,  # type: ignore[attr-defined]
    "channel": Partner.__table__.c.alert_channel_id.type.length,  # type: ignore[attr-defined]
}
# How to reach a member outside chat (bot/reach): a phone number in international form (E.164), sent to
# the SMS gateway exactly as written, and an e-mail address.
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
_EMAIL = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+")


def _role(value: Any) -> Any:
    if isinstance(value, str):
        return ROLE_WORDS.get(value.strip().lower(), value)
    return value


def _partner_type(value: Any) -> Any:
    return value.strip().upper().replace(" ", "_").replace("-", "_") if isinstance(value, str) else value


def _phone(value: Any) -> Any:
    """Personal data: a problem says what is wrong, never the number."""
    if value is not None and not (isinstance(value, str) and _E164.fullmatch(value)):
        raise ValueError('must be a phone number in international form (E.164), in quotes: "+31612345678"')
    return value


def _user_id(value: str) -> str:
    """A person: a Slack user id or a Matrix user id; which of the two the file uses is checked after."""
    if not (_USER.fullmatch(value) or MATRIX_USER_ID.fullmatch(value)):
        raise ValueError(
            f"“{value}” is not a user id: a Slack one such as U0123ABCD, or a Matrix one such as "
            f'"@karin:example.nl" (in quotes)'
        )
    return value


def _channel_id(value: str) -> str:
    if not (_CHANNEL.fullmatch(value) or MATRIX_ROOM_ID.fullmatch(value)):
        raise ValueError(
            f"“{value}” is not a channel id: a Slack one such as C0123ABCD, or a Matrix room id such as "
            f'"!AbCdEf:example.nl" (in quotes; not the room\'s #alias)'
        )
    return value


def chat_of(value: str) -> Chat:
    """The chat an id (user, channel or team) belongs to: a Matrix id starts with @ or !."""
    return "matrix" if value.startswith(("@", "!")) else "slack"


UserId = Annotated[str, AfterValidator(_user_id)]
ChannelId = Annotated[str, AfterValidator(_channel_id)]


def _email(value: Any) -> Any:
    if value is not None and not (isinstance(value, str) and len(value) <= 254 and _EMAIL.fullmatch(value)):
        raise ValueError("must be an e-mail address such as naam@gemeente.nl")
    return value


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)

    user: Annotated[UserId, Field(description="Slack user id (U0123ABCD) or Matrix user id (@karin:server)")]
    team: Annotated[str | None, Field(default=None, pattern=_TEAM)] = None
    role: Annotated[Role, BeforeValidator(_role)] = Role.MEMBER
    name: Annotated[str | None, Field(default=None, max_length=100)] = None
    # Reached outside chat (SMS, e-mail) when a backup alert escalates; shown only to coordinators.
    phone: Annotated[str | None, BeforeValidator(_phone)] = None
    email: Annotated[str | None, BeforeValidator(_email)] = None


class PartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)]
    type: Annotated[PartnerType, BeforeValidator(_partner_type)]
    capacity: Annotated[int, Field(ge=0, le=rules.MAX_CAPACITY, strict=True)] = 0
    alert_channel: ChannelId | None = None
    lead: UserId | None = None
    duty_contacts: list[UserId] = Field(default_factory=list)
    members: list[MemberIn] = Field(default_factory=list)


class PartnersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team: Annotated[str | None, Field(pattern=_TEAM)] = None
    partners: Annotated[list[PartnerIn], Field(min_length=1)]


@dataclass(frozen=True)
class ImportProblem:
    line: int | None
    where: str  # e.g. partners[2].members[0].role
    message: str

    def __str__(self) -> str:
        at = f"line {self.line}: " if self.line else ""
        return f"{at}{self.where}: {self.message}" if self.where else f"{at}{self.message}"

    def in_file(self, name: str) -> str:
        """`file:line: where: message`, as compilers write it, so editors can jump to the line."""
        place = f"{name}:{self.line}" if self.line else name
        return f"{place}: {self.where}: {self.message}" if self.where else f"{place}: {self.message}"


class ImportFailed(Exception):
    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the partners file")
        self.problems = problems


@dataclass(frozen=True)
class SetupGap:
    """A partner in the file that, after the import, lacks one of what an emergency relies on."""

    partner: str
    missing: tuple[str, ...]  # of "lead", "duty", "channel", in that order


@dataclass
class ImportReport:
    changes: list[str] = field(default_factory=list)  # one readable line per change
    partners: int = 0
    members: int = 0
    gaps: list[SetupGap] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


Path = tuple[str | int, ...]


class _Lines:
    """Line numbers of the YAML nodes, to point at the item a problem is about."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root = root

    def of(self, path: Path) -> int | None:
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for step in path:
            node = _child(node, step)
            if node is None:
                break
            line = node.start_mark.line + 1
        return line


def _child(node: yaml.Node | None, step: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == step:
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        return node.value[step]
    return None


def _where(path: Path) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _duplicate_keys(node: yaml.Node | None, path: Path = ()) -> list[ImportProblem]:
    """PyYAML keeps the last of two equal keys silently; in a partners file that is always a mistake."""
    problems: list[ImportProblem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            if name in seen:
                problems.append(
                    ImportProblem(key.start_mark.line + 1, _where((*path, name)), "appears twice")
                )
            seen.add(name)
            problems.extend(_duplicate_keys(value, (*path, name)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems.extend(_duplicate_keys(item, (*path, index)))
    return problems


def parse(source: str, *, chat: Chat | None = None) -> tuple[PartnersFile, _Lines]:
    """Read and validate a partners file; raise ImportFailed listing every problem found. With `chat`
    (SAMEN_CHAT), a file with the other chat's ids is refused too."""
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
        data = yaml.load(source, Loader=yaml.SafeLoader)  # SafeLoader: plain data only
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ImportFailed(
            [ImportProblem(line, "", f"this is not valid YAML: {problem}{_unquoted_matrix_id(problem)}")]
        ) from None
    lines = _Lines(root)
    problems = _duplicate_keys(root)
    if not isinstance(data, dict):
        raise ImportFailed([ImportProblem(lines.of(()), "", "the file must have a `partners:` list")])
    try:
        parsed = PartnersFile.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            path = tuple(error["loc"])
            problems.append(ImportProblem(lines.of(path), _where(path), _explain(error)))
        raise ImportFailed(problems) from None
    problems.extend(_check_file(parsed, lines))
    problems.extend(_check_one_chat(parsed, lines, chat))
    if problems:
        raise ImportFailed(problems)
    return parsed, lines


def _unquoted_matrix_id(problem: str) -> str:
    """YAML reads an unquoted `!room:server` as a tag and refuses a value starting with `@`: the fix."""
    if "tag '!" in problem or "'@'" in problem:
        return ' (put Matrix ids in quotes: alert_channel: "!AbCdEf:example.nl", user: "@karin:example.nl")'
    return ""


def _ids(parsed: PartnersFile) -> list[tuple[Path, str, str]]:
    """Every id in the file, in the file's order: (where, kind of column, value)."""
    found: list[tuple[Path, str, str]] = []
    if parsed.team is not None:
        found.append((("team",), "team", parsed.team))
    for p_index, partner in enumerate(parsed.partners):
        at: Path = ("partners", p_index)
        if partner.alert_channel is not None:
            found.append(((*at, "alert_channel"), "channel", partner.alert_channel))
        if partner.lead is not None:
            found.append(((*at, "lead"), "user", partner.lead))
        for d_index, user in enumerate(partner.duty_contacts):
            found.append(((*at, "duty_contacts", d_index), "user", user))
        for m_index, member in enumerate(partner.members):
            m_at: Path = (*at, "members", m_index)
            if member.team is not None:
                found.append(((*m_at, "team"), "team", member.team))
            found.append(((*m_at, "user"), "user", member.user))
    return found


def _check_one_chat(parsed: PartnersFile, lines: _Lines, chat: Chat | None) -> list[ImportProblem]:
    """A file is for one chat: Slack ids beside Matrix ids are a mistake (two deployments' files merged,
    or an id copied from the wrong place), and so is a file for the chat Samen does not run on. Ids
    longer than the database takes are named too (Matrix ids may be up to 255 characters)."""
    problems: list[ImportProblem] = []
    ids = _ids(parsed)
    if not ids:
        return problems
    # The file's chat is that of its first person (a `team:` left at the top is the likelier slip).
    first_at, _, first = next((i for i in ids if i[1] == "user"), ids[0])
    expected = chat or chat_of(first)
    for at, kind, value in ids:
        if chat_of(value) != expected:
            if chat is not None:
                why = (
                    f"is a {_NAMES[chat_of(value)]} id, but Samen runs on {_NAMES[chat]} "
                    f"(SAMEN_CHAT={chat}): use {_NAMES[chat]} ids"
                )
            else:
                why = (
                    f"is a {_NAMES[chat_of(value)]} id, but this file names {_NAMES[expected]} ids "
                    f"({first} at line {lines.of(first_at)}): a partners file is for one chat, Slack or "
                    f"Matrix"
                )
                if kind == "team":
                    why += "; leave `team:` out for Matrix people (their server is their team)"
            problems.append(ImportProblem(lines.of(at), _where(at), f"“{value}” {why}"))
            continue
        longest = _LONGEST[kind]
        if longest is not None and len(value) > longest:
            problems.append(
                ImportProblem(
                    lines.of(at),
                    _where(at),
                    f"“{value}” is longer than the database takes ({longest} characters): upgrade Samen, "
                    f"whose newer versions take Matrix ids of any length",
                )
            )
    for at, kind, value in ids:
        if kind == "user" and expected == "matrix" and chat_of(value) == "matrix":
            server = matrix_server(value)
            longest = _LONGEST["team"]
            if longest is not None and len(server) > longest:
                problems.append(
                    ImportProblem(
                        lines.of(at),
                        _where(at),
                        f"the server of “{value}” is longer than the database takes ({longest} characters)",
                    )
                )
    return problems


_NAMES: Final = {"slack": "Slack", "matrix": "Matrix"}


def _explain(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field (check the spelling; see deploy/partners.example.yaml)"
    if kind == "string_pattern_mismatch":
        # Only `team:` has a pattern: the ids of people and channels say themselves what they are not.
        return f"“{error.get('input')}” is not a Slack team id such as T0123ABCD (Matrix people need no team)"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind == "enum":
        expected = error.get("ctx", {}).get("expected", "")
        return f"“{error.get('input')}” is not one of {expected}"
    return str(error["msg"])


def _team_of(member: MemberIn, parsed: PartnersFile) -> str | None:
    if MATRIX_USER_ID.fullmatch(member.user):
        return matrix_server(member.user)  # a Matrix person's team is their server
    return member.team or parsed.team


def _check_file(parsed: PartnersFile, lines: _Lines) -> list[ImportProblem]:
    """What one item cannot show alone: duplicates across the file, and references to people."""
    problems: list[ImportProblem] = []
    names: dict[str, int] = {}
    people: dict[PersonRef, int] = {}
    for p_index, partner in enumerate(parsed.partners):
        at: Path = ("partners", p_index)
        key = " ".join(partner.name.split()).lower()
        if key in names:
            problems.append(
                ImportProblem(
                    lines.of((*at, "name")),
                    _where((*at, "name")),
                    f"partner “{partner.name}” is already listed as partners[{names[key]}]",
                )
            )
        names.setdefault(key, p_index)
        for m_index, member in enumerate(partner.members):
            m_at: Path = (*at, "members", m_index)
            team = _team_of(member, parsed)
            if team is None:
                problems.append(
                    ImportProblem(
                        lines.of(m_at),
                        _where(m_at),
                        "has no team: give `team:` here, or once at the top of the file",
                    )
                )
                continue
            person = PersonRef(team, member.user)
            if person in people:
                problems.append(
                    ImportProblem(
                        lines.of((*m_at, "user")),
                        _where((*m_at, "user")),
                        f"{member.user} is listed twice (a person belongs to one partner)",
                    )
                )
            people.setdefault(person, p_index)
        for d_index, user in enumerate(partner.duty_contacts):
            if partner.duty_contacts.index(user) != d_index:
                problems.append(
                    ImportProblem(
                        lines.of((*at, "duty_contacts", d_index)),
                        _where((*at, "duty_contacts", d_index)),
                        f"{user} is named twice",
                    )
                )
    return problems


def import_partners(
    session: Session, *, actor: Principal, source: str, purpose: str, chat: Chat | None = None
) -> ImportReport:
    """Validate and apply a partners file in the caller's transaction. `chat` (SAMEN_CHAT): a file with
    the other chat's ids is refused; None accepts either (one per file).

    Raises ImportFailed with every problem; the caller then rolls back. For a dry run the caller rolls
    back after a success too: the report says exactly what a real run would do.
    """
    authorize(actor, Action.IMPORT_PARTNERS)
    parsed, lines = parse(source, chat=chat)
    report = ImportReport(partners=len(parsed.partners))
    problems: list[ImportProblem] = []
    partner_ids: list[int] = []

    for p_index, item in enumerate(parsed.partners):
        at: Path = ("partners", p_index)
        try:
            partner_ids.append(_apply_partner(session, actor, item, purpose, report))
        except (rules.PartnerError, NotAllowed) as exc:
            problems.append(ImportProblem(lines.of(at), _where(at), _message(exc)))
    if problems:
        raise ImportFailed(problems)

    # Coordinators and admins first: a file that hands the role from one person to another must not
    # trip over "the last coordinator" half-way.
    work = [
        (p_index, m_index, member)
        for p_index, item in enumerate(parsed.partners)
        for m_index, member in enumerate(item.members)
    ]
    work.sort(key=lambda w: 0 if w[2].role in rules.MANAGING_ROLES else 1)
    moved: dict[PersonRef, Path] = {}
    for p_index, m_index, member in work:
        m_at: Path = ("partners", p_index, "members", m_index)
        team = _team_of(member, parsed)
        assert team is not None  # checked by parse()
        try:
            result = service.add_member(
                session,
                actor=actor,
                partner_id=partner_ids[p_index],
                team_id=team,
                user_id=member.user,
                role=member.role,
                display_name=member.name,
                purpose=purpose,
                allow_move=True,
            )
        except (rules.PartnerError, NotAllowed) as exc:
            problems.append(ImportProblem(lines.of(m_at), _where(m_at), _message(exc)))
            continue
        report.members += 1
        name = parsed.partners[p_index].name
        given = member.model_fields_set
        reach = {field: getattr(member, field) for field in ("phone", "email") if field in given}
        if reach:
            changed = service.set_reach(session, actor=actor, member=result.member, purpose=purpose, **reach)
            if changed:  # which fields, never what they hold
                report.changes.append(f"set how {member.user} is reached ({', '.join(changed)}) in {name}")
        if result.change is service.Change.ADDED:
            report.changes.append(f"added {member.user} to {name} as {member.role.value}")
        elif result.change is service.Change.UPDATED:
            report.changes.append(f"changed {member.user} ({', '.join(result.fields)}) in {name}")
            if "partner_id" in result.fields:
                moved[result.member.person] = m_at
    if problems:
        raise ImportFailed(problems)

    for p_index, item in enumerate(parsed.partners):
        _apply_people_links(
            session,
            actor,
            item,
            partner_ids[p_index],
            ("partners", p_index),
            lines,
            purpose,
            report,
            problems,
        )
    for broken in service.broken_links(session):
        # Someone this file moves to another partner is still named by their old partner.
        person = broken.values.get("person")
        moved_at = moved.get(person) if isinstance(person, PersonRef) else None
        if moved_at is not None:
            message = _message(broken) + " This file moves them to another partner: name someone else there."
            problems.append(ImportProblem(lines.of(moved_at), _where(moved_at), message))
        else:
            problems.append(ImportProblem(None, "", _message(broken)))
    if problems:
        raise ImportFailed(problems)
    report.gaps = setup_gaps(session, partner_ids)
    return report


# --- gaps: what a partner without a lead, duty contacts or alert channel will miss ------------------

_MISSING = {"lead": N_("no lead"), "duty": N_("no duty contacts"), "channel": N_("no alert channel")}
# What Samen does without it (bot/alerts, bot/interventions/reminders.py, bot/signals/notices.py).
_MISSES = {
    "lead": N_(
        "escalation: no lead is asked to answer a backup alert it leaves unanswered, and its overdue "
        "interventions go no higher than their owner"
    ),
    "duty": N_("a backup alert reaches its lead or all its members instead of the people on duty"),
    "channel": N_("a backup alert reaches its people one by one in direct messages, not in a shared channel"),
    "details": N_(
        "the details of a backup alert: only a partner's duty contacts and lead see them, so nobody there "
        "can (unless it raised the alert)"
    ),
}


def setup_gaps(session: Session, partner_ids: list[int]) -> list[SetupGap]:
    gaps = []
    for partner_id in dict.fromkeys(partner_ids):
        partner = session.get(Partner, partner_id)
        assert partner is not None
        missing = tuple(
            name
            for name, absent in (
                ("lead", partner.lead is None),
                ("duty", not service.duty_contacts(session, partner_id=partner_id)),
                ("channel", not partner.alert_channel_id),
            )
            if absent
        )
        if missing:
            gaps.append(SetupGap(partner.name, missing))
    return gaps


def gap_warnings(gaps: list[SetupGap], language: str) -> list[str]:
    """Lines for the admin who ran the import: each partner with a gap, what it misses, the fix."""
    lines = []
    for gap in gaps:
        missing = format_list([t(language, _MISSING[m]) for m in gap.missing], locale=cldr.locale(language))
        lines.append(
            t(
                language,
                "Warning: %(partner)s has %(missing)s. It will miss:",
                partner=gap.partner,
                missing=missing,
            )
        )
        misses = list(gap.missing) + (["details"] if {"lead", "duty"} <= set(gap.missing) else [])
        lines += [f"  - {t(language, _MISSES[m])}" for m in misses]
    if lines:
        lines.append(
            t(
                language,
                "Set lead, duty_contacts and alert_channel for them in the file and import it again.",
            )
        )
    return lines


def _apply_partner(
    session: Session, actor: Principal, item: PartnerIn, purpose: str, report: ImportReport
) -> int:
    given = item.model_fields_set
    partner = service.find_partner(session, name=item.name)
    if partner is None:
        partner = service.create_partner(
            session,
            actor=actor,
            name=item.name,
            partner_type=item.type,
            capacity=item.capacity,
            purpose=purpose,
        )
        report.changes.append(f"created partner {partner.name} ({partner.type.value})")
    else:
        # A name differing only in case or spacing renames the partner to the file's spelling.
        fields = service.update_partner(
            session,
            actor=actor,
            partner_id=_id(partner),
            name=item.name,
            partner_type=item.type,
            purpose=purpose,
        )
        if fields:
            report.changes.append(f"changed partner {partner.name} ({', '.join(fields)})")
        if "capacity" in given and service.set_capacity(
            session, actor=actor, partner_id=_id(partner), capacity=item.capacity, purpose=purpose
        ):
            report.changes.append(f"set the capacity of {partner.name} to {item.capacity}")
    if "alert_channel" in given and service.set_alert_channel(
        session, actor=actor, partner_id=_id(partner), channel_id=item.alert_channel, purpose=purpose
    ):
        report.changes.append(f"set the alert channel of {partner.name} to {item.alert_channel or '-'}")
    return _id(partner)


def _apply_people_links(
    session: Session,
    actor: Principal,
    item: PartnerIn,
    partner_id: int,
    at: Path,
    lines: _Lines,
    purpose: str,
    report: ImportReport,
    problems: list[ImportProblem],
) -> None:
    given = item.model_fields_set
    if "duty_contacts" in given:
        contacts: list[PersonRef] = []
        for d_index, user in enumerate(item.duty_contacts):
            person = _resolve(session, user, partner_id)
            if person is None:
                d_at = (*at, "duty_contacts", d_index)
                problems.append(
                    ImportProblem(lines.of(d_at), _where(d_at), f"{user} is not a member of {item.name}")
                )
            else:
                contacts.append(person)
        if len(contacts) == len(item.duty_contacts):
            try:
                if service.set_duty_contacts(
                    session, actor=actor, partner_id=partner_id, contacts=contacts, purpose=purpose
                ):
                    report.changes.append(
                        f"set the duty contacts of {item.name}: {', '.join(item.duty_contacts)}"
                    )
            except (rules.PartnerError, NotAllowed) as exc:
                problems.append(
                    ImportProblem(
                        lines.of((*at, "duty_contacts")), _where((*at, "duty_contacts")), _message(exc)
                    )
                )
    if "lead" in given:
        lead = _resolve(session, item.lead, partner_id) if item.lead else None
        if item.lead and lead is None:
            problems.append(
                ImportProblem(
                    lines.of((*at, "lead")),
                    _where((*at, "lead")),
                    f"{item.lead} is not a member of {item.name}",
                )
            )
            return
        try:
            if service.set_lead(session, actor=actor, partner_id=partner_id, lead=lead, purpose=purpose):
                report.changes.append(f"set the lead of {item.name} to {item.lead or '-'}")
        except (rules.PartnerError, NotAllowed) as exc:
            problems.append(ImportProblem(lines.of((*at, "lead")), _where((*at, "lead")), _message(exc)))


def _resolve(session: Session, user_id: str, partner_id: int) -> PersonRef | None:
    """A user id named in the file as one of this partner's members (in the file or already known)."""
    member = service.find_member_by_user(session, user_id=user_id)
    if member is None or member.partner_id != partner_id:
        return None
    return member.person


def _message(exc: Exception) -> str:
    if isinstance(exc, NotAllowed):
        return "the person running the import may not do this: " + str(exc)
    return re.sub(r"\s+", " ", str(exc))


def _id(partner: Any) -> int:
    assert partner.id is not None
    return int(partner.id)

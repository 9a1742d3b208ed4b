"""`/samen partner …`: the partners and their members; coordinators add and remove members, set duty
contacts and capacity. Also the membership guard that every members-only command passes first.

The listener parses and answers; who may do what is decided in bot.partners.service (with bot.authz),
so this module checks no roles itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from markupsafe import Markup
from slack_bolt import App
from sqlmodel import Session

from bot.authz import NotAllowed, Role
from bot.i18n import N_
from bot.mrkdwn import mention
from bot.partners import service
from bot.partners.models import PARTNER_TYPE_LABELS, ROLE_LABELS, ROLE_WORDS, Partner, PersonRef
from bot.partners.rules import MANAGING_ROLES
from bot.problems import Problem
from bot.slack.interaction import Interaction
from bot.slack.registry import Registry, Subcommand

MAX_PEOPLE_SHOWN: Final = 5  # coordinators named in "ask …"
PURPOSE: Final = "partnership administration (/samen partner {verb})"

# A mention as Slack sends it in a command with escaping on: <@U123> or <@U123|name>; quoted names;
# anything else up to the next space. Typographic quotes count: Slack's editors like to insert them.
_TOKEN = re.compile(r"<[^>]*>|\"[^\"]*\"|“[^”]*”|„[^”“]*[”“]|'[^']*'|‘[^’]*’|\S+")
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,30})(?:\|([^>]*))?>$")
_QUOTES = "\"'“”„‘’"


class BadInput(Problem):
    """What the person typed cannot be read; `message` is a message id, `usage` the hint to show."""

    def __init__(self, message: str, usage: str | None = None, **values: object) -> None:
        super().__init__(message)
        self.values = dict(values)
        self.usage = usage


@dataclass(frozen=True)
class Mentioned:
    user_id: str
    name: str | None


@dataclass
class Words:
    """The words after the verb: text and mentions, in the order typed."""

    items: list[str | Mentioned] = field(default_factory=list)

    @property
    def mentions(self) -> list[Mentioned]:
        return [w for w in self.items if isinstance(w, Mentioned)]

    @property
    def texts(self) -> list[str]:
        return [w for w in self.items if isinstance(w, str)]


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def read_words(tokens: Iterable[str]) -> Words:
    words = Words()
    for token in tokens:
        found = _MENTION.match(token)
        if found:
            words.items.append(Mentioned(found.group(1), found.group(2) or None))
        elif token.startswith("<") and token.endswith(">"):
            # A channel, link or group mention (<#C…>, <!here>, <https://…>): never a person.
            words.items.append(token)
        else:
            stripped = token.strip(_QUOTES) if len(token) >= 2 and token[0] in _QUOTES else token
            words.items.append(stripped)
    return words


# --- the subcommand ------------------------------------------------------------------------------

USAGE_ADD = N_(
    "Write it like this: `/samen partner add-member <partner> @person [member|coordinator|admin]`, "
    "e.g. `/samen partner add-member Politie @Anne`."
)
USAGE_REMOVE = N_("Write it like this: `/samen partner remove-member @person`.")
USAGE_DUTY = N_(
    "Write it like this: `/samen partner duty <partner> @first @second`: the people to reach first "
    "in an emergency, in that order."
)
USAGE_CAPACITY = N_(
    "Write it like this: `/samen partner capacity <partner> <number>`, "
    "e.g. `/samen partner capacity Politie 3`."
)


REACH_PURPOSE: Final = "coordinator viewed how members are reached outside chat"


def register(app: App, registry: Registry) -> None:
    registry.add_guard(require_membership)
    registry.add_subcommand(
        Subcommand(
            name="partner",
            aliases=("partners",),
            usage="[lijst | lid-toevoegen | lid-verwijderen | dienst | capaciteit]",
            summary=N_(
                "The partners and their members; coordinators add or remove members and set duty "
                "contacts and capacity."
            ),
            handler=handle_partner,
        )
    )


def handle_partner(i: Interaction) -> None:
    tokens = tokenize(i.args)
    verb = tokens[0].lower() if tokens else "lijst"
    action = VERBS.get(verb)
    if action is None:
        i.reply("partner_usage.json.j2", word=verb)
        return
    try:
        words = read_words(tokens[1:])
        _refuse_typed_at(words, USAGES.get(action))
        action(i, words, verb)
    except BadInput as bad:
        i.show(bad, template="partner_problem.json.j2", usage=bad.usage, ask=None)
    except Problem as problem:
        # The session rolled back: nothing of the refused change was written.
        ask = _coordinators_to_ask(i) if isinstance(problem, NotAllowed) else None
        i.show(problem, template="partner_problem.json.j2", ask=ask)


def show_partners(i: Interaction, words: Words, verb: str) -> None:
    # Coordinators also see how members are reached outside chat; that read is audited (a write).
    managing = i.member.role in MANAGING_ROLES
    with i.session(read_only=not managing) as session:
        partners = service.overview(session)
        reach = service.reach_of(session, actor=i.member, purpose=REACH_PURPOSE) if managing else None
    i.reply(
        "partner_list.json.j2",
        partners=partners,
        type_labels=PARTNER_TYPE_LABELS,
        role_labels=ROLE_LABELS,
        people=people,
        reach=reach or {},
    )


def add_member(i: Interaction, words: Words, verb: str) -> None:
    name = _partner_name(words.items, USAGE_ADD)
    mentions = words.mentions
    if len(mentions) != 1:
        raise BadInput(N_("Mention exactly one person with @, so Slack turns it into a link."), USAGE_ADD)
    trailing = _after_last_mention(words.items)
    role: Role | None = None  # none typed: a new member is a member, an existing one keeps their role
    if trailing:
        found = ROLE_WORDS.get(trailing[0].lower())
        if found is None or len(trailing) > 1:
            raise BadInput(
                N_("“%(word)s” is not a role. The roles are: member, coordinator, admin."),
                USAGE_ADD,
                word=" ".join(trailing),
            )
        role = found
    with i.session() as session:
        actor = i.require_member(session)
        partner = service.require_partner(session, name=name)
        person = _person(session, i, mentions[0].user_id)
        result = service.add_member(
            session,
            actor=actor,
            partner_id=_id(partner),
            team_id=person.team_id,
            user_id=person.user_id,
            role=role,
            display_name=mentions[0].name,
            purpose=PURPOSE.format(verb=verb),
        )
        partner_name = partner.name
    i.reply(
        "partner_done.json.j2",
        kind=f"member_{result.change.value}",
        person=mention(person.user_id),
        partner=partner_name,
        role=ROLE_LABELS[result.member.role],
    )


def remove_member(i: Interaction, words: Words, verb: str) -> None:
    mentions = words.mentions
    if len(mentions) != 1 or words.texts:
        raise BadInput(N_("Mention exactly one person with @, so Slack turns it into a link."), USAGE_REMOVE)
    with i.session() as session:
        actor = i.require_member(session)
        person = _person(session, i, mentions[0].user_id)
        removed = service.remove_member(
            session,
            actor=actor,
            team_id=person.team_id,
            user_id=person.user_id,
            purpose=PURPOSE.format(verb=verb),
        )
        partner_name = service.get_partner(session, partner_id=removed.partner_id).name
    i.reply(
        "partner_done.json.j2", kind="member_removed", person=mention(person.user_id), partner=partner_name
    )


def set_duty(i: Interaction, words: Words, verb: str) -> None:
    name = _partner_name(words.items, USAGE_DUTY)
    if not words.mentions:
        raise BadInput(N_("Mention at least one person with @, so Slack turns it into a link."), USAGE_DUTY)
    if _after_last_mention(words.items) or _between_mentions(words.items):
        raise BadInput(
            N_("After the partner, only @-mentions of people: “%(word)s” is not one."),
            USAGE_DUTY,
            word=" ".join(_after_last_mention(words.items) or _between_mentions(words.items)),
        )
    with i.session() as session:
        actor = i.require_member(session)
        partner = service.require_partner(session, name=name)
        contacts = [_person(session, i, m.user_id) for m in words.mentions]
        changed = service.set_duty_contacts(
            session,
            actor=actor,
            partner_id=_id(partner),
            contacts=contacts,
            purpose=PURPOSE.format(verb=verb),
        )
        partner_name = partner.name
        order = [c.person for c in service.duty_contacts(session, partner_id=_id(partner))]
    i.reply(
        "partner_done.json.j2",
        kind="duty_set" if changed else "duty_unchanged",
        partner=partner_name,
        people=people(order, numbered=True),
    )


def set_capacity(i: Interaction, words: Words, verb: str) -> None:
    if words.mentions:
        raise BadInput(N_("Capacity is a number of open interventions, not a person."), USAGE_CAPACITY)
    texts = words.texts
    if len(texts) < 2:
        raise BadInput(N_("Name the partner and the number."), USAGE_CAPACITY)
    number = texts[-1]
    if not re.fullmatch(r"\d{1,6}", number):
        raise BadInput(
            N_("“%(word)s” is not a number of open interventions: use a whole number, 0 or more."),
            USAGE_CAPACITY,
            word=number,
        )
    with i.session() as session:
        actor = i.require_member(session)
        partner = service.require_partner(session, name=" ".join(texts[:-1]))
        previous = partner.capacity
        changed = service.set_capacity(
            session,
            actor=actor,
            partner_id=_id(partner),
            capacity=int(number),
            purpose=PURPOSE.format(verb=verb),
        )
        partner_name = partner.name
    i.reply(
        "partner_done.json.j2",
        kind="capacity_set" if changed else "capacity_unchanged",
        partner=partner_name,
        capacity=int(number),
        previous=previous,
    )


Verb = Callable[[Interaction, Words, str], None]
VERBS: Final[dict[str, Verb]] = {
    "lijst": show_partners,
    "list": show_partners,
    "lid-toevoegen": add_member,
    "add-member": add_member,
    "lid-verwijderen": remove_member,
    "remove-member": remove_member,
    "dienst": set_duty,
    "duty": set_duty,
    "capaciteit": set_capacity,
    "capacity": set_capacity,
}

USAGES: Final[dict[Verb, str]] = {
    add_member: USAGE_ADD,
    remove_member: USAGE_REMOVE,
    set_duty: USAGE_DUTY,
    set_capacity: USAGE_CAPACITY,
}


# --- the membership guard ------------------------------------------------------------------------


def require_membership(i: Interaction) -> bool:
    """Members-only commands: a person who is not a member is told so, and whom to ask (as everywhere:
    `Interaction.show` of a `NotAMember` problem)."""
    try:
        with i.session(read_only=True) as session:  # runs before every command: no write lock
            i.require_member(session)
    except service.NotAMember as stranger:
        i.show(stranger)
        return False
    return True


# --- helpers -------------------------------------------------------------------------------------


def people(persons: Iterable[PersonRef], numbered: bool = False) -> Markup:
    """Mentions of people, comma-separated (or numbered: "1. @a  2. @b"), safe for mrkdwn."""
    mentions = [mention(p.user_id) for p in persons]
    if numbered:
        return Markup("  ").join(Markup("{}. {}").format(i, m) for i, m in enumerate(mentions, start=1))
    return Markup(", ").join(mentions)


def _coordinators_to_ask(i: Interaction) -> Markup | None:
    with i.session(read_only=True) as session:
        found = [m.person for m in service.coordinators(session)[:MAX_PEOPLE_SHOWN]]
    return people(found) if found else None


def _person(session: Session, i: Interaction, user_id: str) -> PersonRef:
    """The person behind a mention. A mention has no team id: a known member keeps theirs (Slack Connect
    guests come from other teams); someone new is taken to be in the team the command came from."""
    member = service.find_member_by_user(session, user_id=user_id)
    if member is not None:
        return member.person
    return PersonRef(i.body.get("team_id") or i.actor.team_id, user_id)


def _partner_name(items: list[str | Mentioned], usage: str) -> str:
    """The partner is everything typed before the first mention: quotes are optional."""
    name_words: list[str] = []
    for item in items:
        if isinstance(item, Mentioned):
            break
        name_words.append(item)
    if not name_words:
        raise BadInput(N_("Name the partner first, then the people."), usage)
    return " ".join(name_words)


def _refuse_typed_at(words: Words, usage: str | None) -> None:
    """`@anne` typed as text reaches us as text: Slack only sends a person's id for a picked mention."""
    for word in words.texts:
        if word.startswith("@") and len(word) > 1:
            raise BadInput(
                N_(
                    "“%(word)s” is not a mention Slack recognised: pick the person from the list that "
                    "appears when you type @."
                ),
                usage,
                word=word,
            )


def _after_last_mention(items: list[str | Mentioned]) -> list[str]:
    last = max((i for i, item in enumerate(items) if isinstance(item, Mentioned)), default=None)
    if last is None:
        return []
    return [item for item in items[last + 1 :] if isinstance(item, str)]


def _between_mentions(items: list[str | Mentioned]) -> list[str]:
    indexes = [i for i, item in enumerate(items) if isinstance(item, Mentioned)]
    if len(indexes) < 2:
        return []
    return [item for item in items[indexes[0] : indexes[-1]] if isinstance(item, str)]


def _id(partner: Partner) -> int:
    assert partner.id is not None
    return partner.id

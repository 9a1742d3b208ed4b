"""Who may do what: the table in docs/authorisation.md is the rule, and the code enforces exactly it.

The expectations of the matrix test are read from the document, not from bot/authz.py, so a change to
either one alone fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.authz import (
    CLI_ACTOR,
    PERMISSIONS,
    ROLE_ORDER,
    Action,
    NotAllowed,
    Relation,
    Role,
    Scope,
    SystemActor,
    authorize,
    cli_actor,
    is_allowed,
    relation_to,
)
from bot.i18n import t
from bot.partners.models import Member

DOC = Path(__file__).resolve().parent.parent / "docs" / "authorisation.md"
RELATIONS: list[Relation | None] = [None, Relation.OWN, Relation.GIVEN_ACCESS, Relation.OTHER]


def documented_table() -> dict[str, dict[str, str]]:
    """action name → {role: cell} from the Markdown table under '## The table'."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## The table", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip().lower() for cell in rows[0].strip("|").split("|")]
    assert header[:4] == ["action", "member", "coordinator", "admin"], header
    assert set(rows[1].replace("|", "").strip()) <= {"-", ":", " "}, "second row must be the separator"
    table: dict[str, dict[str, str]] = {}
    for row in rows[2:]:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        name = cells[0].strip("`")
        assert name not in table, f"{name} is in the document twice"
        table[name] = dict(zip(header[1:4], cells[1:4], strict=True))
    return table


DOCUMENTED = documented_table()


def member(role: Role, partner_id: int = 1) -> Member:
    return Member(team_id="T0SAMEN", user_id="U0ANNE0001", partner_id=partner_id, role=role)


def expected_from_document(cell: str, relation: Relation | None) -> bool | None:
    """What the document says; None where the cell depends on a relation that was not given."""
    if cell == "yes":
        return True
    if cell == "no":
        return False
    if relation is None:
        return None
    if cell == "own":
        return relation is Relation.OWN
    if cell == "own+access":
        return relation in (Relation.OWN, Relation.GIVEN_ACCESS)
    raise AssertionError(f"unknown cell {cell!r} in docs/authorisation.md")


def test_the_document_lists_exactly_the_actions_in_the_code() -> None:
    assert set(DOCUMENTED) == {action.name for action in Action}
    assert set(PERMISSIONS) == set(Action), "every action needs a rule"


@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.name)
def test_the_document_and_the_code_agree_cell_by_cell(action: Action) -> None:
    rule = PERMISSIONS[action]
    for role in Role:
        assert DOCUMENTED[action.name][role.value] == rule.for_role(role).value, (
            f"{action.name} × {role.value}: docs/authorisation.md says "
            f"{DOCUMENTED[action.name][role.value]!r}, bot/authz.py says {rule.for_role(role).value!r}"
        )


@pytest.mark.parametrize("relation", RELATIONS, ids=lambda r: r.value if r else "no-object")
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.name)
def test_authorize_matrix(action: Action, role: Role, relation: Relation | None) -> None:
    actor = member(role)
    expected = expected_from_document(DOCUMENTED[action.name][role.value], relation)
    if expected is None:
        # A rule about someone's own or shared items, asked without an item: a bug in the caller.
        with pytest.raises(ValueError, match="needs the relation"):
            authorize(actor, action, relation=relation)
        return
    assert is_allowed(actor, action, relation=relation) is expected
    if expected:
        authorize(actor, action, relation=relation)
    else:
        with pytest.raises(NotAllowed) as refused:
            authorize(actor, action, relation=relation)
        assert refused.value.action is action
        assert refused.value.role is role
        # The reason is a message people can read, in Dutch too.
        assert t("nl", refused.value.message) != refused.value.message


@pytest.mark.parametrize("relation", RELATIONS[1:], ids=lambda r: r.value if r else "")
@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.name)
def test_a_higher_role_never_has_fewer_rights(action: Action, relation: Relation) -> None:
    allowed = [is_allowed(member(role), action, relation=relation) for role in ROLE_ORDER]
    assert allowed == sorted(allowed), f"{action.name}: {dict(zip(ROLE_ORDER, allowed, strict=True))}"


def test_the_refusal_says_which_role_is_needed() -> None:
    with pytest.raises(NotAllowed) as refused:
        authorize(member(Role.MEMBER), Action.MANAGE_MEMBERS)
    assert t("nl", refused.value.message) == (
        "Alleen een coördinator of beheerder van het samenwerkingsverband mag dit doen."
    )
    with pytest.raises(NotAllowed) as refused:
        authorize(member(Role.COORDINATOR), Action.IMPORT_PARTNERS)
    assert t("en", refused.value.message) == "Only an admin of the partnership may do this."


def test_need_to_know_holds_for_every_role_even_the_admin() -> None:
    """Details of another partner's signal stay with that partner unless it gave access (rule 1)."""
    for role in Role:
        assert not is_allowed(member(role), Action.VIEW_SIGNAL_DETAILS, relation=Relation.OTHER)
        assert is_allowed(member(role), Action.VIEW_SIGNAL_DETAILS, relation=Relation.GIVEN_ACCESS)
    with pytest.raises(NotAllowed) as refused:
        authorize(member(Role.ADMIN), Action.VIEW_SIGNAL_DETAILS, relation=Relation.OTHER)
    assert "access" in refused.value.message


def test_only_the_originating_partner_shares_an_item_further() -> None:
    """Originator control (rule 3): not even a coordinator re-shares another partner's item."""
    for role in Role:
        assert is_allowed(member(role), Action.GRANT_ACCESS, relation=Relation.OWN)
        assert not is_allowed(member(role), Action.GRANT_ACCESS, relation=Relation.GIVEN_ACCESS)


def test_the_command_line_is_trusted_and_named() -> None:
    for action in Action:
        authorize(CLI_ACTOR, action, relation=Relation.OTHER)
    assert cli_actor().user_id.startswith("samen:cli")
    assert cli_actor().team_id == ""


def test_relation_of_an_item_to_the_actor() -> None:
    politie_officer = member(Role.MEMBER, partner_id=2)
    assert relation_to(politie_officer, 2) is Relation.OWN
    assert relation_to(politie_officer, 1, shared_with=frozenset({2, 3})) is Relation.GIVEN_ACCESS
    assert relation_to(politie_officer, 1, shared_with=frozenset({3})) is Relation.OTHER
    assert relation_to(SystemActor("samen:job"), 1) is Relation.OWN


def test_cells_in_the_document_use_only_the_legend() -> None:
    legend = {scope.value for scope in Scope}
    for action, cells in DOCUMENTED.items():
        for role, cell in cells.items():
            assert cell in legend, f"{action} × {role}: {cell!r} is not one of {sorted(legend)}"
    assert re.search(r"\*\*own\+access\*\*", DOC.read_text(encoding="utf-8"))

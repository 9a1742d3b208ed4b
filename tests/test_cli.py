"""The `samen` command line speaks one language: English commands and options, the Dutch names of before
kept as unlisted aliases, readable metavars, and `--help` in the order people use the commands."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from bot.cli import cli
from bot.cli_style import OLD_OPTION_NAMES, rename_old_options

WIDE = {"COLUMNS": "200"}  # one help row per line, so a row can be read whole


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command and group, listed or not, with its words after `samen`."""
    found: list[tuple[tuple[str, ...], Any]] = []
    for name, command in group.commands.items():
        found.append(((*path, name), command))
        if hasattr(command, "commands"):
            found += _commands(command, (*path, name))
    return found


ALL = _commands(typer.main.get_command(cli))


def _help(*words: str) -> str:
    result = CliRunner().invoke(cli, [*words, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    return result.output


def test_help_lists_the_commands_in_the_order_people_use_them() -> None:
    listed = re.findall(r"^│ (\w+) ", _help().split("Commands")[1], flags=re.MULTILINE)
    assert listed == [
        "serve",
        "worker",
        "run",
        "demo",
        "db",
        "partners",
        "outbox",
        "export",
        "audit",
        "keys",
        "retention",
        "access",
        "forget",
    ]


@pytest.mark.parametrize(("old", "new"), [("inzage", "access"), ("vergeet", "forget")])
def test_the_dutch_command_names_still_work_unlisted(old: str, new: str) -> None:
    assert old not in re.findall(r"^│ (\w+) ", _help(), flags=re.MULTILINE)
    assert f"Alias: {old}" in _help(new)

    # The same command: the same options, the same text.
    def words(text: str) -> list[str]:
        return text.replace(f"samen {old}", f"samen {new}").split()

    assert words(_help(old)) == words(_help(new))


@pytest.mark.parametrize("words", [words for words, _ in ALL], ids=" ".join)
def test_every_help_is_readable(words: tuple[str, ...]) -> None:
    text = _help(*words)
    assert "<bool>" not in text and "<%" not in text and "<str>" not in text and "<int>" not in text
    # English only: none of the Dutch option names of before is listed.
    for old in OLD_OPTION_NAMES:
        assert f"{old} " not in text and f"{old}," not in text


def test_the_same_idea_has_the_same_option_name_everywhere() -> None:
    declared = {
        name
        for _, command in ALL
        for param in getattr(command, "params", [])
        for name in getattr(param, "opts", [])
    }
    assert not declared & set(OLD_OPTION_NAMES), "an old Dutch name is declared instead of kept as an alias"
    for new in ("--from", "--to", "--format", "--out", "--purpose", "--language"):
        assert new in declared


def test_old_option_names_become_the_new_ones_where_the_command_has_them() -> None:
    known = {"--from", "--to", "--out", "--purpose"}
    takes_value = set(known)
    assert rename_old_options(
        ["--van", "2026-03-01", "--tot=2026-03-31", "--doel", "--van", "--uit", "x.csv", "--", "--van"],
        known,
        takes_value,
    ) == ["--from", "2026-03-01", "--to=2026-03-31", "--purpose", "--van", "--out", "x.csv", "--", "--van"]
    # A command without --language keeps --taal as typed, and says it has no such option.
    assert rename_old_options(["--taal", "en"], known, takes_value) == ["--taal", "en"]


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "export", "--from", "2026-03-02", "--to", "2026-03-01"],
        ["audit", "export", "--van", "2026-03-02", "--tot", "2026-03-01"],
        ["audit", "export", "--van=2026-03-02", "--to", "2026-03-01", "--doel", "Q1"],
    ],
)
def test_old_and_new_option_names_reach_the_same_command(args: list[str]) -> None:
    # Checked before any setting or database is read: the dates are in the wrong order.
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "--to must not be before --from" in result.output


def test_an_unknown_old_name_is_refused_as_any_unknown_option() -> None:
    result = CliRunner().invoke(cli, ["retention", "--doel", "x"])
    assert result.exit_code == 2 and "--doel" in result.output

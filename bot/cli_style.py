"""One shape for every `samen` command: readable metavars, old option names kept as hidden aliases,
commands listed in the order people use them.

Typer 0.29 (its own copy of Click) has no command aliases, no hidden second name for an option and no
order for `--help` but the order of creation, with sub-groups always after plain commands; these
classes add what the CLI needs, and nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

# Operators' scripts still call the Dutch option names of before; they keep working, unlisted.
OLD_OPTION_NAMES: dict[str, str] = {
    "--van": "--from",
    "--tot": "--to",
    "--formaat": "--format",
    "--uit": "--out",
    "--als": "--as",
    "--taal": "--language",
    "--doel": "--purpose",
}


def _metavar(param: Any) -> str:
    """What the help shows after an option: nothing for a flag, else a word, not `<bool>` or a format."""
    if isinstance(param, TyperArgument):
        return (param.name or "value").upper()
    if param.is_flag:
        return ""
    descriptor = param.type_descriptor
    if descriptor.is_datetime:
        return "DATE"
    if descriptor.is_path:
        return "PATH"
    if descriptor.annotation is int:
        return "NUMBER"
    return "TEXT"


def _readable(params: list[Any]) -> list[Any]:
    for param in params:
        if isinstance(param, TyperOption | TyperArgument) and param.metavar is None:
            param.metavar = _metavar(param)
        if isinstance(param, TyperArgument):
            # The name column already says CODE or FILE; a type column beside it would add `<str>`.
            param.display_type_rich = _no_type  # type: ignore[method-assign]
    return params


def _no_type(ctx: Any) -> None:
    return None


def rename_old_options(args: list[str], known: set[str], takes_value: set[str]) -> list[str]:
    """`--van 2026-03-01` or `--van=2026-03-01` → `--from …`, where this command has `--from`.

    A value (the word after an option that takes one) and everything after `--` stay as typed."""
    renamed: list[str] = []
    value_next = False
    for position, arg in enumerate(args):
        if value_next or arg == "--":
            value_next = False
            if arg == "--":
                return renamed + args[position:]
            renamed.append(arg)
            continue
        name, equals, value = arg.partition("=")
        new = OLD_OPTION_NAMES.get(name)
        if new in known:
            name = new
        renamed.append(name + equals + value)
        value_next = name in takes_value and not equals
    return renamed


class SamenCommand(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _readable(super().get_params(ctx))

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        options = [p for p in self.params if isinstance(p, TyperOption)]
        known = {name for p in options for name in p.opts}
        takes_value = {name for p in options if not p.is_flag for name in p.opts}
        return super().parse_args(ctx, rename_old_options(args, known, takes_value))


class SamenGroup(TyperGroup):
    # Names first in this order; any other command after them, in the order it was added.
    order: ClassVar[tuple[str, ...]] = ()

    def get_params(self, ctx: Any) -> list[Any]:
        return _readable(super().get_params(ctx))

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        rank = {name: position for position, name in enumerate(self.order)}
        return sorted(names, key=lambda name: rank.get(name, len(rank)))


class SamenTyper(typer.Typer):
    """A Typer whose commands and groups take the shape above."""

    def __init__(self, *, cls: type[TyperGroup] = SamenGroup, **kwargs: Any) -> None:
        super().__init__(cls=cls, **kwargs)

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> Any:
        return super().command(name, cls=cls or SamenCommand, **kwargs)

    def alias(self, name: str, command: Callable[..., Any]) -> None:
        """Another name for a command, unlisted in `--help` (the command's help says it)."""
        self.command(name, hidden=True)(command)

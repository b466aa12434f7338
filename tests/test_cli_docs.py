"""docs/cli.md documents every command, argument and option of ``otseam``,
and is what ``scripts/cli_docs.py`` generates from the CLI today."""

from __future__ import annotations

import importlib.util
import re
from types import ModuleType

import click
import pytest

from otseam.cli import cli
from tests.conftest import ROOT

PAGE = ROOT / "docs" / "cli.md"
SCRIPT = ROOT / "scripts" / "cli_docs.py"
FIX = "run .venv/bin/python scripts/cli_docs.py"


def _walk(
    group: click.Group, parent: click.Context
) -> list[tuple[str, click.Command, click.Context]]:
    found = []
    for name, command in sorted(group.commands.items()):
        ctx = click.Context(command, info_name=name, parent=parent)
        found.append((ctx.command_path, command, ctx))
        if isinstance(command, click.Group):
            found += _walk(command, ctx)
    return found


ROOT_CONTEXT = click.Context(cli, info_name="otseam", **cli.context_settings)
COMMANDS = [("otseam", cli, ROOT_CONTEXT), *_walk(cli, ROOT_CONTEXT)]


def _sections() -> dict[str, str]:
    """The page's text under each ``## otseam ...`` heading; "otseam" is the top."""
    text = PAGE.read_text(encoding="utf-8")
    parts = re.split(r"^## (otseam[^\n]*)$", text, flags=re.MULTILINE)
    sections = {"otseam": parts[0]}
    sections.update(zip(parts[1::2], parts[2::2], strict=True))
    return sections


@pytest.mark.parametrize(
    ("path", "command", "ctx"), COMMANDS, ids=[path for path, _, _ in COMMANDS]
)
def test_every_command_and_option_is_documented(
    path: str, command: click.Command, ctx: click.Context
) -> None:
    sections = _sections()
    assert path in sections, f"docs/cli.md has no section '## {path}': {FIX}"
    section = sections[path]
    summary = (command.help or "").strip().splitlines()[0]
    assert summary in section, f"docs/cli.md, {path}: the command's help is missing: {FIX}"
    for param in command.get_params(ctx):
        if isinstance(param, click.Argument):
            names = [param.human_readable_name]
        else:
            names = [*param.opts, *param.secondary_opts]
        for name in names:
            assert f"`{name}" in section, f"docs/cli.md, {path}: {name} is missing: {FIX}"


@pytest.mark.parametrize(
    ("path", "command", "ctx"), COMMANDS, ids=[path for path, _, _ in COMMANDS]
)
def test_every_command_and_option_says_what_it_does(
    path: str, command: click.Command, ctx: click.Context
) -> None:
    assert (command.help or "").strip(), f"{path} has no help text"
    for param in command.get_params(ctx):
        if isinstance(param, click.Option):
            assert (param.help or "").strip(), f"{path} {param.opts[0]} has no help text"


def test_documented_commands_exist() -> None:
    documented = set(_sections()) - {"otseam"}
    assert documented == {path for path, _, _ in COMMANDS[1:]}


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cli_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_page_is_current() -> None:
    generated = _generator().render()
    assert PAGE.read_text(encoding="utf-8") == generated, f"docs/cli.md is out of date: {FIX}"

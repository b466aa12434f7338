"""Write docs/cli.md, the command line reference, from the click commands.

Usage: ``.venv/bin/python scripts/cli_docs.py`` rewrites the page;
``--check`` only says whether it is current (exit status 1 if not).
``tests/test_cli_docs.py`` fails when the page is out of date.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

import otseam.cli
from otseam.cli import cli

UNSET = getattr(click.core, "UNSET", None)  # click >= 8.3: "no default"
PAGE = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def commands(
    group: click.Group, parent: click.Context
) -> Iterator[tuple[str, click.Command, click.Context]]:
    """Every command under ``group``, depth first, with its context."""
    for name in sorted(group.commands):
        command = group.commands[name]
        ctx = click.Context(command, info_name=name, parent=parent)
        yield ctx.command_path, command, ctx
        if isinstance(command, click.Group):
            yield from commands(command, ctx)


def render() -> str:
    """The whole page."""
    root = click.Context(cli, info_name="otseam", **cli.context_settings)
    lines = [
        "# Command line reference",
        "",
        "<!-- Generated from otseam.cli by scripts/cli_docs.py: change the CLI, then run",
        "     `.venv/bin/python scripts/cli_docs.py`. Do not edit by hand. -->",
        "",
        _text(cli.help),
        "",
        f"Usage: `{_usage(cli, root)}`",
        "",
        _exit_statuses(),
        "",
        "Every command that reads or writes the store takes `--db`: a SQLite file, or a",
        "database URL such as `postgresql://user@host/otseam` (see [store.md](store.md));",
        "without it, `$OTSEAM_DB`, then `otseam.db` in the current directory.",
        "",
        *_options(cli, root),
    ]
    for path, command, ctx in commands(cli, root):
        lines += ["", f"## {path}", "", _text(command.help), "", f"Usage: `{_usage(command, ctx)}`"]
        lines += ["", *_options(command, ctx)]
    return "\n".join(lines).rstrip() + "\n"


def _text(help_text: str | None) -> str:
    return inspect.cleandoc(help_text or "").replace("\b\n", "")


def _usage(command: click.Command, ctx: click.Context) -> str:
    return " ".join([ctx.command_path, *command.collect_usage_pieces(ctx)])


def _exit_statuses() -> str:
    doc = inspect.cleandoc(otseam.cli.__doc__ or "")
    statuses = [part for part in doc.split("\n\n") if part.startswith("Exit status")]
    return " ".join(" ".join(statuses).split())


def _options(command: click.Command, ctx: click.Context) -> list[str]:
    rows = ["| argument or option | meaning | default |", "|---|---|---|"]
    for param in command.get_params(ctx):
        cells = [_names(param, ctx), _meaning(param), _default(param, ctx)]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return rows


def _names(param: click.Parameter, ctx: click.Context) -> str:
    if isinstance(param, click.Argument):
        return f"`{param.make_metavar(ctx)}`"
    value = "" if getattr(param, "is_flag", False) else f" {_value(param.type)}"
    return ", ".join(f"`{name}{value}`" for name in [*param.opts, *param.secondary_opts])


def _value(kind: click.ParamType[Any, Any]) -> str:
    if isinstance(kind, click.Choice):
        return "[" + "|".join(str(c) for c in kind.choices) + "]"
    return kind.name.upper()


def _meaning(param: click.Parameter) -> str:
    if isinstance(param, click.Argument):
        text = f"{'required' if param.required else 'optional'}"
        return text + (", one or more" if param.nargs == -1 else "")
    return " ".join((getattr(param, "help", None) or "").split())


def _default(param: click.Parameter, ctx: click.Context) -> str:
    if isinstance(param, click.Argument) or getattr(param, "is_flag", False):
        return ""
    default = param.get_default(ctx, call=False)
    if default is None or default is UNSET or callable(default):
        return ""
    return f"`{default}`"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only check that the page is current")
    args = parser.parse_args()
    text = render()
    if args.check:
        current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
        if current != text:
            print(f"{PAGE} is out of date: run .venv/bin/python scripts/cli_docs.py")
            sys.exit(1)
        return
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE}")


if __name__ == "__main__":
    main()

"""The CIO's questions and checklist as text, JSON, or Rich panels for the terminal.

Only shapes what :func:`otseam.analysis.questions.answer_questions` concluded;
nothing is re-derived here.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Final, Literal

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from otseam.analysis.questions import Questions

__all__ = ["STATUS_STYLES", "print_questions", "questions_data", "render_questions"]

STATUS_STYLES: Final = {"done": "green", "partial": "yellow", "missing": "red"}


def questions_data(q: Questions) -> dict[str, Any]:
    """Plain dicts and lists, ready for ``json.dumps``."""
    return {
        "answers": [asdict(a) | {"evidence": list(a.evidence)} for a in q.answers],
        "checklist": [asdict(c) | {"evidence": list(c.evidence)} for c in q.checklist],
    }


def render_questions(q: Questions, fmt: Literal["text", "json"] = "text") -> str:
    """The questions and checklist as plain text for a reader, or as JSON."""
    if fmt == "json":
        return json.dumps(questions_data(q), indent=2) + "\n"
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}: use 'text' or 'json'")
    lines: list[str] = []
    for number, answer in enumerate(q.answers, 1):
        lines += [f"{number}. {answer.question}", f"   {answer.answer}"]
        lines += [f"   - {line}" for line in answer.evidence]
        lines.append("")
    lines.append("Checklist")
    for item in q.checklist:
        lines.append(f"  [{item.status.upper():7}] {item.item}")
        lines += [f"            - {line}" for line in item.evidence]
        lines.append(f"            Next: {item.next_step}")
    return "\n".join(lines) + "\n"


def _status(status: str) -> Text:
    return Text(status, style=f"bold {STATUS_STYLES.get(status, 'default')}")


def _evidence(lines: tuple[str, ...]) -> Text:
    return Text("\n".join(f"• {line}" for line in lines), style="dim")


def print_questions(console: Console, q: Questions) -> None:
    """One panel per question, then the checklist as a table with coloured statuses."""
    for number, answer in enumerate(q.answers, 1):
        body = Group(Text(answer.answer), Text(""), _evidence(answer.evidence))
        console.print(Panel(body, title=f"{number}. {answer.question}", title_align="left"))
    table = Table(title="Checklist", title_justify="left", show_lines=True)
    table.add_column("item", ratio=2)
    table.add_column("status", no_wrap=True)
    table.add_column("evidence", ratio=3)
    table.add_column("next step", ratio=2)
    for item in q.checklist:
        table.add_row(item.item, _status(item.status), _evidence(item.evidence), item.next_step)
    console.print(table)

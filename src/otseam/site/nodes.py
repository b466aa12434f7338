"""Typed reading of composed YAML nodes, collecting every problem with its line.

:mod:`otseam.site.load` reads the site file through a :class:`NodeReader`
and an :class:`Entry` per mapping, so that one pass reports all problems
(``site.yaml:23: zones[2].purdue_level: must be ...``) instead of stopping at
the first. Values follow YAML's safe schema (the tag the resolver gave each
scalar), but text fields take the scalar as written so that ``0123`` stays a
serial number and ``17:00`` stays a time.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import yaml

__all__ = ["Entry", "NodeReader", "Reference", "suggest"]

T = TypeVar("T")

_TAG = "tag:yaml.org,2002:"


def suggest(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True, slots=True)
class Reference:
    """A name that must be declared elsewhere in the file (checked at the end)."""

    kind: str  # party | team | zone
    name: str
    node: yaml.Node
    path: str


@dataclass
class NodeReader:
    """Reads nodes, remembers problems (line, message) and references."""

    source: str
    problems: list[tuple[int, str]] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    declared: dict[str, set[str]] = field(default_factory=dict)  # list key -> names in it
    _constructor: yaml.constructor.SafeConstructor = field(
        default_factory=yaml.constructor.SafeConstructor
    )

    def problem(self, node: yaml.Node, path: str, message: str) -> None:
        line = node.start_mark.line + 1
        where = f"{path}: " if path else ""
        self.problems.append((line, f"{self.source}:{line}: {where}{message}"))

    def messages(self) -> list[str]:
        return [message for _, message in sorted(self.problems, key=lambda p: p[0])]

    def entry(
        self, node: yaml.Node, path: str, keys: Sequence[str], required: Sequence[str] = ()
    ) -> Entry | None:
        """The mapping at ``node`` with only ``keys`` allowed, or None if it is not one."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, path, f"must be a mapping of keys, got {shown(node)}")
            return None
        self._constructor.flatten_mapping(node)  # resolves '<<' merge keys
        fields: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.problem(key_node, path, f"keys must be text, got {shown(key_node)}")
            elif key in fields:
                first = fields[key].start_mark.line + 1
                self.problem(key_node, path, f"duplicate key {key!r} (first on line {first})")
            elif key not in keys:
                hint = suggest(key, keys) or f" (allowed: {', '.join(keys)})"
                self.problem(key_node, path, f"unknown key {key!r}{hint}")
            else:
                fields[key] = value_node
        for key in required:
            if key not in fields:
                self.problem(node, path, f"missing key {key!r}")
        return Entry(self, node, path, fields)

    def items(self, node: yaml.Node | None, path: str) -> list[tuple[yaml.Node, str]]:
        """The items of a list (a null or absent list is empty)."""
        if node is None or is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, path, f"must be a list, got {shown(node)}")
            return []
        return [(item, f"{path}[{index}]") for index, item in enumerate(node.value)]

    def value(self, node: yaml.Node) -> object:
        return self._constructor.construct_object(node, deep=True)


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "null"


def shown(node: yaml.Node) -> str:
    """How a wrong value is quoted in a message."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if is_null(node):
        return "nothing"
    return repr(node.value) if node.tag == _TAG + "str" else str(node.value)


@dataclass
class Entry:
    """One mapping of the file: typed access to its keys, reporting problems."""

    reader: NodeReader
    node: yaml.Node
    path: str
    fields: dict[str, yaml.Node]

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def text(self, key: str, *, required: bool = False) -> str | None:
        node = self.fields.get(key)
        if node is None:
            return None
        return self._text(node, self.at(key), required=required)

    def _text(self, node: yaml.Node, path: str, *, required: bool = False) -> str | None:
        if is_null(node):
            if required:
                self.reader.problem(node, path, "must not be empty")
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.reader.problem(node, path, f"must be text, got {shown(node)}")
            return None
        return str(node.value)

    def texts(self, key: str) -> list[tuple[str, yaml.Node, str]]:
        """A list of text values (a single value is a list of one): (text, node, path)."""
        node = self.fields.get(key)
        if node is None or is_null(node):
            return []
        if isinstance(node, yaml.ScalarNode):
            pairs: list[tuple[yaml.Node, str]] = [(node, self.at(key))]
        else:
            pairs = self.reader.items(node, self.at(key))
        found: list[tuple[str, yaml.Node, str]] = []
        for item, path in pairs:
            text = self._text(item, path, required=True)
            if text is not None:
                found.append((text, item, path))
        return found

    def choice(self, key: str, choices: Sequence[str], *, required: bool = False) -> str | None:
        text = self.text(key, required=required)
        if text is None or text in choices:
            return text
        hint = suggest(text, choices)
        self._wrong(key, f"must be one of {', '.join(choices)}, got {text!r}{hint}")
        return None

    def integer(self, key: str, low: int, high: int) -> int | None:
        node = self.fields.get(key)
        return None if node is None else self.integer_at(node, self.at(key), low, high)

    def integer_at(self, node: yaml.Node, path: str, low: int, high: int) -> int | None:
        if is_null(node):
            return None
        if node.tag == _TAG + "int":
            value = self.reader.value(node)
            if isinstance(value, int) and low <= value <= high:
                return value
        message = f"must be a whole number from {low} to {high}, got {shown(node)}"
        self.reader.problem(node, path, message)
        return None

    def number(self, key: str, low: float, high: float, message: str) -> float | None:
        node = self.fields.get(key)
        if node is None or is_null(node):
            return None
        if node.tag in (_TAG + "int", _TAG + "float"):
            value = self.reader.value(node)
            if isinstance(value, int | float) and low <= value <= high:
                return float(value)
        self._wrong(key, f"{message}, got {shown(node)}")
        return None

    def boolean(self, key: str, default: bool = False) -> bool:
        node = self.fields.get(key)
        if node is None or is_null(node):
            return default
        if node.tag == _TAG + "bool":
            return bool(self.reader.value(node))
        self._wrong(key, f"must be true or false, got {shown(node)}")
        return default

    def parsed(self, key: str, parse: Callable[[str], T]) -> list[T]:
        """Each text of list ``key`` through ``parse``; its ValueErrors become problems."""
        values = []
        for text, node, path in self.texts(key):
            try:
                values.append(parse(text))
            except ValueError as exc:
                self.reader.problem(node, path, str(exc))
        return values

    def refer(self, key: str, kind: str) -> str | None:
        """A name of a team/person/zone, checked once the whole file is read."""
        name = self.text(key)
        if name is not None:
            self.reader.references.append(Reference(kind, name, self.fields[key], self.at(key)))
        return name

    def refer_all(self, key: str, kind: str) -> tuple[str, ...]:
        names = self.texts(key)
        for name, node, path in names:
            self.reader.references.append(Reference(kind, name, node, path))
        return tuple(name for name, _, _ in names)

    def _wrong(self, key: str, message: str) -> None:
        self.reader.problem(self.fields[key], self.at(key), message)

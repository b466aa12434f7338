"""The value kinds of the site file: addresses, networks, MACs, weekdays and times.

Shared by the YAML reader (:mod:`otseam.site.load`) and the spreadsheet
import (:mod:`otseam.site.spreadsheet`). Each parser returns the normalised
value or raises :class:`ValueError` with a message meant for a person.
"""

from __future__ import annotations

import re
from datetime import time
from ipaddress import ip_address, ip_network
from typing import Final

from otseam.site.model import Network

__all__ = [
    "DAY_NAMES",
    "format_days",
    "format_time",
    "parse_days",
    "parse_ip",
    "parse_mac",
    "parse_network",
    "parse_time",
    "split_cell",
]

DAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_FULL_DAY_NAMES: Final = (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
)  # fmt: skip

_MAC_FORMS: Final = (
    re.compile(r"^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$"),  # 00:1a:.. or 00-1a-..
    re.compile(r"^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$"),  # 001a.2b3c.4d5e
    re.compile(r"^[0-9a-f]{12}$"),  # 001a2b3c4d5e
)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_SEPARATORS = re.compile(r"[,;\n\r]+")


def parse_ip(text: str) -> str:
    """A single IPv4 or IPv6 address, in its normal written form."""
    try:
        return str(ip_address(text.strip()))
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address") from None


def parse_network(text: str) -> Network:
    """A CIDR block (or a single address, as a /32 or /128); host bits must be zero."""
    try:
        return ip_network(text.strip())
    except ValueError:
        pass
    try:
        loose = ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address or CIDR block") from None
    raise ValueError(f"{text!r} has host bits set (did you mean '{loose}'?)")


def parse_mac(text: str) -> str:
    """A MAC address in lower-case colon form; dash, Cisco dot and bare forms accepted."""
    lowered = text.strip().lower()
    if not any(form.match(lowered) for form in _MAC_FORMS):
        raise ValueError(f"{text!r} is not a MAC address (write it like 00:1a:2b:3c:4d:5e)")
    digits = re.sub(r"[^0-9a-f]", "", lowered)
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def parse_time(text: str, *, end: bool = False) -> time:
    """``HH:MM`` or ``HH:MM:SS``; ``24:00`` is allowed as an end (the end of the day)."""
    match = _TIME.match(text.strip())
    if match is None:
        raise ValueError(f"must be a time like '08:00', got {text!r}")
    hour, minute, second = (int(part or 0) for part in match.groups())
    if end and (hour, minute, second) == (24, 0, 0):
        return time(23, 59, 59)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"must be a time of day from 00:00 to 23:59, got {text!r}")
    return time(hour, minute, second)


def format_time(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def parse_days(words: list[str]) -> tuple[int, ...]:
    """Weekday numbers (0 = Monday) from names and ranges: ``[mon, tue]``, ``mon-fri``."""
    days: set[int] = set()
    for word in words:
        for part in (p.strip() for p in word.split(",")):
            start, dash, end = part.partition("-")
            first = _day(start)
            last = _day(end) if dash else first
            span = (last - first) % 7
            days.update((first + offset) % 7 for offset in range(span + 1))
    return tuple(sorted(days))


def format_days(days: tuple[int, ...]) -> str | list[str]:
    if days == tuple(range(7)):
        return "mon-sun"
    if days == tuple(range(5)):
        return "mon-fri"
    return [DAY_NAMES[day] for day in days]


def _day(word: str) -> int:
    key = word.strip().lower()
    for names in (DAY_NAMES, _FULL_DAY_NAMES):
        if key in names:
            return names.index(key)
    raise ValueError(f"{word.strip()!r} is not a weekday (use mon, tue, ... sun or 'mon-fri')")


def split_cell(text: str) -> list[str]:
    """Several values written in one cell or string: comma, semicolon or newline separated."""
    return [part.strip() for part in _SEPARATORS.split(text) if part.strip()]

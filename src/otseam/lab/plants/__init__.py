"""Plant definitions the lab can build, by name."""

from __future__ import annotations

from collections.abc import Callable

from otseam.lab.model import Plant
from otseam.lab.plants import converged, mini

__all__ = ["PLANTS", "plant_named"]

PLANTS: dict[str, Callable[[], Plant]] = {
    "converged": converged.plant,
    "mini": mini.plant,
}


def plant_named(name: str) -> Plant:
    try:
        return PLANTS[name]()
    except KeyError:
        known = ", ".join(sorted(PLANTS))
        raise KeyError(f"no plant named {name!r}; the lab knows: {known}") from None

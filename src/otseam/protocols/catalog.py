"""The protocols otseam knows, in one list: add a module's PROTOCOL here."""

from __future__ import annotations

from typing import Final

from otseam.protocols import enip, modbus, wellknown
from otseam.protocols.registry import Registry

__all__ = ["REGISTRY"]

REGISTRY: Final = Registry([modbus.PROTOCOL, enip.PROTOCOL, *wellknown.PROTOCOLS])

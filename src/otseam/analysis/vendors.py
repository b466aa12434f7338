"""MAC address vendors from the IEEE OUI registry shipped inside netaddr
(offline; no download at run time)."""

from __future__ import annotations

from functools import lru_cache

from netaddr import EUI
from netaddr.core import AddrFormatError, NotRegisteredError

__all__ = ["mac_vendor"]


def mac_vendor(mac: str) -> str | None:
    """The registered organisation of a MAC's OUI, or None if not registered.

    Locally administered addresses (bit 1 of the first octet) belong to no
    vendor: virtual machines, containers, randomised phones.
    """
    try:
        first = int(mac[:2], 16)
    except ValueError:
        return None
    if first & 0x02:
        return "(locally administered)"
    return _oui_vendor(mac[:8].lower())


@lru_cache(maxsize=65536)
def _oui_vendor(prefix: str) -> str | None:
    """The organisation registered for a 24-bit OUI ('00:1b:1b')."""
    try:
        return str(EUI(prefix + ":00:00:00").oui.registration().org)
    except (NotRegisteredError, AddrFormatError, IndexError):
        return None

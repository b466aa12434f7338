"""MAC vendors are read from netaddr's OUI registry without netaddr's own
index: the names must be the ones netaddr gives, for every OUI."""

from __future__ import annotations

import pytest
from netaddr import EUI
from netaddr.core import AddrFormatError, NotRegisteredError
from netaddr.eui import ieee

from otseam.analysis.vendors import mac_vendor


def _netaddr_vendor(mac: str) -> str | None:
    """What netaddr's own lookup says (loads its whole index)."""
    try:
        return str(EUI(mac[:8] + ":00:00:00").oui.registration().org)
    except (NotRegisteredError, AddrFormatError, IndexError):
        return None


def _mac(oui: int) -> str:
    return ":".join(f"{b:02x}" for b in oui.to_bytes(3, "big")) + ":12:34:56"


def test_every_registered_oui_has_netaddrs_name() -> None:
    # universally administered only: the others have no vendor by design
    ouis = sorted(o for o in ieee.OUI_INDEX if not o & 0x020000)
    several = [o for o in ouis if len(ieee.OUI_INDEX[o]) > 1]
    assert several  # an OUI registered twice: netaddr names its first record
    for oui in ouis:
        mac = _mac(oui)
        assert mac_vendor(mac) == _netaddr_vendor(mac), mac


@pytest.mark.parametrize(
    ("mac", "vendor"),
    [
        ("00:1b:1b:01:02:03", "Siemens AG,"),
        ("00:1B:1B:01:02:03", "Siemens AG,"),
        ("00:00:00:00:00:01", "XEROX CORPORATION"),
        ("fc:ff:fc:00:00:01", None),  # not registered
        ("02:42:ac:11:00:02", "(locally administered)"),
        ("zz:00:00:00:00:00", None),
    ],
)
def test_named_vendors(mac: str, vendor: str | None) -> None:
    assert mac_vendor(mac) == vendor
    if vendor != "(locally administered)":
        assert mac_vendor(mac) == _netaddr_vendor(mac)


def test_a_registry_laid_out_otherwise_falls_back_to_netaddr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If netaddr's index file cannot be read as expected, netaddr's own
    lookup gives the name: the same answer, only slower."""
    from otseam.analysis import vendors

    def unreadable(oui: int) -> str | None:
        raise ValueError("index laid out otherwise")

    vendors._oui_vendor.cache_clear()
    monkeypatch.setattr(vendors, "_oui_record", unreadable)
    try:
        assert mac_vendor("00:1b:1b:01:02:03") == "Siemens AG,"
        assert mac_vendor("fc:ff:fc:00:00:01") is None
    finally:
        vendors._oui_vendor.cache_clear()

"""Link types (LINKTYPE_* of the pcap/pcapng specifications) and which ones
otseam decodes. Names follow tcpdump.org's link-layer header types list."""

from __future__ import annotations

from typing import Final

__all__ = ["SUPPORTED", "describe", "is_supported"]

SUPPORTED: Final[dict[int, str]] = {
    0: "BSD loopback",
    1: "Ethernet",
    12: "raw IP",
    14: "raw IP",
    101: "raw IP",
    108: "OpenBSD loopback",
    113: "Linux cooked (SLL)",
    228: "raw IPv4",
    229: "raw IPv6",
    276: "Linux cooked v2 (SLL2)",
}

_OTHERS: Final[dict[int, str]] = {
    6: "Token Ring",
    9: "PPP",
    10: "FDDI",
    50: "PPP in HDLC",
    104: "Cisco HDLC",
    105: "IEEE 802.11",
    119: "Prism 802.11",
    127: "IEEE 802.11 radiotap",
    143: "DOCSIS",
    147: "user 0",
    187: "Bluetooth HCI",
    192: "PPI",
    195: "IEEE 802.15.4",
    197: "Endace ERF",
    201: "Bluetooth HCI with direction",
    215: "IEEE 802.15.4 non-ASK PHY",
    220: "USB Linux memory-mapped",
    230: "IEEE 802.15.4 without FCS",
    249: "netlink",
    251: "Bluetooth LE link layer",
    263: "IEEE 802.15.4 TAP",
    283: "IEEE 802.15.4 TAP",
}


def is_supported(linktype: int) -> bool:
    """True if otseam decodes frames of this link type."""
    return linktype in SUPPORTED


def describe(linktype: int) -> str:
    """'195 (IEEE 802.15.4)' style text for messages."""
    name = SUPPORTED.get(linktype) or _OTHERS.get(linktype)
    return f"{linktype} ({name})" if name else f"{linktype} (unknown)"

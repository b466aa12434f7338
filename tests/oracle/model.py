"""The shapes both sides of a comparison are brought into.

A conversation is keyed by transport and its two endpoints in a fixed order
of the oracle's own (address family, address bytes, port), so that neither
otseam's nor tshark's choice of "A" matters; the traffic is counted in each
direction of that order. Addresses are compared in canonical text
(``ipaddress``), MACs in lower case.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Final, NamedTuple, TypeVar

__all__ = [
    "TRANSPORT_NAMES",
    "ConversationKey",
    "Endpoint",
    "Traffic",
    "canonical_ip",
    "canonical_mac",
    "conversation_key",
    "differences",
    "transport_name",
]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# otseam's names for transports (store column ``transport``, export ``proto``).
TRANSPORT_NAMES: Final = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp6"}


def transport_name(proto: int) -> str:
    return TRANSPORT_NAMES.get(proto, f"ip-{proto}")


def canonical_ip(text: str) -> str:
    return str(ipaddress.ip_address(text))


def canonical_mac(text: str) -> str:
    return text.lower()


class Endpoint(NamedTuple):
    ip: str
    port: int

    def order(self) -> tuple[int, bytes, int]:
        address = ipaddress.ip_address(self.ip)
        return (address.version, address.packed, self.port)


class ConversationKey(NamedTuple):
    transport: str
    a: Endpoint
    b: Endpoint


def conversation_key(transport: str, src: Endpoint, dst: Endpoint) -> tuple[ConversationKey, bool]:
    """The key, and True when ``src`` is the key's ``a`` (a packet src->dst
    then counts as a->b). A host talking to itself on one port is a->b."""
    forward = src.order() <= dst.order()
    a, b = (src, dst) if forward else (dst, src)
    return ConversationKey(transport, a, b), forward


@dataclass(slots=True)
class Traffic:
    """Packets and bytes in each direction of a key."""

    packets_ab: int = 0
    packets_ba: int = 0
    bytes_ab: int = 0
    bytes_ba: int = 0

    def add(self, forward: bool, packets: int, size: int) -> None:
        if forward:
            self.packets_ab += packets
            self.bytes_ab += size
        else:
            self.packets_ba += packets
            self.bytes_ba += size

    def merge(self, other: Traffic, forward: bool) -> None:
        """Add ``other``, turned around when it is counted the other way."""
        if forward:
            self.add(True, other.packets_ab, other.bytes_ab)
            self.add(False, other.packets_ba, other.bytes_ba)
        else:
            self.add(True, other.packets_ba, other.bytes_ba)
            self.add(False, other.packets_ab, other.bytes_ab)

    @property
    def packets(self) -> int:
        return self.packets_ab + self.packets_ba

    @property
    def size(self) -> int:
        return self.bytes_ab + self.bytes_ba


def differences(otseam: Mapping[K, V], tshark: Mapping[K, V], limit: int = 20) -> list[str]:
    """Readable lines for every key on which the two tables disagree."""
    keys = sorted(set(otseam) | set(tshark), key=str)
    lines = [
        f"{key}: otseam {otseam.get(key)}, tshark {tshark.get(key)}"
        for key in keys
        if otseam.get(key) != tshark.get(key)
    ]
    more = [f"... and {len(lines) - limit} more"] if len(lines) > limit else []
    return lines[:limit] + more

"""What otseam should store for a capture, computed from tshark's frames.

Everything here is derived from ``tshark.Frame`` lines only, never from
otseam. The few rules in which otseam deliberately differs from a plain
reading of tshark are named functions, each documented in docs/oracle.md
and pinned by a test of its own:

- ``conversations``: one conversation per transport 5-tuple for the whole
  capture (tshark's ``tcp.stream`` starts a new one when a port pair is
  reused); later IP fragments carry the ports of their first fragment.
- ``otseam_binds``: senders with the unspecified address (0.0.0.0, ::) or a
  multicast source MAC bind no address to a MAC.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from tests.oracle.model import (
    ConversationKey,
    Endpoint,
    Traffic,
    canonical_ip,
    canonical_mac,
    conversation_key,
    transport_name,
)
from tests.oracle.tshark import Frame

__all__ = [
    "arp_senders",
    "bindings",
    "conversations",
    "ip_pairs",
    "ip_senders",
    "otseam_binds",
    "stations",
]

Binding = tuple[str, str]  # (ip, mac)
FragmentId = tuple[str, str, int, int]  # (src, dst, proto, ident)


def conversations(frames: Iterable[Frame]) -> dict[ConversationKey, Traffic]:
    """Per transport 5-tuple: packets and bytes (frame.len) each way.

    Transports without ports (ICMP, IGMP ...) and TCP/UDP headers too short
    to hold ports count with port 0. A fragment after the first takes the
    ports of the first fragment of its datagram when that came earlier."""
    table: dict[ConversationKey, Traffic] = {}
    first_fragments: dict[FragmentId, tuple[int, int]] = {}
    for frame in frames:
        if frame.src is None or frame.dst is None or frame.proto is None:
            continue
        sport, dport = _ports(frame, first_fragments)
        key, forward = conversation_key(
            transport_name(frame.proto),
            Endpoint(canonical_ip(frame.src), sport),
            Endpoint(canonical_ip(frame.dst), dport),
        )
        table.setdefault(key, Traffic()).add(forward, 1, frame.length)
    return table


def _ports(frame: Frame, first_fragments: dict[FragmentId, tuple[int, int]]) -> tuple[int, int]:
    ports = (frame.sport or 0, frame.dport or 0)
    if frame.fragment is None or frame.src is None or frame.dst is None or frame.proto is None:
        return ports
    datagram = (frame.src, frame.dst, frame.proto, frame.fragment.ident)
    if frame.fragment.first:
        if frame.proto in (6, 17):
            first_fragments[datagram] = ports
        return ports
    return first_fragments.get(datagram, (0, 0))


def ip_pairs(frames: Iterable[Frame]) -> dict[ConversationKey, Traffic]:
    """Per pair of IP addresses, every IP packet of any transport."""
    table: dict[ConversationKey, Traffic] = {}
    for frame in frames:
        if frame.src is None or frame.dst is None:
            continue
        key, forward = conversation_key(
            "ip", Endpoint(canonical_ip(frame.src), 0), Endpoint(canonical_ip(frame.dst), 0)
        )
        table.setdefault(key, Traffic()).add(forward, 1, frame.length)
    return table


def ip_senders(frames: Iterable[Frame]) -> set[Binding]:
    """(IP, MAC) of the sender of every IP packet: IP source, Ethernet source."""
    return {(canonical_ip(f.src), canonical_mac(f.eth_src)) for f in frames if f.eth_src and f.src}


def arp_senders(frames: Iterable[Frame]) -> set[Binding]:
    """(IP, MAC) from the sender fields of every ARP packet."""
    return {
        (canonical_ip(f.arp_ip), canonical_mac(f.arp_mac)) for f in frames if f.arp_mac and f.arp_ip
    }


def otseam_binds(binding: Binding) -> bool:
    """False for the IP senders otseam deliberately does not bind
    (docs/oracle.md, "Hosts"): the unspecified address, which is nobody's
    (DHCP discover, duplicate address detection), and a multicast source MAC,
    which no real station sends from."""
    ip, mac = binding
    return not ipaddress.ip_address(ip).is_unspecified and not int(mac[:2], 16) & 1


def bindings(frames: Iterable[Frame]) -> set[Binding]:
    """The (IP, MAC) pairs otseam should store: IP senders it binds, and ARP
    senders except those claiming 0.0.0.0 (ARP probes, RFC 5227)."""
    frames = tuple(frames)
    from_ip = {b for b in ip_senders(frames) if otseam_binds(b)}
    from_arp = {b for b in arp_senders(frames) if not ipaddress.ip_address(b[0]).is_unspecified}
    return from_ip | from_arp


def stations(frames: Iterable[Frame]) -> set[str]:
    """Every Ethernet source MAC."""
    return {canonical_mac(f.eth_src) for f in frames if f.eth_src}

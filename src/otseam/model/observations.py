"""Typed facts that dissectors produce and the store keeps.

A packet capture and (later) a Zeek log end in these same types, so that
nothing from the store onward can tell where a fact came from. Addresses are
text: an IP address (``"10.0.0.5"``) or, for layer-2 devices, a MAC
(``"00:1b:1b:01:02:03"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Identity",
    "Malformed",
    "MessageContext",
    "Observation",
    "Operation",
    "ProtocolRole",
    "Role",
    "Transport",
]

Transport = Literal["tcp", "udp", "l2"]
Role = Literal["server", "client"]


@dataclass(frozen=True, slots=True)
class MessageContext:
    """Where one application message was seen: who sent it to whom.

    ``flow`` names the conversation and direction within the capture (real
    even where ``src`` and ``dst`` are placeholders): a dissector that keeps
    unfinished answers keys them by it, so that two conversations with the
    same ports never complete each other's answers."""

    protocol: str
    transport: Transport
    src: str
    dst: str
    sport: int
    dport: int
    ts_ns: int
    flow: int = 0


@dataclass(frozen=True, slots=True)
class Identity:
    """What a device says about itself (vendor, product, firmware, serial...).

    ``attributes`` holds pairs such as ``("vendor", "Schneider Electric")``;
    the names used are: vendor, vendor_id, product, product_code, model,
    firmware, serial, name, device_type, device_type_id, order_number.
    """

    address: str
    protocol: str
    attributes: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Operation:
    """An action one device asked of another; ``src`` is the requester.

    ``operation`` is from the shared vocabulary (read, write, control,
    plc_stop, program_download, diagnostic, identify, ...); ``code`` and
    ``code_name`` keep the protocol's own function code and its name, and an
    unknown code is named ``unknown-<n>``.
    """

    src: str
    dst: str
    protocol: str
    operation: str
    code: int
    code_name: str
    exception: bool = False


@dataclass(frozen=True, slots=True)
class ProtocolRole:
    """An address acting as server or client of a protocol, by its semantics."""

    address: str
    protocol: str
    role: Role


@dataclass(frozen=True, slots=True)
class Malformed:
    """A message a dissector could not finish; the raw bytes are kept."""

    src: str
    dst: str
    protocol: str
    reason: str
    raw: bytes


Observation = Identity | Operation | ProtocolRole | Malformed

"""The one place where application protocols are declared.

Each protocol module defines ``PROTOCOL = ProtocolSpec(...)`` once: its name,
the transports and ports it uses, payload signatures for when it runs on an
unusual port, and its dissector. ``REGISTRY`` lists them; the compiled walker
is configured from it, so a protocol is added by writing its module and
naming it in ``otseam.protocols.catalog``.

How dissection is sampled: a dissector sees one representative message per
group, a group being (conversation, direction, protocol, digest of the first
``key_len`` bytes after ``key_skip`` plus the message length); the
group's count multiplies what it reports. ``key_skip`` hides per-message
counters (a Modbus transaction id) so that a polling loop collapses into a
handful of groups.

A message's result is also shared by content: once a message has been
dissected without touching the dissector's ``memory``, a later group whose
first message is the same bytes in the same port context (the ports of the
sides on the protocol's port) takes that result from the walker, so a
million clients sending the same hello cost one dissection.

How a conversation is labelled: by the protocol of its port (or signature),
unless that protocol ``carries`` others on the same port and its dissector
reports a ``ProtocolRole`` of one of them in the conversation; the
conversation is then labelled with that one (MMS on S7comm's TCP 102).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol

import numpy as np

from otseam.decode.layout import FRAMING, SIGNATURE
from otseam.decode.reassembly import Framing
from otseam.model.observations import MessageContext, Observation

__all__ = [
    "Dissector",
    "Framing",
    "Memory",
    "ProtocolSpec",
    "Registry",
    "Signature",
]

Dissector = Callable[[bytes, MessageContext], Iterable[Observation]]
Mode = Literal["none", "representative", "stream"]
_MODES: Final = {"none": 0, "representative": 1, "stream": 2}
# Key anchors, decided per message by the walker: enip-cip ends the key after
# the CIP service and path; cotp-dt keeps S7comm's masks for S7 and COTP
# connection packets and zeroes only the invoke id of MMS (decode/anchors.py).
Anchor = Literal["enip-cip", "cotp-dt"]
ANCHORS: Final[dict[str, int]] = {"enip-cip": 1, "cotp-dt": 2}  # the walker's ANCHOR_* values
MAX_KEY_MASKS: Final = 4


class Memory(Protocol):
    """What a dissector keeps between messages (answers split over several
    PDUs). ``touches`` counts the calls that read or changed it: a message
    whose dissection made one depends on earlier messages, so its result is
    never shared with another message of the same bytes."""

    touches: int

    def clear(self) -> None:
        """Forget everything: a new capture starts."""


@dataclass(frozen=True, slots=True)
class Signature:
    """Payload bytes that identify a protocol on any port: ``payload[offset:]``
    masked with ``mask`` equals ``value``; checked on the first message of a
    conversation that no port identified."""

    transport: Literal["tcp", "udp"]
    offset: int
    value: bytes
    mask: bytes = b""
    min_payload: int = 0


@dataclass(frozen=True, slots=True)
class ProtocolSpec:
    """One application protocol, declared once."""

    name: str
    title: str
    tcp_ports: tuple[int, ...] = ()
    udp_ports: tuple[int, ...] = ()
    ethertypes: tuple[int, ...] = ()
    signatures: tuple[Signature, ...] = ()
    dissector: Dissector | None = None
    framing: Framing | None = None  # PDU delimiting on TCP; enables reassembly
    mode: Mode = "none"
    key_skip: int = 0
    key_len: int = 16
    # (offset, length) ranges inside the key bytes that vary per message
    # (sequence numbers, session handles) and must not split groups.
    key_masks: tuple[tuple[int, int], ...] = ()
    # Dissect at most this many messages per conversation direction (0: all):
    # for protocols read from their opening (banners, hellos, request
    # headers), so a bulk transfer is not a stream of new message groups.
    max_messages: int = 0
    # Other registered protocols that run on this one's ports and that its
    # dissector tells apart: a conversation in which it reports a
    # ProtocolRole of one of them is labelled with that protocol.
    carries: tuple[str, ...] = ()
    # A rule the walker applies to each message's key (ANCHORS), for
    # protocols whose result depends on bytes at places that move:
    # "enip-cip" ends the key after the CIP service and path; "cotp-dt"
    # keys a non-S7 DT (MMS) without the S7 masks, its invoke id masked.
    key_anchor: Anchor | None = None
    # What the dissector keeps between messages (unfinished answers split
    # over several PDUs): cleared when a capture starts, so that one
    # capture's leftovers never complete another's.
    memory: Memory | None = None
    doc: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class Registry:
    """Protocols by name and by the small integer id the walker uses."""

    def __init__(self, specs: Iterable[ProtocolSpec]) -> None:
        self.specs: list[ProtocolSpec] = list(specs)
        for spec in self.specs:
            if (
                len(spec.key_masks) > MAX_KEY_MASKS
                or spec.key_len > 255
                or spec.key_skip > 255
                or not 0 <= spec.max_messages <= 255
            ):
                raise ValueError(f"{spec.name}: key_len/key_skip/key_masks out of range")
        if len(self.specs) > 254:
            raise ValueError("at most 254 protocols fit the walker's id byte")
        names = [s.name for s in self.specs]
        if len(set(names)) != len(names):
            raise ValueError(f"protocol declared twice: {names}")
        self.by_name = {s.name: s for s in self.specs}
        for spec in self.specs:
            unknown = [name for name in spec.carries if name not in self.by_name]
            if unknown:
                raise ValueError(f"{spec.name} carries undeclared protocols {unknown}")

    def app_id(self, name: str) -> int:
        return self.specs.index(self.by_name[name]) + 1

    def spec_of(self, app_id: int) -> ProtocolSpec | None:
        return self.specs[app_id - 1] if 0 < app_id <= len(self.specs) else None

    def name_of(self, app_id: int) -> str | None:
        spec = self.spec_of(app_id)
        return spec.name if spec else None

    def framing_table(self) -> bytes:
        """One framing per app id, for the walker's PDU alignment check."""
        table = np.zeros(256, dtype=FRAMING)
        for app, spec in enumerate(self.specs, start=1):
            f = spec.framing
            if f is None:
                continue
            table[app] = (
                f.len_offset,
                f.len_size,
                int(f.big_endian),
                int(f.magic is not None),
                f.magic or 0,
                0,
                f.adjust,
                f.max_length,
            )
        return table.tobytes()

    def walker_tables(self, dissect: bool = True) -> tuple[bytes, bytes, bytes, bytes, bytes]:
        """Port tables, dissect specs, signatures and ethertypes for the walker."""
        tcp = np.zeros(65536, dtype=np.uint8)
        udp = np.zeros(65536, dtype=np.uint8)
        specs = np.zeros((256, 6 + 2 * MAX_KEY_MASKS), dtype=np.uint8)
        signatures = []
        ethertypes = bytearray()
        for app, spec in enumerate(self.specs, start=1):
            for port in spec.tcp_ports:
                tcp[port] = tcp[port] or app
            for port in spec.udp_ports:
                udp[port] = udp[port] or app
            if dissect and spec.dissector is not None:
                masks = [b for m in spec.key_masks for b in m]
                masks += [0] * (2 * MAX_KEY_MASKS - len(masks))
                specs[app] = (
                    _MODES[spec.mode],
                    spec.key_skip,
                    min(spec.key_len, 255),
                    len(spec.key_masks),
                    *masks,
                    spec.max_messages,
                    ANCHORS[spec.key_anchor] if spec.key_anchor else 0,
                )
            for sig in spec.signatures:
                row = np.zeros(1, dtype=SIGNATURE)
                mask = sig.mask or b"\xff" * len(sig.value)
                row["proto"] = 6 if sig.transport == "tcp" else 17
                row["app"] = app
                row["offset"] = sig.offset
                row["length"] = len(sig.value)
                row["value"][0, : len(sig.value)] = list(sig.value)
                row["mask"][0, : len(mask)] = list(mask)
                row["min_payload"] = sig.min_payload
                signatures.append(row.tobytes())
            for ethertype in spec.ethertypes:
                ethertypes += ethertype.to_bytes(2, "little") + bytes([app, 0])
        return (
            tcp.tobytes(),
            udp.tobytes(),
            specs.tobytes(),
            b"".join(signatures),
            bytes(ethertypes),
        )

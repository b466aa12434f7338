"""Reassembly of segmented BACnet Complex-ACKs (ANSI/ASHRAE 135-2020,
clause 5.4 segmentation of APDUs, clause 20.1.5 BACnet-ComplexACK-PDU).

A Complex-ACK too long for one APDU is sent as segments: each carries the
SEG bit, the more-follows (MOR) bit, the original invoke id, a sequence
number (modulo 256: the first segment is 0, and so is the 257th), the proposed window size and
the service ACK choice, then the next part of the service ACK. The parts,
in sequence order, are the service ACK of an unsegmented reply.

``SegmentedAcks`` keeps the parts of unfinished replies. A segment out of
order (a lost or unsampled one) abandons the reply, a repeated one is
ignored; a reply longer than ``MAX_REPLY`` bytes is abandoned, and at most
``MAX_PENDING`` replies wait at once (the oldest is dropped first).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Final

__all__ = ["MAX_PENDING", "MAX_REPLY", "ReplyKey", "SegmentedAcks"]

MAX_REPLY: Final = 65536
MAX_PENDING: Final = 64

# (flow, source port, destination port, originating B/IP address of a
# Forwarded-NPDU or "", invoke id, service ACK choice)
ReplyKey = tuple[int, int, int, str, int, int]


@dataclass(slots=True)
class _Reply:
    expected: int  # sequence number of the next segment
    data: bytearray


@dataclass(slots=True)
class SegmentedAcks:
    """Service ACK bytes of segmented replies whose last segment has not come."""

    pending: OrderedDict[ReplyKey, _Reply] = field(default_factory=OrderedDict)
    touches: int = 0  # calls so far: a dissection that made one depends on earlier messages

    def clear(self) -> None:
        """Forget every unfinished reply (a new capture starts)."""
        self.pending.clear()

    def add(self, key: ReplyKey, sequence: int, more: bool, data: bytes) -> bytes | None:
        """One segment; the whole service ACK once its last segment is in,
        otherwise None."""
        self.touches += 1
        reply = self.pending.get(key)
        if sequence == 0 and (reply is None or reply.expected != 0):  # else: wrapped
            self.pending.pop(key, None)
            if not more:
                return data
            self.pending[key] = _Reply(1, bytearray(data))
            while len(self.pending) > MAX_PENDING:
                self.pending.popitem(last=False)
            return None
        if reply is None:
            return None
        if sequence == (reply.expected - 1) % 256:
            return None  # a retransmission of the segment before
        if sequence != reply.expected or len(reply.data) + len(data) > MAX_REPLY:
            del self.pending[key]
            return None
        reply.data += data
        if not more:
            del self.pending[key]
            return bytes(reply.data)
        reply.expected = (sequence + 1) % 256
        self.pending.move_to_end(key)
        return None

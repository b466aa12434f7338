"""S7 system status lists (SZL) that identify a module, and SZL answers
split over several S7 PDUs.

SZL-ID W#16#xy11, module identification (S7-300/400 System and Standard
Functions, Volume 1/2, chapter 34.3): records of 28 bytes, index, MLFB (the
order number, 20 characters), module type id, and two version words; index
1 is the module, index 7 the basic firmware, whose version words hold
"V", V1, V2, V3.

SZL-ID W#16#xy1C, component identification (chapter 34.8): records of 34
bytes, an index and 32 bytes of text or ids: 1 station (automation system)
name, 2 module name, 3 plant designation, 4 copyright, 5 serial number, 7
module type name, 8 memory card serial number, 9 manufacturer and profile.

A Read SZL answer longer than one PDU comes in data units: the first holds
the SZL header and the first records, each further one (requested by the
client with the same data unit reference) only continues the bytes.
``SzlFragments`` keeps the bytes of an unfinished answer until its last
unit, keyed by the conversation's ports and the data unit reference.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Final

__all__ = ["IDENTITY_LISTS", "SzlFragments", "szl_identity"]

MODULE_IDENTIFICATION: Final = 0x11
COMPONENT_IDENTIFICATION: Final = 0x1C
IDENTITY_LISTS: Final = (MODULE_IDENTIFICATION, COMPONENT_IDENTIFICATION)
SIEMENS_MANUFACTURER_ID: Final = 0x002A  # PROFIBUS manufacturer id
MAX_PENDING: Final = 256

# W#16#xy1C record index -> attribute (text records only)
COMPONENT_TEXT: Final[dict[int, str]] = {
    1: "name",
    2: "module",
    3: "plant",
    5: "serial",
    7: "product",
    8: "memory_card_serial",
}
# Record order of a complete W#16#001C list, for servers that leave the
# index words zero (python-snap7's server does).
COMPONENT_ORDER: Final = (1, 2, 3, 4, 5, 7, 8, 9, 10, 11)


def szl_identity(data: bytes) -> tuple[tuple[str, str], ...]:
    """Identity attributes from SZL data that starts at the SZL-ID word."""
    if len(data) < 8:
        return ()
    szl_id, _index, record_len, _count = struct.unpack_from(">HHHH", data, 0)
    records = data[8:]
    if szl_id & 0xFF == MODULE_IDENTIFICATION:
        return _module_identification(records, record_len or 28)
    if szl_id & 0xFF == COMPONENT_IDENTIFICATION:
        return _component_identification(records, record_len or 34)
    return ()


def _module_identification(records: bytes, size: int) -> tuple[tuple[str, str], ...]:
    found: dict[str, str] = {}
    for pos in range(0, len(records) - size + 1, size):
        record = records[pos : pos + size]
        if len(record) < 22:
            break
        (index,) = struct.unpack_from(">H", record, 0)
        mlfb = _text(record[2:22])
        if index in (1, 6) and mlfb and "order_number" not in found:
            found["model"] = found["order_number"] = mlfb
        if index == 7 and len(record) >= 28:
            ausbg, ausbe = struct.unpack_from(">HH", record, 24)
            if ausbg >> 8 == ord("V"):
                found["firmware"] = f"V{ausbg & 0xFF}.{ausbe >> 8}.{ausbe & 0xFF}"
    return tuple(found.items())


def _component_identification(records: bytes, size: int) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for n, pos in enumerate(range(0, len(records) - size + 1, size)):
        record = records[pos : pos + size]
        if len(record) < 4:
            break
        (index,) = struct.unpack_from(">H", record, 0)
        if index == 0 and n < len(COMPONENT_ORDER):
            index = COMPONENT_ORDER[n]
        if index in COMPONENT_TEXT:
            value = _text(record[2:])
            if value:
                found.append((COMPONENT_TEXT[index], value))
        elif index == 9:
            (manufacturer,) = struct.unpack_from(">H", record, 2)
            if manufacturer:
                found.append(("vendor_id", str(manufacturer)))
            if manufacturer == SIEMENS_MANUFACTURER_ID:
                found.append(("vendor", "Siemens"))
    return tuple(found)


def _text(raw: bytes) -> str:
    """A fixed-width SZL string: up to the first NUL, trimmed, printable only."""
    text = raw.split(b"\x00", 1)[0].decode("latin-1").strip()
    return text if text.isprintable() else ""


SzlKey = tuple[int, int, int, int]  # (flow, source port, destination port, data unit reference)


@dataclass(slots=True)
class SzlFragments:
    """Bytes of Read SZL answers whose last data unit has not come yet."""

    pending: OrderedDict[SzlKey, bytes] = field(default_factory=OrderedDict)
    touches: int = 0  # calls so far: a dissection that made one depends on earlier messages

    def clear(self) -> None:
        """Forget every unfinished answer (a new capture starts)."""
        self.pending.clear()

    def first(self, key: SzlKey, data: bytes) -> None:
        """The first unit of an answer with more to come."""
        self.touches += 1
        self.pending.pop(key, None)
        self.pending[key] = data
        while len(self.pending) > MAX_PENDING:
            self.pending.popitem(last=False)

    def follow(self, key: SzlKey, data: bytes, last: bool) -> bytes | None:
        """A later unit: the answer so far, or None if its start was not seen."""
        self.touches += 1
        start = self.pending.pop(key, None)
        if start is None:
            return None
        joined = start + data
        if not last:
            self.first(key, joined)
        return joined

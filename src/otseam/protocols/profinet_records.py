"""PROFINET IO records in CM Read responses: the Identification &
Maintenance (I&M) data a device gives about itself (IEC 61158-6-10: the
coding of the IODReadResHeader, I&M0 and I&M1 blocks and of their fields;
the PI guideline "Identification & Maintenance Functions" explains their
use).

A Read or Read Implicit response body is the NDR header (PNIOStatus,
ArgsLength, then the conformant array's MaximumCount, Offset, ActualCount:
20 octets, in the byte order the DCE/RPC header names) followed by blocks,
which are always big-endian. Each block starts with a BlockHeader: type,
length (of what follows the length field), version high and low. The
IODReadResHeader (type 0x8009, 64 octets) names the slot, subslot and
record index; the record data follows it. Record index 0xAFF0 holds an I&M0
block (type 0x0020), 0xAFF1 an I&M1 block (type 0x0021).

I&M0 content (54 octets): VendorID (2), OrderID (20, visible string),
IM_Serial_Number (16), IM_Hardware_Revision (2), IM_Software_Revision
(prefix character V, R, P, U or T, then functional enhancement, bug fix and
internal change, one octet each), IM_Revision_Counter (2), IM_Profile_ID
(2), IM_Profile_Specific_Type (2), IM_Version (major, minor), IM_Supported
(2). I&M1 content: IM_Tag_Function (32) and IM_Tag_Location (22).
"""

from __future__ import annotations

import struct
from typing import Final

__all__ = ["IM0", "IM1", "READ_RES_HEADER", "read_response_identity"]

READ_RES_HEADER: Final = 0x8009
IM0: Final = 0x0020
IM1: Final = 0x0021
NDR_HEADER: Final = 20
BLOCK_HEADER: Final = 6
READ_RES_SIZE: Final = 64  # whole IODReadResHeader block
IM0_SIZE: Final = 54  # I&M0 content after the block header
IM1_SIZE: Final = 54
SOFTWARE_PREFIXES: Final = "VRPUT"  # released, revision, prototype, under test, test device
DAP_SLOT: Final = 0  # the device access point: its I&M data is the device's

Attributes = tuple[tuple[str, str], ...]


def read_response_identity(body: bytes, vendors: dict[int, str]) -> Attributes:
    """Identity attributes in the body of a Read (Implicit) response: I&M0
    and I&M1 records of the device access point (slot 0). Other slots hold
    modules, whose I&M data is not the device's; other records give nothing."""
    pos = NDR_HEADER
    if len(body) < pos + READ_RES_SIZE + BLOCK_HEADER:
        return ()
    block_type, length = struct.unpack_from(">HH", body, pos)
    if block_type != READ_RES_HEADER or length + 4 != READ_RES_SIZE:
        return ()
    # type, length, version (6), SeqNumber (2), ARUUID (16), API (4): slot at 28
    (slot,) = struct.unpack_from(">H", body, pos + 28)
    if slot != DAP_SLOT:
        return ()
    record = body[pos + READ_RES_SIZE :]
    block_type, length = struct.unpack_from(">HH", record, 0)
    content = record[BLOCK_HEADER : 4 + length]
    if block_type == IM0 and len(content) >= IM0_SIZE:
        return _im0(content, vendors)
    if block_type == IM1 and len(content) >= IM1_SIZE:
        return _im1(content)
    return ()


def _im0(content: bytes, vendors: dict[int, str]) -> Attributes:
    (vendor,) = struct.unpack_from(">H", content, 0)
    order_id = _text(content[2:22])
    (hardware,) = struct.unpack_from(">H", content, 38)
    prefix, major, minor, internal = content[40:44]
    letter = chr(prefix) if chr(prefix) in SOFTWARE_PREFIXES else ""
    found = [
        ("vendor_id", str(vendor)),
        ("vendor", vendors.get(vendor, f"unknown-{vendor}")),
        ("order_number", order_id),
        ("model", order_id),
        ("serial", _text(content[22:38])),
        ("hardware", str(hardware)),
        ("firmware", f"{letter}{major}.{minor}.{internal}"),
    ]
    return tuple((k, v) for k, v in found if v)


def _im1(content: bytes) -> Attributes:
    found = [("function", _text(content[0:32])), ("location", _text(content[32:54]))]
    return tuple((k, v) for k, v in found if v)


def _text(raw: bytes) -> str:
    """A fixed-width visible string, padded with blanks (or NULs)."""
    text = raw.split(b"\x00", 1)[0].decode("latin-1").strip()
    return text if text.isprintable() else ""

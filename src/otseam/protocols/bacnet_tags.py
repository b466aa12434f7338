"""BACnet tagged encoding (ANSI/ASHRAE 135, clause 20.2), the code tables
of ``otseam.protocols.bacnet``, and the decoding of the services that carry
a device's identity (I-Am, ReadProperty-ACK, ReadPropertyMultiple-ACK).

A tag is one octet (tag number, class, length/value/type) optionally
followed by an extended tag number and an extended length. Every reader
here returns None instead of raising when the bytes run out or do not fit.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

__all__ = [
    "BVLC_FUNCTIONS",
    "CONFIRMED",
    "NETWORK_MESSAGES",
    "UNCONFIRMED",
    "VENDORS",
    "Tag",
    "device_properties",
    "i_am",
    "read_tag",
    "service_detail",
]

DEVICE: Final = 8  # object type of the Device object
WILDCARD_INSTANCE: Final = 4194303  # "the device that receives this" (clause 12.11.1)
CHARSETS: Final[dict[int, str]] = {0: "utf-8", 3: "utf-32-be", 4: "utf-16-be", 5: "latin-1"}


@dataclass(frozen=True, slots=True)
class Tag:
    """One tag: where its content starts and how long it is."""

    number: int
    context: bool
    opening: bool
    closing: bool
    start: int  # first content octet
    length: int  # content octets (for application booleans: the value)

    @property
    def end(self) -> int:
        return self.start + (0 if self.opening or self.closing else self.length)


def read_tag(data: bytes, pos: int) -> Tag | None:
    """The tag at ``pos`` (clause 20.2.1), None if it does not fit."""
    if pos >= len(data):
        return None
    first = data[pos]
    number, context, lvt = first >> 4, bool(first & 0x08), first & 0x07
    pos += 1
    if number == 15:
        if pos >= len(data):
            return None
        number, pos = data[pos], pos + 1
    if context and lvt in (6, 7):
        return Tag(number, True, lvt == 6, lvt == 7, pos, 0)
    if not context and number == 1:  # application boolean: the value is in the tag
        return Tag(1, False, False, False, pos, 0)
    length = lvt
    if lvt == 5:
        if pos >= len(data):
            return None
        length, pos = data[pos], pos + 1
        size = {254: 2, 255: 4}.get(length, 0)
        if size:
            if pos + size > len(data):
                return None
            length, pos = int.from_bytes(data[pos : pos + size], "big"), pos + size
    if pos + length > len(data):
        return None
    return Tag(number, context, False, False, pos, length)


def unsigned(data: bytes, tag: Tag) -> int:
    return int.from_bytes(data[tag.start : tag.start + tag.length], "big")


def object_id(data: bytes, tag: Tag) -> tuple[int, int] | None:
    """(object type, instance) of a 4-octet object identifier (clause 20.2.14)."""
    if tag.length != 4:
        return None
    (raw,) = struct.unpack_from(">I", data, tag.start)
    return raw >> 22, raw & 0x3FFFFF


def character_string(data: bytes, tag: Tag) -> str | None:
    """A character string (clause 20.2.9): the first octet names the charset."""
    if tag.length < 1:
        return None
    charset = CHARSETS.get(data[tag.start], "latin-1")
    raw = data[tag.start + 1 : tag.start + tag.length]
    return raw.decode(charset, errors="replace").strip("\x00 ").strip()


def app_value(data: bytes, tag: Tag) -> str | None:
    """An application-tagged value as text, for the types identity uses."""
    if tag.context or tag.opening or tag.closing:
        return None
    if tag.number == 7:
        return character_string(data, tag)
    if tag.number in (2, 9):
        return str(unsigned(data, tag))
    if tag.number == 12:
        found = object_id(data, tag)
        return f"{found[0]}:{found[1]}" if found else None
    return None


# BVLC functions (Annex J.2) -> (name, operation) for those without an NPDU.
BVLC_FUNCTIONS: Final[dict[int, tuple[str, str]]] = {
    0x00: ("BVLC-Result", "other"),
    0x01: ("Write-Broadcast-Distribution-Table", "config_change"),
    0x02: ("Read-Broadcast-Distribution-Table", "read"),
    0x03: ("Read-Broadcast-Distribution-Table-Ack", "read"),
    0x05: ("Register-Foreign-Device", "session"),
    0x06: ("Read-Foreign-Device-Table", "read"),
    0x07: ("Read-Foreign-Device-Table-Ack", "read"),
    0x08: ("Delete-Foreign-Device-Table-Entry", "config_change"),
    0x0C: ("Secure-BVLL", "other"),
}

# Network layer messages (clause 6.2.4); 0x80 and above are proprietary.
NETWORK_MESSAGES: Final[dict[int, tuple[str, str]]] = {
    0x00: ("Who-Is-Router-To-Network", "identify"),
    0x01: ("I-Am-Router-To-Network", "announce"),
    0x02: ("I-Could-Be-Router-To-Network", "announce"),
    0x03: ("Reject-Message-To-Network", "other"),
    0x04: ("Router-Busy-To-Network", "other"),
    0x05: ("Router-Available-To-Network", "other"),
    0x06: ("Initialize-Routing-Table", "config_change"),
    0x07: ("Initialize-Routing-Table-Ack", "other"),
    0x08: ("Establish-Connection-To-Network", "session"),
    0x09: ("Disconnect-Connection-To-Network", "session"),
    0x0A: ("Challenge-Request", "auth"),
    0x0B: ("Security-Payload", "auth"),
    0x0C: ("Security-Response", "auth"),
    0x0D: ("Request-Key-Update", "auth"),
    0x0E: ("Update-Key-Set", "auth"),
    0x0F: ("Update-Distribution-Key", "auth"),
    0x10: ("Request-Master-Key", "auth"),
    0x11: ("Set-Master-Key", "auth"),
    0x12: ("What-Is-Network-Number", "identify"),
    0x13: ("Network-Number-Is", "announce"),
}

# BACnetConfirmedServiceChoice (clause 21) -> (name, operation)
CONFIRMED: Final[dict[int, tuple[str, str]]] = {
    0: ("acknowledgeAlarm", "write"),
    1: ("confirmedCOVNotification", "notify"),
    2: ("confirmedEventNotification", "notify"),
    3: ("getAlarmSummary", "read"),
    4: ("getEnrollmentSummary", "read"),
    5: ("subscribeCOV", "subscribe"),
    6: ("atomicReadFile", "file_read"),
    7: ("atomicWriteFile", "file_write"),
    8: ("addListElement", "write"),
    9: ("removeListElement", "write"),
    10: ("createObject", "config_change"),
    11: ("deleteObject", "config_change"),
    12: ("readProperty", "read"),
    13: ("readPropertyConditional", "read"),
    14: ("readPropertyMultiple", "read"),
    15: ("writeProperty", "write"),
    16: ("writePropertyMultiple", "write"),
    17: ("deviceCommunicationControl", "comm_control"),
    18: ("confirmedPrivateTransfer", "vendor"),
    19: ("confirmedTextMessage", "message"),
    20: ("reinitializeDevice", "restart"),
    21: ("vtOpen", "session"),
    22: ("vtClose", "session"),
    23: ("vtData", "session"),
    24: ("authenticate", "auth"),
    25: ("requestKey", "auth"),
    26: ("readRange", "read"),
    27: ("lifeSafetyOperation", "control"),
    28: ("subscribeCOVProperty", "subscribe"),
    29: ("getEventInformation", "read"),
    30: ("subscribeCOVPropertyMultiple", "subscribe"),
    31: ("confirmedCOVNotificationMultiple", "notify"),
    32: ("confirmedAuditNotification", "notify"),
    33: ("auditLogQuery", "read"),
}

# BACnetUnconfirmedServiceChoice (clause 21) -> (name, operation)
UNCONFIRMED: Final[dict[int, tuple[str, str]]] = {
    0: ("i-Am", "announce"),
    1: ("i-Have", "announce"),
    2: ("unconfirmedCOVNotification", "notify"),
    3: ("unconfirmedEventNotification", "notify"),
    4: ("unconfirmedPrivateTransfer", "vendor"),
    5: ("unconfirmedTextMessage", "message"),
    6: ("timeSynchronization", "set_time"),
    7: ("who-Has", "identify"),
    8: ("who-Is", "identify"),
    9: ("utcTimeSynchronization", "set_time"),
    10: ("writeGroup", "write"),
    11: ("unconfirmedCOVNotificationMultiple", "notify"),
    12: ("unconfirmedAuditNotification", "notify"),
    13: ("who-Am-I", "identify"),
    14: ("you-Are", "config_change"),
}

REINITIALIZE_STATES: Final = (
    "coldstart",
    "warmstart",
    "start-backup",
    "end-backup",
    "start-restore",
    "end-restore",
    "abort-restore",
    "activate-changes",
)
DCC_STATES: Final = ("enable", "disable", "disable-initiation")

# Device object properties (clause 12.11) -> Identity attribute.
IDENTITY_PROPERTIES: Final[dict[int, str]] = {
    121: "vendor",
    120: "vendor_id",
    70: "model",
    44: "firmware",
    12: "application",
    77: "name",
    372: "serial",
    75: "device_instance",
}

# BACnet vendor identifiers (ASHRAE registry) that this module is sure of.
VENDORS: Final[dict[int, str]] = {
    0: "ASHRAE",
    2: "The Trane Company",
    5: "Johnson Controls, Inc.",
    8: "Delta Controls",
    24: "Automated Logic Corporation",
    36: "Tridium, Inc.",
}

SEGMENTATION: Final = ("both", "transmit", "receive", "none")


def service_detail(service: int, apdu: bytes, pos: int) -> str:
    """': <state>' for the services whose first parameters say what they do."""
    if service == 20:  # reinitializeDevice: [0] reinitializedStateOfDevice
        tag = read_tag(apdu, pos)
        if tag and tag.context and tag.number == 0 and tag.length:
            state = unsigned(apdu, tag)
            states = REINITIALIZE_STATES
            return f": {states[state] if state < len(states) else f'unknown-{state}'}"
    elif service == 17:  # deviceCommunicationControl: [0] duration?, [1] enable-disable
        tag = read_tag(apdu, pos)
        if tag and tag.context and tag.number == 0:
            tag = read_tag(apdu, tag.end)
        if tag and tag.context and tag.number == 1 and tag.length:
            state = unsigned(apdu, tag)
            return f": {DCC_STATES[state] if state < len(DCC_STATES) else f'unknown-{state}'}"
    return ""


def i_am(apdu: bytes, pos: int) -> tuple[tuple[str, str], ...] | None:
    """I-Am-Request (clause 16.1): device id, max APDU, segmentation, vendor."""
    values: list[Tag] = []
    for number in (12, 2, 9, 2):
        tag = read_tag(apdu, pos)
        if tag is None or tag.context or tag.number != number:
            return None
        values.append(tag)
        pos = tag.end
    device = object_id(apdu, values[0])
    if device is None:
        return None
    vendor = unsigned(apdu, values[3])
    segmentation = unsigned(apdu, values[2])
    found = [
        ("device_instance", str(device[1])),
        ("max_apdu", str(unsigned(apdu, values[1]))),
        ("segmentation", SEGMENTATION[segmentation] if segmentation < 4 else "unknown"),
        ("vendor_id", str(vendor)),
    ]
    if vendor in VENDORS:
        found.append(("vendor", VENDORS[vendor]))
    return tuple(found)


def device_properties(service: int, apdu: bytes, pos: int) -> tuple[tuple[str, str], ...]:
    """Identity attributes in a ReadProperty-ACK (clause 15.5) or
    ReadPropertyMultiple-ACK (clause 15.7) about a Device object."""
    found: list[tuple[str, str]] = []
    if service == 12:
        _read_property_ack(apdu, pos, found)
    elif service == 14:
        _read_property_multiple_ack(apdu, pos, found)
    return tuple(dict.fromkeys(found))


def _device(apdu: bytes, pos: int, number: int, found: list[tuple[str, str]]) -> int | None:
    """Read the context-tagged object identifier; its end if it is a Device."""
    tag = read_tag(apdu, pos)
    if tag is None or not tag.context or tag.number != number:
        return None
    oid = object_id(apdu, tag)
    if oid is None or oid[0] != DEVICE:
        return None
    if oid[1] != WILDCARD_INSTANCE:
        found.append(("device_instance", str(oid[1])))
    return tag.end


def _read_property_ack(apdu: bytes, pos: int, found: list[tuple[str, str]]) -> None:
    end = _device(apdu, pos, 0, found)
    prop = read_tag(apdu, end) if end is not None else None
    if prop is None or not prop.context or prop.number != 1:
        return
    value = read_tag(apdu, prop.end)
    if value is not None and value.context and value.number == 2:  # array index
        return  # an element of an array property: not one of the identity ones
    if value is not None and value.opening and value.number == 3:
        _property_value(unsigned(apdu, prop), apdu, value.start, found)


def _read_property_multiple_ack(apdu: bytes, pos: int, found: list[tuple[str, str]]) -> None:
    while pos < len(apdu):
        end = _device(apdu, pos, 0, found)
        opening = read_tag(apdu, end) if end is not None else None
        if opening is None or not opening.opening or opening.number != 1:
            return
        pos = opening.start
        while True:
            tag = read_tag(apdu, pos)
            if tag is None:
                return
            if tag.closing and tag.number == 1:
                pos = tag.start
                break
            if not tag.context or tag.number != 2:
                return
            prop = unsigned(apdu, tag)
            nxt = read_tag(apdu, tag.end)
            if nxt is not None and nxt.context and nxt.number == 3:
                nxt = read_tag(apdu, nxt.end)  # array index: skip the result
                prop = -1
            if nxt is None or not nxt.opening or nxt.number not in (4, 5):
                return
            if nxt.number == 4 and prop >= 0:
                _property_value(prop, apdu, nxt.start, found)
            closing = _skip_to_closing(apdu, nxt.start)
            if closing is None:
                return
            pos = closing


def _property_value(prop: int, apdu: bytes, pos: int, found: list[tuple[str, str]]) -> None:
    attribute = IDENTITY_PROPERTIES.get(prop)
    tag = read_tag(apdu, pos)
    if attribute is None or tag is None:
        return
    value = app_value(apdu, tag)
    if not value:
        return
    if attribute == "device_instance":
        value = value.split(":")[-1]
    found.append((attribute, value))


def _skip_to_closing(apdu: bytes, pos: int) -> int | None:
    """Position after the closing tag that matches an opening one."""
    depth = 1
    while depth:
        tag = read_tag(apdu, pos)
        if tag is None:
            return None
        if tag.opening:
            depth += 1
        elif tag.closing:
            depth -= 1
        pos = tag.end if not (tag.opening or tag.closing) else tag.start
    return pos

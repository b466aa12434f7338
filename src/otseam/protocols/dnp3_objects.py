"""DNP3 (IEEE 1815-2012) code tables and the link-layer CRC.

Function codes are those of clause 4.2.2.5 (table 4-1, grouped by the
standard as transfer, control, freeze, application control, configuration,
time synchronisation, file and authentication functions). Device attributes
are group 0 (clause 11.9.3, "Device attributes"); the link-layer CRC is the
16-bit code of clause 9.2.7 (polynomial 0x3D65, bit-reversed, complemented).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Final

__all__ = [
    "DEVICE_ATTRIBUTES",
    "FUNCTIONS",
    "LINK_FUNCTIONS",
    "RESPONSES",
    "crc",
    "device_attributes",
    "function",
]

# function code -> (name, operation)
FUNCTIONS: Final[dict[int, tuple[str, str]]] = {
    0: ("Confirm", "other"),
    1: ("Read", "read"),
    2: ("Write", "write"),
    3: ("Select", "control"),
    4: ("Operate", "control"),
    5: ("Direct Operate", "control"),
    6: ("Direct Operate No Ack", "control"),
    # freeze functions change counter state in the outstation
    7: ("Immediate Freeze", "control"),
    8: ("Immediate Freeze No Ack", "control"),
    9: ("Freeze and Clear", "control"),
    10: ("Freeze and Clear No Ack", "control"),
    11: ("Freeze at Time", "control"),
    12: ("Freeze at Time No Ack", "control"),
    13: ("Cold Restart", "restart"),
    14: ("Warm Restart", "restart"),
    15: ("Initialize Data", "memory_reset"),
    16: ("Initialize Application", "restart"),
    17: ("Start Application", "plc_start"),
    18: ("Stop Application", "plc_stop"),
    19: ("Save Configuration", "config_change"),
    20: ("Enable Unsolicited", "comm_control"),
    21: ("Disable Unsolicited", "comm_control"),
    22: ("Assign Class", "config_change"),
    23: ("Delay Measurement", "diagnostic"),
    24: ("Record Current Time", "set_time"),
    25: ("Open File", "file_read"),
    26: ("Close File", "file_read"),
    27: ("Delete File", "file_write"),
    28: ("Get File Info", "file_read"),
    29: ("Authenticate File", "auth"),
    30: ("Abort File", "file_read"),
    31: ("Activate Configuration", "config_change"),
    32: ("Authentication Request", "auth"),
    33: ("Authentication Request No Ack", "auth"),
    129: ("Response", "response"),
    130: ("Unsolicited Response", "response"),
    131: ("Authentication Response", "response"),
}

RESPONSES: Final = frozenset({129, 130, 131})

# Link-layer function codes (clause 9.2.4.1.3), by PRM bit then code.
LINK_FUNCTIONS: Final[dict[tuple[bool, int], str]] = {
    (True, 0): "Reset Link States",
    (True, 2): "Test Link States",
    (True, 3): "Confirmed User Data",
    (True, 4): "Unconfirmed User Data",
    (True, 9): "Request Link Status",
    (False, 0): "ACK",
    (False, 1): "NACK",
    (False, 11): "Link Status",
    (False, 15): "Not Supported",
}

# group 0 variation -> Identity attribute name
DEVICE_ATTRIBUTES: Final[dict[int, str]] = {
    252: "vendor",  # device manufacturer's name
    250: "product",  # manufacturer's product name and model
    249: "dnp3_subset",  # DNP3 subset and conformance
    248: "serial",  # device serial number
    247: "name",  # user-assigned device name
    246: "user_id",  # user-assigned ID code/number
    245: "location",  # user-assigned location name
    243: "hardware",  # manufacturer's hardware version
    242: "firmware",  # manufacturer's software version
}

# Object groups that change what a Read or Write does (clause 11 object library).
_TIME_GROUP: Final = 50
_FILE_GROUP: Final = 70
_ATTRIBUTE_GROUP: Final = 0


def function(code: int, objects: bytes) -> tuple[str, str]:
    """Name and operation of a request, refined by its first object header
    (a Write of time and date sets the clock, a Read of group 0 identifies,
    group 70 moves file data)."""
    name, operation = FUNCTIONS.get(code, (f"unknown-{code}", "unknown"))
    group = objects[0] if objects else -1
    if code == 2 and group == _TIME_GROUP:
        return f"{name}: Time and Date", "set_time"
    if code in (1, 2) and group == _FILE_GROUP:
        return f"{name}: File Transport", "file_read" if code == 1 else "file_write"
    if code == 1 and group == _ATTRIBUTE_GROUP:
        return f"{name}: Device Attributes", "identify"
    return name, operation


def device_attributes(objects: bytes) -> Iterator[tuple[str, str]]:
    """Group 0 attributes at the start of a response's object data; stops at
    the first header of another group (its size is not needed here)."""
    pos = 0
    while pos + 3 <= len(objects) and objects[pos] == _ATTRIBUTE_GROUP:
        variation, qualifier = objects[pos + 1], objects[pos + 2]
        pos += 3
        if qualifier == 0x00 and pos + 2 <= len(objects):
            count = objects[pos + 1] - objects[pos] + 1
            pos += 2
        elif qualifier == 0x01 and pos + 4 <= len(objects):
            start, stop = struct.unpack_from("<HH", objects, pos)
            count, pos = stop - start + 1, pos + 4
        else:
            return  # other qualifiers are not used for attributes
        for _ in range(max(0, min(count, 4))):
            if pos + 2 > len(objects):
                return
            kind, length = objects[pos], objects[pos + 1]
            value = objects[pos + 2 : pos + 2 + length]
            pos += 2 + length
            key = DEVICE_ATTRIBUTES.get(variation)
            if key is not None and kind == 1 and len(value) == length:  # 1: visible string
                text = value.decode("latin-1").strip("\x00 ").strip()
                if text:
                    yield key, text


def _table() -> tuple[int, ...]:
    rows = []
    for byte in range(256):
        value = byte
        for _ in range(8):
            value = (value >> 1) ^ 0xA6BC if value & 1 else value >> 1
        rows.append(value)
    return tuple(rows)


_CRC_TABLE: Final = _table()


def crc(data: bytes) -> int:
    """The DNP3 link-layer CRC of ``data`` (sent least significant byte first)."""
    value = 0
    for byte in data:
        value = (value >> 8) ^ _CRC_TABLE[(value ^ byte) & 0xFF]
    return ~value & 0xFFFF

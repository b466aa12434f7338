"""CIP explicit messages carried by EtherNet/IP (ODVA, The CIP Networks
Library Volume 1: section 2-4 message router request/response format,
appendix A services, appendix C logical segments; chapter 5 objects;
section 3-5.5 Connection Manager services; Rockwell publication
1756-PM020 for the Logix tag services).

A request is a service code, the request path size in 16-bit words and the
path (class, instance, attribute logical segments, or an ANSI extended
symbol segment naming a Logix tag), then data. A response has the service
code with bit 7 set, a reserved byte, the general status, the size of the
additional status in words, the additional status and data. Multiple
Service Packet (0x0A) and Unconnected Send (0x52 to the Connection Manager)
carry whole requests, which are decoded in place of their envelope.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from otseam.model.observations import Identity, Observation, Operation, ProtocolRole

__all__ = [
    "CLASSES",
    "DEVICE_TYPES",
    "SERVICES",
    "VENDORS",
    "Request",
    "dissect",
    "identity_attributes",
    "parse_path",
    "parse_request",
]

PROTOCOL: Final = "enip"  # CIP facts are reported under the conversation's protocol

# Common services (Volume 1, appendix A-3): code -> (name, operation)
SERVICES: Final[dict[int, tuple[str, str]]] = {
    0x01: ("Get_Attributes_All", "read"),
    0x02: ("Set_Attributes_All", "config_change"),
    0x03: ("Get_Attribute_List", "read"),
    0x04: ("Set_Attribute_List", "config_change"),
    0x05: ("Reset", "restart"),
    0x06: ("Start", "plc_start"),
    0x07: ("Stop", "plc_stop"),
    0x08: ("Create", "config_change"),
    0x09: ("Delete", "config_change"),
    0x0A: ("Multiple_Service_Packet", "other"),
    0x0D: ("Apply_Attributes", "config_change"),
    0x0E: ("Get_Attribute_Single", "read"),
    0x10: ("Set_Attribute_Single", "config_change"),
    0x11: ("Find_Next_Object_Instance", "read"),
    0x14: ("Error_Response", "other"),
    0x15: ("Restore", "config_change"),
    0x16: ("Save", "config_change"),
    0x17: ("No_Operation", "other"),
    0x18: ("Get_Member", "read"),
    0x19: ("Set_Member", "config_change"),
    0x1A: ("Insert_Member", "config_change"),
    0x1B: ("Remove_Member", "config_change"),
    0x1C: ("GroupSync", "other"),
}

# Connection Manager object services (Volume 1, 3-5.5)
CONNECTION_MANAGER: Final[dict[int, tuple[str, str]]] = {
    0x4E: ("Forward_Close", "disconnect"),
    0x52: ("Unconnected_Send", "other"),
    0x54: ("Forward_Open", "connect"),
    0x56: ("Get_Connection_Data", "read"),
    0x57: ("Search_Connection_Data", "read"),
    0x5A: ("Get_Connection_Owner", "read"),
    0x5B: ("Large_Forward_Open", "connect"),
}

# Logix tag services on the Symbol object or a symbolic path (1756-PM020)
LOGIX_SERVICES: Final[dict[int, tuple[str, str]]] = {
    0x4C: ("Read_Tag", "read"),
    0x4D: ("Write_Tag", "write"),
    0x4E: ("Read_Modify_Write_Tag", "write"),
    0x52: ("Read_Tag_Fragmented", "read"),
    0x53: ("Write_Tag_Fragmented", "write"),
    0x55: ("Get_Instance_Attribute_List", "read"),
}

# File object services (Volume 1, 5-42)
FILE_SERVICES: Final[dict[int, tuple[str, str]]] = {
    0x4B: ("Initiate_Upload", "file_read"),
    0x4C: ("Initiate_Download", "file_write"),
    0x4D: ("Initiate_Partial_Read", "file_read"),
    0x4E: ("Initiate_Partial_Write", "file_write"),
    0x4F: ("Upload_Transfer", "file_read"),
    0x50: ("Download_Transfer", "file_write"),
    0x51: ("Clear_File", "file_write"),
}

# Object classes named in code_name (Volume 1 chapter 5, Volume 2 chapter 5)
CLASSES: Final[dict[int, str]] = {
    0x01: "Identity",
    0x02: "Message Router",
    0x04: "Assembly",
    0x05: "Connection",
    0x06: "Connection Manager",
    0x37: "File",
    0x47: "Device Level Ring",
    0x48: "QoS",
    0x67: "PCCC",
    0x6B: "Symbol",
    0x6C: "Template",
    0xF4: "Port",
    0xF5: "TCP/IP Interface",
    0xF6: "Ethernet Link",
}

# General status codes (Volume 1, appendix B-1)
GENERAL_STATUS: Final[dict[int, str]] = {
    0x01: "Connection failure",
    0x02: "Resource unavailable",
    0x03: "Invalid parameter value",
    0x04: "Path segment error",
    0x05: "Path destination unknown",
    0x07: "Connection lost",
    0x08: "Service not supported",
    0x09: "Invalid attribute value",
    0x0A: "Attribute list error",
    0x0B: "Already in requested mode/state",
    0x0C: "Object state conflict",
    0x0D: "Object already exists",
    0x0E: "Attribute not settable",
    0x0F: "Privilege violation",
    0x10: "Device state conflict",
    0x11: "Reply data too large",
    0x13: "Not enough data",
    0x14: "Attribute not supported",
    0x15: "Too much data",
    0x16: "Object does not exist",
    0x1E: "Embedded service error",
    0x1F: "Vendor specific error",
    0x20: "Invalid parameter",
    0x26: "Path size invalid",
}

# CIP device profiles (Volume 1, chapter 6).
DEVICE_TYPES: Final[dict[int, str]] = {
    0x00: "Generic Device",
    0x02: "AC Drive",
    0x03: "Motor Overload",
    0x04: "Limit Switch",
    0x05: "Inductive Proximity Switch",
    0x06: "Photoelectric Sensor",
    0x07: "General Purpose Discrete I/O",
    0x09: "Resolver",
    0x0C: "Communications Adapter",
    0x0E: "Programmable Logic Controller",
    0x10: "Position Controller",
    0x13: "DC Drive",
    0x15: "Contactor",
    0x16: "Motor Starter",
    0x17: "Soft Start",
    0x18: "Human-Machine Interface",
    0x1A: "Mass Flow Controller",
    0x1B: "Pneumatic Valve",
    0x22: "Encoder",
    0x23: "Safety Discrete I/O Device",
    0x25: "CIP Motion Drive",
    0x2B: "Generic Device (keyable)",
    0x2C: "Managed Ethernet Switch",
}

# ODVA vendor ids, checked against Wireshark's enip vendor table.
VENDORS: Final[dict[int, str]] = {
    1: "Rockwell Automation/Allen-Bradley",
    5: "Rockwell Automation/Reliance Electric",
    8: "Molex Incorporated",
    26: "Festo Corporation",
    40: "WAGO Corporation",
    44: "Yaskawa Electric America, Inc.",
    47: "Omron Corporation",
    48: "TURCK, Inc.",
    56: "Softing GmbH",
    90: "HMS Industrial Networks AB",
    108: "Beckhoff Automation GmbH",
    161: "Mitsubishi Electric Corporation",
    243: "Schneider Automation, Inc.",
    283: "Hilscher GmbH",
    309: "Prosoft Technology",
}

IDENTITY_CLASS: Final = 0x01
CONNECTION_MANAGER_CLASS: Final = 0x06
FILE_CLASS: Final = 0x37
SYMBOL_CLASS: Final = 0x6B
PCCC_CLASS: Final = 0x67
EXECUTE_PCCC: Final = 0x4B  # a PLC-5/SLC command inside; not decoded
FLASH_CLASS: Final = 0xA1  # Rockwell firmware (flash) update object, seen in ControlFLASH traffic
MULTIPLE_SERVICE_PACKET: Final = 0x0A
UNCONNECTED_SEND: Final = 0x52
FORWARD_OPENS: Final = (0x54, 0x5B)
MAX_DEPTH: Final = 4  # Unconnected Send / Multiple Service Packet nesting


@dataclass(frozen=True, slots=True)
class Request:
    """A decoded request header: service, path and where its data starts."""

    service: int
    class_id: int | None
    instance: int | None
    attribute: int | None
    symbol: str | None
    data: bytes


def parse_path(path: bytes) -> tuple[int | None, int | None, int | None, str | None]:
    """Class, instance, attribute and first symbol of a padded EPATH
    (Volume 1, appendix C-1.4.2 logical and C-1.5 data segments)."""
    found: dict[int, int] = {}
    symbol = None
    pos = 0
    while pos < len(path):
        seg = path[pos]
        if seg & 0xE0 == 0x20:  # logical segment: type in bits 2-4, format in bits 0-1
            kind, fmt = (seg >> 2) & 0x07, seg & 0x03
            size = (1, 2, 4)[fmt] if fmt < 3 else 0
            start = pos + (1 if size == 1 else 2)
            if not size or start + size > len(path):
                break
            value = int.from_bytes(path[start : start + size], "little")
            found.setdefault(kind, value)
            pos = start + size
        elif seg == 0x91:  # ANSI extended symbol segment, padded to even
            if pos + 2 > len(path):
                break
            n = path[pos + 1]
            if symbol is None:
                symbol = path[pos + 2 : pos + 2 + n].decode("latin-1")
            pos += 2 + n + (n & 1)
        elif seg & 0xE0 == 0x00:  # port segment (routing), 1-byte link address
            pos += 2
        else:
            break
    return found.get(0), found.get(1), found.get(4), symbol


def parse_request(message: bytes) -> Request | None:
    """The header of a request, or None when it is too short or a response."""
    if len(message) < 2 or message[0] & 0x80:
        return None
    end = 2 + 2 * message[1]
    if end > len(message):
        return None
    class_id, instance, attribute, symbol = parse_path(message[2:end])
    return Request(message[0], class_id, instance, attribute, symbol, message[end:])


def service_name(req: Request) -> tuple[str, str]:
    """(name, operation) of a request's service, in its object's context."""
    code, cls = req.service, req.class_id
    if code < 0x4B:  # common services (appendix A)
        name, operation = SERVICES.get(code, (f"unknown-{code}", "unknown"))
        if cls == IDENTITY_CLASS and operation == "read":
            operation = "identify"
        return name, operation
    if cls == CONNECTION_MANAGER_CLASS:
        return CONNECTION_MANAGER.get(code, (f"unknown-{code}", "unknown"))
    if req.symbol is not None or cls == SYMBOL_CLASS:
        return LOGIX_SERVICES.get(code, (f"unknown-{code}", "unknown"))
    if cls == FILE_CLASS:
        return FILE_SERVICES.get(code, (f"unknown-{code}", "unknown"))
    if cls == PCCC_CLASS and code == EXECUTE_PCCC:
        return "Execute_PCCC", "unknown"
    if cls == FLASH_CLASS:
        return f"unknown-{code}", "firmware_update"
    return f"unknown-{code}", "unknown"


def class_name(class_id: int | None) -> str:
    if class_id is None:
        return ""
    return CLASSES.get(class_id, f"class 0x{class_id:02x}")


def dissect(message: bytes, client: str, server: str, depth: int = 0) -> Iterator[Observation]:
    """Observations of one CIP message; ``client`` is the requester."""
    if not message:
        return
    if message[0] & 0x80:
        yield from _response(message, client, server, depth)
        return
    req = parse_request(message)
    if req is None:
        yield Operation(client, server, PROTOCOL, "unknown", message[0], "truncated request")
        return
    if depth < MAX_DEPTH:
        if req.service == MULTIPLE_SERVICE_PACKET:
            yield from _each_embedded(req.data, client, server, depth)
            return
        if req.service == UNCONNECTED_SEND and req.class_id == CONNECTION_MANAGER_CLASS:
            embedded = _unconnected_send(req.data)
            if embedded is not None:
                yield from dissect(embedded, client, server, depth + 1)
                return
    name, operation = service_name(req)
    target = class_name(req.class_id)
    if req.symbol is not None:
        target = f"tag {req.symbol}"
    code_name = f"{name} {target}" if target else name
    if req.service in FORWARD_OPENS and req.class_id == CONNECTION_MANAGER_CLASS:
        transport = _forward_open_transport(req)
        if transport is not None:
            code_name = f"{code_name} class {transport & 0x0F}"
            if transport & 0x0F in (0, 1):  # I/O: originator scans the target adapter
                yield ProtocolRole(client, "cip-io", "client")
                yield ProtocolRole(server, "cip-io", "server")
    yield Operation(client, server, PROTOCOL, operation, req.service, code_name)


def _each_embedded(data: bytes, client: str, server: str, depth: int) -> Iterator[Observation]:
    """The services of a Multiple Service Packet (appendix A-4.10): a count,
    offsets from the count field, then the packed requests or replies."""
    if len(data) < 2:
        return
    (count,) = struct.unpack_from("<H", data, 0)
    if 2 + 2 * count > len(data):
        return
    offsets = struct.unpack_from(f"<{count}H", data, 2)
    ends = [*offsets[1:], len(data)]
    for start, end in zip(offsets, ends, strict=True):
        if 2 + 2 * count <= start < end <= len(data):
            yield from dissect(data[start:end], client, server, depth + 1)


def _unconnected_send(data: bytes) -> bytes | None:
    # priority/tick, timeout ticks, message size, message (section 3-5.5.2)
    if len(data) < 4:
        return None
    (size,) = struct.unpack_from("<H", data, 2)
    if size < 2 or 4 + size > len(data):
        return None
    return data[4 : 4 + size]


def _forward_open_transport(req: Request) -> int | None:
    # Forward_Open (3-5.5.2): network connection parameters are 16 bits,
    # 32 bits in Large_Forward_Open; the transport type/trigger byte follows.
    offset = 34 if req.service == 0x54 else 38
    return req.data[offset] if len(req.data) > offset else None


def _response(message: bytes, client: str, server: str, depth: int) -> Iterator[Observation]:
    service = message[0] & 0x7F
    if len(message) < 4:
        return
    status, extra = message[2], message[3]
    data = message[4 + 2 * extra :]
    if status not in (0x00, 0x06):  # 0x06 partial transfer: a fragment follows
        name = SERVICES.get(service, (f"unknown-{service}", "unknown"))[0]
        reason = GENERAL_STATUS.get(status, f"unknown-{status}")
        yield Operation(
            client, server, PROTOCOL, "unknown", service, f"{name}: {reason}", exception=True
        )
    if depth >= MAX_DEPTH:
        return
    if service == MULTIPLE_SERVICE_PACKET:
        yield from _each_embedded(data, client, server, depth)
    elif service == 0x01 and status == 0:
        attributes = identity_attributes(data)
        if attributes:
            # the reply may come from a module behind a routing Unconnected_Send,
            # which only the request tells: kept apart from the address's own
            # identity (ListIdentity) under cip_ names
            yield Identity(server, PROTOCOL, tuple((f"cip_{k}", v) for k, v in attributes))


def identity_attributes(body: bytes) -> tuple[tuple[str, str], ...]:
    """The Identity object's attributes 1-7 (Volume 1, 5-2.2) as Identity
    pairs, when ``body`` has their exact layout with a printable product
    name; otherwise empty (a Get_Attributes_All reply of another class)."""
    if len(body) < 15:
        return ()
    vendor, dtype, product, major, minor, _status, serial = struct.unpack_from("<HHHBBHI", body)
    n = body[14]
    # attribute 7 may be followed by state (1), configuration consistency (2),
    # heartbeat interval (1) and vendor-specific attributes
    if n == 0 or 15 + n > len(body) or len(body) > 15 + n + 16:
        return ()
    raw = body[15 : 15 + n]
    if not all(0x20 <= b < 0x7F for b in raw) or not 0 < major < 128:
        return ()
    return (
        ("vendor_id", str(vendor)),
        ("vendor", VENDORS.get(vendor, f"unknown-{vendor}")),
        ("device_type_id", str(dtype)),
        ("device_type", DEVICE_TYPES.get(dtype, f"unknown-{dtype}")),
        ("product_code", str(product)),
        ("firmware", f"{major}.{minor:02d}"),
        ("serial", f"0x{serial:08x}"),
        ("product", raw.decode("ascii").strip()),
    )

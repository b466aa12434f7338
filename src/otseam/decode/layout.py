"""Numpy views of the tables the compiled walker fills (see ``_framewalk.c``).

Each dtype mirrors one C structure field for field; ``check_layout`` fails
loudly at import if the two ever disagree.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

import numpy as np

from otseam.decode import _framewalk

__all__ = [
    "BINDING",
    "CONVERSATION",
    "CONVERSATION_V4",
    "EVENT",
    "FRAMING",
    "GROUP",
    "GROUP_ROW",
    "INTERFACE",
    "LAYER2",
    "MAX_TEMPLATES",
    "ROW_DIRECTION_SHIFT",
    "SIGNATURE",
    "STATION",
    "Counter",
    "L2Kind",
    "WalkStatus",
    "row_directions",
]


def _conversation(address_size: int) -> np.dtype[np.void]:
    """A conversation as the walker hands it over, with addresses of
    ``address_size`` bytes (the first 4 of 16 for IPv4)."""
    return np.dtype(
        [
            ("a", "u1", address_size),
            ("b", "u1", address_size),
            ("port_a", "<u2"),
            ("port_b", "<u2"),
            ("family", "u1"),
            ("proto", "u1"),
            ("flags_ab", "u1"),
            ("flags_ba", "u1"),
            ("pkts_ab", "<u8"),
            ("pkts_ba", "<u8"),
            ("bytes_ab", "<u8"),
            ("bytes_ba", "<u8"),
            ("first_ns", "<i8"),
            ("last_ns", "<i8"),
            ("syn_side", "u1"),
            ("app", "u1"),
            ("vlan", "<u2"),
            ("_pad", "u1", 4),
        ]
    )


CONVERSATION: Final = _conversation(16)
# a capture without IPv6 conversations: 24 bytes less a conversation
CONVERSATION_V4: Final = _conversation(4)

BINDING: Final = np.dtype(
    [
        ("addr", "u1", 16),
        ("mac", "<u8"),
        ("vlan", "<u2"),
        ("family", "u1"),
        ("_pad0", "u1", 5),
        ("pkts", "<u8"),
        ("first_ns", "<i8"),
        ("last_ns", "<i8"),
        ("sources", "u1"),
        ("_pad1", "u1", 7),
    ]
)


class L2Kind(IntEnum):
    """Layer-2 industrial ethertypes counted per station, in C order."""

    PROFINET = 0  # 0x8892
    GOOSE = 1  # 0x88b8
    SV = 2  # 0x88ba
    ETHERCAT = 3  # 0x88a4
    POWERLINK = 4  # 0x88ab
    LLDP = 5  # 0x88cc


STATION: Final = np.dtype(
    [
        ("mac", "<u8"),
        ("pkts", "<u8"),
        ("bytes", "<u8"),
        ("first_ns", "<i8"),
        ("last_ns", "<i8"),
        ("l2", "<u8", len(L2Kind)),
        ("vlan", "<u2"),
        ("_pad", "u1", 6),
    ]
)

# a message group as the walker keeps it while it walks (packed: 44 bytes)
GROUP: Final = np.dtype(
    [
        ("owner", "<u4"),
        ("dir", "u1"),
        ("app", "u1"),
        ("role", "u1"),
        ("_pad", "u1"),
        ("digest", "<u8"),
        ("count", "<u8"),
        ("first_ns", "<i8"),
        ("last_ns", "<i8"),
        ("template", "<u4"),
    ]
)

# message groups added up by (owner, direction, template): the first 8
# bytes are owner << 32 | direction << 30 | template
ROW_DIRECTION_SHIFT: Final = 30
MAX_TEMPLATES: Final = 1 << ROW_DIRECTION_SHIFT  # template ids fit below the direction
LAYER2: Final = 2  # a row's direction for a station's frames (0, 1: a->b, b->a)


def row_directions(rows: np.ndarray) -> np.ndarray:
    """The direction of each ``GROUP_ROW``: 0 a->b, 1 b->a, ``LAYER2``."""
    directions: np.ndarray = rows["dir_template"] >> ROW_DIRECTION_SHIFT
    return directions


GROUP_ROW: Final = np.dtype(
    [
        ("dir_template", "<u4"),
        ("owner", "<u4"),
        ("count", "<u8"),
        ("first_ns", "<i8"),
        ("last_ns", "<i8"),
    ]
)

EVENT: Final = np.dtype(
    [
        ("ts", "<i8"),
        ("group", "<u4"),
        ("offset", "<u4"),
        ("length", "<u4"),
        ("seq", "<u4"),
        ("owner", "<u4"),
        ("sport", "<u2"),
        ("dport", "<u2"),
        ("dir", "u1"),
        ("app", "u1"),
        ("tcp_flags", "u1"),
        ("proto", "u1"),
        ("follows", "<u4"),
        ("content", "<u8"),
    ]
)

INTERFACE: Final = np.dtype(
    [
        ("linktype", "<i4"),
        ("snaplen", "<u4"),
        ("mode", "<i4"),
        ("shift", "<i4"),
        ("mul", "<i8"),
        ("div", "<i8"),
        ("offset_ns", "<i8"),
    ]
)

FRAMING: Final = np.dtype(
    [
        ("len_offset", "u1"),
        ("len_size", "u1"),
        ("big_endian", "u1"),
        ("magic_len", "u1"),
        ("magic", "u1"),
        ("_pad", "u1"),
        ("adjust", "<i2"),
        ("max_length", "<u4"),
    ]
)

SIGNATURE: Final = np.dtype(
    [
        ("proto", "u1"),
        ("app", "u1"),
        ("offset", "u1"),
        ("length", "u1"),
        ("value", "u1", 8),
        ("mask", "u1", 8),
        ("min_payload", "<u2"),
    ]
)


class Counter(IntEnum):
    """Walker counters, in C order."""

    PACKETS = 0
    BYTES = 1
    IPV4 = 2
    IPV6 = 3
    ARP = 4
    TCP = 5
    UDP = 6
    ICMP = 7
    OTHER_IP = 8
    LAYER2 = 9
    UNDECODED = 10
    TRUNCATED = 11
    FRAGMENTS = 12
    EMPTY = 13
    OVER_SNAPLEN = 14
    UNSUPPORTED_LINK = 15
    BAD_INTERFACE = 16
    EVENTS = 17
    VLAN_TAGGED = 18


class WalkStatus(IntEnum):
    """Why a walk call returned."""

    MORE = 0  # the chunk ended; feed more bytes
    META = 1  # a pcapng block for Python to read
    DAMAGED = 2  # a record that cannot be framed
    NOMEM = 3  # the tables could not grow


def check_layout() -> None:
    """Fail at import if the dtypes and the C structures disagree."""
    sizes = _framewalk.sizes()
    expected = {
        "conversation": CONVERSATION,
        "conversation_v4": CONVERSATION_V4,
        "binding": BINDING,
        "station": STATION,
        "group": GROUP,
        "group_row": GROUP_ROW,
        "event": EVENT,
        "interface": INTERFACE,
        "signature": SIGNATURE,
        "framing": FRAMING,
    }
    for name, dtype in expected.items():
        if sizes[name] != dtype.itemsize:
            raise RuntimeError(
                f"otseam build mismatch: C {name} is {sizes[name]} bytes, "
                f"numpy view {dtype.itemsize}; reinstall otseam"
            )


check_layout()

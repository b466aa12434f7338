"""A defensive reader of BER elements (ITU-T X.690 section 8.1), for the
ISO upper layers and MMS (``otseam.protocols.mms``).

An element is an identifier (class, constructed bit, tag number; numbers
of 31 and more in up to four base-128 octets, 8.1.2.4), a definite length
(short form, or long form of up to four octets, 8.1.3) and its contents.
The reader never raises: an indefinite length (0x80), a longer length or
tag, a header cut by the end of the data, or contents running past their
container give None, and the caller stops there.

The contents may run past the data itself (a PDU split over several
transport units): ``Element.end`` is where they end by the length, and a
reader of the contents checks the data's own length.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

__all__ = ["APPLICATION", "CONTEXT", "UNIVERSAL", "Element", "children", "read_element"]

UNIVERSAL, APPLICATION, CONTEXT, PRIVATE = 0, 1, 2, 3
MAX_TAG_OCTETS: Final = 4
MAX_LENGTH_OCTETS: Final = 4
MAX_CHILDREN: Final = 64  # a SEQUENCE walked for one field, not a whole list


@dataclass(frozen=True, slots=True)
class Element:
    """One BER element's identifier and where its parts are.

    ``at``: first identifier octet; ``tag_end``: one past the last;
    ``start``/``end``: the contents (``end`` may be past the data).
    """

    cls: int
    constructed: bool
    number: int
    at: int
    tag_end: int
    start: int
    end: int

    def contents(self, data: bytes) -> bytes | None:
        """The contents, None if the data stops before their end."""
        return data[self.start : self.end] if self.end <= len(data) else None


def read_element(data: bytes, pos: int, end: int) -> Element | None:
    """The element at ``pos`` inside a container that ends at ``end``."""
    limit = min(end, len(data))
    if pos < 0 or pos + 2 > limit:
        return None
    first = data[pos]
    number, cur = first & 0x1F, pos + 1
    if number == 0x1F:  # high tag number form (8.1.2.4)
        number = 0
        for _ in range(MAX_TAG_OCTETS):
            if cur >= limit:
                return None
            octet, cur = data[cur], cur + 1
            number = number << 7 | octet & 0x7F
            if not octet & 0x80:
                break
        else:
            return None
    tag_end = cur
    if cur >= limit:
        return None
    size, cur = data[cur], cur + 1
    if size & 0x80:
        count = size & 0x7F
        if count == 0 or count > MAX_LENGTH_OCTETS or cur + count > limit:
            return None  # indefinite, reserved (0xFF) or cut
        size = int.from_bytes(data[cur : cur + count], "big")
        cur += count
    if cur + size > end:
        return None
    return Element(first >> 6, bool(first & 0x20), number, pos, tag_end, cur, cur + size)


def children(data: bytes, parent: Element) -> Iterator[Element]:
    """The elements inside a constructed one, in order, up to the first
    that cannot be read (and at most ``MAX_CHILDREN``)."""
    pos = parent.start
    for _ in range(MAX_CHILDREN):
        if pos >= parent.end:
            return
        child = read_element(data, pos, parent.end)
        if child is None:
            return
        yield child
        pos = child.end

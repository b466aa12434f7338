"""Address text from the walker's binary forms, vectorised over whole tables."""

from __future__ import annotations

import socket

import numpy as np

__all__ = ["address_ids", "address_text", "ip_text", "mac_text", "macs_text"]


def ip_text(family: int, raw: bytes) -> str:
    """'10.0.0.1' or '2001:db8::1' from 16 walker bytes."""
    if family == 4:
        return socket.inet_ntop(socket.AF_INET, raw[:4])
    return socket.inet_ntop(socket.AF_INET6, raw[:16])


def mac_text(mac: int) -> str:
    """'00:1b:1b:01:02:03' from the walker's 48-bit integer."""
    return mac.to_bytes(6, "big").hex(":")


def address_text(family: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Text for every row of (family, 16-byte address) arrays, formatting
    each distinct address once."""
    out = np.empty(len(family), dtype=object)
    if not len(family):
        return out
    ids, texts = address_ids(family, raw)
    out[:] = np.array(texts, dtype=object)[ids]
    return out


def address_ids(family: np.ndarray, *sides: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """A number for every address of each of ``sides`` in turn (arrays of
    4- or 16-byte addresses, one row per ``family`` entry), the same for the
    same address, numbered in the order of (family, address); and the text
    of each number. The numbers are 32-bit."""
    n = len(family)
    if not n or not sides:
        return np.zeros(0, dtype=np.int32), []
    if bool((family == 4).all()):  # the common case: sort 32-bit integers, not bytes
        # the sides' first 4 bytes copied straight into one key array: never
        # a whole 16-byte copy of each side
        raw = np.empty((len(sides) * n, 4), dtype=np.uint8)
        for k, side in enumerate(sides):
            raw[k * n : (k + 1) * n] = side[:, :4]
        keys = raw.view(">u4").ravel().astype(np.uint32)
        del raw
        uniq4, ids = _numbered(keys)
        texts = [socket.inet_ntop(socket.AF_INET, u.to_bytes(4, "big")) for u in uniq4.tolist()]
        return ids, texts
    # the family first: IPv6 a00:1:: has the bytes of IPv4 10.0.0.1 padded
    keyed = np.empty((len(sides) * n, 17), dtype=np.uint8)
    for k, side in enumerate(sides):
        keyed[k * n : (k + 1) * n, 0] = family
        keyed[k * n : (k + 1) * n, 1:] = side
    uniq, inverse = np.unique(keyed.view(np.dtype((np.void, 17))).ravel(), return_inverse=True)
    texts = [ip_text(key[0], key[1:]) for key in (bytes(u) for u in uniq)]
    return inverse.ravel().astype(np.int32), texts


def _numbered(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``keys`` in order, and the number of each key among
    them: ``np.unique`` with ``return_inverse``, but with 32-bit numbers
    (its 64-bit inverse, and the 64-bit running count behind it, would
    double what millions of keys take)."""
    order = np.argsort(keys)
    ordered = keys[order]
    first = np.empty(len(keys), dtype=bool)  # each distinct key's first place
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    distinct = ordered[first]
    del ordered
    ranks = np.cumsum(first, dtype=np.int32)
    ranks -= 1
    ids = np.empty(len(keys), dtype=np.int32)
    ids[order] = ranks
    return distinct, ids


def macs_text(macs: np.ndarray) -> np.ndarray:
    """Text for an array of 48-bit MAC integers."""
    uniq, inverse = np.unique(macs, return_inverse=True)
    texts = np.array([m.to_bytes(6, "big").hex(":") for m in uniq.tolist()], dtype=object)
    return texts[inverse.ravel()] if len(macs) else np.empty(0, dtype=object)

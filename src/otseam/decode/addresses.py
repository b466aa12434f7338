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


def address_ids(family: np.ndarray, raw: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """A number for every row of (family, 16-byte address) arrays, the same
    for the same address, numbered in the order of (family, address), and
    the text of each number."""
    if not len(family):
        return np.zeros(0, dtype=np.int64), []
    raw = np.ascontiguousarray(raw)
    if bool((family == 4).all()):  # the common case: sort 32-bit integers, not bytes
        keys = raw[:, :4].copy().view(">u4").ravel()
        uniq4, inverse = np.unique(keys, return_inverse=True)
        texts = [socket.inet_ntop(socket.AF_INET, u.to_bytes(4, "big")) for u in uniq4.tolist()]
        return inverse.ravel().astype(np.int64), texts
    # the family first: IPv6 a00:1:: has the bytes of IPv4 10.0.0.1 padded
    keyed = np.empty((len(family), 17), dtype=np.uint8)
    keyed[:, 0], keyed[:, 1:] = family, raw
    uniq, inverse = np.unique(keyed.view(np.dtype((np.void, 17))).ravel(), return_inverse=True)
    texts = [ip_text(key[0], key[1:]) for key in (bytes(u) for u in uniq)]
    return inverse.ravel().astype(np.int64), texts


def macs_text(macs: np.ndarray) -> np.ndarray:
    """Text for an array of 48-bit MAC integers."""
    uniq, inverse = np.unique(macs, return_inverse=True)
    texts = np.array([m.to_bytes(6, "big").hex(":") for m in uniq.tolist()], dtype=object)
    return texts[inverse.ravel()] if len(macs) else np.empty(0, dtype=object)

"""``address_ids``: every address of several sides numbered once, in the
order of (family, address), whether the sides hold 4 or 16 bytes an address."""

from __future__ import annotations

import ipaddress

import numpy as np

from otseam.decode.addresses import address_ids


def _raw(texts: list[str], size: int) -> np.ndarray:
    packed = [ipaddress.ip_address(t).packed.ljust(size, b"\x00") for t in texts]
    return np.frombuffer(b"".join(packed), dtype=np.uint8).reshape(len(texts), size)


def test_ipv4_sides_are_numbered_by_address_in_either_width() -> None:
    rng = np.random.default_rng(3)
    pool = [f"10.{i // 256}.{i % 256}.7" for i in range(300)] + ["9.255.0.1", "192.168.0.1"]
    n = 5_000
    a, b = rng.integers(0, len(pool), n), rng.integers(0, len(pool), n)
    family = np.full(n, 4, dtype=np.uint8)
    expected = sorted(pool, key=ipaddress.ip_address)
    rank = np.array([expected.index(t) for t in pool])

    for size in (4, 16):
        raw = _raw(pool, size)
        ids, texts = address_ids(family, raw[a], raw[b])
        assert texts == expected
        assert ids.dtype == np.int32
        assert (ids == rank[np.concatenate([a, b])]).all()


def test_ipv6_and_ipv4_with_the_same_bytes_are_two_addresses() -> None:
    family = np.array([4, 6, 6], dtype=np.uint8)
    a = _raw(["10.0.0.1", "a00:1::", "2001:db8::1"], 16)
    b = _raw(["10.0.0.2", "a00:2::", "a00:1::"], 16)
    ids, texts = address_ids(family, a, b)
    assert texts == ["10.0.0.1", "10.0.0.2", "a00:1::", "a00:2::", "2001:db8::1"]
    assert [texts[i] for i in ids.tolist()] == [
        "10.0.0.1", "a00:1::", "2001:db8::1", "10.0.0.2", "a00:2::", "a00:1::",
    ]  # fmt: skip

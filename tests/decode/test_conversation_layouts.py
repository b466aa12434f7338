"""The walker keys a conversation by 4-byte addresses (an IPv6 address by
the number it gave it) and hands conversations over with 4-byte addresses
when the capture has no IPv6 conversation, 16-byte ones otherwise: every
conversation of thousands keeps its own addresses and counts either way."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import numpy as np

from otseam.decode.engine import FrameDecoder
from otseam.decode.layout import CONVERSATION, CONVERSATION_V4
from otseam.model.capture import CaptureFacts
from otseam.sources.capture import CaptureSource, decode_capture
from tests.capturegen import NS, Ethertype, Packet, ethernet, ipv4, ipv6, pcap, udp

T0 = 1_700_000_000 * NS
CLIENTS = 3_000  # past several doublings of the walker's tables and their slots


def _decode(path: Path, frames: list[bytes]) -> CaptureFacts:
    path.write_bytes(pcap([Packet(T0 + i * 1000, f) for i, f in enumerate(frames)]))
    source = CaptureSource(str(path), path, path.stat().st_size)
    return decode_capture(source, FrameDecoder(strict=True))


def _v4(n: int, packets: int) -> list[bytes]:
    """Client n sends ``packets`` datagrams to one of 7 servers."""
    src, dst = f"10.1.{n // 250}.{n % 250 + 1}", f"10.9.0.{n % 7 + 1}"
    frame = ethernet("02:00:00:00:00:02", "02:00:00:00:00:01", Ethertype.IPV4,
                     ipv4(src, dst, udp(40000 + n % 5, 9000, b"x")))  # fmt: skip
    return [frame] * packets


def _v6(n: int, packets: int) -> list[bytes]:
    src, dst = f"2001:db8::{n + 1:x}", f"2001:db8:9::{n % 7 + 1:x}"
    frame = ethernet("02:00:00:00:00:02", "02:00:00:00:00:01", Ethertype.IPV6,
                     ipv6(src, dst, udp(40000 + n % 5, 9000, b"x")))  # fmt: skip
    return [frame] * packets


def _sides(conv: np.ndarray) -> dict[tuple[str, str], int]:
    """(a, b) address texts -> packets from a, for every conversation."""

    def text(family: int, raw: np.ndarray) -> str:
        size = 4 if family == 4 else 16
        return str(ipaddress.ip_address(raw[:size].tobytes()))

    return {(text(c["family"], c["a"]), text(c["family"], c["b"])): int(c["pkts_ab"]) for c in conv}


def test_a_capture_without_ipv6_hands_over_4_byte_addresses(tmp_path: Path) -> None:
    frames = [f for n in range(CLIENTS) for f in _v4(n, n % 3 + 1)]
    facts = _decode(tmp_path / "v4.pcap", frames)

    assert facts.conversations.dtype == CONVERSATION_V4
    sides = _sides(facts.conversations)
    assert len(sides) == CLIENTS
    for n in range(CLIENTS):
        key = (f"10.1.{n // 250}.{n % 250 + 1}", f"10.9.0.{n % 7 + 1}")
        assert sides[key] == n % 3 + 1


def test_ipv6_conversations_get_their_addresses_back_in_full(tmp_path: Path) -> None:
    frames = [f for n in range(CLIENTS) for f in (*_v6(n, n % 3 + 1), *_v4(n, 1))]
    facts = _decode(tmp_path / "mixed.pcap", frames)

    assert facts.conversations.dtype == CONVERSATION
    sides = _sides(facts.conversations)
    assert len(sides) == 2 * CLIENTS
    for n in range(CLIENTS):
        assert sides[(f"2001:db8::{n + 1:x}", f"2001:db8:9::{n % 7 + 1:x}")] == n % 3 + 1
        assert sides[(f"10.1.{n // 250}.{n % 250 + 1}", f"10.9.0.{n % 7 + 1}")] == 1
    a_ids, b_ids, texts = facts.endpoints()
    assert len(texts) == 2 * (CLIENTS + 7)  # every address once, whatever its family
    assert texts[a_ids[0]] == "2001:db8::1"
    assert texts[b_ids[0]] == "2001:db8:9::1"


def test_the_walker_reads_one_conversation_with_full_addresses(tmp_path: Path) -> None:
    """As the decoder does for a stream's ends, during the walk."""
    path = tmp_path / "one.pcap"
    path.write_bytes(pcap([Packet(T0, f) for f in (*_v4(0, 1), *_v6(0, 1))]))
    decoder = FrameDecoder(strict=True)
    seen: list[np.ndarray] = []
    finish = decoder.finish

    def finish_reading_conversations(*args: object, **kwargs: object) -> CaptureFacts:
        seen.extend(np.frombuffer(decoder.walker.conversation(i), CONVERSATION)[0] for i in (0, 1))
        return finish(*args, **kwargs)  # type: ignore[arg-type]

    decoder.finish = finish_reading_conversations  # type: ignore[method-assign]
    decode_capture(CaptureSource(str(path), path, path.stat().st_size), decoder)

    assert bytes(seen[0]["a"]) == bytes([10, 1, 0, 1]) + bytes(12)
    assert bytes(seen[1]["a"]) == ipaddress.ip_address("2001:db8::1").packed
    assert bytes(seen[1]["b"]) == ipaddress.ip_address("2001:db8:9::1").packed

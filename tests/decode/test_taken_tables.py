"""The decoder takes the walker's packet tables over without copying them:
the facts hold exactly what the walker had, writable, and the walker is
left empty (for a million conversations a copy would be a hundred MiB)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from otseam.decode.engine import FrameDecoder
from otseam.model.capture import CaptureFacts
from otseam.sources.capture import CaptureSource, decode_capture
from tests.capturegen import NS, Ethertype, Packet, TcpFlag, ethernet, ipv4, pcap, tcp

T0 = 1_700_000_000 * NS


def _capture(path: Path) -> Path:
    frames = [
        ethernet(
            f"02:00:00:00:01:{n:02x}",
            f"02:00:00:00:00:{n:02x}",
            Ethertype.IPV4,
            ipv4(f"10.1.0.{n + 10}", "10.2.0.5", tcp(40000 + n, 502, TcpFlag.SYN, seq=1)),
        )
        for n in range(20)
    ]
    path.write_bytes(pcap([Packet(T0 + i * 1000, f) for i, f in enumerate(frames)]))
    return path


def test_finish_takes_the_walkers_tables_as_they_are(tmp_path: Path) -> None:
    path = _capture(tmp_path / "twenty.pcap")
    decoder = FrameDecoder(strict=True)
    walker = decoder.walker
    before: dict[str, bytes] = {}
    finish = decoder.finish

    def finish_noting_tables(*args: Any, **kwargs: Any) -> CaptureFacts:
        before.update(
            conversations=walker.conversations(),
            bindings=walker.bindings(),
            stations=walker.stations(),
        )
        return finish(*args, **kwargs)

    decoder.finish = finish_noting_tables  # type: ignore[method-assign]
    facts = decode_capture(CaptureSource(str(path), path, path.stat().st_size), decoder)

    assert len(facts.conversations) == 20
    assert facts.conversations.tobytes() == before["conversations"]
    assert facts.bindings.tobytes() == before["bindings"]
    assert facts.stations.tobytes() == before["stations"]
    assert facts.conversations.flags.writeable  # relabelled in place, not copied
    assert walker.conversations() == walker.bindings() == walker.stations() == b""

"""A controller whose firmware differs between two captures: both versions stay
in the store with their times, and the change is a finding."""

from __future__ import annotations

import struct
from pathlib import Path

from otseam.analysis.convergence import analyse
from otseam.ingest import ingest
from otseam.site.load import load_site
from otseam.store.database import open_store

SAMPLE = Path(__file__).parents[1] / "src" / "otseam" / "data" / "sample"
DAY = 86_400


def _upgraded(source: Path, target: Path) -> None:
    """The sample a day later, the Modbus PLC reporting firmware v3.30 instead of v3.20
    (same length: every other byte of the capture is unchanged)."""
    data = bytearray(source.read_bytes().replace(b"v3.20", b"v3.30"))
    assert data[:4] == b"\xd4\xc3\xb2\xa1"  # little-endian classic pcap
    offset = 24
    while offset + 16 <= len(data):
        seconds, _usec, caplen, _len = struct.unpack_from("<IIII", data, offset)
        struct.pack_into("<I", data, offset, seconds + DAY)
        offset += 16 + caplen
    target.write_bytes(bytes(data))


def test_a_firmware_change_between_captures_is_a_finding(tmp_path: Path) -> None:
    later = tmp_path / "plant-next-day.pcap"
    _upgraded(SAMPLE / "plant.pcap", later)
    engine = open_store(str(tmp_path / "store.db"))
    ingest([str(SAMPLE / "plant.pcap"), str(later)], engine)
    with engine.begin() as conn:
        conv = analyse(conn, load_site(SAMPLE / "site.yaml"))
    (change,) = [f for f in conv.findings if f.kind == "firmware_change"]
    assert change.assets == ("plc-mb-01",)
    assert change.title.endswith("v3.20 -> v3.30")
    assert change.severity == "high"  # a controller
    old, new = change.evidence["versions"]
    assert (old["firmware"], new["firmware"]) == ("v3.20", "v3.30")
    assert new["first_seen"] - old["first_seen"] >= DAY * 10**9 - 10**9
    assert {o.party for o in change.owners} == {"ot-engineering"}


def test_one_firmware_is_no_finding(tmp_path: Path) -> None:
    engine = open_store(str(tmp_path / "store.db"))
    ingest([str(SAMPLE / "plant.pcap")], engine)
    with engine.begin() as conn:
        conv = analyse(conn, load_site(SAMPLE / "site.yaml"))
    assert "firmware_change" not in {f.kind for f in conv.findings}

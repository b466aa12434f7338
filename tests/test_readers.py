"""Capture readers: every file format, time format, compression, input kind
and link type otseam accepts, each checked against captures built here.

Every expected value is computed from the frames these tests write, never
taken from otseam's output.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, select
from sqlalchemy.engine import Engine

from otseam.ingest import IngestReport, ingest
from otseam.store.database import open_store
from otseam.store.schema import captures, conversations, stations
from tests.capturegen import (
    NS,
    Ethertype,
    Interface,
    Linktype,
    Packet,
    Tag,
    TcpFlag,
    destination_options,
    enhanced_packet,
    ethernet,
    hop_by_hop,
    icmp_echo,
    icmpv6_echo,
    interface_description,
    ipv4,
    ipv6,
    loop,
    null,
    pcap,
    pcapng,
    pcapng_block,
    routing,
    section_header,
    sll,
    sll2,
    tcp,
    udp,
)
from tests.conftest import run_cli

T0 = 1_700_000_000 * NS  # 2023-11-14T22:13:20Z
CLIENT_MAC, SERVER_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
CLIENT_IP, SERVER_IP = "10.0.0.1", "10.0.0.2"
CLIENT_PORT, SERVER_PORT = 40000, 20000  # 20000 is DNP3's registered port


# --------------------------------------------------------------------------
# helpers


def ingest_files(tmp_path: Path, files: Mapping[str, bytes]) -> tuple[IngestReport, Engine]:
    """Write ``files`` under ``tmp_path`` and ingest them, in order, into a new store."""
    paths = []
    for name, data in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        paths.append(str(path))
    engine = open_store(str(tmp_path / "store.db"))
    return ingest(paths, engine), engine


def table_rows(engine: Engine, table: Table) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).order_by(table.c.id))]


def without_id(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


def handshake_frames() -> list[bytes]:
    """SYN, SYN-ACK, then 100 bytes of data from the client, over Ethernet."""
    out = tcp(CLIENT_PORT, SERVER_PORT, TcpFlag.SYN, seq=7)
    back = tcp(SERVER_PORT, CLIENT_PORT, TcpFlag.SYN | TcpFlag.ACK, seq=90, ack=8)
    data = tcp(CLIENT_PORT, SERVER_PORT, TcpFlag.PSH | TcpFlag.ACK, b"x" * 100, seq=8, ack=91)
    return [
        ethernet(SERVER_MAC, CLIENT_MAC, Ethertype.IPV4, ipv4(CLIENT_IP, SERVER_IP, out)),
        ethernet(CLIENT_MAC, SERVER_MAC, Ethertype.IPV4, ipv4(SERVER_IP, CLIENT_IP, back)),
        ethernet(SERVER_MAC, CLIENT_MAC, Ethertype.IPV4, ipv4(CLIENT_IP, SERVER_IP, data)),
    ]


def handshake(times: Sequence[int], interface: int = 0) -> list[Packet]:
    return [
        Packet(t, f, interface=interface) for t, f in zip(times, handshake_frames(), strict=True)
    ]


def expected_handshake(packets: Sequence[Packet]) -> dict[str, Any]:
    """The one conversation row the handshake must give (client is side a)."""
    syn, synack, data = packets
    return {
        "transport": "tcp",
        "a": CLIENT_IP,
        "a_port": CLIENT_PORT,
        "b": SERVER_IP,
        "b_port": SERVER_PORT,
        "a_to_b_packets": 2,
        "b_to_a_packets": 1,
        "a_to_b_bytes": syn.length + data.length,
        "b_to_a_bytes": synack.length,
        "first_seen": min(p.ts_ns for p in packets),
        "last_seen": max(p.ts_ns for p in packets),
        "initiator": "a",
        "a_tcp_flags": int(TcpFlag.SYN | TcpFlag.PSH | TcpFlag.ACK),
        "b_tcp_flags": int(TcpFlag.SYN | TcpFlag.ACK),
        "app_protocol": "dnp3",
        "vlan": 0,
    }


def expected_capture(name: str, file_format: str, packets: Sequence[Packet]) -> dict[str, Any]:
    return {
        "name": name,
        "file_format": file_format,
        "packets": len(packets),
        "bytes": sum(p.length for p in packets),
        "first_seen": min(p.ts_ns for p in packets),
        "last_seen": max(p.ts_ns for p in packets),
    }


def capture_summary(engine: Engine) -> list[dict[str, Any]]:
    keys = ("name", "file_format", "packets", "bytes", "first_seen", "last_seen")
    return [{k: row[k] for k in keys} for row in table_rows(engine, captures)]


def assert_clean(report: IngestReport) -> None:
    assert [str(p) for p in report.all_problems] == []
    assert [o.status for o in report.outcomes] == ["ingested"] * len(report.outcomes)


# --------------------------------------------------------------------------
# classic pcap


@pytest.mark.parametrize("big_endian", [False, True], ids=["little-endian", "big-endian"])
@pytest.mark.parametrize(
    ("nano", "times"),
    [
        (False, [T0 + 123_456_000, T0 + 123_457_000, T0 + 2 * NS + 999_999_000]),
        (True, [T0 + 1, T0 + 123_456_789, T0 + 5 * NS + 999_999_999]),
    ],
    ids=["microseconds", "nanoseconds"],
)
def test_classic_pcap(tmp_path: Path, big_endian: bool, nano: bool, times: list[int]) -> None:
    packets = handshake(times)
    report, engine = ingest_files(
        tmp_path, {"h.pcap": pcap(packets, big_endian=big_endian, nano=nano)}
    )
    assert_clean(report)
    assert without_id(table_rows(engine, conversations)) == [expected_handshake(packets)]
    name = str(tmp_path / "h.pcap")
    assert capture_summary(engine) == [expected_capture(name, "pcap", packets)]


def test_pcap_wire_length_counts_not_captured_length(tmp_path: Path) -> None:
    """A frame cut at the snaplen still counts its full length on the wire."""
    frames = handshake_frames()
    cut = frames[2][:54]  # Ethernet + IPv4 + TCP headers only
    packets = [
        Packet(T0, frames[0]),
        Packet(T0 + 1000, frames[1]),
        Packet(T0 + 2000, cut, wire_len=len(frames[2])),
    ]
    report, engine = ingest_files(tmp_path, {"cut.pcap": pcap(packets, snaplen=60)})
    assert_clean(report)
    [conv] = table_rows(engine, conversations)
    assert conv["a_to_b_bytes"] == len(frames[0]) + len(frames[2])
    assert table_rows(engine, captures)[0]["bytes"] == sum(len(f) for f in frames)


# --------------------------------------------------------------------------
# pcapng


TSRESOL_CASES = {
    "default-microseconds": (None, [T0 + 123_456_000, T0 + 123_457_000, T0 + 2 * NS]),
    "milliseconds": (3, [T0 + 123_000_000, T0 + 124_000_000, T0 + 2 * NS + 999_000_000]),
    "microseconds": (6, [T0 + 1_000, T0 + 999_999_000, T0 + 3 * NS]),
    "nanoseconds": (9, [T0 + 1, T0 + 123_456_789, T0 + 5 * NS + 999_999_999]),
    "tenth-nanoseconds": (10, [T0 + 1, T0 + 2, T0 + 999_999_999]),
    # 2^-20 s: 3/64 s, 1/2 s and 1/512 s are whole units and whole nanoseconds.
    "2^-20": (0x80 | 20, [T0 + 46_875_000, T0 + 500_000_000, T0 + NS + 1_953_125]),
    "2^-30": (0x80 | 30, [T0 + 46_875_000, T0 + 500_000_000, T0 + NS + 1_953_125]),
    "2^-9": (0x80 | 9, [T0, T0 + 1_953_125, T0 + 998_046_875]),
}


@pytest.mark.parametrize("big_endian", [False, True], ids=["little-endian", "big-endian"])
@pytest.mark.parametrize(("tsresol", "times"), TSRESOL_CASES.values(), ids=TSRESOL_CASES.keys())
def test_pcapng_if_tsresol(
    tmp_path: Path, big_endian: bool, tsresol: int | None, times: list[int]
) -> None:
    packets = handshake(times)
    data = pcapng([Interface(Linktype.ETHERNET, tsresol=tsresol)], packets, big_endian)
    report, engine = ingest_files(tmp_path, {"h.pcapng": data})
    assert_clean(report)
    assert without_id(table_rows(engine, conversations)) == [expected_handshake(packets)]
    name = str(tmp_path / "h.pcapng")
    assert capture_summary(engine) == [expected_capture(name, "pcapng", packets)]


def test_pcapng_if_tsoffset(tmp_path: Path) -> None:
    """if_tsoffset (pcapng 4.2, option 14) is added to every timestamp of the
    interface: a file written relative to 1,600,000,000 s still gives T0."""
    packets = handshake([T0 + 1, T0 + 123_456_789, T0 + 5 * NS])
    interface = Interface(Linktype.ETHERNET, tsresol=9, tsoffset=1_600_000_000)
    report, engine = ingest_files(tmp_path, {"offset.pcapng": pcapng([interface], packets)})
    assert_clean(report)
    assert without_id(table_rows(engine, conversations)) == [expected_handshake(packets)]


def test_pcapng_timestamp_after_2106(tmp_path: Path) -> None:
    """pcapng timestamps are 64-bit: past the classic format's 2106 limit."""
    late = 4_500_000_000 * NS + 7  # 2112-08-07
    packets = handshake([late, late + 1, late + 2])
    data = pcapng([Interface(Linktype.ETHERNET, tsresol=9)], packets)
    report, engine = ingest_files(tmp_path, {"late.pcapng": data})
    assert_clean(report)
    assert without_id(table_rows(engine, conversations)) == [expected_handshake(packets)]


@pytest.mark.parametrize("big_endian", [False, True], ids=["little-endian", "big-endian"])
def test_pcapng_obsolete_packet_blocks(tmp_path: Path, big_endian: bool) -> None:
    packets = [
        Packet(p.ts_ns, p.data, block="opb")
        for p in handshake([T0 + 5_000, T0 + 6_000, T0 + 7_000])
    ]
    data = pcapng([Interface(Linktype.ETHERNET)], packets, big_endian)
    report, engine = ingest_files(tmp_path, {"opb.pcapng": data})
    assert_clean(report)
    assert without_id(table_rows(engine, conversations)) == [expected_handshake(packets)]


@pytest.mark.parametrize("big_endian", [False, True], ids=["little-endian", "big-endian"])
def test_pcapng_simple_packet_blocks(tmp_path: Path, big_endian: bool) -> None:
    """SPBs carry no timestamp: otseam dates them at the latest time seen so
    far. Their captured length is the wire length cut at the IDB's snaplen."""
    first = handshake([T0 + 5_000, T0 + 6_000, T0 + 7_000])
    frame = ethernet(
        SERVER_MAC,
        CLIENT_MAC,
        Ethertype.IPV4,
        ipv4(CLIENT_IP, "10.0.0.9", udp(5000, 6000, b"y" * 200)),
    )
    spb = Packet(0, frame[:96], wire_len=len(frame), block="spb")
    data = pcapng([Interface(Linktype.ETHERNET, snaplen=96)], [*first, spb], big_endian)
    report, engine = ingest_files(tmp_path, {"spb.pcapng": data})
    assert_clean(report)
    udp_row = [c for c in table_rows(engine, conversations) if c["transport"] == "udp"]
    assert [(c["a"], c["a_port"], c["b"], c["b_port"]) for c in udp_row] == [
        (CLIENT_IP, 5000, "10.0.0.9", 6000)
    ]
    assert udp_row[0]["a_to_b_bytes"] == len(frame)
    assert (udp_row[0]["first_seen"], udp_row[0]["last_seen"]) == (T0 + 7_000, T0 + 7_000)
    assert table_rows(engine, captures)[0]["packets"] == 4


def test_pcapng_interface_without_options(tmp_path: Path) -> None:
    """The smallest IDB (20 bytes, no options) is valid: microseconds."""
    packets = handshake([T0 + 1_000, T0 + 2_000, T0 + 3_000])
    blocks = b"".join(enhanced_packet(p, p.ts_ns // 1000) for p in packets)
    idb = pcapng_block(1, (Linktype.ETHERNET).to_bytes(2, "little") + bytes(6))
    assert len(idb) == 20
    report, engine = ingest_files(tmp_path, {"bare.pcapng": section_header() + idb + blocks})
    assert_clean(report)
    assert without_id(table_rows(engine, conversations)) == [expected_handshake(packets)]


def test_pcapng_interfaces_with_different_link_types(tmp_path: Path) -> None:
    """One file, four interfaces: Ethernet (ns), raw IPv4 (2^-20 s), Linux
    cooked v1 (µs, no option) and v2 (ms); each carries one UDP datagram."""
    interfaces = [
        Interface(Linktype.ETHERNET, tsresol=9, name="eth0"),
        Interface(Linktype.IPV4, tsresol=0x80 | 20),
        Interface(Linktype.LINUX_SLL),
        Interface(Linktype.LINUX_SLL2, tsresol=3),
    ]

    def datagram(n: int) -> bytes:
        return ipv4(f"10.1.{n}.1", f"10.1.{n}.2", udp(1000 + n, 2000 + n, bytes(n + 1)))

    packets = [
        Packet(T0 + 123_456_789, ethernet(SERVER_MAC, CLIENT_MAC, Ethertype.IPV4, datagram(0))),
        Packet(T0 + 46_875_000, datagram(1), interface=1),
        Packet(
            T0 + 999_999_000, sll(Ethertype.IPV4, datagram(2), "02:00:00:00:00:03"), interface=2
        ),
        Packet(
            T0 + 2 * NS + 5_000_000,
            sll2(Ethertype.IPV4, datagram(3), "02:00:00:00:00:04"),
            interface=3,
        ),
    ]
    report, engine = ingest_files(tmp_path, {"multi.pcapng": pcapng(interfaces, packets)})
    assert_clean(report)
    got = {c["a"]: c for c in table_rows(engine, conversations)}
    for n, packet in enumerate(packets):
        conv = got[f"10.1.{n}.1"]
        assert (conv["a_port"], conv["b"], conv["b_port"]) == (1000 + n, f"10.1.{n}.2", 2000 + n)
        assert (conv["a_to_b_packets"], conv["a_to_b_bytes"]) == (1, packet.length)
        assert (conv["first_seen"], conv["last_seen"]) == (packet.ts_ns, packet.ts_ns)
    macs = sorted(s["mac"] for s in table_rows(engine, stations))
    assert macs == [CLIENT_MAC, "02:00:00:00:00:03", "02:00:00:00:00:04"]


def test_pcapng_sections_in_both_byte_orders(tmp_path: Path) -> None:
    """A second section header starts over: its own byte order, interfaces
    numbered from 0 again."""
    first = handshake([T0 + 1_000, T0 + 2_000, T0 + 3_000])
    v6 = ipv6("2001:db8::1", "2001:db8::2", udp(7000, 8000, b"six"))
    second = [Packet(T0 + 9 * NS + 1, v6)]
    data = pcapng([Interface(Linktype.ETHERNET)], first) + pcapng(
        [Interface(Linktype.IPV6, tsresol=9)], second, big_endian=True
    )
    report, engine = ingest_files(tmp_path, {"two.pcapng": data})
    assert_clean(report)
    rows = {c["transport"]: c for c in table_rows(engine, conversations)}
    assert without_id([rows["tcp"]]) == [expected_handshake(first)]
    assert (rows["udp"]["a"], rows["udp"]["b"], rows["udp"]["first_seen"]) == (
        "2001:db8::1",
        "2001:db8::2",
        T0 + 9 * NS + 1,
    )
    assert rows["udp"]["a_to_b_bytes"] == len(v6)


def test_pcapng_idb_after_packets(tmp_path: Path) -> None:
    """An interface may be described after packets of other interfaces."""
    first = handshake([T0 + 1_000, T0 + 2_000, T0 + 3_000])
    raw = ipv4("10.9.9.1", "10.9.9.2", udp(1, 2, b"late"))
    data = (
        pcapng([Interface(Linktype.ETHERNET)], first)
        + interface_description(Interface(Linktype.RAW, tsresol=9))
        + enhanced_packet(Packet(T0 + 8, raw, interface=1), T0 + 8)
    )
    report, engine = ingest_files(tmp_path, {"late-idb.pcapng": data})
    assert_clean(report)
    late = [c for c in table_rows(engine, conversations) if c["a"] == "10.9.9.1"]
    assert [(c["first_seen"], c["a_to_b_bytes"]) for c in late] == [(T0 + 8, len(raw))]


# --------------------------------------------------------------------------
# compression, directories, standard input


@pytest.mark.parametrize("kind", ["pcap", "pcapng"])
def test_gzip_is_the_same_capture(tmp_path: Path, kind: str) -> None:
    packets = handshake([T0 + 1_000, T0 + 2_000, T0 + 3_000])
    plain = pcap(packets) if kind == "pcap" else pcapng([Interface(Linktype.ETHERNET)], packets)
    report, engine = ingest_files(
        tmp_path, {f"a.{kind}.gz": gzip.compress(plain), f"b.{kind}": plain}
    )
    assert [o.status for o in report.outcomes] == ["ingested", "already ingested"]
    assert report.all_problems == []
    name = str(tmp_path / f"a.{kind}.gz")
    assert capture_summary(engine) == [expected_capture(name, f"{kind}.gz", packets)]
    assert without_id(table_rows(engine, conversations)) == [expected_handshake(packets)]


def test_directory_is_read_recursively_in_order(tmp_path: Path) -> None:
    def one(n: int) -> bytes:
        return pcap(
            [Packet(T0 + n * NS, ipv4(f"10.2.0.{n}", "10.2.0.99", udp(n, 9)))], Linktype.RAW
        )

    files = {
        "caps/b.pcap": one(1),
        "caps/a/z.pcapng": pcapng(
            [Interface(Linktype.RAW)],
            [Packet(T0 + 2 * NS, ipv4("10.2.0.2", "10.2.0.99", udp(2, 9)))],
        ),
        "caps/a/deeper/c.pcap.gz": gzip.compress(one(3)),
        "caps/.hidden.pcap": one(4),
    }
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    engine = open_store(str(tmp_path / "store.db"))
    report = ingest([str(tmp_path / "caps")], engine)
    assert_clean(report)
    expected = [  # top down: a folder's files, then its sub-folders, each by name
        ("caps/b.pcap", "pcap"),
        ("caps/a/z.pcapng", "pcapng"),
        ("caps/a/deeper/c.pcap.gz", "pcap.gz"),
    ]
    assert [(c["name"], c["file_format"]) for c in capture_summary(engine)] == [
        (str(tmp_path / n), f) for n, f in expected
    ]
    assert sorted(c["a"] for c in table_rows(engine, conversations)) == [
        "10.2.0.1",
        "10.2.0.2",
        "10.2.0.3",
    ]


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_standard_input(tmp_path: Path, compressed: bool) -> None:
    packets = handshake([T0 + 1_000, T0 + 2_000, T0 + 3_000])
    data = pcap(packets, nano=True)
    db = str(tmp_path / "store.db")
    done = run_cli("ingest", "--db", db, "-", stdin=gzip.compress(data) if compressed else data)
    assert (done.returncode, done.stderr) == (0, "")
    assert "files: 1 ingested, 0 already in the store, 0 not read" in done.stdout
    exported = json.loads(run_cli("export", "--db", db, "--format", "json").stdout)
    [capture] = exported["captures"]
    assert (capture["name"], capture["format"], capture["packets"]) == (
        "<stdin>",
        "pcap.gz" if compressed else "pcap",
        3,
    )
    assert capture["bytes"] == sum(p.length for p in packets)


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_standard_input_arriving_one_byte_first(tmp_path: Path, compressed: bool) -> None:
    """A slow writer (ssh, curl) may send the first byte alone: the format,
    gzip included, is still recognised."""
    packets = handshake([T0 + 1_000, T0 + 2_000, T0 + 3_000])
    data = pcap(packets)
    data = gzip.compress(data) if compressed else data
    db = str(tmp_path / "store.db")
    reader = subprocess.Popen(
        [sys.executable, "-m", "otseam", "ingest", "--db", db, "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert reader.stdin is not None
    reader.stdin.write(data[:1])
    reader.stdin.flush()
    time.sleep(0.5)  # long enough for otseam to look at what has arrived
    out, err = reader.communicate(data[1:], timeout=60)
    assert (reader.returncode, err) == (0, b"")
    assert "files: 1 ingested, 0 already in the store, 0 not read" in out.decode()


# --------------------------------------------------------------------------
# link types


V4_SRC, V4_DST = "192.168.7.1", "192.168.7.2"
V6_SRC, V6_DST = "fd00::1", "fd00::2"


def _v4() -> bytes:
    return ipv4(V4_SRC, V4_DST, udp(3333, 4444, b"link"))


def _v6() -> bytes:
    return ipv6(V6_SRC, V6_DST, udp(3333, 4444, b"link"))


LINK_CASES: dict[str, tuple[int, bytes, str, str | None]] = {
    "ethernet": (
        Linktype.ETHERNET,
        ethernet(SERVER_MAC, CLIENT_MAC, Ethertype.IPV4, _v4()),
        V4_SRC,
        CLIENT_MAC,
    ),
    "sll-v4": (Linktype.LINUX_SLL, sll(Ethertype.IPV4, _v4(), CLIENT_MAC), V4_SRC, CLIENT_MAC),
    "sll-v6": (
        Linktype.LINUX_SLL,
        sll(Ethertype.IPV6, _v6(), CLIENT_MAC, packet_type=4),
        V6_SRC,
        CLIENT_MAC,
    ),
    "sll2-v4": (Linktype.LINUX_SLL2, sll2(Ethertype.IPV4, _v4(), CLIENT_MAC), V4_SRC, CLIENT_MAC),
    "sll2-v6": (Linktype.LINUX_SLL2, sll2(Ethertype.IPV6, _v6(), CLIENT_MAC), V6_SRC, CLIENT_MAC),
    "raw-101-v4": (Linktype.RAW, _v4(), V4_SRC, None),
    "raw-101-v6": (Linktype.RAW, _v6(), V6_SRC, None),
    "ipv4-228": (Linktype.IPV4, _v4(), V4_SRC, None),
    "ipv6-229": (Linktype.IPV6, _v6(), V6_SRC, None),
    "null-little-endian-v4": (Linktype.NULL, null(2, _v4()), V4_SRC, None),
    "null-big-endian-v4": (Linktype.NULL, null(2, _v4(), big_endian=True), V4_SRC, None),
    "null-netbsd-v6": (Linktype.NULL, null(24, _v6()), V6_SRC, None),
    "null-freebsd-v6": (Linktype.NULL, null(28, _v6()), V6_SRC, None),
    "null-darwin-v6": (Linktype.NULL, null(30, _v6(), big_endian=True), V6_SRC, None),
    "loop-108-v4": (Linktype.LOOP, loop(2, _v4()), V4_SRC, None),
    "loop-108-v6": (Linktype.LOOP, loop(24, _v6()), V6_SRC, None),
}


@pytest.mark.parametrize(
    ("linktype", "frame", "src", "station"), LINK_CASES.values(), ids=LINK_CASES.keys()
)
def test_link_type(
    tmp_path: Path, linktype: int, frame: bytes, src: str, station: str | None
) -> None:
    packet = Packet(T0 + 314_159_265, frame)
    report, engine = ingest_files(tmp_path, {"l.pcap": pcap([packet], linktype, nano=True)})
    assert_clean(report)
    dst = V4_DST if src == V4_SRC else V6_DST
    [conv] = without_id(table_rows(engine, conversations))
    assert conv == {
        "transport": "udp",
        "a": src,
        "a_port": 3333,
        "b": dst,
        "b_port": 4444,
        "a_to_b_packets": 1,
        "b_to_a_packets": 0,
        "a_to_b_bytes": len(frame),
        "b_to_a_bytes": 0,
        "first_seen": packet.ts_ns,
        "last_seen": packet.ts_ns,
        "initiator": None,  # neither port is a service port
        "a_tcp_flags": 0,
        "b_tcp_flags": 0,
        "app_protocol": None,
        "vlan": 0,
    }
    macs = [s["mac"] for s in table_rows(engine, stations)]
    assert macs == ([station] if station else [])


def test_unsupported_link_type_pcap_is_skipped_with_a_clear_message(tmp_path: Path) -> None:
    """A file whose link type otseam cannot decode is not read, not stored,
    and the summary says which link type and that the file was skipped."""
    zigbee = tmp_path / "Zigbee" / "control4-sample.pcap"
    zigbee.parent.mkdir()
    zigbee.write_bytes(pcap([Packet(T0, b"\x41\x88" + bytes(20))], Linktype.IEEE802_15_4))
    db = str(tmp_path / "store.db")
    done = run_cli("ingest", "--db", db, str(zigbee))
    assert (done.returncode, done.stderr) == (1, "")
    assert "files: 0 ingested, 0 already in the store, 1 not read" in done.stdout
    assert (
        f"  {zigbee}: link type 195 (IEEE 802.15.4) is not supported; the file was skipped\n"
        in done.stdout
    )
    assert json.loads(run_cli("export", "--db", db).stdout)["captures"] == []


def test_unsupported_interface_in_pcapng_is_counted(tmp_path: Path) -> None:
    """Packets of an unsupported interface are skipped and counted; the
    supported interface's packets are ingested."""
    packets = [
        *handshake([T0 + 1_000, T0 + 2_000, T0 + 3_000]),
        Packet(T0 + 4_000, b"\x41\x88" + bytes(20), interface=1),
        Packet(T0 + 5_000, b"\x41\x88" + bytes(30), interface=1),
    ]
    interfaces = [Interface(Linktype.ETHERNET), Interface(Linktype.IEEE802_15_4)]
    report, engine = ingest_files(tmp_path, {"mixed.pcapng": pcapng(interfaces, packets)})
    name = tmp_path / "mixed.pcapng"
    assert [str(p) for p in report.all_problems] == [
        f"{name}: link type 195 (IEEE 802.15.4) on interface 1 is not supported; 2 packets skipped"
    ]
    assert [o.status for o in report.outcomes] == ["ingested"]
    assert without_id(table_rows(engine, conversations)) == [expected_handshake(packets[:3])]


def test_unsupported_interfaces_in_two_sections_are_all_named(tmp_path: Path) -> None:
    zigbee = b"\x41\x88" + bytes(20)
    first = [
        *handshake([T0 + 1_000, T0 + 2_000, T0 + 3_000]),
        Packet(T0 + 4_000, zigbee, interface=1),
    ]
    second = [Packet(T0 + 5_000, b"user", interface=0), Packet(T0 + 6_000, b"user", interface=0)]
    data = pcapng([Interface(Linktype.ETHERNET), Interface(Linktype.IEEE802_15_4)], first) + pcapng(
        [Interface(147), Interface(Linktype.ETHERNET)], second, big_endian=True
    )
    report, engine = ingest_files(tmp_path, {"two.pcapng": data})
    assert [str(p) for p in report.all_problems] == [
        f"{tmp_path / 'two.pcapng'}: link types 195 (IEEE 802.15.4) on interface 1 and "
        "147 (user 0) on interface 0 are not supported; 3 packets skipped"
    ]
    assert without_id(table_rows(engine, conversations)) == [expected_handshake(first[:3])]


def test_unused_unsupported_interface_is_no_problem(tmp_path: Path) -> None:
    packets = handshake([T0 + 1_000, T0 + 2_000, T0 + 3_000])
    interfaces = [Interface(Linktype.ETHERNET), Interface(Linktype.IEEE802_15_4)]
    report, _engine = ingest_files(tmp_path, {"unused.pcapng": pcapng(interfaces, packets)})
    assert_clean(report)


def test_pcapng_with_only_unsupported_interfaces_is_not_read(tmp_path: Path) -> None:
    interfaces = [Interface(Linktype.IEEE802_15_4)]
    data = pcapng(interfaces, [Packet(T0, b"\x41\x88" + bytes(20))])
    report, engine = ingest_files(tmp_path, {"zb.pcapng": data})
    assert [o.status for o in report.outcomes] == ["not read"]
    assert [str(p) for p in report.all_problems] == [
        f"{tmp_path / 'zb.pcapng'}: link type 195 (IEEE 802.15.4) on interface 0 "
        "is not supported; 1 packet skipped"
    ]
    assert table_rows(engine, captures) == []


# --------------------------------------------------------------------------
# the generator itself, checked by an independent reader


CHECKSUMS = ("ip", "udp", "tcp", "icmp", "icmpv6")


@pytest.mark.oracle
def test_capturegen_frames_read_cleanly_by_tshark(tmp_path: Path, tshark: str) -> None:
    """Every expected value above is computed from what capturegen wrote, so
    capturegen must write what the formats say: tshark must see the same
    times (one per if_tsresol kind), lengths, and good checksums."""
    v6_opts = [hop_by_hop(), routing(["fd00::9"]), destination_options()]
    frames = [
        *handshake_frames(),
        ethernet(
            SERVER_MAC,
            CLIENT_MAC,
            Ethertype.IPV4,
            ipv4(CLIENT_IP, SERVER_IP, udp(40001, 4444, b"query")),
            [Tag(9, Ethertype.QINQ), Tag(3)],
        ),
        ethernet(
            SERVER_MAC,
            CLIENT_MAC,
            Ethertype.IPV4,
            ipv4(CLIENT_IP, SERVER_IP, icmp_echo(1, 2, b"abc")),
        ),
        ethernet(
            SERVER_MAC,
            CLIENT_MAC,
            Ethertype.IPV6,
            ipv6("fd00::1", "fd00::2", udp(7, 8, b"six"), v6_opts),
        ),
        ethernet(
            SERVER_MAC, CLIENT_MAC, Ethertype.IPV6, ipv6("fd00::1", "fd00::2", icmpv6_echo(3, 4))
        ),
    ]
    interfaces = [Interface(Linktype.ETHERNET, tsresol=r) for r in (None, 9, 0x80 | 20)]
    times = [
        T0 + 1_000,
        T0 + 123_456_789,
        T0 + 46_875_000,
        T0 + 2 * NS,
        T0 + 2 * NS + 1,
        T0 + 3 * NS + 500_000_000,
        T0 + 4 * NS,
    ]
    packets = [
        Packet(t, f, interface=n % 3) for n, (t, f) in enumerate(zip(times, frames, strict=True))
    ]
    path = tmp_path / "oracle.pcapng"
    path.write_bytes(pcapng(interfaces, packets, big_endian=True))
    fields = [
        "frame.time_epoch",
        "frame.len",
        "_ws.malformed",
        *(f"{c}.checksum.status" for c in CHECKSUMS),
    ]
    options = [a for c in ("ip", "udp", "tcp") for a in ("-o", f"{c}.check_checksum:TRUE")]
    done = subprocess.run(
        [
            tshark,
            "-r",
            str(path),
            *options,
            "-T",
            "fields",
            "-E",
            "separator=,",
            *(a for f in fields for a in ("-e", f)),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    seen = [line.split(",") for line in done.stdout.splitlines()]
    assert [(s[0], int(s[1]), s[2]) for s in seen] == [
        (f"{p.ts_ns // NS}.{p.ts_ns % NS:09d}", p.length, "") for p in packets
    ]
    for row in seen:
        assert {status for status in row[3:] if status} == {"1"}  # 1: checksum good

"""Bad input: every damaged, foreign or unreadable thing a user may hand to
``otseam ingest``, run through the command line as a user would.

Each case asserts the exact one-line message (file, byte offset where there
is one), that the other files of the run are still ingested, that a damaged
file keeps exactly its records before the damage, that a file with nothing
readable leaves no trace in the store, the exit status documented in
``otseam.cli`` (0 all read, 3 partial, 1 nothing read) and that standard
error holds no traceback.
"""

from __future__ import annotations

import gzip
import io
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from otseam.store.database import open_store
from otseam.store.schema import bindings, captures, conversations, stations
from tests.capturegen import (
    NS,
    Ethertype,
    Interface,
    Linktype,
    Packet,
    enhanced_packet,
    ethernet,
    ipv4,
    pcap,
    pcap_header,
    pcap_record,
    pcapng,
    pcapng_block,
    section_header,
    udp,
)
from tests.conftest import run_cli

T0 = 1_700_000_000 * NS
SNAPLEN = 65535
CLI_TIMEOUT = 60  # seconds; a reader that loops forever fails instead of hanging


# --------------------------------------------------------------------------
# what the captures hold


def frames(n: int = 3, size: int = 500) -> list[bytes]:
    return [
        ethernet(
            "02:00:00:00:00:02",
            "02:00:00:00:00:01",
            Ethertype.IPV4,
            ipv4("10.0.0.1", "10.0.0.2", udp(1000 + i, 2000, bytes(size))),
        )
        for i in range(n)
    ]


def packets(n: int = 3) -> list[Packet]:
    return [Packet(T0 + i * 1000, f) for i, f in enumerate(frames(n))]


def record_offsets(items: list[Packet]) -> list[int]:
    """Byte offset of each record header in a classic pcap of ``items``."""
    offsets, at = [], 24
    for p in items:
        offsets.append(at)
        at += 16 + len(p.data)
    return offsets


def block_offsets(data: bytes) -> list[int]:
    """Byte offset of every block of a little-endian pcapng."""
    offsets, at = [], 0
    while at < len(data):
        offsets.append(at)
        at += struct.unpack_from("<I", data, at + 4)[0]
    return offsets


# --------------------------------------------------------------------------
# running the command line


@dataclass(frozen=True)
class Ingested:
    """One ``otseam ingest`` run as the user saw it."""

    code: int
    stdout: str
    stderr: str

    @property
    def files_line(self) -> str:
        return next(line for line in self.stdout.splitlines() if line.startswith("files:"))

    @property
    def problems(self) -> list[str]:
        lines = self.stdout.splitlines()
        start = next((i for i, line in enumerate(lines) if line.startswith("problems (")), None)
        if start is None:
            return []
        shown = []
        for line in lines[start + 1 :]:
            if not line.startswith("  "):
                break
            shown.append(line[2:])
        return shown


def ingest_cli(db: Path, *paths: str, stdin: bytes | None = None) -> Ingested:
    done = run_cli("ingest", "--db", str(db), *paths, stdin=stdin, timeout=CLI_TIMEOUT)
    assert "Traceback" not in done.stderr
    assert done.stderr == ""
    return Ingested(done.returncode, done.stdout, done.stderr)


def stored(db: Path) -> list[tuple[str, int]]:
    """(name, packets) of every capture in the store."""
    engine = open_store(str(db))
    with engine.connect() as conn:
        rows = conn.execute(select(captures.c.name, captures.c.packets).order_by(captures.c.id))
        return [(str(name), int(n)) for name, n in rows]


def facts_count(db: Path) -> int:
    engine = open_store(str(db))
    with engine.connect() as conn:
        return sum(len(conn.execute(select(t)).all()) for t in (conversations, stations, bindings))


# --------------------------------------------------------------------------
# the damaged files, each with its expected messages


@dataclass(frozen=True)
class Bad:
    """A damaged file, the problem lines it must give (``{file}`` stands for
    its path) and how many packets it keeps (None: it is not read at all)."""

    data: bytes
    problems: list[str]
    kept: int | None
    name: str = "bad.pcap"


def _truncated_last_record() -> Bad:
    items = packets()
    data = pcap(items)[:-10]
    last = record_offsets(items)[-1]
    present = len(data) - last
    return Bad(
        data,
        [f"{{file}} at byte {last}: the last record is truncated ({present} bytes of it present)"],
        2,
    )


def _truncated_last_block() -> Bad:
    data = pcapng([Interface(Linktype.ETHERNET)], packets())
    last = block_offsets(data)[-1]
    return Bad(
        data[:-10], [f"{{file}} at byte {last}: the last block is truncated"], 2, "bad.pcapng"
    )


def _record_over_snaplen() -> Bad:
    data = pcap(packets(), snaplen=100)
    return Bad(
        data,
        [
            "{file}: 3 records are longer than the snaplen of 100 bytes in the file "
            "header; read as recorded"
        ],
        3,
    )


def _absurd_record(index: int) -> Bad:
    items = packets()
    at = record_offsets(items)[index]
    whole = pcap(items)
    data = whole[:at] + pcap_record(items[index], caplen=0x8000_0000)[:16] + whole[at + 16 :]
    rest = len(data) - at
    message = (
        f"record claims 2147483648 captured bytes (snaplen {SNAPLEN}); the file is "
        f"damaged here and its last {rest} bytes were skipped"
    )
    if index == 0:
        return Bad(data, [f"{{file}}: at byte {at}, {message}"], None)
    return Bad(data, [f"{{file}} at byte {at}: {message}"], index)


def _zero_length_records() -> Bad:
    items = packets()
    empty = [Packet(T0 + 5_000, b""), Packet(T0 + 6_000, b"", wire_len=60)]
    data = pcap([items[0], empty[0], items[1], empty[1], items[2]])
    return Bad(
        data, ["{file}: 2 records are empty (0 bytes captured); counted, nothing to decode"], 5
    )


def _linktype(linktype: int, text: str) -> Bad:
    data = pcap(packets(), linktype)
    return Bad(
        data,
        [f"{{file}}: link type {linktype} ({text}) is not supported; the file was skipped"],
        None,
    )


def _pcapng_bad_length(block_length: int | None, trailing: int | None = None) -> Bad:
    """The third packet block's length field, or its trailing copy, is damaged."""
    data = bytearray(pcapng([Interface(Linktype.ETHERNET)], packets()))
    at = block_offsets(bytes(data))[-1]
    shown = whole = struct.unpack_from("<I", data, at + 4)[0]
    if block_length is not None:
        struct.pack_into("<I", data, at + 4, block_length)
        shown = block_length
    if trailing is not None:
        struct.pack_into("<I", data, at + whole - 4, trailing)
    rest = len(data) - at
    return Bad(
        bytes(data),
        [
            f"{{file}} at byte {at}: block of type 0x00000006 has a bad length "
            f"({shown}); the file is damaged here and its last {rest} "
            "bytes were skipped"
        ],
        2,
        "bad.pcapng",
    )


def _pcapng_bad_section_length() -> Bad:
    data = bytearray(pcapng([Interface(Linktype.ETHERNET)], packets()))
    struct.pack_into("<I", data, 4, 7)
    return Bad(
        bytes(data),
        [
            f"{{file}}: block of type 0x0a0d0d0a has a bad length (7); the "
            f"file is damaged here and its last {len(data)} bytes were "
            "skipped"
        ],
        None,
        "bad.pcapng",
    )


def _pcapng_bad_byte_order() -> Bad:
    data = bytearray(pcapng([Interface(Linktype.ETHERNET)], packets()))
    struct.pack_into("<I", data, 8, 0x12345678)
    return Bad(
        bytes(data), ["{file}: section header with a bad byte-order magic"], None, "bad.pcapng"
    )


def _pcapng_undeclared_interface() -> Bad:
    items = packets()
    orphan = Packet(T0 + 9_000, frames(1)[0], interface=3)
    data = pcapng([Interface(Linktype.ETHERNET)], items) + enhanced_packet(orphan, 9)
    return Bad(
        data,
        [
            "{file}: 1 packet block is for an interface that no interface "
            "description block declared; skipped"
        ],
        4,
        "bad.pcapng",
    )


def _random_pcap(count: int = 20) -> tuple[bytes, int]:
    """A pcap that compresses poorly (so gzip has many pieces); record size."""
    noise = random.Random(1234)
    raw = [
        ipv4("10.0.0.1", "10.0.0.2", udp(1000, 2000, noise.randbytes(1000))) for _ in range(count)
    ]
    return pcap([Packet(T0 + i, r) for i, r in enumerate(raw)], Linktype.RAW, nano=True), (
        16 + len(raw[0])
    )


def _gzip_cut() -> Bad:
    plain, record = _random_pcap()
    compressed = gzip.compress(plain, mtime=0)
    cut = compressed[: len(compressed) // 2]
    available = len(zlib.decompressobj(wbits=31).decompress(cut))
    assert 24 + record < available < len(plain)
    return Bad(
        cut,
        [
            f"{{file}} at byte {available}: the gzip data is damaged (Compressed file "
            "ended before the end-of-stream marker was reached); reading stopped "
            "there"
        ],
        (available - 24) // record,
        "bad.pcap.gz",
    )


def _gzip_bad_crc() -> Bad:
    plain, _record = _random_pcap()
    data = bytearray(gzip.compress(plain, mtime=0))
    data[-8] ^= 0xFF  # the CRC-32 of the uncompressed data (RFC 1952 section 2.3)
    reason = _gzip_error(bytes(data))
    return Bad(
        bytes(data),
        [
            f"{{file}} at byte {len(plain)}: the gzip data is damaged "
            f"({reason}); reading stopped there"
        ],
        20,
        "bad.pcap.gz",
    )


def _gzip_bad_header() -> Bad:
    data = b"\x1f\x8b" + bytes(range(40))
    return Bad(
        data, [f"{{file}}: the gzip data is damaged ({_gzip_error(data)})"], None, "bad.pcap.gz"
    )


def _gzip_error(data: bytes) -> str:
    """What Python's gzip reader says about ``data``."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            stream.read()
    except (OSError, EOFError) as exc:
        return str(exc)
    raise AssertionError("the gzip data was not damaged")


def _pcapng_truncated_header() -> Bad:
    data = pcapng([Interface(Linktype.ETHERNET)], packets())[:20]
    return Bad(data, ["{file}: the file is truncated inside its header blocks"], None, "bad.pcapng")


BAD: dict[str, Callable[[], Bad]] = {
    "empty": lambda: Bad(b"", ["{file}: the file is empty"], None),
    "garbage": lambda: Bad(
        b"GARBAGE!" * 40,
        ["{file}: not a pcap or pcapng capture (it starts with bytes 47 41 52 42); skipped"],
        None,
    ),
    "pcap-header-cut": lambda: Bad(
        pcap(packets())[:10], ["{file}: the pcap file header is truncated (10 of 24 bytes)"], None
    ),
    "pcapng-header-cut": _pcapng_truncated_header,
    "last-record-truncated": _truncated_last_record,
    "last-block-truncated": _truncated_last_block,
    "record-beyond-snaplen": _record_over_snaplen,
    "record-2GB-third": lambda: _absurd_record(2),
    "record-2GB-first": lambda: _absurd_record(0),
    "zero-length-records": _zero_length_records,
    "unknown-link-type": lambda: _linktype(4242, "unknown"),
    "unsupported-link-type": lambda: _linktype(147, "user 0"),
    "pcapng-block-length-odd": lambda: _pcapng_bad_length(33),
    "pcapng-block-length-tiny": lambda: _pcapng_bad_length(8),
    "pcapng-block-length-huge": lambda: _pcapng_bad_length(0xFFFF_FFF0),
    "pcapng-trailing-length": lambda: _pcapng_bad_length(None, trailing=12),
    "pcapng-section-length": _pcapng_bad_section_length,
    "pcapng-byte-order": _pcapng_bad_byte_order,
    "pcapng-undeclared-interface": _pcapng_undeclared_interface,
    "gzip-cut": _gzip_cut,
    "gzip-bad-crc": _gzip_bad_crc,
    "gzip-bad-header": _gzip_bad_header,
}


def _write(folder: Path, bad: Bad) -> Path:
    path = folder / bad.name
    path.write_bytes(bad.data)
    return path


def _good(folder: Path) -> Path:
    path = folder / "good.pcap"
    path.write_bytes(pcap(packets(4)))
    return path


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_bad_file_alone(tmp_path: Path, case: Callable[[], Bad]) -> None:
    bad = case()
    path = _write(tmp_path, bad)
    db = tmp_path / "store.db"
    run = ingest_cli(db, str(path))
    assert run.problems == [p.format(file=path) for p in bad.problems]
    if bad.kept is None:
        assert (run.code, run.files_line) == (
            1,
            "files: 0 ingested, 0 already in the store, 1 not read",
        )
        assert (stored(db), facts_count(db)) == ([], 0)
    else:
        assert (run.code, run.files_line) == (
            3,
            "files: 1 ingested, 0 already in the store, 0 not read",
        )
        assert stored(db) == [(str(path), bad.kept)]


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_bad_file_does_not_stop_the_others(tmp_path: Path, case: Callable[[], Bad]) -> None:
    bad = case()
    path = _write(tmp_path, bad)
    good = _good(tmp_path)
    db = tmp_path / "store.db"
    run = ingest_cli(db, str(path), str(good))
    assert run.code == 3
    assert run.problems == [p.format(file=path) for p in bad.problems]
    expected = [(str(good), 4)]
    if bad.kept is not None:
        expected.insert(0, (str(path), bad.kept))
    assert stored(db) == expected


def test_all_good_exits_zero(tmp_path: Path) -> None:
    good = _good(tmp_path)
    run = ingest_cli(tmp_path / "store.db", str(good))
    assert (run.code, run.problems) == (0, [])
    assert run.files_line == "files: 1 ingested, 0 already in the store, 0 not read"


def test_damaged_gzip_on_standard_input(tmp_path: Path) -> None:
    bad = _gzip_cut()
    db = tmp_path / "store.db"
    run = ingest_cli(db, "-", stdin=bad.data)
    assert (run.code, run.problems) == (3, [p.format(file="<stdin>") for p in bad.problems])
    assert stored(db) == [("<stdin>", bad.kept)]


def test_record_larger_than_the_read_window(tmp_path: Path) -> None:
    """A 9 MB record (snaplen allows it) spans more than one read window of
    8 MB: it is read whole, then reading goes on."""
    big = Packet(T0, bytes(9 * 1024 * 1024))
    small = packets(2)
    data = pcap([small[0], big, small[1]], Linktype.ETHERNET, snaplen=0x7FFF_FFFF)
    path = tmp_path / "big.pcap"
    path.write_bytes(data)
    run = ingest_cli(tmp_path / "store.db", str(path))
    assert (run.code, run.problems) == (0, [])
    assert stored(tmp_path / "store.db") == [(str(path), 3)]


def test_block_larger_than_the_read_window(tmp_path: Path) -> None:
    big = Packet(T0, bytes(9 * 1024 * 1024))
    small = packets(2)
    data = pcapng([Interface(Linktype.ETHERNET)], [small[0], big, small[1]])
    path = tmp_path / "big.pcapng"
    path.write_bytes(data)
    run = ingest_cli(tmp_path / "store.db", str(path))
    assert (run.code, run.problems) == (0, [])
    assert stored(tmp_path / "store.db") == [(str(path), 3)]


# --------------------------------------------------------------------------
# files that cannot be read at all


def test_directory_with_unreadable_entries(tmp_path: Path) -> None:
    """Tests run as root in CI, and root reads any file whatever its mode, so
    unreadability is built from things nobody can read as a capture: a
    symbolic link to nowhere, a link loop, and a named pipe (opening one
    would wait forever for a writer)."""
    folder = tmp_path / "captures"
    folder.mkdir()
    good = _good(folder)
    (folder / "broken.pcap").symlink_to(tmp_path / "gone" / "x.pcap")
    (folder / "loop-a.pcap").symlink_to(folder / "loop-b.pcap")
    (folder / "loop-b.pcap").symlink_to(folder / "loop-a.pcap")
    os.mkfifo(folder / "pipe.pcap")
    db = tmp_path / "store.db"
    run = ingest_cli(db, str(folder))
    assert run.problems == [
        f"{folder / 'broken.pcap'}: broken symbolic link (to {tmp_path / 'gone' / 'x.pcap'}); "
        "skipped",
        f"{folder / 'loop-a.pcap'}: cannot read: Too many levels of symbolic links",
        f"{folder / 'loop-b.pcap'}: cannot read: Too many levels of symbolic links",
        f"{folder / 'pipe.pcap'}: not a regular file (a named pipe); skipped",
    ]
    assert (run.code, run.files_line) == (
        3,
        "files: 1 ingested, 0 already in the store, 4 not read",
    )
    assert stored(db) == [(str(good), 4)]


def _as_unprivileged(*args: str) -> Ingested:
    """Run the CLI so that file modes bind it. Root (as in CI) reads any file
    whatever its mode, through the capabilities CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH; ``setpriv`` drops both from the bounding set, so the
    process stays root but is refused like anyone else."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and setpriv (util-linux) is missing")
        prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"]
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "otseam", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert done.stderr == ""
    return Ingested(done.returncode, done.stdout, done.stderr)


def test_files_without_read_permission(tmp_path: Path) -> None:
    good = _good(tmp_path)
    locked = tmp_path / "locked.pcap"
    locked.write_bytes(pcap(packets()))
    locked.chmod(0)
    folder = tmp_path / "locked-dir"
    folder.mkdir()
    (folder / "inside.pcap").write_bytes(pcap(packets(2)))
    folder.chmod(0)
    db = tmp_path / "store.db"
    try:
        run = _as_unprivileged("ingest", "--db", str(db), str(locked), str(folder), str(good))
    finally:
        folder.chmod(0o700)
        locked.chmod(0o600)
    assert run.problems == [
        f"{locked}: permission denied",
        f"{folder}: cannot read directory: Permission denied",
    ]
    assert (run.code, run.files_line) == (
        3,
        "files: 1 ingested, 0 already in the store, 2 not read",
    )
    assert stored(db) == [(str(good), 4)]


def test_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pcap"
    run = ingest_cli(tmp_path / "store.db", str(missing))
    assert run.problems == [f"{missing}: no such file or directory"]
    assert (run.code, run.files_line) == (
        1,
        "files: 0 ingested, 0 already in the store, 1 not read",
    )


def test_empty_directory(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / ".hidden.pcap").write_bytes(pcap(packets()))
    run = ingest_cli(tmp_path / "store.db", str(folder))
    assert run.problems == [f"{folder}: no files in this directory (hidden files are skipped)"]
    assert run.code == 1


def test_path_with_spaces(tmp_path: Path) -> None:
    folder = tmp_path / "plant captures"
    folder.mkdir()
    good = folder / "line 1 (morning).pcap"
    good.write_bytes(pcap(packets()))
    bad = folder / "not a capture.pcap"
    bad.write_bytes(b"hello world, not a capture")
    db = tmp_path / "my store.db"
    run = ingest_cli(db, str(folder))
    assert run.problems == [
        f"{bad}: not a pcap or pcapng capture (it starts with bytes 68 65 6c 6c); skipped"
    ]
    assert run.code == 3
    assert stored(db) == [(str(good), 3)]


def test_named_pipe_given_explicitly_is_read(tmp_path: Path) -> None:
    """A pipe named on the command line (as ``<(zcat x.gz)`` gives) is read."""
    pipe = tmp_path / "feed"
    os.mkfifo(pipe)
    data = pcap(packets())

    def feed() -> None:
        with pipe.open("wb") as sink:
            sink.write(data)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    run = ingest_cli(tmp_path / "store.db", str(pipe))
    writer.join(timeout=5)
    assert (run.code, run.problems) == (0, [])
    assert stored(tmp_path / "store.db") == [(str(pipe), 3)]


def test_header_only_capture_is_read_and_empty(tmp_path: Path) -> None:
    """A capture with a header and no records is a valid, empty capture."""
    path = tmp_path / "header-only.pcap"
    path.write_bytes(pcap_header(Linktype.ETHERNET))
    ng = tmp_path / "header-only.pcapng"
    ng.write_bytes(section_header() + pcapng_block(1, bytes(8)))
    run = ingest_cli(tmp_path / "store.db", str(path), str(ng))
    assert (run.code, run.problems) == (0, [])
    assert stored(tmp_path / "store.db") == [(str(path), 0), (str(ng), 0)]


# --------------------------------------------------------------------------
# the documentation


FINDING_MESSAGES = (
    "no such file or directory",
    "broken symbolic link (to /x); skipped",
    "cannot read: REASON",
    "permission denied",
    "cannot read directory: REASON",
    "not a regular file (a named pipe); skipped",
    "no files in this directory (hidden files are skipped)",
)


def _fixed_words(message: str) -> str:
    """The longest stretch of a message's own words: no file name, number
    or parenthesised detail."""
    text = message.split(": ", 1)[1]
    parts = re.split(r"\([^)]*\)|0x[0-9a-f]+|\d+", text)
    return max((part.strip(" ;,") for part in parts), key=len)


def test_every_message_is_documented() -> None:
    """docs/errors.md lists every message the cases above produce."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "errors.md").read_text()
    messages = [m for case in BAD.values() for m in case().problems]
    messages += [f"{{file}}: {m}" for m in FINDING_MESSAGES]
    missing = [m for m in messages if _fixed_words(m) not in doc]
    assert missing == []

"""Running tshark and parsing what it prints.

Two kinds of output are used. ``read_frames`` asks for one line of fields per
frame (``-T fields``), with IP reassembly off so that every fragment shows its
own header; the expected otseam tables are computed from these lines in
``tests.oracle.expected``. ``read_conversations`` parses tshark's own
conversation statistics (``-z conv,...``) with default settings, for the
cross-checks and for the documented differences.

Results are cached per (tshark, capture) for the whole test session: tshark
is the slow part of these tests.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

__all__ = [
    "FIELDS",
    "ConversationRow",
    "ConversationTables",
    "Frame",
    "FrameDump",
    "format_size",
    "read_conversations",
    "read_frames",
    "run_tshark",
]

TIMEOUT: Final = 120.0

# One column per field, in this order. ``-E occurrence=f`` keeps the first
# (outermost) occurrence, so the header quoted inside an ICMP error never
# shadows the packet's own.
FIELDS: Final = (
    "frame.number",
    "frame.len",
    "eth.src",
    "ip.src",
    "ip.dst",
    "ip.proto",
    "ip.id",
    "ip.flags.mf",
    "ip.frag_offset",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.nxt",
    "ipv6.hopopts.nxt",
    "ipv6.dstopts.nxt",
    "ipv6.routing.nxt",
    "ipv6.fraghdr.nxt",
    "ipv6.fraghdr.offset",
    "ipv6.fraghdr.more",
    "ipv6.fraghdr.ident",
    "tcp.srcport",
    "tcp.dstport",
    "udp.srcport",
    "udp.dstport",
    "arp.src.hw_mac",
    "arp.src.proto_ipv4",
)

# IPv6 headers that are followed by another header (RFC 8200 section 4).
IPV6_EXTENSIONS: Final = frozenset({0, 43, 44, 51, 60})

NO_REASSEMBLY: Final = (
    "-o",
    "ip.defragment:FALSE",
    "-o",
    "ipv6.defragment:FALSE",
)


@dataclass(frozen=True, slots=True)
class Fragment:
    """Where an IP fragment belongs: its datagram id, and whether it is the
    first fragment (offset 0, which carries the transport header)."""

    ident: int
    first: bool


@dataclass(frozen=True, slots=True)
class Frame:
    """What tshark decoded of one frame, reduced to what the oracle needs."""

    number: int
    length: int  # frame.len: the length on the wire
    eth_src: str | None
    src: str | None  # IP sender, v4 or v6
    dst: str | None
    proto: int | None  # transport protocol number after IPv6 extension headers
    sport: int | None
    dport: int | None
    fragment: Fragment | None
    arp_mac: str | None
    arp_ip: str | None


@dataclass(frozen=True, slots=True)
class FrameDump:
    """Every frame of one capture, and what tshark said on stderr."""

    frames: tuple[Frame, ...]
    stderr: str
    returncode: int


def run_tshark(tshark: str, capture: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``tshark -n -r CAPTURE ARGS``; a non-zero status is kept, not raised,
    because tshark exits 2 on a capture cut short after printing every frame."""
    return subprocess.run(
        [tshark, "-n", "-r", str(capture), *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


@cache
def read_frames(tshark: str, capture: Path) -> FrameDump:
    """One ``Frame`` per frame of ``capture``, IP reassembly off."""
    args = ["-T", "fields", "-E", "separator=/t", "-E", "occurrence=f", *NO_REASSEMBLY]
    for name in FIELDS:
        args += ["-e", name]
    done = run_tshark(tshark, capture, *args)
    if done.returncode not in (0, 2) or (done.returncode and not done.stdout):
        raise RuntimeError(f"tshark failed on {capture}: {done.stderr.strip()}")
    frames = tuple(_frame(line) for line in done.stdout.splitlines() if line)
    return FrameDump(frames, _without_banner(done.stderr), done.returncode)


def _frame(line: str) -> Frame:
    f = dict(zip(FIELDS, line.split("\t"), strict=True))
    src, dst, proto = _network(f)
    sport, dport = _ports(f, proto)
    return Frame(
        number=int(f["frame.number"]),
        length=int(f["frame.len"]),
        eth_src=f["eth.src"] or None,
        src=src,
        dst=dst,
        proto=proto,
        sport=sport,
        dport=dport,
        fragment=_fragment(f),
        arp_mac=f["arp.src.hw_mac"] or None,
        arp_ip=f["arp.src.proto_ipv4"] or None,
    )


def _network(f: dict[str, str]) -> tuple[str | None, str | None, int | None]:
    if f["ip.src"]:
        return f["ip.src"], f["ip.dst"], _int(f["ip.proto"])
    if f["ipv6.src"]:
        return f["ipv6.src"], f["ipv6.dst"], _ipv6_transport(f)
    return None, None, None


def _ipv6_transport(f: dict[str, str]) -> int | None:
    """The first next-header value that is not an extension header."""
    names = ("ipv6.nxt", "ipv6.hopopts.nxt", "ipv6.dstopts.nxt", "ipv6.routing.nxt")
    values = [_int(f[n]) for n in (*names, "ipv6.fraghdr.nxt")]
    finals = [v for v in values if v is not None and v not in IPV6_EXTENSIONS]
    return finals[0] if finals else _int(f["ipv6.nxt"])


def _ports(f: dict[str, str], proto: int | None) -> tuple[int | None, int | None]:
    if proto == 6:
        return _int(f["tcp.srcport"]), _int(f["tcp.dstport"])
    if proto == 17:
        return _int(f["udp.srcport"]), _int(f["udp.dstport"])
    return None, None


def _fragment(f: dict[str, str]) -> Fragment | None:
    if f["ip.src"]:
        more, offset, ident = f["ip.flags.mf"], f["ip.frag_offset"], f["ip.id"]
    elif f["ipv6.fraghdr.ident"]:
        more, offset = f["ipv6.fraghdr.more"], f["ipv6.fraghdr.offset"]
        ident = f["ipv6.fraghdr.ident"]
    else:
        return None
    first = not _int(offset)
    if first and not _true(more):
        return None
    return Fragment(_int(ident) or 0, first)


def _int(text: str) -> int | None:
    return int(text, 0) if text else None


def _true(text: str) -> bool:
    return text.lower() in ("1", "true")


def _without_banner(stderr: str) -> str:
    return "\n".join(line for line in stderr.splitlines() if not line.startswith("Running as user"))


# --------------------------------------------------------------------------
# conversation statistics


@dataclass(frozen=True, slots=True)
class ConversationRow:
    """One line of ``-z conv,KIND``: A is the endpoint tshark saw first.

    Byte counts are text as tshark prints them ("418 bytes", "12 kB"); compare
    them with ``format_size``."""

    a: str
    b: str
    frames_ab: int
    bytes_ab: str
    frames_ba: int
    bytes_ba: str


@dataclass(frozen=True, slots=True)
class ConversationTables:
    """tshark's conversation tables for one capture, by kind."""

    ip: tuple[ConversationRow, ...]
    ipv6: tuple[ConversationRow, ...]
    tcp: tuple[ConversationRow, ...]
    udp: tuple[ConversationRow, ...]


SECTIONS: Final = {
    "IPv4 Conversations": "ip",
    "IPv6 Conversations": "ipv6",
    "TCP Conversations": "tcp",
    "UDP Conversations": "udp",
}

# "A <-> B  rx_frames rx_bytes  tx_frames tx_bytes  total ... start duration";
# tshark prints B->A ("<-") first, then A->B ("->").
ROW: Final = re.compile(
    r"^(?P<a>\S+)\s+<->\s+(?P<b>\S+)\s+"
    r"(?P<fba>\d+)\s+(?P<bba>\d+ \S+)\s+"
    r"(?P<fab>\d+)\s+(?P<bab>\d+ \S+)\s+"
    r"\d+\s+\d+ \S+\s+\S+\s+\S+\s*$"
)


@cache
def read_conversations(tshark: str, capture: Path) -> ConversationTables:
    """tshark's IPv4, IPv6, TCP and UDP conversation tables (default settings)."""
    args = ["-q"]
    for kind in ("ip", "ipv6", "tcp", "udp"):
        args += ["-z", f"conv,{kind}"]
    done = run_tshark(tshark, capture, *args)
    tables: dict[str, list[ConversationRow]] = {kind: [] for kind in SECTIONS.values()}
    section: str | None = None
    for line in done.stdout.splitlines():
        if line in SECTIONS:
            section = SECTIONS[line]
            continue
        match = ROW.match(line)
        if section is not None and match:
            tables[section].append(
                ConversationRow(
                    match["a"],
                    match["b"],
                    int(match["fab"]),
                    match["bab"],
                    int(match["fba"]),
                    match["bba"],
                )
            )
    return ConversationTables(**{k: tuple(v) for k, v in tables.items()})


SI_PREFIXES: Final = ("k", "M", "G", "T", "P")


def format_size(size: int) -> str:
    """A byte count as tshark's conversation tables print it (Wireshark's
    ``format_size`` with SI prefixes): below 10 kB exact, above it truncated
    to whole units of the largest prefix that still leaves at least 10."""
    for power, prefix in reversed(list(enumerate(SI_PREFIXES, start=1))):
        if size // 1000**power >= 10:
            return f"{size // 1000**power} {prefix}B"
    return f"{size} bytes"

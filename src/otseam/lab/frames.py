"""What the lab's own checks read from a capture: a frame table from tshark, text per sender.

This is deliberately independent of otseam's decoder: the lab's checks must
hold even while otseam itself is being written.
"""

from __future__ import annotations

import struct
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from otseam.lab.command import run
from otseam.lab.errors import CheckError

__all__ = ["Frame", "frame_table", "matching_frames", "payload_by_sender"]

FIELDS = (
    "frame.number", "eth.src", "eth.dst", "ip.src", "ip.dst", "arp.src.proto_ipv4",
    "tcp.dstport", "udp.dstport", "tcp.flags.syn", "tcp.flags.ack",
)  # fmt: skip


@dataclass(frozen=True)
class Frame:
    number: int
    eth_src: str
    eth_dst: str
    ip_src: str
    ip_dst: str
    arp_ip: str
    tcp_dport: int | None
    udp_dport: int | None
    syn: bool
    ack: bool


def frame_table(pcap: Path) -> list[Frame]:
    """Every frame's addresses and ports, as tshark dissects them."""
    argv = ["tshark", "-n", "-r", str(pcap), "-T", "fields", "-E", "separator=\t"]
    for field in FIELDS:
        argv += ["-e", field]
    lines = run(argv, timeout=120, error=CheckError).stdout.splitlines()
    frames = []
    for line in lines:
        cells = (line.split("\t") + [""] * len(FIELDS))[: len(FIELDS)]
        # ICMP errors quote the offending header: tshark then lists two addresses.
        first = [cell.split(",")[0] for cell in cells]
        frames.append(
            Frame(
                number=int(first[0]),
                eth_src=first[1].lower(),
                eth_dst=first[2].lower(),
                ip_src=first[3],
                ip_dst=first[4],
                arp_ip=first[5],
                tcp_dport=int(first[6]) if first[6] else None,
                udp_dport=int(first[7]) if first[7] else None,
                syn=first[8] in ("1", "True"),
                ack=first[9] in ("1", "True"),
            )
        )
    return frames


def matching_frames(pcap: Path, display_filter: str) -> list[tuple[str, str]]:
    """(ip.src, ip.dst) of every frame matching a tshark display filter."""
    argv = ["tshark", "-n", "-r", str(pcap), "-Y", display_filter, "-T", "fields",
            "-e", "ip.src", "-e", "ip.dst"]  # fmt: skip
    result = run(argv, timeout=120, error=CheckError)
    pairs = []
    for line in result.stdout.splitlines():
        src, _, dst = line.partition("\t")
        pairs.append((src.split(",")[0], dst.split(",")[0]))
    return pairs


def payload_by_sender(pcap: Path) -> dict[str, bytes]:
    """The IPv4 payload bytes each source address sent, concatenated (classic pcap only)."""
    data = pcap.read_bytes()
    if len(data) < 24:
        raise CheckError(f"{pcap}: too short to be a pcap file")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise CheckError(f"{pcap}: not a classic pcap file (magic {magic.hex()})")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        raise CheckError(f"{pcap}: link type {linktype}, expected 1 (Ethernet)")
    sent: dict[str, bytearray] = defaultdict(bytearray)
    offset = 24
    while offset + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[offset + 8 : offset + 12])[0]
        frame = data[offset + 16 : offset + 16 + caplen]
        offset += 16 + caplen
        if len(frame) < 34 or frame[12:14] != b"\x08\x00":
            continue
        src = ".".join(str(octet) for octet in frame[26:30])
        sent[src] += frame[14:]
    return {src: bytes(blob) for src, blob in sent.items()}

"""Vectorised frame building: one 2-D uint8 array per group of same-length frames.

Each row is a ready pcap record: the 16-byte record header, Ethernet II,
IPv4 (20 bytes, DF set, checksum filled in) and TCP (20 bytes, no options)
or UDP (8 bytes), then the service payload. Header layouts: RFC 791 (IPv4),
RFC 9293 (TCP), RFC 768 (UDP), checksum arithmetic per RFC 1071.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from synthetic_services import TCP, Service

if TYPE_CHECKING:
    from conversation_capture import Network

Rows = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]

# Byte offsets inside a row (after the 16-byte pcap record header).
ETH, IP, L4 = 16, 30, 50
_FLAGS = {"syn": 0x02, "syn-ack": 0x12, "request": 0x18, "response": 0x18}
_ROLE_SALT = {"syn": 1, "syn-ack": 2, "request": 3, "response": 4}


@dataclass(frozen=True)
class FrameGroup:
    """Frames of one role of one service, one per conversation in `conv`."""

    service: Service
    role: str  # syn, syn-ack, request or response
    conv: I64  # conversation indices
    ts_us: I64  # timestamp of each frame

    @property
    def from_client(self) -> bool:
        return self.role in ("syn", "request")

    @property
    def payload(self) -> bytes:
        if self.role == "request":
            return self.service.request
        return self.service.response if self.role == "response" else b""

    @property
    def l4_len(self) -> int:
        return (20 if self.service.proto == TCP else 8) + len(self.payload)

    @property
    def frame_len(self) -> int:
        return 14 + 20 + self.l4_len


def _put(rows: Rows, col: int, values: npt.ArrayLike, dtype: str) -> None:
    """Store one fixed-width field per row at byte `col`, in the given byte order."""
    column = np.asarray(values).astype(dtype).reshape(-1, 1)
    rows[:, col : col + column.dtype.itemsize] = column.view(np.uint8)


def _checksum(rows: Rows, start: int, stop: int, extra: I64 | int = 0) -> npt.NDArray[np.uint16]:
    """RFC 1071 Internet checksum of bytes [start, stop) of every row, plus `extra`."""
    width = stop - start
    block = np.zeros((len(rows), width + width % 2), np.uint8)
    block[:, :width] = rows[:, start:stop]
    total: I64 = block.view(">u2").astype(np.int64).sum(axis=1) + extra
    for _ in range(3):
        total = (total & 0xFFFF) + (total >> 16)
    folded: npt.NDArray[np.uint16] = (~total & 0xFFFF).astype(np.uint16)
    return folded


def _template(group: FrameGroup) -> bytes:
    """The bytes every frame of the group shares; per-frame fields are zero."""
    n_frame = group.frame_len
    record = bytes(8) + n_frame.to_bytes(4, "little") * 2
    ethernet = bytes(12) + b"\x08\x00"
    ipv4 = (
        b"\x45\x00"
        + (20 + group.l4_len).to_bytes(2, "big")
        + bytes(2)
        + b"\x40\x00"  # don't fragment
        + bytes([0, group.service.proto])
        + bytes(10)
    )
    if group.service.proto == TCP:
        l4 = bytes(12) + bytes([0x50, _FLAGS[group.role]]) + bytes(6)
    else:
        l4 = bytes(4) + group.l4_len.to_bytes(2, "big") + bytes(2)
    return record + ethernet + ipv4 + l4 + group.payload


def _sequence_numbers(net: Network, group: FrameGroup) -> tuple[I64, I64]:
    conv = group.conv
    isn_c = net.isn_client[conv].astype(np.int64)
    isn_s = net.isn_server[conv].astype(np.int64)
    request = len(group.service.request)
    seq, ack = {
        "syn": (isn_c, np.zeros_like(isn_c)),
        "syn-ack": (isn_s, isn_c + 1),
        "request": (isn_c + 1, isn_s + 1),
        "response": (isn_s + 1, isn_c + 1 + request),
    }[group.role]
    return seq & 0xFFFFFFFF, ack & 0xFFFFFFFF


def build_group(net: Network, group: FrameGroup) -> Rows:
    """Return a (frames, 16 + frame_len) array of complete pcap records."""
    conv = group.conv
    n = len(conv)
    rows = np.empty((n, 16 + group.frame_len), np.uint8)
    rows[:] = np.frombuffer(_template(group), np.uint8)
    src = net.client[conv] if group.from_client else net.server[conv]
    dst = net.server[conv] if group.from_client else net.client[conv]
    _put(rows, 0, group.ts_us // 1_000_000, "<u4")
    _put(rows, 4, group.ts_us % 1_000_000, "<u4")
    rows[:, ETH : ETH + 6] = net.mac[dst].astype(">u8").reshape(-1, 1).view(np.uint8)[:, 2:]
    rows[:, ETH + 6 : ETH + 12] = net.mac[src].astype(">u8").reshape(-1, 1).view(np.uint8)[:, 2:]
    ip_id = (conv * 2_654_435_761 + _ROLE_SALT[group.role] * 40_503) & 0xFFFF
    _put(rows, IP + 4, ip_id, ">u2")
    rows[:, IP + 8] = net.ttl[src]
    src_ip, dst_ip = net.ip[src], net.ip[dst]
    _put(rows, IP + 12, src_ip, ">u4")
    _put(rows, IP + 16, dst_ip, ">u4")
    _put(rows, IP + 10, _checksum(rows, IP, IP + 20), ">u2")

    server_port = np.full(n, group.service.port)
    client_port = net.sport[conv]
    _put(rows, L4, client_port if group.from_client else server_port, ">u2")
    _put(rows, L4 + 2, server_port if group.from_client else client_port, ">u2")
    if group.service.proto == TCP:
        seq, ack = _sequence_numbers(net, group)
        _put(rows, L4 + 4, seq, ">u4")
        _put(rows, L4 + 8, ack, ">u4")
        _put(rows, L4 + 14, net.window[src], ">u2")
    pseudo = (
        (src_ip >> 16).astype(np.int64)
        + (src_ip & 0xFFFF)
        + (dst_ip >> 16)
        + (dst_ip & 0xFFFF)
        + group.service.proto
        + group.l4_len
    )
    checksum = _checksum(rows, L4, L4 + group.l4_len, pseudo)
    if group.service.proto != TCP:
        checksum[checksum == 0] = 0xFFFF  # zero means "no checksum" for UDP
    _put(rows, L4 + (16 if group.service.proto == TCP else 6), checksum, ">u2")
    return rows

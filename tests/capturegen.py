"""Writing small test captures byte for byte, so tests know every expected value.

Two halves:

* frames: Ethernet II (with 802.1Q / QinQ tags), 802.3 LLC and LLC/SNAP, ARP,
  IPv4 (and its fragments), IPv6 (extension headers, fragment header), TCP,
  UDP, ICMP and ICMPv6, plus the link-layer headers Linux cooked (SLL, SLL2)
  and BSD loopback (null, loop); raw IP is the IP packet itself.
* files: classic pcap (either byte order, micro- or nanosecond timestamps,
  any link type) and pcapng (SHB, IDB with options such as ``if_tsresol``,
  EPB, SPB and the obsolete OPB; several interfaces; either byte order).

Checksums are computed (RFC 1071) so that other tools read the frames too.
Timestamps go in as integer nanoseconds; a timestamp that the chosen format
cannot hold exactly is a ``ValueError``, never a silent rounding.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import Final, Literal

__all__ = [
    "NS",
    "Block",
    "Ethertype",
    "Extension",
    "Interface",
    "Linktype",
    "Packet",
    "Segment",
    "Tag",
    "TcpFlag",
    "arp",
    "destination_options",
    "enhanced_packet",
    "ethernet",
    "ethernet_llc",
    "ethernet_snap",
    "hop_by_hop",
    "icmp_echo",
    "icmpv6_echo",
    "interface_description",
    "ipv4",
    "ipv4_fragments",
    "ipv6",
    "ipv6_fragments",
    "loop",
    "mac",
    "null",
    "obsolete_packet",
    "pcap",
    "pcap_header",
    "pcap_record",
    "pcapng",
    "pcapng_block",
    "routing",
    "section_header",
    "simple_packet",
    "sll",
    "sll2",
    "tcp",
    "tcp_conversation",
    "udp",
]

NS: Final = 1_000_000_000
Block = Literal["epb", "spb", "opb"]


class Linktype(IntEnum):
    """LINKTYPE_* values (tcpdump.org link-layer header types)."""

    NULL = 0
    ETHERNET = 1
    RAW = 101
    LOOP = 108
    LINUX_SLL = 113
    IEEE802_15_4 = 195
    IPV4 = 228
    IPV6 = 229
    LINUX_SLL2 = 276


class Ethertype(IntEnum):
    """IEEE 802 ethertypes used in the tests."""

    IPV4 = 0x0800
    ARP = 0x0806
    VLAN = 0x8100
    IPV6 = 0x86DD
    PROFINET = 0x8892
    ETHERCAT = 0x88A4
    QINQ = 0x88A8
    POWERLINK = 0x88AB
    GOOSE = 0x88B8
    SV = 0x88BA
    LLDP = 0x88CC


class TcpFlag(IntFlag):
    """TCP header flags (RFC 9293 section 3.1)."""

    FIN = 0x01
    SYN = 0x02
    RST = 0x04
    PSH = 0x08
    ACK = 0x10


# --------------------------------------------------------------------------
# addresses and checksums


def mac(text: str) -> bytes:
    """6 bytes from '02:00:00:00:00:01'."""
    raw = bytes.fromhex(text.replace(":", ""))
    if len(raw) != 6:
        raise ValueError(f"not a MAC address: {text!r}")
    return raw


def _ip(text: str) -> bytes:
    return ipaddress.ip_address(text).packed


def _checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


# --------------------------------------------------------------------------
# transport


@dataclass(frozen=True, slots=True)
class Segment:
    """A transport header and payload, checksum not yet filled in."""

    proto: int
    header: bytes
    payload: bytes
    checksum_at: int
    pseudo_header: bool = True  # ICMPv4 sums the message alone

    def packed(self, src: bytes, dst: bytes) -> bytes:
        """Header and payload with the checksum for this address pair."""
        body = self.header + self.payload
        pseudo = b""
        if self.pseudo_header and len(src) == 4:
            pseudo = src + dst + struct.pack("!BBH", 0, self.proto, len(body))
        elif self.pseudo_header:
            pseudo = src + dst + struct.pack("!I3xB", len(body), self.proto)
        value = _checksum(pseudo + body)
        if self.proto == 17 and value == 0:
            value = 0xFFFF  # RFC 768: a computed zero is sent as all ones
        at = self.checksum_at
        return body[:at] + struct.pack("!H", value) + body[at + 2 :]


def tcp(
    sport: int,
    dport: int,
    flags: TcpFlag = TcpFlag.ACK,
    payload: bytes = b"",
    seq: int = 0,
    ack: int = 0,
    window: int = 8192,
) -> Segment:
    """A TCP segment without options (RFC 9293 section 3.1)."""
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, int(flags), window, 0, 0)
    return Segment(6, header, payload, 16)


def udp(sport: int, dport: int, payload: bytes = b"") -> Segment:
    """A UDP datagram (RFC 768)."""
    return Segment(17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0), payload, 6)


def icmp_echo(ident: int, seq: int, payload: bytes = b"", reply: bool = False) -> Segment:
    """ICMP echo request (type 8) or reply (type 0), RFC 792."""
    header = struct.pack("!BBHHH", 0 if reply else 8, 0, 0, ident, seq)
    return Segment(1, header, payload, 2, pseudo_header=False)


def icmpv6_echo(ident: int, seq: int, payload: bytes = b"", reply: bool = False) -> Segment:
    """ICMPv6 echo request (128) or reply (129), RFC 4443 section 4."""
    header = struct.pack("!BBHHH", 129 if reply else 128, 0, 0, ident, seq)
    return Segment(58, header, payload, 2)


# --------------------------------------------------------------------------
# IPv4 (RFC 791)


def _ipv4_header(
    src: bytes, dst: bytes, proto: int, length: int, ident: int, flags_offset: int
) -> bytes:
    header = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + length, ident, flags_offset, 64, proto, 0, src, dst
    )
    return header[:10] + struct.pack("!H", _checksum(header)) + header[12:]


def ipv4(src: str, dst: str, segment: Segment, ident: int = 1) -> bytes:
    """A whole (unfragmented) IPv4 packet carrying ``segment``."""
    s, d = _ip(src), _ip(dst)
    body = segment.packed(s, d)
    return _ipv4_header(s, d, segment.proto, len(body), ident, 0) + body


def ipv4_fragments(src: str, dst: str, segment: Segment, ident: int, size: int) -> list[bytes]:
    """``segment`` split into IPv4 fragments of ``size`` data bytes (a multiple
    of 8), first fragment first."""
    if size % 8:
        raise ValueError("fragment data size must be a multiple of 8")
    s, d = _ip(src), _ip(dst)
    body = segment.packed(s, d)
    packets = []
    for start in range(0, len(body), size):
        more = 0x2000 if start + size < len(body) else 0
        part = body[start : start + size]
        packets.append(
            _ipv4_header(s, d, segment.proto, len(part), ident, more | start // 8) + part
        )
    return packets


# --------------------------------------------------------------------------
# IPv6 (RFC 8200)


@dataclass(frozen=True, slots=True)
class Extension:
    """An IPv6 extension header in the common format: next header, length in
    8-octet units beyond the first, then ``data`` (6 + 8n bytes)."""

    kind: int
    data: bytes

    def packed(self, next_header: int) -> bytes:
        if (len(self.data) + 2) % 8:
            raise ValueError("extension header data must be 6 + 8n bytes")
        return bytes([next_header, (len(self.data) + 2) // 8 - 1]) + self.data


_PADN_4: Final = b"\x01\x04\0\0\0\0"  # a PadN option filling 6 bytes


def hop_by_hop(data: bytes = _PADN_4) -> Extension:
    """A Hop-by-Hop Options header (RFC 8200 4.3)."""
    return Extension(0, data)


def destination_options(data: bytes = _PADN_4) -> Extension:
    """A Destination Options header (RFC 8200 4.6)."""
    return Extension(60, data)


def routing(addresses: Sequence[str], routing_type: int = 0, segments_left: int = 0) -> Extension:
    """A routing header listing ``addresses`` (type 0 layout, RFC 2460 4.4)."""
    data = struct.pack("!BB4x", routing_type, segments_left)
    return Extension(43, data + b"".join(_ip(a) for a in addresses))


def _chain(extensions: Sequence[Extension], last: int) -> bytes:
    """The headers, each naming the next one; the last one names ``last``."""
    following = [e.kind for e in extensions[1:]] + [last]
    return b"".join(
        e.packed(n) for e, n in zip(extensions, following[: len(extensions)], strict=True)
    )


def _ipv6_header(src: bytes, dst: bytes, next_header: int, length: int) -> bytes:
    return struct.pack("!IHBB16s16s", 6 << 28, length, next_header, 64, src, dst)


def ipv6(src: str, dst: str, segment: Segment, extensions: Sequence[Extension] = ()) -> bytes:
    """An IPv6 packet: header, ``extensions`` in order, then ``segment``."""
    s, d = _ip(src), _ip(dst)
    rest = _chain(extensions, segment.proto) + segment.packed(s, d)
    first = extensions[0].kind if extensions else segment.proto
    return _ipv6_header(s, d, first, len(rest)) + rest


def ipv6_fragments(
    src: str,
    dst: str,
    segment: Segment,
    ident: int,
    size: int,
    extensions: Sequence[Extension] = (),
    fragmentable: Sequence[Extension] = (),
) -> list[bytes]:
    """``segment`` in IPv6 fragments of ``size`` bytes (RFC 8200 section 4.5):
    ``extensions`` go unfragmented before the fragment header, ``fragmentable``
    ones (destination options) are part of the fragmented data."""
    if size % 8:
        raise ValueError("fragment data size must be a multiple of 8")
    s, d = _ip(src), _ip(dst)
    data = _chain(fragmentable, segment.proto) + segment.packed(s, d)
    inner = fragmentable[0].kind if fragmentable else segment.proto
    front = _chain(extensions, 44)
    first = extensions[0].kind if extensions else 44
    packets = []
    for start in range(0, len(data), size):
        more = 1 if start + size < len(data) else 0
        part = data[start : start + size]
        fragment = struct.pack("!BBHI", inner, 0, start | more, ident)
        rest = front + fragment + part
        packets.append(_ipv6_header(s, d, first, len(rest)) + rest)
    return packets


# --------------------------------------------------------------------------
# layer 2


def arp(op: int, sender_mac: str, sender_ip: str, target_mac: str, target_ip: str) -> bytes:
    """An Ethernet/IPv4 ARP message (RFC 826); op 1 request, 2 reply."""
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + (
        mac(sender_mac) + _ip(sender_ip) + mac(target_mac) + _ip(target_ip)
    )


@dataclass(frozen=True, slots=True)
class Tag:
    """One 802.1Q tag: TPID 0x8100, or 0x88a8 for an 802.1ad service tag."""

    vid: int
    tpid: int = Ethertype.VLAN
    pcp: int = 0

    def control(self) -> bytes:
        """The tag control information: priority and VLAN id."""
        return struct.pack("!H", self.pcp << 13 | self.vid)


def _pad(frame: bytes) -> bytes:
    """Ethernet's 60-byte minimum (without FCS)."""
    return frame + bytes(max(0, 60 - len(frame)))


def ethernet(dst: str, src: str, ethertype: int, payload: bytes, tags: Sequence[Tag] = ()) -> bytes:
    """An Ethernet II frame, outermost tag first, padded to 60 bytes."""
    types = [t.tpid for t in tags] + [ethertype]
    middle = struct.pack("!H", types[0])
    for tag, following in zip(tags, types[1:], strict=True):
        middle += tag.control() + struct.pack("!H", following)
    return _pad(mac(dst) + mac(src) + middle + payload)


def ethernet_llc(dst: str, src: str, dsap: int, ssap: int, control: int, payload: bytes) -> bytes:
    """An IEEE 802.3 frame with an 802.2 LLC header (length, not ethertype)."""
    llc = bytes([dsap, ssap, control]) + payload
    return _pad(mac(dst) + mac(src) + struct.pack("!H", len(llc)) + llc)


def ethernet_snap(
    dst: str, src: str, ethertype: int, payload: bytes, oui: bytes = b"\0\0\0"
) -> bytes:
    """An 802.3 frame with LLC/SNAP (AA AA 03, OUI, ethertype), RFC 1042."""
    return ethernet_llc(dst, src, 0xAA, 0xAA, 0x03, oui + struct.pack("!H", ethertype) + payload)


def sll(protocol: int, payload: bytes, source: str, packet_type: int = 0) -> bytes:
    """LINKTYPE_LINUX_SLL header (16 bytes) for an Ethernet device."""
    address = mac(source) + b"\0\0"
    return struct.pack("!HHH8sH", packet_type, 1, 6, address, protocol) + payload


def sll2(
    protocol: int, payload: bytes, source: str, ifindex: int = 2, packet_type: int = 0
) -> bytes:
    """LINKTYPE_LINUX_SLL2 header (20 bytes) for an Ethernet device."""
    address = mac(source) + b"\0\0"
    return struct.pack("!HHIHBB8s", protocol, 0, ifindex, 1, packet_type, 6, address) + payload


def null(family: int, payload: bytes, big_endian: bool = False) -> bytes:
    """LINKTYPE_NULL: a 4-byte address family in the writing host's byte order
    (2 IPv4; 24, 28 or 30 IPv6 on the BSDs and macOS)."""
    return struct.pack(">I" if big_endian else "<I", family) + payload


def loop(family: int, payload: bytes) -> bytes:
    """LINKTYPE_LOOP (OpenBSD): the address family in network byte order."""
    return struct.pack(">I", family) + payload


# --------------------------------------------------------------------------
# capture files


@dataclass(frozen=True, slots=True)
class Packet:
    """One captured frame: when, its captured bytes, and its length on the wire."""

    ts_ns: int
    data: bytes
    wire_len: int | None = None  # None: the whole frame was captured
    interface: int = 0
    block: Block = "epb"  # the pcapng block that carries it

    @property
    def length(self) -> int:
        return len(self.data) if self.wire_len is None else self.wire_len


def pcap_header(
    linktype: int, big_endian: bool = False, nano: bool = False, snaplen: int = 65535
) -> bytes:
    """The 24-byte classic pcap file header."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    order = ">" if big_endian else "<"
    return struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)


def pcap_record(
    packet: Packet, big_endian: bool = False, nano: bool = False, caplen: int | None = None
) -> bytes:
    """One record header plus data; ``caplen`` overrides the length field."""
    seconds, rest = divmod(packet.ts_ns, NS)
    if not nano and rest % 1000:
        raise ValueError(f"{packet.ts_ns} ns is not a whole microsecond")
    frac = rest if nano else rest // 1000
    length = len(packet.data) if caplen is None else caplen
    order = ">" if big_endian else "<"
    return struct.pack(order + "IIII", seconds, frac, length, packet.length) + packet.data


def pcap(
    packets: Sequence[Packet],
    linktype: int = Linktype.ETHERNET,
    big_endian: bool = False,
    nano: bool = False,
    snaplen: int = 65535,
) -> bytes:
    """A whole classic pcap file."""
    records = b"".join(pcap_record(p, big_endian, nano) for p in packets)
    return pcap_header(linktype, big_endian, nano, snaplen) + records


def tcp_conversation(
    client: str,
    server: str,
    server_port: int,
    flows: Sequence[tuple[bool, bytes]],
    cut: int = 0,
) -> bytes:
    """An Ethernet pcap of one TCP conversation without its handshake:
    ``(to_server, payload)`` segments in order, from client port 49152, one
    per second; ``cut`` splits every payload longer than it in two segments."""
    seq = {True: 1000, False: 5000}
    packets: list[Packet] = []
    for to_server, payload in flows:
        pieces = [payload[:cut], payload[cut:]] if cut and len(payload) > cut else [payload]
        for piece in pieces:
            src, dst = (client, server) if to_server else (server, client)
            sport, dport = (49152, server_port) if to_server else (server_port, 49152)
            segment = tcp(sport, dport, TcpFlag.ACK | TcpFlag.PSH, piece, seq=seq[to_server])
            seq[to_server] += len(piece)
            frame = ethernet(
                "02:00:00:00:00:02", "02:00:00:00:00:01", Ethertype.IPV4, ipv4(src, dst, segment)
            )
            packets.append(Packet(len(packets) * NS, frame))
    return pcap(packets)


@dataclass(frozen=True, slots=True)
class Interface:
    """A pcapng interface; ``tsresol`` is the raw ``if_tsresol`` byte
    (n: 10^-n s; 0x80|n: 2^-n s), None for no option (microseconds)."""

    linktype: int
    snaplen: int = 0
    tsresol: int | None = None
    name: str | None = None
    tsoffset: int | None = None  # if_tsoffset: seconds added to every timestamp

    def units(self, ts_ns: int) -> int:
        """The timestamp in this interface's units, which must be exact."""
        ts_ns -= (self.tsoffset or 0) * NS
        if self.tsresol is not None and self.tsresol & 0x80:
            scaled, left = divmod(ts_ns << (self.tsresol & 0x7F), NS)
        else:
            exponent = 6 if self.tsresol is None else self.tsresol
            scaled, left = divmod(ts_ns * 10**exponent, NS)
        if left:
            raise ValueError(f"{ts_ns} ns is not a whole unit of if_tsresol {self.tsresol}")
        return scaled


def pcapng_block(btype: int, body: bytes, big_endian: bool = False) -> bytes:
    """A block: type, total length, body padded to 32 bits, total length."""
    body += bytes(-len(body) % 4)
    order = ">" if big_endian else "<"
    total = struct.pack(order + "I", len(body) + 12)
    return struct.pack(order + "I", btype) + total + body + total


def _options(items: Sequence[tuple[int, bytes]], big_endian: bool) -> bytes:
    if not items:
        return b""
    order = ">" if big_endian else "<"
    out = b""
    for code, value in items:
        out += struct.pack(order + "HH", code, len(value)) + value + bytes(-len(value) % 4)
    return out + bytes(4)  # opt_endofopt


def section_header(big_endian: bool = False, section_length: int = -1) -> bytes:
    """A Section Header Block, version 1.0, no options (pcapng 4.1)."""
    order = ">" if big_endian else "<"
    body = struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, section_length)
    return pcapng_block(0x0A0D0D0A, body, big_endian)


def interface_description(interface: Interface, big_endian: bool = False) -> bytes:
    """An Interface Description Block with if_name, if_tsresol, if_tsoffset when set
    (pcapng 4.2)."""
    options: list[tuple[int, bytes]] = []
    if interface.name is not None:
        options.append((2, interface.name.encode()))
    if interface.tsresol is not None:
        options.append((9, bytes([interface.tsresol])))
    if interface.tsoffset is not None:
        options.append((14, struct.pack((">" if big_endian else "<") + "q", interface.tsoffset)))
    order = ">" if big_endian else "<"
    body = struct.pack(order + "HHI", interface.linktype, 0, interface.snaplen)
    return pcapng_block(1, body + _options(options, big_endian), big_endian)


def enhanced_packet(packet: Packet, units: int, big_endian: bool = False) -> bytes:
    """An Enhanced Packet Block; ``units`` is the timestamp in if_tsresol units (pcapng 4.3)."""
    order = ">" if big_endian else "<"
    head = struct.pack(
        order + "IIIII",
        packet.interface,
        units >> 32,
        units & 0xFFFFFFFF,
        len(packet.data),
        packet.length,
    )
    return pcapng_block(6, head + packet.data, big_endian)


def obsolete_packet(packet: Packet, units: int, big_endian: bool = False) -> bytes:
    """The obsolete Packet Block: 16-bit interface id and drops count (pcapng appendix A)."""
    order = ">" if big_endian else "<"
    head = struct.pack(
        order + "HHIIII",
        packet.interface,
        0,
        units >> 32,
        units & 0xFFFFFFFF,
        len(packet.data),
        packet.length,
    )
    return pcapng_block(2, head + packet.data, big_endian)


def simple_packet(packet: Packet, big_endian: bool = False) -> bytes:
    """A Simple Packet Block: wire length and data, no timestamp (pcapng 4.4)."""
    order = ">" if big_endian else "<"
    return pcapng_block(3, struct.pack(order + "I", packet.length) + packet.data, big_endian)


def pcapng(
    interfaces: Sequence[Interface], packets: Sequence[Packet], big_endian: bool = False
) -> bytes:
    """One pcapng section: SHB, one IDB per interface, then the packets."""
    out = section_header(big_endian)
    out += b"".join(interface_description(i, big_endian) for i in interfaces)
    for packet in packets:
        units = interfaces[packet.interface].units(packet.ts_ns)
        if packet.block == "spb":
            out += simple_packet(packet, big_endian)
        elif packet.block == "opb":
            out += obsolete_packet(packet, units, big_endian)
        else:
            out += enhanced_packet(packet, units, big_endian)
    return out

"""The "many-conversations" capture: a large synthetic plant network, built with numpy.

Hosts sit in /24 subnets of 10.0.0.0/8 and 172.16.0.0/12 with vendor MACs.
Each conversation is one short exchange of a service from `SERVICES`: TCP
gets SYN, SYN-ACK, a request and a response (both PSH-ACK); UDP gets a
request and a response. Servers are drawn with a heavy skew (a few PLCs and
historians talk to many clients), clients uniformly, and every host is used.
Conversations are distinct 5-tuples in either direction. Headers carry
correct lengths and checksums; the output is deterministic for a seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pcap_records import write_pcap_header
from replay_capture import EPOCH_US
from synthetic_frames import FrameGroup, build_group
from synthetic_services import SERVICES, TCP

U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]

HOSTS_PER_SUBNET = 150
# Real vendor OUIs: Siemens, Rockwell, Schneider, Phoenix Contact, Beckhoff,
# Moxa, Hirschmann, Cisco, Dell, Intel, VMware, Microsoft Hyper-V.
OUIS = np.array(
    [
        *(0x001B1B, 0x000E8C, 0x0000BC, 0x5C8816, 0x0080F4, 0x00A045, 0x000105),
        *(0x0090E8, 0x008063, 0x00000C, 0x001422, 0x001B21, 0x005056, 0x00155D),
    ],
    dtype=np.uint64,
)
TCP_ROLES = ("syn", "syn-ack", "request", "response")
UDP_ROLES = ("request", "response")
SCATTER_ROWS = 1 << 16


@dataclass(frozen=True)
class Network:
    """Hosts (indexed 0..n-1) and the conversations between them."""

    ip: U32
    mac: npt.NDArray[np.uint64]
    ttl: npt.NDArray[np.uint8]
    window: npt.NDArray[np.uint16]
    client: I64
    server: I64
    sport: I64
    service: I64
    start_us: I64
    rtt_us: I64
    think_us: I64
    isn_client: U32
    isn_server: U32


@dataclass(frozen=True)
class ConversationStats:
    packets: int
    bytes: int
    hosts: int
    conversations: int
    tcp_conversations: int
    udp_conversations: int


def _host_addresses(rng: np.random.Generator, n_hosts: int) -> U32:
    """Distinct addresses, 150 per /24, 70 % of subnets in 10/8 and 30 % in 172.16/12."""
    n_subnets = -(-n_hosts // HOSTS_PER_SUBNET)
    n_ten = (n_subnets * 7) // 10
    ten = 0x0A0000 + rng.choice(1 << 16, n_ten, replace=False)
    private = 0xAC1000 + rng.choice(1 << 12, n_subnets - n_ten, replace=False)
    prefixes = rng.permutation(np.concatenate([ten, private]).astype(np.uint32))
    # Host numbers .10 to .249, a different random pick in every subnet.
    octets = np.argsort(rng.random((n_subnets, 240)), axis=1)[:, :HOSTS_PER_SUBNET] + 10
    addresses = (prefixes[:, None] << np.uint32(8)) | octets.astype(np.uint32)
    return addresses.reshape(-1)[:n_hosts]


def build_network(n_conversations: int, n_hosts: int, seed: int) -> Network:
    """Draw hosts and conversations; the result depends only on the arguments."""
    if n_hosts < 2 or n_conversations < n_hosts:
        raise ValueError("need at least two hosts and as many conversations as hosts")
    rng = np.random.default_rng(seed)
    ip = _host_addresses(rng, n_hosts)
    nic = rng.choice(1 << 24, n_hosts, replace=False).astype(np.uint64)
    mac = (rng.choice(OUIS, n_hosts) << np.uint64(24)) | nic
    ttl = rng.choice(np.array([64, 128, 255], np.uint8), n_hosts, p=[0.5, 0.4, 0.1])
    window = rng.choice(np.array([64240, 65535, 8192, 29200], np.uint16), n_hosts)

    draw = n_conversations + n_conversations // 50 + 16  # room for duplicates
    client = rng.integers(0, n_hosts, draw)
    client[:n_hosts] = rng.permutation(n_hosts)  # every host takes part
    n_servers = max(2, n_hosts // 5)
    server = (n_servers * rng.random(draw) ** 3).astype(np.int64)
    server = np.where(server == client, (server + 1) % n_servers, server)
    sport = rng.integers(32768, 61000, draw)
    weights = np.array([s.weight for s in SERVICES])
    service = rng.choice(len(SERVICES), draw, p=weights / weights.sum())
    keep = _first_distinct(ip, client, server, sport, service)[:n_conversations]
    if len(keep) < n_conversations:
        raise RuntimeError("not enough distinct conversations drawn; raise the oversampling")
    client, server, sport, service = client[keep], server[keep], sport[keep], service[keep]

    n = n_conversations
    duration_us = n * 3_600  # one hour per million conversations
    return Network(
        ip=ip,
        mac=mac,
        ttl=ttl,
        window=window,
        client=client,
        server=server,
        sport=sport,
        service=service,
        start_us=EPOCH_US + np.sort(rng.integers(0, duration_us, n)),
        rtt_us=np.clip(rng.lognormal(np.log(400), 1.0, n), 50, 50_000).astype(np.int64),
        think_us=np.clip(rng.lognormal(np.log(2_000), 1.0, n), 100, 200_000).astype(np.int64),
        isn_client=rng.integers(0, 1 << 32, n, dtype=np.uint32),
        isn_server=rng.integers(0, 1 << 32, n, dtype=np.uint32),
    )


def _first_distinct(ip: U32, client: I64, server: I64, sport: I64, service: I64) -> I64:
    """Indices of the first draw of every distinct 5-tuple, direction ignored."""
    proto = np.array([s.proto for s in SERVICES])[service]
    dport = np.array([s.port for s in SERVICES])[service]
    a = (ip[client].astype(np.int64) << 16) | sport
    b = (ip[server].astype(np.int64) << 16) | dport
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keys = np.stack([lo, hi, proto]).T.copy()
    _, first = np.unique(keys, axis=0, return_index=True)
    return np.sort(first)


def plan_groups(net: Network) -> list[FrameGroup]:
    """One group per (service, role): rows of identical length, in conversation order."""
    groups: list[FrameGroup] = []
    for index, svc in enumerate(SERVICES):
        conv = np.flatnonzero(net.service == index)
        roles = TCP_ROLES if svc.proto == TCP else UDP_ROLES
        for role in roles:
            groups.append(FrameGroup(svc, role, conv, _role_time(net, conv, role, svc.proto)))
    return groups


def _role_time(net: Network, conv: I64, role: str, proto: int) -> I64:
    start, rtt, think = net.start_us[conv], net.rtt_us[conv], net.think_us[conv]
    if proto != TCP:
        return start if role == "request" else start + rtt + think
    offsets: dict[str, I64] = {
        "syn": np.zeros_like(start),
        "syn-ack": rtt,
        "request": rtt + 20,  # the client's ACK carries the request
        "response": 2 * rtt + 20 + think,
    }
    return start + offsets[role]


def write_conversations(net: Network, out_path: Path) -> ConversationStats:
    """Build every frame, lay them out in timestamp order and write one pcap file."""
    groups = plan_groups(net)
    stamps = np.concatenate([g.ts_us for g in groups])
    lengths = np.concatenate([np.full(len(g.conv), 16 + g.frame_len, np.int64) for g in groups])
    order = np.argsort(stamps, kind="stable")
    dest = np.empty_like(lengths)
    dest[order] = np.concatenate([[0], np.cumsum(lengths[order])[:-1]])
    out = np.empty(int(lengths.sum()), np.uint8)
    first = 0
    for group in groups:
        rows = build_group(net, group)
        columns = np.arange(rows.shape[1], dtype=np.int64)
        for lo in range(0, len(rows), SCATTER_ROWS):
            chunk = rows[lo : lo + SCATTER_ROWS]
            where = dest[first + lo : first + lo + len(chunk)]
            out[where[:, None] + columns] = chunk
        first += len(rows)
    with open(out_path, "wb") as f:
        write_pcap_header(f)
        f.write(out.data)
    tcp = int(np.isin(net.service, [i for i, s in enumerate(SERVICES) if s.proto == TCP]).sum())
    used = np.union1d(net.client, net.server)
    return ConversationStats(
        packets=len(stamps),
        bytes=24 + len(out),
        hosts=len(used),
        conversations=len(net.client),
        tcp_conversations=tcp,
        udp_conversations=len(net.client) - tcp,
    )

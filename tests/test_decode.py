"""Frame decoding: layer 2 to layer 4, conversations, stations, bindings and
the assets derived from them, each from a capture built in the test.

Every expected value is computed from the frames written here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, select
from sqlalchemy.engine import Engine

from otseam.ingest import ingest
from otseam.store.database import open_store
from otseam.store.schema import bindings, captures, conversations, stations
from tests.capturegen import (
    NS,
    Ethertype,
    Extension,
    Packet,
    Segment,
    Tag,
    TcpFlag,
    arp,
    destination_options,
    ethernet,
    ethernet_llc,
    ethernet_snap,
    hop_by_hop,
    icmp_echo,
    icmpv6_echo,
    ipv4,
    ipv4_fragments,
    ipv6,
    ipv6_fragments,
    pcap,
    routing,
    tcp,
    udp,
)
from tests.conftest import run_cli

T0 = 1_700_000_000 * NS
MAC_A, MAC_B, MAC_C = "02:00:00:00:00:0a", "02:00:00:00:00:0b", "02:00:00:00:00:0c"
BROADCAST = "ff:ff:ff:ff:ff:ff"
SYN, ACK, PSH, FIN = TcpFlag.SYN, TcpFlag.ACK, TcpFlag.PSH, TcpFlag.FIN


# --------------------------------------------------------------------------
# helpers


def timed(frames: Sequence[bytes], step_ns: int = 1_000) -> list[Packet]:
    """The frames one ``step_ns`` apart, starting at T0."""
    return [Packet(T0 + i * step_ns, f) for i, f in enumerate(frames)]


def ingest_packets(tmp_path: Path, packets: Sequence[Packet]) -> Engine:
    """Ingest one nanosecond pcap of ``packets``; the ingest must be clean."""
    path = tmp_path / "capture.pcap"
    path.write_bytes(pcap(packets, nano=True))
    engine = open_store(str(tmp_path / "store.db"))
    report = ingest([str(path)], engine)
    assert [str(p) for p in report.all_problems] == []
    assert [o.status for o in report.outcomes] == ["ingested"]
    return engine


def table_rows(engine: Engine, table: Table) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(table).order_by(table.c.id))
        return [{k: v for k, v in r._mapping.items() if k != "id"} for r in rows]


def by_pair(engine: Engine) -> dict[tuple[str, int, str, int], dict[str, Any]]:
    """Conversations keyed by (a, a_port, b, b_port)."""
    return {
        (c["a"], c["a_port"], c["b"], c["b_port"]): c for c in table_rows(engine, conversations)
    }


def station_rows(engine: Engine) -> dict[str, dict[str, Any]]:
    return {s.pop("mac"): s for s in table_rows(engine, stations)}


def binding_rows(engine: Engine) -> set[tuple[str, str, int, int, int]]:
    """(ip, mac, vlan, packets, sources) of every binding."""
    return {
        (b["ip"], b["mac"], b["vlan"], b["packets"], b["sources"])
        for b in table_rows(engine, bindings)
    }


def eth4(
    src_mac: str, dst_mac: str, src: str, dst: str, segment: Segment, tags: Sequence[Tag] = ()
) -> bytes:
    return ethernet(dst_mac, src_mac, Ethertype.IPV4, ipv4(src, dst, segment), tags)


def eth6(src_mac: str, dst_mac: str, packet: bytes) -> bytes:
    return ethernet(dst_mac, src_mac, Ethertype.IPV6, packet)


# --------------------------------------------------------------------------
# conversations


def test_tcp_conversation_both_directions(tmp_path: Path) -> None:
    """The client (10.0.0.20) is side b, since 10.0.0.10 sorts first; it sent
    the SYN, so it is the initiator. Bytes are wire lengths; the last record
    is out of time order, so first/last seen are min/max, not capture order."""
    server, client = ("10.0.0.10", 2404), ("10.0.0.20", 51000)

    def seg(frm: tuple[str, int], flags: TcpFlag, payload: bytes = b"") -> bytes:
        to = server if frm == client else client
        src_mac, dst_mac = (MAC_B, MAC_A) if frm == client else (MAC_A, MAC_B)
        return eth4(src_mac, dst_mac, frm[0], to[0], tcp(frm[1], to[1], flags, payload))

    frames = [
        seg(client, SYN),
        seg(server, SYN | ACK),
        seg(client, ACK),
        seg(client, PSH | ACK, bytes(200)),
        seg(server, PSH | ACK, bytes(300)),
        seg(client, FIN | ACK),
    ]
    times = [T0 + 10, T0 + 20, T0 + 30, T0 + 40, T0 + 50, T0 + 5]
    packets = [Packet(t, f) for t, f in zip(times, frames, strict=True)]
    engine = ingest_packets(tmp_path, packets)
    from_client = [frames[i] for i in (0, 2, 3, 5)]
    from_server = [frames[i] for i in (1, 4)]
    assert table_rows(engine, conversations) == [
        {
            "transport": "tcp",
            "a": server[0],
            "a_port": server[1],
            "b": client[0],
            "b_port": client[1],
            "a_to_b_packets": 2,
            "b_to_a_packets": 4,
            "a_to_b_bytes": sum(len(f) for f in from_server),
            "b_to_a_bytes": sum(len(f) for f in from_client),
            "first_seen": T0 + 5,
            "last_seen": T0 + 50,
            "initiator": "b",
            "a_tcp_flags": int(SYN | ACK | PSH),
            "b_tcp_flags": int(SYN | ACK | PSH | FIN),
            "app_protocol": "iec104",
            "vlan": 0,
        }
    ]


@pytest.mark.parametrize(
    ("transport", "low", "high", "initiator", "app"),
    [
        # Without a SYN the initiator is the side not on a service port.
        ("tcp", ("10.0.0.5", 502), ("10.0.0.6", 49152), "b", "modbus"),
        ("tcp", ("10.0.0.5", 49152), ("10.0.0.6", 102), "a", "s7comm"),
        ("udp", ("10.0.0.1", 53000), ("10.0.0.2", 53), "a", "dns"),
        ("udp", ("10.0.0.1", 47808), ("10.0.0.2", 50000), "b", "bacnet"),
        # Both or neither on a service port: nobody can tell.
        ("udp", ("10.0.0.1", 123), ("10.0.0.2", 123), None, "ntp"),
        ("udp", ("10.0.0.1", 40000), ("10.0.0.2", 50000), None, None),
    ],
)
def test_initiator_from_service_ports(
    tmp_path: Path,
    transport: str,
    low: tuple[str, int],
    high: tuple[str, int],
    initiator: str | None,
    app: str | None,
) -> None:
    def segment(sport: int, dport: int) -> Segment:
        return tcp(sport, dport, ACK) if transport == "tcp" else udp(sport, dport, b"q")

    frames = [
        eth4(MAC_A, MAC_B, low[0], high[0], segment(low[1], high[1])),
        eth4(MAC_B, MAC_A, high[0], low[0], segment(high[1], low[1])),
    ]
    engine = ingest_packets(tmp_path, timed(frames))
    [conv] = table_rows(engine, conversations)
    assert (conv["transport"], conv["a"], conv["a_port"], conv["b"], conv["b_port"]) == (
        transport,
        low[0],
        low[1],
        high[0],
        high[1],
    )
    assert (conv["initiator"], conv["app_protocol"]) == (initiator, app)
    assert (conv["a_to_b_packets"], conv["b_to_a_packets"]) == (1, 1)


def test_icmp_and_icmpv6_conversations(tmp_path: Path) -> None:
    frames = [
        eth4(MAC_A, MAC_B, "10.0.0.1", "10.0.0.2", icmp_echo(7, 1, b"ping")),
        eth4(MAC_B, MAC_A, "10.0.0.2", "10.0.0.1", icmp_echo(7, 1, b"ping", reply=True)),
        eth6(MAC_A, MAC_B, ipv6("fe80::a", "fe80::b", icmpv6_echo(9, 1))),
        eth6(MAC_B, MAC_A, ipv6("fe80::b", "fe80::a", icmpv6_echo(9, 1, reply=True))),
        eth6(MAC_B, MAC_A, ipv6("fe80::b", "fe80::a", icmpv6_echo(9, 2, reply=True))),
    ]
    engine = ingest_packets(tmp_path, timed(frames))
    got = {
        c["transport"]: (
            c["a"],
            c["b"],
            c["a_port"],
            c["b_port"],
            c["a_to_b_packets"],
            c["b_to_a_packets"],
            c["a_to_b_bytes"],
            c["initiator"],
        )
        for c in table_rows(engine, conversations)
    }
    assert got == {
        "icmp": ("10.0.0.1", "10.0.0.2", 0, 0, 1, 1, len(frames[0]), None),
        "icmp6": ("fe80::a", "fe80::b", 0, 0, 1, 2, len(frames[2]), None),
    }
    counters = json.loads(table_rows(engine, captures)[0]["counters"])
    assert (counters["icmp"], counters["ipv4"], counters["ipv6"]) == (5, 2, 3)


# --------------------------------------------------------------------------
# layer 2: VLANs, LLC/SNAP, ARP, industrial ethertypes


@pytest.mark.parametrize(
    ("tags", "vlan"),
    [
        ([Tag(42)], 42),
        ([Tag(100, Ethertype.QINQ), Tag(200)], 200),  # 802.1ad: the inner (customer) tag
        ([Tag(100, 0x9100), Tag(300, pcp=5)], 300),
    ],
    ids=["802.1Q", "QinQ-88a8", "QinQ-9100"],
)
def test_vlan_is_recorded(tmp_path: Path, tags: list[Tag], vlan: int) -> None:
    frames = [
        eth4(MAC_A, MAC_B, "10.1.0.1", "10.1.0.2", udp(1000, 161, b"get"), tags),
        eth4(MAC_B, MAC_A, "10.1.0.2", "10.1.0.1", udp(161, 1000, b"response"), tags),
    ]
    engine = ingest_packets(tmp_path, timed(frames))
    [conv] = table_rows(engine, conversations)
    assert (conv["vlan"], conv["a_to_b_bytes"], conv["b_to_a_bytes"]) == (
        vlan,
        len(frames[0]),
        len(frames[1]),
    )
    assert {mac: s["vlan"] for mac, s in station_rows(engine).items()} == {MAC_A: vlan, MAC_B: vlan}
    assert binding_rows(engine) == {
        ("10.1.0.1", MAC_A, vlan, 1, 1),
        ("10.1.0.2", MAC_B, vlan, 1, 1),
    }
    counters = json.loads(table_rows(engine, captures)[0]["counters"])
    assert counters["vlan_tagged"] == 2


def test_llc_snap_and_plain_llc(tmp_path: Path) -> None:
    """IPv4 and ARP inside LLC/SNAP are decoded; a plain LLC frame (spanning
    tree) counts for its sender's station only."""
    snap_ip = ethernet_snap(
        MAC_B, MAC_A, Ethertype.IPV4, ipv4("10.2.0.1", "10.2.0.2", udp(2000, 69, b"rrq"))
    )
    snap_arp = ethernet_snap(
        BROADCAST, MAC_B, Ethertype.ARP, arp(2, MAC_B, "10.2.0.2", MAC_A, "10.2.0.1")
    )
    stp = ethernet_llc("01:80:c2:00:00:00", MAC_C, 0x42, 0x42, 0x03, bytes(35))
    engine = ingest_packets(tmp_path, timed([snap_ip, snap_arp, stp]))
    assert list(by_pair(engine)) == [("10.2.0.1", 2000, "10.2.0.2", 69)]
    conv = by_pair(engine)[("10.2.0.1", 2000, "10.2.0.2", 69)]
    assert (conv["app_protocol"], conv["a_to_b_bytes"]) == ("tftp", len(snap_ip))
    assert binding_rows(engine) == {("10.2.0.1", MAC_A, 0, 1, 1), ("10.2.0.2", MAC_B, 0, 1, 2)}
    got = {mac: (s["packets"], s["bytes"]) for mac, s in station_rows(engine).items()}
    assert got == {MAC_A: (1, len(snap_ip)), MAC_B: (1, len(snap_arp)), MAC_C: (1, len(stp))}


def test_arp_binds_mac_and_ip(tmp_path: Path) -> None:
    """Request and reply bind each sender; a probe (sender 0.0.0.0) binds
    nothing; IP traffic from a bound address adds the IP-sender bit."""
    frames = [
        ethernet(
            BROADCAST,
            MAC_A,
            Ethertype.ARP,
            arp(1, MAC_A, "10.3.0.1", "00:00:00:00:00:00", "10.3.0.2"),
        ),
        ethernet(MAC_A, MAC_B, Ethertype.ARP, arp(2, MAC_B, "10.3.0.2", MAC_A, "10.3.0.1")),
        ethernet(
            BROADCAST,
            MAC_C,
            Ethertype.ARP,
            arp(1, MAC_C, "0.0.0.0", "00:00:00:00:00:00", "10.3.0.3"),
        ),
        ethernet(
            BROADCAST,
            MAC_A,
            Ethertype.ARP,
            arp(1, MAC_A, "10.3.0.1", "00:00:00:00:00:00", "10.3.0.2"),
            [Tag(7)],
        ),
        eth4(MAC_B, MAC_A, "10.3.0.2", "10.3.0.1", udp(5000, 5001, b"x")),
    ]
    packets = timed(frames, step_ns=250)
    engine = ingest_packets(tmp_path, packets)
    assert binding_rows(engine) == {
        ("10.3.0.1", MAC_A, 0, 1, 2),
        ("10.3.0.1", MAC_A, 7, 1, 2),
        ("10.3.0.2", MAC_B, 0, 2, 3),
    }
    seen = {
        (b["ip"], b["vlan"]): (b["first_seen"], b["last_seen"])
        for b in table_rows(engine, bindings)
    }
    assert seen[("10.3.0.2", 0)] == (packets[1].ts_ns, packets[4].ts_ns)
    counters = json.loads(table_rows(engine, captures)[0]["counters"])
    assert counters["arp"] == 4
    assert station_rows(engine)[MAC_C]["packets"] == 1


L2_KINDS = {
    "profinet": Ethertype.PROFINET,
    "goose": Ethertype.GOOSE,
    "sv": Ethertype.SV,
    "ethercat": Ethertype.ETHERCAT,
    "powerlink": Ethertype.POWERLINK,
    "lldp": Ethertype.LLDP,
}


def test_industrial_ethertypes_are_counted_per_station(tmp_path: Path) -> None:
    sent = {
        MAC_A: {"profinet": 3, "goose": 2, "lldp": 1},
        MAC_B: {"sv": 4, "ethercat": 1, "powerlink": 2, "lldp": 1},
    }
    frames = []
    for station, kinds in sent.items():
        for kind, n in kinds.items():
            payload = bytes([n]) * (20 + n)
            frames += [ethernet("01:0c:cd:01:00:01", station, L2_KINDS[kind], payload)] * n
    goose_tagged = ethernet("01:0c:cd:01:00:01", MAC_C, Ethertype.GOOSE, bytes(40), [Tag(5)])
    frames.append(goose_tagged)
    packets = timed(frames)
    engine = ingest_packets(tmp_path, packets)
    rows = station_rows(engine)
    expected_c = {f"{k}_frames": int(k == "goose") for k in L2_KINDS}
    assert {k: rows[MAC_C][k] for k in expected_c} == expected_c
    assert rows[MAC_C]["vlan"] == 5
    for station, kinds in sent.items():
        assert {k: rows[station][f"{k}_frames"] for k in L2_KINDS} == {
            k: kinds.get(k, 0) for k in L2_KINDS
        }
        mine = [p for p in packets if p.data[6:12] == bytes.fromhex(station.replace(":", ""))]
        assert (rows[station]["packets"], rows[station]["bytes"]) == (
            len(mine),
            sum(p.length for p in mine),
        )
        assert (rows[station]["first_seen"], rows[station]["last_seen"]) == (
            mine[0].ts_ns,
            mine[-1].ts_ns,
        )
    assert table_rows(engine, conversations) == []


# --------------------------------------------------------------------------
# IPv4 fragments, IPv6 extension headers and fragments


def test_ipv4_fragments_take_ports_from_the_first(tmp_path: Path) -> None:
    """Two datagrams between the same hosts, fragmented and interleaved: each
    later fragment belongs to its own first fragment's ports (by IP id)."""
    one = ipv4_fragments("10.4.0.1", "10.4.0.2", udp(5000, 6000, bytes(range(40))), 11, 16)
    two = ipv4_fragments("10.4.0.1", "10.4.0.2", tcp(7000, 502, ACK, bytes(50)), 12, 24)
    assert (len(one), len(two)) == (3, 3)
    order = [one[0], two[0], one[1], two[1], two[2], one[2]]
    frames = [ethernet(MAC_B, MAC_A, Ethertype.IPV4, f) for f in order]
    engine = ingest_packets(tmp_path, timed(frames))
    convs = by_pair(engine)
    assert set(convs) == {("10.4.0.1", 5000, "10.4.0.2", 6000), ("10.4.0.1", 7000, "10.4.0.2", 502)}
    first_udp = convs[("10.4.0.1", 5000, "10.4.0.2", 6000)]
    assert (first_udp["a_to_b_packets"], first_udp["a_to_b_bytes"]) == (
        3,
        sum(len(frames[i]) for i in (0, 2, 5)),
    )
    tcp_conv = convs[("10.4.0.1", 7000, "10.4.0.2", 502)]
    assert (tcp_conv["transport"], tcp_conv["a_to_b_packets"], tcp_conv["a_to_b_bytes"]) == (
        "tcp",
        3,
        sum(len(frames[i]) for i in (1, 3, 4)),
    )
    counters = json.loads(table_rows(engine, captures)[0]["counters"])
    assert counters["fragments"] == 4


EXTENSION_CASES: dict[str, list[Extension]] = {
    "hop-by-hop": [hop_by_hop()],
    "routing": [routing(["2001:db8::99", "2001:db8::98"])],
    "destination-options": [destination_options()],
    "all-three": [hop_by_hop(), routing(["2001:db8::99"]), destination_options()],
    "long-options": [hop_by_hop(b"\x01\x0c" + bytes(12)), destination_options(bytes(22))],
}


@pytest.mark.parametrize("extensions", EXTENSION_CASES.values(), ids=EXTENSION_CASES.keys())
def test_ipv6_extension_headers(tmp_path: Path, extensions: list[Extension]) -> None:
    frames = [
        eth6(MAC_A, MAC_B, ipv6("2001:db8::1", "2001:db8::2", udp(546, 547, b"sol"), extensions)),
        eth6(MAC_A, MAC_B, ipv6("2001:db8::1", "2001:db8::2", tcp(50000, 4840, SYN), extensions)),
    ]
    engine = ingest_packets(tmp_path, timed(frames))
    got = {
        (c["transport"], c["a"], c["a_port"], c["b"], c["b_port"]): (
            c["app_protocol"],
            c["a_to_b_bytes"],
        )
        for c in table_rows(engine, conversations)
    }
    assert got == {
        ("udp", "2001:db8::1", 546, "2001:db8::2", 547): ("dhcpv6", len(frames[0])),
        ("tcp", "2001:db8::1", 50000, "2001:db8::2", 4840): ("opcua", len(frames[1])),
    }


@pytest.mark.parametrize(
    ("extensions", "fragmentable"),
    [
        ([], []),
        ([hop_by_hop()], []),
        ([hop_by_hop(), routing(["2001:db8::99"])], []),
        ([], [destination_options()]),
    ],
    ids=["plain", "after-hop-by-hop", "after-routing", "destination-options-inside"],
)
def test_ipv6_fragments_take_ports_from_the_first(
    tmp_path: Path, extensions: list[Extension], fragmentable: list[Extension]
) -> None:
    datagram = udp(20000, 20000, bytes(range(60)))
    parts = ipv6_fragments(
        "2001:db8::1", "2001:db8::2", datagram, 0xDEADBEEF, 24, extensions, fragmentable
    )
    assert len(parts) >= 3
    frames = [eth6(MAC_A, MAC_B, p) for p in parts]
    engine = ingest_packets(tmp_path, timed(frames))
    assert [
        (
            c["transport"],
            c["a"],
            c["a_port"],
            c["b"],
            c["b_port"],
            c["a_to_b_packets"],
            c["a_to_b_bytes"],
            c["app_protocol"],
        )
        for c in table_rows(engine, conversations)
    ] == [
        (
            "udp",
            "2001:db8::1",
            20000,
            "2001:db8::2",
            20000,
            len(frames),
            sum(len(f) for f in frames),
            "dnp3",
        )
    ]
    counters = json.loads(table_rows(engine, captures)[0]["counters"])
    assert (counters["fragments"], counters["ipv6"]) == (len(frames) - 1, len(frames))


# --------------------------------------------------------------------------
# assets


def _router_frames(router_ip: str, forwarded: Sequence[str]) -> list[bytes]:
    """A router answering ARP for its own address and forwarding packets
    from hosts behind it (their IPs, its MAC)."""
    frames = [ethernet(MAC_A, MAC_C, Ethertype.ARP, arp(2, MAC_C, router_ip, MAC_A, "10.5.0.10"))]
    for n, source in enumerate(forwarded):
        frames.append(eth4(MAC_C, MAC_A, source, "10.5.0.10", udp(30000 + n, 502 + n, b"f")))
    frames.append(eth4(MAC_A, MAC_C, "10.5.0.10", "192.168.9.1", udp(40000, 53, b"q")))
    return frames


def _export(tmp_path: Path, frames: Sequence[bytes]) -> dict[str, Any]:
    path = tmp_path / "router.pcap"
    path.write_bytes(pcap(timed(frames)))
    db = str(tmp_path / "store.db")
    done = run_cli("ingest", "--db", db, str(path))
    assert (done.returncode, done.stderr) == (0, "")
    exported = run_cli("export", "--db", db, "--format", "json")
    assert exported.returncode == 0
    result: dict[str, Any] = json.loads(exported.stdout)
    return result


def test_mac_with_many_ips_is_a_gateway_and_its_ips_stay_apart(tmp_path: Path) -> None:
    """Five addresses behind one MAC (> 4): that MAC is a gateway asset that
    keeps only the address it answered ARP for; each forwarded address is an
    asset of its own."""
    behind = [f"192.168.1.{n}" for n in range(1, 6)]
    model = _export(tmp_path, _router_frames("10.5.0.1", behind))
    assets = {tuple(a["macs"]) or tuple(a["ips"]): a for a in model["assets"]}
    router = assets[(MAC_C,)]
    assert (router["ips"], router["is_gateway"], router["role"]) == (
        ["10.5.0.1"],
        True,
        "network_device",
    )
    for ip in behind:
        assert (assets[(ip,)]["ips"], assets[(ip,)]["macs"], assets[(ip,)]["is_gateway"]) == (
            [ip],
            [],
            False,
        )
    assert assets[(MAC_A,)]["ips"] == ["10.5.0.10"]
    assert len(model["assets"]) == 2 + len(behind)


def test_mac_with_four_ips_is_one_device(tmp_path: Path) -> None:
    """Four addresses on one MAC (not more than 4): one asset holding all."""
    behind = ["10.5.0.2", "10.5.0.3", "10.5.0.4"]
    model = _export(tmp_path, _router_frames("10.5.0.1", behind))
    assets = {tuple(a["macs"]): a for a in model["assets"]}
    device = assets[(MAC_C,)]
    assert (sorted(device["ips"]), device["is_gateway"]) == (sorted(["10.5.0.1", *behind]), False)
    assert len(model["assets"]) == 2


def test_export_flow_carries_exact_per_direction_counts(tmp_path: Path) -> None:
    frames = _router_frames("10.5.0.1", ["10.5.0.2"])
    model = _export(tmp_path, frames)
    flows = {(f["a"], f["a_port"], f["b"], f["b_port"]): f for f in model["flows"]}
    flow = flows[("10.5.0.10", 40000, "192.168.9.1", 53)]
    assert (
        flow["proto"],
        flow["packets"],
        flow["bytes"],
        flow["a_to_b_packets"],
        flow["b_to_a_packets"],
        flow["initiator"],
        flow["app_protocol"],
    ) == ("udp", 1, len(frames[-1]), 1, 0, "a", "dns")
    assert flow["first_seen"] == flow["last_seen"] == "2023-11-14T22:13:20.000002000Z"

"""An IPv6 address whose 16 bytes are those of an IPv4 address padded with
zeros (a00:1:: and 10.0.0.1) is another address: hosts, conversations and
protocol roles keep the two apart, each with its own text."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from otseam.ingest import ingest
from otseam.store.database import open_store
from otseam.store.schema import conversations, hosts, protocol_roles
from tests.capturegen import NS, Ethertype, Packet, ethernet, ipv4, ipv6, pcap, udp

T0 = 1_700_000_000 * NS


def test_ipv4_and_ipv6_addresses_with_the_same_bytes_stay_apart(tmp_path: Path) -> None:
    path = tmp_path / "families.pcap"
    frames = [
        ethernet("02:00:00:00:00:02", "02:00:00:00:00:01", Ethertype.IPV4,
                 ipv4("10.0.0.1", "10.0.0.2", udp(40000, 53, b"\x00" * 12))),
        ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", Ethertype.IPV4,
                 ipv4("10.0.0.2", "10.0.0.1", udp(53, 40000, b"\x00" * 12))),
        ethernet("02:00:00:00:00:04", "02:00:00:00:00:03", Ethertype.IPV6,
                 ipv6("a00:1::", "a00:2::", udp(40001, 53, b"\x00" * 12))),
        ethernet("02:00:00:00:00:03", "02:00:00:00:00:04", Ethertype.IPV6,
                 ipv6("a00:2::", "a00:1::", udp(53, 40001, b"\x00" * 12))),
    ]  # fmt: skip
    path.write_bytes(pcap([Packet(T0 + i * 1000, f) for i, f in enumerate(frames)]))
    engine = open_store(str(tmp_path / "store.db"))
    ingest([str(path)], engine)
    with engine.connect() as conn:
        assert sorted(conn.execute(select(hosts.c.ip)).scalars()) == [
            "10.0.0.1", "10.0.0.2", "a00:1::", "a00:2::",
        ]  # fmt: skip
        assert sorted(conn.execute(select(conversations.c.a, conversations.c.b)).all()) == [
            ("10.0.0.1", "10.0.0.2"), ("a00:1::", "a00:2::"),
        ]  # fmt: skip
        servers = conn.execute(
            select(protocol_roles.c.address).where(protocol_roles.c.role == "server")
        ).scalars()
        assert sorted(servers) == ["10.0.0.2", "a00:2::"]
    engine.dispose()

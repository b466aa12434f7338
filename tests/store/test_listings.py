"""``otseam assets`` and ``otseam flows``: filters, and table, CSV and JSON output.

One store holds two corpus captures (a Modbus/TCP plant and an EtherNet/IP
network with identities); each filter's answer is checked against the
unfiltered JSON listing filtered here, and must be a proper, non-empty subset.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.store.stores import ingest_into

CAPTURES = ("ModbusTCP/ModbusTCP.pcap", "openics/EIP-IPAddressChangeAttempt.pcap")
ASSET_COLUMNS = [
    "id",
    "ips",
    "macs",
    "mac_vendor",
    "vendor",
    "product",
    "firmware",
    "serial",
    "role",
    "protocols",
]
FLOW_COLUMNS = [
    "transport",
    "a",
    "a_port",
    "b",
    "b_port",
    "initiator",
    "packets",
    "bytes",
    "app_protocol",
    "a_to_b_packets",
    "b_to_a_packets",
    "a_to_b_bytes",
    "b_to_a_bytes",
    "first_seen",
    "last_seen",
]
Row = dict[str, Any]


@pytest.fixture(scope="module")
def store_db(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("listings") / "store.db")
    report = ingest_into(db, *(corpus / name for name in CAPTURES))
    assert [o.status for o in report.outcomes] == ["ingested", "ingested"]
    return db


def _json(db: str, *args: str) -> list[Row]:
    done = run_cli(*args, "--format", "json", "--db", db)
    assert done.returncode == 0, done.stderr
    rows: list[Row] = json.loads(done.stdout)
    return rows


def _csv(db: str, *args: str) -> list[list[str]]:
    done = run_cli(*args, "--format", "csv", "--db", db)
    assert done.returncode == 0, done.stderr
    return list(csv.reader(io.StringIO(done.stdout)))


@pytest.fixture(scope="module")
def all_assets(store_db: str) -> list[Row]:
    return _json(store_db, "assets")


@pytest.fixture(scope="module")
def all_flows(store_db: str) -> list[Row]:
    return _json(store_db, "flows")


def _proper_subset(rows: list[Row], everything: list[Row], keep: Callable[[Row], bool]) -> None:
    assert rows == [row for row in everything if keep(row)]
    assert 0 < len(rows) < len(everything)


def test_assets_json_lists_every_asset_with_addresses_and_protocols(
    all_assets: list[Row],
) -> None:
    assert [a["id"] for a in all_assets] == sorted(a["id"] for a in all_assets)
    by_ip = {ip: a for a in all_assets for ip in a["ips"]}
    plc = by_ip["192.168.10.125"]
    assert plc["ips"] == ["192.168.10.120", "192.168.10.125"]
    assert plc["macs"] == ["00:00:bc:3e:eb:e4"]
    assert plc["vendor"] == "Rockwell Automation/Allen-Bradley"
    assert plc["product"] == "1756-ENBT/A"
    assert plc["protocols"] == [{"name": "enip", "role": "server"}]
    assert by_ip["141.81.0.10"]["protocols"] == [{"name": "modbus", "role": "client"}]


@pytest.mark.parametrize(
    ("option", "value", "keep"),
    [
        ("--protocol", "modbus", lambda a: any(p["name"] == "modbus" for p in a["protocols"])),
        ("--protocol", "enip", lambda a: any(p["name"] == "enip" for p in a["protocols"])),
        ("--address", "192.168.10.125", lambda a: "192.168.10.125" in a["ips"]),
        ("--address", "00:00:BC:3E:EB:E4", lambda a: "00:00:bc:3e:eb:e4" in a["macs"]),
    ],
    ids=["protocol-modbus", "protocol-enip", "address-ip", "address-mac-uppercase"],
)
def test_assets_filters(
    store_db: str, all_assets: list[Row], option: str, value: str, keep: Callable[[Row], bool]
) -> None:
    _proper_subset(_json(store_db, "assets", option, value), all_assets, keep)


def test_assets_role_filter_and_combined_filters(store_db: str, all_assets: list[Row]) -> None:
    for role in sorted({a["role"] for a in all_assets}):
        assert _json(store_db, "assets", "--role", role) == [
            a for a in all_assets if a["role"] == role
        ]
    assert _json(store_db, "assets", "--role", "plc"), "the Modbus servers are PLCs"
    assert _json(store_db, "assets", "--role", "no-such-role") == []
    both = _json(store_db, "assets", "--protocol", "enip", "--address", "192.168.10.105")
    assert [a["ips"] for a in both] == [["192.168.10.105"]]
    assert _json(store_db, "assets", "--protocol", "modbus", "--address", "192.168.10.105") == []


def test_assets_csv_and_table(store_db: str, all_assets: list[Row]) -> None:
    header, *rows = _csv(store_db, "assets", "--protocol", "enip")
    assert header == ASSET_COLUMNS
    expected = [a for a in all_assets if any(p["name"] == "enip" for p in a["protocols"])]
    assert [row[0] for row in rows] == [str(a["id"]) for a in expected]
    server = next(row for row in rows if "192.168.10.125" in row[1])
    assert server[1] == "192.168.10.120 192.168.10.125"  # lists: space-separated
    assert server[ASSET_COLUMNS.index("protocols")] == "enip/server"
    assert server[ASSET_COLUMNS.index("firmware")] == "4.07"

    table = run_cli("assets", "--db", store_db, "--protocol", "enip")
    assert table.returncode == 0, table.stderr
    assert f"Assets ({len(expected)})" in table.stdout
    assert "192.168.10.125" in table.stdout
    assert "141.81.0.10" not in table.stdout


def test_flows_json_busiest_first_with_totals(all_flows: list[Row]) -> None:
    assert len(all_flows) == 35
    for flow in all_flows:
        assert flow["packets"] == flow["a_to_b_packets"] + flow["b_to_a_packets"]
        assert flow["bytes"] == flow["a_to_b_bytes"] + flow["b_to_a_bytes"]
        assert flow["first_seen"] <= flow["last_seen"]
    assert [f["bytes"] for f in all_flows] == sorted((f["bytes"] for f in all_flows), reverse=True)
    assert set(FLOW_COLUMNS) <= set(all_flows[0])


@pytest.mark.parametrize(
    ("args", "keep"),
    [
        (("--address", "141.81.0.46"), lambda f: "141.81.0.46" in (f["a"], f["b"])),
        (("--port", "44818"), lambda f: 44818 in (f["a_port"], f["b_port"])),
        (("--transport", "udp"), lambda f: f["transport"] == "udp"),
        (("--app", "smb"), lambda f: f["app_protocol"] == "smb"),
        (
            ("--transport", "tcp", "--port", "44818"),
            lambda f: f["transport"] == "tcp" and 44818 in (f["a_port"], f["b_port"]),
        ),
    ],
    ids=["address", "port", "transport", "app", "transport-and-port"],
)
def test_flows_filters(
    store_db: str, all_flows: list[Row], args: tuple[str, ...], keep: Callable[[Row], bool]
) -> None:
    _proper_subset(_json(store_db, "flows", *args), all_flows, keep)


def test_flows_limit_keeps_the_busiest(store_db: str, all_flows: list[Row]) -> None:
    assert _json(store_db, "flows", "--limit", "5") == all_flows[:5]
    table = run_cli("flows", "--db", store_db, "--limit", "3")
    assert table.returncode == 0, table.stderr
    assert "Conversations (3)" in table.stdout
    assert all_flows[0]["a"] in table.stdout


def test_flows_csv_matches_json(store_db: str) -> None:
    header, *rows = _csv(store_db, "flows", "--app", "enip")
    assert header == FLOW_COLUMNS
    flows = _json(store_db, "flows", "--app", "enip")
    assert len(rows) == len(flows) > 0
    for row, flow in zip(rows, flows, strict=True):
        assert row == ["" if flow[c] is None else str(flow[c]) for c in FLOW_COLUMNS]


def test_flows_rejects_an_unknown_transport(store_db: str) -> None:
    done = run_cli("flows", "--db", store_db, "--transport", "sctp")
    assert done.returncode == 2
    assert "sctp" in done.stderr
    assert "Traceback" not in done.stderr

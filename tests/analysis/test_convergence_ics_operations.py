"""``ics_operation_from_it``: changing operations (writes, downloads, stops)
sent to industrial devices from an IT zone, or from a host with a leg in IT."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analysis.convergence_store import StoreBuilder, findings_of, plant

WS, PLC, HMI = "10.1.0.7", "10.10.0.5", "10.10.0.6"


@pytest.fixture
def store(tmp_path: Path) -> StoreBuilder:
    builder = StoreBuilder(tmp_path / "store.db")
    builder.asset(WS, role="it_workstation", name="ws-07")
    builder.asset(PLC, role="plc", name="plc-05")
    builder.asset(HMI, role="hmi")
    return builder


def test_a_modbus_write_from_it_is_reported(store: StoreBuilder) -> None:
    store.operation(WS, PLC, "modbus", "write", code=6, code_name="write_single_register", count=4)
    store.operation(WS, PLC, "modbus", "write", code=16, code_name="write_multiple_registers")
    (found,) = findings_of(store.analyse(plant()), "ics_operation_from_it")

    assert found.severity == "high"
    assert found.title == "write from IT: ws-07 -> plc-05 (cell) over modbus"
    assert (found.zone, found.assets) == ("cell", ("ws-07", "plc-05"))
    evidence = found.evidence
    assert (evidence["src_zone"], evidence["dst_zone"], evidence["it_zones"]) == (
        "office",
        "cell",
        ["office"],
    )
    assert evidence["codes"] == ["16 write_multiple_registers", "6 write_single_register"]
    assert evidence["count"] == 7


def test_a_program_download_from_it_is_critical(store: StoreBuilder) -> None:
    store.operation(WS, PLC, "s7comm", "program_download", code=27, code_name="download_block")
    (found,) = findings_of(store.analyse(plant()), "ics_operation_from_it")
    assert found.severity == "critical"


def test_a_write_from_the_ot_leg_of_a_host_dual_homed_into_it_is_reported(
    store: StoreBuilder,
) -> None:
    store.asset("10.1.0.40", role="engineering_workstation")
    store.asset("10.10.0.40", role="engineering_workstation")
    store.identity("10.1.0.40", "nbns", "name", "eng-ws")
    store.identity("10.10.0.40", "nbns", "name", "eng-ws")
    store.operation("10.10.0.40", PLC, "modbus", "write")
    (found,) = findings_of(store.analyse(plant()), "ics_operation_from_it")

    assert found.title == (
        "write from IT: 10.10.0.40 (a host also in office) -> plc-05 (cell) over modbus"
    )
    assert (found.evidence["src_zone"], found.evidence["it_zones"]) == ("cell", ["office"])


def test_a_read_from_it_is_not_reported(store: StoreBuilder) -> None:
    store.operation(WS, PLC, "modbus", "read", code=3, code_name="read_holding_registers")
    assert findings_of(store.analyse(plant()), "ics_operation_from_it") == []


def test_a_write_from_ot_is_not_reported(store: StoreBuilder) -> None:
    store.operation(HMI, PLC, "modbus", "write")
    assert findings_of(store.analyse(plant()), "ics_operation_from_it") == []


def test_a_refused_write_is_not_reported(store: StoreBuilder) -> None:
    store.operation(WS, PLC, "modbus", "write", exception=True)
    assert findings_of(store.analyse(plant()), "ics_operation_from_it") == []


def test_a_write_in_an_it_protocol_is_not_this_rule(store: StoreBuilder) -> None:
    store.operation(WS, PLC, "smb", "write", code=9, code_name="write")
    assert findings_of(store.analyse(plant()), "ics_operation_from_it") == []

"""The conduit matrix: one cell per (initiating zone, serving zone), with its
services, totals, and whether the site's conduits allow it."""

from __future__ import annotations

from pathlib import Path

import pytest

from otseam.model.convergence import ConduitUse, Convergence
from tests.analysis.convergence_store import T0, StoreBuilder, plant

CONDUITS = """
conduits:
  - name: engineering
    from: office
    to: cell
    services: [{protocol: s7comm, transport: tcp, port: 102}]
  - {name: office-to-dmz, from: office, to: dmz, services: [{transport: tcp, port: 443}]}
  - {name: anything-to-operations, from: dmz, to: operations}
"""


@pytest.fixture
def store(tmp_path: Path) -> StoreBuilder:
    builder = StoreBuilder(tmp_path / "store.db")
    builder.asset("10.1.0.7", role="it_workstation")
    builder.asset("10.3.0.5", role="historian")
    builder.asset("10.10.0.5", role="plc")
    builder.asset("10.10.0.6", role="hmi")
    builder.asset("10.20.0.9", role="scada_server")
    return builder


def cell(result: Convergence, src: str, dst: str) -> ConduitUse:
    found = [c for c in result.conduits if (c.src_zone, c.dst_zone) == (src, dst)]
    assert len(found) == 1, [(c.src_zone, c.dst_zone) for c in result.conduits]
    return found[0]


def test_a_cell_sums_the_conversations_one_zone_opens_to_another(store: StoreBuilder) -> None:
    store.conversation("10.1.0.7", "10.10.0.5", 102, app="s7comm", packets=10, size=1000)
    store.conversation(
        "10.1.0.7", "10.10.0.6", 502, app="modbus", packets=4, size=300, first_seen=T0 + 5
    )
    result = store.analyse(plant(CONDUITS))

    used = cell(result, "office", "cell")
    assert used.services == ("modbus/tcp/502", "s7comm/tcp/102")
    assert (used.conversations, used.packets, used.bytes) == (2, 14, 1300)
    assert used.first_seen == T0
    assert (used.crossing, used.it_ot) == (True, True)


def test_the_zone_that_opens_is_the_source_whichever_side_the_store_lists_first(
    store: StoreBuilder,
) -> None:
    store.conversation("10.10.0.6", "10.20.0.9", 4840, app="opcua", stored_reversed=True)
    result = store.analyse(plant(CONDUITS))
    assert [(c.src_zone, c.dst_zone) for c in result.conduits] == [("cell", "operations")]
    assert result.conduits[0].services == ("opcua/tcp/4840",)


def test_a_cell_is_allowed_only_when_a_conduit_allows_every_service(
    store: StoreBuilder,
) -> None:
    store.conversation("10.1.0.7", "10.10.0.5", 102, app="s7comm")
    store.conversation("10.1.0.7", "10.10.0.6", 502, app="modbus")
    store.conversation("10.1.0.7", "10.3.0.5", 443, app="tls")
    store.conversation("10.3.0.5", "10.20.0.9", 4840, app="opcua")
    result = store.analyse(plant(CONDUITS))

    mixed = cell(result, "office", "cell")
    assert (mixed.allowed, mixed.conduits, mixed.denied_services) == (
        False,
        ("engineering",),
        ("modbus/tcp/502",),
    )
    web = cell(result, "office", "dmz")
    assert (web.allowed, web.conduits, web.denied_services) == (True, ("office-to-dmz",), ())
    assert web.it_ot is False
    # a conduit without services allows any
    assert cell(result, "dmz", "operations").allowed is True


def test_a_conduit_allows_one_direction_only(store: StoreBuilder) -> None:
    store.conversation("10.10.0.5", "10.1.0.7", 102, app="s7comm")
    used = cell(store.analyse(plant(CONDUITS)), "cell", "office")
    assert (used.allowed, used.conduits, used.denied_services) == (False, (), ("s7comm/tcp/102",))


def test_traffic_inside_one_zone_is_always_allowed(store: StoreBuilder) -> None:
    store.conversation("10.10.0.6", "10.10.0.5", 502, app="modbus")
    used = cell(store.analyse(plant(CONDUITS)), "cell", "cell")
    assert (used.allowed, used.crossing, used.it_ot, used.denied_services) == (
        True,
        False,
        False,
        (),
    )


def test_without_conduits_in_the_site_file_nothing_is_judged(store: StoreBuilder) -> None:
    store.conversation("10.1.0.7", "10.10.0.6", 502, app="modbus")
    store.conversation("10.10.0.6", "10.10.0.5", 502, app="modbus")
    result = store.analyse(plant())
    assert {c.allowed for c in result.conduits} == {None}
    assert cell(result, "office", "cell").denied_services == ()


def test_a_service_without_an_application_label_is_transport_and_port(
    store: StoreBuilder,
) -> None:
    store.conversation("10.1.0.7", "10.3.0.5", 8080)
    store.conversation("10.1.0.7", "10.3.0.5", 443)
    used = cell(store.analyse(plant(CONDUITS)), "office", "dmz")
    assert used.services == ("tcp/443", "tcp/8080")
    assert used.denied_services == ("tcp/8080",)


def test_asset_edges_follow_who_opened_the_conversation(store: StoreBuilder) -> None:
    store.conversation("10.1.0.7", "10.10.0.5", 102, app="s7comm", size=500)
    store.conversation("10.1.0.7", "10.10.0.5", 102, app="s7comm", size=700)
    (edge,) = store.analyse(plant()).edges
    assert (edge.src, edge.dst, edge.src_zone, edge.dst_zone) == (
        "10.1.0.7",
        "10.10.0.5",
        "office",
        "cell",
    )
    assert (edge.conversations, edge.bytes, edge.crossing) == (2, 1200, True)

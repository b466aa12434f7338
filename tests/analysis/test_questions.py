"""The CIO's questions and checklist (docs/questions.md): each answer and each
status of each checklist item, on small convergence results built by hand."""

from __future__ import annotations

import json
from dataclasses import replace
from io import StringIO
from typing import Any

import pytest
from rich.console import Console

from otseam.analysis.questions import QUESTIONS, ChecklistItem, answer_questions
from otseam.model.convergence import (
    ChannelUse,
    ConduitUse,
    Convergence,
    Finding,
    Placement,
    Responsibility,
    Responsible,
    ZoneUse,
)
from otseam.reports.questions import print_questions, render_questions


def zone(name: str, kind: str, level: float | None, owner: str | None = None, **kw: Any) -> ZoneUse:
    fields: dict[str, Any] = {
        "cidrs": (),
        "vlans": (),
        "source": "site",
        "evidence": "site file",
    }
    fields.update(kw)
    return ZoneUse(name=name, kind=kind, purdue_level=level, owner=owner, **fields)


def placement(name: str, role: str, zone_name: str | None) -> Placement:
    return Placement(
        asset_id=abs(hash(name)) % 1000,
        key=f"key-{name}",
        name=name,
        role=role,
        ips=("10.0.0.1",),
        macs=(),
        zone=zone_name,
        zones=(zone_name,) if zone_name else (),
        purdue_level=None,
        evidence="",
    )


def asset_owner(name: str, owner: str | None, updated_by: str | None = None) -> Responsibility:
    return Responsibility(
        subject_kind="asset",
        subject=name,
        zone=None,
        owner=owner,
        owner_source="site" if owner else "none",
        updated_by=updated_by,
        notify=(),
    )


def cell(src: str, dst: str, allowed: bool | None, *services: str, **kw: Any) -> ConduitUse:
    return ConduitUse(
        src_zone=src,
        dst_zone=dst,
        services=services,
        conversations=1,
        packets=2,
        bytes=100,
        first_seen=0,
        last_seen=1,
        crossing=src != dst,
        it_ot=True,
        allowed=allowed,
        **kw,
    )


def channel(
    name: str, *, registered: bool, manager: str | None, status: str = "approved"
) -> ChannelUse:
    return ChannelUse(
        name=name,
        kind="vpn",
        status=status,  # type: ignore[arg-type]
        registered=registered,
        approved=status == "approved" if registered else None,
        manager=manager,
        vendor=None,
        inside=(),
        outside=(),
        services=("tcp/443",),
        sessions=1,
        packets=1,
        bytes=1,
        first_seen=None,
        last_seen=None,
    )


def convergence(**kw: Any) -> Convergence:
    fields: dict[str, Any] = {
        "site_name": "plant",
        "site_given": True,
        "zones": (),
        "placements": (),
        "conduits": (),
        "edges": (),
        "channels": (),
        "findings": (),
        "responsibilities": (),
        "monitoring": {},
    }
    fields.update(kw)
    return Convergence(**fields)


def item(conv: Convergence, number: int) -> ChecklistItem:
    return answer_questions(conv).checklist[number - 1]


def text(lines: tuple[str, ...]) -> str:
    return "\n".join(lines)


# --- Q1: who finds out first -----------------------------------------------------------------


def test_q1_nobody_named() -> None:
    conv = convergence(zones=(zone("cell", "ot", 1), zone("office", "it", 4, owner="IT Ops")))
    answer = answer_questions(conv).answers[0]
    assert answer.question == QUESTIONS[0]
    assert answer.answer.startswith(
        "Nobody: no OT zone has an owner and no boundary monitoring is named"
    )
    assert "zone cell (ot, level 1): no owner" in answer.evidence


def test_q1_owners_and_monitoring_named_with_contacts() -> None:
    finding = Finding(
        id="f1",
        kind="unowned",
        severity="low",
        title="t",
        zone="cell",
        assets=(),
        channel=None,
        evidence={},
        owners=(Responsible("Line Maintenance", "zone_owner", "ot", "+49 30 1234"),),
    )
    conv = convergence(
        zones=(
            zone("cell", "ot", 1, owner="Line Maintenance"),
            zone("supervision", "ot", 2),
            zone("site-ops", "ot", 3, owner="Ops Centre"),  # level 3: not the shop floor
        ),
        findings=(finding,),
        monitoring={
            "it": "SOC",
            "ot": "OT Controls",
            "agreed": False,
            "it_contact": "soc@example.com",
            "ot_contact": None,
        },
    )
    answer = answer_questions(conv).answers[0].answer
    assert answer.startswith("OT Controls, the OT party alerted on boundary events")
    assert "cell: Line Maintenance (+49 30 1234)" in answer
    assert "SOC (soc@example.com), the IT party" in answer
    assert "Boundary monitoring is not agreed" in answer
    assert "Shop-floor zones nobody owns: supervision" in answer
    assert "Ops Centre" not in answer


def test_q1_zone_owner_from_responsibility() -> None:
    owner = Responsibility("zone", "cell", "cell", "Plant Engineering", "site", None, ())
    conv = convergence(zones=(zone("cell", "ot", None),), responsibilities=(owner,))
    answer = answer_questions(conv).answers[0].answer
    assert "cell: Plant Engineering" in answer
    assert not answer.startswith("Nobody")


# --- Q2: who knows the external connections --------------------------------------------------


def test_q2_counts_and_unknown_channel() -> None:
    conv = convergence(
        channels=(
            channel("vendor-vpn", registered=True, manager="OT Controls"),
            channel("teamviewer-9", registered=False, manager=None, status="unknown"),
            channel("modem", registered=True, manager=None, status="approved"),
        )
    )
    answer = answer_questions(conv).answers[1]
    assert "3 external channels: 2 registered, 1 found in traffic only" in answer.answer
    assert "Known to their managers: OT Controls (1)" in answer.answer
    assert "Known to nobody (2): teamviewer-9, modem" in answer.answer
    assert any(
        line.startswith("teamviewer-9") and "known to nobody" in line for line in answer.evidence
    )


def test_q2_no_channels() -> None:
    answer = answer_questions(convergence()).answers[1]
    assert answer.answer.startswith("No external channel")
    assert answer.evidence == ("no external channel seen",)


# --- Q3: the OT asset list -------------------------------------------------------------------


def test_q3_counts_roles_owners_and_unowned() -> None:
    conv = convergence(
        zones=(zone("cell", "ot", 1), zone("dmz", "dmz", 3.5), zone("office", "it", 4)),
        placements=(
            placement("plc-1", "plc", "cell"),
            placement("plc-2", "plc", "cell"),
            placement("hist", "historian", "dmz"),
            placement("laptop", "it_workstation", "office"),
        ),
        responsibilities=(asset_owner("plc-1", "Line Maintenance"), asset_owner("hist", "IT Ops")),
    )
    answer = answer_questions(conv).answers[2]
    assert answer.answer.startswith("Partly: 3 assets in OT and DMZ zones (2 plc, 1 historian)")
    assert "2 have an owner: Line Maintenance (1), IT Ops (1)" in answer.answer
    assert "1 has none: plc-2" in answer.answer
    assert "laptop" not in text(answer.evidence)


def test_q3_no_ot_assets() -> None:
    answer = answer_questions(convergence(zones=(zone("office", "it", 4),))).answers[2]
    assert answer.answer == "No: no asset was placed in an OT or DMZ zone."


# --- checklist 1: IT/OT connections mapped ---------------------------------------------------


def test_connections_done() -> None:
    conv = convergence(
        zones=(zone("enterprise", "it", 4), zone("control", "ot", 1)),
        conduits=(
            cell("enterprise", "control", True, "opcua/tcp/4840", conduits=("hist-pull",)),
            cell("control", "control", None, "modbus/tcp/502"),  # not a crossing
        ),
    )
    assert item(conv, 1).status == "done"


def test_connections_partial_names_refused_crossing() -> None:
    conv = convergence(
        zones=(zone("enterprise", "it", 4), zone("control", "ot", 1)),
        conduits=(
            cell("enterprise", "control", False, "modbus/tcp/502"),
            cell(
                "control",
                "enterprise",
                True,
                "https/tcp/443",
                "tcp/8080",
                denied_services=("tcp/8080",),
            ),
        ),
    )
    got = item(conv, 1)
    assert got.status == "partial"
    assert "enterprise -> control: modbus/tcp/502 not allowed by any conduit" in got.evidence
    assert "control -> enterprise: tcp/8080 not allowed by any conduit" in got.evidence


def test_connections_partial_when_zones_only_suggested() -> None:
    conv = convergence(zones=(zone("net-10-0-1", "ot", None, source="suggested"),))
    got = item(conv, 1)
    assert got.status == "partial"
    assert "net-10-0-1" in text(got.evidence)
    assert "site file" in got.next_step


def test_connections_missing_without_zones() -> None:
    assert item(convergence(), 1).status == "missing"


# --- checklist 2: external channels and their managers known ---------------------------------


def test_channels_done_when_none_seen() -> None:
    got = item(convergence(), 2)
    assert got.status == "done"
    assert got.evidence == ("no external channel seen",)


def test_channels_done_when_all_registered_and_managed() -> None:
    conv = convergence(channels=(channel("vendor-vpn", registered=True, manager="OT Controls"),))
    assert item(conv, 2).status == "done"


def test_channels_partial_names_the_unknown_channel() -> None:
    conv = convergence(
        channels=(
            channel("vendor-vpn", registered=True, manager="OT Controls"),
            channel("anydesk-3", registered=False, manager=None, status="unknown"),
        )
    )
    got = item(conv, 2)
    assert got.status == "partial"
    assert "not registered: anydesk-3" in got.evidence
    assert "anydesk-3" in got.next_step


def test_channels_missing_when_found_and_none_registered() -> None:
    conv = convergence(
        channels=(channel("anydesk-3", registered=False, manager=None, status="unknown"),)
    )
    assert item(conv, 2).status == "missing"


# --- checklist 3: responsibility for workstations and controllers ----------------------------


def industrial(*responsibilities: Responsibility) -> Convergence:
    return convergence(
        zones=(zone("cell", "ot", 1),),
        placements=(
            placement("plc-1", "plc", "cell"),
            placement("ews", "engineering_workstation", "cell"),
            placement("switch", "network_device", "cell"),  # not industrial: never asked for
        ),
        responsibilities=responsibilities,
    )


def test_responsibility_done() -> None:
    conv = industrial(asset_owner("plc-1", "OT", "Vendor"), asset_owner("ews", "OT", "OT"))
    assert item(conv, 3).status == "done"


def test_responsibility_partial_names_the_asset() -> None:
    got = item(industrial(asset_owner("plc-1", "OT", "Vendor"), asset_owner("ews", "OT")), 3)
    assert got.status == "partial"
    assert "ews (engineering_workstation): no updated_by" in got.evidence
    assert "switch" not in text(got.evidence)


def test_responsibility_missing() -> None:
    got = item(industrial(), 3)
    assert got.status == "missing"
    assert "plc-1 (plc): no owner and no updated_by" in got.evidence


# --- checklist 4: joint boundary monitoring agreed -------------------------------------------


@pytest.mark.parametrize(
    ("monitoring", "status"),
    [
        ({"it": "SOC", "ot": "OT Controls", "agreed": True}, "done"),
        ({"it": "SOC", "ot": "OT Controls", "agreed": False}, "partial"),
        ({"it": None, "ot": "OT Controls", "agreed": True}, "partial"),
        ({"it": None, "ot": None, "agreed": False}, "missing"),
        ({}, "missing"),
    ],
)
def test_monitoring(monitoring: dict[str, Any], status: str) -> None:
    assert item(convergence(monitoring=monitoring), 4).status == status


# --- rendering -------------------------------------------------------------------------------


def sample() -> Convergence:
    conv = industrial(asset_owner("plc-1", "OT", "Vendor"))
    return replace(conv, monitoring={"it": "SOC", "ot": None, "agreed": False})


def test_render_json_is_plain_data() -> None:
    data = json.loads(render_questions(answer_questions(sample()), "json"))
    assert [a["question"] for a in data["answers"]] == list(QUESTIONS)
    assert [c["status"] for c in data["checklist"]] == ["done", "done", "partial", "partial"]
    assert isinstance(data["checklist"][2]["evidence"], list)


def test_render_text_shows_status_and_next_step() -> None:
    out = render_questions(answer_questions(sample()), "text")
    assert "[PARTIAL] Joint boundary monitoring agreed" in out
    assert "Next: Name the OT party" in out
    assert QUESTIONS[2] in out


def test_print_questions_colours_status() -> None:
    console = Console(file=StringIO(), force_terminal=True, width=160, color_system="standard")
    print_questions(console, answer_questions(sample()))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "partial" in out and "\x1b[1;33m" in out  # bold yellow

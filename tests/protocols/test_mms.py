"""MMS (IEC 61850) on TCP 102: told apart from S7comm after TPKT and COTP,
labelled ``mms``, and its server is an IED (docs/protocols/mms.md)."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from otseam.decode.addresses import address_text
from otseam.decode.engine import FrameDecoder
from otseam.ingest import ingest
from otseam.model.capture import CaptureFacts
from otseam.model.observations import MessageContext, Observation, ProtocolRole
from otseam.protocols import mms, s7comm
from otseam.protocols.catalog import REGISTRY
from otseam.protocols.registry import ProtocolSpec, Registry
from otseam.sources.capture import CaptureSource, decode_capture
from otseam.store.database import open_store
from otseam.store.schema import asset_addresses, assets, conversations

CLIENT, IED = "10.0.0.1", "10.0.0.2"
CONNECT = bytes.fromhex("0db60506130100160102140200023302000134020001c1a0")
ACCEPT = bytes.fromhex("0e95050613010016010214020002c187318184a003")
REFUSE = bytes.fromhex("0c03320100")
DATA = bytes.fromhex("01000100610e300c020103a007a0050201018200")  # GIVE TOKENS + DATA TRANSFER
ABORT = bytes.fromhex("1909110103")
INITIATE_REQUEST = bytes.fromhex("a81c800300fde8")


def tpkt(payload: bytes) -> bytes:
    """TPKT + COTP DT (last data unit) around a session SPDU."""
    cotp = b"\x02\xf0\x80" + payload
    return struct.pack(">BBH", 3, 0, 4 + len(cotp)) + cotp


def run(payload: bytes, to_ied: bool = True) -> list[Observation]:
    ctx = (
        MessageContext("s7comm", "tcp", CLIENT, IED, 49152, 102, 0)
        if to_ied
        else MessageContext("s7comm", "tcp", IED, CLIENT, 102, 49152, 0)
    )
    return list(s7comm.dissect(tpkt(payload), ctx))


SERVES = [ProtocolRole(IED, "mms", "server"), ProtocolRole(CLIENT, "mms", "client")]


@pytest.mark.parametrize(
    ("payload", "to_ied"),
    [
        (CONNECT, True),
        (ACCEPT, False),
        (REFUSE, False),
        (INITIATE_REQUEST, True),
        (DATA, True),
        (DATA, False),
        (ABORT, True),
        (ABORT, False),
    ],
)
def test_session_spdus_give_mms_roles_only(payload: bytes, to_ied: bool) -> None:
    assert run(payload, to_ied) == SERVES


def test_connect_decides_roles_by_direction_not_port() -> None:
    # a CONNECT sent from port 102 (a relay calling out): its sender is the client
    ctx = MessageContext("s7comm", "tcp", IED, CLIENT, 102, 49152, 0)
    assert set(s7comm.dissect(tpkt(CONNECT), ctx)) == {
        ProtocolRole(IED, "mms", "client"),
        ProtocolRole(CLIENT, "mms", "server"),
    }


@pytest.mark.parametrize("payload", [b"\x03\x00", b"\x55\x01\x02", b"\x0d"])
def test_other_dt_payloads_are_not_mms(payload: bytes) -> None:
    assert not mms.is_mms(payload)
    assert run(payload) == []


def test_a_carried_protocol_must_be_declared() -> None:
    with pytest.raises(ValueError, match="carries undeclared"):
        Registry([ProtocolSpec(name="x", title="x", carries=("nope",))])


# ---------------------------------------------------------------- corpus

MMS_CAPTURES = [
    "IEC61850/piccolo.pcap",
    "IEC61850/8d7c7db0-9804-012b-b2a6-0016cb8cea27.pcap",
    "IEC61850/MMS - Specific Commands/iec61850_read.pcap",
    "IEC61850/MMS - Specific Commands/mms-readRequest.pcap",
]
S7_CAPTURES = [
    "s7/s7comm_downloading_block_db1.pcap",
    "s7/s7comm_reading_plc_status.pcap",
    "s7/s7comm_reading_setting_plc_time.pcap",
    "s7/s7comm_varservice_libnodavedemo.pcap",
    "s7/S7-1511_db3_var1_HMI.pcap",
    "s7/s7-1200-hmi.pcap",
]


def _decode(path: Path) -> CaptureFacts:
    source = CaptureSource(str(path), path, path.stat().st_size)
    return decode_capture(source, FrameDecoder(strict=True))


def _labelled(facts: CaptureFacts, label: str) -> set[tuple[str, int, str, int]]:
    conv = facts.conversations[facts.conversations["app"] == REGISTRY.app_id(label)]
    a = address_text(conv["family"], conv["a"]).tolist()
    b = address_text(conv["family"], conv["b"]).tolist()
    return {
        (x, pa, y, pb)
        for x, pa, y, pb in zip(a, conv["port_a"].tolist(), b, conv["port_b"].tolist(), strict=True)
    }


FIELDS = ("-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "tcp.dstport")


def _tshark_mms(tshark: str, path: Path) -> set[tuple[str, int, str, int]]:
    """The TCP conversations tshark decodes MMS in, as (a, port, b, port) either way."""
    out = subprocess.run(
        [tshark, "-r", str(path), "-Y", "mms", "-T", "fields", *FIELDS],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    seen = set()
    for line in out.splitlines():
        src, sport, dst, dport = line.split("\t")
        seen.add((src, int(sport), dst, int(dport)))
        seen.add((dst, int(dport), src, int(sport)))
    return seen


@pytest.mark.parametrize("name", MMS_CAPTURES)
def test_mms_conversations_are_the_ones_tshark_decodes(
    corpus: Path, tshark: str, name: str
) -> None:
    facts = _decode(corpus / name)
    labelled = _labelled(facts, "mms")
    assert labelled
    assert labelled <= _tshark_mms(tshark, corpus / name)
    assert not _labelled(facts, "s7comm")
    assert not {k[2] for k in facts.operations} & {"s7comm", "s7comm-plus"}


def test_mms_without_its_session_start_is_still_mms(corpus: Path, tshark: str) -> None:
    # tshark decodes only the conversation whose session CONNECT is in the
    # capture; the others carry information reports from port 102.
    path = corpus / "IEC61850/Sample_File_MMS_and_GOOSE.pcap"
    facts = _decode(path)
    labelled = _labelled(facts, "mms")
    assert _tshark_mms(tshark, path) <= labelled | {(b, pb, a, pa) for a, pa, b, pb in labelled}
    servers = {(a if pa == 102 else b) for a, pa, b, _ in labelled}
    assert servers == {f"172.16.{h}" for h in ("201.2", "201.4", "201.5", "201.7", "202.5")}
    assert {k[0] for k in facts.roles if k[1:] == ("mms", "server")} == servers
    # port-102 conversations without a payload byte stay labelled by their port
    assert all(102 in (pa, pb) for _, pa, _, pb in _labelled(facts, "s7comm"))


@pytest.mark.parametrize("name", S7_CAPTURES)
def test_s7_conversations_stay_s7comm(corpus: Path, name: str) -> None:
    facts = _decode(corpus / name)
    assert _labelled(facts, "s7comm")
    assert not _labelled(facts, "mms")
    assert not {k[1] for k in facts.roles} & {"mms"}


@pytest.mark.parametrize(
    ("name", "ieds"),
    [
        ("IEC61850/8d7c7db0-9804-012b-b2a6-0016cb8cea27.pcap", {"10.101.1.3"}),
        ("IEC61850/piccolo.pcap", {"10.10.0.30"}),
        (
            "IEC61850/Sample_File_MMS_and_GOOSE.pcap",
            {f"172.16.{h}" for h in ("201.2", "201.4", "201.5", "201.7", "202.5")},
        ),
    ],
)
def test_the_mms_server_is_an_ied(tmp_path: Path, corpus: Path, name: str, ieds: set[str]) -> None:
    engine = open_store(str(tmp_path / "store.db"))
    ingest([str(corpus / name)], engine)
    with engine.connect() as conn:
        role_of = dict(
            conn.execute(
                select(asset_addresses.c.value, assets.c.role)
                .join(assets, assets.c.id == asset_addresses.c.asset_id)
                .where(asset_addresses.c.kind == "ip")
            ).all()
        )
        on_102 = {
            (a if pa == 102 else b, app)
            for a, pa, b, app in conn.execute(
                select(conversations.c.a, conversations.c.a_port, conversations.c.b,
                       conversations.c.app_protocol)
            )
        }  # fmt: skip
    assert {ip: role_of[ip] for ip in ieds} == dict.fromkeys(ieds, "ied")
    assert {ip for ip, app in on_102 if app == "mms"} == ieds

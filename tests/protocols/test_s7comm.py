"""S7comm / S7comm-plus on TCP 102: operations, roles, identity, MMS kept apart.

Messages are built byte for byte here (the layouts of docs/protocols/s7comm.md);
the corpus captures are compared with tshark's S7comm dissector, and the
dissector is fuzzed with random and truncated messages.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otseam.decode.engine import FrameDecoder, _key_bytes
from otseam.model.observations import (
    Identity,
    Malformed,
    MessageContext,
    Observation,
    Operation,
    ProtocolRole,
)
from otseam.protocols import s7comm
from otseam.sources.capture import CaptureSource, decode_capture
from tests.capturegen import (
    NS,
    Ethertype,
    Packet,
    TcpFlag,
    ethernet,
    ipv4,
    pcap,
    tcp,
    tcp_conversation,
)
from tests.conftest import start_tcpdump
from tests.walker_groups import decode_keeping_groups

OBSERVATIONS = (Identity, Operation, ProtocolRole, Malformed)
CLIENT, PLC = "10.0.0.1", "10.0.0.2"
READ_DB1 = bytes.fromhex("0401120a10020010000184000000")  # Read Var, DB1.DBB0, 16 bytes


# ---------------------------------------------------------------- builders


def tpkt(payload: bytes) -> bytes:
    """TPKT + COTP DT (last data unit) around an S7 PDU."""
    cotp = b"\x02\xf0\x80" + payload
    return struct.pack(">BBH", 3, 0, 4 + len(cotp)) + cotp


def s7(rosctr: int, param: bytes, data: bytes = b"", ref: int = 0x0100) -> bytes:
    error = b"\x00\x00" if rosctr in (2, 3) else b""
    header = struct.pack(">BBHHHH", 0x32, rosctr, 0, ref, len(param), len(data))
    return tpkt(header + error + param + data)


def pi_service(name: bytes, block: bytes = b"") -> bytes:
    param = b"\x28" + bytes(6) + b"\xfd" + struct.pack(">H", len(block)) + block
    return s7(1, param + bytes([len(name)]) + name)


def userdata_request(group: int, sub: int, data: bytes = b"") -> bytes:
    return s7(7, b"\x00\x01\x12\x04\x11" + bytes([0x40 | group, sub, 0]), data)


def szl_request(szl_id: int, index: int = 0) -> bytes:
    return userdata_request(4, 1, b"\xff\x09\x00\x04" + struct.pack(">HH", szl_id, index))


def szl_answer(body: bytes, ref: int = 0, more: bool = False, seq: int = 1) -> bytes:
    param = b"\x00\x01\x12\x08\x12\x84\x01" + bytes([seq, ref, int(more)]) + b"\x00\x00"
    return s7(7, param, b"\xff\x09" + struct.pack(">H", len(body)) + body)


def szl_0011(order: str, version: tuple[int, int, int]) -> bytes:
    module = struct.pack(">H", 1) + order.encode().ljust(20) + struct.pack(">HHH", 0xC0, 3, 1)
    firmware = struct.pack(">H", 7) + b" " * 20 + b"\x00\xc0" + b"V" + bytes(version)
    return struct.pack(">HHHH", 0x0011, 0, 28, 2) + module + firmware


def szl_001c(station: str, module: str, serial: str, module_type: str) -> bytes:
    texts = {1: station, 2: module, 4: "Original Siemens Equipment", 5: serial, 7: module_type}
    records = b""
    for index in (1, 2, 3, 4, 5, 7, 8, 9, 10, 11):
        value = (
            struct.pack(">HHH", 0x2A, 0xF600, 1) if index == 9 else texts.get(index, "").encode()
        )
        records += struct.pack(">H", index) + value.ljust(32, b"\x00")
    return struct.pack(">HHHH", 0x001C, 0, 34, 10) + records


def ctx(to_plc: bool = True) -> MessageContext:
    if to_plc:
        return MessageContext("s7comm", "tcp", CLIENT, PLC, 49152, 102, 0)
    return MessageContext("s7comm", "tcp", PLC, CLIENT, 102, 49152, 0)


def run(message: bytes, to_plc: bool = True) -> list[Observation]:
    return list(s7comm.dissect(message, ctx(to_plc)))


def operations(message: bytes, to_plc: bool = True) -> list[tuple[str, str, str, int, str]]:
    return [
        (o.src, o.dst, o.operation, o.code, o.code_name)
        for o in run(message, to_plc)
        if isinstance(o, Operation)
    ]


# ---------------------------------------------------------------- Job functions


def test_read_and_write_var() -> None:
    read = s7(1, READ_DB1)
    write = s7(
        1, b"\x05\x01\x12\x0a\x10\x02\x00\x02\x00\x01\x84\x00\x00\x00", b"\x00\x04\x00\x10ab"
    )
    assert operations(read) == [(CLIENT, PLC, "read", 4, "Read Var")]
    assert operations(write) == [(CLIENT, PLC, "write", 5, "Write Var")]


def test_roles_follow_the_job_not_the_port() -> None:
    roles = {(r.address, r.role) for r in run(s7(1, b"\x04\x00")) if isinstance(r, ProtocolRole)}
    assert roles == {(CLIENT, "client"), (PLC, "server")}


@pytest.mark.parametrize(
    ("name", "operation", "label"),
    [
        (b"_INSE", "program_download", "PI-Service _INSE (activate block)"),
        (b"_DELE", "block_delete", "PI-Service _DELE (delete block)"),
        (b"P_PROGRAM", "plc_start", "PI-Service P_PROGRAM (start PLC)"),
        (b"_GARB", "control", "PI-Service _GARB (compress memory)"),
        (b"_MODU", "config_change", "PI-Service _MODU (copy RAM to ROM)"),
        (b"_XYZ", "control", "PI-Service _XYZ"),
        (b"\xff\x00bad", "control", "PI-Service unknown"),
    ],
)
def test_pi_services_are_named(name: bytes, operation: str, label: str) -> None:
    message = pi_service(name, b"\x01\x00" + b"0A00001P")
    assert operations(message) == [(CLIENT, PLC, operation, 0x28, label)]


def test_plc_stop() -> None:
    stop = s7(1, b"\x29" + bytes(5) + b"\x09P_PROGRAM")
    assert operations(stop) == [(CLIENT, PLC, "plc_stop", 0x29, "PLC Stop")]


def test_download_blocks_are_asked_by_the_plc_for_the_programming_device() -> None:
    """In a download the PLC sends the Download block Jobs; the operation is
    still the programming device's, and the PLC still the server."""
    block = s7(1, b"\x1b\x00\x00\x00\x00\x00\x00\x00\x09_0A00001P")
    observations = run(block, to_plc=False)
    assert operations(block, to_plc=False) == [
        (CLIENT, PLC, "program_download", 0x1B, "Download block")
    ]
    assert ProtocolRole(PLC, "s7comm", "server") in observations


def test_unknown_function_is_named_by_its_code() -> None:
    assert operations(s7(1, b"\x77")) == [(CLIENT, PLC, "unknown", 0x77, "unknown-119")]


def test_answers_carry_no_operation() -> None:
    assert run(s7(3, b"\x04\x01", b"\xff\x04\x00\x10" + bytes(2)), to_plc=False) == []


# ---------------------------------------------------------------- Userdata


@pytest.mark.parametrize(
    ("group", "sub", "operation", "name"),
    [
        (7, 2, "set_time", "Time functions: Set clock"),
        (7, 1, "read", "Time functions: Read clock"),
        (5, 1, "auth", "Security: PLC password"),
        (1, 0x16, "flash_led", "Programmer commands: Flash LED"),
        (1, 0x0C, "memory_reset", "Programmer commands: Memory reset"),
        (3, 1, "read", "Block functions: List blocks"),
        (4, 1, "identify", "CPU functions: Read SZL"),
        (4, 0x55, "diagnostic", "CPU functions: unknown-85"),
        (9, 1, "unknown", "unknown-9: unknown-1"),
    ],
)
def test_userdata_requests(group: int, sub: int, operation: str, name: str) -> None:
    code = 0x7000 | group << 8 | sub
    assert operations(userdata_request(group, sub)) == [(CLIENT, PLC, operation, code, name)]


def test_identity_from_szl_0011_and_001c() -> None:
    order = run(szl_answer(szl_0011("6ES7 315-2EH14-0AB0", (3, 2, 6))), to_plc=False)
    component = szl_001c("PLC-S7-01", "CPU 315-2 PN/DP", "S C-X4U421302009", "CPU 315-2 PN/DP")
    names = run(szl_answer(component), to_plc=False)
    found = {a for o in order + names if isinstance(o, Identity) for a in o.attributes}
    assert {
        ("model", "6ES7 315-2EH14-0AB0"),
        ("order_number", "6ES7 315-2EH14-0AB0"),
        ("firmware", "V3.2.6"),
        ("name", "PLC-S7-01"),
        ("module", "CPU 315-2 PN/DP"),
        ("serial", "S C-X4U421302009"),
        ("product", "CPU 315-2 PN/DP"),
        ("vendor", "Siemens"),
    } <= found
    assert all(o.address == PLC for o in order + names if isinstance(o, Identity))


def test_identity_answer_split_over_two_data_units() -> None:
    body = szl_001c("STATION-A", "CPU 1516-3 PN/DP", "S V-L9N12345", "CPU 1516-3 PN/DP")
    first = szl_answer(body[:214], ref=6, more=True)
    follow = userdata_request(4, 1)
    last = szl_answer(body[214:], ref=6)
    dissected = run(first, to_plc=False) + run(follow) + run(last, to_plc=False)
    found = {a for o in dissected if isinstance(o, Identity) for a in o.attributes}
    assert ("name", "STATION-A") in found  # from the first unit on its own
    assert ("product", "CPU 1516-3 PN/DP") in found  # a record cut by the split
    assert ("vendor", "Siemens") in found  # in the last unit


def test_continuation_without_its_start_gives_no_identity() -> None:
    body = szl_001c("X", "Y", "Z", "W")
    lone = MessageContext("s7comm", "tcp", PLC, CLIENT, 102, 61234, 0)  # ports no other test uses
    found = s7comm.dissect(szl_answer(body[214:], ref=99), lone)
    assert not [o for o in found if isinstance(o, Identity)]


def _capture(tmp_path: Path, flows: list[tuple[bool, bytes]], cut: int = 0) -> Path:
    """A TCP 102 conversation; ``cut`` splits every PDU longer than it in two segments."""
    path = tmp_path / "s7.pcap"
    path.write_bytes(tcp_conversation(CLIENT, PLC, 102, flows, cut))
    return path


def decode(path: Path) -> dict[str, set[tuple[object, ...]]]:
    facts = decode_capture(
        CaptureSource(str(path), path, path.stat().st_size), FrameDecoder(strict=True)
    )
    return {
        "identities": {k[2:] for k in facts.identities if k[0] == PLC},
        "operations": {(*k[3:6], c.count) for k, c in facts.operations.items()},
        "malformed": set(facts.malformed),
    }


def test_identity_split_over_data_units_and_tcp_segments(tmp_path: Path) -> None:
    body = szl_001c("STATION-B", "CPU 317-2 PN/DP", "S C-B1234567", "CPU 317-2 PN/DP")
    flows = [
        (True, szl_request(0x0011)),
        (False, szl_answer(szl_0011("6ES7 317-2EK14-0AB0", (3, 2, 8)))),
        (True, szl_request(0x001C)),
        (False, szl_answer(body[:214], ref=3, more=True)),
        (True, userdata_request(4, 1)),
        (False, szl_answer(body[214:], ref=3)),
    ]
    result = decode(_capture(tmp_path, flows, cut=60))
    assert result["malformed"] == set()
    assert {
        ("model", "6ES7 317-2EK14-0AB0"),
        ("firmware", "V3.2.8"),
        ("name", "STATION-B"),
        ("serial", "S C-B1234567"),
        ("product", "CPU 317-2 PN/DP"),
        ("vendor", "Siemens"),
    } <= result["identities"]
    assert ("identify", 0x7401, "CPU functions: Read SZL", 3) in result["operations"]


def test_split_answers_of_two_plcs_on_the_same_ports_stay_apart(tmp_path: Path) -> None:
    """Two engineering stations use the same client port towards two PLCs,
    and the PLCs' split SZL answers interleave: each last part completes its
    own PLC's first part (the dissector's memory is keyed by the flow, not
    by the ports alone)."""
    frames = []
    for n, (plc, station) in enumerate((("10.0.0.21", "CPU-A"), ("10.0.0.22", "CPU-B"))):
        body = szl_001c(station, "CPU 315-2 PN/DP", f"S C-00000{n}", "CPU 315-2 PN/DP")
        frames.append((plc, 0, szl_answer(body[:100], ref=4, more=True)))
        frames.append((plc, 1, szl_answer(body[100:], ref=4)))
    frames.sort(key=lambda f: f[1])  # both first parts, then both last parts
    packets = []
    for i, (plc, part, payload) in enumerate(frames):
        client = "10.0.1.1" if plc.endswith("21") else "10.0.1.2"
        segment = tcp(102, 49152, TcpFlag.ACK | TcpFlag.PSH, payload, seq=1 + 400 * part)
        frame = ethernet(
            "02:00:00:00:00:02", "02:00:00:00:00:01", Ethertype.IPV4, ipv4(plc, client, segment)
        )
        packets.append(Packet(i * NS, frame))
    path = tmp_path / "two_plcs.pcap"
    path.write_bytes(pcap(packets))
    facts = decode_capture(
        CaptureSource(str(path), path, path.stat().st_size), FrameDecoder(strict=True)
    )
    serials = {(k[0], k[3]) for k in facts.identities if k[2] == "serial"}
    assert serials == {("10.0.0.21", "S C-000000"), ("10.0.0.22", "S C-000001")}


def test_polling_collapses_despite_changing_pdu_references(tmp_path: Path) -> None:
    """600 PDUs whose references count up fall into one group per
    direction (the PDU reference is masked), and every message is counted."""
    flows = []
    for ref in range(300):
        flows.append((True, s7(1, READ_DB1, ref=ref)))
        flows.append((False, s7(3, b"\x04\x01", b"\xff\x04\x00\x80" + bytes(16), ref=ref)))
    path = _capture(tmp_path, flows)
    facts, groups = decode_keeping_groups(path)
    assert len(groups) == 2
    assert [c.count for k, c in facts.operations.items() if k[4] == 4] == [300]


@pytest.mark.parametrize(
    "name",
    [
        "IEC61850/piccolo.pcap",
        "IEC61850/8d7c7db0-9804-012b-b2a6-0016cb8cea27.pcap",
        "IEC61850/Sample_File_MMS_and_GOOSE.pcap",
        "IEC61850/MMS - Specific Commands/iec61850_read.pcap",
        "IEC61850/MMS - Specific Commands/iec61850_write.pcap",
    ],
)
def test_mms_on_tcp_102_gives_no_s7_observations(corpus: Path, name: str) -> None:
    path = corpus / name
    facts = decode_capture(CaptureSource(str(path), path, path.stat().st_size), FrameDecoder())
    protocols = {k[2] for k in facts.operations} | {k[1] for k in facts.identities}
    protocols |= {k[1] for k in facts.roles} | {k[2] for k in facts.malformed}
    assert not protocols & {"s7comm", "s7comm-plus"}
    assert ("mms", "server") in {(k[1], k[2]) for k in facts.roles}


# ---------------------------------------------------------------- COTP, S7comm-plus, MMS


def test_cotp_connection_request_with_s7_tsaps() -> None:
    cr = bytes.fromhex("0300001611e00000000100c1020100c2020102c0010a")
    assert set(run(cr)) == {
        ProtocolRole(CLIENT, "s7comm", "client"),
        ProtocolRole(PLC, "s7comm", "server"),
        Identity(PLC, "s7comm", (("rack", "0"), ("slot", "2"))),
    }


def test_cotp_connection_confirm_with_simatic_tsaps() -> None:
    cc = bytes.fromhex("030000241fd00009000900c0010ac1020600c21053494d415449432d524f4f542d484d49")
    assert set(run(cc, to_plc=False)) == {
        ProtocolRole(CLIENT, "s7comm", "client"),
        ProtocolRole(PLC, "s7comm", "server"),
    }


def test_cotp_connection_request_with_mms_tsaps_says_nothing() -> None:
    assert run(bytes.fromhex("030000130ee00000000600c1020002c2020001")) == []


def test_mms_is_not_s7() -> None:
    connect = tpkt(bytes.fromhex("0db60506130100160102140200023302000134020001c1a0"))
    accept = tpkt(bytes.fromhex("0e95050613010016010214020002c187318184a003"))
    data = tpkt(bytes.fromhex("01000100610e300c020103a007a0050201018200"))
    seen = run(connect) + run(accept, to_plc=False) + run(data)
    assert {o.protocol for o in seen if isinstance(o, ProtocolRole)} == {"mms"}
    # the MMS services (initiate, identify: tests/protocols/test_mms.py), nothing of S7
    assert {(o.protocol, o.code_name) for o in seen if not isinstance(o, ProtocolRole)} == {
        ("mms", "initiate"),
        ("mms", "identify"),
    }


def test_s7comm_plus_request_and_response() -> None:
    request = tpkt(bytes.fromhex("7202000d310000054c0000000300000388") + bytes.fromhex("72020000"))
    response = tpkt(bytes.fromhex("72020009320000054c00000003") + bytes.fromhex("72020000"))
    assert [
        (o.protocol, o.operation, o.code, o.code_name)
        for o in run(request)
        if isinstance(o, Operation)
    ] == [("s7comm-plus", "read", 0x054C, "GetMultiVariables")]
    assert ProtocolRole(PLC, "s7comm-plus", "server") in run(response, to_plc=False)
    assert not [o for o in run(response, to_plc=False) if isinstance(o, Operation)]


# ---------------------------------------------------------------- the group key


CORPUS_S7 = [
    "s7/s7comm_downloading_block_db1.pcap",
    "s7/s7comm_reading_plc_status.pcap",
    "s7/s7comm_program_blocklist_onlineview.pcap",
    "s7/s7comm_reading_setting_plc_time.pcap",
    "s7/s7comm_varservice_libnodavedemo_bench.pcap",
    "s7/S7-1511_db3_var1_HMI.pcap",
    "s7/S7-1200-Uploading-OB1-TIAV12.pcap",
    "s7/s7-1200-hmi.pcap",
    "IEC61850/MMS - Specific Commands/iec61850_read.pcap",
]


def _pdus(tshark: str, path: Path) -> list[tuple[int, int, bytes]]:
    """(sport, dport, TPKT packet) of every whole TPKT packet in the capture."""
    out = subprocess.run(
        [tshark, "-r", str(path), "-Y", "tcp.len > 0 && tcp.port == 102", "-T", "fields",
         "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.payload"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found = []
    for line in out.splitlines():
        sport, dport, payload = line.split("\t")
        data, pos = bytes.fromhex(payload), 0
        while pos + 4 <= len(data) and data[pos] == 3:
            length = struct.unpack_from(">H", data, pos + 2)[0]
            if length < 4 or pos + length > len(data):
                break
            found.append((int(sport), int(dport), data[pos : pos + length]))
            pos += length
    return found


@pytest.mark.oracle
def test_equal_group_keys_give_equal_operations_and_roles(tshark: str, corpus: Path) -> None:
    """The contract: messages that share key bytes, length and side get the
    same Operation/ProtocolRole output, so one of them can stand for all."""
    spec = s7comm.PROTOCOL
    for name in CORPUS_S7:
        seen: dict[tuple[object, ...], list[Observation]] = {}
        for sport, dport, pdu in _pdus(tshark, corpus / name):
            context = MessageContext("s7comm", "tcp", "\0src", "\0dst", sport, dport, 0)
            output = [
                o for o in s7comm.dissect(pdu, context) if isinstance(o, Operation | ProtocolRole)
            ]
            key = (sport == 102, len(pdu), _key_bytes(spec, pdu))
            assert seen.setdefault(key, output) == output, f"{name}: {pdu.hex()}"


def _keyed_output(message: bytes, to_plc: bool) -> list[Observation]:
    return [o for o in run(message, to_plc) if isinstance(o, Operation | ProtocolRole)]


@settings(max_examples=400, deadline=None)
@given(
    st.integers(0, 6),
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=6),
    st.booleans(),
)
def test_bytes_outside_the_key_do_not_change_operations_or_roles(
    which: int, changes: list[tuple[int, int]], to_plc: bool
) -> None:
    """Masked bytes and bytes after the key may differ between the messages
    of a group: the one dissected must speak for all of them."""
    spec = s7comm.PROTOCOL
    end = spec.key_skip + spec.key_len
    free = [o for start, n in spec.key_masks for o in range(start, start + n)]
    original = VALID[which]
    changed = bytearray(original)
    for pos, value in changes:
        at = free[pos % len(free)] if pos < 100 else end + pos - 100
        if at < len(changed):
            changed[at] = value
    assert _key_bytes(spec, bytes(changed)) == _key_bytes(spec, original)
    if any(isinstance(o, Identity) for o in run(original, to_plc)):
        return  # output with an Identity is never reused for another message
    assert _keyed_output(bytes(changed), to_plc) == _keyed_output(original, to_plc)


# ---------------------------------------------------------------- tshark oracle

ORACLE_CAPTURES = [
    "s7/s7comm_downloading_block_db1.pcap",
    "s7/s7comm_reading_plc_status.pcap",
    "s7/s7comm_program_blocklist_onlineview.pcap",
    "s7/s7comm_reading_setting_plc_time.pcap",
    "s7/s7comm_varservice_libnodavedemo.pcap",
    "s7/S7Comm/s7comm_clean.pcap",
]


def _tshark_fields(tshark: str, path: Path, display: str, *fields: str) -> list[list[str]]:
    args = [tshark, "-r", str(path), "-Y", display, "-T", "fields", "-E", "occurrence=a"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def _tshark_requests(tshark: str, path: Path) -> Counter[int]:
    """Requests per code as tshark sees them: Job function codes, and
    0x7000 | group << 8 | subfunction for Userdata requests."""
    want: Counter[int] = Counter()
    rows = _tshark_fields(tshark, path, "s7comm", "s7comm.header.rosctr", "s7comm.param.func",
                          "s7comm.param.userdata.type", "s7comm.param.userdata.funcgroup",
                          "s7comm.param.userdata.subfunc")  # fmt: skip
    for rosctr, func, kind, group, sub in rows:
        for r, f in zip(rosctr.split(","), func.split(",") if func else [], strict=False):
            if r == "1":
                want[int(f, 16)] += 1
        for k, g, s in zip(kind.split(","), group.split(","), sub.split(","), strict=False):
            if k == "4":
                want[0x7000 | int(g) << 8 | int(s)] += 1
    return want


def _dissected(path: Path) -> tuple[Counter[int], dict[str, set[str]]]:
    facts = decode_capture(
        CaptureSource(str(path), path, path.stat().st_size), FrameDecoder(strict=True)
    )
    got: Counter[int] = Counter()
    for key, counted in facts.operations.items():
        if key[2] == "s7comm":
            got[key[4]] += counted.count
    identity: dict[str, set[str]] = {}
    for key in facts.identities:
        if key[1] == "s7comm":
            identity.setdefault(key[2], set()).add(key[3])
    return got, identity


@pytest.mark.oracle
@pytest.mark.parametrize("name", ORACLE_CAPTURES)
def test_request_counts_per_function_agree_with_tshark(
    tshark: str, corpus: Path, name: str
) -> None:
    want = _tshark_requests(tshark, corpus / name)
    got, _ = _dissected(corpus / name)
    assert want, "tshark found no S7comm requests"
    assert got == want


@pytest.mark.oracle
@pytest.mark.parametrize("name", [n for n in ORACLE_CAPTURES if "plc" in n or "blocklist" in n])
def test_order_number_and_firmware_agree_with_tshark(tshark: str, corpus: Path, name: str) -> None:
    rows = _tshark_fields(tshark, corpus / name, "s7comm.szl.xy11.0001.index",
                          "s7comm.szl.xy11.0001.index", "s7comm.szl.xy11.0001.anz",
                          "s7comm.szl.xy11.0001.ausbg", "s7comm.szl.xy11.0001.ausbe")  # fmt: skip
    orders, firmware = set(), set()
    for index, mlfb, ausbg, ausbe in rows:
        for i, m, g, e in zip(
            index.split(","), mlfb.split(","), ausbg.split(","), ausbe.split(","), strict=True
        ):
            if i == "0x0001":
                orders.add(m.strip())
            if i == "0x0007" and int(g) >> 8 == ord("V"):
                firmware.add(f"V{int(g) & 0xFF}.{int(e) >> 8}.{int(e) & 0xFF}")
    serials = {r[0] for r in _tshark_fields(tshark, corpus / name, "s7comm.szl.001c.0005.serialn",
                                             "s7comm.szl.001c.0005.serialn")}  # fmt: skip
    _, identity = _dissected(corpus / name)
    assert orders and identity.get("model") == orders == identity.get("order_number")
    assert identity.get("firmware", set()) == firmware
    assert identity.get("serial", set()) == serials


PLUS_CAPTURES = [
    "s7/S7-1200-Uploading-OB1-TIAV12.pcap",
    "s7/S7-1511_db3_var1_HMI.pcap",
    "s7/s7-1200-hmi.pcap",
    "s7/V13_1200_TP1200sim_MW100_Int_SPS_5s_MW102_Int_SPS_10s_MW102_ab_1000_Timer_sync.pcapng",
]


@pytest.mark.oracle
@pytest.mark.parametrize("name", PLUS_CAPTURES)
def test_s7comm_plus_requests_agree_with_tshark_cotp(tshark: str, corpus: Path, name: str) -> None:
    """tshark 4.0 has no S7comm-plus dissector: it cuts the COTP data units,
    and the requests (opcode 0x31) are counted per function from those."""
    want: Counter[int] = Counter()
    rows = _tshark_fields(tshark, corpus / name, "cotp.type == 0x0f && tcp.dstport == 102",
                          "cotp.li", "tcp.payload")  # fmt: skip
    for li, payload in rows:
        frame = bytes.fromhex(payload)[4 + int(li) + 1 :]
        if frame[:1] == b"\x72" and len(frame) > 8 and frame[4] == 0x31:
            want[int.from_bytes(frame[7:9], "big")] += 1
    path = corpus / name
    facts = decode_capture(
        CaptureSource(str(path), path, path.stat().st_size), FrameDecoder(strict=True)
    )
    got: Counter[int] = Counter()
    for key, counted in facts.operations.items():
        if key[2] == "s7comm-plus":
            got[key[4]] += counted.count
    assert want and got == want


# ---------------------------------------------------------------- robustness


VALID = [
    s7(1, READ_DB1),
    pi_service(b"_INSE", b"\x01\x000A00001P"),
    szl_answer(szl_0011("6ES7 315-2EH14-0AB0", (3, 2, 6))),
    szl_answer(szl_001c("A", "B", "C", "D")[:214], ref=1, more=True),
    szl_answer(szl_001c("A", "B", "C", "D")[214:], ref=1),
    bytes.fromhex("0300001611e00000000100c1020100c2020102c0010a"),
    tpkt(bytes.fromhex("7202000d310000054c0000000300000388") + bytes.fromhex("72020000")),
]


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_random_messages_never_raise(message: bytes, to_plc: bool) -> None:
    for obs in s7comm.dissect(message, ctx(to_plc)):
        assert isinstance(obs, OBSERVATIONS)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(VALID), st.integers(0, 400), st.binary(max_size=40), st.booleans())
def test_truncated_and_mutated_messages_never_raise(
    valid: bytes, cut: int, noise: bytes, fix_length: bool
) -> None:
    message = bytearray(valid[:cut] + noise)
    if fix_length and len(message) >= 4:
        message[2:4] = struct.pack(">H", len(message))  # a consistent TPKT around the damage
    for obs in s7comm.dissect(bytes(message), ctx(cut % 2 == 0)):
        assert isinstance(obs, OBSERVATIONS)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 255), st.integers(0, 255), st.binary(max_size=200))
def test_random_s7_parameters_never_raise(rosctr: int, func: int, rest: bytes) -> None:
    for obs in s7comm.dissect(s7(rosctr % 8, bytes([func]) + rest), ctx()):
        assert isinstance(obs, OBSERVATIONS)


# ---------------------------------------------------------------- a real stack

LAB_ADDRESS = "127.0.102.2"  # all of 127/8 is loopback; this one is the S7 test's
LAB_IDENTITY = {
    "station": "PLC-S7-01",
    "module": "CPU 315-2 PN/DP",
    "module-type": "CPU 315-2 PN/DP",
    "serial": "S C-X4U421302009",
    "order-code": "6ES7 315-2EH14-0AB0",
    "firmware": "V3.2.6",
}


def _lab(module: str, *args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", f"otseam.lab.devices.{module}", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_python_snap7_identity_and_operations(tmp_path: Path) -> None:
    """python-snap7's server and client on a loopback address, recorded by
    tcpdump: the configured identity and the client's actions come out."""
    if os.geteuid() != 0 or shutil.which("tcpdump") is None:
        pytest.skip("needs root and tcpdump to capture loopback traffic")
    pytest.importorskip("snap7", reason="python-snap7 (lab extra) is not installed")
    path = tmp_path / "s7.pcap"
    dump = start_tcpdump(path, f"host {LAB_ADDRESS} and tcp port 102")
    plc = None
    try:
        options = [item for key, value in LAB_IDENTITY.items() for item in (f"--{key}", value)]
        plc = _lab("s7_plc", "--bind", LAB_ADDRESS, "--lifetime", "60", *options)
        assert plc.stdout is not None
        assert plc.stdout.readline().strip() == b"READY", plc.stderr
        for mode in ("identify", "download", "stop", "start"):
            client = _lab("s7_client", "--host", LAB_ADDRESS, "--mode", mode, "--lifetime", "10")
            _out, err = client.communicate(timeout=30)
            assert client.returncode == 0, err.decode()
        time.sleep(0.5)
    finally:
        if plc is not None:
            plc.terminate()
            plc.wait(timeout=10)
        dump.terminate()
        dump.wait(timeout=10)
    facts = decode_capture(
        CaptureSource(str(path), path, path.stat().st_size), FrameDecoder(strict=True)
    )
    identity = {(k[2], k[3]) for k in facts.identities if k[0] == LAB_ADDRESS and k[1] == "s7comm"}
    assert {
        ("model", "6ES7 315-2EH14-0AB0"),
        ("firmware", "V3.2.6"),
        ("serial", "S C-X4U421302009"),
        ("name", "PLC-S7-01"),
        ("product", "CPU 315-2 PN/DP"),
        ("rack", "0"),
        ("slot", "2"),
    } <= identity
    done = {(k[1], k[3]) for k in facts.operations if k[2] == "s7comm"}
    assert {
        (LAB_ADDRESS, "identify"),
        (LAB_ADDRESS, "program_download"),
        (LAB_ADDRESS, "plc_stop"),
        (LAB_ADDRESS, "plc_start"),
    } <= done
    assert (LAB_ADDRESS, "s7comm", "server") in facts.roles
    assert not facts.malformed


@settings(max_examples=300, deadline=None)
@given(st.integers(2, 120), st.sampled_from(VALID), st.binary(max_size=8))
def test_long_cotp_headers_never_raise(li: int, valid: bytes, noise: bytes) -> None:
    """A DT whose header options push the S7 PDU past the group key."""
    cotp = bytes([li, 0xF0]) + bytes(li - 1) + valid[7:] + noise
    message = struct.pack(">BBH", 3, 0, 4 + len(cotp)) + cotp
    for obs in s7comm.dissect(message, ctx()):
        assert isinstance(obs, OBSERVATIONS)

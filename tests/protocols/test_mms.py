"""MMS (IEC 61850) on TCP 102: told apart from S7comm after TPKT and COTP,
labelled ``mms``, its server is an IED; requests give operations and the
Identify response an identity, as tshark decodes them (docs/protocols/mms.md)."""

from __future__ import annotations

import struct
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from otseam.decode.addresses import address_text
from otseam.decode.anchors import invoke_id_span, key_masks
from otseam.decode.engine import FrameDecoder, _key_bytes
from otseam.ingest import ingest
from otseam.model.capture import CaptureFacts
from otseam.model.observations import (
    Identity,
    Malformed,
    MessageContext,
    Observation,
    Operation,
    ProtocolRole,
)
from otseam.protocols import ber, mms, s7comm
from otseam.protocols.catalog import REGISTRY
from otseam.protocols.registry import ProtocolSpec, Registry
from otseam.sources.capture import CaptureSource, decode_capture
from otseam.store.database import open_store
from otseam.store.schema import asset_addresses, assets, conversations
from tests.capturegen import tcp_conversation
from tests.walker_groups import decode_keeping_groups

CLIENT, IED = "10.0.0.1", "10.0.0.2"
CONNECT = bytes.fromhex("0db60506130100160102140200023302000134020001c1a0")
ACCEPT = bytes.fromhex("0e95050613010016010214020002c187318184a003")
REFUSE = bytes.fromhex("0c03320100")
# GIVE TOKENS, DATA TRANSFER, fully-encoded-data 61, PDV-list 30, context 3,
# single-ASN1-type a0, confirmed-Request a0, invokeID 1, identify [2] NULL
DATA = bytes.fromhex("01000100610e300c020103a007a0050201018200")
ABORT = bytes.fromhex("1909110103")
INITIATE_REQUEST = bytes.fromhex("a81c800300fde8")
SESSION = bytes.fromhex("01000100")


def pdv(mms_pdu: bytes) -> bytes:
    """GIVE TOKENS + DATA TRANSFER, then presentation user data (short
    lengths): 61 L, 30 L, 02 01 03 (context 3), a0 L, the MMS PDU."""
    inner = b"\x02\x01\x03\xa0" + bytes([len(mms_pdu)]) + mms_pdu
    pdv_list = b"\x30" + bytes([len(inner)]) + inner
    return SESSION + b"\x61" + bytes([len(pdv_list)]) + pdv_list


def tpkt(payload: bytes) -> bytes:
    """TPKT + COTP DT (last data unit) around a session SPDU."""
    cotp = b"\x02\xf0\x80" + payload
    return struct.pack(">BBH", 3, 0, 4 + len(cotp)) + cotp


def ctx_of(to_ied: bool) -> MessageContext:
    if to_ied:
        return MessageContext("s7comm", "tcp", CLIENT, IED, 49152, 102, 0)
    return MessageContext("s7comm", "tcp", IED, CLIENT, 102, 49152, 0)


def run(payload: bytes, to_ied: bool = True) -> list[Observation]:
    return list(s7comm.dissect(tpkt(payload), ctx_of(to_ied)))


def roles(obs: list[Observation]) -> list[Observation]:
    return [o for o in obs if isinstance(o, ProtocolRole)]


def operations(obs: list[Observation]) -> list[Operation]:
    return [o for o in obs if isinstance(o, Operation)]


SERVES = [ProtocolRole(IED, "mms", "server"), ProtocolRole(CLIENT, "mms", "client")]
INITIATE = Operation(CLIENT, IED, "mms", "session", 0x108, "initiate")


@pytest.mark.parametrize(
    ("payload", "to_ied", "operation"),
    [
        (CONNECT, True, [INITIATE]),
        (ACCEPT, False, []),
        (REFUSE, False, []),
        (INITIATE_REQUEST, True, [INITIATE]),
        (DATA, True, [Operation(CLIENT, IED, "mms", "identify", 2, "identify")]),
        (DATA, False, [Operation(IED, CLIENT, "mms", "identify", 2, "identify")]),
        (ABORT, True, []),
        (ABORT, False, []),
    ],
)
def test_session_spdus_give_roles_and_the_request_operation(
    payload: bytes, to_ied: bool, operation: list[Operation]
) -> None:
    obs = run(payload, to_ied)
    assert roles(obs) == SERVES
    assert operations(obs) == operation
    assert len(obs) == 2 + len(operation)


def test_connect_decides_roles_by_direction_not_port() -> None:
    # a CONNECT sent from port 102 (a relay calling out): its sender is the client
    ctx = MessageContext("s7comm", "tcp", IED, CLIENT, 102, 49152, 0)
    assert set(roles(list(s7comm.dissect(tpkt(CONNECT), ctx)))) == {
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


# ------------------------------------------------------------ services

READ = bytes.fromhex(  # iec61850_read.pcap frame 12: read [4] of variable "mu"
    "01000100611d301b020103a016a014020100a40f800100a10aa0083006a00480026d75"
)


def test_read_request_is_a_read_operation_from_the_requester() -> None:
    obs = run(READ)
    assert operations(obs) == [Operation(CLIENT, IED, "mms", "read", 4, "read")]
    assert roles(obs) == SERVES


def request(service: bytes, invoke: bytes = b"\x01") -> bytes:
    """confirmed-Request: a0 L, invokeID 02 L id, the service element."""
    body = b"\x02" + bytes([len(invoke)]) + invoke + service
    return b"\xa0" + bytes([len(body)]) + body


@pytest.mark.parametrize(
    ("service", "code", "name", "operation"),
    [
        ("800100", 0, "status", "diagnostic"),
        ("a1050a03016162", 1, "getNameList", "read"),
        ("a500", 5, "write", "write"),
        ("b300", 19, "takeControl", "control"),
        ("bf1a00", 26, "initiateDownloadSequence", "program_download"),
        ("9e0101", 30, "uploadSegment", "program_upload"),
        ("bf2300", 35, "storeDomainContent", "program_upload"),
        ("bf2400", 36, "deleteDomain", "block_delete"),
        ("bf2700", 39, "deleteProgramInvocation", "config_change"),
        ("bf2800", 40, "start", "plc_start"),
        ("bf2900", 41, "stop", "plc_stop"),
        ("bf2a00", 42, "resume", "plc_start"),
        ("bf2b00", 43, "reset", "restart"),
        ("bf2c00", 44, "kill", "plc_stop"),
        ("bf2e00", 46, "obtainFile", "file_write"),
        ("bf3f00", 63, "getAlarmSummary", "read"),
        ("bf4800", 72, "fileOpen", "file_read"),
        ("bf4c00", 76, "fileDelete", "file_write"),
        ("bf4d00", 77, "fileDirectory", "file_read"),
        ("bf5a00", 90, "unknown-90", "unknown"),
        ("bf810000", 128, "unknown-128", "unknown"),  # two-octet tag number
    ],
)
def test_confirmed_services_are_named_and_mapped(
    service: str, code: int, name: str, operation: str
) -> None:
    pdu = request(bytes.fromhex(service))
    expected = [Operation(CLIENT, IED, "mms", operation, code, name)]
    assert operations(run(pdv(pdu))) == expected  # under session
    assert operations(run(pdu)) == expected  # bare


def test_list_of_modifiers_is_skipped_before_the_service() -> None:
    pdu = bytes.fromhex("a00c0201073003a00100bf290100")
    assert operations(run(pdv(pdu))) == [Operation(CLIENT, IED, "mms", "plc_stop", 41, "stop")]


def long_pdv(mms_pdu: bytes) -> bytes:
    """Like ``pdv``, with long-form lengths (8d7c7db0...pcap frame 44):
    61 82 .., 30 82 .., a0 82 .., then the MMS PDU."""
    inner = b"\x02\x01\x03\xa0\x82" + len(mms_pdu).to_bytes(2, "big") + mms_pdu
    pdv_list = b"\x30\x82" + len(inner).to_bytes(2, "big") + inner
    return SESSION + b"\x61\x82" + len(pdv_list).to_bytes(2, "big") + pdv_list


# getNamedVariableListAttributes [12] of domain "dom", list "nl"
GET_LIST_ATTRIBUTES = bytes.fromhex("ac0ba1091a03646f6d1a026e6c")
DELETE_SEMAPHORE = b"\xb6" + GET_LIST_ATTRIBUTES[1:]  # deleteSemaphore [22], the same name
IDENTIFY = bytes.fromhex("8200")  # identify [2] NULL


def test_long_form_lengths_and_a_two_octet_invoke_id() -> None:
    payload = long_pdv(request(GET_LIST_ATTRIBUTES, invoke=b"\x11\x52"))
    assert operations(run(payload)) == [
        Operation(CLIENT, IED, "mms", "read", 12, "getNamedVariableListAttributes")
    ]


def test_responses_report_no_operation() -> None:
    response = bytes.fromhex("a107020101a402a100")  # read response
    obs = run(pdv(response), to_ied=False)
    assert roles(obs) == SERVES
    assert operations(obs) == []


IDENTIFY_RESPONSE = bytes.fromhex(  # piccolo.pcap frame 4
    "01000100612f302d020103a028a126020101a221"
    "8009494e464f2054454348"
    "810d53363138353020666f72205043"
    "8205302e302e31"
)


def test_identify_response_gives_the_responder_identity() -> None:
    obs = run(IDENTIFY_RESPONSE, to_ied=False)
    assert obs == [
        *SERVES,
        Identity(
            IED,
            "mms",
            (
                ("vendor", "INFO TECH"),
                ("model", "S61850 for PC"),
                ("product", "S61850 for PC"),
                ("firmware", "0.0.1"),
            ),
        ),
    ]


def test_identify_response_without_revision_and_with_empty_names() -> None:
    service = bytes.fromhex("a20a80034142438100830100")
    response = b"\xa1" + bytes([3 + len(service)]) + b"\x02\x01\x01" + service
    identities = [o for o in run(pdv(response), to_ied=False) if isinstance(o, Identity)]
    assert identities == [Identity(IED, "mms", (("vendor", "ABC"),))]


def test_confirmed_error_is_an_exception_of_the_requester() -> None:
    # Sample_File_MMS_and_GOOSE.pcap frame 126: serviceError, access (7), code 2
    error = bytes.fromhex("0100010061153013020103a00ea20c800304a273a205a003870102")
    obs = run(error, to_ied=False)
    assert operations(obs) == [
        Operation(CLIENT, IED, "mms", "unknown", 0x102, "confirmed-Error: access 2", exception=True)
    ]


def test_reject_names_the_rejected_pdu() -> None:
    reject = bytes.fromhex("a406800105810102")  # originalInvokeID 5, confirmed-requestPDU 2
    assert operations(run(pdv(reject), to_ied=False)) == [
        Operation(
            CLIENT, IED, "mms", "unknown", 0x104, "reject: confirmed-requestPDU 2", exception=True
        )
    ]


CONCLUDE = Operation(CLIENT, IED, "mms", "session", 0x10B, "conclude")
CANCEL = Operation(CLIENT, IED, "mms", "session", 0x105, "cancel")
INITIATE_ERROR = Operation(CLIENT, IED, "mms", "session", 0x10A, "initiate-Error", exception=True)
REPORT = Operation(IED, CLIENT, "mms", "notify", 0x200, "informationReport")


@pytest.mark.parametrize(
    ("pdu", "to_ied", "expected"),
    [
        ("8b00", True, CONCLUDE),
        ("850101", True, CANCEL),
        ("aa03a00100", False, INITIATE_ERROR),
        ("a305a003800100", False, REPORT),
    ],
)
def test_session_pdus_and_unconfirmed_services(pdu: str, to_ied: bool, expected: Operation) -> None:
    raw = bytes.fromhex(pdu)
    assert operations(run(pdv(raw), to_ied)) == [expected]
    assert operations(run(raw, to_ied)) == [expected]  # bare


def test_unconfirmed_report_in_a_data_transfer() -> None:
    report = bytes.fromhex("a30ba009a1050403526570a000")  # informationReport [0]
    obs = run(pdv(report), to_ied=False)
    assert operations(obs) == [Operation(IED, CLIENT, "mms", "notify", 0x200, "informationReport")]
    assert roles(obs) == SERVES


def test_a_request_without_a_service_is_malformed() -> None:
    obs = run(bytes.fromhex("a003020101"))  # mms-confirmedRequestPDU.pcap frame 12
    assert operations(obs) == []
    assert [(type(o), o.reason) for o in obs if isinstance(o, Malformed)] == [
        (Malformed, "confirmed-Request without a service")
    ]


def test_a_request_split_over_several_dts_still_names_its_service() -> None:
    cut = READ[:-6]  # the PDU's lengths run past this DT; the service tag is in it
    assert operations(run(cut)) == [Operation(CLIENT, IED, "mms", "read", 4, "read")]


def test_a_service_tag_past_the_group_key_is_not_reported() -> None:
    # 60 bytes of transfer-syntax-name put the tag at message bytes 87-88
    name = b"\x06\x3c" + bytes(range(1, 61))
    pdu = request(bytes.fromhex("bf2900"))
    inner = name + b"\x02\x01\x03\xa0" + bytes([len(pdu)]) + pdu
    payload = SESSION + b"\x61" + bytes([len(inner) + 2]) + b"\x30" + bytes([len(inner)]) + inner
    assert operations(list(mms.dissect_session(payload, ctx_of(True)))) != []  # no key: read
    obs = run(payload)
    assert roles(obs) == SERVES
    assert operations(obs) == []
    keyed = list(mms.dissect_session(READ, ctx_of(True), keyed=18))  # tag at payload byte 18
    assert keyed == SERVES


def test_connect_user_data_holds_the_initiate_request() -> None:
    # CONNECT: User Data (0xC1), CP-type, AARQ, EXTERNAL, initiate-Request [8]
    pdu = mms.locate(CORPUS_CONNECT)
    assert pdu is not None and (pdu.at, pdu.number, pdu.end) == (144, 8, len(CORPUS_CONNECT))
    # ACCEPT: CPA-PPDU, AARE, initiate-Response [9]
    pdu = mms.locate(CORPUS_ACCEPT)
    assert pdu is not None and (pdu.at, pdu.number, pdu.end) == (111, 9, len(CORPUS_ACCEPT))
    # the initiate-Request lies past the group key: the CONNECT's operation
    # comes from its SPDU code, and an ACCEPT reports none
    assert operations(run(CORPUS_CONNECT)) == [INITIATE]
    assert operations(run(CORPUS_ACCEPT, to_ied=False)) == []


CORPUS_CONNECT = bytes.fromhex(  # piccolo.pcap frame 1, after TPKT and COTP
    "0db60506130100160102140200023302000134020001c1a031819da003800101a2819581040000000182"
    "0400000001a423300f0201010604520100013004060251013010020103060528ca220201300406025101"
    "61623060020101a05b6059a107060528ca220203a20706052901876701a30302010ca606060429018767"
    "a70302010cbe33283106025101020103a028a826800300ff0081010a82010a830105a416800101810305"
    "f100820c03ee1c000004000000010118"
)
CORPUS_ACCEPT = bytes.fromhex(  # piccolo.pcap frame 2
    "0e95050613010016010214020002c187318184a003800101a27d830400000001a5123007800100810251"
    "013007800100810251016161305f020101a05a6158a107060528ca220203a203020100a305a103020100"
    "a40706052901876701a50302010cbe33283106025101020103a028a926800300c0008101018201018301"
    "05a416800101810305e100820c03ee1c000004000000010010"
)


@pytest.mark.parametrize(
    "payload",
    [CONNECT, ACCEPT, DATA, READ, IDENTIFY_RESPONSE, CORPUS_CONNECT, CORPUS_ACCEPT],
)
def test_truncated_and_mutated_messages_never_raise(payload: bytes) -> None:
    allowed = (Identity, Operation, ProtocolRole, Malformed)
    for cut in range(len(payload) + 1):
        for obs in run(payload[:cut]):
            assert isinstance(obs, allowed)
    for at in range(len(payload)):
        for value in (0x00, 0x1F, 0x80, 0x84, 0xFF):
            mutated = payload[:at] + bytes([value]) + payload[at + 1 :]
            for obs in run(mutated):
                assert isinstance(obs, allowed)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0400", (0, False, 4, 2, 2)),
        ("a1820003010203", (2, True, 1, 4, 7)),
        ("bf8148020000", (2, True, 200, 4, 6)),  # tag number in two octets
        ("3080", None),  # indefinite length
        ("3085000000000100", None),  # five length octets
        ("3003010203", (0, True, 16, 2, 5)),
        ("3005010203", None),  # runs past its container
        ("bf8080808001", None),  # tag number longer than four octets
        ("bf", None),
        ("", None),
    ],
)
def test_ber_reader(raw: str, expected: tuple[int, bool, int, int, int] | None) -> None:
    data = bytes.fromhex(raw)
    found = ber.read_element(data, 0, len(data))
    got = (
        None
        if found is None
        else (found.cls, found.constructed, found.number, found.start, found.end)
    )
    assert got == expected


# -------------------------------------------------------------- sampling


def response(service: bytes, invoke: bytes) -> bytes:
    """confirmed-Response: a1 L, invokeID 02 L id, the service element."""
    body = b"\x02" + bytes([len(invoke)]) + invoke + service
    return b"\xa1" + bytes([len(body)]) + body


def _conversation(tmp_path: Path, flows: list[tuple[bool, bytes]]) -> Path:
    """One TCP 102 conversation: (to the IED?, TPKT packet) in order."""
    path = tmp_path / "mms.pcap"
    path.write_bytes(tcp_conversation(CLIENT, IED, 102, flows))
    return path


def test_services_whose_tag_is_on_an_s7_mask_are_counted_apart(tmp_path: Path) -> None:
    """Two services of one body and length, the tag at message byte 25 (S7's
    third mask), each with its own count; a poll whose two-octet invoke id
    lies past S7's masks stays one group per direction."""
    flows = []
    for n in range(30):
        flows.append((True, tpkt(pdv(request(GET_LIST_ATTRIBUTES, bytes([n + 1]))))))
        if n < 20:
            flows.append((True, tpkt(pdv(request(DELETE_SEMAPHORE, bytes([n + 100]))))))
    assert tpkt(pdv(request(GET_LIST_ATTRIBUTES)))[25] == 0xAC
    read = bytes.fromhex("a40f800100a10aa0083006a00480026d75")  # read [4] of "mu"
    for n in range(100):
        invoke = (0x0100 + 7 * n).to_bytes(2, "big")
        flows.append((True, tpkt(long_pdv(request(read, invoke)))))
        flows.append((False, tpkt(long_pdv(response(bytes.fromhex("a405a103850107"), invoke)))))
    path = _conversation(tmp_path, flows)
    facts, groups = decode_keeping_groups(path)
    counts = {key[4]: counted.count for key, counted in facts.operations.items()}
    assert counts == {12: 30, 22: 20, 4: 100}
    assert sorted(groups["count"].tolist()) == [20, 30, 100, 100]


@pytest.mark.parametrize(
    ("payload", "span"),
    [
        (pdv(request(GET_LIST_ATTRIBUTES, b"\x07")), (17, 18)),
        (pdv(request(GET_LIST_ATTRIBUTES, b"\x07\x08")), (17, 19)),
        (long_pdv(request(GET_LIST_ATTRIBUTES, b"\x11\x52")), (23, 25)),
        (request(GET_LIST_ATTRIBUTES, b"\x07"), (4, 5)),  # bare
        (pdv(response(bytes.fromhex("a400"), b"\x07")), (17, 18)),
        (IDENTIFY_RESPONSE, (17, 18)),
        (bytes.fromhex("0100010061153013020103a00ea20c800304a273a205a003870102"), (17, 20)),
        (b"\x01\xff\x00\x02\xaa\xbb" + pdv(request(IDENTIFY))[2:], (21, 22)),  # 0xFF indicator
        (b"\xa0\x81\x05\x02\x81\x02\x01\x02\x82\x00", (6, 8)),  # 0x81 lengths
        (b"\xa0\x80\x02\x01\x07\x82\x00\x00\x00", None),  # indefinite length
        (b"\xa0\x84\x00\x00\x00\x05\x02\x01\x07\x82\x00", None),  # four length octets
        (b"\xa0\x05\x02\x04\x07", None),  # the invoke id runs past the message
        (b"\xa0\x05\x30\x03\x02\x01\x07", None),  # not the first element
        (pdv(bytes.fromhex("a305a003800100")), None),  # unconfirmed: no invoke id
        (bytes.fromhex("a406800105810102"), None),  # reject: not followed
        (CORPUS_CONNECT, None),
        (SESSION, None),
        (b"", None),
    ],
)
def test_invoke_id_span(payload: bytes, span: tuple[int, int] | None) -> None:
    assert invoke_id_span(payload) == span


SAMPLED = [
    tpkt(pdv(request(GET_LIST_ATTRIBUTES, b"\x07"))),
    tpkt(pdv(request(DELETE_SEMAPHORE, b"\x07\x08"))),
    tpkt(long_pdv(request(GET_LIST_ATTRIBUTES, b"\x11\x52"))),
    tpkt(request(bytes.fromhex("bf2900"), b"\x07")),
    tpkt(pdv(request(bytes.fromhex("a40f800100a10aa0083006a00480026d75"), b"\x07"))),
    tpkt(bytes.fromhex("0100010061153013020103a00ea20c800304a273a205a003870102")),
    tpkt(pdv(bytes.fromhex("a305a003800100"))),
]


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, len(SAMPLED) - 1),
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=6),
    st.booleans(),
)
def test_bytes_outside_the_key_do_not_change_operations_or_roles(
    which: int, changes: list[tuple[int, int]], to_ied: bool
) -> None:
    """The invoke id (the one byte range masked in an MMS key) and bytes
    after the key may differ between the messages of a group: the one
    dissected must speak for all of them."""
    spec = s7comm.PROTOCOL
    end = spec.key_skip + spec.key_len
    original = SAMPLED[which]
    free = [o for start, n in key_masks(spec, original) for o in range(start, start + n)]
    changed = bytearray(original)
    for pos, value in changes:
        at = free[pos % len(free)] if pos < 100 and free else end + pos % 100
        if at < len(changed):
            changed[at] = value
    assert _key_bytes(spec, bytes(changed)) == _key_bytes(spec, original)
    ctx = ctx_of(to_ied)
    kept = (Operation, ProtocolRole)
    assert [o for o in s7comm.dissect(bytes(changed), ctx) if isinstance(o, kept)] == [
        o for o in s7comm.dissect(original, ctx) if isinstance(o, kept)
    ]


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


# ------------------------------------------------ services against tshark

SPECIFIC = "IEC61850/MMS - Specific Commands/"
SERVICE_CAPTURES = [
    "IEC61850/piccolo.pcap",
    "IEC61850/8d7c7db0-9804-012b-b2a6-0016cb8cea27.pcap",
    "IEC61850/Sample_File_MMS_and_GOOSE.pcap",
    *(
        SPECIFIC + name + ".pcap"
        for name in (
            "iec61850_get_name_list", "iec61850_get_variable_access_attributes",
            "iec61850_read", "iec61850_release", "iec61850_write", "mms-cancelRequest",
            "mms-confirmedRequestPDU", "mms-deleteProgramInvocation", "mms-getAlarmSummary",
            "mms-getDomainAttributes", "mms-initiateDownloadSequence",
            "mms-initiateUploadSequence", "mms-killRequest", "mms-readRequest",
            "mms-relinquishControl", "mms-resetRequest", "mms-resumeRequest",
            "mms-startRequest", "mms-stopRequest", "mms-takeControl",
            "mms-terminateUploadSequence",
        )
    ),
]  # fmt: skip
# MMSpdu names in tshark's Info column -> our code for them
TSHARK_PDUS = {
    "initiate-RequestPDU": 0x108,
    "conclude-RequestPDU": 0x10B,
    "cancel-RequestPDU": 0x105,
    "confirmed-ErrorPDU": 0x102,
}


def _tshark_services(tshark: str, path: Path) -> Counter[int]:
    """Per code: confirmed service requests, unconfirmed services (0x200 +
    choice) and the PDUs of ``TSHARK_PDUS``, as tshark decodes them."""
    fields = ("mms.confirmedServiceRequest", "mms.unconfirmedService", "_ws.col.Info")
    out = subprocess.run(
        [tshark, "-r", str(path), "-Y", "mms", "-T", "fields",
         *(a for f in fields for a in ("-e", f))],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found: Counter[int] = Counter()
    for line in out.splitlines():
        requests, unconfirmed, info = line.split("\t")
        found.update(int(c) for c in requests.split(",") if c)
        found.update(mms.UNCONFIRMED_CODE_BASE + int(c) for c in unconfirmed.split(",") if c)
        found.update(code for name, code in TSHARK_PDUS.items() for _ in range(info.count(name)))
    return found


def _our_services(facts: CaptureFacts) -> Counter[int]:
    found: Counter[int] = Counter()
    for (_, _, protocol, _, code, _, _), counted in facts.operations.items():
        if protocol == "mms":
            found[code] += counted.count
    return found


# What tshark leaves out, by capture: tshark takes a bare conclude-Request
# (8b 00 right after COTP) for no MMS, and decodes only the conversation of
# Sample_File whose session CONNECT is captured (the other four IEDs' 28
# information reports are not MMS to it).
ONLY_OURS = {
    "IEC61850/Sample_File_MMS_and_GOOSE.pcap": {0x200: 28},
    **{
        SPECIFIC + name + ".pcap": {0x10B: 1}
        for name in (
            "mms-cancelRequest", "mms-confirmedRequestPDU", "mms-deleteProgramInvocation",
            "mms-getAlarmSummary", "mms-getDomainAttributes", "mms-initiateDownloadSequence",
            "mms-initiateUploadSequence", "mms-killRequest", "mms-relinquishControl",
            "mms-resetRequest", "mms-resumeRequest", "mms-startRequest", "mms-stopRequest",
            "mms-takeControl", "mms-terminateUploadSequence",
        )
    },
}  # fmt: skip


@pytest.mark.parametrize("name", SERVICE_CAPTURES)
def test_service_counts_match_tshark(corpus: Path, tshark: str, name: str) -> None:
    ours = _our_services(_decode(corpus / name))
    theirs = _tshark_services(tshark, corpus / name)
    assert ours - theirs == Counter(ONLY_OURS.get(name, {}))
    assert theirs - ours == Counter()
    assert ours[0x108] == 1  # every capture opens one association


def test_engineering_services_of_the_specific_commands(corpus: Path) -> None:
    # a bare start and stop (tags bf 28, bf 29 at message bytes 12-13)
    facts = _decode(corpus / SPECIFIC / "mms-stopRequest.pcap")
    named = {(key[3], key[4], key[5]) for key in facts.operations}
    assert named == {
        ("session", 0x108, "initiate"),
        ("plc_start", 40, "start"),
        ("plc_stop", 41, "stop"),
        ("session", 0x10B, "conclude"),
    }
    assert all(counted.count == 1 for counted in facts.operations.values())


@pytest.mark.parametrize(
    "name", ["IEC61850/piccolo.pcap", "IEC61850/8d7c7db0-9804-012b-b2a6-0016cb8cea27.pcap"]
)
def test_identify_response_matches_tshark(corpus: Path, tshark: str, name: str) -> None:
    out = subprocess.run(
        [tshark, "-r", str(corpus / name), "-Y", "mms.vendorName", "-T", "fields",
         "-e", "ip.src", "-e", "mms.vendorName", "-e", "mms.modelName", "-e", "mms.revision"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    theirs = {tuple(line.split("\t")) for line in out.splitlines()}
    assert theirs
    identity: dict[str, dict[str, str]] = {}
    for address, protocol, attribute, value in _decode(corpus / name).identities:
        if protocol == "mms":
            identity.setdefault(address, {})[attribute] = value
    ours = {(a, v["vendor"], v["model"], v["firmware"]) for a, v in identity.items()}
    assert ours == theirs
    assert all(v["product"] == v["model"] for v in identity.values())

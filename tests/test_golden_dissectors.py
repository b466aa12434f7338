"""Golden tests: dissector output on corpus captures equals a committed file.

Each case decodes one capture and compares its operations, identities,
protocol roles and malformed messages (timestamps left out) with
tests/golden/<case>.json. Rewrite the files only on purpose, with
``pytest --update-golden``, and review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from otseam.decode.engine import FrameDecoder
from otseam.sources.capture import CaptureSource, decode_capture

GOLDEN = Path(__file__).parent / "golden"

CASES = {
    "modbus_test": "ModbusTCP/Modbus/modbus_test.pcap",
    "modbus_small": "bro/modbus/modbusSmall.pcap",
    "modbus_fuzz_72": "bro/modbus/fuzz-72.pcap",
    "modbus_fuzz_1011": "bro/modbus/fuzz-1011.pcap",
    "modbus_test_data_part1": "ModbusTCP/modbus_test_data_part1.pcap",
    "enip_list_identity": "EthernetIP/enip_test.pcap",
    "enip_ip_change_attempt": "openics/EIP-IPAddressChangeAttempt.pcap",
    "enip_start_plc": "EthernetIP/cip_start_plc.pcap",
    "enip_stop_plc": "EthernetIP/cip_stop_plc.pcap",
    "enip_view_device_status": "quickdraw/CL5000EIP-View Device Status.pcap",
    "cip_logix_tags": "EthernetIP/EthernetIP-CIP.pcap",
    "cip_multiple_service_packet": "EthernetIP/cip-multiple-1.pcap",
    "cip_set_attribute_reply": "EthernetIP/cip-eth-set-2.pcap",
    "cip_unlock_cpu": "EthernetIP/cip_unlock_cpu.pcap",
    "cip_forward_open": "CIP/cip_only.pcap",
    "cip_firmware_change": "openics/EIP-FirmwareChange.pcap",
    "cip_reboot": "openics/EIP-RebootorRestart.pcap",
    "cip_software_upload": "openics/EIP-SoftwareUpload.pcap",
    "cip_port_configuration": "openics/EIP-ChangePortConfigurationAttempt.pcap",
    "cip_control_protocol_change": "openics/EIP-ControlProtocolChangeAttempt.pcap",
    "profinet_dcp_set_ip": "profinet/PROFINET-RT-DCP/ChangeIPUsingDCP.pcap",
    "profinet_dcp_identify": "profinet/PROFINET-RT-DCP/PROFINET-RT.pcap",
    "profinet_dcp_vlan": "profinet/profinet-wireshark-bug.pcap",
    "profinet_rpc_read": "profinet/profinet.pcap",
    "bacnet_test": "BACnet/bacnet_test.pcap",
    "opcua_method_call": "OPC/opc-ua-ap-method-wireshark-freeze.pcap",
    "dnp3_select_operate": "dnp3/select_operate_and_responses.pcap",
    "dnp3_test_data_part1": "dnp3/dnp3_test_data_part1.pcap",
    "dnp3_file_write": "bro/dnp3/dnp3_file_write.pcap",
    "dnp3_split_fragment": "dnp3/write_vto_empty_string.pcap",
    "dnp3_malformed": "openics/DNP3-Malformed.pcap",
    "dnp3_auth": "dnp3/auth_control_challenge_response.pcap",
    "dnp3_other_port": "bro/dnp3/dnp3_read_p20001.pcap",
    "iec104_diverse": "IEC60870-5-104/090813_diverse.pcap",
    "iec104_test_dissect": "IEC60870-5-104/TestDissectIec104.pcap",
    "iec104_interrogation": "IEC60870-5-104/JavaRMI_and_IEC_Misc.pcap",
    "s7_reading_plc_status": "s7/s7comm_reading_plc_status.pcap",
    "s7_downloading_block": "s7/s7comm_downloading_block_db1.pcap",
    "s7_setting_plc_time": "s7/s7comm_reading_setting_plc_time.pcap",
    "s7_libnodave": "s7/s7comm_varservice_libnodavedemo.pcap",
    "s7_plus_1511_hmi": "s7/S7-1511_db3_var1_HMI.pcap",
    "s7_mms_iec61850_read": "IEC61850/MMS - Specific Commands/iec61850_read.pcap",
    "s7_mms_piccolo": "IEC61850/piccolo.pcap",
    "mms_iec61850_reports": "IEC61850/8d7c7db0-9804-012b-b2a6-0016cb8cea27.pcap",
    "mms_start_stop": "IEC61850/MMS - Specific Commands/mms-stopRequest.pcap",
    "http_mu_dynamics": "IEC61850/m-send-req.mms.pcap",
    "http_websocket_upgrade": "C37.118/C37118/c37118_1100_unclean.pcap",
    "smb_ntlmssp_mms_goose": "IEC61850/Sample_File_MMS_and_GOOSE.pcap",
    "dhcp_ip_change_attempt": "quickdraw/CL5000EIP-IP Address Change Attempt.pcap",
    "dns_mdns_lldp_wrapup": "s7/S7Comm/wrapup.pcapng",
    "lldp_scalance": "ModbusTCP/mb2.pcap",
    "lldp_profinet_failed": "profinet/Profinet_Failed.pcap",
    "snmp_get_mms_goose": "IEC61850/Sample_File_MMS_and_GOOSE.pcap",
}


def dissected(path: Path) -> dict[str, Any]:
    source = CaptureSource(str(path), path, path.stat().st_size)
    facts = decode_capture(source, FrameDecoder(strict=False))
    return {
        "operations": sorted([*key, counted.count] for key, counted in facts.operations.items()),
        "identities": sorted(list(key) for key in facts.identities),
        "roles": sorted(list(key) for key in facts.roles),
        "malformed": sorted([*key, counted.count] for key, counted in facts.malformed.items()),
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_dissector_output_matches_golden(case: str, corpus: Path, update_golden: bool) -> None:
    actual = json.loads(json.dumps(dissected(corpus / CASES[case])))
    golden = GOLDEN / f"{case}.json"
    if update_golden:
        golden.write_text(_dump(actual))
    assert golden.exists(), f"no golden file {golden}; run pytest --update-golden and review it"
    assert actual == json.loads(golden.read_text())


def _dump(data: dict[str, list[list[Any]]]) -> str:
    """One row per line, so that a review of a golden change reads like a table."""
    parts = []
    for key in sorted(data):
        rows = ",\n".join(f"    {json.dumps(row)}" for row in data[key])
        parts.append(f'  "{key}": [\n{rows}\n  ]' if rows else f'  "{key}": []')
    return "{\n" + ",\n".join(parts) + "\n}\n"

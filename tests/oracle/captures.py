"""The corpus captures compared with tshark, one or more per protocol.

Paths are relative to the corpus folder (tests/conftest.py ``corpus``);
several contain spaces on purpose. ``layer2`` marks captures without any IP
traffic, where only stations (MACs) can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["CAPTURES", "MODBUS_CAPTURES", "CorpusCapture", "by_id"]


@dataclass(frozen=True, slots=True)
class CorpusCapture:
    """One corpus file and why it was chosen."""

    id: str
    path: str
    why: str
    layer2: bool = False


CAPTURES: Final = (
    CorpusCapture("modbus", "bro/modbus/modbusSmall.pcap", "Modbus/TCP polling, DNS"),
    CorpusCapture(
        "modbus-arp", "ModbusTCP/mb2.pcap", "Modbus/TCP, ARP incl. a 0.0.0.0 probe, retransmits"
    ),
    CorpusCapture(
        "enip-arp",
        "quickdraw/CL5000EIP-Software Download Failure.pcap",
        "EtherNet/IP + CIP; ARP incl. a 0.0.0.0 probe; spaces in the name",
    ),
    CorpusCapture("enip", "EthernetIP/enip_test.pcap", "EtherNet/IP ListIdentity"),
    CorpusCapture("s7", "s7/s7comm_reading_plc_status.pcap", "S7comm on TCP 102, ARP"),
    CorpusCapture("dnp3", "dnp3/dnp3_test_data_part1.pcap", "DNP3 over TCP 20000"),
    CorpusCapture("bacnet", "BACnet/bacnet_test.pcap", "BACnet/IP over UDP 47808"),
    CorpusCapture("iec104", "IEC60870-5-104/090813_diverse.pcap", "IEC 104 ASDUs, NetBIOS"),
    CorpusCapture(
        "mms",
        "IEC61850/MMS - Specific Commands/iec61850_read.pcap",
        "MMS on TCP 102; spaces in the name",
    ),
    CorpusCapture(
        "mms-multicast-mac",
        "IEC61850/MMS - Specific Commands/mms-readRequest.pcap",
        "MMS over loopback addresses, one side from a multicast source MAC",
    ),
    CorpusCapture(
        "goose", "IEC61850/GOOSE/Sample_File_GOOSE.pcap", "GOOSE, VLAN-tagged, layer 2", True
    ),
    CorpusCapture("mms-goose", "IEC61850/Sample_File_MMS_and_GOOSE.pcap", "MMS and GOOSE"),
    CorpusCapture(
        "profinet", "profinet/Profinet_Failed.pcap", "PROFINET DCP, LLDP, ARP, one IPv6 packet"
    ),
    CorpusCapture("opcua", "OPC/opc-ua-ap-method-wireshark-freeze.pcap", "OPC UA binary"),
    CorpusCapture(
        "melsec", "MELSEC/melsoft_129_clean.pcap", "MELSEC on TCP; last record cut short"
    ),
    CorpusCapture("melsec-udp", "MELSEC/melsoft_UDP_unclean_1.pcap", "MELSEC on UDP, ARP, IPv6"),
    CorpusCapture("fins", "omron/omron_test.pcap", "Omron FINS on TCP and UDP 9600"),
    CorpusCapture(
        "c37118", "C37.118/C37.118_2PMUsInSync_TCP.pcap", "synchrophasors; a 0.0.0.0 sender"
    ),
    CorpusCapture("c37118-udp", "C37.118/C37.118_1PMU_UDP.pcap", "synchrophasors over UDP"),
    CorpusCapture("pcapng-ipv6", "s7/S7Comm/wrapup.pcapng", "pcapng; IPv6, ICMPv6, IGMP, ARP"),
    CorpusCapture("ads-pcapng", "beckoff/addroute.pcapng", "Beckhoff ADS/AMS, pcapng, IPv6"),
    CorpusCapture("hart-ip", "hart/hart_ip.pcap", "HART-IP, ARP"),
    CorpusCapture("fox", "fox/fox_info.pcap", "Niagara Fox"),
    CorpusCapture("umas", "modicon/modicon_test.pcap", "Modbus/UMAS (function 90)"),
)


def by_id(capture_id: str) -> CorpusCapture:
    """The capture of ``CAPTURES`` with this id."""
    return next(c for c in CAPTURES if c.id == capture_id)


# Modbus captures for the function code comparison; ``clean`` ones agree with
# tshark's default (reassembling) count, the others only after the documented
# rules in tests.oracle.modbus. modbus_test_2.pcap (925 retransmitted request
# segments) and ModbusTCP.pcap (segments of several ADUs) are clean since
# otseam filters retransmissions and groups every ADU of a segment.
MODBUS_CAPTURES: Final = {
    "bro/modbus/modbusSmall.pcap": "clean",
    "bro/modbus/modbusBig.pcap": "clean",
    "bro/modbus/fuzz-1011.pcap": "clean",
    "ModbusTCP/modbus_test_data_part1.pcap": "clean",
    "ModbusTCP/modbus_test_data_part2.pcap": "clean",
    "ModbusTCP/Modbus/modbus_test.pcap": "clean",
    "ModbusTCP/Modbus/modbus_test_2.pcap": "clean",
    "ModbusTCP/ModbusTCP.pcap": "clean",
    "ModbusTCP/mb2.pcap": "resent-with-new-data",
    "modicon/modicon_test.pcap": "within_spec",
    "bro/modbus/fuzz-72.pcap": "fuzzed",
}

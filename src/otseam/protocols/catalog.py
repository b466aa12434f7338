"""The protocols otseam knows, in one list: add a module's PROTOCOL here."""

from __future__ import annotations

from typing import Final

from otseam.protocols import (
    bacnet,
    cdp,
    dhcp,
    dnp3,
    dns,
    enip,
    http,
    iec104,
    lldp,
    mms,
    modbus,
    nbns,
    opcua,
    profinet,
    rdp,
    s7comm,
    smb,
    snmp,
    ssh,
    teamviewer,
    tls,
    vnc,
    wellknown,
)
from otseam.protocols.registry import Registry

__all__ = ["REGISTRY"]

REGISTRY: Final = Registry(
    [
        modbus.PROTOCOL,
        enip.PROTOCOL,
        dnp3.PROTOCOL,
        iec104.PROTOCOL,
        bacnet.PROTOCOL,
        opcua.PROTOCOL,
        profinet.PROTOCOL,
        s7comm.PROTOCOL,
        http.PROTOCOL,
        tls.PROTOCOL,
        ssh.PROTOCOL,
        rdp.PROTOCOL,
        vnc.PROTOCOL,
        smb.PROTOCOL,
        teamviewer.PROTOCOL,
        dhcp.PROTOCOL,
        *dns.PROTOCOLS,
        nbns.PROTOCOL,
        lldp.PROTOCOL,
        cdp.PROTOCOL,
        snmp.PROTOCOL,
        mms.PROTOCOL,  # before the label-only ones: app ids stay as they were
        *wellknown.PROTOCOLS,
    ]
)

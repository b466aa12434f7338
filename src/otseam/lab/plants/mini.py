"""The first bundled sample: two zones, a Modbus PLC, an EtherNet/IP PLC, an HMI, a bit of IT.

Enterprise IT (10.10.0.0/24) and control (10.40.0.0/24) joined by a router.
The HMI polls both PLCs, reads the Modbus PLC's identity (FC 43/14), sends an
EtherNet/IP List Identity, and writes a setpoint. An office workstation
resolves names at the ERP server's dnsmasq and browses the ERP web pages.
"""

from __future__ import annotations

from dataclasses import replace

from otseam.lab.model import Action, Finding, Host, Identity, Nic, Plant, Program, ProtocolUse, Zone
from otseam.lab.plants import programs as p

__all__ = ["plant"]

DOMAIN = "corp.example"


def plant() -> Plant:
    zones = (
        Zone("enterprise", "it", 4, ("10.10.0.0/24",), "it-infrastructure",
             "Corporate office network", "br-it"),
        Zone("control", "ot", 1, ("10.40.0.0/24",), "ot-engineering",
             "PLCs and the HMI of line 1 (Purdue levels 2 and 1)", "br-ctl"),
    )  # fmt: skip
    router = Host(
        "fw-01", "network_device",
        (Nic("enterprise", "10.10.0.1", "00:1e:bd:10:00:01"),
         Nic("control", "10.40.0.1", "00:1e:bd:40:00:01")),
        Identity(vendor="Cisco", hostname="fw-01"),
        forwarding=True, description="Router between IT and OT (nftables)",
        in_site_register=True,
    )  # fmt: skip
    plc_mb = Host(
        "plc-mb-01", "plc", (Nic("control", "10.40.0.10", "00:80:f4:40:00:10"),),
        Identity(vendor="Schneider Electric", product="Modicon M340", model="BMX P34 2020",
                 firmware="v3.20", hostname="PLC-MB-01",
                 on_wire=("vendor", "product", "model", "firmware", "hostname")),
        purdue_level=1, protocols=(ProtocolUse("modbus", "server", 502),),
        description="Modbus/TCP PLC of the tank farm (pymodbus)",
    )  # fmt: skip
    plc_mb = _with(
        plc_mb, p.modbus_plc("10.40.0.10", plc_mb.identity, "BMXP342020", "Modicon M340")
    )
    plc_enip = Host(
        "plc-enip-01", "plc", (Nic("control", "10.40.0.12", "00:00:bc:40:00:12"),),
        Identity(vendor="Rockwell Automation/Allen-Bradley", product="1756-L71/B LOGIX5571",
                 model="1756-L71", firmware="20.11", serial="0x60a1b2c3", on_wire=("product",)),
        purdue_level=1,
        protocols=(
            ProtocolUse("enip", "server", 44818),
            ProtocolUse("enip", "server", 44818, "udp"),
        ),
        description="ControlLogix PLC of the packaging line (cpppo EtherNet/IP server)",
    )  # fmt: skip
    plc_enip = _with(plc_enip, p.enip_adapter(
        "10.40.0.12", 1, 54, "20.11", 0x60A1B2C3, "1756-L71/B LOGIX5571"))  # fmt: skip
    hmi = Host(
        "hmi-01", "hmi", (Nic("control", "10.40.0.50", "00:0b:ab:40:00:50"),),
        Identity(vendor="Advantech", product="Panel PC", hostname="HMI-01"),
        purdue_level=2,
        protocols=(ProtocolUse("modbus", "client"), ProtocolUse("enip", "client")),
        description="Operator HMI polling the line's PLCs",
    )  # fmt: skip
    erp = Host(
        "erp-01", "it_server", (Nic("enterprise", "10.10.0.10", "00:14:22:10:00:10"),),
        Identity(vendor="Dell", product="PowerEdge R650", hostname="erp-01"),
        purdue_level=4,
        protocols=(ProtocolUse("http", "server", 80), ProtocolUse("dns", "server", 53, "udp")),
        description="ERP web application and the office DNS (dnsmasq)",
    )  # fmt: skip
    records = {"erp-01": "10.10.0.10", "ws-01": "10.10.0.21", "fw-01": "10.10.0.1"}
    erp = _with(
        erp,
        p.http_server("10.10.0.10", (80,), "Microsoft-IIS/10.0", "Contoso ERP"),
        p.dnsmasq("10.10.0.10", records, DOMAIN),
    )
    ws = Host(
        "ws-01", "it_workstation", (Nic("enterprise", "10.10.0.21", "f8:b1:56:10:00:21"),),
        Identity(vendor="Dell", product="OptiPlex 7090", hostname="WS-01"),
        purdue_level=4,
        protocols=(ProtocolUse("http", "client"), ProtocolUse("dns", "client")),
        description="Office workstation",
    )  # fmt: skip
    actions = (
        Action(0.02, "hmi-01", p.modbus_poll(plc_mb, 1.0), timeout=10_000),
        Action(0.03, "hmi-01", p.enip_poll(plc_enip, 2.0), timeout=10_000),
        Action(0.10, "hmi-01", p.modbus_identify(plc_mb)),
        Action(0.15, "hmi-01", p.enip_identify(plc_enip)),
        Action(0.20, "ws-01", p.dns_lookups(erp, "10.10.0.10", (f"erp-01.{DOMAIN}",))),
        Action(0.25, "ws-01", p.http_get(erp, "10.10.0.10", ("/", "/orders"), repeat=3)),
        Action(0.50, "hmi-01", p.modbus_write(plc_mb, 5, 1500)),
    )
    return Plant(
        name="otseam-lab-mini",
        description="Two zones: an office network and a PLC control network behind a router",
        zones=zones,
        hosts=(router, erp, ws, plc_mb, plc_enip, hmi),
        actions=actions,
        conduits=(),
        findings=(Finding("ics_write", "hmi-01", {"dst": "plc-mb-01", "protocol": "modbus"}),),
        taps=(("it", ("enterprise",)), ("ot", ("control",))),
        resolver="10.10.0.10",
    )


def _with(host: Host, *daemons: Program) -> Host:
    return replace(host, daemons=host.daemons + daemons)

"""The converged plant's zones and assets: names, addresses, MACs and identities.

Addresses: enterprise 10.10.0.0/24, DMZ 10.20.0.0/24, operations 10.30.0.0/24,
control 10.40.0.0/24, internet 198.51.100.0/24 and 203.0.113.0/24
(documentation ranges). MACs use the real vendor's OUI and encode zone and
host (``xx:xx:xx:<zone>:<host>``) so a frame is easy to place by eye.
"""

from __future__ import annotations

from dataclasses import replace

from otseam.lab.model import Host, Identity, Nic, Program, ProtocolUse, Zone
from otseam.lab.plants import programs as p
from otseam.lab.plants import programs_ics as ics

__all__ = ["BACNET_INSTANCE", "DOMAIN", "IEC104_ADDRESS", "ZONES", "assets"]

DOMAIN = "corp.example"
BACNET_INSTANCE = 3030
IEC104_ADDRESS = 47

ZONES = (
    Zone("enterprise", "it", 4, ("10.10.0.0/24",), "it-infrastructure",
         "Corporate office network: workstations, ERP, DNS", "br-it"),
    Zone("dmz", "dmz", 3.5, ("10.20.0.0/24",), "ot-security",
         "Industrial DMZ: historian/MES and the remote-access jump host", "br-dmz"),
    Zone("operations", "ot", 3, ("10.30.0.0/24",), "ot-engineering",
         "Site operations: SCADA server and OPC UA server", "br-ops"),
    Zone("control", "ot", 1, ("10.40.0.0/24",), "ot-engineering",
         "Line 1 control network: HMI (level 2), PLCs, RTU, building controller (level 1)",
         "br-ctl"),
    Zone("internet", "external", None, ("198.51.100.0/24", "203.0.113.0/24"), "isp",
         "The outside world (documentation addresses only)", "br-inet"),
)  # fmt: skip


def _host(name: str, role: str, nics: tuple[Nic, ...], identity: Identity, level: float | None,
          protocols: tuple[ProtocolUse, ...] = (), description: str = "",
          daemons: tuple[Program, ...] = (), default_zone: str | None = None,
          forwarding: bool = False, in_site_register: bool = False,
          updated_by: str | None = None) -> Host:  # fmt: skip
    """A host; one with ``updated_by`` is in the site file's register."""
    return Host(name, role, nics, identity, level, protocols, daemons, default_zone=default_zone,
                forwarding=forwarding, description=description,
                in_site_register=in_site_register or updated_by is not None,
                updated_by=updated_by)  # fmt: skip


def assets() -> dict[str, Host]:
    """Every host of the plant by name (the router included)."""
    hosts = [_router(), *_it(), *_dmz(), *_operations(), *_control(), *_internet()]
    return {host.name: host for host in hosts}


def _router() -> Host:
    nics = (
        Nic("enterprise", "10.10.0.1", "00:1e:bd:0a:00:01"),
        Nic("dmz", "10.20.0.1", "00:1e:bd:14:00:01"),
        Nic("operations", "10.30.0.1", "00:1e:bd:1e:00:01"),
        Nic("control", "10.40.0.1", "00:1e:bd:28:00:01"),
        Nic("internet", "198.51.100.1", "00:1e:bd:c6:00:01"),
        Nic("internet", "203.0.113.1", "00:1e:bd:cb:00:01"),
    )
    return _host("fw-01", "network_device", nics, Identity(vendor="Cisco", hostname="fw-01"),
                 None, description="Router/firewall between all zones (nftables)",
                 forwarding=True, in_site_register=True)  # fmt: skip


def _it() -> list[Host]:
    records = {"erp-01": "10.10.0.10", "hist-01": "10.20.0.10", "ws-01": "10.10.0.21",
               "ws-02": "10.10.0.22", "ws-03": "10.10.0.23", "ews-01": "10.10.0.60"}  # fmt: skip
    erp = _host(
        "erp-01", "it_server", (Nic("enterprise", "10.10.0.10", "00:14:22:0a:00:10"),),
        Identity(vendor="Dell", product="PowerEdge R650", hostname="erp-01"), 4,
        (ProtocolUse("http", "server", 80), ProtocolUse("dns", "server", 53, "udp")),
        "ERP web application and the office DNS (dnsmasq)",
        (p.http_server("10.10.0.10", (80,), "Microsoft-IIS/10.0", "Contoso ERP"),
         p.dnsmasq("10.10.0.10", records, DOMAIN)),
    )  # fmt: skip
    office = (ProtocolUse("http", "client"), ProtocolUse("dns", "client"))
    workstation = Identity(vendor="Dell", product="OptiPlex 7090")
    return [
        erp,
        _host("ws-01", "it_workstation", (Nic("enterprise", "10.10.0.21", "f8:b1:56:0a:00:21"),),
              replace(workstation, hostname="WS-01"), 4, office, "Office workstation (planner)"),
        _host("ws-02", "it_workstation", (Nic("enterprise", "10.10.0.22", "f8:b1:56:0a:00:22"),),
              replace(workstation, hostname="WS-02"), 4, office,
              "Office workstation infected with malware that scans the plant"),
        _host("ws-03", "it_workstation", (Nic("enterprise", "10.10.0.23", "f8:b1:56:0a:00:23"),),
              replace(workstation, hostname="WS-03"), 4, (*office, ProtocolUse("modbus", "client")),
              "Production-report PC reading a PLC directly over Modbus (bypasses the DMZ)"),
    ]  # fmt: skip


def _dmz() -> list[Host]:
    return [
        _host("hist-01", "historian",
              (Nic("dmz", "10.20.0.10", "3c:ec:ef:14:00:10"),),
              Identity(vendor="Supermicro", product="Plant historian / MES", hostname="hist-01"),
              3.5, (ProtocolUse("http", "server", 80), ProtocolUse("http", "server", 5450)),
              "Historian and MES: SCADA pushes to TCP 5450, the office reads TCP 80",
              (p.http_server("10.20.0.10", (80, 5450), "PlantHistorian/7.2", "Historian"),),
              in_site_register=True),
        _host("jump-01", "jump_host", (Nic("dmz", "10.20.0.20", "00:50:56:14:00:20"),),
              Identity(vendor="VMware", product="Virtual machine", hostname="jump-01"), 3.5,
              (ProtocolUse("ssh", "server", 22), ProtocolUse("ssh", "client")),
              "Remote-access jump host for vendors", (p.ssh_server("10.20.0.20"),),
              in_site_register=True),
    ]  # fmt: skip


def _operations() -> list[Host]:
    opc_identity = Identity(vendor="Contoso Automation", product="Line Gateway OPC UA Server",
                            firmware="6.14", hostname="OPC-01",
                            on_wire=("vendor", "product", "firmware", "hostname"))  # fmt: skip
    return [
        _host("scada-01", "scada_server", (Nic("operations", "10.30.0.10", "00:21:5a:1e:00:10"),),
              Identity(vendor="HP", product="ProLiant DL380", hostname="SCADA-01"), 3,
              (ProtocolUse("iec104", "client"), ProtocolUse("opcua", "client"),
               ProtocolUse("http", "client"), ProtocolUse("ssh", "server", 22),
               ProtocolUse("teamviewer", "client")),
              "SCADA server: IEC 104 master, OPC UA client, pushes to the historian",
              (p.ssh_server("10.30.0.10"),), updated_by="ot-engineering"),
        _host("opc-01", "opc_server", (Nic("operations", "10.30.0.20", "00:0c:29:1e:00:20"),),
              opc_identity, 3,
              (ProtocolUse("opcua", "server", 4840), ProtocolUse("modbus", "client")),
              "OPC UA server (asyncua) gathering line data over Modbus",
              (ics.opcua_server("10.30.0.20", opc_identity),), updated_by="ot-engineering"),
    ]  # fmt: skip


def _control() -> list[Host]:
    mb = Identity(
        vendor="Schneider Electric",
        product="Modicon M340",
        model="BMX P34 2020",
        firmware="v3.20",
        hostname="PLC-MB-01",
        on_wire=("vendor", "product", "model", "firmware", "hostname"),
    )
    s7 = Identity(
        vendor="Siemens",
        product="SIMATIC S7-300 CPU 315-2 PN/DP",
        model="6ES7 315-2EH14-0AB0",
        firmware="V3.2.6",
        serial="S C-X4U421302009",
        hostname="PLC-S7-01",
        on_wire=("model", "serial", "hostname"),
    )
    enip = Identity(
        vendor="Rockwell Automation/Allen-Bradley",
        product="1756-L71/B LOGIX5571",
        model="1756-L71",
        firmware="20.11",
        serial="0x60a1b2c3",
        on_wire=("product",),
    )
    rtu = Identity(
        vendor="WAGO", product="PFC200 IEC 60870-5-104 RTU", model="750-8212", hostname="RTU-104-01"
    )
    bms = Identity(
        vendor="Johnson Controls, Inc.",
        product="AHU-1 sequence v2",
        model="MS-FEC2611-0",
        firmware="10.1",
        serial="JC-FEC-0042",
        hostname="AHU-01",
        on_wire=("vendor", "model", "firmware", "serial"),
    )
    return [
        _host("plc-mb-01", "plc", (Nic("control", "10.40.0.10", "00:80:f4:28:00:10"),), mb, 1,
              (ProtocolUse("modbus", "server", 502),), "Tank-farm PLC (pymodbus)",
              (p.modbus_plc("10.40.0.10", mb, "BMXP342020", "Modicon M340"),),
              updated_by="integrator"),
        _host("plc-s7-01", "plc", (Nic("control", "10.40.0.11", "00:1b:1b:28:00:11"),), s7, 1,
              (ProtocolUse("s7comm", "server", 102),), "Mixer PLC (python-snap7)",
              (ics.s7_plc("10.40.0.11", s7, "6ES7 315-2EH14-0AB0", "CPU 315-2 PN/DP"),),
              updated_by="integrator"),
        _host("plc-enip-01", "plc", (Nic("control", "10.40.0.12", "00:00:bc:28:00:12"),), enip, 1,
              (ProtocolUse("enip", "server", 44818), ProtocolUse("enip", "server", 44818, "udp")),
              "Packaging PLC (cpppo EtherNet/IP)",
              (p.enip_adapter("10.40.0.12", 1, 54, "20.11", 0x60A1B2C3, "1756-L71/B LOGIX5571"),),
              updated_by="integrator"),
        _host("rtu-104-01", "rtu", (Nic("control", "10.40.0.20", "00:30:de:28:00:20"),), rtu, 1,
              (ProtocolUse("iec104", "server", 2404),), "Substation feeder RTU (c104)",
              (ics.iec104_rtu("10.40.0.20", IEC104_ADDRESS),), updated_by="integrator"),
        _host("bms-01", "plc", (Nic("control", "10.40.0.30", "00:10:8d:28:00:30"),), bms, 1,
              (ProtocolUse("bacnet", "server", 47808, "udp"),),
              "Air-handling unit controller (bacpypes3 BACnet/IP)",
              (ics.bacnet_device("10.40.0.30", bms, BACNET_INSTANCE, 5),)),
        _host("hmi-01", "hmi", (Nic("control", "10.40.0.50", "00:0b:ab:28:00:50"),),
              Identity(vendor="Advantech", product="Panel PC", hostname="HMI-01"), 2,
              tuple(ProtocolUse(name, "client") for name in
                    ("modbus", "s7comm", "enip", "bacnet")),
              "Operator HMI polling the line's controllers", updated_by="ot-engineering"),
        _host("ews-01", "engineering_workstation",
              (Nic("control", "10.40.0.60", "00:1a:a0:28:00:60"),
               Nic("enterprise", "10.10.0.60", "00:1a:a0:0a:00:60")),
              Identity(vendor="Dell", product="Precision 3660", hostname="EWS-01"), 2,
              (ProtocolUse("s7comm", "client"), ProtocolUse("modbus", "client"),
               ProtocolUse("http", "client"), ProtocolUse("dns", "client"),
               ProtocolUse("mdns", "client", 5353, "udp")),
              "Engineering workstation with one NIC in control and one in the office network",
              default_zone="enterprise", updated_by="it-infrastructure"),
    ]  # fmt: skip


def _internet() -> list[Host]:
    return [
        _host("vendor-01", "it_workstation",
              (Nic("internet", "198.51.100.20", "00:e0:4c:c6:00:20"),),
              Identity(vendor="Realtek", product="Vendor engineer laptop"), None,
              (ProtocolUse("ssh", "client"),), "The integrator's engineer, at home"),
        _host("relay-01", "it_server", (Nic("internet", "203.0.113.50", "00:50:56:cb:00:50"),),
              Identity(product="Remote-desktop relay"), None,
              (ProtocolUse("teamviewer", "server", 5938),),
              "A TeamViewer-like relay on the internet",
              (p.remote_desktop_relay("203.0.113.50"),)),
    ]  # fmt: skip

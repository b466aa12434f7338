"""The converged plant: five zones, nineteen assets, and a scenario of a few minutes.

What happens (times are fractions of ``--duration``):

- all along: the HMI polls the Modbus, S7, EtherNet/IP and BACnet controllers;
  the SCADA server supervises the IEC 104 RTU, reads the OPC UA server and
  pushes to the historian in the DMZ; the OPC UA server polls the Modbus PLC;
  office workstations use DNS and the ERP, and read the historian.
- identification: Modbus FC 43/14, List Identity, BACnet Who-Is (when the HMI's
  BACnet client starts) and S7 SZL reads.
- the engineering workstation (dual-homed) reads the S7 PLC's identity,
  downloads DB10, stops the PLC and restarts it, and writes to the Modbus PLC;
  it announces its name by mDNS on both of its interfaces.
- the vendor's approved path: SSH from the internet to the DMZ jump host and on
  to the SCADA server.
- the unapproved path: the SCADA server opens a TeamViewer-like session to a
  relay on the internet (TCP 5938).
- the infected office PC scans five OT hosts on eight ports (40 probes).
- the production-report PC reads the Modbus PLC directly, bypassing the DMZ.
- the SCADA server sends an IEC 104 breaker command (20 s into its session,
  on its supervising connection) and writes an OPC UA setpoint.
"""

from __future__ import annotations

from otseam.lab.model import Action, Channel, Conduit, Finding, Host, Plant, Team
from otseam.lab.plants import programs as p
from otseam.lab.plants import programs_ics as ics
from otseam.lab.plants.converged_assets import (
    BACNET_INSTANCE,
    DOMAIN,
    IEC104_ADDRESS,
    ZONES,
    assets,
)

__all__ = ["SCAN_PORTS", "SCAN_TARGETS", "plant"]

Detail = dict[str, str | int | list[str] | list[int]]

SCAN_TARGETS = ("plc-mb-01", "plc-s7-01", "plc-enip-01", "rtu-104-01", "hmi-01")
SCAN_PORTS = (22, 80, 102, 443, 502, 2404, 4840, 44818)
FOREVER = 10_000.0  # pollers run until the scenario's end; the runner bounds them
COMMAND_AFTER = 20.0  # seconds into the SCADA's IEC 104 session: the breaker command


def plant() -> Plant:
    a = assets()
    mb, s7, enip, rtu, bms = (a[n] for n in ("plc-mb-01", "plc-s7-01", "plc-enip-01",
                                             "rtu-104-01", "bms-01"))  # fmt: skip
    erp, hist, opc, jump, scada = (a[n] for n in ("erp-01", "hist-01", "opc-01", "jump-01",
                                                  "scada-01"))  # fmt: skip
    hmi_ip = a["hmi-01"].ips[0]
    lookups = tuple(f"{name}.{DOMAIN}" for name in ("erp-01", "hist-01"))
    actions = (
        # cyclic traffic, all along
        Action(0.01, "hmi-01", p.modbus_poll(mb, 1.0), FOREVER),
        Action(0.01, "hmi-01", ics.s7_poll(s7, 2.0), FOREVER),
        Action(0.02, "hmi-01", p.enip_poll(enip, 2.0), FOREVER),
        Action(0.02, "hmi-01", ics.bacnet_poll(hmi_ip, bms, BACNET_INSTANCE, 5.0), FOREVER),
        Action(0.02, "scada-01", ics.iec104_poll(rtu, IEC104_ADDRESS, COMMAND_AFTER), FOREVER),
        Action(0.03, "scada-01", ics.opcua_poll(opc, 3.0), FOREVER),
        Action(0.03, "opc-01", p.modbus_poll(mb, 3.0), FOREVER),
        Action(0.04, "scada-01", p.http_get(hist, "10.20.0.10", ("/api/ingest",), port=5450,
                                            repeat=30, interval=10.0, post=True), FOREVER),
        Action(0.05, "ws-01", p.http_get(erp, "10.10.0.10", ("/", "/orders"), repeat=8,
                                         interval=20.0), FOREVER),
        Action(0.06, "ws-01", p.http_get(hist, "10.20.0.10", ("/trends/line1",), repeat=5,
                                         interval=30.0), FOREVER),
        # names and identities
        Action(0.05, "ws-01", p.dns_lookups(erp, "10.10.0.10", lookups)),
        Action(0.06, "ews-01", p.mdns_announce("EWS-01", tuple(a["ews-01"].ips))),
        Action(0.07, "ews-01", p.dns_lookups(erp, "10.10.0.10", (f"erp-01.{DOMAIN}",))),
        Action(0.08, "ews-01", p.http_get(erp, "10.10.0.10", ("/timesheets",))),
        Action(0.10, "hmi-01", p.modbus_identify(mb)),
        Action(0.11, "hmi-01", p.enip_identify(enip)),
        # the vendor's approved path
        Action(0.15, "vendor-01", p.ssh_session(jump, "10.20.0.20", 15.0, then=scada), 60.0),
        # engineering work from the dual-homed workstation
        Action(0.25, "ews-01", ics.s7_action(s7, "identify")),
        Action(0.30, "ews-01", ics.s7_action(s7, "download")),
        Action(0.40, "ews-01", ics.s7_action(s7, "stop")),
        Action(0.45, "ews-01", ics.s7_action(s7, "start")),
        Action(0.50, "ews-01", p.modbus_write(mb, 5, 1500)),
        # the infected office PC
        Action(0.55, "ws-02", p.dns_lookups(erp, "10.10.0.10", (f"erp-01.{DOMAIN}",))),
        Action(0.56, "ws-02", p.port_scan(tuple(a[n] for n in SCAN_TARGETS), SCAN_PORTS), 60.0),
        # the unapproved remote-access session
        Action(0.60, "scada-01", p.remote_desktop_agent(a["relay-01"], 25.0), 60.0),
        # the IT-to-PLC bypass
        Action(0.65, "ws-03", p.modbus_poll(mb, 3.0), 20.0),
        # operator commands
        Action(0.75, "scada-01", ics.opcua_write(opc, 850.0)),
    )  # fmt: skip
    return Plant(
        name="otseam-lab-converged",
        description="A converged plant: office IT, an industrial DMZ, operations and control",
        zones=ZONES,
        hosts=tuple(a.values()),
        actions=actions,
        conduits=_conduits(),
        channels=_channels(),
        teams=_teams(),
        findings=_findings(a),
        taps=(("boundary", ("enterprise", "dmz", "internet")), ("ot", ("operations", "control"))),
        firewall_exceptions=(
            'ip saddr 10.10.0.0/24 ip daddr 10.40.0.0/24 accept comment "TEMP integrator access"',
            'ip saddr 10.30.0.10 ip daddr 203.0.113.0/24 tcp dport 5938 accept comment "support"',
        ),
        resolver="10.10.0.10",
        min_duration=60.0,
    )


def _conduits() -> tuple[Conduit, ...]:
    return (
        Conduit("office-reads-historian", "enterprise", "dmz", (("http", "tcp", 80),),
                "ot-security", "Office users read trends from the historian"),
        Conduit("scada-pushes-historian", "operations", "dmz", (("http", "tcp", 5450),),
                "ot-security", "SCADA pushes process data to the historian"),
        Conduit("vendor-remote-access", "internet", "dmz", (("ssh", "tcp", 22),),
                "ot-security", "Vendors reach the jump host over SSH"),
        Conduit("jump-to-operations", "dmz", "operations", (("ssh", "tcp", 22),),
                "ot-security", "The jump host reaches the SCADA server"),
        Conduit("scada-to-control", "operations", "control",
                (("iec104", "tcp", 2404), ("modbus", "tcp", 502)),
                "ot-engineering", "SCADA and OPC servers poll the line"),
    )  # fmt: skip


def _channels() -> tuple[Channel, ...]:
    return (
        Channel("vendor-ssh", "ssh", ("vendor-01", "jump-01"), "tcp", 22, True, "ot-security",
                "Integrator SSH to the DMZ jump host, then on to scada-01",
                vendor="Integrator GmbH"),
        Channel("scada-teamviewer", "teamviewer", ("relay-01", "scada-01"), "tcp", 5938, False,
                None, "TeamViewer-like session dialled out from scada-01; not approved",
                vendor="TeamViewer"),
    )  # fmt: skip


def _teams() -> tuple[Team, ...]:
    return (
        Team("it-infrastructure", "it-infra@corp.example", ("enterprise",), kind="it"),
        Team("ot-security", "ot-security@corp.example", ("dmz",), kind="ot"),
        Team("ot-engineering", "ot-engineering@corp.example", ("operations", "control"), kind="ot"),
        Team("isp", "noc@isp.example", ("internet",), kind="other"),
        Team("integrator", "support@integrator.example", (), kind="vendor"),
    )


def _findings(a: dict[str, Host]) -> tuple[Finding, ...]:
    """What otseam must report, in its finding vocabulary (docs/convergence.md).

    Each detail names the addresses involved, so that a test can tell the
    finding otseam reports from any other of the same kind.
    """
    ip = {name: host.ips[0] for name, host in a.items()}
    ews_ot, ews_it = a["ews-01"].ips
    bypass: Detail = {
        "src_ip": ip["ws-03"],
        "dst": "plc-mb-01",
        "dst_ip": ip["plc-mb-01"],
        "src_zone": "enterprise",
        "dst_zone": "control",
        "dst_port": 502,
        "app_protocol": "modbus",
    }
    support: Detail = {
        "src_ip": ip["scada-01"],
        "dst": "relay-01",
        "dst_ip": ip["relay-01"],
        "dst_port": 5938,
        "app_protocol": "teamviewer",
    }
    ews_ops = [("plc-s7-01", "s7comm", op) for op in ("program_download", "plc_stop", "plc_start")]
    ews_ops.append(("plc-mb-01", "modbus", "write"))
    return (
        Finding("dual_homed", "ews-01",
                {"zones": ["control", "enterprise"], "ips": [ews_ot, ews_it]}),
        Finding("scan", "ws-02",
                {"src_ip": ip["ws-02"], "targets": list(SCAN_TARGETS), "ports": list(SCAN_PORTS),
                 "src_zone": "enterprise", "dst_zone": "control"}),
        Finding("it_ot_crossing", "ws-03", bypass),
        Finding("dmz_bypass", "ws-03", bypass),
        Finding("unapproved_conduit", "ws-03", bypass),
        Finding("unapproved_conduit", "scada-01",
                {**support, "src_zone": "operations", "dst_zone": "internet"}),
        Finding("remote_access", "scada-01", support),
        Finding("external_channel", "scada-teamviewer", {**support, "status": "unapproved"}),
        Finding("unowned", "scada-teamviewer", {"subject_kind": "channel"}),
        *(Finding("ics_operation_from_it", "ews-01",
                  {"src_ip": ews_ot, "dst": dst, "dst_ip": ip[dst], "protocol": protocol,
                   "operation": operation})
          for dst, protocol, operation in ews_ops),
    )  # fmt: skip

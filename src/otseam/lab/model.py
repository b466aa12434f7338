"""The plant as data: zones, hosts, the programs they run, and what the scenario does.

A plant definition (``otseam.lab.plants``) is a :class:`Plant` value. The
fabric builds it, the scenario runs it, and the truth file and site file are
written from it, so what the lab claims is exactly what it built.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ROLES",
    "Action",
    "Channel",
    "Conduit",
    "Finding",
    "Flow",
    "Host",
    "Identity",
    "Nic",
    "Operation",
    "Plant",
    "Program",
    "ProtocolUse",
    "Team",
    "Zone",
]

ZoneKind = Literal["it", "dmz", "ot", "external"]
Transport = Literal["tcp", "udp"]
ProtocolRole = Literal["server", "client"]

ROLES = (
    "plc",
    "rtu",
    "ied",
    "hmi",
    "engineering_workstation",
    "scada_server",
    "opc_server",
    "historian",
    "network_device",
    "it_workstation",
    "it_server",
    "jump_host",
    "gateway",
)


@dataclass(frozen=True)
class Zone:
    """One network zone: a bridge in the fabric and one or more subnets."""

    name: str
    kind: ZoneKind
    purdue_level: float | None
    cidrs: tuple[str, ...]
    owner: str
    description: str
    bridge: str  # interface name of the zone's bridge, at most 15 characters

    def contains(self, ip: str) -> bool:
        address = ipaddress.ip_address(ip)
        return any(address in ipaddress.ip_network(cidr) for cidr in self.cidrs)


@dataclass(frozen=True)
class Nic:
    """One interface of a host: a veth end in the host, a port on the zone bridge."""

    zone: str
    ip: str
    mac: str
    prefix: int = 24


@dataclass(frozen=True)
class Identity:
    """What the device says about itself (set in its stack's configuration)."""

    vendor: str | None = None
    product: str | None = None
    model: str | None = None
    firmware: str | None = None
    serial: str | None = None
    hostname: str | None = None
    on_wire: tuple[str, ...] = ()  # the fields above that the device itself sends as text


@dataclass(frozen=True)
class ProtocolUse:
    name: str
    role: ProtocolRole
    port: int | None = None
    transport: Transport = "tcp"


@dataclass(frozen=True)
class Flow:
    """A conversation a program opens: from its host to ``dst_ip``."""

    dst: str  # asset name
    dst_ip: str
    dst_port: int
    transport: Transport
    app_protocol: str
    src_ip: str | None = None  # set when the host has several interfaces
    src: str | None = None  # asset that opens it, when not the program's own host (an SSH hop)


@dataclass(frozen=True)
class Operation:
    """An ICS operation a program performs on another asset."""

    dst: str
    protocol: str
    operation: str  # write | plc_stop | plc_start | program_download | read_identity | ...
    detail: str = ""


@dataclass(frozen=True)
class Program:
    """A process the lab starts in a host's namespace.

    ``module`` is a module under ``otseam.lab.devices`` run with the lab's
    Python; ``exe`` is an external program (dnsmasq, sshd, ssh). Daemons print
    ``READY`` on stdout once they listen (external ones are checked by port).
    """

    label: str
    stack: str  # the real software behind it, named in error messages
    args: tuple[str, ...]
    module: str | None = None
    exe: str | None = None
    ready_port: int | None = None  # external daemons: ready once this TCP/UDP port is bound
    requires: tuple[str, ...] = ()  # Python modules the stack imports, checked before the run
    flows: tuple[Flow, ...] = ()
    operations: tuple[Operation, ...] = ()


@dataclass(frozen=True)
class Host:
    """One namespace: an asset of the plant (or the router between zones)."""

    name: str
    role: str
    nics: tuple[Nic, ...]
    identity: Identity
    purdue_level: float | None = None
    protocols: tuple[ProtocolUse, ...] = ()
    daemons: tuple[Program, ...] = ()
    default_zone: str | None = None  # zone whose router address is the default route
    forwarding: bool = False
    description: str = ""
    in_site_register: bool = False  # the site file names this asset (an override)
    updated_by: str | None = None  # the team the site file says applies its updates

    @property
    def namespace(self) -> str:
        return f"ots-{self.name}"

    @property
    def ips(self) -> tuple[str, ...]:
        return tuple(nic.ip for nic in self.nics)

    def nic_in(self, zone: str) -> Nic:
        for nic in self.nics:
            if nic.zone == zone:
                return nic
        raise KeyError(f"host {self.name!r} has no interface in zone {zone!r}")


@dataclass(frozen=True)
class Action:
    """A scripted step: run ``program`` on ``host`` at ``at`` (a fraction of the run)."""

    at: float
    host: str
    program: Program
    timeout: float = 30.0


@dataclass(frozen=True)
class Conduit:
    """An allowed path between two zones (IEC 62443 sense), as the site file states it."""

    name: str
    src_zone: str
    dst_zone: str
    services: tuple[tuple[str, Transport, int], ...]  # (app_protocol, transport, port)
    owner: str
    description: str = ""


@dataclass(frozen=True)
class Channel:
    """A remote-access path into the plant."""

    name: str
    kind: str  # ssh | teamviewer | vpn
    endpoints: tuple[str, str]  # (outside end, inside end), asset names
    transport: Transport
    port: int
    approved: bool
    manager: str | None
    description: str = ""
    vendor: str | None = None  # who is at the outside end (the site file's register states it)


@dataclass(frozen=True)
class Team:
    name: str
    contact: str
    zones: tuple[str, ...]
    kind: str = "other"  # it | ot | production | vendor | other (otseam.site.model.PARTY_KINDS)


@dataclass(frozen=True)
class Finding:
    """Something otseam must report from the capture."""

    kind: str
    subject: str
    detail: dict[str, str | int | list[str] | list[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Plant:
    name: str
    description: str
    zones: tuple[Zone, ...]
    hosts: tuple[Host, ...]
    actions: tuple[Action, ...] = ()
    conduits: tuple[Conduit, ...] = ()
    channels: tuple[Channel, ...] = ()
    teams: tuple[Team, ...] = ()
    findings: tuple[Finding, ...] = ()
    taps: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (tap name, zones mirrored)
    firewall_exceptions: tuple[str, ...] = ()  # nft rules beyond the conduits
    resolver: str | None = None  # the plant's DNS server, written to every host's resolv.conf
    min_duration: float = 20.0  # seconds; shorter runs cannot fit the scenario's steps

    def zone(self, name: str) -> Zone:
        for zone in self.zones:
            if zone.name == name:
                return zone
        raise KeyError(f"plant {self.name!r} has no zone {name!r}")

    def host(self, name: str) -> Host:
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(f"plant {self.name!r} has no host {name!r}")

    def zone_of_ip(self, ip: str) -> Zone | None:
        for zone in self.zones:
            if zone.contains(ip):
                return zone
        return None

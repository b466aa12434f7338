"""What the convergence analysis concludes: zones, conduits, channels, findings, owners.

:func:`otseam.analysis.convergence.analyse` builds a :class:`Convergence` from
the store's facts and the site file; outputs (CLI, export, map) only read it.
Times are nanoseconds since the epoch, like the rest of the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

__all__ = [
    "FINDING_KINDS",
    "SEVERITIES",
    "AssetEdge",
    "ChannelStatus",
    "ChannelUse",
    "ConduitUse",
    "Convergence",
    "Finding",
    "Placement",
    "Responsibility",
    "Responsible",
    "Severity",
    "ZoneUse",
]

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: Final = ("info", "low", "medium", "high", "critical")
ChannelStatus = Literal["approved", "unapproved", "unknown", "outside_window", "unused"]
FINDING_KINDS: Final = (
    "it_ot_crossing",
    "dmz_bypass",
    "unapproved_conduit",
    "dual_homed",
    "remote_access",
    "external_channel",
    "ics_operation_from_it",
    "insecure_protocol",
    "scan",
    "unowned",
    "firmware_change",
)


@dataclass(frozen=True, slots=True)
class ZoneUse:
    """A zone, from the site file or proposed from traffic, with what it holds."""

    name: str
    kind: str  # it | dmz | ot | external
    purdue_level: float | None
    cidrs: tuple[str, ...]
    vlans: tuple[int, ...]
    owner: str | None
    source: Literal["site", "suggested"]
    evidence: str  # why this zone exists / has this kind
    assets: int = 0
    description: str = ""


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one asset sits: its zone and Purdue level, with the evidence."""

    asset_id: int
    key: str
    name: str  # the site's name, else the observed name, else the first address
    role: str
    ips: tuple[str, ...]
    macs: tuple[str, ...]
    zone: str | None  # None: an address in no zone (and not public)
    zones: tuple[str, ...]  # every zone one of its addresses is in
    purdue_level: float | None
    evidence: str
    is_gateway: bool = False


@dataclass(frozen=True, slots=True)
class ConduitUse:
    """One cell of the zone x zone matrix: traffic initiated in ``src_zone``."""

    src_zone: str
    dst_zone: str
    services: tuple[str, ...]  # "modbus/tcp/502", "tcp/8080"
    conversations: int
    packets: int
    bytes: int
    first_seen: int
    last_seen: int
    crossing: bool  # the zones differ
    it_ot: bool  # one side is IT, the other OT
    allowed: bool | None  # None: the site file states no conduits
    conduits: tuple[str, ...] = ()  # the site conduits that allow (some of) it
    denied_services: tuple[str, ...] = ()  # services no conduit allows


@dataclass(frozen=True, slots=True)
class AssetEdge:
    """Asset-level map edge: who talks to whom, initiated by ``src``."""

    src: str  # asset name (Placement.name)
    dst: str
    src_zone: str | None
    dst_zone: str | None
    services: tuple[str, ...]
    conversations: int
    bytes: int
    crossing: bool


@dataclass(frozen=True, slots=True)
class ChannelUse:
    """An external channel: registered, found in traffic, or both."""

    name: str
    kind: str
    status: ChannelStatus
    registered: bool
    approved: bool | None
    manager: str | None
    vendor: str | None
    inside: tuple[str, ...]  # plant-side addresses seen (or registered)
    outside: tuple[str, ...]
    services: tuple[str, ...]
    sessions: int
    packets: int
    bytes: int
    first_seen: int | None
    last_seen: int | None
    evidence: str = ""


@dataclass(frozen=True, slots=True)
class Responsible:
    """A party named for a finding or subject, on one side of the seam."""

    party: str
    role: str  # owner | manager | updated_by | notify | zone_owner | monitoring
    side: str | None  # it | ot | production | vendor | other
    contact: str | None


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a person should look at, with the evidence and who is responsible."""

    id: str  # stable: the same fact gives the same id across ingests
    kind: str
    severity: Severity
    title: str
    zone: str | None
    assets: tuple[str, ...]
    channel: str | None
    evidence: dict[str, Any]
    owners: tuple[Responsible, ...]
    state: str = "open"  # open | acknowledged | suppressed
    state_by: str | None = None
    state_why: str | None = None


@dataclass(frozen=True, slots=True)
class Responsibility:
    """Who owns, updates and is notified for one asset, zone or channel."""

    subject_kind: Literal["asset", "zone", "channel"]
    subject: str
    zone: str | None
    owner: str | None
    owner_source: str  # site | zone | none
    updated_by: str | None
    notify: tuple[str, ...]
    role: str | None = None  # the asset's role
    criticality: str | None = None
    key: str | None = None  # the asset's key (names of assets need not be unique)


@dataclass(frozen=True, slots=True)
class Convergence:
    """The whole picture: everything the convergence outputs read."""

    site_name: str
    site_given: bool
    zones: tuple[ZoneUse, ...]
    placements: tuple[Placement, ...]
    conduits: tuple[ConduitUse, ...]
    edges: tuple[AssetEdge, ...]
    channels: tuple[ChannelUse, ...]
    findings: tuple[Finding, ...]
    responsibilities: tuple[Responsibility, ...]
    monitoring: dict[str, Any] = field(default_factory=dict)

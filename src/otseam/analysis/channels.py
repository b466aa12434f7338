"""External channels and remote access into production.

An external channel is traffic between an OT or DMZ zone and an address
outside the site (a public address, or a zone of kind external), and any VPN
(IKE/IPsec, OpenVPN, WireGuard) or remote-support tool (TeamViewer, AnyDesk)
reaching OT or the DMZ. Each is matched against the site's channel register:

- ``approved``: a registered, approved channel used inside its maintenance
  windows; ``outside_window``: approved, but used outside them;
- ``unapproved``: registered as not approved; ``unknown``: not registered;
- ``unused``: registered, never seen.

Findings: ``external_channel`` for every channel that is not approved (or
used outside its window); ``remote_access`` for remote-desktop or remote-admin
sessions (SSH, Telnet, RDP, VNC, TeamViewer, AnyDesk) into OT or the DMZ that
no approved channel and no site conduit covers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Final
from zoneinfo import ZoneInfo

from otseam.analysis.conduits import allowing_conduit
from otseam.analysis.context import Context
from otseam.analysis.facts import Flow
from otseam.model.convergence import ChannelStatus, ChannelUse, Finding, Severity
from otseam.site.model import Channel, MaintenanceWindow, Network

__all__ = ["REMOTE_TOOLS", "VPN", "channel_findings", "channel_uses", "remote_access_findings"]

VPN: Final = frozenset({"ike", "openvpn", "wireguard", "ipsec"})
SUPPORT_TOOLS: Final = frozenset({"teamviewer", "anydesk"})
REMOTE_TOOLS: Final = frozenset({"ssh", "telnet", "rdp", "vnc"}) | SUPPORT_TOOLS
REMOTE_PORTS: Final = {
    22: "ssh",
    23: "telnet",
    3389: "rdp",
    5900: "vnc",
    5938: "teamviewer",
    7070: "anydesk",
}
PRODUCTION: Final = frozenset({"ot", "dmz"})
Sides = tuple[str, str]  # inside address, outside address


def _kind(ctx: Context, address: str) -> str | None:
    return ctx.zoning.kind(ctx.zone(address))


def _sides(ctx: Context, flow: Flow) -> Sides | None:
    """(inside, outside) when ``flow`` is an external channel, else None."""
    a, b = _kind(ctx, flow.client), _kind(ctx, flow.server)
    for inside, outside, k_in, k_out in (
        (flow.client, flow.server, a, b),
        (flow.server, flow.client, b, a),
    ):
        if k_in in PRODUCTION and (
            k_out == "external" or (flow.app in VPN | SUPPORT_TOOLS and k_out != k_in)
        ):
            return inside, outside
    return None


def _in(address: str, nets: Iterable[Network]) -> bool:
    ip = ip_address(address)
    return any(ip.version == net.version and ip in net for net in nets)


def _registered(ctx: Context, flow: Flow, sides: Sides) -> Channel | None:
    inside, outside = sides
    for channel in ctx.site.channels:
        if channel.port is not None and channel.port != flow.port:
            continue
        if channel.transport is not None and channel.transport != flow.transport:
            continue
        if (not channel.inside or _in(inside, channel.inside)) and (
            not channel.outside or _in(outside, channel.outside)
        ):
            return channel
    return None


def _in_window(ctx: Context, channel: Channel, flows: list[Flow]) -> bool:
    if not channel.windows:
        return True
    zone = ZoneInfo(ctx.site.timezone)
    for flow in flows:
        for ns in (flow.first_seen, flow.last_seen):
            moment = datetime.fromtimestamp(ns / 1e9, UTC).astimezone(zone)
            if not any(_within(w, moment) for w in channel.windows):
                return False
    return True


def _within(window: MaintenanceWindow, moment: datetime) -> bool:
    """A window whose end is before its start runs past midnight (into the next day)."""
    clock, day = moment.time(), moment.weekday()
    if window.start <= window.end:
        return day in window.days and window.start <= clock <= window.end
    if clock >= window.start:
        return day in window.days
    return (day - 1) % 7 in window.days and clock <= window.end


def channel_uses(
    ctx: Context, flows: Iterable[Flow]
) -> tuple[list[ChannelUse], dict[str, list[Flow]]]:
    """Channels found or registered, and the conversations of each (by channel name)."""
    grouped: dict[str, list[Flow]] = defaultdict(list)
    ends: dict[str, set[Sides]] = defaultdict(set)
    registered: dict[str, Channel] = {}
    for flow in flows:
        sides = _sides(ctx, flow)
        if sides is None:
            continue
        channel = _registered(ctx, flow, sides)
        if channel:
            name = channel.name
            registered[name] = channel
        else:
            name = f"{ctx.name(sides[0])} <-> {sides[1]} ({flow.app or flow.service})"
        grouped[name].append(flow)
        ends[name].add(sides)
    uses = [
        _use(ctx, name, used, ends[name], registered.get(name)) for name, used in grouped.items()
    ]
    uses += [_unused(c) for c in ctx.site.channels if c.name not in grouped]
    return sorted(uses, key=lambda u: (u.status == "approved", u.name)), dict(grouped)


def _use(
    ctx: Context, name: str, flows: list[Flow], sides: set[Sides], channel: Channel | None
) -> ChannelUse:
    status: ChannelStatus
    if channel is None:
        status = "unknown"
    elif not channel.approved:
        status = "unapproved"
    else:
        status = "approved" if _in_window(ctx, channel, flows) else "outside_window"
    app = next((f.app for f in flows if f.app), None)
    kind = channel.kind if channel else ("vpn" if app in VPN else app or "internet")
    return ChannelUse(
        name,
        kind,
        status,
        channel is not None,
        channel.approved if channel else None,
        channel.manager if channel else None,
        channel.vendor if channel else None,
        tuple(sorted({s[0] for s in sides})),
        tuple(sorted({s[1] for s in sides})),
        tuple(sorted({f.service for f in flows})),
        len(flows),
        sum(f.packets for f in flows),
        sum(f.bytes for f in flows),
        min(f.first_seen for f in flows),
        max(f.last_seen for f in flows),
        "matches the register"
        if channel
        else "traffic between production and the outside, not in the register",
    )


def _unused(channel: Channel) -> ChannelUse:
    return ChannelUse(
        channel.name,
        channel.kind,
        "unused",
        True,
        channel.approved,
        channel.manager,
        channel.vendor,
        tuple(map(str, channel.inside)),
        tuple(map(str, channel.outside)),
        (),
        0,
        0,
        0,
        None,
        None,
        "registered; not seen in the traffic",
    )


def channel_findings(
    ctx: Context, uses: list[ChannelUse], flows: dict[str, list[Flow]]
) -> list[Finding]:
    findings = []
    severity: dict[str, Severity] = {
        "unknown": "high",
        "unapproved": "critical",
        "outside_window": "medium",
    }
    for use in uses:
        if use.status not in severity:
            continue
        inside = use.inside[0] if use.inside else None
        zone = ctx.zone(inside) if inside else None
        title = {
            "unknown": f"Unregistered external channel {use.name}",
            "unapproved": f"Channel {use.name} is in use but not approved",
            "outside_window": f"Channel {use.name} used outside its maintenance window",
        }[use.status]
        findings.append(
            ctx.make(
                "external_channel",
                severity[use.status],
                title,
                (use.name,),
                zone=zone,
                assets=[ctx.name(a) for a in (*use.inside, *use.outside)],
                channel=use.name,
                evidence=ctx.evidence(
                    flows.get(use.name, []),
                    status=use.status,
                    registered=use.registered,
                    services=list(use.services),
                ),
                owners=ctx.owners([zone], use.inside, use.manager, monitors=True),
            )
        )
    return findings


def remote_access_findings(ctx: Context, flows: Iterable[Flow], covered: set[int]) -> list[Finding]:
    """Remote sessions into OT/DMZ; ``covered`` are conversations of approved channels."""
    groups: dict[tuple[str, str, str], list[Flow]] = defaultdict(list)
    for flow in flows:
        tool = flow.app if flow.app in REMOTE_TOOLS else REMOTE_PORTS.get(flow.port)
        if not tool or not flow.answered or flow.id in covered:
            continue
        src, dst = ctx.zone(flow.client), ctx.zone(flow.server)
        inside = _remote_end(ctx, flow.client, flow.server, tool)
        if src == dst or _kind(ctx, inside) not in PRODUCTION:
            continue
        if allowing_conduit(ctx.site, src, dst, flow):
            continue
        groups[(flow.client, flow.server, tool)].append(flow)
    findings = []
    for (client, server, tool), grouped in sorted(groups.items()):
        inside = _remote_end(ctx, client, server, tool)
        zone = ctx.zone(inside)
        src_kind = _kind(ctx, client if inside == server else server)
        severity: Severity = "critical" if src_kind in ("external", "it", None) else "high"
        title = (
            f"Remote access ({tool}) into {zone}: {ctx.name(client)} "
            f"({ctx.zone(client)}) -> {ctx.name(server)} ({ctx.zone(server)})"
        )
        findings.append(
            ctx.make(
                "remote_access",
                severity,
                title,
                (client, server, tool),
                zone=zone,
                assets=[ctx.name(client), ctx.name(server)],
                evidence=ctx.evidence(grouped, tool=tool, inside=inside),
                owners=ctx.owners(
                    [ctx.zone(client), ctx.zone(server)], [client, server], monitors=True
                ),
            )
        )
    return findings


def _remote_end(ctx: Context, client: str, server: str, tool: str) -> str:
    """The controlled machine: the server, except for a support tool's agent,
    which dials out from production to its relay."""
    if tool in SUPPORT_TOOLS and _kind(ctx, client) in PRODUCTION:
        return client
    return server

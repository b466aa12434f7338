"""Findings about conversations that cross zones.

- ``scan``: one address probing many services in another zone (or in OT),
  most of them unanswered: the corporate-malware pattern. Its probes are
  reported once, in the scan finding, not again one by one below.
- ``it_ot_crossing``: a conversation between an IT zone and an OT zone.
- ``dmz_bypass``: IT (Purdue 4-5) talking directly to level 0-2.
- ``unapproved_conduit``: zone-crossing traffic no site conduit allows.
- ``insecure_protocol``: clear-text admin protocols crossing into OT (Telnet,
  FTP, TFTP, HTTP, SMBv1, OPC UA with security mode None).

Each finding groups the conversations of one client asset to one server
asset over one service, so its id stays the same across ingests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Final

from otseam.analysis.conduits import allowing_conduit, is_it_ot
from otseam.analysis.context import Context
from otseam.analysis.facts import Flow
from otseam.model.convergence import Finding, Severity

__all__ = ["SCAN_MIN_PROBES", "crossing_findings", "scan_findings"]

SCAN_MIN_PROBES: Final = 10  # distinct (server, port) pairs
SCAN_MIN_UNANSWERED: Final = 0.5
CLEAR_TEXT_ADMIN: Final = frozenset({"telnet", "ftp", "tftp", "http", "vnc"})
INSECURE_CANDIDATES: Final = CLEAR_TEXT_ADMIN | {"smb", "opcua"}
Group = tuple[str, str, str]  # client key, server key, service


def scan_findings(ctx: Context, flows: list[Flow]) -> tuple[list[Finding], set[int]]:
    """Scans, and the ids of the conversations they account for."""
    probes: dict[tuple[str, str], list[Flow]] = defaultdict(list)
    for flow in flows:
        src, dst = ctx.zone(flow.client), ctx.zone(flow.server)
        if dst and (src != dst or ctx.zoning.kind(dst) == "ot"):
            probes[(flow.client, dst)].append(flow)
    findings: list[Finding] = []
    used: set[int] = set()
    for (client, zone), tried in sorted(probes.items()):
        targets = {(f.server, f.port) for f in tried}
        silent = sum(not f.answered for f in tried)
        if len(targets) < SCAN_MIN_PROBES or silent < SCAN_MIN_UNANSWERED * len(tried):
            continue
        used.update(f.id for f in tried)
        src_zone = ctx.zone(client)
        hosts = sorted({ctx.name(f.server) for f in tried})
        ports = sorted({f.port for f in tried})
        severity: Severity = "critical" if ctx.zoning.kind(zone) == "ot" else "high"
        title = (
            f"{ctx.name(client)} ({src_zone}) probed {len(targets)} services on "
            f"{len(hosts)} hosts in {zone}; {silent} of {len(tried)} unanswered"
        )
        findings.append(
            ctx.make(
                "scan",
                severity,
                title,
                (client, zone),
                zone=zone,
                assets=[ctx.name(client), *hosts],
                evidence=ctx.evidence(
                    tried,
                    targets=hosts,
                    ports=ports,
                    src_zone=src_zone,
                    dst_zone=zone,
                    unanswered=silent,
                ),
                owners=ctx.owners([src_zone, zone], [client], monitors=True),
            )
        )
    return findings, used


def crossing_findings(ctx: Context, flows: Iterable[Flow]) -> list[Finding]:
    groups: dict[Group, list[Flow]] = defaultdict(list)
    pairs: dict[Group, tuple[str, str]] = {}
    for flow in flows:
        src, dst = ctx.zone(flow.client), ctx.zone(flow.server)
        if src and dst and src != dst:
            key = (flow.client, flow.server, flow.service)
            groups[key].append(flow)
            pairs[key] = (src, dst)
    applicable: dict[tuple[str, str], tuple[Rule, ...]] = {}
    findings = []
    for key, grouped in groups.items():  # conversation order; findings are sorted later
        pair = pairs[key]
        if pair not in applicable:
            applicable[pair] = _rules_for(ctx, *pair)
        findings += [f for rule in applicable[pair] if (f := rule(ctx, grouped))]
    return findings


Rule = Callable[[Context, list[Flow]], Finding | None]


def _rules_for(ctx: Context, src: str, dst: str) -> tuple[Rule, ...]:
    """The rules that can fire between two zones (each still checks for itself)."""
    bypass = (_enterprise(ctx, src) and _control(ctx, dst)) or (
        _control(ctx, src) and _enterprise(ctx, dst)
    )
    candidates: tuple[tuple[bool, Rule], ...] = (
        (is_it_ot(ctx.zoning, src, dst), _it_ot),
        (bypass, _dmz_bypass),
        (bool(ctx.site.conduits), _unapproved),
        (ctx.zoning.kind(dst) == "ot", _insecure),
    )
    return tuple(rule for possible, rule in candidates if possible)


def _describe(ctx: Context, flow: Flow) -> str:
    return (
        f"{ctx.name(flow.client)} ({ctx.zone(flow.client)}) -> "
        f"{ctx.name(flow.server)} ({ctx.zone(flow.server)}) over {flow.service}"
    )


def _finding(
    ctx: Context, kind: str, severity: Severity, title: str, flows: list[Flow], **extra: object
) -> Finding:
    flow = flows[0]
    src, dst = ctx.zone(flow.client), ctx.zone(flow.server)
    conduit = allowing_conduit(ctx.site, src, dst, flow)
    return ctx.make(
        kind,
        severity,
        title,
        (flow.client, flow.server, flow.service),
        zone=dst,
        assets=[ctx.name(flow.client), ctx.name(flow.server)],
        evidence=ctx.evidence(
            flows,
            src_zone=src,
            dst_zone=dst,
            service=flow.service,
            conduit=conduit.name if conduit else None,
            **extra,
        ),
        owners=ctx.owners([src, dst], [flow.client, flow.server], monitors=True),
    )


def _it_ot(ctx: Context, flows: list[Flow]) -> Finding | None:
    flow = flows[0]
    src, dst = ctx.zone(flow.client), ctx.zone(flow.server)
    if not is_it_ot(ctx.zoning, src, dst):
        return None
    allowed = allowing_conduit(ctx.site, src, dst, flow)
    severity: Severity = "low" if allowed else "medium" if not ctx.site.conduits else "high"
    return _finding(
        ctx, "it_ot_crossing", severity, f"IT/OT crossing: {_describe(ctx, flow)}", flows
    )


def _dmz_bypass(ctx: Context, flows: list[Flow]) -> Finding | None:
    flow = flows[0]
    src, dst = ctx.zone(flow.client), ctx.zone(flow.server)
    if not (
        (_enterprise(ctx, src) and _control(ctx, dst))
        or (_control(ctx, src) and _enterprise(ctx, dst))
    ):
        return None
    return _finding(ctx, "dmz_bypass", "high", f"DMZ bypassed: {_describe(ctx, flow)}", flows)


def _enterprise(ctx: Context, zone: str | None) -> bool:
    level = ctx.zoning.level(zone)
    return ctx.zoning.kind(zone) == "it" and (level is None or level >= 4)


def _control(ctx: Context, zone: str | None) -> bool:
    level = ctx.zoning.level(zone)
    return ctx.zoning.kind(zone) == "ot" and level is not None and level <= 2


def _unapproved(ctx: Context, flows: list[Flow]) -> Finding | None:
    flow = flows[0]
    src, dst = ctx.zone(flow.client), ctx.zone(flow.server)
    if not ctx.site.conduits or allowing_conduit(ctx.site, src, dst, flow):
        return None
    stake = {ctx.zoning.kind(src), ctx.zoning.kind(dst)} & {"ot", "dmz"}
    return _finding(
        ctx,
        "unapproved_conduit",
        "high" if stake else "medium",
        f"No conduit allows {_describe(ctx, flow)}",
        flows,
    )


def _insecure(ctx: Context, flows: list[Flow]) -> Finding | None:
    flow = flows[0]
    if flow.app not in INSECURE_CANDIDATES:
        return None
    if ctx.zoning.kind(ctx.zone(flow.server)) != "ot" or not any(f.answered for f in flows):
        return None
    server = ctx.facts.identity.get(flow.server, {})
    reason = None
    if flow.app in CLEAR_TEXT_ADMIN:
        reason = f"{flow.app} sends credentials and commands in clear text"
    elif flow.app == "smb" and "true" in ctx.facts.identity.get(flow.client, {}).get(
        "smb1", set()
    ) | server.get("smb1", set()):
        reason = "SMBv1 is obsolete and unauthenticated-exploitable"
    elif flow.app == "opcua" and "None" in server.get("security_mode", set()):
        reason = "OPC UA with security mode None: no signing, no encryption"
    if reason is None:
        return None
    return _finding(
        ctx,
        "insecure_protocol",
        "high",
        f"Insecure protocol into OT: {_describe(ctx, flow)}",
        flows,
        reason=reason,
    )

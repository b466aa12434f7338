"""The convergence analysis: from stored facts and the site file to zones,
conduits, channels, findings and owners (``docs/convergence.md``).

``analyse`` reads the store, runs each rule module once, stores the findings
(keeping what people decided about them) and returns the whole picture as a
:class:`~otseam.model.convergence.Convergence` for the outputs to read.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.engine import Connection

from otseam.analysis.channels import channel_findings, channel_uses, remote_access_findings
from otseam.analysis.conduits import asset_edges, conduit_matrix
from otseam.analysis.context import Context
from otseam.analysis.crossings import crossing_findings, scan_findings
from otseam.analysis.dual_homed import dual_homed_findings
from otseam.analysis.facts import Flow, load_facts
from otseam.analysis.ics_operations import ics_operation_findings
from otseam.analysis.identity_changes import firmware_change_findings
from otseam.analysis.owners import responsibilities, unowned_findings
from otseam.analysis.zoning import override_for, place_assets, zone_assets
from otseam.collector import collector_paused
from otseam.model.convergence import SEVERITIES, ChannelUse, Convergence, Finding
from otseam.site.model import Site
from otseam.store.findings import apply_states, save_findings

__all__ = ["analyse"]

ORDER: Final = {kind: i for i, kind in enumerate(reversed(SEVERITIES))}


def analyse(
    conn: Connection, site: Site | None = None, *, store: bool = True, edges: bool = False
) -> Convergence:
    """The convergence picture of what the store holds; ``site`` may be empty.

    Asset-level edges (for the asset map) are built only when ``edges`` is
    true: on a large capture they are as many as the conversations."""
    with collector_paused():  # millions of short-lived acyclic objects
        return _analyse(conn, site or Site(), store, edges)


def _analyse(conn: Connection, site: Site, store: bool, edges: bool) -> Convergence:
    facts = load_facts(conn)
    zoning = zone_assets(site, facts)
    overrides = {asset.id: override_for(site, asset) for asset in facts.assets}
    ctx = Context(site, facts, zoning, place_assets(facts, zoning, overrides), overrides)
    channels, channel_flows = channel_uses(ctx, facts.flows)
    found = _findings(ctx, channels, channel_flows)
    found += firmware_change_findings(ctx)
    owned = responsibilities(ctx, channels)
    found += unowned_findings(ctx, owned)
    found = list({f.id: f for f in reversed(found)}.values())  # one per id: the first wins
    found.sort(key=lambda f: (ORDER[f.severity], f.kind, f.title))
    if store:
        save_findings(conn, found)
    return Convergence(
        site.name,
        bool(site.zones),
        zoning.zones,
        tuple(ctx.placements),
        tuple(conduit_matrix(site, facts.flows, zoning)),
        tuple(asset_edges(facts.flows, ctx.name, zoning)) if edges else (),
        tuple(channels),
        tuple(apply_states(conn, found)),
        tuple(owned),
        _monitoring(site),
    )


def _findings(
    ctx: Context, channels: list[ChannelUse], channel_flows: dict[str, list[Flow]]
) -> list[Finding]:
    flows = ctx.facts.flows
    found, scanned = scan_findings(ctx, flows)
    rest = [f for f in flows if f.id not in scanned]
    found += crossing_findings(ctx, rest)
    dual = dual_homed_findings(ctx)
    found += dual
    approved = {f.id for c in channels if c.status == "approved" for f in channel_flows[c.name]}
    found += remote_access_findings(ctx, rest, approved)
    found += channel_findings(ctx, channels, channel_flows)
    found += ics_operation_findings(ctx, _it_legs(ctx, dual))
    return found


def _it_legs(ctx: Context, dual: list[Finding]) -> dict[str, list[str]]:
    """Address -> the IT zones its (dual-homed) host also sits in."""
    legs: dict[str, list[str]] = {}
    for finding in dual:
        it_zones = [z for z in finding.evidence["zones"] if ctx.zoning.kind(z) == "it"]
        if it_zones:
            for ip in finding.evidence["ips"]:
                legs[ip] = it_zones
    return legs


def _monitoring(site: Site) -> dict[str, object]:
    it, ot = site.monitoring.it, site.monitoring.ot
    return {
        "it": it,
        "ot": ot,
        "agreed": site.monitoring.agreed,
        "it_contact": site.contact(it) if it else None,
        "ot_contact": site.contact(ot) if ot else None,
    }

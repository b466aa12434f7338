"""A starter site file from what the traffic shows (``otseam zones suggest``).

It holds the proposed zones (one per subnet, classified by the roles seen in
it) and every external channel found, registered as not approved and with
no manager: the person who knows the plant corrects names, levels and owners,
adds teams and conduits, and approves what should be approved.
"""

from __future__ import annotations

from datetime import UTC, datetime
from ipaddress import ip_network
from typing import cast

from sqlalchemy.engine import Connection

from otseam.analysis.convergence import analyse
from otseam.analysis.zoning import INTERNET
from otseam.model.convergence import Convergence
from otseam.site.dump import dump_site
from otseam.site.model import Channel, Site, Zone, ZoneKind

__all__ = ["suggested_site", "suggested_site_text"]

HEADER = """\
# otseam site file (version 1): a starter written by `otseam zones suggest`
# on {when} from what the traffic showed. Correct it: rename the zones, check
# their kind (it, dmz, ot, external) and Purdue level, name an owner for each
# (add the teams and people under `teams:` and `people:`), state the conduits
# your policy allows, and approve the channels that should exist.
# The format is documented in docs/site.md.
"""


def suggested_site(conv: Convergence) -> Site:
    zones = tuple(
        Zone(
            z.name,
            cast(ZoneKind, z.kind),
            z.purdue_level,
            tuple(ip_network(c, strict=False) for c in z.cidrs),
            z.vlans,
            None,
            z.evidence,
        )
        for z in conv.zones
        if z.cidrs
    ) + _outside(conv)
    channels = tuple(
        Channel(
            f"channel-{n}",
            c.kind,
            None,
            tuple(ip_network(a) for a in c.outside),
            tuple(ip_network(a) for a in c.inside),
            None,
            None,
            False,
            None,
            (),
            f"found: {c.name}; {c.sessions} sessions",
        )
        for n, c in enumerate(conv.channels, 1)
        if not c.registered
    )
    return Site(
        name="my-plant",
        description="Proposed by otseam zones suggest",
        zones=zones,
        channels=channels,
    )


def _outside(conv: Convergence) -> tuple[Zone, ...]:
    """The public subnets seen, as one external zone."""
    nets = sorted(
        {
            ip_network(f"{ip}/24", strict=False)
            for p in conv.placements
            if p.zone == INTERNET
            for ip in p.ips
            if ":" not in ip
        }
    )
    if not nets:
        return ()
    return (Zone(INTERNET, "external", None, tuple(nets), (), None, "Public addresses seen"),)


def suggested_site_text(conn: Connection) -> str:
    conv = analyse(conn, Site(), store=False)
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    return dump_site(suggested_site(conv), HEADER.format(when=when))

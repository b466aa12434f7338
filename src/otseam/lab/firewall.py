"""The router's nftables ruleset: the site's conduits plus the plant's known holes.

The forward policy is drop. Each conduit of the plant becomes one accept rule
per service; ``Plant.firewall_exceptions`` adds the rules that let the
scenario's unapproved traffic through (the "temporary" any-rule every plant
has), so that traffic exists in the capture for otseam to find.
"""

from __future__ import annotations

from otseam.lab.model import Plant

__all__ = ["ruleset"]


def ruleset(plant: Plant) -> str:
    """The nft script loaded into the router's namespace."""
    lines = [
        "flush ruleset",
        "table inet ots_router {",
        "  chain forward {",
        "    type filter hook forward priority 0; policy drop;",
        "    ct state established,related accept",
    ]
    for conduit in plant.conduits:
        src = _set(plant.zone(conduit.src_zone).cidrs)
        dst = _set(plant.zone(conduit.dst_zone).cidrs)
        for app, transport, port in conduit.services:
            lines.append(
                f"    ip saddr {src} ip daddr {dst} {transport} dport {port} accept"
                f' comment "conduit {conduit.name}: {app}"'
            )
    for rule in plant.firewall_exceptions:
        lines.append(f"    {rule}")
    lines += ["  }", "}", ""]
    return "\n".join(lines)


def _set(cidrs: tuple[str, ...]) -> str:
    return cidrs[0] if len(cidrs) == 1 else "{ " + ", ".join(cidrs) + " }"

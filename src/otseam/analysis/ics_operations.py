"""``ics_operation_from_it``: writes, downloads, stops and the like sent to
industrial devices from the IT side.

An operation counts as from IT when its requester's address is in an IT zone,
or when the requesting host is dual-homed into an IT zone (an engineering
workstation with one leg in the office network sends from its OT leg, but
carries the office's risks to the controller all the same).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Final

from otseam.analysis.context import Context
from otseam.analysis.facts import OperationRecord
from otseam.model.convergence import Finding, Severity

__all__ = ["CHANGING_OPERATIONS", "ics_operation_findings"]

CRITICAL: Final = frozenset(
    {"program_download", "plc_stop", "block_delete", "firmware_update", "memory_reset"}
)
CHANGING_OPERATIONS: Final = CRITICAL | frozenset(
    {
        "plc_start",
        "program_upload",
        "write",
        "control",
        "restart",
        "config_change",
        "comm_control",
        "file_write",
        "set_time",
        "method_call",
    }
)
ICS_PROTOCOLS: Final = frozenset(
    {
        "modbus",
        "s7comm",
        "s7comm-plus",
        "enip",
        "cip",
        "dnp3",
        "iec104",
        "bacnet",
        "opcua",
        "profinet",
        "mms",
        "fins",
        "melsec",
        "ads",
    }
)


def ics_operation_findings(ctx: Context, it_hosts: dict[str, list[str]]) -> list[Finding]:
    """``it_hosts``: address -> the IT zones its host also has an address in."""
    groups: dict[tuple[str, str, str, str], list[OperationRecord]] = defaultdict(list)
    for op in ctx.facts.operations:
        if op.operation not in CHANGING_OPERATIONS or op.protocol not in ICS_PROTOCOLS:
            continue
        if ctx.zoning.kind(ctx.zone(op.dst)) in ("it", "external"):
            continue  # not an industrial device of this plant
        if ctx.zoning.kind(ctx.zone(op.src)) == "it" or op.src in it_hosts:
            groups[(op.src, op.dst, op.protocol, op.operation)].append(op)
    findings = []
    for (src, dst, protocol, operation), ops in sorted(groups.items()):
        src_zone, dst_zone = ctx.zone(src), ctx.zone(dst)
        via = (
            ""
            if ctx.zoning.kind(src_zone) == "it"
            else (f" (a host also in {', '.join(it_hosts[src])})")
        )
        severity: Severity = "critical" if operation in CRITICAL else "high"
        title = (
            f"{operation} from IT: {ctx.name(src)}{via} -> {ctx.name(dst)} ({dst_zone}) "
            f"over {protocol}"
        )
        findings.append(
            ctx.make(
                "ics_operation_from_it",
                severity,
                title,
                (src, dst, protocol, operation),
                zone=dst_zone,
                assets=[ctx.name(src), ctx.name(dst)],
                evidence={
                    "operation": operation,
                    "protocol": protocol,
                    "src": src,
                    "dst": dst,
                    "src_zone": src_zone,
                    "dst_zone": dst_zone,
                    "it_zones": it_hosts.get(src, [src_zone]),
                    "codes": sorted({f"{o.code} {o.code_name}" for o in ops}),
                    "count": sum(o.count for o in ops),
                    "first_seen": min(o.first_seen for o in ops),
                    "last_seen": max(o.last_seen for o in ops),
                },
                owners=ctx.owners([src_zone, dst_zone], [src, dst], monitors=True),
            )
        )
    return findings

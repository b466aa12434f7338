"""The CIO's three questions and the four-item checklist, answered from a :class:`Convergence`.

Every answer is read from what the convergence analysis concluded (zones,
placements, conduit cells, channels, responsibilities, monitoring); nothing
is re-derived from traffic. The rules for each status are in
``docs/questions.md``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from otseam.model.convergence import (
    ChannelUse,
    ConduitUse,
    Convergence,
    Placement,
    Responsibility,
    ZoneUse,
)

__all__ = [
    "CHECKLIST_STATUSES",
    "INDUSTRIAL_ROLES",
    "QUESTIONS",
    "Answer",
    "ChecklistItem",
    "ChecklistStatus",
    "Questions",
    "answer_questions",
]

ChecklistStatus = Literal["done", "partial", "missing"]
CHECKLIST_STATUSES: Final = ("done", "partial", "missing")

QUESTIONS: Final = (
    "If something on the shop floor stops because of the network, who finds out first?",
    "Who knows what external connections to production exist?",
    "Do we have an OT asset list, and who owns it?",
)
CHECKLIST: Final = (
    "IT/OT connections mapped",
    "External channels and their managers known",
    "Responsibility for industrial workstations and controllers named",
    "Joint boundary monitoring agreed",
)
# The workstations and controllers whose owner and updater the checklist asks for.
INDUSTRIAL_ROLES: Final = frozenset(
    ("plc", "rtu", "ied", "hmi", "engineering_workstation", "scada_server", "opc_server")
)
SHOP_FLOOR_LEVEL: Final = 2.0  # Purdue levels 0-2: process, control, supervision
NAME_LIMIT: Final = 10  # names listed in one sentence before "and N more"


@dataclass(frozen=True, slots=True)
class Answer:
    """One of the CIO's questions, answered in a sentence, with the facts behind it."""

    question: str
    answer: str
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One checklist item: how far it is, why, and the next thing to do."""

    item: str
    status: ChecklistStatus
    evidence: tuple[str, ...]
    next_step: str


@dataclass(frozen=True, slots=True)
class Questions:
    """The three answers and the four checklist items, in the CIO's order."""

    answers: tuple[Answer, ...]
    checklist: tuple[ChecklistItem, ...]


def answer_questions(conv: Convergence) -> Questions:
    """Answer the CIO's questions and rate the checklist from one convergence result."""
    answers = (_first_to_know(conv), _channel_knowledge(conv), _ot_asset_list(conv))
    checklist = (
        _connections_mapped(conv),
        _channels_known(conv),
        _industrial_responsibility(conv),
        _monitoring_agreed(conv),
    )
    return Questions(answers=answers, checklist=checklist)


# --- shared lookups -------------------------------------------------------------------------


def _names(names: Iterable[str], limit: int = NAME_LIMIT) -> str:
    """'a, b, c' — cut after ``limit`` names with 'and N more'."""
    items = list(names)
    if len(items) <= limit:
        return ", ".join(items)
    return f"{', '.join(items[:limit])} and {len(items) - limit} more"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _have(count: int) -> str:
    return "has" if count == 1 else "have"


def _contacts(conv: Convergence) -> dict[str, str]:
    """Contact of each party, from the monitoring entry and the parties named on findings."""
    contacts: dict[str, str] = {}
    for finding in conv.findings:
        for responsible in finding.owners:
            if responsible.contact:
                contacts.setdefault(responsible.party, responsible.contact)
    for side in ("it", "ot"):
        party, contact = conv.monitoring.get(side), conv.monitoring.get(f"{side}_contact")
        if party and contact:
            contacts[party] = contact
    return contacts


def _party(party: str, contacts: dict[str, str]) -> str:
    contact = contacts.get(party)
    return f"{party} ({contact})" if contact else party


def _asset_responsibilities(conv: Convergence) -> dict[str, Responsibility]:
    """By asset key (names need not be unique: a router's interfaces share one), and by
    name for responsibilities that carry no key."""
    table = {r.subject: r for r in conv.responsibilities if r.subject_kind == "asset"}
    table.update({r.key: r for r in conv.responsibilities if r.subject_kind == "asset" and r.key})
    return table


def _responsibility(
    placement: Placement, table: dict[str, Responsibility]
) -> Responsibility | None:
    return table.get(placement.key) or table.get(placement.name)


def _zone_owner(zone: ZoneUse, conv: Convergence) -> str | None:
    if zone.owner:
        return zone.owner
    for r in conv.responsibilities:
        if r.subject_kind == "zone" and r.subject == zone.name and r.owner:
            return r.owner
    return None


def _shop_floor_zones(conv: Convergence) -> list[ZoneUse]:
    """OT zones at Purdue level 2 or below; an OT zone with no level counts as shop floor."""
    return [
        z
        for z in conv.zones
        if z.kind == "ot" and (z.purdue_level is None or z.purdue_level <= SHOP_FLOOR_LEVEL)
    ]


def _level(zone: ZoneUse) -> str:
    return "no level" if zone.purdue_level is None else f"level {zone.purdue_level:g}"


# --- the three questions --------------------------------------------------------------------


def _first_to_know(conv: Convergence) -> Answer:
    contacts = _contacts(conv)
    it_party, ot_party = conv.monitoring.get("it"), conv.monitoring.get("ot")
    agreed = bool(conv.monitoring.get("agreed"))
    zones = _shop_floor_zones(conv)
    owned = [(z, owner) for z in zones if (owner := _zone_owner(z, conv))]
    evidence = [
        f"boundary monitoring: OT party {ot_party or 'none named'}, "
        f"IT party {it_party or 'none named'}, "
        f"{'agreed' if agreed else 'not agreed'} between IT and OT"
    ]
    if not zones:
        evidence.append("no OT zone at Purdue level 2 or below")
    for zone in zones:
        owner = _zone_owner(zone, conv)
        who = f"owner {_party(owner, contacts)}" if owner else "no owner"
        evidence.append(f"zone {zone.name} (ot, {_level(zone)}): {who}")
    if not (it_party or ot_party or owned):
        answer = "Nobody: no OT zone has an owner and no boundary monitoring is named."
        return Answer(QUESTIONS[0], answer, tuple(evidence))
    parts = []
    if ot_party:
        parts.append(f"{_party(ot_party, contacts)}, the OT party alerted on boundary events")
    if owned:
        owners = _names(f"{z.name}: {_party(o, contacts)}" for z, o in owned)
        parts.append(f"the owners of the shop-floor zones ({owners})")
    if it_party:
        parts.append(f"{_party(it_party, contacts)}, the IT party alerted on boundary events")
    sentence = "; then ".join(parts)
    unowned = [z.name for z in zones if not _zone_owner(z, conv)]
    tail = f" Shop-floor zones nobody owns: {_names(unowned)}." if unowned else ""
    state = "is agreed" if agreed else "is not agreed"
    answer = f"{sentence}. Boundary monitoring {state}.{tail}"
    return Answer(QUESTIONS[0], answer, tuple(evidence))


def _known_to_nobody(channel: ChannelUse) -> bool:
    return channel.manager is None or channel.status == "unknown"


def _channel_line(channel: ChannelUse) -> str:
    where = "registered" if channel.registered else "found in traffic only"
    manager = f"manager {channel.manager}" if channel.manager else "no manager"
    nobody = "; known to nobody" if _known_to_nobody(channel) else ""
    return f"{channel.name} ({channel.kind}): {where}, {manager}, status {channel.status}{nobody}"


def _channel_knowledge(conv: Convergence) -> Answer:
    channels = conv.channels
    if not channels:
        return Answer(
            QUESTIONS[1],
            "No external channel is registered, and none was seen in the traffic.",
            ("no external channel seen",),
        )
    registered = sum(1 for c in channels if c.registered)
    nobody = [c.name for c in channels if _known_to_nobody(c)]
    managers = Counter(c.manager for c in channels if not _known_to_nobody(c) and c.manager)
    known = _names(f"{m} ({n})" for m, n in sorted(managers.items())) or "nobody"
    answer = (
        f"{_plural(len(channels), 'external channel')}: {registered} registered, "
        f"{len(channels) - registered} found in traffic only. Known to their managers: {known}."
    )
    if nobody:
        answer += f" Known to nobody ({len(nobody)}): {_names(nobody)}."
    return Answer(QUESTIONS[1], answer, tuple(_channel_line(c) for c in channels))


def _ot_placements(conv: Convergence) -> list[Placement]:
    kinds = {z.name: z.kind for z in conv.zones}
    return [p for p in conv.placements if p.zone is not None and kinds.get(p.zone) in ("ot", "dmz")]


def _ot_asset_list(conv: Convergence) -> Answer:
    placements = _ot_placements(conv)
    if not placements:
        why = "no zones are known" if not conv.zones else "no asset was placed in an OT or DMZ zone"
        return Answer(QUESTIONS[2], f"No: {why}.", (f"0 OT and DMZ assets: {why}",))
    table = _asset_responsibilities(conv)
    roles = Counter(p.role for p in placements)
    by_role = ", ".join(f"{n} {role}" for role, n in roles.most_common())
    owners: Counter[str] = Counter()
    unowned: list[str] = []
    for p in placements:
        r = _responsibility(p, table)
        if r is not None and r.owner:
            owners[r.owner] += 1
        else:
            unowned.append(p.name)
    owned = len(placements) - len(unowned)
    owner_names = _names(f"{o} ({n})" for o, n in owners.most_common())
    verdict = "Yes" if not unowned else "Partly" if owned else "A list, but no owner"
    answer = f"{verdict}: {_plural(len(placements), 'asset')} in OT and DMZ zones ({by_role}); "
    answer += f"{owned} {_have(owned)} an owner" + (f": {owner_names}" if owners else "")
    answer += f"; {len(unowned)} {_have(len(unowned))} none: {_names(unowned)}." if unowned else "."
    evidence = [f"{len(placements)} OT and DMZ assets by role: {by_role}"]
    evidence += [f"owner {o}: {_plural(n, 'asset')}" for o, n in owners.most_common()]
    if unowned:
        evidence.append(f"no owner: {_names(unowned, limit=50)}")
    return Answer(QUESTIONS[2], answer, tuple(evidence))


# --- the checklist --------------------------------------------------------------------------


def _refused(cell: ConduitUse) -> str | None:
    """'enterprise -> control: modbus/tcp/502 not allowed by any conduit', or None."""
    if cell.allowed is None:
        return None
    if cell.allowed is False:
        services = cell.denied_services or cell.services
    elif cell.denied_services:
        services = cell.denied_services
    else:
        return None
    listed = ", ".join(services) or "traffic"
    return f"{cell.src_zone} -> {cell.dst_zone}: {listed} not allowed by any conduit"


def _connections_mapped(conv: Convergence) -> ChecklistItem:
    item = CHECKLIST[0]
    if not conv.zones:
        return ChecklistItem(
            item,
            "missing",
            ("no zones: no site file zones and none suggested from traffic",),
            "Write the zones (networks, kind, Purdue level, owner) into the site file.",
        )
    site = [z.name for z in conv.zones if z.source == "site"]
    suggested = [z.name for z in conv.zones if z.source == "suggested"]
    crossings = [c for c in conv.conduits if c.crossing]
    refused = [r for c in crossings if (r := _refused(c))]
    unchecked = [f"{c.src_zone} -> {c.dst_zone}" for c in crossings if c.allowed is None]
    evidence = [f"{_plural(len(site), 'zone')} from the site file, {len(suggested)} suggested"]
    if suggested:
        evidence.append(f"suggested from traffic only: {_names(suggested)}")
    evidence.append(f"{_plural(len(crossings), 'crossing')} between zones seen")
    evidence += refused
    if unchecked:
        evidence.append(f"no conduits in the site file to check: {_names(unchecked)}")
    if not suggested and not refused and not unchecked:
        return ChecklistItem(
            item, "done", tuple(evidence), "Review the conduits whenever a new crossing appears."
        )
    if not site:
        step = "Confirm the suggested zones and write them, with conduits, into the site file."
    elif suggested:
        step = (
            f"Add the suggested zones ({_names(suggested)}) to the site file "
            "or fold them into existing zones."
        )
    elif refused:
        step = "Stop each crossing no conduit allows, or add a conduit if the site accepts it."
    else:
        step = "Declare the conduits (zone pairs and services) the site allows in the site file."
    return ChecklistItem(item, "partial", tuple(evidence), step)


def _channels_known(conv: Convergence) -> ChecklistItem:
    item = CHECKLIST[1]
    channels = conv.channels
    if not channels:
        return ChecklistItem(
            item,
            "done",
            ("no external channel seen",),
            "Register any VPN, remote tool or cellular gateway as soon as it is set up.",
        )
    registered = [c for c in channels if c.registered]
    unregistered = [c.name for c in channels if not c.registered]
    no_manager = [c.name for c in channels if c.manager is None]
    unknown = [c.name for c in channels if c.status == "unknown"]
    evidence = [f"{_plural(len(channels), 'channel')}, {len(registered)} registered"]
    if unregistered:
        evidence.append(f"not registered: {_names(unregistered)}")
    if no_manager:
        evidence.append(f"no manager: {_names(no_manager)}")
    if unknown:
        evidence.append(f"status unknown: {_names(unknown)}")
    if not registered:
        step = f"Register each channel found in traffic, with its manager: {_names(unregistered)}."
        return ChecklistItem(item, "missing", tuple(evidence), step)
    if not unregistered and not no_manager and not unknown:
        step = "Review the register with each manager once a year."
        return ChecklistItem(item, "done", tuple(evidence), step)
    todo = dict.fromkeys(unregistered + no_manager + unknown)
    step = f"Register each of these channels with the manager who answers for it: {_names(todo)}."
    return ChecklistItem(item, "partial", tuple(evidence), step)


def _industrial_responsibility(conv: Convergence) -> ChecklistItem:
    item = CHECKLIST[2]
    assets = [p for p in conv.placements if p.role in INDUSTRIAL_ROLES]
    if not assets:
        return ChecklistItem(
            item,
            "missing",
            ("no industrial workstation or controller seen",),
            "Capture traffic on the shop-floor networks so controllers and workstations are seen.",
        )
    table = _asset_responsibilities(conv)
    complete: list[str] = []
    lacking: list[str] = []
    anything = 0
    for p in assets:
        r = _responsibility(p, table)
        owner, updater = (r.owner, r.updated_by) if r is not None else (None, None)
        anything += bool(owner or updater)
        if owner and updater:
            complete.append(p.name)
            continue
        gaps = [what for what, who in (("owner", owner), ("updated_by", updater)) if not who]
        lacking.append(f"{p.name} ({p.role}): no {' and no '.join(gaps)}")
    evidence = [f"{len(complete)} of {len(assets)} industrial assets with owner and updated_by"]
    evidence += lacking[:50]
    if len(lacking) > 50:
        evidence.append(f"and {len(lacking) - 50} more without")
    if not lacking:
        step = "Keep owner and updated_by current when devices are replaced."
        return ChecklistItem(item, "done", tuple(evidence), step)
    status: ChecklistStatus = "partial" if anything else "missing"
    step = "Name an owner and who applies updates for each listed asset in the site file."
    return ChecklistItem(item, status, tuple(evidence), step)


def _monitoring_agreed(conv: Convergence) -> ChecklistItem:
    item = CHECKLIST[3]
    it_party, ot_party = conv.monitoring.get("it"), conv.monitoring.get("ot")
    agreed = bool(conv.monitoring.get("agreed"))
    evidence = (
        f"IT party: {it_party or 'none named'}",
        f"OT party: {ot_party or 'none named'}",
        f"agreed: {'yes' if agreed else 'no'}",
    )
    if it_party and ot_party and agreed:
        step = "Test the alert path to both parties with a boundary event drill."
        return ChecklistItem(item, "done", evidence, step)
    if not it_party and not ot_party:
        step = "Name the IT and the OT party alerted on boundary events in the site file."
        return ChecklistItem(item, "missing", evidence, step)
    if not (it_party and ot_party):
        side = "OT" if not ot_party else "IT"
        step = f"Name the {side} party alerted on boundary events and have both sides agree."
    else:
        step = f"Have {it_party} and {ot_party} agree the boundary monitoring and record it."
    return ChecklistItem(item, "partial", evidence, step)

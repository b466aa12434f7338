"""Asset roles: what each asset is in the plant, and the facts that say so.

Every asset gets one role (``plc``, ``rtu``, ``ied``, ``hmi``,
``engineering_workstation``, ``scada_server``, ``opc_server``,
``historian``, ``network_device``, ``jump_host``, ``it_server``,
``it_workstation`` or ``unknown``) and a sentence naming the facts behind it.
The rules are tried in a fixed order and the first that matches decides;
the order is the precedence (docs/roles.md):

1. identity: what the device or its structure says it is (a gateway's MAC,
   a device type, LLDP/CDP capabilities, an SNMP sysObjectID, a historian's
   product name);
2. operations: engineering actions it sent or received;
3. industrial protocol roles seen by a dissector ("semantics");
4. ports: industrial services seen by service port only, historian ports,
   remote-access hops, IT services.

Nothing matching means ``unknown``: a role is never guessed. The rules are
pure functions of ``AssetFacts``; ``assign_roles`` loads the facts for all
assets with one query per facts table (no per-asset query), so a rebuild
stays quick with 125,000 assets and a million protocol roles.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from otseam.store.bulk import bulk_rows
from otseam.store.schema import conversations, identities, operations, protocol_roles, stations

__all__ = [
    "RULES",
    "AssetFacts",
    "Verdict",
    "assign_roles",
    "classify",
    "load_facts",
]

HMI_MIN_DEVICES: Final = 2
SCADA_MIN_DEVICES: Final = 10

FIELD_ROLE: Final = {  # an industrial protocol's server, and what that makes it
    "mms": "ied",
    "goose": "ied",
    "sv": "ied",
    "c37.118": "ied",
    "dnp3": "rtu",
    "iec104": "rtu",
    **dict.fromkeys(
        ("modbus", "enip", "cip", "s7comm", "s7comm-plus", "iso-tsap", "fins", "melsec", "ads"),
        "plc",
    ),
    "codesys": "plc",
    "bacnet": "plc",
}
FIELD_TITLE: Final = {
    "mms": "IEC 61850 MMS server",
    "goose": "GOOSE publisher",
    "sv": "Sampled Values publisher",
    "c37.118": "synchrophasor (PMU) server",
    "dnp3": "DNP3 outstation",
    "iec104": "IEC 104 controlled station",
}
ROLE_RANK: Final = ("ied", "rtu", "plc")  # the most specific role a server's protocols give
TELECONTROL_MASTER: Final = {"dnp3": "DNP3 master", "iec104": "IEC 104 controlling station"}
OPC_PROTOCOLS: Final = frozenset({"opcua"})
ENGINEERING_OPERATIONS: Final = frozenset(
    {"program_download", "program_upload", "plc_stop", "plc_start", "block_delete"}
    | {"firmware_update", "memory_reset"}
)
CONTROLLER_OPERATIONS: Final = ENGINEERING_OPERATIONS - {"firmware_update"}
# the operations the rules read: of field and OPC protocols (peers polled
# or polling), and engineering actions over any protocol
RULE_PROTOCOLS: Final = frozenset(FIELD_ROLE) | OPC_PROTOCOLS
NOT_POLLING: Final = frozenset({"identify", "session", "diagnostic", "unknown"})
REMOTE_ACCESS: Final = frozenset({"ssh", "telnet", "rdp", "vnc", "teamviewer", "anydesk"})
BACKGROUND: Final = frozenset(  # chatter every device sends: says nothing about a role
    {"mdns", "llmnr", "nbns", "netbios-dgm", "ssdp", "dhcp", "dhcpv6", "ntp", "syslog", "lldp"}
)
IT_SERVICES: Final = REMOTE_ACCESS | frozenset(
    {"dns", "http", "https", "tls", "smb", "msrpc", "ldap", "kerberos", "ftp", "tftp", "smtp"}
    | {"snmp", "ike", "openvpn", "wireguard", "mssql", "mysql", "postgresql"}
)
DEVICE_TYPE_ROLE: Final = {
    "programmable logic controller": "plc",
    "plc": "plc",
    "human-machine interface": "hmi",
    "hmi": "hmi",
    "remote terminal unit": "rtu",
    "io-controller": "plc",  # PROFINET DCP device role
    "managed ethernet switch": "network_device",
    "managed switch": "network_device",
    "router": "network_device",
}
CAPABILITY_ATTRIBUTES: Final = ("capabilities", "system_capabilities", "enabled_capabilities")
NETWORK_CAPABILITIES: Final = re.compile(r"bridge|router|switch|wlan|repeater", re.IGNORECASE)
SYS_OBJECT_ID_ATTRIBUTES: Final = ("sys_object_id", "sysobjectid")
NETWORK_ENTERPRISES: Final = {  # IANA private enterprise numbers of network equipment makers
    "9": "Cisco",
    "248": "Hirschmann",
    "2636": "Juniper",
    "8691": "Moxa",
    "12356": "Fortinet",
    "14823": "Aruba",
    "15004": "RuggedCom",
    "16177": "Westermo",
    "25461": "Palo Alto Networks",
    "30065": "Arista",
}
NAME_ATTRIBUTES: Final = ("name", "product", "model", "server_software", "application")
HISTORIAN_NAME: Final = re.compile(r"historian|\bPI Data Archive\b|InfoPlus\.?21", re.IGNORECASE)
HISTORIAN_PORTS: Final = {
    5450: "OSIsoft PI Data Archive",
    5457: "OSIsoft PI AF",
    14000: "GE Proficy Historian",
}
IDENTITY_ATTRIBUTES: Final = (
    "device_type", "vendor", *NAME_ATTRIBUTES, *CAPABILITY_ATTRIBUTES, *SYS_OBJECT_ID_ATTRIBUTES,
)  # fmt: skip


class Peers:
    """The operations one asset exchanged with others: each operation row's
    (protocol, operation) with the peer's asset key. A peer may repeat (the
    rules count distinct peers). Read-only, and kept as one flat list, pair
    and peer alternating: 16 bytes an operation row, not a dict per asset and
    a list per pair (the rebuild's peak for 125,000 assets fell by 28 MiB)."""

    __slots__ = ("_flat",)

    def __init__(self, flat: list[Any]) -> None:
        self._flat = flat  # taken over, not copied

    @classmethod
    def of(cls, peers: Mapping[tuple[str, str], Iterable[str]]) -> Peers:
        """From (protocol, operation) -> peer asset keys."""
        return cls([item for pair, keys in peers.items() for key in keys for item in (pair, key)])

    def __iter__(self) -> Iterator[tuple[tuple[str, str], str]]:
        """(protocol, operation), peer: once per operation row."""
        return zip(self._flat[::2], self._flat[1::2], strict=True)

    def __len__(self) -> int:
        return len(self._flat) // 2


NO_PEERS: Final = Peers([])


# What an asset has none of: one shared, read-only empty mapping, not an
# empty dict per field per asset (six of them cost 45 MiB per 125k assets)
NOTHING: Final[Mapping[Any, Any]] = MappingProxyType({})


def _nothing() -> Mapping[Any, Any]:
    return NOTHING  # a dataclass takes no mapping as a plain default


@dataclass(slots=True)
class AssetFacts:
    """What the store knows about one asset, as plain, read-only data.

    ``served``/``used``: protocol -> "semantics" or "port" (the better
    evidence seen); ``sent``/``received``: operations it asked of others /
    others asked of it (as loaded: those of ``RULE_PROTOCOLS`` and
    engineering operations, the ones rules read); ``identity``: attribute
    -> values, latest first; ``publishes``: layer-2 kinds it sent (goose,
    sv); ``historian_clients``: historian port -> how many clients sent to
    it there. Assets with the same protocols share one ``served`` (or
    ``used``) mapping.
    """

    gateway_ips: int = 0
    identity: Mapping[str, list[str]] = field(default_factory=_nothing)
    served: Mapping[str, str] = field(default_factory=_nothing)
    used: Mapping[str, str] = field(default_factory=_nothing)
    sent: Peers = NO_PEERS
    received: Peers = NO_PEERS
    publishes: AbstractSet[str] = frozenset()  # a set each would cost 27 MiB per 125k assets
    historian_clients: Mapping[int, int] = field(default_factory=_nothing)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A role, the rule that decided it and the evidence in words."""

    role: str
    rule: str
    evidence: str


Rule = Callable[[AssetFacts], Verdict | None]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _listing(protocols: Mapping[str, str]) -> str:
    """'modbus (semantics), iso-tsap (port)': protocols grouped by evidence."""
    parts = []
    for evidence in ("semantics", "port"):
        names = sorted(p for p, e in protocols.items() if e == evidence)
        if names:
            parts.append(f"{', '.join(names)} ({evidence})")
    return ", ".join(parts)


def _peers(ops: Peers, protocols: Container[str], skip: frozenset[str] = frozenset()) -> set[str]:
    return {
        peer
        for (protocol, operation), peer in ops
        if protocol in protocols and operation not in skip
    }


def _first(facts: AssetFacts, attributes: Iterable[str]) -> tuple[str, str] | None:
    for attribute in attributes:
        for value in facts.identity.get(attribute, []):
            return attribute, value
    return None


# -- 1. identity ---------------------------------------------------------------


def gateway(facts: AssetFacts) -> Verdict | None:
    """A MAC sending from many IP addresses forwards others' traffic."""
    if not facts.gateway_ips:
        return None
    evidence = f"router or gateway: its MAC carries {facts.gateway_ips} IP addresses"
    return Verdict("network_device", "gateway", evidence)


def device_type(facts: AssetFacts) -> Verdict | None:
    """The device type a dissector read from the device (CIP identity, ...)."""
    for value in facts.identity.get("device_type", []):
        for part in value.split("+"):  # PROFINET lists several device roles
            role = DEVICE_TYPE_ROLE.get(part.strip().lower())
            if role:
                return Verdict(role, "device_type", f"its identity says device type {value!r}")
    return None


def network_identity(facts: AssetFacts) -> Verdict | None:
    """LLDP capabilities of a bridge or router; a network maker's SNMP sysObjectID."""
    if not facts.identity:
        return None
    found = _first(facts, CAPABILITY_ATTRIBUTES)
    if found and NETWORK_CAPABILITIES.search(found[1]):
        evidence = f"its LLDP capabilities say {found[1]!r}"
        return Verdict("network_device", "network_identity", evidence)
    found = _first(facts, SYS_OBJECT_ID_ATTRIBUTES)
    if found:
        parts = found[1].strip().strip(".").split(".")
        enterprise = ".".join(parts[:6]) == "1.3.6.1.4.1" and len(parts) > 6
        maker = NETWORK_ENTERPRISES.get(parts[6]) if enterprise else None
        if maker:
            evidence = f"its SNMP sysObjectID {found[1]} belongs to {maker} network equipment"
            return Verdict("network_device", "network_identity", evidence)
    return None


def historian_identity(facts: AssetFacts) -> Verdict | None:
    """A name or product that says historian."""
    if not facts.identity:
        return None
    for attribute in NAME_ATTRIBUTES:
        for value in facts.identity.get(attribute, []):
            if HISTORIAN_NAME.search(value):
                evidence = f"its identity names a historian: {attribute} {value!r}"
                return Verdict("historian", "historian_identity", evidence)
    return None


# -- 2. operations -------------------------------------------------------------


def _operation_summary(ops: Peers, wanted: frozenset[str]) -> tuple[str, int] | None:
    found = [(p, o, peer) for (p, o), peer in ops if o in wanted]
    if not found:  # most assets: nothing to name or count
        return None
    names = sorted({f"{o} ({p})" for p, o, _ in found})
    return ", ".join(names), len({peer for _, _, peer in found})


def engineering_operations(facts: AssetFacts) -> Verdict | None:
    """It programs, stops or starts controllers."""
    found = _operation_summary(facts.sent, ENGINEERING_OPERATIONS)
    if found is None:
        return None
    evidence = f"sent engineering operations {found[0]} to {_count(found[1], 'asset')}"
    return Verdict("engineering_workstation", "engineering_operations", evidence)


def engineered_controller(facts: AssetFacts) -> Verdict | None:
    """Programs are downloaded to it, or it is stopped and started."""
    found = _operation_summary(facts.received, CONTROLLER_OPERATIONS)
    if found is None:
        return None
    evidence = f"received engineering operations {found[0]} from {_count(found[1], 'asset')}"
    return Verdict("plc", "engineered_controller", evidence)


# -- 3. industrial protocol roles (semantics) ----------------------------------


def _field_server(facts: AssetFacts, evidence: str, rule: str) -> Verdict | None:
    served = {p: e for p, e in facts.served.items() if e == evidence and p in FIELD_ROLE}
    if evidence == "semantics" and facts.publishes:
        served |= dict.fromkeys(facts.publishes & FIELD_ROLE.keys(), "semantics")
    if not served:
        return None
    if facts.identity.get("device_type"):  # a CIP device type that is no PLC: not a guess
        served = {p: e for p, e in served.items() if p not in {"enip", "cip"}}
    if not served:
        return None
    role = next(r for r in ROLE_RANK if r in {FIELD_ROLE[p] for p in served})
    titles = sorted(FIELD_TITLE[p] for p in served if FIELD_ROLE[p] == role and p in FIELD_TITLE)
    text = f"{' and '.join(titles)}: " if titles else ""
    if evidence == "port":
        text += f"serves {', '.join(sorted(served))} on the service port (port evidence only)"
    else:
        text += f"serves {_listing(served)}"
    clients = _peers(facts.received, served)
    if clients:
        text += f"; polled by {_count(len(clients), 'client')}"
    label = " ".join(v[0] for v in (facts.identity.get(a) for a in ("vendor", "product")) if v)
    if label:
        text += f"; identifies as {label}"
    return Verdict(role, rule, text)


def field_server(facts: AssetFacts) -> Verdict | None:
    """Serves an industrial protocol (a dissector saw it answer), or publishes GOOSE/SV."""
    return _field_server(facts, "semantics", "field_server")


def opc_server(facts: AssetFacts) -> Verdict | None:
    """Serves OPC UA (a dissector saw it answer)."""
    if OPC_PROTOCOLS.isdisjoint(facts.served):
        return None
    served = {p: e for p, e in facts.served.items() if p in OPC_PROTOCOLS and e == "semantics"}
    if not served:
        return None
    text = f"serves {_listing(served)}"
    clients = _peers(facts.received, served)
    if clients:
        text += f" to {_count(len(clients), 'client')}"
    devices = _peers(facts.sent, FIELD_ROLE, NOT_POLLING)
    if devices:
        text += f"; polls {_count(len(devices), 'field device')}"
    return Verdict("opc_server", "opc_server", text)


def telecontrol_master(facts: AssetFacts) -> Verdict | None:
    """The master of a telecontrol protocol (DNP3 master, IEC 104 controlling station)."""
    if TELECONTROL_MASTER.keys().isdisjoint(facts.used):
        return None
    used = sorted(p for p in TELECONTROL_MASTER if facts.used.get(p) == "semantics")
    if not used:
        return None
    outstations = _peers(facts.sent, used)
    text = " and ".join(TELECONTROL_MASTER[p] for p in used)
    text += f": uses {', '.join(used)} (semantics)"
    if outstations:
        text += f" towards {_count(len(outstations), 'outstation')}"
    return Verdict("scada_server", "telecontrol_master", text)


def field_poller(facts: AssetFacts) -> Verdict | None:
    """Reads and writes field devices over industrial protocols: HMI, or SCADA when many."""
    if not facts.sent:
        return None
    protocols = [p for p, e in facts.used.items() if e == "semantics" and p in FIELD_ROLE]
    devices = _peers(facts.sent, protocols, NOT_POLLING)
    if len(devices) < HMI_MIN_DEVICES:
        return None
    over = sorted(p for p in protocols if _peers(facts.sent, [p], NOT_POLLING))
    text = f"polls {_count(len(devices), 'field device')} over {', '.join(over)} (semantics)"
    if len(devices) >= SCADA_MIN_DEVICES:
        return Verdict("scada_server", "field_poller", text)
    return Verdict("hmi", "field_poller", text)


# -- 4. ports ------------------------------------------------------------------


def field_server_port(facts: AssetFacts) -> Verdict | None:
    """Answers on an industrial protocol's service port; no dissector confirmed it."""
    return _field_server(facts, "port", "field_server_port")


def opc_server_port(facts: AssetFacts) -> Verdict | None:
    """Answers on the OPC UA port; no dissector confirmed it."""
    if OPC_PROTOCOLS.isdisjoint(facts.served):
        return None
    served = sorted(p for p in facts.served if p in OPC_PROTOCOLS)
    if not served:
        return None
    text = f"serves {', '.join(served)} on the service port (port evidence only)"
    return Verdict("opc_server", "opc_server_port", text)


def historian_port(facts: AssetFacts) -> Verdict | None:
    """Receives data on a historian product's port."""
    if not facts.historian_clients:
        return None
    text = "; ".join(
        f"receives data on TCP {port} ({HISTORIAN_PORTS.get(port, 'historian')}) "
        f"from {_count(n, 'client')}"
        for port, n in sorted(facts.historian_clients.items())
    )
    return Verdict("historian", "historian_port", text)


def jump_host(facts: AssetFacts) -> Verdict | None:
    """Accepts remote sessions and opens remote sessions onwards."""
    if REMOTE_ACCESS.isdisjoint(facts.served) or REMOTE_ACCESS.isdisjoint(facts.used):
        return None
    accepts = sorted(REMOTE_ACCESS & facts.served.keys())
    opens = sorted(REMOTE_ACCESS & facts.used.keys())
    if not accepts or not opens:
        return None
    text = f"accepts {', '.join(accepts)} sessions and opens {', '.join(opens)} sessions onwards"
    return Verdict("jump_host", "jump_host", text)


def _field_client(facts: AssetFacts) -> bool:
    """A dissector saw it ask a field device something (more than a port attempt)."""
    return any(e == "semantics" and p in FIELD_ROLE for p, e in facts.used.items())


def it_server(facts: AssetFacts) -> Verdict | None:
    """Serves IT services, nothing industrial, and reads no field device."""
    served = {p: e for p, e in facts.served.items() if p not in BACKGROUND}
    if not served or not served.keys() <= IT_SERVICES or _field_client(facts):
        return None
    return Verdict("it_server", "it_server", f"serves only IT services: {_listing(served)}")


def it_workstation(facts: AssetFacts) -> Verdict | None:
    """Uses IT services as a client, serves nothing, reads no field device."""
    if not facts.served.keys() <= BACKGROUND or _field_client(facts):
        return None
    used = {p: e for p, e in facts.used.items() if p not in BACKGROUND}
    it_used = {p: e for p, e in used.items() if p in IT_SERVICES}
    if not it_used:
        return None
    tried = {p: e for p, e in used.items() if p not in IT_SERVICES}
    text = f"uses IT services as a client: {_listing(it_used)}; serves nothing"
    if tried:
        text += f"; also tried {_listing(tried)} without a decoded exchange"
    return Verdict("it_workstation", "it_workstation", text)


RULES: Final[tuple[tuple[str, Rule], ...]] = (
    ("identity", gateway),
    ("identity", device_type),
    ("identity", network_identity),
    ("identity", historian_identity),
    ("operations", engineering_operations),
    ("operations", engineered_controller),
    ("protocol", field_server),
    ("protocol", opc_server),
    ("protocol", telecontrol_master),
    ("protocol", field_poller),
    ("port", field_server_port),
    ("port", opc_server_port),
    ("port", historian_port),
    ("port", jump_host),
    ("port", it_server),
    ("port", it_workstation),
)


def classify(facts: AssetFacts) -> Verdict:
    """The first rule of ``RULES`` that matches decides; else ``unknown``."""
    for _tier, rule in RULES:
        verdict = rule(facts)
        if verdict is not None:
            return verdict
    seen = [
        f"{side} {_listing(protocols)}"
        for side, protocols in (("serves", facts.served), ("uses", facts.used))
        if protocols
    ]
    if not seen:
        return Verdict("unknown", "no_evidence", "no evidence yet")
    return Verdict("unknown", "undecided", f"no rule decides: it {' and '.join(seen)}")


# -- loading the facts ---------------------------------------------------------


def assign_roles(
    conn: Connection,
    asset_of: Mapping[str, str],
    gateways: Mapping[str, int],
    protocols: Mapping[tuple[str, str, str], str] | None = None,
) -> dict[str, Verdict]:
    """A verdict for every asset key in ``asset_of`` (address -> asset key);
    the arguments are those of ``load_facts``."""
    return {
        key: classify(asset)
        for key, asset in load_facts(conn, asset_of, gateways, protocols).items()
    }


def load_facts(
    conn: Connection,
    asset_of: Mapping[str, str],
    gateways: Mapping[str, int],
    protocols: Mapping[tuple[str, str, str], str] | None = None,
) -> dict[str, AssetFacts]:
    """The facts of every asset key in ``asset_of`` (address -> asset key).

    ``gateways`` maps a gateway asset's key to how many IP addresses its MAC
    carries; ``protocols`` maps (asset key, protocol, server or client) to
    the best evidence; without it they are read from the protocol roles.
    """
    facts: dict[str, AssetFacts] = {key: AssetFacts() for key in asset_of.values()}
    for key, n in gateways.items():
        if key in facts:
            facts[key].gateway_ips = n
    if protocols is None:
        _load_protocol_roles(conn, asset_of, facts)
    else:
        given: dict[str, dict[str, dict[str, str]]] = {"server": {}, "client": {}}
        for (key, protocol, role), evidence in protocols.items():
            if key in facts:
                given["server" if role == "server" else "client"].setdefault(key, {})[protocol] = (
                    evidence
                )
        _set_protocols(facts, given["server"], given["client"])
    _load_operations(conn, asset_of, facts)
    _load_identities(conn, asset_of, facts)
    _load_publishers(conn, asset_of, facts)
    _load_historian_ports(conn, asset_of, facts)
    return facts


# control characters no protocol name, role or evidence holds
FIELD: Final = "\x1f"  # unit separator
ITEM: Final = "\x1e"  # record separator


def _load_protocol_roles(
    conn: Connection, asset_of: Mapping[str, str], facts: dict[str, AssetFacts]
) -> None:
    """``served``/``used`` of each asset from its addresses' protocol roles.
    The database joins each address's roles into one text (role, protocol
    and evidence apart by ``FIELD``, roles by ``ITEM``), and each distinct
    text is read once: a
    million roles are a few hundred thousand addresses and, in a plant, a
    few dozen kinds of device. Assets of one address share what was read."""
    c = protocol_roles.c
    roles = func.aggregate_strings(c.role + FIELD + c.protocol + FIELD + c.evidence, ITEM)
    query = select(c.address, roles).group_by(c.address)
    read: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
    served: dict[str, dict[str, str]] = {}
    used: dict[str, dict[str, str]] = {}
    for address, text in bulk_rows(conn, query):
        key = asset_of.get(address)
        if key is None:
            continue
        sides = read.get(text)
        if sides is None:
            sides = read[text] = _read_roles(text)
        for found, side in zip((served, used), sides, strict=True):
            if side:
                held = found.get(key)
                found[key] = side if held is None else _better(held, side)
    _set_protocols(facts, served, used)


def _read_roles(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """(served, used) from the text of one address's roles."""
    served: dict[str, str] = {}
    used: dict[str, str] = {}
    for item in text.split(ITEM):
        role, protocol, evidence = item.split(FIELD)
        (served if role == "server" else used)[sys.intern(protocol)] = sys.intern(evidence)
    return served, used


def _better(held: Mapping[str, str], more: Mapping[str, str]) -> dict[str, str]:
    """Protocols of two addresses of one asset, the better evidence of each
    ("semantics" over "port"); a new mapping: both may be shared."""
    merged = dict(held)
    for protocol, evidence in more.items():
        if merged.get(protocol) != "semantics":
            merged[protocol] = evidence
    return merged


def _set_protocols(
    facts: dict[str, AssetFacts],
    served: dict[str, dict[str, str]],
    used: dict[str, dict[str, str]],
) -> None:
    """Give each asset its protocols; assets with the same ones share one
    mapping (a plant has a few dozen kinds of device, not one per asset)."""
    shared: dict[frozenset[tuple[str, str]], dict[str, str]] = {}
    for key, found in served.items():
        facts[key].served = shared.setdefault(frozenset(found.items()), found)
    served.clear()
    for key, found in used.items():
        facts[key].used = shared.setdefault(frozenset(found.items()), found)


def _load_operations(
    conn: Connection, asset_of: Mapping[str, str], facts: dict[str, AssetFacts]
) -> None:
    c = operations.c
    query = select(c.src, c.dst, c.protocol, c.operation).where(
        or_(
            c.protocol.in_(sorted(RULE_PROTOCOLS)),
            c.operation.in_(sorted(ENGINEERING_OPERATIONS)),
        )
    )
    sent: dict[str, list[Any]] = {}  # asset key -> pair, peer, pair, peer...
    received: dict[str, list[Any]] = {}
    pairs: dict[tuple[str, str], tuple[str, str]] = {}  # one key tuple per pair, shared
    for src, dst, protocol, operation in bulk_rows(conn, query):
        src_key, dst_key = asset_of.get(src), asset_of.get(dst)
        pair = (protocol, operation)
        pair = pairs.setdefault(pair, pair)
        if src_key is not None:
            _add_peer(sent, src_key, pair, dst_key or dst)
        if dst_key is not None:
            _add_peer(received, dst_key, pair, src_key or src)
    for key, flat in sent.items():
        facts[key].sent = Peers(flat)
    for key, flat in received.items():
        facts[key].received = Peers(flat)


def _add_peer(ops: dict[str, list[Any]], key: str, pair: tuple[str, str], peer: str) -> None:
    """``pair`` and ``peer`` at the end of asset ``key``'s flat list; no
    empty list is made for an asset already there (this runs for every
    operation row)."""
    flat = ops.get(key)
    if flat is None:
        ops[key] = [pair, peer]
    else:
        flat += (pair, peer)


def _load_identities(
    conn: Connection, asset_of: Mapping[str, str], facts: dict[str, AssetFacts]
) -> None:
    c = identities.c
    query = (
        select(c.address, c.attribute, c.value)
        .where(c.attribute.in_(IDENTITY_ATTRIBUTES))
        .order_by(c.last_seen.desc(), c.id)
    )
    found: dict[str, dict[str, list[str]]] = {}
    for address, attribute, value in bulk_rows(conn, query):
        key = asset_of.get(address)
        if key is not None:
            values = found.setdefault(key, {}).setdefault(attribute, [])
            if value not in values:
                values.append(value)
    for key, identity in found.items():
        facts[key].identity = identity


def _load_publishers(
    conn: Connection, asset_of: Mapping[str, str], facts: dict[str, AssetFacts]
) -> None:
    c = stations.c
    query = select(c.mac, c.goose_frames, c.sv_frames).where(
        or_(c.goose_frames > 0, c.sv_frames > 0)
    )
    for mac, goose, sv in bulk_rows(conn, query):
        key = asset_of.get(mac)
        if key is not None:
            facts[key].publishes = facts[key].publishes | {
                k for k, n in (("goose", goose), ("sv", sv)) if n
            }


def _load_historian_ports(
    conn: Connection, asset_of: Mapping[str, str], facts: dict[str, AssetFacts]
) -> None:
    """The one read of conversations: only those on a historian port (a few)."""
    c = conversations.c
    ports = list(HISTORIAN_PORTS)
    query = select(c.a, c.a_port, c.b, c.b_port, c.initiator).where(
        and_(c.transport == "tcp", or_(c.a_port.in_(ports), c.b_port.in_(ports)))
    )
    clients: dict[tuple[str, int], set[str]] = defaultdict(set)
    for a, a_port, b, b_port, initiator in bulk_rows(conn, query):
        if a_port in HISTORIAN_PORTS and initiator != "a":
            server, port, client = a, a_port, b
        elif b_port in HISTORIAN_PORTS and initiator != "b":
            server, port, client = b, b_port, a
        else:
            continue
        key = asset_of.get(server)
        if key is not None:
            clients[(key, port)].add(asset_of.get(client, client))
    counts: dict[str, dict[int, int]] = defaultdict(dict)
    for (key, port), peers in clients.items():
        counts[key][port] = len(peers)
    for key, by_port in counts.items():
        facts[key].historian_clients = by_port

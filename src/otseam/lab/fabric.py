"""Build and tear down the plant's network in Linux network namespaces.

Everything lives in namespaces named ``ots-*``; nothing is created in the
root namespace. The zone bridges and the capture taps sit in one namespace,
``ots-fabric``; every host is a namespace joined to its zone bridge by a veth
pair. A tap is a veth pair in the fabric that receives, through a tc mirred
action, a copy of every frame entering any port of its zones' bridges, so
each frame is seen once per segment, like a switch SPAN port.

Each host namespace also gets ``/etc/netns/ots-<host>/resolv.conf`` (removed
by :func:`cleanup`) naming the plant's own DNS server. No link reaches a real
interface, no NAT is set up, and hosts route only via
the lab's own router namespace.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from otseam.lab.command import run
from otseam.lab.errors import FabricError, LabSetupError
from otseam.lab.firewall import ruleset
from otseam.lab.model import Host, Nic, Plant

__all__ = ["FABRIC", "PREFIX", "Fabric", "build", "cleanup", "leftovers"]

PREFIX = "ots-"
FABRIC = "ots-fabric"
NETNS_ETC = Path("/etc/netns")


@dataclass(frozen=True)
class Fabric:
    """What :func:`build` made: the tap interfaces to capture on, by tap name."""

    plant: Plant
    taps: dict[str, str]  # tap name -> interface in the fabric namespace to capture on


def leftovers() -> list[str]:
    """Namespaces with the lab's prefix that exist now."""
    listed = run(["ip", "netns", "list"]).stdout
    names = [line.split()[0] for line in listed.splitlines() if line.strip()]
    return sorted(name for name in names if name.startswith(PREFIX))


def cleanup(wait: float = 3.0) -> list[str]:
    """Kill the processes inside every ``ots-*`` namespace, then delete the namespaces."""
    names = leftovers()
    pids: list[int] = []
    for name in names:
        listed = run(["ip", "netns", "pids", name], check=False).stdout
        pids.extend(int(pid) for pid in listed.split())
    _signal_all(pids, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.1)
    _signal_all([pid for pid in pids if _alive(pid)], signal.SIGKILL)
    for name in names:
        run(["ip", "netns", "del", name], check=False)
    for folder in sorted(NETNS_ETC.glob(f"{PREFIX}*")) if NETNS_ETC.is_dir() else []:
        shutil.rmtree(folder, ignore_errors=True)
    if NETNS_ETC.is_dir() and not any(NETNS_ETC.iterdir()):
        NETNS_ETC.rmdir()
    return names


def _resolv_conf(namespace: str, resolver: str | None) -> None:
    """Give the namespace its own resolv.conf (``ip netns exec`` mounts it over /etc).

    Without it, a program's stray lookup would go to the machine's resolver,
    an address outside the plant; the router would drop it, but it would
    still be in the capture.
    """
    folder = NETNS_ETC / namespace
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "resolv.conf").write_text(f"nameserver {resolver or '127.0.0.1'}\n")


def build(plant: Plant) -> Fabric:
    """Create namespaces, bridges, links, addresses, routes, firewall and taps."""
    if os.geteuid() != 0:
        raise LabSetupError("the lab builds network namespaces and must run as root")
    existing = leftovers()
    if existing:
        raise FabricError(
            f"namespaces from an earlier run still exist ({', '.join(existing)}); "
            "remove them with `python -m otseam.lab cleanup`"
        )
    _namespace(FABRIC)
    for zone in plant.zones:
        _ip(FABRIC, "link", "add", zone.bridge, "type", "bridge")
        _ip(FABRIC, "link", "set", zone.bridge, "up")
    ports: dict[str, list[str]] = {zone.name: [] for zone in plant.zones}
    for index, host in enumerate(plant.hosts):
        _namespace(host.namespace)
        _resolv_conf(host.namespace, plant.resolver)
        for slot, nic in enumerate(host.nics):
            port = f"p{index:02d}n{slot}"
            _link(host, slot, nic, port, plant.zone(nic.zone).bridge)
            ports[nic.zone].append(port)
    for host in plant.hosts:
        _route(plant, host)
    taps = {
        name: _tap(name, [p for zone in zones for p in ports[zone]]) for name, zones in plant.taps
    }
    return Fabric(plant=plant, taps=taps)


def _namespace(name: str) -> None:
    run(["ip", "netns", "add", name])
    sysctls = [
        "net.ipv6.conf.all.disable_ipv6=1",
        "net.ipv6.conf.default.disable_ipv6=1",
    ]
    run(["ip", "netns", "exec", name, "sysctl", "-qw", *sysctls])
    _ip(name, "link", "set", "lo", "up")


def _link(host: Host, slot: int, nic: Nic, port: str, bridge: str) -> None:
    inner = f"eth{slot}"
    _ip(FABRIC, "link", "add", port, "type", "veth", "peer", "name", inner, "netns", host.namespace)
    _ip(FABRIC, "link", "set", port, "master", bridge)
    _ip(FABRIC, "link", "set", port, "up")
    _ip(host.namespace, "link", "set", inner, "address", nic.mac)
    _ip(host.namespace, "addr", "add", f"{nic.ip}/{nic.prefix}", "dev", inner)
    _ip(host.namespace, "link", "set", inner, "up")
    # Segmentation offload would hand tcpdump frames larger than the MTU.
    offloads = ["tso", "off", "gso", "off", "gro", "off"]
    run(["ip", "netns", "exec", host.namespace, "ethtool", "-K", inner, *offloads], check=False)


def _route(plant: Plant, host: Host) -> None:
    if host.forwarding:
        run(["ip", "netns", "exec", host.namespace, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        run(["ip", "netns", "exec", host.namespace, "nft", "-f", "-"], input_text=ruleset(plant))
        return
    nic = host.nic_in(host.default_zone) if host.default_zone else host.nics[0]
    gateway = _gateway_for(plant, nic)
    if gateway is not None:
        _ip(host.namespace, "route", "add", "default", "via", gateway)


def _gateway_for(plant: Plant, nic: Nic) -> str | None:
    network = ipaddress.ip_network(f"{nic.ip}/{nic.prefix}", strict=False)
    for router in (host for host in plant.hosts if host.forwarding):
        for candidate in router.nics:
            if ipaddress.ip_address(candidate.ip) in network:
                return candidate.ip
    return None


def _tap(name: str, ports: list[str]) -> str:
    mirror, capture = f"span-{name}", f"spanr-{name}"
    _ip(FABRIC, "link", "add", mirror, "type", "veth", "peer", "name", capture)
    _ip(FABRIC, "link", "set", mirror, "up")
    _ip(FABRIC, "link", "set", capture, "up")
    for port in ports:
        run(["tc", "-n", FABRIC, "qdisc", "add", "dev", port, "clsact"])
        match_all = ["u32", "match", "u32", "0", "0"]
        mirror_to = ["action", "mirred", "egress", "mirror", "dev", mirror]
        run(["tc", "-n", FABRIC, "filter", "add", "dev", port, "ingress", *match_all, *mirror_to])
    return capture


def _ip(namespace: str, *args: str) -> None:
    run(["ip", "-n", namespace, *args])


def _signal_all(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            continue


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def namespaces(plant: Plant) -> Iterator[str]:
    yield FABRIC
    for host in plant.hosts:
        yield host.namespace
